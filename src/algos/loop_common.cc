#include "algos/loop_common.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "algos/evaluation.h"
#include "algos/normalizer_members.h"
#include "algos/replay_segments.h"
#include "algos/training_state.h"
#include "config/algorithms.h"
#include "core/error.h"
#include "core/seed.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Episodes averaged for ProgressEvent's mean return and length (SB3's ep_info_buffer).
constexpr size_t kRecentEpisodes = 100;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// True when a counter moving from `before` to `after` passes a multiple of `every`.
bool Crossed(int64_t before, int64_t after, int64_t every) {
  return every > 0 && before / every != after / every;
}

}  // namespace

LoopCommon::LoopCommon(const TrainingRequest& request,
                       const std::function<std::unique_ptr<envs::Env>()>& eval_env_factory,
                       int eval_threads, ActFn act, SaveFn save,
                       const vec::VecNormalizer* normalizer)
    : request_(request), act_(std::move(act)), save_(std::move(save)), normalizer_(normalizer) {
  // One evaluation env per thread, no more than an evaluation has episodes.
  const int envs = std::clamp(eval_threads, 1, std::max(1, request.config.training.eval_episodes));
  for (int i = 0; i < envs; ++i) eval_envs_.push_back(eval_env_factory());
}

void LoopCommon::Message(const std::string& line) const {
  if (request_.hooks.on_message) request_.hooks.on_message(line);
}

bool LoopCommon::CheckStop() {
  if (!request_.hooks.stop_requested || !request_.hooks.stop_requested()) return false;
  result_.interrupt_checkpoint = Save(StepCheckpointPath(), true);
  result_.interrupted = true;
  Message("stopped at " + std::to_string(timesteps_) + " steps; checkpoint " +
          result_.interrupt_checkpoint->string());
  return true;
}

void LoopCommon::AfterStep(int64_t env_steps, const std::vector<vec::EpisodeStats>& finished) {
  // Counters and the recent-episode window.
  const int64_t before = timesteps_;
  timesteps_ += env_steps;
  for (const vec::EpisodeStats& episode : finished) {
    ++episodes_;
    recent_.push_back(episode);
    if (recent_.size() > kRecentEpisodes) recent_.pop_front();
  }

  // Evaluation and periodic checkpoints on their step cadence.
  const config::TrainingConfig& training = request_.config.training;
  if (Crossed(before, timesteps_, training.eval_freq)) RunEvaluation();
  if (Crossed(before, timesteps_, training.save_freq)) checkpoint_due_ = true;
}

void LoopCommon::SaveDueCheckpoint() {
  // A session stopped early ends with its final model; it needs no restart point.
  if (!checkpoint_due_ || early_stopped()) return;
  checkpoint_due_ = false;
  Save(StepCheckpointPath(), true);
}

void LoopCommon::SaveState(ByteWriter& writer) const {
  // Counters and the recent-episode window (returns and lengths).
  writer.Put<int64_t>(timesteps_);
  writer.Put<int64_t>(episodes_);
  writer.Put<uint64_t>(recent_.size());
  for (const vec::EpisodeStats& episode : recent_) {
    writer.Put<double>(episode.episode_return);
    writer.Put<int64_t>(episode.length);
  }

  // Evaluation results: present flag, then value.
  auto put_optional = [&writer](const auto& value) {
    writer.Put<uint8_t>(value ? 1 : 0);
    if (value) writer.Put(*value);
  };
  put_optional(last_eval_timesteps_);
  put_optional(best_timesteps_);
  put_optional(result_.best_mean_return);
  put_optional(result_.final_mean_return);

  // Timings, so progress rates stay meaningful after a resume.
  writer.Put<double>(SecondsSince(start_) + elapsed_before_);
  writer.Put<double>(collect_seconds_);
  writer.Put<double>(update_seconds_);
  const TimeSplit& split = result_.time_split;
  for (double seconds : {split.env_step_seconds, split.inference_seconds, split.buffer_seconds,
                         split.update_seconds}) {
    writer.Put<double>(seconds);
  }

  // Task statistics of the recent episodes, the early-stopping count, and the checkpoints this
  // session wrote (keep_checkpoints goes on pruning them after a resume).
  for (const vec::EpisodeStats& episode : recent_) {
    writer.Put<uint64_t>(episode.last_info.size());
    for (const auto& [key, value] : episode.last_info) {
      writer.PutString(key);
      writer.Put<double>(value);
    }
  }
  writer.Put<int32_t>(evaluations_without_best_);
  writer.Put<uint64_t>(written_checkpoints_.size());
  for (const std::string& name : written_checkpoints_) writer.PutString(name);
}

void LoopCommon::RestoreState(ByteReader& reader) {
  timesteps_ = reader.Get<int64_t>();
  episodes_ = reader.Get<int64_t>();
  recent_.clear();
  const auto recent = reader.Get<uint64_t>();
  for (uint64_t k = 0; k < recent; ++k) {
    vec::EpisodeStats episode;
    episode.episode_return = reader.Get<double>();
    episode.length = reader.Get<int64_t>();
    recent_.push_back(episode);
  }
  auto get_optional = [&reader](auto& value) {
    using T = typename std::decay_t<decltype(value)>::value_type;
    value.reset();
    if (reader.Get<uint8_t>() != 0) value = reader.Get<T>();
  };
  get_optional(last_eval_timesteps_);
  get_optional(best_timesteps_);
  get_optional(result_.best_mean_return);
  get_optional(result_.final_mean_return);
  elapsed_before_ = reader.Get<double>();
  collect_seconds_ = reader.Get<double>();
  update_seconds_ = reader.Get<double>();
  TimeSplit& split = result_.time_split;
  for (double* seconds : {&split.env_step_seconds, &split.inference_seconds, &split.buffer_seconds,
                          &split.update_seconds}) {
    *seconds = reader.Get<double>();
  }
  start_ = Clock::now();
  for (vec::EpisodeStats& episode : recent_) {
    const auto keys = reader.Get<uint64_t>();
    for (uint64_t k = 0; k < keys; ++k) {
      std::string key = reader.GetString();
      episode.last_info[key] = reader.Get<double>();
    }
  }
  evaluations_without_best_ = reader.Get<int32_t>();
  written_checkpoints_.clear();
  const auto written = reader.Get<uint64_t>();
  for (uint64_t k = 0; k < written; ++k) written_checkpoints_.push_back(reader.GetString());

  // best_model.zip must still be the one recorded: one written after the checkpoint (by the
  // attempt that was cut short) or gone means the best is forgotten and found again.
  const fs::path best = request_.models_dir / "best_model.zip";
  bool best_kept = false;
  if (best_timesteps_ && fs::exists(best) && checkpoint::VerifyArchive(best)) {
    best_kept = checkpoint::LoadModel(best).data.num_timesteps == *best_timesteps_;
  }
  if (best_kept) {
    result_.best_model = best;
  } else {
    best_timesteps_.reset();
    result_.best_mean_return.reset();
    result_.best_model.reset();
  }
}

void LoopCommon::SaveSharedState(ByteWriter& writer, const torch::Generator& sampler,
                                 const vec::VecNormalizer& normalizer,
                                 const vec::VectorEnv& envs) const {
  writer.Put<int32_t>(kTrainingStateVersion);
  writer.PutString(config::ToString(request_.config.agent.algorithm()));
  SaveState(writer);
  SaveNormalizer(normalizer, writer);
  writer.PutString(GeneratorState(sampler));
  writer.PutString(GeneratorState(at::detail::getDefaultCPUGenerator()));
  writer.PutString(envs.SaveState());
}

ByteReader LoopCommon::RestoreSharedState(const checkpoint::LoadedModel& model,
                                          const std::string& origin, torch::Generator& sampler,
                                          vec::VecNormalizer& normalizer, vec::VectorEnv& envs,
                                          int& restarted_envs) {
  const auto bytes = model.extra_members.find(kTrainingStateMember);
  if (bytes == model.extra_members.end()) {
    throw IoError(origin + ": expected a periodic or interrupt checkpoint with member " +
                  std::string(kTrainingStateMember) + ", found none (a best or final model?)");
  }
  if (model.data.seed != request_.seed) {
    throw IoError(origin + ": expected a checkpoint of a session with seed " +
                  std::to_string(request_.seed) + ", found seed " +
                  std::to_string(model.data.seed));
  }
  ByteReader reader(bytes->second, origin + " " + kTrainingStateMember);
  const auto version = reader.Get<int32_t>();
  const std::string algorithm = reader.GetString();
  const std::string expected = config::ToString(request_.config.agent.algorithm());
  if (version != kTrainingStateVersion || algorithm != expected) {
    throw IoError(origin + ": expected training state version " +
                  std::to_string(kTrainingStateVersion) + " of " + expected + ", found version " +
                  std::to_string(version) + " of " + algorithm);
  }
  RestoreState(reader);
  RestoreNormalizer(reader, origin, normalizer);
  SetGeneratorState(sampler, reader.GetString(), origin + " sampler generator");
  torch::Generator global = at::detail::getDefaultCPUGenerator();
  SetGeneratorState(global, reader.GetString(), origin + " default generator");
  restarted_envs = envs.RestoreState(
      reader.GetString(),
      DeriveSeed(DeriveSeed(request_.seed, "restart"), static_cast<uint64_t>(timesteps_)));
  return reader;
}

void LoopCommon::PruneCheckpoints() {
  // Only checkpoints this session wrote (also before a resume), oldest first; the newest (the
  // one a resume continues from) is never among those removed since keep >= 1.
  const int keep = request_.config.training.keep_checkpoints;
  if (keep <= 0) return;
  const fs::path dir = StepCheckpointPath().parent_path();
  bool removed = false;
  while (written_checkpoints_.size() > static_cast<size_t>(keep)) {
    std::error_code ignored;
    removed = fs::remove(dir / written_checkpoints_.front(), ignored) || removed;
    written_checkpoints_.pop_front();
  }
  // Then the replay segments (SAC/TD3) no remaining checkpoint names.
  if (removed) PruneReplaySegments(dir);
}

LoopCommon::Evaluation LoopCommon::Evaluate() {
  // Deterministic episodes with the same derived seeds every time (algos/evaluation.h).
  std::vector<envs::Env*> envs;
  for (const auto& env : eval_envs_) envs.push_back(env.get());
  const std::vector<EpisodeOutcome> episodes = RunEvaluationEpisodes(
      envs, act_, normalizer_, request_.seed, 0, request_.config.training.eval_episodes);
  // Population statistics, as SB3's evaluate_policy (np.mean, np.std).
  const EvaluationSummary summary = Summarize(episodes);
  return {summary.mean_return, summary.std_return, summary.mean_length};
}

void LoopCommon::RunEvaluation() {
  Evaluation ev = Evaluate();
  last_eval_timesteps_ = timesteps_;
  result_.final_mean_return = ev.mean_return;

  // A new best mean return replaces best_model.zip.
  EvalEvent event;
  event.timesteps = timesteps_;
  event.mean_return = ev.mean_return;
  event.std_return = ev.std_return;
  event.mean_length = ev.mean_length;
  event.new_best = !result_.best_mean_return || ev.mean_return > *result_.best_mean_return;
  if (event.new_best) {
    result_.best_mean_return = ev.mean_return;
    best_timesteps_ = timesteps_;
    result_.best_model = Save(request_.models_dir / "best_model.zip", false);
  }
  if (request_.hooks.on_eval) request_.hooks.on_eval(event);
  CheckEarlyStop(ev.mean_return, event.new_best);
}

void LoopCommon::CheckEarlyStop(double mean_return, bool new_best) {
  const config::TrainingConfig& training = request_.config.training;
  evaluations_without_best_ = new_best ? 0 : evaluations_without_best_ + 1;
  char text[256];
  // The reward threshold first: reaching the goal is the better reason to stop.
  if (training.stop_on_reward && mean_return >= *training.stop_on_reward) {
    std::snprintf(text, sizeof(text), "stop_on_reward: mean eval return %.4g >= %.4g at %lld steps",
                  mean_return, *training.stop_on_reward, static_cast<long long>(timesteps_));
  } else if (training.stop_after_no_improvement > 0 &&
             evaluations_without_best_ >= training.stop_after_no_improvement) {
    std::snprintf(text, sizeof(text),
                  "stop_after_no_improvement: %d evaluations without a new best (best %.4g) at "
                  "%lld steps",
                  evaluations_without_best_, result_.best_mean_return.value_or(mean_return),
                  static_cast<long long>(timesteps_));
  } else {
    return;
  }
  if (result_.stop_reason) return;
  result_.stop_reason = text;
  Message("early stop: " + *result_.stop_reason);
}

std::map<std::string, double> LoopCommon::RecentTaskMeans() const {
  std::map<std::string, double> sums;
  std::map<std::string, int> counts;
  for (const vec::EpisodeStats& episode : recent_) {
    for (const auto& [key, value] : episode.last_info) {
      sums[key] += value;
      ++counts[key];
    }
  }
  for (auto& [key, sum] : sums) sum /= counts[key];
  return sums;
}

void LoopCommon::EmitProgress(const std::map<std::string, double>& losses) {
  // One event per step count: the end of training does not repeat the last rollout's row.
  if (!request_.hooks.on_progress || last_progress_timesteps_ == timesteps_) return;
  last_progress_timesteps_ = timesteps_;
  ProgressEvent event;
  event.timesteps = timesteps_;
  event.total_timesteps = request_.config.training.total_timesteps;
  event.episodes = episodes_;
  event.elapsed_seconds = SecondsSince(start_) + elapsed_before_;
  event.steps_per_second =
      event.elapsed_seconds > 0.0 ? static_cast<double>(timesteps_) / event.elapsed_seconds : 0.0;
  if (!recent_.empty()) {
    double sum_return = 0.0;
    double sum_length = 0.0;
    for (const vec::EpisodeStats& episode : recent_) {
      sum_return += episode.episode_return;
      sum_length += static_cast<double>(episode.length);
    }
    event.mean_episode_return = sum_return / static_cast<double>(recent_.size());
    event.mean_episode_length = sum_length / static_cast<double>(recent_.size());
  }
  event.collect_seconds = collect_seconds_;
  event.update_seconds = update_seconds_;
  event.losses = losses;
  event.task_stats = RecentTaskMeans();
  request_.hooks.on_progress(event);
}

TrainingResult LoopCommon::Finish(const std::map<std::string, double>& losses) {
  // A final evaluation (unless one just ran at this step count), then the final model.
  if (!result_.interrupted) {
    if (last_eval_timesteps_ != timesteps_) RunEvaluation();
    result_.final_model = Save(request_.models_dir / "final_model.zip", false);
    EmitProgress(losses);
  }
  result_.timesteps = timesteps_;
  result_.episodes = episodes_;
  result_.wall_seconds = SecondsSince(start_) + elapsed_before_;
  result_.collect_seconds = collect_seconds_;
  result_.update_seconds = update_seconds_;

  // Task statistics over the recent episodes: mean and max per info key.
  for (const auto& [key, mean] : RecentTaskMeans()) {
    double max = -std::numeric_limits<double>::infinity();
    for (const vec::EpisodeStats& episode : recent_) {
      const auto it = episode.last_info.find(key);
      if (it != episode.last_info.end()) max = std::max(max, it->second);
    }
    result_.task_stats[key] = TaskStat{mean, max};
  }
  return result_;
}

fs::path LoopCommon::StepCheckpointPath() const {
  const fs::path dir = request_.checkpoints_dir.empty() ? request_.models_dir / "checkpoints"
                                                        : request_.checkpoints_dir;
  return dir / ("rl_model_" + std::to_string(timesteps_) + "_steps.zip");
}

fs::path LoopCommon::Save(const fs::path& path, bool training_state) {
  // A checkpoint (with training state) is this session's before its state is captured, so the
  // list it carries includes itself; rewriting one step's file is still one file.
  const std::string name = path.filename().string();
  if (training_state && (written_checkpoints_.empty() || written_checkpoints_.back() != name)) {
    written_checkpoints_.push_back(name);
  }
  save_(path, training_state);
  if (training_state) {
    // Tell the hook first (it may point `latest` here), then drop the oldest beyond the limit.
    if (request_.hooks.on_checkpoint) request_.hooks.on_checkpoint(path, timesteps_);
    PruneCheckpoints();
  }
  return path;
}

}  // namespace rlpipe::algos
