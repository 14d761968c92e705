#include "pipeline/session_training.h"

#include <chrono>
#include <memory>

#include "core/files.h"
#include "metrics/sinks.h"
#include "metrics/tensorboard.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

namespace {

/// The metrics.csv row for one progress event: counters, speed, the collect/update split of the
/// wall time, then every loss the algorithm reports and every task statistic (`task/<key>`).
metrics::Row ProgressRow(const algos::ProgressEvent& e) {
  const double elapsed = e.elapsed_seconds > 0.0 ? e.elapsed_seconds : 1.0;
  metrics::Row row = {
      {"timesteps", static_cast<double>(e.timesteps)},
      {"episodes", static_cast<double>(e.episodes)},
      {"elapsed_s", e.elapsed_seconds},
      {"steps_per_s", e.steps_per_second},
      {"mean_episode_return", e.mean_episode_return},
      {"mean_episode_length", e.mean_episode_length},
      {"collect_s", e.collect_seconds},
      {"update_s", e.update_seconds},
      {"collect_share", e.collect_seconds / elapsed},
      {"update_share", e.update_seconds / elapsed},
  };
  for (const auto& [name, value] : e.losses) row.emplace_back(name, value);
  for (const auto& [key, value] : e.task_stats) row.emplace_back("task/" + key, value);
  return row;
}

/// TensorBoard scalars of a progress event, under Stable-Baselines3's tag names.
std::vector<std::pair<std::string, double>> ProgressScalars(const algos::ProgressEvent& e) {
  std::vector<std::pair<std::string, double>> scalars;
  if (e.mean_episode_return) scalars.emplace_back("rollout/ep_rew_mean", *e.mean_episode_return);
  if (e.mean_episode_length) scalars.emplace_back("rollout/ep_len_mean", *e.mean_episode_length);
  scalars.emplace_back("time/fps", e.steps_per_second);
  scalars.emplace_back("time/time_elapsed", e.elapsed_seconds);
  scalars.emplace_back("time/episodes", static_cast<double>(e.episodes));
  for (const auto& [name, value] : e.losses) scalars.emplace_back(name, value);
  for (const auto& [key, value] : e.task_stats) scalars.emplace_back("task/" + key, value);
  return scalars;
}

}  // namespace

std::string FormatReturn(const std::optional<double>& value) {
  if (!value) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", *value);
  return buf;
}

SessionTrainingOutcome TrainSession(const SessionTrainingRequest& request) {
  const std::string& name = request.session_name;
  fs::create_directories(request.logs_dir);
  fs::create_directories(request.models_dir);

  // Metrics sinks fed from the algorithm's typed events, opened when training says where it
  // starts: a resumed session keeps its rows up to the checkpoint and marks the restart for
  // TensorBoard, so its curves continue without a split or a duplicate.
  std::optional<metrics::CsvSink> progress_csv;
  std::optional<metrics::CsvSink> eval_csv;
  std::unique_ptr<metrics::TensorBoardWriter> tensorboard;
  std::optional<double> best_eval;
  metrics::ConsoleProgress progress(name, request.console);
  const auto open_sinks = [&](int64_t start_timesteps) {
    if (progress_csv) return;
    const std::optional<int64_t> keep =
        start_timesteps > 0 ? std::optional(start_timesteps) : std::nullopt;
    progress_csv.emplace(request.logs_dir / "metrics.csv", keep);
    eval_csv.emplace(request.logs_dir / "evaluations.csv", keep);
    if (request.experiment.monitoring.use_tensorboard && !request.tensorboard_dir.empty()) {
      if (start_timesteps == 0) fs::remove_all(request.tensorboard_dir);
      tensorboard = std::make_unique<metrics::TensorBoardWriter>(request.tensorboard_dir);
      if (start_timesteps > 0) tensorboard->WriteRestart(start_timesteps);
    }
  };
  algos::TrainingRequest train;
  train.config = request.experiment;
  if (request.keep_all_checkpoints) train.config.training.keep_checkpoints = 0;
  train.seed = request.seed;
  train.init_checkpoint = request.init_checkpoint;
  train.transfer = request.transfer;
  train.resume_checkpoint = request.resume_checkpoint;
  train.models_dir = request.models_dir;
  train.checkpoints_dir = request.checkpoints_dir;
  train.hooks.on_start = open_sinks;
  // A resumed attempt repeats some events at its checkpoint's step (an on-policy rollout's
  // progress comes after the checkpoint taken during it); the earlier attempt's row stays.
  train.hooks.on_progress = [&](const algos::ProgressEvent& e) {
    open_sinks(0);
    progress.Update(e.timesteps, e.total_timesteps, e.steps_per_second, e.mean_episode_return,
                    e.elapsed_seconds, e.collect_seconds, e.update_seconds, best_eval);
    if (!progress_csv->kept_steps().contains(e.timesteps)) {
      progress_csv->Write(ProgressRow(e));
      if (tensorboard) tensorboard->WriteScalars(e.timesteps, ProgressScalars(e));
    }
    if (request.on_progress) request.on_progress(e);
  };
  train.hooks.on_eval = [&](const algos::EvalEvent& e) {
    open_sinks(0);
    if (!best_eval || e.mean_return > *best_eval) best_eval = e.mean_return;
    if (!eval_csv->kept_steps().contains(e.timesteps)) {
      eval_csv->Write({{"timesteps", static_cast<double>(e.timesteps)},
                       {"mean_return", e.mean_return},
                       {"std_return", e.std_return},
                       {"mean_length", e.mean_length},
                       {"new_best", e.new_best ? 1.0 : 0.0}});
      if (tensorboard) {
        tensorboard->WriteScalars(e.timesteps, {{"eval/mean_reward", e.mean_return},
                                                {"eval/std_reward", e.std_return},
                                                {"eval/mean_ep_length", e.mean_length}});
      }
    }
    progress.Finish("[" + name + "] eval at " + std::to_string(e.timesteps) +
                    " steps: mean return " + FormatReturn(e.mean_return) +
                    (e.new_best ? " (new best)" : ""));
    if (request.on_eval) request.on_eval(e);
  };
  train.hooks.stop_requested = request.stop_requested;
  train.hooks.on_message = request.on_message;
  train.hooks.on_checkpoint = request.on_checkpoint;
  // A transfer leaves its per-tensor report beside the session's outputs and one summary line.
  train.hooks.on_transfer = [&](const checkpoint::TransferReport& report) {
    if (!request.transfer_report.empty()) WriteFileAtomic(request.transfer_report, report.ToJson());
    if (request.on_message) {
      request.on_message(report.SummaryLine(
          request.init_label.empty() ? request.init_checkpoint->string() : request.init_label));
    }
  };

  // Train; an exception is the session's failure, not the caller's.
  SessionTrainingOutcome outcome;
  const auto start = std::chrono::steady_clock::now();
  try {
    outcome.result = algos::Train(train);
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  outcome.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.Finish("");
  return outcome;
}

std::vector<std::string> UnmetCriteria(const config::SuccessCriteria& criteria,
                                       const algos::TrainingResult& result) {
  // Best mean eval return, then training episodes.
  std::vector<std::string> unmet;
  if (criteria.min_reward) {
    if (!result.best_mean_return) {
      unmet.push_back("min_reward " + FormatReturn(criteria.min_reward) +
                      " set but no evaluation ran");
    } else if (*result.best_mean_return < *criteria.min_reward) {
      unmet.push_back("best mean eval return " + FormatReturn(result.best_mean_return) +
                      " < min_reward " + FormatReturn(criteria.min_reward));
    }
  }
  if (criteria.min_episodes && result.episodes < *criteria.min_episodes) {
    unmet.push_back("episodes " + std::to_string(result.episodes) + " < min_episodes " +
                    std::to_string(*criteria.min_episodes));
  }
  return unmet;
}

}  // namespace rlpipe::pipeline
