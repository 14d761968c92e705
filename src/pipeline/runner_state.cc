// The state file: prepared for --resume / --start-from, saved atomically (and mirrored).
#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/output_folder.h"
#include "pipeline/runner_impl.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

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

}  // namespace rlpipe::pipeline
