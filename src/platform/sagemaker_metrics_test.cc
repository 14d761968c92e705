#include "platform/sagemaker_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>

namespace rlpipe::platform {
namespace {

TEST(SageMakerMetricsTest, DefinitionsRespectAwsLimits) {
  const std::vector<MetricDefinition> definitions = MetricDefinitions();
  ASSERT_EQ(definitions.size(), SageMakerMetrics().size());
  EXPECT_LE(definitions.size(), 40u);
  std::set<std::string> names;
  for (const MetricDefinition& d : definitions) {
    EXPECT_TRUE(names.insert(d.name).second) << "duplicate " << d.name;
    EXPECT_GE(d.name.size(), 1u);
    EXPECT_LE(d.name.size(), 255u);
    EXPECT_LE(d.regex.size(), 500u);
  }
}

TEST(SageMakerMetricsTest, EveryRegexCapturesWhatTheContainerPrints) {
  const std::vector<std::pair<double, std::string>> samples = {
      {0.0, "0"},          {12345.0, "12345"},      {-3.5, "-3.5"},
      {1.5e-7, "1.5e-07"}, {-2.25e12, "-2.25e+12"}, {0.1, "0.1"},
      {1e100, "1e+100"},   {-0.000123, "-0.000123"}};
  for (const MetricDefinition& d : MetricDefinitions()) {
    const std::regex regex(d.regex, std::regex::ECMAScript);
    for (const auto& [value, text] : samples) {
      // As SageMaker sees it: somewhere in a log line, maybe after a timestamp.
      const std::string line = "2026-11-24 10:00:00 " + FormatMetricLine(d.name, value) + "\r";
      std::smatch match;
      ASSERT_TRUE(std::regex_search(line, match, regex)) << d.regex << " vs " << line;
      EXPECT_EQ(match[1].str(), text) << d.name;
      EXPECT_EQ(std::stod(match[1].str()), std::stod(text));
    }
  }
}

TEST(SageMakerMetricsTest, RegexesDoNotMatchOtherMetricsOrNonFiniteValues) {
  const std::vector<MetricDefinition> definitions = MetricDefinitions();
  for (const MetricDefinition& d : definitions) {
    const std::regex regex(d.regex, std::regex::ECMAScript);
    for (const MetricDefinition& other : definitions) {
      if (other.name == d.name) continue;
      EXPECT_FALSE(std::regex_search(FormatMetricLine(other.name, 1.0), regex))
          << d.name << " matched " << other.name;
    }
    for (const double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
      EXPECT_FALSE(std::regex_search(FormatMetricLine(d.name, bad), regex)) << d.name;
    }
    // A plain log line mentioning the name is not a metric.
    EXPECT_FALSE(std::regex_search(d.name + "=1.0", regex));
  }
}

TEST(SageMakerMetricsTest, FormatsTheStableLine) {
  EXPECT_EQ(FormatMetricLine("timesteps", 2048), "[rlpipe-metric] timesteps=2048");
  EXPECT_EQ(FormatMetricLine("train/value_loss", -0.5), "[rlpipe-metric] train/value_loss=-0.5");
  EXPECT_THROW(FormatMetricLine("no_such_metric", 1), std::invalid_argument);
  EXPECT_TRUE(IsSageMakerMetric("best_mean_reward"));
  EXPECT_FALSE(IsSageMakerMetric("best_mean"));
}

}  // namespace
}  // namespace rlpipe::platform
