#include "platform/cost.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "platform/sagemaker_request.h"

namespace rlpipe::platform {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr char kDefaultRegion[] = "us-east-1";

/// A mapping of names to positive numbers at `key` of `reader` (prices, throughputs).
std::map<std::string, double> ReadPositiveNumbers(const config::Tree& node,
                                                  const std::string& path) {
  std::map<std::string, double> out;
  config::MapReader reader(&node, path);
  for (const auto& [name, value] : node.entries) {
    double number = 0;
    reader.Get(name, &number);
    reader.CheckRange(name, number, 0, kInf, /*lo_open=*/true);
    out[name] = number;
  }
  reader.Finish();
  return out;
}

/// The mapping at `key` (required).
const config::Tree& RequiredMap(config::MapReader& reader, const std::string& key) {
  const config::Tree* node = reader.Child(key);
  if (node == nullptr || node->IsNull()) reader.Fail(key, "missing required mapping");
  if (!node->IsMap()) reader.Fail(key, "expected a mapping");
  return *node;
}

/// "$1.23" with the table's currency when it is not USD.
std::string Money(double value, const PriceTable& prices) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f", value);
  // Appended, not "$" + std::string: GCC 12 -O3 reports a false -Wrestrict overlap for that.
  std::string money = prices.currency == "USD" ? "$" : "";
  money += text;
  if (prices.currency != "USD") {
    money += ' ';
    money += prices.currency;
  }
  return money;
}

/// The names of a map's keys, comma-separated (for "known: …").
template <typename Map>
std::string Keys(const Map& map) {
  std::string out;
  for (const auto& [key, value] : map) out += (out.empty() ? "" : ", ") + key;
  return out;
}

}  // namespace

PriceTable LoadPriceTable(const std::filesystem::path& file) {
  PriceTable table;
  table.file = file;
  const config::Tree root = config::LoadYamlFile(file);
  config::MapReader reader(&root, "", "price table");
  // Provenance first: a table must say how old its prices are.
  reader.Get("as_of", &table.as_of);
  if (table.as_of.empty()) reader.Fail("as_of", "missing: the date the prices were copied");
  reader.Get("source", &table.source);
  if (table.source.empty()) reader.Fail("source", "missing: where the prices come from");
  reader.Get("currency", &table.currency);
  // Assumptions.
  reader.Get("spot_discount", &table.spot_discount);
  reader.CheckRange("spot_discount", table.spot_discount, 0, 0.95);
  reader.Get("billed_overhead_seconds", &table.billed_overhead_seconds);
  reader.CheckRange("billed_overhead_seconds", table.billed_overhead_seconds, 0, 86400);
  // Prices per region, throughput per instance type.
  const config::Tree& regions = RequiredMap(reader, "on_demand_usd_per_hour");
  for (const auto& [region, prices] : regions.entries) {
    const std::string path = "on_demand_usd_per_hour." + region;
    if (!prices.IsMap()) config::FailAt(prices.loc, path, "expected a mapping of instance types");
    table.on_demand_per_hour[region] = ReadPositiveNumbers(prices, path);
  }
  table.env_steps_per_second =
      ReadPositiveNumbers(RequiredMap(reader, "env_steps_per_second"), "env_steps_per_second");
  reader.Finish();
  return table;
}

CostEstimate EstimateCost(const config::PipelineConfig& pipeline,
                          const std::vector<config::ExperimentConfig>& sessions,
                          const PriceTable& prices) {
  CostEstimate estimate;
  estimate.region_defaulted = pipeline.aws.region.empty();
  estimate.region = estimate.region_defaulted ? kDefaultRegion : pipeline.aws.region;
  const auto region = prices.on_demand_per_hour.find(estimate.region);
  if (region == prices.on_demand_per_hour.end()) {
    throw ConfigError(prices.file.string() + ": on_demand_usd_per_hour: no prices for region " +
                      estimate.region + " (aws.region of " + pipeline.file.string() +
                      "; the table has: " + Keys(prices.on_demand_per_hour) + ")");
  }

  // Every session's merged settings first: warm-pool billing looks at the next one.
  std::vector<config::SageMakerConfig> settings;
  for (const config::SessionSpec& spec : pipeline.sessions) {
    settings.push_back(config::ResolveSageMaker(pipeline, spec));
  }
  for (size_t i = 0; i < pipeline.sessions.size(); ++i) {
    const config::SageMakerConfig& sm = settings[i];
    SessionCost cost;
    cost.session = pipeline.sessions[i].name;
    cost.instance_type = sm.instance_type;
    cost.instance_count = sm.instance_count;
    cost.timesteps = sessions.at(i).training.total_timesteps;
    cost.uses_spot = sm.use_spot_instances;

    // The instance's price and throughput, named by the setting that chose it.
    const auto price = region->second.find(sm.instance_type);
    const auto speed = prices.env_steps_per_second.find(sm.instance_type);
    if (price == region->second.end() || speed == prices.env_steps_per_second.end()) {
      config::SettingSource source = sm.Source("instance_type");
      if (source.loc.file.empty()) source.loc.file = pipeline.file.string();
      config::FailAt(source.loc, source.path,
                     "no " + std::string(price == region->second.end() ? "price" : "throughput") +
                         " for instance type " + sm.instance_type + " in region " +
                         estimate.region + " in " + prices.file.string() +
                         " (add it there; known: " + Keys(region->second) + ")");
    }

    // Hours: timesteps at the assumed throughput plus overhead, at most max_run_seconds.
    double seconds =
        static_cast<double>(cost.timesteps) / speed->second + prices.billed_overhead_seconds;
    if (seconds > static_cast<double>(sm.max_run_seconds)) {
      seconds = static_cast<double>(sm.max_run_seconds);
      cost.capped = true;
    }
    cost.hours = seconds / 3600.0;
    const double per_hour = price->second * sm.instance_count;
    cost.on_demand = cost.hours * per_hour;
    cost.spot = cost.on_demand * (1.0 - prices.spot_discount);

    // A warm pool nobody reuses is billed for its whole retention.
    if (sm.warm_pool) {
      const bool reused = i + 1 < pipeline.sessions.size() &&
                          WarmPoolReuseWarning(pipeline, i + 1, sm, settings[i + 1]).empty();
      if (!reused) cost.warm_pool = sm.warm_pool_retention_seconds / 3600.0 * per_hour;
    }
    cost.estimate = (cost.uses_spot ? cost.spot : cost.on_demand) + cost.warm_pool;
    estimate.on_demand += cost.on_demand;
    estimate.spot += cost.spot;
    estimate.warm_pool += cost.warm_pool;
    estimate.estimate += cost.estimate;
    estimate.sessions.push_back(std::move(cost));
  }
  return estimate;
}

std::string FormatCostReport(const config::PipelineConfig& pipeline, const CostEstimate& estimate,
                             const PriceTable& prices) {
  std::string out;
  char line[512];
  // Where the numbers come from.
  out += "ESTIMATED SageMaker cost of pipeline '" + pipeline.name + "' in " + estimate.region +
         (estimate.region_defaulted ? " (aws.region not set; assumed)" : "") + "\n";
  std::snprintf(line, sizeof(line),
                "Estimates, not quotes: on-demand list prices as of %s from %s (file %s); spot "
                "assumed %.0f%% cheaper; hours = timesteps / assumed env steps per second + %.0f "
                "s overhead per job.\n\n",
                prices.as_of.c_str(), prices.source.c_str(), prices.file.string().c_str(),
                prices.spot_discount * 100, prices.billed_overhead_seconds);
  out += line;

  // One row per session, then the totals.
  size_t name_width = 7;
  for (const SessionCost& c : estimate.sessions)
    name_width = std::max(name_width, c.session.size());
  const int w = static_cast<int>(name_width);
  std::snprintf(line, sizeof(line), "%-*s  %-15s  %5s  %12s  %8s  %10s  %10s  %10s  %s\n", w,
                "session", "instance", "count", "timesteps", "hours", "on-demand", "spot",
                "warm pool", "estimate");
  out += line;
  for (const SessionCost& c : estimate.sessions) {
    char hours[32];
    std::snprintf(hours, sizeof(hours), "%.2f%s", c.hours, c.capped ? "*" : "");
    std::snprintf(line, sizeof(line), "%-*s  %-15s  %5d  %12lld  %8s  %10s  %10s  %10s  %s (%s)\n",
                  w, c.session.c_str(), c.instance_type.c_str(), c.instance_count,
                  static_cast<long long>(c.timesteps), hours, Money(c.on_demand, prices).c_str(),
                  Money(c.spot, prices).c_str(), Money(c.warm_pool, prices).c_str(),
                  Money(c.estimate, prices).c_str(), c.uses_spot ? "spot" : "on-demand");
    out += line;
  }
  std::snprintf(line, sizeof(line), "%-*s  %-15s  %5s  %12s  %8s  %10s  %10s  %10s  %s\n", w,
                "total", "", "", "", "", Money(estimate.on_demand, prices).c_str(),
                Money(estimate.spot, prices).c_str(), Money(estimate.warm_pool, prices).c_str(),
                Money(estimate.estimate, prices).c_str());
  out += line;
  if (std::any_of(estimate.sessions.begin(), estimate.sessions.end(),
                  [](const SessionCost& c) { return c.capped; })) {
    out += "* capped at max_run_seconds: SageMaker would stop the job before it finishes.\n";
  }
  return out;
}

}  // namespace rlpipe::platform
