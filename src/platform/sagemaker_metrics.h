#pragma once
/// The metrics a SageMaker training job reports. The container prints each as one stdout line
///   [rlpipe-metric] <name>=<value>
/// and the job's MetricDefinitions (generated from the same table) tell SageMaker how to find
/// them in the log, so the two cannot drift apart.
#include <string>
#include <string_view>
#include <vector>

namespace rlpipe::platform {

/// One metric the container reports.
struct MetricSpec {
  const char* name;         // SageMaker metric name and the word printed before '='
  const char* description;  // what it measures (docs, --help)
};

/// The table: every metric the container may print, in a stable order (at most 40, AWS's limit).
const std::vector<MetricSpec>& SageMakerMetrics();

/// True when `name` is in SageMakerMetrics().
bool IsSageMakerMetric(std::string_view name);

/// "[rlpipe-metric] name=value" (no newline). The value is printed with up to 10 significant
/// digits ("%.10g": 12345, -3.5, 1.5e-07, 1e+12); NaN and infinities print as "nan", "inf",
/// "-inf", which the regexes deliberately do not match (SageMaker cannot store them). Throws
/// std::invalid_argument for a name not in the table (a programming error).
std::string FormatMetricLine(std::string_view name, double value);

/// One SageMaker MetricDefinition.
struct MetricDefinition {
  std::string name;   // <= 255 characters
  std::string regex;  // <= 500 characters; group 1 captures the value
};

/// The MetricDefinitions for AlgorithmSpecification, one per table row, in table order.
std::vector<MetricDefinition> MetricDefinitions();

}  // namespace rlpipe::platform
