#pragma once
/// The durable copy of a run in S3 (`aws.use_s3` / `--use-s3`). The output folder stays the
/// working copy; RunMirror uploads the state, each completed session's models and the report under
/// one run prefix, and downloads them again on a fresh machine:
///
///   s3://BUCKET/PREFIX/RUN_ID/pipeline_state.json
///   s3://BUCKET/PREFIX/RUN_ID/checkpoints/SESSION/{best_model.zip, final_model.zip,
///                                                  rl_model_<n>_steps.zip,
///                                                  replay_*.seg (SAC/TD3),
///                                                  events.out.tfevents.*, manifest.json}
///   s3://BUCKET/PREFIX/RUN_ID/reports/pipeline_report.json
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline_config.h"
#include "pipeline/state.h"
#include "storage/checkpoint_store.h"

namespace rlpipe::pipeline {

/// Where runs are kept: a bucket, an optional key prefix, and how to reach the endpoint.
struct S3Location {
  std::string bucket;
  std::string prefix;        // "" or "a/b" (no leading or trailing '/')
  std::string region;        // "": AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1
  std::string endpoint_url;  // "": AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS
};

/// The location from a pipeline's `aws:` section, with non-empty command-line values winning.
/// Throws ConfigError when the bucket is empty.
S3Location ResolveS3Location(const config::AwsConfig& aws, const std::string& bucket_flag,
                             const std::string& prefix_flag);

/// Storage options for `location`. Retries follow RLPIPE_S3_MAX_ATTEMPTS (total tries, >= 1) and
/// RLPIPE_S3_RETRY_BASE_MS (first backoff cap) when set; ConfigError on a malformed value.
StorageOptions MirrorStorageOptions(const S3Location& location);

/// s3://bucket/prefix (no trailing '/').
std::string PrefixUri(const S3Location& location);

/// Throws ConfigError unless `run_id` is 1-128 characters of [A-Za-z0-9._-], not "." or "..".
void ValidateRunId(const std::string& run_id);

/// "<pipeline name>-<UTC time as YYYYMMDDTHHMMSSZ>", unsafe characters of the name replaced by
/// '-'.
std::string GenerateRunId(const std::string& pipeline_name);

/// One object group the mirror uploads; the words are what `pending_uploads` records.
inline constexpr char kStateObject[] = "pipeline_state.json";
inline constexpr char kReportObject[] = "reports/pipeline_report.json";
/// "checkpoints/<session>".
std::string CheckpointsEntry(const std::string& session);

/// Uploads and downloads one run's objects below its run URI.
class RunMirror {
 public:
  RunMirror(std::unique_ptr<CheckpointStore> store, std::string run_uri)
      : store_(std::move(store)), run_uri_(std::move(run_uri)) {}

  const std::string& run_uri() const { return run_uri_; }
  /// The URI of `entry` (kStateObject, kReportObject or CheckpointsEntry(session)).
  std::string Uri(const std::string& entry) const;

  /// Uploads a file (the state or the report) as `entry`.
  void PutFile(const std::string& entry, const std::filesystem::path& local);
  /// Uploads a session's models folder as a checkpoint set: best_model.zip, final_model.zip,
  /// checkpoints/rl_model_*.zip and their replay segments side by side, then the manifest last. The
  /// old manifest is deleted first, so a re-run session never looks complete while its upload is
  /// half done. The TensorBoard event files in `runs_dir` (if given) travel in the same set.
  void PutSessionModels(const std::string& session, const std::filesystem::path& models_dir,
                        const std::filesystem::path& runs_dir = {});
  /// True when the run's state object exists.
  bool HasState();
  /// Downloads the state object into `local` (atomically).
  void GetState(const std::filesystem::path& local);
  /// True when the session's checkpoint set is complete (its manifest exists).
  bool HasSessionModels(const std::string& session);
  /// Downloads a session's checkpoint set (sizes and SHA-256 checked) and installs it as
  /// `models_dir` (rl_model_* and replay_*.seg files under checkpoints/), replacing what was there;
  /// its TensorBoard event files replace those in `runs_dir` (if given; else they are dropped).
  void GetSessionModels(const std::string& session, const std::filesystem::path& models_dir,
                        const std::filesystem::path& runs_dir = {});

 private:
  std::unique_ptr<CheckpointStore> store_;
  std::string run_uri_;
};

/// One run found under a prefix.
struct RunSummary {
  std::string run_id;
  std::string status;  // "completed", "failed", "interrupted", "running", "incomplete"
  std::string pipeline_name;
  int sessions_completed = 0;
  int sessions_total = 0;
  std::string last_updated;
  size_t pending_uploads = 0;
};

/// The run's overall status from its state: "failed" when a session failed, else "interrupted"
/// when one was interrupted, else "running" while a session is current, else "completed" when
/// every session completed, else "incomplete".
std::string RunStatus(const PipelineState& state);

/// Every run below `prefix_uri` (each one is a folder holding pipeline_state.json), by run id.
std::vector<RunSummary> ListRuns(CheckpointStore& store, const std::string& prefix_uri);

}  // namespace rlpipe::pipeline
