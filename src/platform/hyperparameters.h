#pragma once
/// What a SageMaker training job needs to run one session, carried in the job's
/// HyperParameters (SageMaker hands them to the container as /opt/ml/input/config/
/// hyperparameters.json, every value a string).
///
/// Encoding (format version 1), all keys prefixed `rlpipe_`:
///   rlpipe_format            "1"
///   rlpipe_pipeline          pipeline name
///   rlpipe_session           session name
///   rlpipe_session_index     0-based position in the pipeline
///   rlpipe_seed              the session's seed, decimal
///   rlpipe_run_uri           s3://bucket/prefix/<run-id> (the run's S3 root)
///   rlpipe_input_checkpoint  s3://… of the model to start from (absent: start fresh)
///   rlpipe_transfer          the session's `transfer:` settings as one line of JSON
///                            (config::ToJson; absent: the defaults)
///   rlpipe_save_all_checkpoints  "true" / "false"
///   rlpipe_min_reward, rlpipe_min_episodes  success criteria (absent: none)
///   rlpipe_config_bytes      length of the resolved config YAML in bytes
///   rlpipe_config_sha256     lower-case hex SHA-256 of the YAML
///   rlpipe_config_chunks     k, the number of chunks
///   rlpipe_set_<key path>    a training-config override applied over the resolved config in
///                            the container (`--set key=value`); a tuning job's tuned values
///   rlpipe_config_0 … rlpipe_config_<k-1>
///                            base64 of consecutive 1872-byte slices of the YAML (each chunk at
///                            most 2496 characters). Base64 because SageMaker checks values
///                            against the pattern `.*`, which does not match a newline.
/// AWS limits: at most 100 entries, key <= 256 and value <= 2500 characters; Encode throws
/// ConfigError when the config is too large to fit.
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace rlpipe::platform {

/// Everything the container entrypoint (`rlpipe train`) needs to run one session.
struct SessionJobInput {
  std::string pipeline_name;
  std::string session_name;
  int session_index = 0;              // 0-based position of the session in the pipeline
  std::string resolved_config_yaml;   // the fully resolved training config (Tree::ToYaml)
  std::string input_checkpoint_uri;   // s3://… to start from, or "" to start fresh
  std::string transfer_json;          // config::ToJson(TransferConfig), or "" for the defaults
  std::string run_uri;                // s3://bucket/prefix/<run-id>, no trailing '/'
  uint64_t seed = 0;                  // the session's seed
  bool save_all_checkpoints = false;  // keep rl_model_<n>_steps.zip files
  std::optional<double> min_reward;   // success criteria (see config::SuccessCriteria)
  std::optional<int64_t> min_episodes;
  /// Overrides (key path → YAML value) applied over resolved_config_yaml, as `--set` does;
  /// SageMaker tuning jobs hand their tuned values this way (tune/tuning_job_request.h).
  std::map<std::string, std::string> overrides;

  bool operator==(const SessionJobInput&) const = default;
};

/// Prefix of the override hyperparameters: rlpipe_set_agent.learning_rate = "0.001".
inline constexpr char kOverrideHyperParameterPrefix[] = "rlpipe_set_";

/// Largest number of YAML bytes one `rlpipe_config_<i>` chunk carries (base64: 2496 chars).
inline constexpr size_t kConfigChunkBytes = 1872;
/// AWS's limits on CreateTrainingJob HyperParameters.
inline constexpr size_t kMaxHyperParameters = 100;
inline constexpr size_t kMaxHyperParameterKey = 256;
inline constexpr size_t kMaxHyperParameterValue = 2500;

/// The HyperParameters map for `input`. Throws ConfigError when it would break AWS's limits (a
/// config larger than about 170 KB).
std::map<std::string, std::string> EncodeHyperParameters(const SessionJobInput& input);

/// Reads hyperparameters.json back. `origin` names the source in errors (e.g. the file path).
/// Throws ConfigError "origin: key: problem" on a missing key, a non-string value, a bad number,
/// a missing chunk, or a length / SHA-256 mismatch of the reassembled config. Keys not starting
/// with `rlpipe_` are ignored (SageMaker adds its own, e.g. `sagemaker_*`).
SessionJobInput DecodeHyperParameters(const nlohmann::json& hyperparameters_json,
                                      const std::string& origin);

}  // namespace rlpipe::platform
