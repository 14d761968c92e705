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

#include "algos/train.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "core/seed.h"
#include "envs/env.h"
#include "envs/registry.h"
#include "metrics/sinks.h"
#include "pipeline/post_pipeline.h"
#include "pipeline/report.h"
#include "pipeline/run_mirror.h"
#include "pipeline/session_training.h"
#include "pipeline/state.h"
#include "pipeline/stop_signal.h"
#include "storage/storage_error.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

namespace {

constexpr char kStateFile[] = "pipeline_state.json";
constexpr char kLogFile[] = "pipeline.log";
constexpr char kLockFile[] = ".rlpipe.lock";
// Seconds between progress writes of the state file while a session trains.
constexpr double kProgressSaveInterval_s = 1.0;

/// Lines to the console and to pipeline.log (and a session's own log while it runs).
class RunLog {
 public:
  RunLog(std::FILE* console, const fs::path& file) : console_(console), file_(file, std::ios::app) {
    if (!file_) throw IoError("cannot open log file " + file.string());
  }
  void Info(const std::string& message) { Write("INFO", message); }
  void Warn(const std::string& message) { Write("WARN", message); }
  void Error(const std::string& message) { Write("ERROR", message); }
  /// Mirrors every line into a session log too (empty path: stop mirroring).
  void SetSessionLog(const fs::path& path) {
    session_.close();
    if (!path.empty()) session_.open(path, std::ios::app);
  }

 private:
  void Write(const char* level, const std::string& message) {
    const std::string line = NowIso8601() + " " + level + " " + message + "\n";
    const std::string shown =
        (std::string(level) == "INFO" ? message : std::string(level) + ": " + message) + "\n";
    std::fputs(shown.c_str(), console_);
    std::fflush(console_);
    file_ << line << std::flush;
    if (session_.is_open()) session_ << line << std::flush;
  }
  std::FILE* console_;
  std::ofstream file_;
  std::ofstream session_;
};

/// Paths in the state file are relative to the output folder when inside it, so the folder can
/// be moved; anything else stays absolute.
std::string StorePath(const fs::path& output_dir, const fs::path& path) {
  const fs::path rel = path.lexically_relative(output_dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return path.string();
}

fs::path LoadPath(const fs::path& output_dir, const std::string& stored) {
  const fs::path p(stored);
  return p.is_absolute() ? p : output_dir / p;
}

/// Replaces `target` with `staging` (a folder) so that a reader never sees a mix: the old folder
/// is moved aside first and removed only after the new one is in place.
void PromoteFolder(const fs::path& staging, const fs::path& target) {
  const fs::path old = target.string() + ".old";
  fs::remove_all(old);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(staging, target);
  fs::remove_all(old);
}

/// Removes what an attempt cut short left behind after the checkpoint a resume continues from:
/// temp files of interrupted atomic writes and checkpoints of more steps (half-written ones).
void DiscardAfter(const fs::path& checkpoints_dir, int64_t timesteps) {
  static const std::regex kName(R"(rl_model_(\d+)_steps\.zip)");
  for (const fs::directory_entry& entry : fs::directory_iterator(checkpoints_dir)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    const bool temp = name.starts_with(".") && name.find(".tmp.") != std::string::npos;
    const bool newer = std::regex_match(name, match, kName) && std::stoll(match[1]) > timesteps;
    if (temp || newer) fs::remove(entry.path());
  }
}

/// Everything one invocation of `rlpipe run` works with.
class Runner {
 public:
  Runner(const RunOptions& options, ResolvedPipeline resolved, std::FILE* out)
      : options_(options),
        resolved_(std::move(resolved)),
        report_settings_(MakeReportSettings(resolved_.pipeline, resolved_.sessions)),
        out_(out),
        executor_(options.executor ? options.executor : std::make_shared<LocalExecutor>()) {}

  int Run();

 private:
  const config::PipelineConfig& pipeline() const { return resolved_.pipeline; }
  size_t StartIndex() const;
  void PrepareState();
  /// The model session `index` starts from; `from_session` names the session that produced it.
  std::optional<fs::path> ChooseInitCheckpoint(size_t index, std::string* from_session = nullptr);
  /// Runs one session; returns the signal number when interrupted, else 0.
  int RunSession(size_t index);
  /// Writes the state file, then mirrors it to S3.
  void Save();
  /// Writes the local state file only (progress while a session runs), at most once per
  /// `min_interval_s` unless 0.
  void SaveProgress(double min_interval_s);
  /// Writes the reports monitoring asks for (after every session and at the end) and mirrors
  /// them to S3 under reports/.
  void WriteReport();
  void PutReports();

  /// With S3 on: picks the run id, opens the mirror, and on a fresh machine downloads the state.
  void SetUpMirror();
  /// Uploads what an earlier invocation left pending, and completed sessions' models that are
  /// local but not complete in S3.
  void SyncPending();
  /// Uploads a completed session's models folder (failure: recorded as pending).
  void UploadSessionModels(const std::string& session, const fs::path& models_dir);
  /// Downloads a completed session's models from S3 into its models folder; false when S3 has
  /// no complete checkpoint set for it.
  bool FetchSessionModels(const std::string& session);
  /// Runs `put`; on a storage failure remembers the error, marks `entry` (and the state) pending
  /// and stops every later upload of this invocation. Returns false when it did not upload.
  bool Upload(const std::string& entry, const std::function<void()>& put);
  void AddPending(const std::string& entry);
  /// The command that continues this run.
  std::string ResumeCommand() const;

  RunOptions options_;
  ResolvedPipeline resolved_;
  ReportSettings report_settings_;
  std::FILE* out_;
  fs::path output_dir_;
  PipelineState state_;
  std::unique_ptr<RunLog> log_;
  bool any_failed_ = false;
  std::shared_ptr<SessionExecutor> executor_;  // where sessions run
  std::unique_ptr<RunMirror> mirror_;          // set when the run is mirrored to S3
  std::optional<std::string> upload_error_;    // the first upload that failed, if any
  /// Sessions an earlier invocation left running (kill -9) or interrupted, which --resume
  /// continues from their latest checkpoint: steps reached before the interruption and the
  /// steps lost by earlier resumes.
  struct CutShort {
    int64_t timesteps = 0;
    int64_t steps_lost = 0;
  };
  std::map<std::string, CutShort> cut_short_;
  std::chrono::steady_clock::time_point last_progress_save_{};
};

size_t Runner::StartIndex() const {
  if (!options_.start_from) return 0;
  for (size_t i = 0; i < pipeline().sessions.size(); ++i) {
    if (pipeline().sessions[i].name == *options_.start_from) return i;
  }
  std::string valid;
  for (const auto& s : pipeline().sessions) valid += (valid.empty() ? "" : ", ") + s.name;
  throw ConfigError("--start-from: no session named '" + *options_.start_from + "' in " +
                    pipeline().file.string() + " (valid: " + valid + ")");
}

void Runner::PrepareState() {
  const fs::path state_path = output_dir_ / kStateFile;
  const bool have_state = fs::exists(state_path);

  // Two runs are never mixed silently in one folder.
  if (have_state && !options_.resume && !options_.start_from) {
    throw ConfigError(output_dir_.string() + " already holds a pipeline state (" +
                      state_path.string() + "); use --resume to continue it, --start-from NAME " +
                      "to re-run from a session, or another --output-dir");
  }
  if (have_state) {
    PipelineState old = LoadState(state_path);
    if (old.pipeline_name != pipeline().name && !options_.force) {
      throw ConfigError(state_path.string() + " belongs to pipeline '" + old.pipeline_name +
                        "', not '" + pipeline().name + "'; use another --output-dir (or --force)");
    }
    state_.started_at = old.started_at;
    state_.sessions_completed = old.sessions_completed;
    state_.checkpoints = old.checkpoints;
    state_.pending_uploads = old.pending_uploads;
    if (!state_.run_id) {
      state_.run_id = old.run_id;
      state_.run_uri = old.run_uri;
    }
    // Keep each session's record (by name) for sessions still in the pipeline.
    for (auto& record : state_.sessions) {
      if (const SessionRecord* previous = old.Find(record.name)) record = *previous;
    }
  }

  const size_t start = StartIndex();
  std::vector<std::string> changed;
  for (size_t i = 0; i < pipeline().sessions.size(); ++i) {
    SessionRecord& record = state_.sessions[i];
    const std::string fingerprint = Fingerprint(resolved_.sessions[i].resolved.ToYaml());
    if (i >= start && (options_.start_from || record.status != SessionStatus::kCompleted)) {
      // A session cut short under the same config continues from its latest checkpoint.
      const bool cut_short =
          record.status == SessionStatus::kRunning || record.status == SessionStatus::kInterrupted;
      if (options_.resume && !options_.start_from && cut_short &&
          executor_->ResumesFromLocalCheckpoints() && record.config_fingerprint == fingerprint) {
        cut_short_[record.name] = {record.timesteps, record.steps_lost};
      }
      // Sessions that will run again start from a clean record (attempts are kept).
      const int attempts = record.attempts;
      // A remote job still recorded as running is re-attached to, not started twice.
      const std::optional<std::string> running_job =
          record.status == SessionStatus::kRunning ? record.job : std::nullopt;
      record = SessionRecord{};
      record.job = running_job;
      record.name = pipeline().sessions[i].name;
      record.attempts = attempts;
      record.config_fingerprint = fingerprint;
      std::erase(state_.sessions_completed, record.name);
      state_.checkpoints.erase(record.name);
      continue;
    }
    if (record.status == SessionStatus::kCompleted && record.config_fingerprint != fingerprint) {
      changed.push_back(record.name);
    }
  }
  // A completed session whose config changed would hand a stale model on.
  if (!changed.empty()) {
    std::string names;
    for (const auto& n : changed) names += (names.empty() ? "" : ", ") + n;
    if (!options_.force) {
      throw ConfigError("the resolved config of completed session(s) " + names +
                        " changed since they ran; re-run them with --start-from, or pass --force "
                        "to resume anyway");
    }
    log_->Warn("config of completed session(s) " + names + " changed since they ran (--force)");
  }

  // --start-from a session that wants the previous model needs one to exist.
  if (options_.start_from) {
    const auto& spec = pipeline().sessions[start];
    if (!spec.checkpoint && spec.use_previous_checkpoint && start > 0 &&
        !ChooseInitCheckpoint(start)) {
      throw ConfigError("session '" + spec.name +
                        "' has use_previous_checkpoint: true but no earlier session has a "
                        "completed model in " +
                        output_dir_.string() +
                        "; run the earlier sessions first or set its `checkpoint:`");
    }
  }
  if (state_.started_at.empty()) state_.started_at = NowIso8601();
  state_.current_session.reset();
}

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
             experiment.environment.name + ", " + config::ToString(experiment.agent.algorithm) +
             ", " + std::to_string(experiment.training.total_timesteps) + " steps, seed " +
             std::to_string(seed) + ")" + (init ? " from " + init->string() : ""));
  WriteFileAtomic(session_dir / "training_config.yaml", experiment.resolved.ToYaml());

  // Train into a staging folder: a failed attempt never replaces the last good models. A resumed
  // attempt keeps the folder (its checkpoints and best model) up to the resume point.
  if (resume) {
    DiscardAfter(staging_dir / "checkpoints", resume->timesteps);
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

void Runner::WriteReport() {
  const std::vector<fs::path> written = WriteReports(output_dir_, state_, report_settings_);
  if (mirror_ && !written.empty()) Upload(kReportObject, [&] { PutReports(); });
}

void Runner::PutReports() {
  // Both report files under reports/; the pending word for the pair is kReportObject.
  for (const char* name : {kReportJsonFile, kReportHtmlFile}) {
    if (fs::exists(output_dir_ / name)) {
      mirror_->PutFile(std::string("reports/") + name, output_dir_ / name);
    }
  }
}

void Runner::SaveProgress(double min_interval_s) {
  const auto now = std::chrono::steady_clock::now();
  if (min_interval_s > 0.0 &&
      std::chrono::duration<double>(now - last_progress_save_).count() < min_interval_s) {
    return;
  }
  last_progress_save_ = now;
  SaveState(output_dir_ / kStateFile, state_);
}

void Runner::Save() {
  const fs::path path = output_dir_ / kStateFile;
  SaveState(path, state_);
  if (!mirror_ || upload_error_) return;
  // A failed state upload is recorded in the local state (which then differs from S3's).
  if (!Upload(kStateObject, [&] { mirror_->PutFile(kStateObject, path); })) SaveState(path, state_);
}

void Runner::AddPending(const std::string& entry) {
  if (std::find(state_.pending_uploads.begin(), state_.pending_uploads.end(), entry) ==
      state_.pending_uploads.end()) {
    state_.pending_uploads.push_back(entry);
  }
}

bool Runner::Upload(const std::string& entry, const std::function<void()>& put) {
  if (!upload_error_) {
    try {
      put();
      std::erase(state_.pending_uploads, entry);
      return true;
    } catch (const StorageError& e) {
      upload_error_ = e.what();
      log_->Error("upload to S3 failed: " + *upload_error_ +
                  "; the local copy is kept and later uploads are skipped");
    }
  }
  // Everything after the first failure waits for --resume, the state included.
  AddPending(entry);
  AddPending(kStateObject);
  return false;
}

void Runner::UploadSessionModels(const std::string& session, const fs::path& models_dir) {
  if (!mirror_) return;
  const fs::path runs_dir = models_dir.parent_path() / "runs";
  if (Upload(CheckpointsEntry(session),
             [&] { mirror_->PutSessionModels(session, models_dir, runs_dir); })) {
    log_->Info("session '" + session + "': models uploaded to " +
               mirror_->Uri(CheckpointsEntry(session)));
  }
}

bool Runner::FetchSessionModels(const std::string& session) {
  if (!mirror_->HasSessionModels(session)) {
    log_->Warn("session '" + session + "': no complete checkpoint set in " +
               mirror_->Uri(CheckpointsEntry(session)));
    return false;
  }
  mirror_->GetSessionModels(session, output_dir_ / session / "models",
                            output_dir_ / session / "runs");
  log_->Info("session '" + session + "': models downloaded from " +
             mirror_->Uri(CheckpointsEntry(session)));
  return true;
}

void Runner::SetUpMirror() {
  if (!options_.use_s3 && !pipeline().aws.use_s3 && !executor_->NeedsS3()) {
    if (options_.run_id) {
      throw ConfigError("--run-id names a run in S3: it needs --use-s3 (or aws.use_s3: true)");
    }
    return;
  }
  const S3Location location =
      ResolveS3Location(pipeline().aws, options_.s3_bucket, options_.s3_prefix);
  const fs::path state_path = output_dir_ / kStateFile;
  const std::optional<std::string> local_run_id =
      fs::exists(state_path) ? LoadState(state_path).run_id : std::nullopt;

  // The run id: the flag, else the one the local state records, else a new one.
  std::string run_id;
  if (options_.run_id) {
    ValidateRunId(*options_.run_id);
    if (local_run_id && *local_run_id != *options_.run_id) {
      throw ConfigError(output_dir_.string() + " holds run '" + *local_run_id + "', not '" +
                        *options_.run_id + "'; drop --run-id or use another --output-dir");
    }
    run_id = *options_.run_id;
  } else {
    run_id = local_run_id ? *local_run_id : GenerateRunId(pipeline().name);
  }
  const std::string prefix_uri = PrefixUri(location);
  mirror_ = std::make_unique<RunMirror>(
      OpenCheckpointStore(prefix_uri, MirrorStorageOptions(location)), JoinUri(prefix_uri, run_id));
  state_.run_id = run_id;
  state_.run_uri = mirror_->run_uri();

  // No local state: a new run must not reuse an id; a resumed one takes the state from S3.
  if (!fs::exists(state_path) && mirror_->HasState()) {
    if (!options_.resume && !options_.start_from) {
      throw ConfigError("run '" + run_id + "' already exists at " + mirror_->run_uri() +
                        "; continue it with --resume, or choose another --run-id");
    }
    mirror_->GetState(state_path);
    log_->Info("downloaded the state of run '" + run_id + "' from " + mirror_->Uri(kStateObject));
  }
  log_->Info("run id: " + run_id + " (state, checkpoints and reports in " + mirror_->run_uri() +
             ")");
}

void Runner::SyncPending() {
  if (!mirror_) return;
  // Completed sessions listed as pending, or whose models are here but not complete in S3 (a run
  // without --use-s3, or a kill during an upload).
  for (const auto& record : state_.sessions) {
    const std::string entry = CheckpointsEntry(record.name);
    const fs::path models_dir = output_dir_ / record.name / "models";
    const bool pending = std::find(state_.pending_uploads.begin(), state_.pending_uploads.end(),
                                   entry) != state_.pending_uploads.end();
    if (record.status != SessionStatus::kCompleted || !fs::exists(models_dir)) {
      if (pending) log_->Warn("cannot upload " + entry + ": " + models_dir.string() + " is gone");
      std::erase(state_.pending_uploads, entry);
      continue;
    }
    Upload(entry, [&] {
      if (!pending && mirror_->HasSessionModels(record.name)) return;
      log_->Info("uploading the models of session '" + record.name + "' (not in S3 yet)");
      mirror_->PutSessionModels(record.name, models_dir, models_dir.parent_path() / "runs");
    });
  }

  // The reports of the earlier invocation; the state goes up with the next Save().
  if (std::find(state_.pending_uploads.begin(), state_.pending_uploads.end(), kReportObject) !=
      state_.pending_uploads.end()) {
    Upload(kReportObject, [&] { PutReports(); });
  }
  if (!upload_error_) std::erase(state_.pending_uploads, kStateObject);
}

std::string Runner::ResumeCommand() const {
  std::string command = "rlpipe run --config " + pipeline().file.string() + " --output-dir " +
                        output_dir_.string() + " --resume";
  if (mirror_) {
    command += " --use-s3 --run-id " + *state_.run_id;
    if (!options_.s3_bucket.empty()) command += " --s3-bucket " + options_.s3_bucket;
    if (!options_.s3_prefix.empty()) command += " --s3-prefix " + options_.s3_prefix;
  }
  return command;
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

}  // namespace

int RunPipeline(const RunOptions& options, std::FILE* out) {
  Runner runner(options, ResolvePipeline(options.config_file), out);
  return runner.Run();
}

}  // namespace rlpipe::pipeline
