#include "pipeline/runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>

#include "algos/replay_segments.h"
#include "algos/train.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "core/seed.h"
#include "envs/env.h"
#include "envs/registry.h"
#include "metrics/sinks.h"
#include "pipeline/output_folder.h"
#include "pipeline/post_pipeline.h"
#include "pipeline/report.h"
#include "pipeline/run_mirror.h"
#include "pipeline/runner_impl.h"
#include "pipeline/session_training.h"
#include "pipeline/state.h"
#include "pipeline/stop_signal.h"
#include "storage/storage_error.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

std::optional<fs::path> Runner::ChooseInitCheckpoint(size_t index, std::string* from_session) {
  const config::SessionSpec& spec = pipeline().sessions[index];
  if (spec.checkpoint) return *spec.checkpoint;
  if (!spec.use_previous_checkpoint) return std::nullopt;
  // The nearest earlier session (in file order) with a completed model: the previous one, or the
  // last good one when it failed.
  for (size_t j = index; j-- > 0;) {
    const std::string& name = pipeline().sessions[j].name;
    const SessionRecord* record = state_.Find(name);
    auto it = state_.checkpoints.find(name);
    if (record && record->status == SessionStatus::kCompleted && it != state_.checkpoints.end()) {
      const fs::path path = LoadPath(output_dir_, it->second);
      if (from_session) *from_session = name;
      if (fs::exists(path)) return path;
      // A fresh machine: the model is in S3 only.
      if (mirror_ && FetchSessionModels(name) && fs::exists(path)) return path;
      if (log_) log_->Warn("checkpoint of session '" + name + "' is missing: " + path.string());
    }
  }
  return std::nullopt;
}

int Runner::RunSession(size_t index) {
  const config::SessionSpec& spec = pipeline().sessions[index];
  const config::ExperimentConfig& experiment = resolved_.sessions[index];
  SessionRecord& record = *state_.Find(spec.name);
  const fs::path session_dir = output_dir_ / spec.name;
  const fs::path models_dir = session_dir / "models";
  const fs::path staging_dir = session_dir / "models.partial";
  const fs::path logs_dir = session_dir / "logs";
  fs::create_directories(logs_dir);
  log_->SetSessionLog(logs_dir / "training.log");

  // Which model this session starts from.
  std::string init_session;
  const std::optional<fs::path> init = ChooseInitCheckpoint(index, &init_session);
  if (spec.use_previous_checkpoint && !spec.checkpoint && !init && index > 0) {
    log_->Warn("session '" + spec.name +
               "': no earlier session has a completed model; training from scratch");
  }

  // A remote job an earlier invocation left running (it died without seeing the end).
  const std::optional<std::string> previous_job = record.job;
  record.job.reset();

  const uint64_t seed = experiment.training.seed ? static_cast<uint64_t>(*experiment.training.seed)
                                                 : DeriveSeed(state_.seed, spec.name);

  // A session cut short continues from the newest complete checkpoint of its seed; the steps
  // trained after that checkpoint are lost (and recorded).
  std::optional<algos::ResumePoint> resume;
  if (auto it = cut_short_.find(spec.name); it != cut_short_.end()) {
    resume = algos::FindResumePoint(staging_dir);
    if (resume && resume->seed != seed) {
      log_->Warn("session '" + spec.name + "': checkpoint " + resume->path.string() +
                 " was trained with seed " + std::to_string(resume->seed) + ", not " +
                 std::to_string(seed) + "; starting over");
      resume.reset();
    }
    const int64_t from = resume ? resume->timesteps : 0;
    record.steps_lost = it->second.steps_lost + std::max<int64_t>(0, it->second.timesteps - from);
    if (resume) {
      record.resumed_from = StorePath(output_dir_, resume->path);
      record.resumed_from_timesteps = resume->timesteps;
      log_->Info("session '" + spec.name + "': resuming from " + resume->path.string() + " at " +
                 std::to_string(resume->timesteps) + " steps (" +
                 std::to_string(std::max<int64_t>(0, it->second.timesteps - from)) +
                 " steps lost)");
    } else {
      log_->Warn("session '" + spec.name +
                 "': no complete checkpoint to resume from; starting over (" +
                 std::to_string(it->second.timesteps) + " steps lost)");
    }
    cut_short_.erase(it);
  }

  // Record the start before anything can fail, so a crash leaves "running" behind.
  record.status = SessionStatus::kRunning;
  record.attempts += 1;
  record.started_at = NowIso8601();
  record.finished_at.reset();
  record.error.reset();
  record.init_checkpoint = init ? std::optional(StorePath(output_dir_, *init)) : std::nullopt;
  record.timesteps = resume ? resume->timesteps : 0;
  state_.current_session = spec.name;
  Save();

  log_->Info("=== session " + std::to_string(index + 1) + "/" +
             std::to_string(pipeline().sessions.size()) + ": " + spec.name + " (" +
             experiment.environment.name + ", " + config::ToString(experiment.agent.algorithm()) +
             ", " + std::to_string(experiment.training.total_timesteps) + " steps, seed " +
             std::to_string(seed) + ")" + (init ? " from " + init->string() : ""));
  WriteFileAtomic(session_dir / "training_config.yaml", experiment.resolved.ToYaml());

  // Train into a staging folder: a failed attempt never replaces the last good models. A resumed
  // attempt keeps the folder (its checkpoints and best model) up to the resume point.
  if (resume) {
    DiscardAfter(staging_dir / "checkpoints", resume->timesteps);
    // Replay segments only the discarded checkpoints named (or none, after a kill -9) go too.
    algos::PruneReplaySegments(staging_dir / "checkpoints");
  } else {
    fs::remove_all(staging_dir);
  }
  fs::create_directories(staging_dir);
  SessionRun run;
  run.pipeline = &pipeline();
  run.index = index;
  run.experiment = &experiment;
  run.seed = seed;
  run.init_checkpoint = init;
  if (init && !init_session.empty()) run.init_from_session = init_session;
  if (init) run.init_label = StorePath(output_dir_, *init);
  // The transfer report describes how the session began: a resumed attempt keeps the first one's.
  run.transfer_report = session_dir / "transfer_report.json";
  if (!resume) fs::remove(run.transfer_report);
  run.run_uri = mirror_ ? std::optional(mirror_->run_uri()) : std::nullopt;
  run.models_dir = staging_dir;
  run.logs_dir = logs_dir;
  run.tensorboard_dir = session_dir / "runs";
  run.console = out_;
  run.info = [&](const std::string& m) { log_->Info(m); };
  run.warn = [&](const std::string& m) { log_->Warn(m); };
  run.previous_job = previous_job;
  if (resume) run.resume_checkpoint = resume->path;
  // Progress reaches the state file periodically, so a kill -9 knows how many steps it cost.
  run.on_progress = [&](int64_t timesteps, int64_t episodes) {
    record.timesteps = std::max(record.timesteps, timesteps);
    record.episodes = episodes;
    SaveProgress(kProgressSaveInterval_s);
  };
  run.on_checkpoint = [&](int64_t timesteps) {
    record.timesteps = std::max(record.timesteps, timesteps);
    SaveProgress(0.0);
  };
  run.on_job_started = [&](const std::string& job) {
    record.job = job;
    Save();
  };
  SessionTrainingOutcome outcome = executor_->Execute(run);
  const algos::TrainingResult& result = outcome.result;
  const std::optional<std::string>& error = outcome.error;
  record.duration_seconds = outcome.duration_seconds;
  record.finished_at = NowIso8601();
  state_.current_session.reset();

  // Failure: recorded with its error; the staging folder is kept for inspection.
  if (error) {
    record.status = SessionStatus::kFailed;
    record.error = *error;
    any_failed_ = true;
    log_->Error("session '" + spec.name + "' failed: " + *error);
    Save();
    log_->SetSessionLog({});
    return 0;
  }
  record.timesteps = result.timesteps;
  record.episodes = result.episodes;
  record.best_mean_return = result.best_mean_return;
  record.final_mean_return = result.final_mean_return;
  record.stop_reason = result.stop_reason;
  record.task_stats.clear();
  for (const auto& [key, stat] : result.task_stats) record.task_stats[key] = {stat.mean, stat.max};

  // Interrupted: the algorithm saved a checkpoint; the state says so.
  if (result.interrupted) {
    const int signal_number = StopSignal() != 0 ? StopSignal() : SIGINT;
    record.status = SessionStatus::kInterrupted;
    record.error = std::string("interrupted by ") +
                   (signal_number == SIGTERM ? "SIGTERM" : "SIGINT") + " at " +
                   std::to_string(result.timesteps) + " steps" +
                   (result.interrupt_checkpoint
                        ? "; checkpoint " + StorePath(output_dir_, *result.interrupt_checkpoint)
                        : "");
    log_->Warn("session '" + spec.name + "' " + *record.error);
    Save();
    log_->SetSessionLog({});
    return signal_number;
  }

  // Success criteria: best mean eval return and training episodes.
  const std::vector<std::string> unmet = UnmetCriteria(spec.success_criteria, result);
  if (!unmet.empty()) {
    record.status = SessionStatus::kFailedCriteria;
    std::string why;
    for (const auto& u : unmet) why += (why.empty() ? "" : "; ") + u;
    record.error = "success criteria not met: " + why;
    any_failed_ = true;
    log_->Error("session '" + spec.name + "' " + *record.error + " (models kept in " +
                staging_dir.string() + ")");
    Save();
    log_->SetSessionLog({});
    return 0;
  }

  // Completed: promote the models and hand the best one (final if none) to the next session.
  PromoteFolder(staging_dir, models_dir);
  const fs::path best = models_dir / "best_model.zip";
  const fs::path handed = fs::exists(best) ? best : models_dir / "final_model.zip";
  record.status = SessionStatus::kCompleted;
  record.checkpoint = StorePath(output_dir_, handed);
  state_.checkpoints[spec.name] = *record.checkpoint;
  std::erase(state_.sessions_completed, spec.name);
  state_.sessions_completed.push_back(spec.name);
  // The models reach S3 before a state that calls the session completed.
  UploadSessionModels(spec.name, models_dir);
  Save();
  log_->Info("session '" + spec.name + "' completed in " +
             metrics::FormatDuration(record.duration_seconds) + ": best mean eval return " +
             FormatReturn(result.best_mean_return) + ", final " +
             FormatReturn(result.final_mean_return) + ", model " + handed.string());
  // Post-session work (session videos); its failure never fails the session.
  if (options_.on_session_completed) {
    try {
      const std::string line =
          options_.on_session_completed({spec.name, &experiment, seed, session_dir, models_dir});
      if (!line.empty()) log_->Info(line);
    } catch (const std::exception& e) {
      log_->Warn("session '" + spec.name + "': " + e.what());
    }
  }
  log_->SetSessionLog({});
  return 0;
}

int Runner::Run() {
  // The output folder, its lock and the log.
  output_dir_ = fs::absolute(options_.output_dir).lexically_normal();
  fs::create_directories(output_dir_);
  FileLock lock;
  if (!lock.TryLock(output_dir_ / kLockFile)) {
    throw ConfigError("another rlpipe process is running on " + output_dir_.string() + " (lock " +
                      (output_dir_ / kLockFile).string() + " is held)");
  }
  log_ = std::make_unique<RunLog>(out_, output_dir_ / kLogFile);

  // The state: fresh records for every session, then what an earlier run left.
  state_.pipeline_name = pipeline().name;
  state_.pipeline_file = pipeline().file.string();
  state_.seed = options_.seed.value_or(pipeline().seed);
  for (const auto& spec : pipeline().sessions) {
    SessionRecord record;
    record.name = spec.name;
    state_.sessions.push_back(record);
  }
  SetUpMirror();
  PrepareState();
  if (!mirror_ && state_.run_uri) {
    log_->Warn("this run was mirrored to " + *state_.run_uri +
               "; without --use-s3 nothing more reaches S3");
  }
  SyncPending();
  Save();

  for (const std::string& warning : pipeline().warnings) log_->Warn(warning);
  if (options_.verbose) {
    for (const auto& key : config::NoEffectKeys()) {
      log_->Info("has no effect: " + key + " (docs/config.md#keys-with-no-effect)");
    }
  }
  log_->Info("pipeline '" + pipeline().name + "': " + std::to_string(pipeline().sessions.size()) +
             " session(s), output " + output_dir_.string());
  // Degenerate task settings: warned, never fatal (docs/environments.md).
  for (size_t i = 0; i < pipeline().sessions.size(); ++i) {
    for (const std::string& line : envs::EnvironmentWarnings(resolved_.sessions[i].environment)) {
      log_->Warn("session '" + pipeline().sessions[i].name + "': " + line);
    }
  }

  // Sessions in order.
  InstallStopHandlers();
  int signal_number = 0;
  for (size_t i = StartIndex(); i < pipeline().sessions.size(); ++i) {
    // Nothing new starts while results are missing from S3.
    if (upload_error_) break;
    const SessionRecord* record = state_.Find(pipeline().sessions[i].name);
    if (record->status == SessionStatus::kCompleted) {
      log_->Info("skipping completed session '" + record->name + "'");
      continue;
    }
    signal_number = RunSession(i);
    executor_->SessionEnded(pipeline(), *state_.Find(pipeline().sessions[i].name));
    // The reports stay current while the pipeline runs.
    if (signal_number == 0) WriteReport();
    if (signal_number != 0) break;
    if (IsFailure(state_.Find(pipeline().sessions[i].name)->status) &&
        !pipeline().continue_on_error) {
      log_->Error("stopping: continue_on_error is false");
      break;
    }
  }

  executor_->Finish();

  // post_pipeline.evaluate_final_models: every completed session's best and final model.
  if (signal_number == 0 && !upload_error_ && pipeline().post_pipeline.evaluate_final_models) {
    std::map<std::string, config::ExperimentConfig> experiments;
    for (size_t i = 0; i < pipeline().sessions.size(); ++i) {
      experiments.emplace(pipeline().sessions[i].name, resolved_.sessions[i]);
    }
    const int evaluated = EvaluateFinalModels(output_dir_, state_, experiments,
                                              pipeline().post_pipeline.eval_episodes);
    log_->Info("post_pipeline: evaluated " + std::to_string(evaluated) + " model(s), " +
               std::to_string(pipeline().post_pipeline.eval_episodes) + " episodes each; " +
               (output_dir_ / kFinalEvaluationFile).string());
  }

  // Report, whatever happened (a report that did not reach S3 is recorded in the state).
  Save();
  WriteReport();
  if (upload_error_) Save();

  // The archive of the finished run (the results are safe in the state and reports already).
  bool archive_failed = false;
  if (signal_number == 0 && pipeline().post_pipeline.archive_results) {
    try {
      const fs::path archive =
          ArchiveRun(output_dir_, state_, pipeline().post_pipeline.archive_location);
      log_->Info("archive " + archive.string());
      if (mirror_) {
        // This archive replaces any an earlier invocation could not upload.
        std::erase_if(state_.pending_uploads,
                      [](const std::string& p) { return p.starts_with("archives/"); });
        const std::string entry = "archives/" + archive.filename().string();
        if (Upload(entry, [&] { mirror_->PutFile(entry, archive); })) {
          log_->Info("archive uploaded to " + mirror_->Uri(entry));
        }
        Save();
      }
    } catch (const IoError& e) {
      log_->Error(e.what());
      archive_failed = true;
    }
  }
  int completed = 0;
  for (const auto& r : state_.sessions) completed += r.status == SessionStatus::kCompleted;
  std::string reports;
  for (const char* name : {kReportHtmlFile, kReportJsonFile}) {
    if (report_settings_.monitoring.save_report && fs::exists(output_dir_ / name)) {
      reports += (reports.empty() ? "; report " : ", ") + (output_dir_ / name).string();
    }
  }
  log_->Info("pipeline '" + pipeline().name + "': " + std::to_string(completed) + "/" +
             std::to_string(state_.sessions.size()) + " session(s) completed" + reports);
  if (signal_number != 0) {
    log_->Info("resume with: " + ResumeCommand());
    return 128 + signal_number;
  }
  if (upload_error_) {
    std::string pending;
    for (const auto& p : state_.pending_uploads) pending += (pending.empty() ? "" : ", ") + p;
    log_->Error("not in S3 yet: " + pending + " (" + *upload_error_ + "); local results are " +
                "intact in " + output_dir_.string() +
                "; finish the upload with: " + ResumeCommand());
    return kExitUploadFailed;
  }
  return any_failed_ || archive_failed ? kExitSessionFailed : kExitOk;
}

int RunPipeline(const RunOptions& options, std::FILE* out) {
  Runner runner(options, ResolvePipeline(options.config_file), out);
  return runner.Run();
}

}  // namespace rlpipe::pipeline
