// Replay memory of SAC/TD3 on height_maximize (N = 2, SB3's buffer_size 1 000 000): resident
// memory of a full buffer and the time of its periodic checkpoint, against the layout rlpipe used
// before (every observation stored twice, as obs and next_obs, allocated and zeroed up front; the
// whole buffer serialised into each checkpoint archive) measured in the same run. Targets
// (issue 18): the SAC/TD3 run on height_maximize stays <= 0.8 GB resident with a full buffer; a
// full buffer's periodic checkpoint writes in <= 3 s and does not rewrite what has not changed.
//
// Transitions: env streams with height_maximize's observation and action sizes, each env's
// observations continuing step to step, episodes truncated every --episode-steps (the env's
// horizon) with a final observation that differs from the next episode's first (auto-reset),
// envs out of phase. Their values are random (memory and write time do not depend on them).
//
//   build/bench/replay_memory [--rows 1000000] [--n-envs 1] [--episode-steps 1000]
//                             [--save-rows 10000] [--saves 5] [--dir D] [--no-legacy]
//   build/bench/replay_memory --e2e-steps N [--rows 1000000] [--dir D]
//
// --e2e-steps runs the real thing instead: SAC on height_maximize through algos::Train with
// buffer_size --rows for N steps (learning from N - 500, one checkpoint halfway and one at the
// end) and prints the process's peak resident memory and each checkpoint's write time.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "algos/replay_buffer.h"
#include "algos/replay_segments.h"
#include "algos/train.h"
#include "algos/training_state.h"
#include "checkpoint/checkpoint.h"
#include "config/algorithms.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/byte_stream.h"
#include "envs/env.h"
#include "nn/threads.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using rlpipe::algos::ReplayBuffer;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// A field of /proc/self/status in MB of 10^6 bytes (VmRSS: resident now; VmHWM: peak since the
// last reset).
double StatusMb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field + ":")) return std::stod(line.substr(field.size() + 1)) * 1.024e-3;
  }
  return 0.0;
}

// Resets VmHWM to the current resident size (Linux >= 4.0).
void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

// The buffer as rlpipe kept it before issue 18 (the reference): five arrays zeroed up front,
// next_obs a second copy of every observation, and the whole buffer as one archive member.
class LegacyBuffer {
 public:
  LegacyBuffer(int64_t capacity, int obs_dim, int act_dim)
      : capacity_(capacity), obs_dim_(obs_dim), act_dim_(act_dim) {
    const auto rows = static_cast<size_t>(capacity);
    obs_.resize(rows * static_cast<size_t>(obs_dim));
    next_obs_.resize(rows * static_cast<size_t>(obs_dim));
    actions_.resize(rows * static_cast<size_t>(act_dim));
    rewards_.resize(rows);
    dones_.resize(rows);
  }
  void Add(std::span<const float> obs, std::span<const float> next_obs,
           std::span<const float> actions, std::span<const float> rewards,
           std::span<const uint8_t> terminated) {
    const auto od = static_cast<size_t>(obs_dim_);
    const auto ad = static_cast<size_t>(act_dim_);
    for (size_t i = 0; i < rewards.size(); ++i) {
      const auto row = static_cast<size_t>(position_);
      std::copy_n(obs.begin() + i * od, od, obs_.begin() + row * od);
      std::copy_n(next_obs.begin() + i * od, od, next_obs_.begin() + row * od);
      std::copy_n(actions.begin() + i * ad, ad, actions_.begin() + row * ad);
      rewards_[row] = rewards[i];
      dones_[row] = terminated[i] != 0 ? 1.0f : 0.0f;
      position_ = (position_ + 1) % capacity_;
      if (position_ == 0) full_ = true;
    }
  }
  std::string Serialize() const {
    rlpipe::ByteWriter writer;
    writer.Put<int64_t>(capacity_);
    writer.Put<int32_t>(obs_dim_);
    writer.Put<int32_t>(act_dim_);
    writer.Put<int64_t>(position_);
    writer.Put<uint8_t>(full_ ? 1 : 0);
    const auto rows = static_cast<size_t>(full_ ? capacity_ : position_);
    const auto od = static_cast<size_t>(obs_dim_);
    const auto ad = static_cast<size_t>(act_dim_);
    writer.PutVector<float>(std::span(obs_).first(rows * od));
    writer.PutVector<float>(std::span(next_obs_).first(rows * od));
    writer.PutVector<float>(std::span(actions_).first(rows * ad));
    writer.PutVector<float>(std::span(rewards_).first(rows));
    writer.PutVector<float>(std::span(dones_).first(rows));
    return writer.Take();
  }

 private:
  int64_t capacity_;
  int obs_dim_, act_dim_;
  int64_t position_ = 0;
  bool full_ = false;
  std::vector<float> obs_, next_obs_, actions_, rewards_, dones_;
};

// N env streams: observations continue step to step; every `episode_steps` an env's episode is
// truncated (final observation, then a fresh first one); envs start out of phase.
class Streams {
 public:
  Streams(int n_envs, int obs_dim, int act_dim, int episode_steps)
      : obs_dim_(obs_dim), act_dim_(act_dim), episode_steps_(episode_steps), rng_(1) {
    current_.resize(static_cast<size_t>(n_envs * obs_dim));
    Fill(current_);
    for (int i = 0; i < n_envs; ++i) steps_.push_back(i * episode_steps / std::max(1, n_envs));
  }
  template <typename Buffer>
  void Step(Buffer& buffer) {
    const size_t n = steps_.size();
    const auto od = static_cast<size_t>(obs_dim_);
    next_.resize(current_.size());
    Fill(next_);
    actions_.resize(n * static_cast<size_t>(act_dim_));
    Fill(actions_);
    rewards_.resize(n);
    Fill(rewards_);
    terminated_.assign(n, 0);
    buffer.Add(current_, next_, actions_, rewards_, terminated_);
    // Auto-reset after a truncation; else the next step starts where this one ended.
    for (size_t i = 0; i < n; ++i) {
      const bool ended = ++steps_[i] % episode_steps_ == 0;
      if (ended) {
        std::vector<float> fresh(od);
        Fill(fresh);
        std::copy(fresh.begin(), fresh.end(),
                  current_.begin() + static_cast<std::ptrdiff_t>(i * od));
      } else {
        std::copy_n(next_.begin() + static_cast<std::ptrdiff_t>(i * od), od,
                    current_.begin() + static_cast<std::ptrdiff_t>(i * od));
      }
    }
  }
  size_t n_envs() const { return steps_.size(); }

 private:
  void Fill(std::vector<float>& values) {
    for (float& v : values) v = dist_(rng_);
  }
  int obs_dim_, act_dim_, episode_steps_;
  std::mt19937 rng_;
  std::uniform_real_distribution<float> dist_{-1.0f, 1.0f};
  std::vector<float> current_, next_, actions_, rewards_;
  std::vector<uint8_t> terminated_;
  std::vector<int64_t> steps_;
};

// A model archive the size of SAC's on these sizes (actor and twin critics, 256-256), with
// `members` as rlpipe's own members, written where the periodic checkpoint goes.
class ArchiveWriter {
 public:
  ArchiveWriter(int obs_dim, int act_dim)
      : policy_(torch::nn::Linear(obs_dim + act_dim, 256), torch::nn::Linear(256, 256),
                torch::nn::Linear(256, 256), torch::nn::Linear(256, 256),
                torch::nn::Linear(256, 256), torch::nn::Linear(256, 256),
                torch::nn::Linear(256, 2 * act_dim)) {
    data_.obs_dim = obs_dim;
    data_.act_dim = act_dim;
    data_.obs_low.assign(static_cast<size_t>(obs_dim), -10.0f);
    data_.obs_high.assign(static_cast<size_t>(obs_dim), 10.0f);
    data_.act_low.assign(static_cast<size_t>(act_dim), -1.0f);
    data_.act_high.assign(static_cast<size_t>(act_dim), 1.0f);
    config_.Set("note", rlpipe::config::Tree::Scalar("replay_memory bench"));
  }
  void Save(const fs::path& path, std::map<std::string, std::string> members) {
    rlpipe::checkpoint::SaveOptions options;
    options.extra_members = std::move(members);
    rlpipe::checkpoint::SaveModel(path, *policy_, data_, config_, options);
  }

 private:
  torch::nn::Sequential policy_;
  rlpipe::checkpoint::ModelData data_;
  rlpipe::config::Tree config_;
};

uintmax_t FolderBytes(const fs::path& dir) {
  uintmax_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

// SAC on height_maximize through algos::Train: peak resident memory and checkpoint write times.
int RunEndToEnd(int64_t steps, int64_t rows, const fs::path& dir) {
  rlpipe::algos::TrainingRequest request;
  rlpipe::config::ExperimentConfig& c = request.config;
  c.environment.name = "height_maximize";
  c.agent = rlpipe::config::DefaultAgentConfig(rlpipe::config::Algorithm::kSac);
  c.network = rlpipe::config::DefaultNetworkConfig(rlpipe::config::Algorithm::kSac);
  c.agent.off_policy()->buffer_size = rows;
  c.agent.off_policy()->learning_starts = std::max<int64_t>(0, steps - 500);
  c.training.total_timesteps = steps;
  c.training.save_freq = steps / 2;
  c.training.eval_freq = 0;
  c.training.log_interval = 1000000000;
  c.training.threads = 1;
  request.seed = 1;
  request.models_dir = dir / "e2e";
  fs::remove_all(request.models_dir);
  // A checkpoint's time: from the loop's last stop poll (before the step that wrote it) to the
  // hook after it, so it includes that one env step.
  Clock::time_point last_poll = Clock::now();
  request.hooks.stop_requested = [&] {
    last_poll = Clock::now();
    return false;
  };
  request.hooks.on_checkpoint = [&](const fs::path& path, int64_t timesteps) {
    std::printf("checkpoint at %lld steps: %.3f s (%s, RSS %.0f MB)\n",
                static_cast<long long>(timesteps), SecondsSince(last_poll), path.filename().c_str(),
                StatusMb("VmRSS"));
    std::fflush(stdout);
  };
  const Clock::time_point start = Clock::now();
  const rlpipe::algos::TrainingResult result = rlpipe::algos::Train(request);
  std::printf("e2e: SAC on height_maximize, buffer_size %lld, %lld steps in %.0f s\n",
              static_cast<long long>(rows), static_cast<long long>(result.timesteps),
              SecondsSince(start));
  std::printf("peak resident memory (VmHWM): %.0f MB; resident at the end (VmRSS): %.0f MB\n",
              StatusMb("VmHWM"), StatusMb("VmRSS"));
  std::printf("checkpoints folder: %.0f MB\n",
              static_cast<double>(FolderBytes(request.models_dir / "checkpoints")) / 1e6);
  fs::remove_all(request.models_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"replay buffer memory and checkpoint time against the previous layout"};
  int64_t rows = 1000000;
  int n_envs = 1;
  int episode_steps = 1000;
  int64_t save_rows = 10000;
  int saves = 5;
  int64_t e2e_steps = 0;
  bool no_legacy = false;
  std::string dir = (fs::temp_directory_path() / "rlpipe_replay_memory_bench").string();
  app.add_option("--rows", rows, "buffer capacity (SB3's buffer_size)")->check(CLI::PositiveNumber);
  app.add_option("--n-envs", n_envs, "envs adding transitions")->check(CLI::PositiveNumber);
  app.add_option("--episode-steps", episode_steps, "episode length (height_maximize's horizon)")
      ->check(CLI::PositiveNumber);
  app.add_option("--save-rows", save_rows, "transitions between two periodic checkpoints")
      ->check(CLI::PositiveNumber);
  app.add_option("--saves", saves, "periodic checkpoints timed (median)")
      ->check(CLI::PositiveNumber);
  app.add_option("--e2e-steps", e2e_steps, "run SAC end to end for this many steps instead");
  app.add_flag("--no-legacy", no_legacy, "skip the reference (the previous layout)");
  app.add_option("--dir", dir, "scratch folder (checkpoints)");
  CLI11_PARSE(app, argc, argv);
  rlpipe::nn::SetIntraOpThreads(1);
  fs::create_directories(dir);
  if (e2e_steps > 0) return RunEndToEnd(e2e_steps, rows, dir);

  // height_maximize's sizes (N = 2 robots by default).
  rlpipe::config::EnvironmentConfig env_config;
  env_config.name = "height_maximize";
  const rlpipe::envs::EnvSpec spec = rlpipe::envs::MakeEnv(env_config)->Spec();
  const int obs_dim = static_cast<int>(spec.observation_space.Dim());
  const int act_dim = static_cast<int>(spec.action_space.Dim());
  std::printf(
      "height_maximize: obs %d, act %d; %lld transitions from %d env(s), episodes of %d "
      "steps; periodic checkpoint every %lld transitions\n",
      obs_dim, act_dim, static_cast<long long>(rows), n_envs, episode_steps,
      static_cast<long long>(save_rows));
  ArchiveWriter archive(obs_dim, act_dim);
  const fs::path checkpoints = fs::path(dir) / "checkpoints";
  fs::remove_all(checkpoints);
  fs::create_directories(checkpoints);
  const double base_mb = StatusMb("VmRSS");
  std::printf("process resident before any buffer: %.0f MB\n", base_mb);

  // Reference: the previous layout, filled, and its checkpoint (the whole buffer in the archive).
  double legacy_mb = 0.0, legacy_save_s = 0.0, legacy_peak_mb = 0.0;
  if (!no_legacy) {
    {
      LegacyBuffer legacy(rows, obs_dim, act_dim);
      std::printf("previous layout allocated (empty): +%.0f MB resident\n",
                  StatusMb("VmRSS") - base_mb);
      Streams streams(n_envs, obs_dim, act_dim, episode_steps);
      for (int64_t t = 0; t < rows; t += n_envs) streams.Step(legacy);
      legacy_mb = StatusMb("VmRSS") - base_mb;
      ResetPeak();
      const double before = StatusMb("VmRSS");
      const Clock::time_point start = Clock::now();
      archive.Save(checkpoints / "rl_model_legacy_steps.zip",
                   {{rlpipe::algos::kReplayBufferMember, legacy.Serialize()}});
      legacy_save_s = SecondsSince(start);
      legacy_peak_mb = StatusMb("VmHWM") - before;
    }
    std::printf(
        "previous layout full: +%.0f MB resident; checkpoint %.2f s (%.0f MB archive), "
        "+%.0f MB peak while saving\n",
        legacy_mb, legacy_save_s,
        static_cast<double>(fs::file_size(checkpoints / "rl_model_legacy_steps.zip")) / 1e6,
        legacy_peak_mb);
    fs::remove(checkpoints / "rl_model_legacy_steps.zip");
  }

  // This layout: allocated, filled.
  const double base2_mb = StatusMb("VmRSS");
  ReplayBuffer buffer(rows, obs_dim, act_dim);
  std::printf("this layout allocated (empty): +%.0f MB resident\n", StatusMb("VmRSS") - base2_mb);
  Streams streams(n_envs, obs_dim, act_dim, episode_steps);
  for (int64_t t = 0; t < rows; t += n_envs) streams.Step(buffer);
  const double buffer_mb = StatusMb("VmRSS") - base2_mb;
  std::printf("this layout full: +%.0f MB resident (%lld next observations on the side)", buffer_mb,
              static_cast<long long>(buffer.SideObservations()));
  if (legacy_mb > 0) std::printf("; ratio to the previous layout %.2fx", buffer_mb / legacy_mb);
  std::printf("\nprocess resident with the full buffer: %.0f MB\n", StatusMb("VmRSS"));

  // Checkpoints: the first writes every transition (one segment), later ones what was added.
  rlpipe::algos::ReplaySegments segments;
  auto save = [&](int64_t at, double& peak_mb) {
    ResetPeak();
    const double before = StatusMb("VmRSS");
    const uintmax_t bytes_before = FolderBytes(checkpoints);
    const Clock::time_point start = Clock::now();
    const fs::path path = checkpoints / ("rl_model_" + std::to_string(at) + "_steps.zip");
    archive.Save(path, {{rlpipe::algos::kReplayIndexMember, segments.Save(buffer, checkpoints)}});
    const double seconds = SecondsSince(start);
    peak_mb = StatusMb("VmHWM") - before;
    std::printf("  checkpoint at %lld: %.3f s, %.1f MB written, +%.0f MB peak\n",
                static_cast<long long>(at), seconds,
                static_cast<double>(FolderBytes(checkpoints) - bytes_before) / 1e6, peak_mb);
    return seconds;
  };
  double full_peak_mb = 0.0;
  const double full_s = save(buffer.Added(), full_peak_mb);
  std::vector<double> periodic_s;
  double periodic_peak_mb = 0.0;
  for (int k = 0; k < saves; ++k) {
    for (int64_t t = 0; t < save_rows; t += n_envs) streams.Step(buffer);
    periodic_s.push_back(save(buffer.Added(), periodic_peak_mb));
  }

  // Resume: the newest checkpoint's buffer back from its segments.
  const fs::path newest =
      checkpoints / ("rl_model_" + std::to_string(buffer.Added()) + "_steps.zip");
  const std::string index =
      rlpipe::checkpoint::LoadModel(newest).extra_members.at(rlpipe::algos::kReplayIndexMember);
  ReplayBuffer restored(rows, obs_dim, act_dim);
  Clock::time_point start = Clock::now();
  rlpipe::algos::ReplaySegments().Restore(index, checkpoints, restored, newest.string());
  const double restore_s = SecondsSince(start);
  const bool same = torch::equal(buffer.Gather(torch::arange(0, rows, 997)).next_obs,
                                 restored.Gather(torch::arange(0, rows, 997)).next_obs);

  std::printf("\nsummary (%lld transitions, obs %d, act %d):\n", static_cast<long long>(rows),
              obs_dim, act_dim);
  std::printf("  resident buffer: %.0f MB", buffer_mb);
  if (legacy_mb > 0) std::printf(" vs previous %.0f MB (%.2fx)", legacy_mb, buffer_mb / legacy_mb);
  std::printf(
      "\n  this bench's process with the full buffer: %.0f MB (the SAC/TD3 run's target, "
      "<= 800 MB, is measured by --e2e-steps)\n",
      base_mb + buffer_mb);
  std::printf("  checkpoint writing the whole buffer: %.2f s", full_s);
  if (legacy_save_s > 0) {
    std::printf(" vs previous %.2f s (%.2fx); peak +%.0f MB vs +%.0f MB", legacy_save_s,
                full_s / legacy_save_s, full_peak_mb, legacy_peak_mb);
  }
  std::printf(
      "\n  periodic checkpoint (%lld new transitions): %.3f s median of %d "
      "(target <= 3 s)\n",
      static_cast<long long>(save_rows), Median(periodic_s), saves);
  std::printf("  resume (buffer back from its segments): %.2f s, %s\n", restore_s,
              same ? "equal" : "DIFFERENT");
  std::printf("  checkpoints folder: %.0f MB for %d checkpoints\n",
              static_cast<double>(FolderBytes(checkpoints)) / 1e6, saves + 1);
  fs::remove_all(checkpoints);
  const bool met = Median(periodic_s) <= 3.0 && full_s <= 3.0 && same;
  std::printf("targets (checkpoints <= 3 s, restored equal): %s\n", met ? "met" : "MISSED");
  return met ? 0 : 1;
}
