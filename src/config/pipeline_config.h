#pragma once
/// The pipeline file: settings plus an ordered list of sessions.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "config/tree.h"

namespace rlpipe::config {

/// `success_criteria:` of a session.
struct SuccessCriteria {
  std::optional<double> min_reward;    // mean eval return must reach this
  std::optional<int64_t> min_episodes; // training episodes must reach this
};

/// A part of a model that `transfer.load` can select.
enum class TransferPart {
  kPolicy,      // mlp_extractor.policy_net.*, action_net.*, log_std (actor.* off-policy)
  kValue,       // mlp_extractor.value_net.*, value_net.* (critic.* off-policy)
  kNormaliser,  // running observation statistics
};
/// "policy", "value", "normaliser".
std::string ToString(TransferPart part);

/// One `transfer.freeze` entry: a glob over parameter names (`*` any run of characters, `?` one).
struct FreezePattern {
  std::string glob;
  SourceLoc loc;     // where it was written
  std::string path;  // its key path, e.g. "sessions[1].transfer.freeze[0]"
};

/// `transfer:` of a session: how the model it starts from is loaded (docs/transfer.md).
struct TransferConfig {
  /// Parts copied from the source model; the others start fresh.
  std::vector<TransferPart> load{TransferPart::kPolicy, TransferPart::kValue,
                                 TransferPart::kNormaliser};
  std::vector<FreezePattern> freeze;  // parameters that never train in this session
  bool reset_optimizer = true;        // false: carry Adam state over for tensors copied whole
  bool reset_log_std = false;         // true: log_std starts at agent.log_std_init again
  bool Loads(TransferPart part) const;
};

/// One entry of `sessions:`.
struct SessionSpec {
  std::string name;                          // plain file name, unique
  std::string description;
  std::filesystem::path config;              // absolute (resolved against the pipeline's folder)
  std::optional<int64_t> timesteps;          // > 0 when set; replaces training.total_timesteps
  bool use_previous_checkpoint = false;      // (already false when transfer learning is disabled)
  std::optional<std::filesystem::path> checkpoint;  // absolute
  Tree overrides;                            // deep-merged into the training config
  Tree aws_overrides;                        // used by the SageMaker platform (later)
  SuccessCriteria success_criteria;
  TransferConfig transfer;                   // used when the session starts from a model
  SourceLoc loc;                             // where the session entry starts
};

/// `aws.sagemaker:` (validated now, used by the SageMaker platform later).
struct SageMakerConfig {
  std::string instance_type = "ml.c5.xlarge";
  int instance_count = 1;
  int volume_size_gb = 30;
  bool warm_pool = false;
  int warm_pool_retention_seconds = 1800;
  bool use_spot_instances = false;
  int64_t max_run_seconds = 86400;
  int64_t max_wait_seconds = 0;
  std::string role_arn;
  std::string container_image_uri;
  Tree vpc_config;
};

/// `aws:`.
struct AwsConfig {
  bool use_s3 = false;
  std::string s3_bucket;
  std::string s3_prefix;
  std::string region;
  std::string s3_endpoint_url;
  SageMakerConfig sagemaker;
};

/// The whole pipeline file.
struct PipelineConfig {
  std::filesystem::path file;        // absolute path of the pipeline YAML
  std::string name;
  std::string description;
  uint64_t seed = 0;                 // root seed; sessions derive theirs from it
  bool continue_on_error = false;
  bool enable_transfer_learning = true;
  bool save_all_checkpoints = false;
  AwsConfig aws;
  Tree monitoring;                   // accepted; used by later features
  Tree post_pipeline;                // accepted; used by later features
  std::vector<SessionSpec> sessions;
};

/// Loads and validates a pipeline file (keys, types, ranges, session names, duplicate names,
/// existence of each session's config and checkpoint file). Throws ConfigError.
PipelineConfig LoadPipeline(const std::filesystem::path& file);

/// Loads a session's training config, merges its overrides, applies `timesteps`, and parses it.
ExperimentConfig ResolveSession(const PipelineConfig& pipeline, const SessionSpec& session);

/// True for a safe session name: a plain file name (no '/', '\\', not "." or "..", not empty,
/// no control characters).
bool IsSafeSessionName(const std::string& name);

}  // namespace rlpipe::config
