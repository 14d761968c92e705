#include "config/pipeline_config.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <regex>
#include <system_error>

#include "core/error.h"

namespace rlpipe::config {
namespace {

namespace fs = std::filesystem;

constexpr double kInf = std::numeric_limits<double>::infinity();

bool IsPresent(const MapReader& reader, const std::string& key) {
  return reader.node() != nullptr && reader.node()->Find(key) != nullptr &&
         !reader.node()->Find(key)->IsNull();
}

// A map (kept whole as a Tree) or null; anything else is a type error.
Tree ReadMapOrNull(MapReader& reader, const std::string& key) {
  const Tree* node = reader.Child(key);
  if (node == nullptr || node->IsNull()) return Tree();
  if (!node->IsMap()) {
    reader.Fail(key,
                "expected a mapping or null, found " +
                    std::string(node->kind == Tree::Kind::kSequence ? "a list" : node->scalar));
  }
  return *node;
}

// A list of plain strings (e.g. subnet ids).
std::vector<std::string> ReadStringList(MapReader& reader, const std::string& key) {
  std::vector<std::string> out;
  const Tree* node = reader.Child(key);
  if (node == nullptr || node->IsNull()) return out;
  if (node->kind != Tree::Kind::kSequence) reader.Fail(key, "expected a list of strings");
  for (size_t i = 0; i < node->items.size(); ++i) {
    if (node->items[i].kind != Tree::Kind::kScalar) {
      FailAt(node->items[i].loc, reader.PathOf(key) + "[" + std::to_string(i) + "]",
             "expected a string");
    }
    out.push_back(node->items[i].scalar);
  }
  return out;
}

// A mapping of names to plain string values (tags, environment), in file order.
std::vector<std::pair<std::string, std::string>> ReadStringMap(MapReader& reader,
                                                               const std::string& key) {
  std::vector<std::pair<std::string, std::string>> out;
  const Tree map = ReadMapOrNull(reader, key);
  for (const auto& [name, value] : map.entries) {
    if (value.kind != Tree::Kind::kScalar) {
      FailAt(value.IsNull() ? value.key_loc : value.loc, reader.PathOf(key) + "." + name,
             "expected a string value");
    }
    out.emplace_back(name, value.scalar);
  }
  return out;
}

// Resolves a path written in the pipeline: the pipeline's folder first, then the working folder.
fs::path ResolveFile(const std::string& raw, const fs::path& pipeline_dir, const MapReader& reader,
                     const std::string& key) {
  if (raw.empty()) reader.Fail(key, "expected a file path, found an empty string");
  const fs::path written(raw);
  std::error_code ec;
  if (written.is_absolute()) {
    if (fs::exists(written, ec)) return written.lexically_normal();
    reader.Fail(key, "file not found: " + written.lexically_normal().string());
  }
  const fs::path beside = (pipeline_dir / written).lexically_normal();
  if (fs::exists(beside, ec)) return beside;
  const fs::path from_cwd = (fs::current_path() / written).lexically_normal();
  if (fs::exists(from_cwd, ec)) return from_cwd;
  reader.Fail(key, "file not found: tried " + beside.string() +
                       " (relative to the pipeline file) and " + from_cwd.string() +
                       " (relative to the working directory)");
}

// Reads one `sagemaker:` mapping (the pipeline's, or a session's override) at key path `path`.
void ReadSageMaker(const Tree* node, SageMakerConfig& sm, const std::string& path) {
  MapReader reader(node, path, "SageMaker settings");
  reader.Ignore("enabled", "sessions run on SageMaker with `rlpipe run --platform sagemaker`");
  reader.Get("instance_type", &sm.instance_type);
  reader.Get("instance_count", &sm.instance_count);
  reader.CheckRange("instance_count", sm.instance_count, 1, kInf);
  reader.Get("volume_size_gb", &sm.volume_size_gb);
  reader.CheckRange("volume_size_gb", sm.volume_size_gb, 1, 16384);
  reader.Get("max_run_seconds", &sm.max_run_seconds);
  reader.CheckRange("max_run_seconds", static_cast<double>(sm.max_run_seconds), 1, 2419200);

  // warm_pool: either a bool or { enabled, max_instances, retention_period_seconds }.
  const Tree* warm_pool = reader.Child("warm_pool");
  if (warm_pool != nullptr && warm_pool->IsMap()) {
    MapReader pool(warm_pool, path + ".warm_pool", "warm pool settings");
    pool.Get("enabled", &sm.warm_pool);
    pool.Ignore("max_instances", "a SageMaker warm pool keeps the one instance a session used");
    pool.Get("retention_period_seconds", &sm.warm_pool_retention_seconds);
    pool.CheckRange("retention_period_seconds", sm.warm_pool_retention_seconds, 0, 3600);
    pool.Finish();
  } else if (warm_pool != nullptr && warm_pool->kind == Tree::Kind::kSequence) {
    reader.Fail("warm_pool", "expected true, false or a mapping, found a list");
  } else {
    reader.Get("warm_pool", &sm.warm_pool);
  }

  reader.Get("use_spot_instances", &sm.use_spot_instances);
  reader.Get("max_wait_seconds", &sm.max_wait_seconds);
  reader.CheckRange("max_wait_seconds", static_cast<double>(sm.max_wait_seconds), 0, kInf);
  std::optional<std::string> image;
  reader.Get("container_image_uri", &image);
  sm.container_image_uri = image.value_or("");
  std::optional<std::string> role;
  reader.Get("role_arn", &role);
  sm.role_arn = role.value_or("");

  // vpc_config: { security_group_ids: [...], subnets: [...] }, kept as a tree too.
  sm.vpc_config = ReadMapOrNull(reader, "vpc_config");
  sm.security_group_ids.clear();
  sm.subnets.clear();
  if (sm.vpc_config.IsMap()) {
    MapReader vpc(&sm.vpc_config, path + ".vpc_config", "VPC settings");
    sm.security_group_ids = ReadStringList(vpc, "security_group_ids");
    sm.subnets = ReadStringList(vpc, "subnets");
    vpc.Finish();
  }

  // Encryption, and extra tags / environment for the job.
  std::optional<std::string> kms_key;
  reader.Get("kms_key_id", &kms_key);
  sm.kms_key_id = kms_key.value_or("");
  reader.Get("enable_inter_container_traffic_encryption",
             &sm.enable_inter_container_traffic_encryption);
  sm.tags = ReadStringMap(reader, "tags");
  sm.environment = ReadStringMap(reader, "environment");
  reader.Finish();
}

// Records where every key of a sagemaker mapping was written (later calls win).
void RecordSources(const Tree& node, const std::string& relative, const std::string& path,
                   std::vector<std::pair<std::string, SettingSource>>& sources) {
  for (const auto& [key, value] : node.entries) {
    const std::string rel = relative.empty() ? key : relative + "." + key;
    const SettingSource source{value.IsNull() ? value.key_loc : value.loc, path + "." + rel};
    auto it = std::find_if(sources.begin(), sources.end(),
                           [&](const auto& entry) { return entry.first == rel; });
    if (it == sources.end()) {
      sources.emplace_back(rel, source);
    } else {
      it->second = source;
    }
    // Maps merge key by key; anything else replaces the base's subtree whole.
    if (value.IsMap()) {
      RecordSources(value, rel, path, sources);
    } else {
      std::erase_if(sources,
                    [&](const auto& entry) { return entry.first.rfind(rel + ".", 0) == 0; });
    }
  }
}

void ReadAws(const Tree* node, AwsConfig& aws) {
  MapReader reader(node, "aws", "AWS settings");
  reader.Get("use_s3", &aws.use_s3);
  reader.Get("s3_bucket", &aws.s3_bucket);
  reader.Get("s3_prefix", &aws.s3_prefix);
  reader.Get("region", &aws.region);
  reader.Get("s3_endpoint_url", &aws.s3_endpoint_url);
  reader.Get("sns_topic_arn", &aws.sns_topic_arn);
  static const std::regex kSnsArn(
      R"(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?)");
  if (!aws.sns_topic_arn.empty() && !std::regex_match(aws.sns_topic_arn, kSnsArn)) {
    reader.Fail("sns_topic_arn",
                "expected an SNS topic ARN like "
                "arn:aws:sns:us-east-1:123456789012:topic, found \"" +
                    aws.sns_topic_arn + "\"");
  }
  const Tree* sagemaker = reader.Child("sagemaker");
  ReadSageMaker(sagemaker, aws.sagemaker, "aws.sagemaker");
  if (sagemaker != nullptr) aws.sagemaker_tree = *sagemaker;
  aws.sagemaker.section = {sagemaker != nullptr ? sagemaker->loc : reader.LocOf("sagemaker"),
                           "aws.sagemaker"};
  if (sagemaker != nullptr && sagemaker->IsMap()) {
    RecordSources(*sagemaker, "", "aws.sagemaker", aws.sagemaker.sources);
  }
  reader.Finish();
  if (aws.use_s3 && aws.s3_bucket.empty()) {
    reader.Fail("s3_bucket", "a bucket name is required when use_s3 is true");
  }
}

// Parameter names hold letters, digits, '_' and '.'; a glob adds '*' and '?'.
bool IsValidParameterGlob(const std::string& glob) {
  if (glob.empty()) return false;
  for (const char c : glob) {
    const bool name_char = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    if (!name_char && c != '*' && c != '?') return false;
  }
  return true;
}

// A list of globs over parameter names (`transfer.freeze`, `transfer.reset`), or nothing.
std::vector<ParameterPattern> ReadParameterPatterns(MapReader& reader, const std::string& key) {
  std::vector<ParameterPattern> patterns;
  const Tree* list = reader.Child(key);
  if (list == nullptr || list->IsNull()) return patterns;
  if (list->kind != Tree::Kind::kSequence) {
    reader.Fail(key, "expected a list of parameter name patterns");
  }
  for (size_t i = 0; i < list->items.size(); ++i) {
    const Tree& item = list->items[i];
    const std::string item_path = reader.PathOf(key) + "[" + std::to_string(i) + "]";
    if (item.kind != Tree::Kind::kScalar || !IsValidParameterGlob(item.scalar)) {
      FailAt(item.loc, item_path,
             "expected a parameter name pattern (letters, digits, '_', '.', wildcards '*' "
             "and '?'), found '" +
                 item.scalar + "'");
    }
    patterns.push_back({item.scalar, item.loc, item_path});
  }
  return patterns;
}

// `transfer:` of a session: load parts, freeze and reset globs, optimizer and log_std resets.
TransferConfig ReadTransfer(const Tree* node, const std::string& path) {
  TransferConfig transfer;
  MapReader reader(node, path, "transfer settings");
  const std::vector<std::pair<std::string, TransferPart>> parts = {
      {"policy", TransferPart::kPolicy},
      {"value", TransferPart::kValue},
      {"normaliser", TransferPart::kNormaliser}};

  // load: a non-empty list of distinct part names.
  if (const Tree* load = reader.Child("load"); load != nullptr && !load->IsNull()) {
    if (load->kind != Tree::Kind::kSequence || load->items.empty()) {
      reader.Fail("load", "expected a non-empty list of parts (policy, value, normaliser)");
    }
    transfer.load.clear();
    for (size_t i = 0; i < load->items.size(); ++i) {
      const Tree& item = load->items[i];
      const std::string item_path = reader.PathOf("load") + "[" + std::to_string(i) + "]";
      auto it = std::find_if(parts.begin(), parts.end(),
                             [&item](const auto& p) { return p.first == item.scalar; });
      if (item.kind != Tree::Kind::kScalar || it == parts.end()) {
        FailAt(item.loc, item_path,
               "expected one of policy, value, normaliser, found '" + item.scalar + "'");
      }
      if (transfer.Loads(it->second)) {
        FailAt(item.loc, item_path, "part '" + item.scalar + "' is listed twice");
      }
      transfer.load.push_back(it->second);
    }
  }

  // freeze, reset: lists of globs over parameter names.
  transfer.freeze = ReadParameterPatterns(reader, "freeze");
  transfer.reset = ReadParameterPatterns(reader, "reset");
  reader.Get("reset_optimizer", &transfer.reset_optimizer);
  reader.Get("reset_log_std", &transfer.reset_log_std);
  reader.Finish();
  return transfer;
}

/// "a, b, c"
std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& word : words) text += (text.empty() ? "" : ", ") + word;
  return text;
}

/// Pipeline `monitoring:`; unknown keys are warnings (the seed's files carry keys for tools
/// rlpipe does not have).
void ReadMonitoring(const Tree* node, PipelineConfig& pipeline) {
  if (node == nullptr || node->IsNull()) return;
  if (!node->IsMap()) FailAt(node->loc, "monitoring", "expected a mapping");
  PipelineMonitoringConfig& monitoring = pipeline.monitoring;
  const std::vector<std::string> known = {"track_metrics", "report_format", "generate_plots",
                                          "save_report"};
  // track_metrics: a list of metric names the report knows.
  if (const Tree* list = node->Find("track_metrics"); list != nullptr && !list->IsNull()) {
    if (list->kind != Tree::Kind::kSequence) {
      FailAt(list->loc, "monitoring.track_metrics", "expected a list of metric names");
    }
    monitoring.track_metrics.clear();
    for (size_t i = 0; i < list->items.size(); ++i) {
      const Tree& item = list->items[i];
      const std::string path = "monitoring.track_metrics[" + std::to_string(i) + "]";
      if (item.kind != Tree::Kind::kScalar || !FindTrackableMetric(item.scalar)) {
        std::vector<std::string> names;
        for (const TrackableMetric& m : TrackableMetrics()) names.push_back(m.name);
        names.push_back("task/<info key>");
        FailAt(item.loc, path, "unknown metric '" + item.scalar + "' (valid: " + Join(names) + ")");
      }
      monitoring.track_metrics.push_back(item.scalar);
    }
  }
  MapReader reader(node, "monitoring", "monitoring settings");
  reader.Accept("track_metrics");
  std::string format = ToString(monitoring.report_format);
  reader.Get("report_format", &format);
  reader.CheckChoice("report_format", format, {"json", "html", "both"});
  monitoring.report_format = format == "json"   ? ReportFormat::kJson
                             : format == "html" ? ReportFormat::kHtml
                                                : ReportFormat::kBoth;
  reader.Get("generate_plots", &monitoring.generate_plots);
  reader.Get("save_report", &monitoring.save_report);
  for (const auto& [key, value] : node->entries) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      reader.Ignore(key, "known keys: " + Join(known));
    }
  }
  reader.Finish();
}

/// `post_pipeline:`; unknown keys are warnings.
void ReadPostPipeline(const Tree* node, PipelineConfig& pipeline) {
  if (node == nullptr || node->IsNull()) return;
  if (!node->IsMap()) FailAt(node->loc, "post_pipeline", "expected a mapping");
  PostPipelineConfig& post = pipeline.post_pipeline;
  const std::vector<std::string> known = {"evaluate_final_models", "eval_episodes",
                                          "compare_sessions", "archive_results",
                                          "archive_location"};
  MapReader reader(node, "post_pipeline", "post-pipeline settings");
  reader.Get("evaluate_final_models", &post.evaluate_final_models);
  reader.Get("eval_episodes", &post.eval_episodes);
  reader.CheckRange("eval_episodes", post.eval_episodes, 1, 100000);
  reader.Get("compare_sessions", &post.compare_sessions);
  reader.Get("archive_results", &post.archive_results);
  std::optional<std::string> location;
  reader.Get("archive_location", &location);
  post.archive_location = location.value_or("");
  if (post.archive_location.starts_with("s3://")) {
    reader.Fail("archive_location",
                "expected a local folder, found an S3 URI (with aws.use_s3 the archive is also "
                "uploaded to the run's archives/ folder)");
  }
  for (const auto& [key, value] : node->entries) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      reader.Ignore(key, "known keys: " + Join(known));
    }
  }
  reader.Finish();
}

SessionSpec ReadSession(const Tree& item, size_t index, const PipelineConfig& pipeline) {
  const std::string path = "sessions[" + std::to_string(index) + "]";
  MapReader reader(&item, path, "session settings");
  if (item.IsNull()) FailAt(item.loc, path, "expected a session mapping, found null");
  SessionSpec session;
  session.loc = item.loc;
  const fs::path pipeline_dir = pipeline.file.parent_path();

  // Name: required, a plain file name.
  reader.Get("name", &session.name);
  if (!IsPresent(reader, "name")) reader.Fail("name", "missing required key (the session name)");
  if (!IsSafeSessionName(session.name)) {
    reader.Fail("name",
                "expected a plain file name (not empty, '.' or '..', no '/', '\\' or "
                "control characters), found \"" +
                    session.name + "\"");
  }
  reader.Get("description", &session.description);

  // Training config file: required, resolved to an absolute path.
  std::string config_path;
  reader.Get("config", &config_path);
  if (!IsPresent(reader, "config")) {
    reader.Fail("config", "missing required key (the session's training config file)");
  }
  session.config = ResolveFile(config_path, pipeline_dir, reader, "config");

  // timesteps: null keeps the config's value; otherwise a positive integer.
  reader.Get("timesteps", &session.timesteps);
  if (session.timesteps && *session.timesteps <= 0) {
    reader.Fail("timesteps",
                "must be a positive integer (omit it or use null for the config's "
                "value), found " +
                    reader.node()->Find("timesteps")->scalar);
  }

  // Transfer from the previous session only when the pipeline allows it.
  reader.Get("use_previous_checkpoint", &session.use_previous_checkpoint);
  std::optional<std::string> checkpoint;
  reader.Get("checkpoint", &checkpoint);
  if (checkpoint) {
    session.checkpoint = ResolveFile(*checkpoint, pipeline_dir, reader, "checkpoint");
    session.checkpoint_loc = reader.LocOf("checkpoint");
  }

  // How the starting model is loaded; only meaningful when there is one.
  const Tree* transfer = reader.Child("transfer");
  session.transfer = ReadTransfer(transfer, reader.PathOf("transfer"));
  if (transfer != nullptr && !transfer->IsNull() && !session.use_previous_checkpoint &&
      !session.checkpoint) {
    reader.Fail("transfer",
                "the session starts from no model; set use_previous_checkpoint: true or "
                "checkpoint:");
  }
  if (!pipeline.enable_transfer_learning) session.use_previous_checkpoint = false;

  // Overrides keep the pipeline file's locations for later error messages.
  session.overrides = ReadMapOrNull(reader, "overrides");
  session.aws_overrides = ReadMapOrNull(reader, "aws_overrides");
  session.path = path;
  if (session.aws_overrides.IsMap()) {
    // Only the SageMaker settings differ per session; they are checked like aws.sagemaker.
    MapReader aws(&session.aws_overrides, path + ".aws_overrides", "per-session AWS settings");
    SageMakerConfig ignored;
    ReadSageMaker(aws.Child("sagemaker"), ignored, path + ".aws_overrides.sagemaker");
    aws.Finish();
  }

  MapReader criteria(reader.Child("success_criteria"), path + ".success_criteria",
                     "success criteria");
  criteria.Get("min_reward", &session.success_criteria.min_reward);
  criteria.Get("min_episodes", &session.success_criteria.min_episodes);
  if (session.success_criteria.min_episodes) {
    criteria.CheckRange("min_episodes", static_cast<double>(*session.success_criteria.min_episodes),
                        0, kInf);
  }
  criteria.Finish();
  reader.Finish();
  return session;
}

}  // namespace

std::string ToString(TransferPart part) {
  switch (part) {
    case TransferPart::kPolicy:
      return "policy";
    case TransferPart::kValue:
      return "value";
    case TransferPart::kNormaliser:
      return "normaliser";
  }
  return "unknown";
}

bool TransferConfig::Loads(TransferPart part) const {
  return std::find(load.begin(), load.end(), part) != load.end();
}

bool TransferConfig::IsDefault() const {
  const TransferConfig defaults;
  return load == defaults.load && freeze.empty() && reset.empty() &&
         reset_optimizer == defaults.reset_optimizer && reset_log_std == defaults.reset_log_std;
}

TransferConfig ParseTransferConfig(const Tree* node, const std::string& path) {
  return ReadTransfer(node, path);
}

std::string ToJson(const TransferConfig& transfer) {
  // Part names and parameter globs hold no character JSON would escape (ReadTransfer checks them).
  auto list = [](const std::vector<std::string>& items) {
    std::string text = "[";
    for (size_t i = 0; i < items.size(); ++i) text += (i ? ", \"" : "\"") + items[i] + "\"";
    return text + "]";
  };
  std::vector<std::string> load, freeze, reset;
  for (TransferPart part : transfer.load) load.push_back(ToString(part));
  for (const ParameterPattern& pattern : transfer.freeze) freeze.push_back(pattern.glob);
  for (const ParameterPattern& pattern : transfer.reset) reset.push_back(pattern.glob);
  return "{\"load\": " + list(load) + ", \"freeze\": " + list(freeze) +
         ", \"reset\": " + list(reset) +
         ", \"reset_optimizer\": " + (transfer.reset_optimizer ? "true" : "false") +
         ", \"reset_log_std\": " + (transfer.reset_log_std ? "true" : "false") + "}";
}

SettingSource SageMakerConfig::Source(const std::string& key) const {
  // The key itself, else its nearest written parent ("warm_pool" for "warm_pool.enabled").
  std::string probe = key;
  while (!probe.empty()) {
    for (const auto& [rel, source] : sources) {
      if (rel == probe) return source;
    }
    const size_t dot = probe.rfind('.');
    probe = dot == std::string::npos ? "" : probe.substr(0, dot);
  }
  return {section.loc, section.path + "." + key};
}

SageMakerConfig ResolveSageMaker(const PipelineConfig& pipeline, const SessionSpec& session) {
  const Tree* overlay =
      session.aws_overrides.IsMap() ? session.aws_overrides.Find("sagemaker") : nullptr;
  if (overlay == nullptr || !overlay->IsMap()) return pipeline.aws.sagemaker;

  // The pipeline's section with the session's keys merged over it, read again strictly.
  Tree merged = pipeline.aws.sagemaker_tree;
  if (merged.IsMap()) {
    DeepMerge(merged, *overlay);
  } else {
    merged = *overlay;
  }
  SageMakerConfig sm;
  ReadSageMaker(&merged, sm, "aws.sagemaker");
  sm.section = pipeline.aws.sagemaker.section;
  sm.sources = pipeline.aws.sagemaker.sources;
  RecordSources(*overlay, "", session.path + ".aws_overrides.sagemaker", sm.sources);
  return sm;
}

std::string ToString(ReportFormat format) {
  switch (format) {
    case ReportFormat::kJson:
      return "json";
    case ReportFormat::kHtml:
      return "html";
    case ReportFormat::kBoth:
      return "both";
  }
  return "both";
}

const std::vector<TrackableMetric>& TrackableMetrics() {
  // The seed's names for the rollout figures, then every train/* value an algorithm reports
  // (its metrics.csv column keeps SB3's name).
  static const std::vector<TrackableMetric> kMetrics = [] {
    std::vector<TrackableMetric> metrics = {
        {"episode_reward_mean", "mean_episode_return", "training episode return (last 100)"},
        {"episode_length_mean", "mean_episode_length", "training episode length (steps)"},
        {"fps", "steps_per_s", "env steps per second"},
    };
    for (const char* name :
         {"approx_kl", "clip_fraction", "entropy_loss", "explained_variance", "learning_rate",
          "loss", "policy_gradient_loss", "value_loss", "std", "actor_loss", "critic_loss",
          "ent_coef", "ent_coef_loss", "policy_loss", "n_updates"}) {
      metrics.push_back({name, std::string("train/") + name, name});
    }
    return metrics;
  }();
  return kMetrics;
}

std::optional<TrackableMetric> FindTrackableMetric(const std::string& name) {
  for (const TrackableMetric& metric : TrackableMetrics()) {
    if (metric.name == name || metric.column == name) return metric;
  }
  // task/<info key>: a task statistic, named as its metrics.csv column.
  if (name.starts_with("task/") && name.size() > 5) {
    return TrackableMetric{name, name, name.substr(5) + " (task statistic)"};
  }
  return std::nullopt;
}

bool IsSafeSessionName(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return false;
  for (const char c : name) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

PipelineConfig LoadPipeline(const fs::path& file) {
  PipelineConfig pipeline;
  pipeline.file = fs::absolute(file).lexically_normal();
  pipeline.name = file.stem().string();
  TakeNoEffectWarnings();  // this file's warnings only
  const Tree root = LoadYamlFile(file);
  if (root.IsNull()) FailAt(root.loc, "sessions", "expected a pipeline with a sessions list");
  MapReader top(&root, "", "pipeline settings");

  // Pipeline-wide settings.
  top.Get("name", &pipeline.name);
  if (!IsSafeSessionName(pipeline.name)) {
    top.Fail("name",
             "expected a plain name (not empty, '.' or '..', no '/', '\\' or control "
             "characters), found \"" +
                 pipeline.name + "\"");
  }
  top.Get("description", &pipeline.description);
  int64_t seed = 0;
  top.Get("seed", &seed);
  top.CheckRange("seed", static_cast<double>(seed), 0, kInf);
  pipeline.seed = static_cast<uint64_t>(seed);
  top.Get("continue_on_error", &pipeline.continue_on_error);
  top.Get("enable_transfer_learning", &pipeline.enable_transfer_learning);
  top.Get("save_all_checkpoints", &pipeline.save_all_checkpoints);
  ReadAws(top.Child("aws"), pipeline.aws);
  ReadMonitoring(top.Child("monitoring"), pipeline);
  ReadPostPipeline(top.Child("post_pipeline"), pipeline);
  top.Ignore("cost_optimization", "`rlpipe cost` estimates a pipeline's SageMaker bill");
  const Tree* sessions = top.Child("sessions");
  top.Finish();

  // Sessions: a non-empty list of uniquely named entries.
  if (sessions == nullptr || sessions->IsNull()) {
    FailAt(sessions != nullptr ? sessions->loc : root.loc, "sessions",
           "missing required list of sessions");
  }
  if (sessions->kind != Tree::Kind::kSequence || sessions->items.empty()) {
    FailAt(sessions->loc, "sessions", "expected a non-empty list of sessions");
  }
  std::map<std::string, SourceLoc> first_seen;
  for (size_t i = 0; i < sessions->items.size(); ++i) {
    SessionSpec session = ReadSession(sessions->items[i], i, pipeline);
    const SourceLoc name_loc = sessions->items[i].Find("name")->loc;
    const auto [it, inserted] = first_seen.emplace(session.name, name_loc);
    if (!inserted) {
      FailAt(name_loc, "sessions[" + std::to_string(i) + "].name",
             "duplicate session name '" + session.name + "' (first at line " +
                 std::to_string(it->second.line) + ", again at line " +
                 std::to_string(name_loc.line) + ")");
    }
    pipeline.sessions.push_back(std::move(session));
  }
  const std::vector<std::string> warnings = TakeNoEffectWarnings();
  pipeline.warnings.insert(pipeline.warnings.end(), warnings.begin(), warnings.end());
  return pipeline;
}

ExperimentConfig ResolveSession(const PipelineConfig& /*pipeline*/, const SessionSpec& session) {
  // The session's training config with its overrides merged in (locations kept per file).
  Tree tree = LoadYamlFile(session.config);
  if (session.overrides.IsMap()) DeepMerge(tree, session.overrides);

  // `timesteps` replaces training.total_timesteps so the resolved YAML shows the real value.
  if (session.timesteps) {
    if (tree.IsNull()) tree.kind = Tree::Kind::kMap;
    Tree* training = tree.IsMap() ? tree.Find("training") : nullptr;
    if (training == nullptr) {
      Tree section;
      section.kind = Tree::Kind::kMap;
      section.loc = session.loc;
      tree.Set("training", std::move(section));
      training = tree.Find("training");
    } else if (training->IsNull()) {
      training->kind = Tree::Kind::kMap;
    }
    Tree value = Tree::Scalar(std::to_string(*session.timesteps), session.loc);
    value.key_loc = session.loc;
    training->Set("total_timesteps", std::move(value));
  }
  return ParseExperimentConfig(tree);
}

}  // namespace rlpipe::config
