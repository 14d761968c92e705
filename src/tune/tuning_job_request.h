#pragma once
/// `rlpipe tune --platform sagemaker`: one SageMaker CreateHyperParameterTuningJob request for
/// the session being tuned, built by a pure function (no I/O, clock or environment): printed by
/// --dry-run, compared with golden files and validated against botocore's model in the tests.
///
/// The mapping (docs/tune.md):
///   SPACE.yaml parameters    ParameterRanges: `values:` → CategoricalParameterRanges; a range
///                            → Integer/ContinuousParameterRanges, `scale: log` → Logarithmic.
///                            Each is named rlpipe_set_<key path>: the container applies it
///                            over the session's resolved config (platform/hyperparameters.h).
///   --seeds M (grid only)    a categorical `rlpipe_seed` of the M root seeds' session seeds,
///                            so every grid point runs with every seed
///   metric, direction        HyperParameterTuningJobObjective on a metric the container prints
///                            ([rlpipe-metric]); best_mean_return → best_mean_reward,
///                            final_mean_return → eval_mean_reward, or a metric table name
///   strategy                 Grid (categorical ranges only, per AWS) / Random / Bayesian
///   --trials, --parallel     ResourceLimits (MaxNumberOfTrainingJobs omitted for a grid
///                            without --trials: AWS runs every combination)
///   early_stopping: median   TrainingJobEarlyStoppingType Auto
///   aws.sagemaker            the TrainingJobDefinition as for a training job of that session
///                            (image, role, instance, volume, spot, VPC, KMS, inter-container
///                            encryption); tags on the tuning job. No warm pool, no
///                            Environment (the definition has none) and no CheckpointConfig
///                            (one S3 URI would be shared by every training job): warnings.
///                            Models are not uploaded to the run folder (rlpipe_run_uri is
///                            empty); the best job's model.tar.gz is fetched at the end.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"
#include "tune/space.h"

namespace rlpipe::tune {

/// AWS's limits on CreateHyperParameterTuningJob.
inline constexpr size_t kMaxTuningJobNameLength = 32;
inline constexpr size_t kMaxParameterRanges = 30;  // ranges of all kinds together
inline constexpr size_t kMaxCategoricalValues = 30;

/// `<pipeline>-<session>-<timestamp>` valid for SageMaker's tuning-job name pattern
/// `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}`; when too long, the names are cut to 9 characters and a
/// 6-hex-digit hash of the full names follows them, so different sessions stay different.
std::string TuningJobName(const std::string& pipeline, const std::string& session,
                          const std::string& timestamp);

/// The SageMaker metric the objective reads for the space's `metric:`; throws ConfigError at
/// SPACE.yaml's `metric:` when the container prints no such metric.
std::string ObjectiveMetric(const SearchSpace& space);

/// Inputs beside the pipeline and the space.
struct TuningJobOptions {
  std::string run_id;      // names the run's S3 folder (as `rlpipe run --run-id`)
  std::string s3_bucket;   // "" = aws.s3_bucket
  std::string s3_prefix;   // "" = aws.s3_prefix
  std::string role_arn;    // "" = the session's aws.sagemaker.role_arn
  std::string timestamp;   // job-name suffix, e.g. platform::JobTimestamp(now)
  std::optional<int> trials;  // MaxNumberOfTrainingJobs
  int parallel = 1;           // MaxParallelTrainingJobs
  int seeds = 1;              // > 1 only with strategy grid
};

/// The planned tuning job and the warnings to print.
struct TuningJobPlan {
  std::string session;      // the session being tuned
  nlohmann::json request;   // CreateHyperParameterTuningJob input
  std::vector<std::string> warnings;
};

/// Plans the tuning job of the one session the space tunes (`sessions: [name]`, or the
/// pipeline's only session). `resolved` is that session's resolved config. Pure; throws
/// ConfigError (SPACE.yaml:line:col or the pipeline's) on anything AWS or the container would
/// reject: several sessions, too many ranges or values, a strategy without --trials, seeds with
/// a strategy other than grid, the SageMaker settings (platform::ValidateSageMakerConfig).
TuningJobPlan PlanTuningJob(const config::PipelineConfig& pipeline, const SearchSpace& space,
                            size_t session_index, const config::ExperimentConfig& resolved,
                            const TuningJobOptions& options);

/// The index of the session a SageMaker tuning job tunes; throws ConfigError at `sessions:`
/// when the space does not name exactly one (and the pipeline has several).
size_t TunedSession(const config::PipelineConfig& pipeline, const SearchSpace& space);

}  // namespace rlpipe::tune
