#pragma once
/// SageMaker CreateTrainingJob requests, built by pure functions: the same inputs always give the
/// same JSON, nothing is sent and nothing is read from the environment. `rlpipe run --platform
/// sagemaker --dry-run` prints them; tests compare them with golden files and validate them with
/// botocore's SageMaker model. The mapping is documented in docs/sagemaker.md.
///
/// S3 layout of a run (extends pipeline/run_mirror.h):
///   RUN_URI/checkpoints/SESSION/best_model.zip …   models, uploaded by the container (RunMirror)
///   RUN_URI/sagemaker-checkpoints/SESSION/         CheckpointConfig: /opt/ml/checkpoints, kept
///                                                  by SageMaker across spot interruptions
///   RUN_URI/sagemaker-output/JOB_NAME/output/…     OutputDataConfig (model.tar.gz, failure)
///   RUN_URI/inputs/SESSION/FILE                    a session's explicit local `checkpoint:`,
///                                                  uploaded before the job is submitted
#include <cstdint>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"

namespace rlpipe::platform {

/// Where the container keeps its working checkpoints (synced to CheckpointConfig.S3Uri).
inline constexpr char kContainerCheckpointDir[] = "/opt/ml/checkpoints";

/// AWS's limits on CreateTrainingJob (botocore's SageMaker model, and the SageMaker docs).
inline constexpr size_t kMaxJobNameLength = 63;
inline constexpr int64_t kMaxRuntimeSeconds = 2419200;  // 28 days
inline constexpr int kMaxKeepAliveSeconds = 3600;
inline constexpr size_t kMaxEnvironmentEntries = 48;
inline constexpr size_t kMaxEnvironmentKey = 512;
inline constexpr size_t kMaxEnvironmentValue = 512;
inline constexpr size_t kMaxTags = 50;
inline constexpr size_t kMaxTagKey = 128;
inline constexpr size_t kMaxTagValue = 256;
inline constexpr size_t kMaxS3Uri = 1024;
inline constexpr size_t kMaxImageUri = 255;
inline constexpr size_t kMaxSecurityGroups = 5;
inline constexpr size_t kMaxSubnets = 16;

/// `text` in the form SageMaker's job names allow: letters and digits kept, every other run of
/// characters one '-', no '-' at either end.
std::string SageMakerNamePart(const std::string& text);

/// The first `size` characters of a SageMakerNamePart, without a trailing '-'.
std::string CutNamePart(const std::string& text, size_t size);

/// "YYYYMMDD-HHMMSS" of `time` in UTC: the job-name suffix.
std::string JobTimestamp(std::time_t time);

/// `<pipeline>-<session>-<timestamp>` made valid for SageMaker's job-name pattern
/// `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`: every run of characters other than letters and digits
/// becomes one '-', leading and trailing '-' go. When the result is longer than 63 characters
/// the names are shortened (the pipeline's first, down to 12 characters) and an 8-hex-digit hash
/// of the full names is inserted before the timestamp, so different sessions stay different.
/// The timestamp is always kept whole. Throws ConfigError when `timestamp` is empty or longer
/// than 24 characters after sanitising.
std::string TrainingJobName(const std::string& pipeline, const std::string& session,
                            const std::string& timestamp);

/// Where one session's job reads and writes in S3, and when it is submitted.
struct JobLocation {
  std::string run_uri;               // s3://bucket/prefix/<run-id>, no trailing '/'
  std::string input_checkpoint_uri;  // s3://… the model to start from, or "" (fresh)
  std::string timestamp;             // job-name suffix, e.g. JobTimestamp(now)
};

/// The run's S3 URI: s3://bucket[/prefix]/<run-id>. Throws ConfigError (naming aws.s3_bucket)
/// when `bucket` is empty: SageMaker jobs exchange models through S3.
std::string SageMakerRunUri(const std::string& bucket, const std::string& prefix,
                            const std::string& run_id, const config::PipelineConfig& pipeline);

/// The S3 URI session `index` starts from: its explicit `checkpoint:` as uploaded to
/// RUN_URI/inputs/SESSION/FILE; else, with use_previous_checkpoint, the best model of the
/// nearest earlier session for which `completed(i)` is true (default: every earlier session,
/// i.e. the previous one); else "" (fresh start). The container falls back to final_model.zip in
/// the same folder when best_model.zip does not exist (no evaluation ran).
std::string InputCheckpointUri(const config::PipelineConfig& pipeline, size_t index,
                               const std::string& run_uri,
                               const std::function<bool(size_t)>& completed = nullptr);

/// Checks `sm` (a session's merged settings) against AWS's rules before anything is sent:
/// image, role ARN, instance type, spot with warm pool, MaxWait vs MaxRuntime, VPC ids, KMS key,
/// tags and environment (names, lengths, counts, reserved names). Throws ConfigError
/// "file:line:col: key path: problem" naming where the offending value was written.
/// Returns warnings (settings that are allowed but probably not meant: several instances, a
/// max_wait_seconds without spot).
std::vector<std::string> ValidateSageMakerConfig(const config::PipelineConfig& pipeline,
                                                 const config::SageMakerConfig& sm);

/// The CreateTrainingJob request for session `index` (validated first, see above). `resolved`
/// is the session's resolved training config, `sm` its merged SageMaker settings
/// (config::ResolveSageMaker). Pure: no I/O, no clock, no environment.
nlohmann::json BuildCreateTrainingJobRequest(const config::PipelineConfig& pipeline, size_t index,
                                             const config::ExperimentConfig& resolved,
                                             const config::SageMakerConfig& sm,
                                             const JobLocation& location);

/// The session seed the job trains with: `training.seed` when set, else derived from the
/// pipeline's root seed and the session name (the same rule as local runs).
uint64_t SessionSeed(const config::PipelineConfig& pipeline, size_t index,
                     const config::ExperimentConfig& resolved);

/// Why session `index` cannot reuse the warm pool the previous session leaves behind (SageMaker
/// reuses one only when role, instance type and count, volume size, KMS key, VPC config,
/// network isolation and inter-container encryption match; rlpipe never enables network
/// isolation, its container reads and writes S3 itself), as one warning line naming the
/// session's aws_overrides; "" when it can, or when the previous session keeps no warm pool.
std::string WarmPoolReuseWarning(const config::PipelineConfig& pipeline, size_t index,
                                 const config::SageMakerConfig& previous,
                                 const config::SageMakerConfig& current);

/// One session's planned job.
struct PlannedJob {
  std::string session;
  nlohmann::json request;   // CreateTrainingJob input
  std::string upload_from;  // a local checkpoint to upload first ("" = none) …
  std::string upload_to;    // … to this S3 URI (the request's input checkpoint)
};

/// Every session's job for one run, plus warnings to print (they do not stop the run).
struct SageMakerPlan {
  std::vector<PlannedJob> jobs;
  std::vector<std::string> warnings;
};

/// Inputs of PlanSageMakerRun beside the pipeline.
struct SageMakerPlanOptions {
  std::string run_id;     // names the run's S3 folder
  std::string s3_bucket;  // "" = aws.s3_bucket
  std::string s3_prefix;  // "" = aws.s3_prefix
  std::string role_arn;   // "" = aws.sagemaker.role_arn (--role-arn wins over every session)
  std::string timestamp;  // job-name suffix
};

/// Plans every session of a resolved pipeline (sessions[i] resolved from pipeline.sessions[i]).
/// Pure; throws ConfigError on the first invalid session.
SageMakerPlan PlanSageMakerRun(const config::PipelineConfig& pipeline,
                               const std::vector<config::ExperimentConfig>& sessions,
                               const SageMakerPlanOptions& options);

}  // namespace rlpipe::platform
