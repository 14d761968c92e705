#include "platform/sagemaker_request.h"

#include <algorithm>
#include <regex>

#include "core/error.h"
#include "core/seed.h"
#include "pipeline/run_mirror.h"
#include "platform/hyperparameters.h"
#include "platform/sagemaker_metrics.h"
#include "storage/crypto.h"
#include "storage/storage_uri.h"

namespace rlpipe::platform {
namespace {

using config::PipelineConfig;
using config::SageMakerConfig;

constexpr size_t kMaxTimestamp = 24;
constexpr size_t kMinPipelineInName = 12;
constexpr char kInputsFolder[] = "inputs";
constexpr char kSageMakerCheckpoints[] = "sagemaker-checkpoints";
constexpr char kSageMakerOutput[] = "sagemaker-output";
/// Environment names rlpipe sets itself (a user value would be silently replaced otherwise).
constexpr const char* kReservedEnvironment[] = {"RLPIPE_RUN_URI", "AWS_REGION",
                                                "AWS_ENDPOINT_URL_S3"};
/// Tag keys rlpipe sets itself.
constexpr char kTagPipeline[] = "rlpipe:pipeline";
constexpr char kTagSession[] = "rlpipe:session";
constexpr char kTagRunId[] = "rlpipe:run-id";

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// Joins the non-empty parts with '-'.
std::string JoinDash(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    out += (out.empty() ? "" : "-") + part;
  }
  return out;
}

/// A character SageMaker accepts in tag keys and values: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. Bytes of
/// multi-byte UTF-8 characters are let through (most are letters; AWS has the last word).
bool IsTagChar(char c) {
  return IsAlnum(c) || std::string_view(" _.:/=+-@").find(c) != std::string_view::npos ||
         static_cast<unsigned char>(c) >= 0x80;
}

/// A value rlpipe puts in a tag itself: disallowed characters become '_', at most 256 long.
std::string TagValue(const std::string& text) {
  std::string out = text.substr(0, kMaxTagValue);
  for (char& c : out) {
    if (!IsTagChar(c)) c = '_';
  }
  return out;
}

bool HasSpace(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= ' '; });
}

/// Throws ConfigError at the place `key` of `sm` was written (the pipeline file when unknown).
[[noreturn]] void Fail(const PipelineConfig& pipeline, const SageMakerConfig& sm,
                       const std::string& key, const std::string& message) {
  config::SettingSource source = sm.Source(key);
  if (source.loc.file.empty()) source.loc.file = pipeline.file.string();
  config::FailAt(source.loc, source.path, message);
}

/// "file:line:col: path: warning: message".
std::string Warning(const PipelineConfig& pipeline, const config::SettingSource& source,
                    const std::string& message) {
  config::SourceLoc loc = source.loc;
  if (loc.file.empty()) loc.file = pipeline.file.string();
  return loc.ToString() + ": " + source.path + ": warning: " + message;
}

/// The run id: the last segment of the run URI.
std::string RunIdOf(const std::string& run_uri) {
  const size_t slash = run_uri.rfind('/');
  return slash == std::string::npos ? run_uri : run_uri.substr(slash + 1);
}

/// Checks one list of VPC ids (security groups or subnets).
void CheckVpcIds(const PipelineConfig& pipeline, const SageMakerConfig& sm, const std::string& key,
                 const std::vector<std::string>& ids, size_t max_count) {
  static const std::regex kId("[-0-9a-zA-Z]{1,32}");
  if (ids.empty() || ids.size() > max_count) {
    Fail(pipeline, sm, key,
         "expected 1.." + std::to_string(max_count) + " ids, found " + std::to_string(ids.size()));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!std::regex_match(ids[i], kId)) {
      Fail(
          pipeline, sm, key,
          "entry " + std::to_string(i) + " \"" + ids[i] +
              "\" is not an id (1-32 letters, digits and '-', e.g. sg-0123abcd / subnet-0123abcd)");
    }
  }
}

}  // namespace

std::string SageMakerNamePart(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (IsAlnum(c)) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string CutNamePart(const std::string& text, size_t size) {
  std::string out = text.substr(0, size);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string JobTimestamp(std::time_t time) {
  std::tm utc{};
  gmtime_r(&time, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &utc);
  return stamp;
}

std::string TrainingJobName(const std::string& pipeline, const std::string& session,
                            const std::string& timestamp) {
  const std::string stamp = SageMakerNamePart(timestamp);
  if (stamp.empty() || stamp.size() > kMaxTimestamp) {
    throw ConfigError("training job timestamp \"" + timestamp +
                      "\": expected 1-24 letters, digits or '-'");
  }
  // The names as they are when they fit.
  const std::string p = SageMakerNamePart(pipeline);
  const std::string s = SageMakerNamePart(session);
  const std::string whole = JoinDash({p, s, stamp});
  if (whole.size() <= kMaxJobNameLength && !(p.empty() && s.empty())) return whole;
  if (p.empty() && s.empty()) return JoinDash({"rlpipe", stamp});

  // Too long: shorten the pipeline's name first (to 12 characters), then the session's, and
  // add a hash of the full names so that sessions differing only at the end stay distinct.
  const std::string hash = HexEncode(Sha256(pipeline + '\0' + session)).substr(0, 8);
  const size_t room = kMaxJobNameLength - stamp.size() - hash.size() - 2;  // two '-'
  size_t p_size = p.size();
  size_t s_size = s.size();
  const size_t separator = (p_size > 0 && s_size > 0) ? 1 : 0;
  if (p_size + separator + s_size > room) {
    const size_t p_floor = std::min(p_size, kMinPipelineInName);
    p_size = std::max(p_floor, room > s_size + separator ? room - s_size - separator : 0);
    p_size = std::min(p_size, p.size());
  }
  if (p_size + separator + s_size > room) s_size = room - p_size - separator;
  return JoinDash({JoinDash({CutNamePart(p, p_size), CutNamePart(s, s_size)}), hash, stamp});
}

std::string SageMakerRunUri(const std::string& bucket, const std::string& prefix,
                            const std::string& run_id, const PipelineConfig& pipeline) {
  if (bucket.empty()) {
    throw ConfigError(pipeline.file.string() +
                      ": aws.s3_bucket: SageMaker jobs exchange models through S3: set "
                      "aws.s3_bucket or pass --s3-bucket");
  }
  pipeline::ValidateRunId(run_id);
  std::string uri = "s3://" + bucket;
  std::string trimmed = prefix;
  while (!trimmed.empty() && trimmed.front() == '/') trimmed.erase(trimmed.begin());
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  if (!trimmed.empty()) uri = JoinUri(uri, trimmed);
  return JoinUri(uri, run_id);
}

std::string InputCheckpointUri(const PipelineConfig& pipeline, size_t index,
                               const std::string& run_uri,
                               const std::function<bool(size_t)>& completed) {
  const config::SessionSpec& session = pipeline.sessions.at(index);
  // An explicit checkpoint file is uploaded beside the run's inputs.
  if (session.checkpoint) {
    return JoinUri(run_uri, std::string(kInputsFolder) + "/" + session.name + "/" +
                                session.checkpoint->filename().string());
  }
  if (!session.use_previous_checkpoint) return "";
  // The best model of the nearest earlier session that completed.
  for (size_t i = index; i-- > 0;) {
    if (completed && !completed(i)) continue;
    return JoinUri(run_uri,
                   pipeline::CheckpointsEntry(pipeline.sessions[i].name) + "/best_model.zip");
  }
  return "";
}

std::vector<std::string> ValidateSageMakerConfig(const PipelineConfig& pipeline,
                                                 const SageMakerConfig& sm) {
  std::vector<std::string> warnings;
  // What runs: the rlpipe image, under a role SageMaker can assume.
  if (sm.container_image_uri.empty()) {
    Fail(pipeline, sm, "container_image_uri",
         "missing: the URI of the rlpipe training image (e.g. "
         "123456789012.dkr.ecr.us-east-1.amazonaws.com/rlpipe:latest)");
  }
  if (sm.container_image_uri.size() > kMaxImageUri || HasSpace(sm.container_image_uri)) {
    Fail(pipeline, sm, "container_image_uri",
         "expected an image URI of at most 255 characters without spaces, found \"" +
             sm.container_image_uri + "\"");
  }
  static const std::regex kRoleArn(R"(arn:aws[a-z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+)");
  if (sm.role_arn.empty()) {
    Fail(pipeline, sm, "role_arn",
         "missing: the IAM role SageMaker runs the job as (set it or pass --role-arn)");
  }
  if (sm.role_arn.size() < 20 || sm.role_arn.size() > 2048 ||
      !std::regex_match(sm.role_arn, kRoleArn)) {
    Fail(pipeline, sm, "role_arn",
         "expected an IAM role ARN like arn:aws:iam::123456789012:role/SageMakerRole, found \"" +
             sm.role_arn + "\"");
  }

  // Where it runs.
  static const std::regex kInstanceType(R"(ml\.[a-z0-9]+\.[a-z0-9]+)");
  if (!std::regex_match(sm.instance_type, kInstanceType)) {
    Fail(pipeline, sm, "instance_type",
         "expected a SageMaker training instance type like ml.c5.xlarge, found \"" +
             sm.instance_type + "\"");
  }
  if (sm.instance_count < 1) Fail(pipeline, sm, "instance_count", "must be at least 1");
  if (sm.instance_count > 1) {
    warnings.push_back(Warning(pipeline, sm.Source("instance_count"),
                               "rlpipe trains each session on one instance; the other " +
                                   std::to_string(sm.instance_count - 1) +
                                   " would idle and be billed"));
  }
  if (sm.volume_size_gb < 1 || sm.volume_size_gb > 16384) {
    Fail(pipeline, sm, "volume_size_gb",
         "expected 1..16384 GB, found " + std::to_string(sm.volume_size_gb));
  }

  // How long it may run; spot and warm pools exclude each other.
  if (sm.max_run_seconds < 1 || sm.max_run_seconds > kMaxRuntimeSeconds) {
    Fail(pipeline, sm, "max_run_seconds",
         "expected 1..2419200 seconds (28 days), found " + std::to_string(sm.max_run_seconds));
  }
  if (sm.warm_pool && (sm.warm_pool_retention_seconds < 0 ||
                       sm.warm_pool_retention_seconds > kMaxKeepAliveSeconds)) {
    Fail(pipeline, sm, "warm_pool.retention_period_seconds",
         "expected 0..3600 seconds, found " + std::to_string(sm.warm_pool_retention_seconds));
  }
  if (sm.use_spot_instances && sm.warm_pool) {
    Fail(pipeline, sm, "use_spot_instances",
         "SageMaker does not keep warm pools for managed spot training: turn off "
         "use_spot_instances or warm_pool");
  }
  if (sm.use_spot_instances && sm.max_wait_seconds > 0 &&
      sm.max_wait_seconds < sm.max_run_seconds) {
    Fail(pipeline, sm, "max_wait_seconds",
         "with spot instances it must be 0 (= max_run_seconds) or at least max_run_seconds (" +
             std::to_string(sm.max_run_seconds) + "), found " +
             std::to_string(sm.max_wait_seconds));
  }
  if (!sm.use_spot_instances && sm.max_wait_seconds > 0) {
    warnings.push_back(
        Warning(pipeline, sm.Source("max_wait_seconds"), "ignored without use_spot_instances"));
  }

  // Network and encryption.
  if (sm.vpc_config.IsMap()) {
    CheckVpcIds(pipeline, sm, "vpc_config.security_group_ids", sm.security_group_ids,
                kMaxSecurityGroups);
    CheckVpcIds(pipeline, sm, "vpc_config.subnets", sm.subnets, kMaxSubnets);
  }
  if (sm.kms_key_id.size() > 2048 || HasSpace(sm.kms_key_id)) {
    Fail(pipeline, sm, "kms_key_id", "expected a KMS key id or ARN without spaces");
  }

  // Extra tags: SageMaker's characters and lengths; rlpipe's and AWS's own keys are reserved.
  if (sm.tags.size() + 3 > kMaxTags) {
    Fail(pipeline, sm, "tags",
         std::to_string(sm.tags.size()) + " tags, at most " + std::to_string(kMaxTags - 3) +
             " (SageMaker allows 50, rlpipe adds 3)");
  }
  for (const auto& [key, value] : sm.tags) {
    const std::string where = "tags." + key;
    if (key.empty() || key.size() > kMaxTagKey || !std::all_of(key.begin(), key.end(), IsTagChar)) {
      Fail(pipeline, sm, where, "a tag key must be 1-128 letters, digits, spaces or _.:/=+-@");
    }
    if (key.rfind("aws:", 0) == 0 || key.rfind("rlpipe:", 0) == 0) {
      Fail(pipeline, sm, where, "tag keys starting with aws: or rlpipe: are reserved");
    }
    if (value.size() > kMaxTagValue || !std::all_of(value.begin(), value.end(), IsTagChar)) {
      Fail(pipeline, sm, where,
           "a tag value must be at most 256 letters, digits, spaces or _.:/=+-@");
    }
  }

  // Extra environment: names SageMaker accepts, within its limits, not rlpipe's own.
  static const std::regex kEnvName("[a-zA-Z_][a-zA-Z0-9_]*");
  if (sm.environment.size() + std::size(kReservedEnvironment) > kMaxEnvironmentEntries) {
    Fail(pipeline, sm, "environment",
         std::to_string(sm.environment.size()) + " variables, at most " +
             std::to_string(kMaxEnvironmentEntries - std::size(kReservedEnvironment)) +
             " (SageMaker allows 48, rlpipe sets up to 3)");
  }
  for (const auto& [name, value] : sm.environment) {
    const std::string where = "environment." + name;
    if (name.size() > kMaxEnvironmentKey || !std::regex_match(name, kEnvName)) {
      Fail(pipeline, sm, where,
           "a variable name must be letters, digits and '_', not starting with a digit, at most "
           "512 characters");
    }
    for (const char* reserved : kReservedEnvironment) {
      if (name == reserved) {
        Fail(pipeline, sm, where,
             "rlpipe sets " + name + " itself (from the run and aws.region / aws.s3_endpoint_url)");
      }
    }
    if (value.size() > kMaxEnvironmentValue) {
      Fail(pipeline, sm, where,
           "value is " + std::to_string(value.size()) + " characters, SageMaker allows 512");
    }
  }
  return warnings;
}

uint64_t SessionSeed(const PipelineConfig& pipeline, size_t index,
                     const config::ExperimentConfig& resolved) {
  if (resolved.training.seed) return static_cast<uint64_t>(*resolved.training.seed);
  return DeriveSeed(pipeline.seed, pipeline.sessions.at(index).name);
}

nlohmann::json BuildCreateTrainingJobRequest(const PipelineConfig& pipeline, size_t index,
                                             const config::ExperimentConfig& resolved,
                                             const SageMakerConfig& sm,
                                             const JobLocation& location) {
  ValidateSageMakerConfig(pipeline, sm);
  const config::SessionSpec& session = pipeline.sessions.at(index);
  const std::string checkpoint_uri =
      JoinUri(location.run_uri, std::string(kSageMakerCheckpoints) + "/" + session.name);
  const std::string output_uri = JoinUri(location.run_uri, kSageMakerOutput);
  for (const std::string* uri : {&checkpoint_uri, &location.input_checkpoint_uri}) {
    if (uri->size() > kMaxS3Uri) {
      throw ConfigError(session.loc.ToString() + ": sessions[" + std::to_string(index) +
                        "]: S3 URI longer than 1024 characters: " + *uri);
    }
  }
  nlohmann::json request;
  request["TrainingJobName"] = TrainingJobName(pipeline.name, session.name, location.timestamp);
  request["RoleArn"] = sm.role_arn;

  // The container: our image, metrics read from its log lines.
  nlohmann::json metrics = nlohmann::json::array();
  for (const MetricDefinition& d : MetricDefinitions()) {
    metrics.push_back({{"Name", d.name}, {"Regex", d.regex}});
  }
  request["AlgorithmSpecification"] = {{"TrainingImage", sm.container_image_uri},
                                       {"TrainingInputMode", "File"},
                                       {"MetricDefinitions", metrics}};

  // What the container runs: the session, its resolved config and its starting model.
  SessionJobInput input;
  input.pipeline_name = pipeline.name;
  input.session_name = session.name;
  input.session_index = static_cast<int>(index);
  input.resolved_config_yaml = resolved.resolved.ToYaml();
  input.input_checkpoint_uri = location.input_checkpoint_uri;
  // How the container loads that model, when the session asks for anything but the defaults.
  if (!location.input_checkpoint_uri.empty() && !session.transfer.IsDefault()) {
    input.transfer_json = config::ToJson(session.transfer);
  }
  input.run_uri = location.run_uri;
  input.seed = SessionSeed(pipeline, index, resolved);
  input.save_all_checkpoints = pipeline.save_all_checkpoints;
  input.min_reward = session.success_criteria.min_reward;
  input.min_episodes = session.success_criteria.min_episodes;
  request["HyperParameters"] = EncodeHyperParameters(input);

  // The machine, how long it may run, and spot.
  nlohmann::json resources = {{"InstanceType", sm.instance_type},
                              {"InstanceCount", sm.instance_count},
                              {"VolumeSizeInGB", sm.volume_size_gb}};
  if (sm.warm_pool) resources["KeepAlivePeriodInSeconds"] = sm.warm_pool_retention_seconds;
  if (!sm.kms_key_id.empty()) resources["VolumeKmsKeyId"] = sm.kms_key_id;
  request["ResourceConfig"] = resources;
  nlohmann::json stopping = {{"MaxRuntimeInSeconds", sm.max_run_seconds}};
  if (sm.use_spot_instances) {
    stopping["MaxWaitTimeInSeconds"] =
        sm.max_wait_seconds > 0 ? sm.max_wait_seconds : sm.max_run_seconds;
  }
  request["StoppingCondition"] = stopping;
  request["EnableManagedSpotTraining"] = sm.use_spot_instances;
  request["EnableNetworkIsolation"] = false;
  request["EnableInterContainerTrafficEncryption"] = sm.enable_inter_container_traffic_encryption;

  // Where it writes: working checkpoints per session, SageMaker's output per run.
  request["CheckpointConfig"] = {{"S3Uri", checkpoint_uri}, {"LocalPath", kContainerCheckpointDir}};
  nlohmann::json output = {{"S3OutputPath", output_uri}};
  if (!sm.kms_key_id.empty()) output["KmsKeyId"] = sm.kms_key_id;
  request["OutputDataConfig"] = output;
  if (sm.vpc_config.IsMap()) {
    request["VpcConfig"] = {{"SecurityGroupIds", sm.security_group_ids}, {"Subnets", sm.subnets}};
  }

  // The container's environment: the run, the region and the S3 endpoint, then the user's.
  nlohmann::json environment = {{"RLPIPE_RUN_URI", location.run_uri}};
  if (!pipeline.aws.region.empty()) environment["AWS_REGION"] = pipeline.aws.region;
  if (!pipeline.aws.s3_endpoint_url.empty()) {
    environment["AWS_ENDPOINT_URL_S3"] = pipeline.aws.s3_endpoint_url;
  }
  for (const auto& [name, value] : sm.environment) environment[name] = value;
  request["Environment"] = environment;

  // Tags: which pipeline, session and run the job belongs to, then the user's.
  nlohmann::json tags = nlohmann::json::array();
  tags.push_back({{"Key", kTagPipeline}, {"Value", TagValue(pipeline.name)}});
  tags.push_back({{"Key", kTagSession}, {"Value", TagValue(session.name)}});
  tags.push_back({{"Key", kTagRunId}, {"Value", TagValue(RunIdOf(location.run_uri))}});
  for (const auto& [key, value] : sm.tags) tags.push_back({{"Key", key}, {"Value", value}});
  request["Tags"] = tags;
  return request;
}

std::string WarmPoolReuseWarning(const PipelineConfig& pipeline, size_t index,
                                 const SageMakerConfig& previous, const SageMakerConfig& current) {
  if (!previous.warm_pool || index == 0) return "";
  // Every setting SageMaker compares before it hands a kept instance to the next job.
  std::vector<std::string> differences;
  auto compare = [&](const std::string& key, const auto& a, const auto& b) {
    if (a != b) differences.push_back(key);
  };
  compare("role_arn", previous.role_arn, current.role_arn);
  compare("instance_type", previous.instance_type, current.instance_type);
  compare("instance_count", previous.instance_count, current.instance_count);
  compare("volume_size_gb", previous.volume_size_gb, current.volume_size_gb);
  compare("kms_key_id", previous.kms_key_id, current.kms_key_id);
  compare("vpc_config", previous.vpc_config.IsMap(), current.vpc_config.IsMap());
  compare("vpc_config.security_group_ids", previous.security_group_ids, current.security_group_ids);
  compare("vpc_config.subnets", previous.subnets, current.subnets);
  compare("enable_inter_container_traffic_encryption",
          previous.enable_inter_container_traffic_encryption,
          current.enable_inter_container_traffic_encryption);
  if (differences.empty()) return "";
  std::string list;
  for (const std::string& key : differences) list += (list.empty() ? "" : ", ") + key;
  const config::SessionSpec& session = pipeline.sessions.at(index);
  config::SettingSource source = current.Source(differences.front());
  if (source.path.rfind(session.path + ".", 0) != 0) {
    // The difference comes from the previous session's overrides: point at this session.
    source = {session.loc, session.path};
  }
  return Warning(pipeline, source,
                 "session '" + session.name + "' cannot reuse the warm pool of session '" +
                     pipeline.sessions[index - 1].name + "' (different " + list +
                     "); it starts a new instance");
}

SageMakerPlan PlanSageMakerRun(const PipelineConfig& pipeline,
                               const std::vector<config::ExperimentConfig>& sessions,
                               const SageMakerPlanOptions& options) {
  // --role-arn replaces every session's role; check it as a flag.
  static const std::regex kRoleArn(R"(arn:aws[a-z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-/]+)");
  if (!options.role_arn.empty() && !std::regex_match(options.role_arn, kRoleArn)) {
    throw ConfigError(
        "--role-arn: expected an IAM role ARN like "
        "arn:aws:iam::123456789012:role/SageMakerRole, found \"" +
        options.role_arn + "\"");
  }
  const std::string run_uri =
      SageMakerRunUri(options.s3_bucket.empty() ? pipeline.aws.s3_bucket : options.s3_bucket,
                      options.s3_prefix.empty() ? pipeline.aws.s3_prefix : options.s3_prefix,
                      options.run_id, pipeline);

  SageMakerPlan plan;
  SageMakerConfig previous;
  for (size_t i = 0; i < pipeline.sessions.size(); ++i) {
    const config::SessionSpec& spec = pipeline.sessions[i];
    // The session's settings: pipeline, then its overrides, then --role-arn.
    SageMakerConfig sm = config::ResolveSageMaker(pipeline, spec);
    if (!options.role_arn.empty()) {
      sm.role_arn = options.role_arn;
      std::erase_if(sm.sources, [](const auto& entry) { return entry.first == "role_arn"; });
      // Built field by field: GCC 12 -O3 warns falsely (maybe-uninitialized) on the braced form.
      config::SettingSource flag;
      flag.loc.file = "--role-arn";
      flag.path = "--role-arn";
      sm.sources.emplace_back("role_arn", flag);
    }
    for (std::string& warning : ValidateSageMakerConfig(pipeline, sm)) {
      plan.warnings.push_back(std::move(warning));
    }
    if (std::string warning = WarmPoolReuseWarning(pipeline, i, previous, sm); !warning.empty()) {
      plan.warnings.push_back(std::move(warning));
    }

    // The request, and the local checkpoint it needs in S3 first.
    PlannedJob job;
    job.session = spec.name;
    const JobLocation location{run_uri, InputCheckpointUri(pipeline, i, run_uri),
                               options.timestamp};
    job.request = BuildCreateTrainingJobRequest(pipeline, i, sessions.at(i), sm, location);
    if (spec.checkpoint) {
      job.upload_from = spec.checkpoint->string();
      job.upload_to = location.input_checkpoint_uri;
    }
    plan.jobs.push_back(std::move(job));
    previous = std::move(sm);
  }
  return plan;
}

}  // namespace rlpipe::platform
