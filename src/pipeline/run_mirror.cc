#include "pipeline/run_mirror.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "algos/replay_segments.h"
#include "core/error.h"
#include "storage/storage_uri.h"

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

namespace {

constexpr char kCheckpointsFolder[] = "checkpoints";
constexpr char kPeriodicPrefix[] = "rl_model_";
constexpr char kEventsPrefix[] = "events.out.tfevents.";

bool IsRunIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/// A positive integer from the environment, or `fallback` when unset.
int EnvInt(const char* name, int fallback, int min_value) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < min_value || value > 1'000'000) {
    throw ConfigError(std::string(name) + "='" + text +
                      "': expected an integer >= " + std::to_string(min_value));
  }
  return static_cast<int>(value);
}

/// Hard-links (or copies, across file systems) `from` to `to`.
void LinkOrCopy(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_hard_link(from, to, ec);
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

std::string TrimSlashes(std::string text) {
  while (!text.empty() && text.front() == '/') text.erase(text.begin());
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

S3Location ResolveS3Location(const config::AwsConfig& aws, const std::string& bucket_flag,
                             const std::string& prefix_flag) {
  S3Location location;
  location.bucket = bucket_flag.empty() ? aws.s3_bucket : bucket_flag;
  location.prefix = TrimSlashes(prefix_flag.empty() ? aws.s3_prefix : prefix_flag);
  location.region = aws.region;
  location.endpoint_url = aws.s3_endpoint_url;
  if (location.bucket.empty()) {
    throw ConfigError(
        "S3 is enabled (--use-s3 or aws.use_s3) but no bucket is set: pass "
        "--s3-bucket or set aws.s3_bucket");
  }
  return location;
}

StorageOptions MirrorStorageOptions(const S3Location& location) {
  StorageOptions options;
  options.s3.region = location.region;
  options.s3.endpoint_url = location.endpoint_url;
  options.s3.retry.max_attempts =
      EnvInt("RLPIPE_S3_MAX_ATTEMPTS", options.s3.retry.max_attempts, 1);
  options.s3.retry.base_delay = std::chrono::milliseconds(
      EnvInt("RLPIPE_S3_RETRY_BASE_MS", static_cast<int>(options.s3.retry.base_delay.count()), 0));
  return options;
}

std::string PrefixUri(const S3Location& location) {
  std::string uri = "s3://" + location.bucket;
  return location.prefix.empty() ? uri : JoinUri(uri, location.prefix);
}

void ValidateRunId(const std::string& run_id) {
  const bool ok = !run_id.empty() && run_id.size() <= 128 && run_id != "." && run_id != ".." &&
                  std::all_of(run_id.begin(), run_id.end(), IsRunIdChar);
  if (!ok) {
    throw ConfigError("--run-id '" + run_id +
                      "': expected 1-128 characters of letters, digits, '.', '_' or '-'");
  }
}

std::string GenerateRunId(const std::string& pipeline_name) {
  std::string name = pipeline_name.empty() ? std::string("run") : pipeline_name;
  for (char& c : name) {
    if (!IsRunIdChar(c)) c = '-';
  }
  if (name.size() > 100) name.resize(100);
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  return name + "-" + stamp;
}

std::string CheckpointsEntry(const std::string& session) {
  return std::string(kCheckpointsFolder) + "/" + session;
}

std::string RunMirror::Uri(const std::string& entry) const { return JoinUri(run_uri_, entry); }

void RunMirror::PutFile(const std::string& entry, const fs::path& local) {
  store_->PutFile(Uri(entry), local);
}

void RunMirror::PutSessionModels(const std::string& session, const fs::path& models_dir,
                                 const fs::path& runs_dir) {
  // A flat view of the models folder: top-level files plus checkpoints/rl_model_* side by side.
  const fs::path flat = models_dir.string() + ".upload";
  fs::remove_all(flat);
  fs::create_directories(flat);
  for (const auto& entry : fs::directory_iterator(models_dir)) {
    if (entry.is_regular_file() && entry.path().filename() != kManifestName) {
      LinkOrCopy(entry.path(), flat / entry.path().filename());
    }
  }
  if (fs::is_directory(models_dir / kCheckpointsFolder)) {
    for (const auto& entry : fs::directory_iterator(models_dir / kCheckpointsFolder)) {
      if (entry.is_regular_file()) LinkOrCopy(entry.path(), flat / entry.path().filename());
    }
  }
  if (!runs_dir.empty() && fs::is_directory(runs_dir)) {
    for (const auto& entry : fs::directory_iterator(runs_dir)) {
      if (entry.is_regular_file() && entry.path().filename().string().starts_with(kEventsPrefix)) {
        LinkOrCopy(entry.path(), flat / entry.path().filename());
      }
    }
  }

  // The old manifest goes first, the new one comes last (PutCheckpoint).
  const std::string uri = Uri(CheckpointsEntry(session));
  try {
    store_->Delete(JoinUri(uri, kManifestName));
    store_->PutCheckpoint(flat, uri);
  } catch (...) {
    fs::remove_all(flat);
    throw;
  }
  fs::remove_all(flat);
}

bool RunMirror::HasState() { return store_->Exists(Uri(kStateObject)); }

void RunMirror::GetState(const fs::path& local) { store_->GetFile(Uri(kStateObject), local); }

bool RunMirror::HasSessionModels(const std::string& session) {
  return store_->IsCompleteCheckpoint(Uri(CheckpointsEntry(session)));
}

void RunMirror::GetSessionModels(const std::string& session, const fs::path& models_dir,
                                 const fs::path& runs_dir) {
  // Download beside the target, then put periodic checkpoints and their replay segments back
  // under checkpoints/.
  const fs::path download = models_dir.string() + ".download";
  fs::remove_all(download);
  store_->GetCheckpoint(Uri(CheckpointsEntry(session)), download);
  std::vector<fs::path> periodic;
  for (const auto& entry : fs::directory_iterator(download)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(kPeriodicPrefix) || (name.starts_with(algos::kReplaySegmentPrefix) &&
                                              name.ends_with(algos::kReplaySegmentSuffix))) {
      periodic.push_back(entry.path());
    }
  }
  if (!periodic.empty()) fs::create_directories(download / kCheckpointsFolder);
  for (const auto& path : periodic) {
    fs::rename(path, download / kCheckpointsFolder / path.filename());
  }

  // TensorBoard event files replace the run folder's.
  std::vector<fs::path> events;
  for (const auto& entry : fs::directory_iterator(download)) {
    if (entry.path().filename().string().starts_with(kEventsPrefix)) events.push_back(entry.path());
  }
  if (!runs_dir.empty() && !events.empty()) {
    fs::remove_all(runs_dir);
    fs::create_directories(runs_dir);
  }
  for (const auto& path : events) {
    if (runs_dir.empty()) {
      fs::remove(path);
    } else {
      fs::rename(path, runs_dir / path.filename());
    }
  }

  // Install: the old folder is moved aside first and removed once the new one is in place.
  const fs::path old = models_dir.string() + ".old";
  fs::remove_all(old);
  if (fs::exists(models_dir)) fs::rename(models_dir, old);
  fs::rename(download, models_dir);
  fs::remove_all(old);
}

std::string RunStatus(const PipelineState& state) {
  bool any_interrupted = false;
  bool all_completed = !state.sessions.empty();
  for (const auto& record : state.sessions) {
    if (IsFailure(record.status)) return "failed";
    any_interrupted |= record.status == SessionStatus::kInterrupted;
    all_completed &= record.status == SessionStatus::kCompleted;
  }
  if (any_interrupted) return "interrupted";
  if (state.current_session) return "running";
  return all_completed ? "completed" : "incomplete";
}

std::vector<RunSummary> ListRuns(CheckpointStore& store, const std::string& prefix_uri) {
  // Run folders are the keys "<prefix>/<run-id>/pipeline_state.json".
  const std::string base = prefix_uri.ends_with('/') ? prefix_uri : prefix_uri + "/";
  const std::string suffix = std::string("/") + kStateObject;
  std::vector<RunSummary> runs;
  for (const std::string& uri : store.List(base)) {
    const std::string rest = uri.substr(base.size());
    if (!rest.ends_with(suffix)) continue;
    const std::string run_id = rest.substr(0, rest.size() - suffix.size());
    if (run_id.empty() || run_id.find('/') != std::string::npos) continue;

    // Each run's own state says how far it got.
    RunSummary summary;
    summary.run_id = run_id;
    PipelineState state;
    try {
      state = StateFromJson(store.GetBytes(uri), uri);
    } catch (const IoError&) {
      summary.status = "unreadable";
      runs.push_back(std::move(summary));
      continue;
    }
    summary.status = RunStatus(state);
    summary.pipeline_name = state.pipeline_name;
    summary.sessions_total = static_cast<int>(state.sessions.size());
    for (const auto& record : state.sessions) {
      summary.sessions_completed += record.status == SessionStatus::kCompleted;
    }
    summary.last_updated = state.last_updated;
    summary.pending_uploads = state.pending_uploads.size();
    runs.push_back(std::move(summary));
  }
  return runs;
}

}  // namespace rlpipe::pipeline
