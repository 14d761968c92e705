#pragma once
/// `rlpipe cost`: what a pipeline would cost on SageMaker, from an editable price table
/// (aws/pricing.yaml). Every number is an estimate: list prices as of the table's date, an
/// assumed spot discount, and an assumed training throughput per instance type.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"

namespace rlpipe::platform {

/// aws/pricing.yaml, loaded strictly.
struct PriceTable {
  std::filesystem::path file;
  std::string as_of;   // date of the list prices
  std::string source;  // where they come from
  std::string currency = "USD";
  double spot_discount = 0.7;          // spot price = on-demand * (1 - spot_discount), in 0..0.95
  double billed_overhead_seconds = 0;  // billed per job beyond training, >= 0
  /// region → instance type → on-demand price per instance-hour.
  std::map<std::string, std::map<std::string, double>> on_demand_per_hour;
  /// instance type → environment steps per second of one instance (an assumption).
  std::map<std::string, double> env_steps_per_second;
};

/// Loads a price table. Throws ConfigError "file:line:col: key path: problem" on unknown keys,
/// wrong types and out-of-range values; IoError when the file cannot be read.
PriceTable LoadPriceTable(const std::filesystem::path& file);

/// The estimate of one session.
struct SessionCost {
  std::string session;
  std::string instance_type;
  int instance_count = 1;
  int64_t timesteps = 0;
  double hours = 0;        // billed hours per instance (training + overhead)
  bool capped = false;     // hours were cut at max_run_seconds (the job would be stopped)
  double on_demand = 0;    // billed hours * instances * on-demand price
  double spot = 0;         // the same at the assumed spot discount
  double warm_pool = 0;    // retention billed because the next session cannot reuse it
  bool uses_spot = false;  // the session's setting
  double estimate = 0;     // spot or on-demand as configured, plus warm_pool
};

/// The estimate of a pipeline.
struct CostEstimate {
  std::string region;
  bool region_defaulted = false;  // aws.region was empty: us-east-1 was assumed
  std::vector<SessionCost> sessions;
  double on_demand = 0, spot = 0, warm_pool = 0, estimate = 0;  // totals
};

/// Estimates every session (sessions[i] resolved from pipeline.sessions[i]) with its merged
/// SageMaker settings. Warm-pool retention is billed in full after a session whose pool the next
/// session cannot reuse (the last one, or one with different settings); reuse is assumed to be
/// immediate. Throws ConfigError naming the session's instance_type setting when the table has
/// no price or throughput for it, or the region when the table lacks the region.
CostEstimate EstimateCost(const config::PipelineConfig& pipeline,
                          const std::vector<config::ExperimentConfig>& sessions,
                          const PriceTable& prices);

/// The estimate as a table with a header saying where the numbers come from.
std::string FormatCostReport(const config::PipelineConfig& pipeline, const CostEstimate& estimate,
                             const PriceTable& prices);

}  // namespace rlpipe::platform
