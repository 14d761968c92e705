#pragma once
/// The one call the pipeline makes to train a session. Algorithms report typed events through
/// hooks and never write logs or metrics themselves (DESIGN.md, extension point 7).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "checkpoint/transfer_report.h"
#include "config/experiment_config.h"
#include "config/pipeline_config.h"

namespace rlpipe::algos {

/// Emitted every `training.log_interval` rollouts (and once at the end).
struct ProgressEvent {
  int64_t timesteps = 0;  // env steps so far (over all envs)
  int64_t total_timesteps = 0;
  int64_t episodes = 0;                       // training episodes finished so far
  double steps_per_second = 0.0;              // since the session started
  std::optional<double> mean_episode_return;  // over the last 100 finished episodes
  std::optional<double> mean_episode_length;
  double collect_seconds = 0.0;  // cumulative wall time spent stepping envs + acting
  double update_seconds = 0.0;   // cumulative wall time spent in gradient updates
  double elapsed_seconds = 0.0;
  /// Algorithm losses and diagnostics of the last update, by SB3 name (e.g. "train/value_loss").
  std::map<std::string, double> losses;
  /// Task statistics: each `info` key of an episode's last step, averaged over the last 100
  /// finished episodes (e.g. "max_height", "connections").
  std::map<std::string, double> task_stats;
};

/// One task statistic over a session's last 100 finished training episodes (the value of an
/// `info` key at each episode's last step).
struct TaskStat {
  double mean = 0.0;
  double max = 0.0;
};

/// Where the wall time of a session went (seconds, cumulative). collect = env + inference +
/// buffer; other = wall − collect − update (evaluation, checkpoints, bookkeeping).
struct TimeSplit {
  double env_step_seconds = 0.0;   // VectorEnv::Step
  double inference_seconds = 0.0;  // acting: policy forward, sampling, copies
  double buffer_seconds = 0.0;     // storing transitions, normalisation, GAE
  double update_seconds = 0.0;     // gradient updates
};

/// Emitted after each evaluation.
struct EvalEvent {
  int64_t timesteps = 0;
  double mean_return = 0.0;
  double std_return = 0.0;
  double mean_length = 0.0;
  bool new_best = false;
};

struct TrainingHooks {
  /// Called once before the first step with the env steps training starts from: 0, or the
  /// checkpoint's steps when it resumes one (before any progress or eval event).
  std::function<void(int64_t start_timesteps)> on_start;
  std::function<void(const ProgressEvent&)> on_progress;
  std::function<void(const EvalEvent&)> on_eval;
  /// Polled between env steps; true → save a checkpoint and return with interrupted = true.
  std::function<bool()> stop_requested;
  /// Called after each periodic or interrupt checkpoint (with training state) is complete on disk.
  std::function<void(const std::filesystem::path& path, int64_t timesteps)> on_checkpoint;
  /// Called with a human-readable line (e.g. "loaded weights from X").
  std::function<void(const std::string&)> on_message;
  /// Called once with the transfer report when the session starts from a model; without it the
  /// report's summary line goes to on_message.
  std::function<void(const checkpoint::TransferReport&)> on_transfer;
};

/// What to train and where to write.
struct TrainingRequest {
  config::ExperimentConfig config;
  uint64_t seed = 0;
  /// Model to start from (a .zip written by rlpipe), moved into the new network per `transfer`
  /// (checkpoint/transfer.h): by name, with layout-aware slices where shapes differ.
  std::optional<std::filesystem::path> init_checkpoint;
  /// How init_checkpoint is loaded (parts, frozen parameters, optimizer and log_std resets).
  config::TransferConfig transfer;
  /// Exact resume: a periodic or interrupt checkpoint of this same session (same config and
  /// seed) to continue from, with its weights, optimizers, RNGs, env states and buffers
  /// (docs/resume.md). Takes the place of init_checkpoint. IoError when it holds no training
  /// state or was written for another algorithm or sizes.
  std::optional<std::filesystem::path> resume_checkpoint;
  /// Folder for best_model.zip, final_model.zip and checkpoints/ (created if missing).
  std::filesystem::path models_dir;
  /// Folder for periodic and interrupt checkpoints; empty: models_dir/checkpoints.
  std::filesystem::path checkpoints_dir;
  TrainingHooks hooks;
};

/// What came out.
struct TrainingResult {
  int64_t timesteps = 0;
  int64_t episodes = 0;
  std::optional<double> best_mean_return;            // best evaluation (nullopt if none ran)
  std::optional<double> final_mean_return;           // evaluation of the final policy
  std::optional<std::filesystem::path> best_model;   // absent if no evaluation ran
  std::optional<std::filesystem::path> final_model;  // absent when interrupted
  std::optional<std::filesystem::path> interrupt_checkpoint;  // when interrupted
  int64_t resumed_from_timesteps = 0;  // steps of resume_checkpoint (0 without one)
  int restarted_envs = 0;  // envs that followed the restart rule on resume (no state capture)
  bool interrupted = false;
  /// Why training ended before total_timesteps by an early-stopping rule (nullopt otherwise),
  /// e.g. "stop_on_reward: mean eval return -150.2 >= -200 at 40960 steps".
  std::optional<std::string> stop_reason;
  /// Task statistics by `info` key (empty for tasks without info).
  std::map<std::string, TaskStat> task_stats;
  double wall_seconds = 0.0;
  double collect_seconds = 0.0;
  double update_seconds = 0.0;
  TimeSplit time_split;
};

/// Intra-op threads LibTorch uses for the small MLPs (measured with bench/ppo_pendulum_learning:
/// 1 thread is faster than 2 for 64x64 networks; see the bench's --torch-threads flag).
inline constexpr int kDefaultTorchThreads = 1;

/// Knobs of a training loop (either family) that are not part of the experiment config.
struct LoopOptions {
  int torch_threads = kDefaultTorchThreads;  // torch::set_num_threads for the session, >= 1
  int env_threads = 1;     // threads stepping the training envs (ThreadedVectorEnv), >= 1
  int eval_threads = 1;    // threads (each with its own env) running evaluation episodes, >= 1
  int update_threads = 1;  // threads of one SAC/TD3 gradient step (the twin critics' tasks), >= 1
};

/// A periodic or interrupt checkpoint a session can resume from exactly.
struct ResumePoint {
  std::filesystem::path path;
  int64_t timesteps = 0;  // env steps the checkpoint was taken at
  uint64_t seed = 0;      // the training request's seed it was trained with
};

/// The newest checkpoint in `models_dir`/checkpoints (rl_model_<n>_steps.zip, largest n first)
/// whose archive verifies, that holds the training state and whose replay segments (SAC/TD3) are
/// all there; half-written, foreign or state-less files are skipped. nullopt when there is none.
/// Never throws.
std::optional<ResumePoint> FindResumePoint(const std::filesystem::path& models_dir);

/// The threads a session uses: training.threads, or when it is 0 the thread budget `rlpipe tune`
/// gives its runs (RLPIPE_TUNE_THREADS = cores / K), else the CPUs this process may run on
/// (sched_getaffinity).
int SessionThreads(const config::TrainingConfig& training);

/// Trains per request.config.agent.algorithm, stepping envs and running evaluation episodes on
/// SessionThreads() threads. Throws ConfigError for unsupported choices,
/// TrainingError for numerical failure (NaN), IoError for checkpoint problems.
TrainingResult Train(const TrainingRequest& request);

}  // namespace rlpipe::algos
