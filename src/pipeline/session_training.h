#pragma once
/// Training one session: the part of a pipeline run that is the same wherever the session runs
/// (in this process, or inside the SageMaker container). Sinks, hooks, the call into the
/// algorithm, and the success criteria.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/pipeline_config.h"

namespace rlpipe::pipeline {

/// What to train and where its outputs go.
struct SessionTrainingRequest {
  std::string session_name;
  config::ExperimentConfig experiment;
  uint64_t seed = 0;
  /// Model to start from (transfer from an earlier session), moved in per `transfer`.
  std::optional<std::filesystem::path> init_checkpoint;
  config::TransferConfig transfer;
  /// Where the transfer report JSON goes when the session starts from a model ("" = nowhere); its
  /// summary line goes to on_message either way.
  std::filesystem::path transfer_report;
  /// How the summary line names init_checkpoint ("" = its path).
  std::string init_label;
  /// A checkpoint of this same session to continue from (a spot restart).
  std::optional<std::filesystem::path> resume_checkpoint;
  /// best_model.zip, final_model.zip (and checkpoints/ unless `checkpoints_dir` is set).
  std::filesystem::path models_dir;
  /// Periodic and interrupt checkpoints; empty: models_dir/checkpoints.
  std::filesystem::path checkpoints_dir;
  /// The pipeline's save_all_checkpoints: keep every periodic checkpoint (training.keep_checkpoints
  /// is then 0 for this session).
  bool keep_all_checkpoints = false;
  /// metrics.csv and evaluations.csv.
  std::filesystem::path logs_dir;
  /// The session's TensorBoard run folder, written when monitoring.use_tensorboard is on (""
  /// = none).
  std::filesystem::path tensorboard_dir;
  /// Console progress and eval lines.
  std::FILE* console = stdout;
  /// Extra observers (called after the CSV sinks); any may be empty.
  std::function<void(const algos::ProgressEvent&)> on_progress;
  std::function<void(const algos::EvalEvent&)> on_eval;
  std::function<void(const std::string&)> on_message;
  std::function<void(const std::filesystem::path&, int64_t timesteps)> on_checkpoint;
  /// Polled between env steps; true → checkpoint and return interrupted.
  std::function<bool()> stop_requested;
};

/// How it went. `error` is set when training threw (the result is then empty).
struct SessionTrainingOutcome {
  algos::TrainingResult result;
  std::optional<std::string> error;
  double duration_seconds = 0.0;
};

/// Trains one session through algos::Train with metrics.csv / evaluations.csv / console progress.
/// Never throws for a training failure: it comes back in `error`.
SessionTrainingOutcome TrainSession(const SessionTrainingRequest& request);

/// The success criteria this result misses (empty: all met), one phrase each.
std::vector<std::string> UnmetCriteria(const config::SuccessCriteria& criteria,
                                       const algos::TrainingResult& result);

/// "-123.45", or "n/a".
std::string FormatReturn(const std::optional<double>& value);

}  // namespace rlpipe::pipeline
