// The S3 mirror of a run: the run id, uploads that can fail and wait for --resume, the reports.
#include <algorithm>

#include "core/error.h"
#include "pipeline/output_folder.h"
#include "pipeline/runner_impl.h"
#include "storage/storage_error.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

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

}  // namespace rlpipe::pipeline
