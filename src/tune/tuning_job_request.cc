#include "tune/tuning_job_request.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/sha256.h"
#include "platform/hyperparameters.h"
#include "platform/sagemaker_metrics.h"
#include "platform/sagemaker_request.h"

namespace rlpipe::tune {
namespace {

using config::FailAt;

// A range end as SageMaker reads it: integers as integers, others in shortest round-trip form.
std::string RangeEnd(double value, bool integer) {
  if (integer) return std::to_string(static_cast<int64_t>(value));
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  // Shortest text that reads back the same.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[64];
    std::snprintf(shorter, sizeof(shorter), "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buf;
}

const config::SourceLoc& LocOfKey(const SearchSpace& space, const std::string& key) {
  static const config::SourceLoc kNone;
  for (const auto& [name, node] : space.tree.entries) {
    if (name == key) return node.key_loc.line > 0 ? node.key_loc : node.loc;
  }
  return space.tree.loc.line > 0 ? space.tree.loc : kNone;
}

}  // namespace

std::string TuningJobName(const std::string& pipeline, const std::string& session,
                          const std::string& timestamp) {
  const std::string stamp = platform::SageMakerNamePart(timestamp);
  if (stamp.empty() || stamp.size() > 20) {
    throw ConfigError("tuning job timestamp \"" + timestamp +
                      "\": expected 1-20 letters, digits or '-'");
  }
  const std::string names = platform::SageMakerNamePart(pipeline + "-" + session);
  const size_t room = kMaxTuningJobNameLength - stamp.size() - 1;
  if (names.empty()) return "rlpipe-" + stamp;
  if (names.size() <= room) return names + "-" + stamp;
  // Too long: a cut of the names and a hash of the full ones.
  const std::string hash = Sha256Hex(pipeline + '\0' + session).substr(0, 6);
  const std::string cut = platform::CutNamePart(names, room - hash.size() - 1);
  return (cut.empty() ? hash : cut + "-" + hash) + "-" + stamp;
}

std::string ObjectiveMetric(const SearchSpace& space) {
  // The report's figures under the names the container prints them.
  if (space.metric == "best_mean_return") return "best_mean_reward";
  if (space.metric == "final_mean_return") return "eval_mean_reward";
  if (platform::IsSageMakerMetric(space.metric)) return space.metric;
  std::string valid = "best_mean_return, final_mean_return";
  for (const platform::MetricSpec& m : platform::SageMakerMetrics()) {
    valid += std::string(", ") + m.name;
  }
  FailAt(space.metric_loc, "metric",
         "a SageMaker tuning job can only optimise a metric the container prints; '" +
             space.metric + "' is none (valid: " + valid + ")");
}

size_t TunedSession(const config::PipelineConfig& pipeline, const SearchSpace& space) {
  if (space.sessions.size() == 1) {
    for (size_t i = 0; i < pipeline.sessions.size(); ++i) {
      if (pipeline.sessions[i].name == space.sessions[0]) return i;
    }
    FailAt(space.sessions_loc, "sessions", "no session '" + space.sessions[0] + "'");
  }
  if (space.sessions.empty() && pipeline.sessions.size() == 1) return 0;
  FailAt(space.sessions.empty() ? LocOfKey(space, "parameters") : space.sessions_loc, "sessions",
         "a SageMaker tuning job tunes one session: name it with `sessions: [NAME]` (the "
         "pipeline has " +
             std::to_string(pipeline.sessions.size()) + ")");
}

TuningJobPlan PlanTuningJob(const config::PipelineConfig& pipeline, const SearchSpace& space,
                            size_t session_index, const config::ExperimentConfig& resolved,
                            const TuningJobOptions& options) {
  const config::SessionSpec& session = pipeline.sessions.at(session_index);
  TuningJobPlan plan;
  plan.session = session.name;

  // What AWS accepts of the space and the flags.
  const std::string metric = ObjectiveMetric(space);
  const config::SourceLoc strategy_loc = LocOfKey(space, "strategy");
  if (space.strategy != Strategy::kGrid && !options.trials) {
    FailAt(strategy_loc, "strategy", ToString(space.strategy) + " needs --trials N");
  }
  if (options.seeds > 1 && space.strategy != Strategy::kGrid) {
    FailAt(strategy_loc, "strategy",
           "--seeds " + std::to_string(options.seeds) +
               " on SageMaker needs strategy grid (the seed becomes one more categorical "
               "range; Random and Bayesian would treat it as a parameter to optimise)");
  }
  if (options.parallel < 1) {
    throw ConfigError("--parallel " + std::to_string(options.parallel) + ": expected >= 1");
  }
  const size_t ranges = space.parameters.size() + (options.seeds > 1 ? 1 : 0);
  if (ranges > kMaxParameterRanges) {
    FailAt(LocOfKey(space, "parameters"), "parameters",
           std::to_string(ranges) + " ranges; a SageMaker tuning job allows at most " +
               std::to_string(kMaxParameterRanges));
  }

  // The training job the tuning job repeats: the session's, as `rlpipe run --platform
  // sagemaker` plans it.
  config::SageMakerConfig sm = config::ResolveSageMaker(pipeline, session);
  if (!options.role_arn.empty()) sm.role_arn = options.role_arn;
  plan.warnings = platform::ValidateSageMakerConfig(pipeline, sm);
  const std::string run_uri = platform::SageMakerRunUri(
      options.s3_bucket.empty() ? pipeline.aws.s3_bucket : options.s3_bucket,
      options.s3_prefix.empty() ? pipeline.aws.s3_prefix : options.s3_prefix, options.run_id,
      pipeline);
  const platform::JobLocation location{
      run_uri, platform::InputCheckpointUri(pipeline, session_index, run_uri), options.timestamp};
  const nlohmann::json training =
      platform::BuildCreateTrainingJobRequest(pipeline, session_index, resolved, sm, location);

  // What a tuning job's training definition cannot carry.
  auto warn = [&](const std::string& key, const std::string& text) {
    const config::SettingSource source = sm.Source(key);
    plan.warnings.push_back(source.loc.ToString() + ": warning: " + source.path + ": " + text);
  };
  if (sm.warm_pool) warn("warm_pool", "tuning jobs do not use warm pools; ignored");
  if (!sm.environment.empty()) {
    warn("environment", "a tuning job's training jobs get no extra environment; ignored");
  }
  if (sm.use_spot_instances) {
    warn("use_spot_instances",
         "a training job of the tuning job that loses its spot instance starts over (no "
         "CheckpointConfig: one S3 URI would be shared by every training job)");
  }

  // The objective, the limits, the strategy, early stopping.
  nlohmann::json tuning_config;
  tuning_config["Strategy"] = space.strategy == Strategy::kGrid     ? "Grid"
                              : space.strategy == Strategy::kRandom ? "Random"
                                                                    : "Bayesian";
  tuning_config["HyperParameterTuningJobObjective"] = {
      {"Type", space.direction == Direction::kMaximize ? "Maximize" : "Minimize"},
      {"MetricName", metric}};
  nlohmann::json limits = {{"MaxParallelTrainingJobs", options.parallel}};
  if (options.trials) limits["MaxNumberOfTrainingJobs"] = *options.trials;
  tuning_config["ResourceLimits"] = limits;
  tuning_config["TrainingJobEarlyStoppingType"] =
      space.early_stopping == EarlyStopping::kMedian ? "Auto" : "Off";

  // The ranges, named as the container's override hyperparameters.
  nlohmann::json integer = nlohmann::json::array();
  nlohmann::json continuous = nlohmann::json::array();
  nlohmann::json categorical = nlohmann::json::array();
  for (const Parameter& p : space.parameters) {
    const std::string name = platform::kOverrideHyperParameterPrefix + p.key;
    if (!p.IsRange()) {
      if (p.values.size() > kMaxCategoricalValues) {
        FailAt(p.loc, "parameters." + p.key,
               std::to_string(p.values.size()) + " values; SageMaker allows at most " +
                   std::to_string(kMaxCategoricalValues));
      }
      nlohmann::json values = nlohmann::json::array();
      for (const config::Tree& v : p.values) values.push_back(ValueText(v));
      categorical.push_back({{"Name", name}, {"Values", values}});
      continue;
    }
    nlohmann::json range = {{"Name", name},
                            {"MinValue", RangeEnd(p.min, p.integer)},
                            {"MaxValue", RangeEnd(p.max, p.integer)},
                            {"ScalingType", p.scale == Scale::kLog ? "Logarithmic" : "Linear"}};
    (p.integer ? integer : continuous).push_back(range);
  }

  // Seeds: one more categorical range over the session seeds of root seeds seed … seed+M-1.
  nlohmann::json statics = training["HyperParameters"];
  statics["rlpipe_run_uri"] = "";
  if (options.seeds > 1) {
    nlohmann::json values = nlohmann::json::array();
    std::set<uint64_t> distinct;
    for (int m = 0; m < options.seeds; ++m) {
      config::PipelineConfig seeded = pipeline;
      seeded.seed = pipeline.seed + static_cast<uint64_t>(m);
      const uint64_t seed = platform::SessionSeed(seeded, session_index, resolved);
      distinct.insert(seed);
      values.push_back(std::to_string(seed));
    }
    if (distinct.size() != static_cast<size_t>(options.seeds)) {
      throw ConfigError(session.loc.ToString() + ": " + session.path +
                        ": training.seed fixes the session seed, so --seeds " +
                        std::to_string(options.seeds) + " would repeat the same run");
    }
    statics.erase("rlpipe_seed");
    categorical.push_back({{"Name", "rlpipe_seed"}, {"Values", values}});
  }
  nlohmann::json parameter_ranges = nlohmann::json::object();
  if (!integer.empty()) parameter_ranges["IntegerParameterRanges"] = integer;
  if (!continuous.empty()) parameter_ranges["ContinuousParameterRanges"] = continuous;
  if (!categorical.empty()) parameter_ranges["CategoricalParameterRanges"] = categorical;
  tuning_config["ParameterRanges"] = parameter_ranges;

  // The training job definition: the session's job without what a definition has no place for.
  nlohmann::json definition;
  definition["StaticHyperParameters"] = statics;
  definition["AlgorithmSpecification"] = training["AlgorithmSpecification"];
  definition["RoleArn"] = training["RoleArn"];
  definition["OutputDataConfig"] = training["OutputDataConfig"];
  nlohmann::json resources = training["ResourceConfig"];
  resources.erase("KeepAlivePeriodInSeconds");
  definition["ResourceConfig"] = resources;
  definition["StoppingCondition"] = training["StoppingCondition"];
  if (training.contains("VpcConfig")) definition["VpcConfig"] = training["VpcConfig"];
  definition["EnableNetworkIsolation"] = training["EnableNetworkIsolation"];
  definition["EnableInterContainerTrafficEncryption"] =
      training["EnableInterContainerTrafficEncryption"];
  definition["EnableManagedSpotTraining"] = training["EnableManagedSpotTraining"];

  nlohmann::json request;
  request["HyperParameterTuningJobName"] =
      TuningJobName(pipeline.name, session.name, options.timestamp);
  request["HyperParameterTuningJobConfig"] = tuning_config;
  request["TrainingJobDefinition"] = definition;
  request["Tags"] = training["Tags"];
  plan.request = std::move(request);
  return plan;
}

}  // namespace rlpipe::tune
