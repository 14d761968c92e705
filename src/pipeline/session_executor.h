#pragma once
/// Where a session runs (DESIGN.md "ExecutionPlatform"): the runner decides *what* runs and in
/// which order and keeps the state; a SessionExecutor runs one session somewhere (in this process,
/// or as a SageMaker training job) and brings its models back into the session's folder.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"
#include "pipeline/session_training.h"
#include "pipeline/state.h"

namespace rlpipe::pipeline {

/// One session as the runner hands it to an executor.
struct SessionRun {
  const config::PipelineConfig* pipeline = nullptr;
  size_t index = 0;  ///< Position in pipeline->sessions.
  const config::ExperimentConfig* experiment = nullptr;
  uint64_t seed = 0;
  /// The model to start from, on local disk.
  std::optional<std::filesystem::path> init_checkpoint;
  /// The earlier session that produced `init_checkpoint` (unset for an explicit `checkpoint:`).
  std::optional<std::string> init_from_session;
  /// How log lines name `init_checkpoint` (the runner: relative to the output folder).
  std::string init_label;
  /// Where the transfer report (checkpoint/transfer_report.h) must be when Execute returns, if the
  /// session started from a model (OUT/<session>/transfer_report.json).
  std::filesystem::path transfer_report;
  /// The run's S3 folder (s3://bucket/prefix/run-id) when the run is mirrored to S3.
  std::optional<std::string> run_uri;
  /// Where the session's models must be when Execute returns (best_model.zip, final_model.zip,
  /// checkpoints/), and its metrics.csv / evaluations.csv.
  std::filesystem::path models_dir;
  std::filesystem::path logs_dir;
  /// Where the session's TensorBoard event files must be when Execute returns
  /// (OUT/<session>/runs; written only with monitoring.use_tensorboard).
  std::filesystem::path tensorboard_dir;
  std::FILE* console = stdout;
  /// Log lines (console + pipeline.log).
  std::function<void(const std::string&)> info;
  std::function<void(const std::string&)> warn;
  /// A remote job an earlier invocation started for this session and did not see finish
  /// (`--resume` re-attaches to it instead of starting a second one).
  std::optional<std::string> previous_job;
  /// Called with the remote job's id as soon as it exists (the runner records it in the state).
  std::function<void(const std::string&)> on_job_started;
  /// Exact resume (local runs): a periodic or interrupt checkpoint of this session to continue
  /// from, found by algos::FindResumePoint in `models_dir`.
  std::optional<std::filesystem::path> resume_checkpoint;
  /// Training progress (env steps, episodes) and each periodic or interrupt checkpoint's steps,
  /// as they happen; either may be empty.
  std::function<void(int64_t timesteps, int64_t episodes)> on_progress;
  std::function<void(int64_t timesteps)> on_checkpoint;
};

/// Runs sessions somewhere. Implementations: LocalExecutor (below) and the SageMaker platform.
class SessionExecutor {
 public:
  virtual ~SessionExecutor() = default;
  /// Runs one session to its end. Training failures come back in `error`; an interruption
  /// (StopSignal) comes back as result.interrupted once the session has stopped.
  virtual SessionTrainingOutcome Execute(const SessionRun& run) = 0;
  /// After a session's record reached its final status (completed, failed, ...).
  virtual void SessionEnded(const config::PipelineConfig& /*pipeline*/,
                            const SessionRecord& /*record*/) {}
  /// After the last session of this invocation (release what is kept between sessions).
  virtual void Finish() {}
  /// True when sessions exchange models through S3 (the run must be mirrored).
  virtual bool NeedsS3() const { return false; }
  /// True when a session cut short continues from a checkpoint in the local output folder
  /// (SessionRun::resume_checkpoint); remote platforms resume inside their own jobs.
  virtual bool ResumesFromLocalCheckpoints() const { return true; }
};

/// Trains in this process (TrainSession), stopping on SIGINT/SIGTERM.
class LocalExecutor : public SessionExecutor {
 public:
  SessionTrainingOutcome Execute(const SessionRun& run) override;
};

}  // namespace rlpipe::pipeline
