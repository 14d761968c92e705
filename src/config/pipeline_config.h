#pragma once
/// The pipeline file: settings plus an ordered list of sessions.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/experiment_config.h"
#include "config/tree.h"

namespace rlpipe::config {

/// `success_criteria:` of a session.
struct SuccessCriteria {
  std::optional<double> min_reward;     // mean eval return must reach this
  std::optional<int64_t> min_episodes;  // training episodes must reach this
};

/// A part of a model that `transfer.load` can select.
enum class TransferPart {
  kPolicy,      // mlp_extractor.policy_net.*, action_net.*, log_std (actor.* off-policy)
  kValue,       // mlp_extractor.value_net.*, value_net.* (critic.* off-policy)
  kNormaliser,  // running observation statistics
};
/// "policy", "value", "normaliser".
std::string ToString(TransferPart part);

/// One `transfer.freeze` or `transfer.reset` entry: a glob over parameter names (`*` any run of
/// characters, `?` one).
struct ParameterPattern {
  std::string glob;
  SourceLoc loc;     // where it was written
  std::string path;  // its key path, e.g. "sessions[1].transfer.freeze[0]"
};

/// `transfer:` of a session: how the model it starts from is loaded (docs/transfer.md).
struct TransferConfig {
  /// Parts copied from the source model; the others start fresh.
  std::vector<TransferPart> load{TransferPart::kPolicy, TransferPart::kValue,
                                 TransferPart::kNormaliser};
  std::vector<ParameterPattern> freeze;  // parameters that never train in this session
  std::vector<ParameterPattern> reset;   // parameters that keep their fresh initialisation
  bool reset_optimizer = true;           // false: carry Adam state over for tensors copied whole
  bool reset_log_std = false;            // true: log_std starts at agent.log_std_init again
  bool Loads(TransferPart part) const;
  /// True when every field holds its default (nothing was asked for).
  bool IsDefault() const;
};

/// Reads a `transfer:` mapping (null: the defaults) strictly; `path` prefixes key paths in errors.
/// Throws ConfigError naming file:line:col and key path.
TransferConfig ParseTransferConfig(const Tree* node, const std::string& path);

/// The settings as one line of JSON (also YAML), which ParseTransferConfig reads back; used to
/// hand a session's `transfer:` to the SageMaker container.
std::string ToJson(const TransferConfig& transfer);

/// One entry of `sessions:`.
struct SessionSpec {
  std::string name;  // plain file name, unique
  std::string description;
  std::filesystem::path config;          // absolute (resolved against the pipeline's folder)
  std::optional<int64_t> timesteps;      // > 0 when set; replaces training.total_timesteps
  bool use_previous_checkpoint = false;  // (already false when transfer learning is disabled)
  std::optional<std::filesystem::path> checkpoint;  // absolute
  SourceLoc checkpoint_loc;                         // where `checkpoint:`'s value was written
  Tree overrides;                                   // deep-merged into the training config
  Tree aws_overrides;                               // {sagemaker: {...}} merged over aws.sagemaker
  std::string path;                                 // "sessions[i]", for error messages
  SuccessCriteria success_criteria;
  TransferConfig transfer;  // used when the session starts from a model
  SourceLoc loc;            // where the session entry starts
};

/// Where one setting was written: its location and full key path (for error messages).
struct SettingSource {
  SourceLoc loc;
  std::string path;  // e.g. "aws.sagemaker.instance_type" or
                     // "sessions[1].aws_overrides.sagemaker.instance_type"
};

/// `aws.sagemaker:` — how a session runs as a SageMaker training job (docs/sagemaker.md). After
/// ResolveSageMaker, a session's `aws_overrides.sagemaker` is merged in.
struct SageMakerConfig {
  std::string instance_type = "ml.c5.xlarge";   // ml.<family>.<size>
  int instance_count = 1;                       // >= 1 (rlpipe trains on one)
  int volume_size_gb = 30;                      // 1..16384
  bool warm_pool = false;                       // keep the instance for the next session
  int warm_pool_retention_seconds = 1800;       // 0..3600 (KeepAlivePeriodInSeconds)
  bool use_spot_instances = false;              // managed spot training
  int64_t max_run_seconds = 86400;              // 1..2419200 (MaxRuntimeInSeconds)
  int64_t max_wait_seconds = 0;                 // spot only; 0 = max_run_seconds
  std::string role_arn;                         // arn:aws:iam::<12 digits>:role/<name>
  std::string container_image_uri;              // the rlpipe training image (ECR URI)
  Tree vpc_config;                              // the section as written (null when absent)
  std::vector<std::string> security_group_ids;  // vpc_config.security_group_ids
  std::vector<std::string> subnets;             // vpc_config.subnets
  std::string kms_key_id;                       // volume and output encryption key ("" = none)
  bool enable_inter_container_traffic_encryption = false;
  std::vector<std::pair<std::string, std::string>> tags;         // extra job tags, file order
  std::vector<std::pair<std::string, std::string>> environment;  // extra container environment
  /// Where each key was written, by path relative to the section ("warm_pool.enabled",
  /// "tags.project"); the last writer wins (a session override over the pipeline's value).
  std::vector<std::pair<std::string, SettingSource>> sources;
  SettingSource section;  // the section itself (or the `aws:` / file start when absent)

  /// The source of `key` (relative path), else of its nearest written parent, else the section.
  SettingSource Source(const std::string& key) const;
};

/// `aws:`.
struct AwsConfig {
  bool use_s3 = false;
  std::string s3_bucket;
  std::string s3_prefix;
  std::string region;
  std::string s3_endpoint_url;
  std::string sns_topic_arn;  // arn:aws:sns:<region>:<12 digits>:<topic> or ""
  SageMakerConfig sagemaker;
  Tree sagemaker_tree;  // `aws.sagemaker` as written, for per-session merges
};

/// Which report files a run writes.
enum class ReportFormat { kJson, kHtml, kBoth };
/// "json", "html", "both".
std::string ToString(ReportFormat format);

/// A metric `monitoring.track_metrics` can name: the seed's name, the metrics.csv column that
/// holds it and what it means (the HTML report's small multiples; docs/reports.md).
struct TrackableMetric {
  std::string name;    // e.g. "approx_kl"
  std::string column;  // e.g. "train/approx_kl"
  std::string label;   // axis label with unit
};
/// Every nameable metric (training rollout figures, speed, and each algorithm's train/* values);
/// `task/<info key>` names a task statistic in addition.
const std::vector<TrackableMetric>& TrackableMetrics();
/// The entry for `name` or its column (a task/* name gets a generated one); nullopt when unknown.
std::optional<TrackableMetric> FindTrackableMetric(const std::string& name);

/// Pipeline `monitoring:` — what the run reports (docs/reports.md).
struct PipelineMonitoringConfig {
  /// Metrics drawn as small multiples per session in the HTML report.
  std::vector<std::string> track_metrics{"episode_reward_mean", "episode_length_mean", "approx_kl",
                                         "explained_variance"};
  ReportFormat report_format = ReportFormat::kBoth;
  bool generate_plots = true;  // false: the HTML report has tables only
  bool save_report = true;     // false: no pipeline_report.{json,html} at all
};

/// `post_pipeline:` — what happens after the last session (docs/reports.md).
struct PostPipelineConfig {
  /// Evaluate every completed session's best and final model for eval_episodes deterministic
  /// episodes on its own task; results go into the reports.
  bool evaluate_final_models = false;
  int eval_episodes = 10;         // >= 1
  bool compare_sessions = false;  // the cross-session chart in the HTML report
  /// A .tar.gz of the output folder (without models.partial/ and the lock file).
  bool archive_results = false;
  /// Folder for the archive, relative to the working directory; "" = the output folder's parent.
  std::string archive_location;
};

/// The whole pipeline file.
struct PipelineConfig {
  std::filesystem::path file;  // absolute path of the pipeline YAML
  std::string name;
  std::string description;
  uint64_t seed = 0;  // root seed; sessions derive theirs from it
  bool continue_on_error = false;
  bool enable_transfer_learning = true;
  bool save_all_checkpoints = false;
  AwsConfig aws;
  PipelineMonitoringConfig monitoring;
  PostPipelineConfig post_pipeline;
  std::vector<SessionSpec> sessions;
  /// Settings that load but have no effect or look wrong, one line each with file:line:col and
  /// key path ("...: warning: ..."); shown by `rlpipe config` and `rlpipe run`, never fatal.
  std::vector<std::string> warnings;
};

/// Loads and validates a pipeline file (keys, types, ranges, session names, duplicate names,
/// existence of each session's config and checkpoint file). Throws ConfigError.
PipelineConfig LoadPipeline(const std::filesystem::path& file);

/// Loads a session's training config, merges its overrides, applies `timesteps`, and parses it.
ExperimentConfig ResolveSession(const PipelineConfig& pipeline, const SessionSpec& session);

/// `aws.sagemaker` with the session's `aws_overrides.sagemaker` deep-merged over it (a nested
/// key replaces only itself). Sources name the override's line and path where it wins.
/// Throws ConfigError naming file:line:col and key path.
SageMakerConfig ResolveSageMaker(const PipelineConfig& pipeline, const SessionSpec& session);

/// True for a safe session name: a plain file name (no '/', '\\', not "." or "..", not empty,
/// no control characters).
bool IsSafeSessionName(const std::string& name);

}  // namespace rlpipe::config
