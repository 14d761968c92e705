#include "algos/off_policy.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "algos/algorithm_registry.h"
#include "algos/learning_rate.h"
#include "algos/loop_common.h"
#include "algos/normalizer_members.h"
#include "algos/off_policy_update.h"
#include "algos/replay_buffer.h"
#include "algos/replay_segments.h"
#include "algos/session_start.h"
#include "algos/tensor_copy.h"
#include "algos/training_state.h"
#include "checkpoint/checkpoint.h"
#include "config/algorithms.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/diag_gaussian.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// SB3's OrnsteinUhlenbeckActionNoise constants: mean reversion θ and time step dt.
constexpr double kOuTheta = 0.15;
constexpr double kOuDt = 1e-2;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// True when a counter moving from `before` to `after` passes a multiple of `every`.
bool Crossed(int64_t before, int64_t after, int64_t every) {
  return every > 0 && before / every != after / every;
}

/// Exploration noise per env: N(0, σ²) draws, or an Ornstein-Uhlenbeck process
///   x ← x + θ (0 − x) dt + σ √dt ε   (reset to 0 when the env's episode ends).
class ActionNoise {
 public:
  ActionNoise(const config::ActionNoiseConfig& config, int64_t n_envs, int64_t act_dim)
      : config_(config), state_(torch::zeros({n_envs, act_dim})) {}

  bool enabled() const { return config_.type != config::ActionNoiseType::kNone; }

  /// [N, act_dim] noise for the next step.
  torch::Tensor Sample(torch::Generator& generator) {
    torch::Tensor normal =
        at::normal(0.0, 1.0, state_.sizes(), generator, state_.options());  // [N, act_dim]
    if (config_.type == config::ActionNoiseType::kNormal) return config_.sigma * normal;
    state_ = state_ - kOuTheta * state_ * kOuDt + config_.sigma * std::sqrt(kOuDt) * normal;
    return state_;
  }
  void Reset(int64_t env) { state_[env].zero_(); }
  /// The OU state [N, act_dim] (zeros for normal noise), for exact resume.
  const torch::Tensor& state() const { return state_; }
  void SetState(const torch::Tensor& state) { state_.copy_(state); }

 private:
  config::ActionNoiseConfig config_;
  torch::Tensor state_;  // [N, act_dim] OU state
};

/// The state of one off-policy session.
class OffPolicyRun {
 public:
  OffPolicyRun(const TrainingRequest& request, const vec::VectorEnv::Factory& env_factory,
               const LoopOptions& options)
      : request_(request),
        agent_(*request.config.agent.off_policy()),
        training_(request.config.training),
        envs_(training_.n_envs, options.env_threads, env_factory),
        spec_(envs_.Spec()),
        generator_(nn::MakeGenerator(DeriveSeed(request.seed, "sampler"))),
        buffer_(agent_.buffer_size, envs_.ObsDim(), envs_.ActDim()),
        algorithm_(MakeOffPolicyAlgorithm(request.config.agent, request.config.network,
                                          {envs_.ObsDim(), envs_.ActDim()},
                                          DeriveSeed(request.seed, "init"))),
        noise_(agent_.action_noise, envs_.Size(), envs_.ActDim()),
        normalizer_(training_.normalize, agent_.gamma, training_.n_envs, envs_.ObsDim()),
        common_(
            request, env_factory, options.eval_threads,
            [this](std::span<const float> obs, std::vector<float>& action) { Act(obs, action); },
            [this](const fs::path& path, bool state) { Save(path, state); }, &normalizer_) {
    algorithm_->SetUpdateThreads(options.update_threads);
    if (request.resume_checkpoint) {
      Resume(*request.resume_checkpoint);
    } else if (request.init_checkpoint) {
      TransferInitialWeights(request, spec_, algorithm_->Policy(), nullptr, normalizer_);
    }
  }

  TrainingResult Run();

 private:
  // Exact resume: weights, the rlpipe_training_state member and the replay buffer.
  void Resume(const fs::path& path);
  // One batched env step: act (random before learning_starts), add noise, store the transition.
  void CollectStep();
  // gradient_steps steps on replay batches.
  void Train();
  // Replay samples (raw) normalised with the current statistics, as SB3 samples them.
  void NormalizeBatch(ReplayBatch& batch) const;
  // Policy-scale actions [N, act_dim] in [-1, 1] → the env's box.
  void ToEnvActions(const std::vector<float>& scaled, std::vector<float>& out) const;
  // The deterministic action for one observation, in the env's box.
  void Act(std::span<const float> obs, std::vector<float>& action);
  void Save(const fs::path& path, bool training_state);

  const TrainingRequest& request_;
  const config::OffPolicyConfig& agent_;
  const config::TrainingConfig& training_;
  vec::ThreadedVectorEnv envs_;
  envs::EnvSpec spec_;
  torch::Generator generator_;
  ReplayBuffer buffer_;
  ReplaySegments segments_;  // the buffer's segment files beside the checkpoints
  std::unique_ptr<OffPolicyAlgorithm> algorithm_;
  ActionNoise noise_;
  vec::VecNormalizer normalizer_;
  LoopCommon common_;
  int64_t vector_steps_ = 0;  // batched env steps so far
  int64_t n_updates_ = 0;     // gradient steps so far
  bool resumed_ = false;
  int restarted_envs_ = 0;
  std::map<std::string, double> losses_;

  // Per-step scratch buffers, [N, dim] row-major; the replay buffer keeps raw observations and
  // rewards, normalised when sampled (SB3), and policy_obs_ is the normalised view for acting.
  std::vector<float> last_obs_, policy_obs_, next_obs_, scaled_, env_actions_;
  std::vector<uint8_t> dones_;
};

void OffPolicyRun::Resume(const fs::path& path) {
  // Weights from policy.pth, everything else from the training-state member.
  const std::string origin = path.string();
  const checkpoint::LoadedModel model = checkpoint::LoadModel(path);
  checkpoint::LoadWeightsInto(algorithm_->Policy(), model.state_dict, origin);
  // The order Save wrote: the shared head, loop counters, noise, algorithm state.
  ByteReader reader =
      common_.RestoreSharedState(model, origin, generator_, normalizer_, envs_, restarted_envs_);
  vector_steps_ = reader.Get<int64_t>();
  n_updates_ = reader.Get<int64_t>();
  const std::vector<float> noise = reader.GetVector<float>();
  if (static_cast<int64_t>(noise.size()) != noise_.state().numel()) {
    throw IoError(origin + ": expected " + std::to_string(noise_.state().numel()) +
                  " action-noise values, found " + std::to_string(noise.size()));
  }
  noise_.SetState(ToTensor(noise, envs_.Size(), envs_.ActDim()));
  torch::serialize::InputArchive archive;
  LoadArchiveBytes(archive, reader.GetString(), origin + " algorithm state");
  algorithm_->LoadState(archive);
  reader.Finish();

  // The replay buffer from its segments beside the checkpoint (or, from a checkpoint written
  // before segments, its own member), unless the session chose not to save it (then it refills
  // from here).
  const auto index = model.extra_members.find(kReplayIndexMember);
  const auto legacy = model.extra_members.find(kReplayBufferMember);
  const bool has_replay = index != model.extra_members.end() || legacy != model.extra_members.end();
  if (index != model.extra_members.end()) {
    segments_.Restore(index->second, path.parent_path(), buffer_, origin);
  } else if (legacy != model.extra_members.end()) {
    buffer_.RestoreLegacy(legacy->second);
  }
  resumed_ = true;
  common_.Message("resumed from " + origin + " at " + std::to_string(common_.timesteps()) +
                  " steps" + (has_replay ? "" : "; no replay buffer saved: it refills from empty") +
                  (restarted_envs_ > 0 ? "; " + std::to_string(restarted_envs_) +
                                             " envs restarted their episode (no state capture)"
                                       : ""));
}

TrainingResult OffPolicyRun::Run() {
  if (!resumed_) normalizer_.ObserveReset(envs_.Reset(DeriveSeed(request_.seed, "envs")));
  const int64_t resumed_from = common_.timesteps();
  if (request_.hooks.on_start) request_.hooks.on_start(resumed_from);
  while (common_.timesteps() < training_.total_timesteps && !common_.Done() &&
         !common_.CheckStop()) {
    // Collect one step per env; train every train_freq steps once past learning_starts.
    CollectStep();
    ++vector_steps_;
    if (vector_steps_ % agent_.train_freq == 0 && common_.timesteps() > agent_.learning_starts) {
      Train();
    }
    // The periodic checkpoint at the restart point: after this step's training.
    common_.SaveDueCheckpoint();
  }
  TrainingResult result = common_.Finish(losses_);
  result.resumed_from_timesteps = resumed_ ? resumed_from : 0;
  result.restarted_envs = restarted_envs_;
  return result;
}

void OffPolicyRun::CollectStep() {
  const Clock::time_point start = Clock::now();
  const int64_t n = envs_.Size();
  const int64_t obs_dim = envs_.ObsDim();
  const int64_t act_dim = envs_.ActDim();
  const auto& obs = envs_.Observations();
  last_obs_.assign(obs.begin(), obs.end());
  TimeSplit& split = common_.time_split();

  // Uniform random actions before learning_starts, else the policy's; then clipped noise.
  torch::Tensor actions;  // [N, act_dim] in [-1, 1]
  if (common_.timesteps() < agent_.learning_starts) {
    actions = torch::rand({n, act_dim}, generator_) * 2.0 - 1.0;
  } else {
    policy_obs_.assign(last_obs_.begin(), last_obs_.end());
    normalizer_.NormalizeObs(policy_obs_);
    actions = algorithm_->ExploreAction(ToTensor(policy_obs_, n, obs_dim), generator_);
  }
  if (noise_.enabled()) actions = torch::clamp(actions + noise_.Sample(generator_), -1.0, 1.0);
  CopyOut(actions, scaled_);
  ToEnvActions(scaled_, env_actions_);
  const Clock::time_point env_start = Clock::now();
  split.inference_seconds += std::chrono::duration<double>(env_start - start).count();
  const vec::BatchStep& step = envs_.Step(env_actions_);
  const Clock::time_point env_end = Clock::now();
  split.env_step_seconds += std::chrono::duration<double>(env_end - env_start).count();
  dones_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) dones_[i] = step.terminated[i] || step.truncated[i];
  normalizer_.ObserveStep(step.obs, step.rewards, dones_);

  // s' is the final observation where an episode ended (auto-reset replaced it); only
  // termination stops the bootstrap (SB3's handle_timeout_termination).
  next_obs_.assign(step.obs.begin(), step.obs.end());
  for (int64_t i = 0; i < n; ++i) {
    if (step.terminated[i] || step.truncated[i]) {
      std::copy_n(step.final_obs.begin() + i * obs_dim, obs_dim, next_obs_.begin() + i * obs_dim);
      noise_.Reset(i);
    }
  }
  buffer_.Add(last_obs_, next_obs_, scaled_, step.rewards, step.terminated);
  split.buffer_seconds += SecondsSince(env_end);
  common_.AddCollectSeconds(SecondsSince(start));

  // Counters, evaluation, checkpoints; progress every log_interval episodes (SB3 off-policy).
  const int64_t episodes_before = common_.episodes();
  common_.AfterStep(n, step.finished);
  if (Crossed(episodes_before, common_.episodes(), training_.log_interval)) {
    common_.EmitProgress(losses_);
  }
}

void OffPolicyRun::Train() {
  const Clock::time_point start = Clock::now();

  // The scheduled learning rate for every optimizer.
  const double learning_rate =
      ScheduledLearningRate(agent_, common_.timesteps(), training_.total_timesteps);
  algorithm_->SetLearningRate(learning_rate);

  // gradient_steps steps; losses are averaged over them, as SB3 logs them.
  std::map<std::string, double> sums;
  for (int g = 0; g < agent_.gradient_steps; ++g) {
    ReplayBatch batch = buffer_.Sample(agent_.batch_size, generator_);
    NormalizeBatch(batch);
    for (const auto& [name, value] :
         algorithm_->TrainStep(batch, generator_, common_.timesteps())) {
      sums[name] += value;
    }
    ++n_updates_;
  }
  // Env threads come next: the update's worker must not spin beside them.
  if (envs_.Threads() > 1) algorithm_->RestUpdateThreads();
  losses_.clear();
  for (const auto& [name, sum] : sums) losses_[name] = sum / agent_.gradient_steps;
  losses_["train/n_updates"] = static_cast<double>(n_updates_);
  losses_["train/learning_rate"] = learning_rate;
  common_.time_split().update_seconds += SecondsSince(start);
  common_.AddUpdateSeconds(SecondsSince(start));
}

void OffPolicyRun::NormalizeBatch(ReplayBatch& batch) const {
  if (!normalizer_.Enabled()) return;
  // Raw stored values → the current statistics, in place in the (contiguous, owned) tensors.
  for (torch::Tensor* tensor : {&batch.obs, &batch.next_obs, &batch.rewards}) {
    *tensor = tensor->contiguous();
    std::span<float> values(tensor->data_ptr<float>(), static_cast<size_t>(tensor->numel()));
    if (tensor == &batch.rewards) {
      normalizer_.NormalizeRewards(values);
    } else {
      normalizer_.NormalizeObs(values);
    }
  }
}

void OffPolicyRun::ToEnvActions(const std::vector<float>& scaled, std::vector<float>& out) const {
  // a_env = low + (a + 1) / 2 · (high − low), SB3's unscale_action.
  const envs::Box& box = spec_.action_space;
  const size_t dim = box.low.size();
  out.resize(scaled.size());
  for (size_t k = 0; k < scaled.size(); ++k) {
    const float low = box.low[k % dim];
    const float high = box.high[k % dim];
    out[k] = low + 0.5f * (scaled[k] + 1.0f) * (high - low);
  }
}

void OffPolicyRun::Act(std::span<const float> obs, std::vector<float>& action) {
  // Called by several evaluation threads at once: no shared scratch.
  const auto obs_dim = static_cast<int64_t>(obs.size());
  std::vector<float> scaled;
  CopyOut(algorithm_->DeterministicAction(ToTensor(obs, 1, obs_dim)), scaled);
  ToEnvActions(scaled, action);
}

void OffPolicyRun::Save(const fs::path& path, bool training_state) {
  // The algorithm's optimizers and variables, the normaliser statistics, and for checkpoints the
  // training state (which holds the normaliser's state too).
  checkpoint::SaveOptions options = algorithm_->CheckpointOptions();
  options.extra_members = NormalizerMembers(normalizer_);
  if (training_state) {
    // Resume reads these back in the same order.
    ByteWriter writer;
    common_.SaveSharedState(writer, generator_, normalizer_, envs_);
    writer.Put<int64_t>(vector_steps_);
    writer.Put<int64_t>(n_updates_);
    std::vector<float> noise;
    CopyOut(noise_.state(), noise);
    writer.PutVector<float>(noise);
    torch::serialize::OutputArchive archive;
    algorithm_->SaveState(archive);
    writer.PutString(ArchiveBytes(archive));
    options.extra_members[kTrainingStateMember] = writer.Take();
    // The transitions added since the last checkpoint go into a new segment file beside it
    // (complete before the archive that names it is written).
    if (training_.save_replay_buffer) {
      options.extra_members[kReplayIndexMember] = segments_.Save(buffer_, path.parent_path());
    }
  }
  checkpoint::SaveModel(path, algorithm_->Policy(),
                        MakeModelData(request_, spec_, common_.timesteps(), common_.episodes()),
                        request_.config.resolved, options);
}

}  // namespace

std::unique_ptr<OffPolicyAlgorithm> MakeOffPolicyAlgorithm(const config::AgentConfig& agent,
                                                           const config::NetworkConfig& network,
                                                           const OffPolicyDims& dims,
                                                           uint64_t init_seed) {
  // Actor on policy_layers, critics on qf_layers.
  nn::OffPolicyPolicyOptions options;
  options.obs_dim = dims.obs_dim;
  options.act_dim = dims.act_dim;
  options.actor_layers = network.policy_layers;
  options.critic_layers = network.qf_layers;
  options.activation = network.activation;
  options.init_seed = init_seed;
  const AlgorithmRow& row = RowOf(agent.algorithm());
  if (row.make_off_policy == nullptr) {
    throw ConfigError("agent.algorithm: expected an off-policy algorithm (" +
                      config::AlgorithmNames(config::AlgorithmFamily::kOffPolicy) + "), found " +
                      config::ToString(agent.algorithm()));
  }
  return row.make_off_policy(agent, options);
}

void PolyakUpdate(const nn::FlatParameters& source, nn::FlatParameters& target, double tau) {
  if (source.data().numel() != target.data().numel()) {
    throw TrainingError("PolyakUpdate: expected networks of the same structure, found " +
                        std::to_string(source.data().numel()) + " and " +
                        std::to_string(target.data().numel()) + " parameters");
  }
  // θ̄ ← (1 − τ) θ̄ + τ θ, in place over the whole buffer.
  torch::NoGradGuard no_grad;
  target.data().mul_(1.0 - tau).add_(source.data(), tau);
}

torch::Tensor TwinCriticLoss(const nn::TwinQValues& current, const torch::Tensor& target,
                             double scale) {
  return scale * (torch::mse_loss(current.q0, target) + torch::mse_loss(current.q1, target));
}

void CheckFinite(const std::string& algorithm, int64_t timesteps,
                 const std::map<std::string, double>& losses) {
  bool finite = true;
  std::string terms;
  for (const auto& [name, value] : losses) {
    finite = finite && std::isfinite(value);
    terms += (terms.empty() ? "" : ", ") + name + "=" + std::to_string(value);
  }
  if (!finite) {
    throw TrainingError(algorithm + " update at timestep " + std::to_string(timesteps) +
                        ": expected finite losses, found " + terms);
  }
}

TrainingResult TrainOffPolicy(const TrainingRequest& request,
                              const vec::VectorEnv::Factory& env_factory,
                              const LoopOptions& options) {
  // Choices are checked before any env or network is built.
  if (request.config.agent.off_policy() == nullptr) {
    throw ConfigError("agent.algorithm: expected an off-policy algorithm (" +
                      config::AlgorithmNames(config::AlgorithmFamily::kOffPolicy) + "), found " +
                      config::ToString(request.config.agent.algorithm()));
  }
  PrepareSession(request, options);
  OffPolicyRun run(request, env_factory, options);
  return run.Run();
}

}  // namespace rlpipe::algos
