#include "platform/cost.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::platform {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (part) << "' not in: " << (text)

constexpr char kPrices[] =
    "as_of: \"2024-06-01\"\n"
    "source: test\n"
    "spot_discount: 0.75\n"
    "billed_overhead_seconds: 0\n"
    "on_demand_usd_per_hour:\n"
    "  us-east-1:\n"
    "    ml.c5.xlarge: 0.2\n"
    "    ml.c5.2xlarge: 0.4\n"
    "env_steps_per_second:\n"
    "  ml.c5.xlarge: 1000\n"
    "  ml.c5.2xlarge: 2000\n";

class CostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlpipe_cost_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WriteFileAtomic(dir_ / "train.yaml", "environment:\n  name: pendulum\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  PriceTable Prices(const std::string& yaml = kPrices) {
    WriteFileAtomic(dir_ / "pricing.yaml", yaml);
    return LoadPriceTable(dir_ / "pricing.yaml");
  }

  std::string PriceError(const std::string& yaml) {
    try {
      Prices(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected ConfigError for:\n" << yaml;
    return "";
  }

  /// Two sessions of 3.6M and 7.2M steps (1 h and 2 h on ml.c5.xlarge at 1000 steps/s).
  CostEstimate Estimate(const std::string& sagemaker, const std::string& second = "",
                        const PriceTable* prices = nullptr) {
    WriteFileAtomic(dir_ / "p.yaml", "aws:\n  region: us-east-1\n  sagemaker:\n" + sagemaker +
                                         "sessions:\n"
                                         "  - {name: a, config: train.yaml, timesteps: 3600000}\n"
                                         "  - name: b\n    config: train.yaml\n"
                                         "    timesteps: 7200000\n" +
                                         second);
    const config::PipelineConfig pipeline = config::LoadPipeline(dir_ / "p.yaml");
    std::vector<config::ExperimentConfig> sessions;
    for (const auto& spec : pipeline.sessions) {
      sessions.push_back(config::ResolveSession(pipeline, spec));
    }
    const PriceTable table = prices ? *prices : Prices();
    return EstimateCost(pipeline, sessions, table);
  }

  fs::path dir_;
};

TEST_F(CostTest, OnDemandAndSpotPerSessionAndInTotal) {
  const CostEstimate e = Estimate("    instance_type: ml.c5.xlarge\n");
  ASSERT_EQ(e.sessions.size(), 2u);
  EXPECT_DOUBLE_EQ(e.sessions[0].hours, 1.0);
  EXPECT_DOUBLE_EQ(e.sessions[0].on_demand, 0.2);
  EXPECT_DOUBLE_EQ(e.sessions[0].spot, 0.05);
  EXPECT_DOUBLE_EQ(e.sessions[1].on_demand, 0.4);
  EXPECT_DOUBLE_EQ(e.on_demand, 0.6);
  EXPECT_DOUBLE_EQ(e.estimate, 0.6);  // on-demand as configured
  const CostEstimate spot = Estimate("    use_spot_instances: true\n");
  EXPECT_NEAR(spot.estimate, 0.15, 1e-12);
}

TEST_F(CostTest, WarmPoolRetentionIsBilledWhenNotReused) {
  // Same settings: the first pool is reused, the last one idles for its retention (0.5 h).
  const CostEstimate same =
      Estimate("    warm_pool: {enabled: true, retention_period_seconds: 1800}\n");
  EXPECT_DOUBLE_EQ(same.sessions[0].warm_pool, 0.0);
  EXPECT_DOUBLE_EQ(same.sessions[1].warm_pool, 0.1);
  // A session override that changes the instance: both pools idle.
  const CostEstimate changed =
      Estimate("    warm_pool: {enabled: true, retention_period_seconds: 1800}\n",
               "    aws_overrides: {sagemaker: {instance_type: ml.c5.2xlarge}}\n");
  EXPECT_DOUBLE_EQ(changed.sessions[0].warm_pool, 0.1);
  EXPECT_DOUBLE_EQ(changed.sessions[1].warm_pool, 0.2);
  EXPECT_DOUBLE_EQ(changed.sessions[1].on_demand, 0.4);  // 1 h on the 2000-steps/s instance
  EXPECT_DOUBLE_EQ(changed.warm_pool, 0.3);
}

TEST_F(CostTest, HoursAreCappedAtMaxRun) {
  const CostEstimate e = Estimate("    max_run_seconds: 5400\n    instance_count: 2\n");
  EXPECT_FALSE(e.sessions[0].capped);
  EXPECT_TRUE(e.sessions[1].capped);
  EXPECT_DOUBLE_EQ(e.sessions[1].hours, 1.5);
  EXPECT_DOUBLE_EQ(e.sessions[1].on_demand, 0.6);  // 1.5 h x 2 instances x $0.2
}

TEST_F(CostTest, UnknownInstanceTypeOrRegionNamesIt) {
  try {
    Estimate("    instance_type: ml.c5.9xlarge\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), (dir_ / "p.yaml").string() +
                                  ":4:20: aws.sagemaker.instance_type: no price for instance "
                                  "type ml.c5.9xlarge in region us-east-1 in " +
                                  (dir_ / "pricing.yaml").string() +
                                  " (add it there; known: ml.c5.2xlarge, ml.c5.xlarge)");
  }
  std::string other = kPrices;
  other.replace(other.find("us-east-1"), 9, "eu-west-1");
  const PriceTable table = Prices(other);
  try {
    Estimate("    instance_type: ml.c5.xlarge\n", "", &table);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), "on_demand_usd_per_hour: no prices for region us-east-1");
  }
}

TEST_F(CostTest, PriceTableIsStrict) {
  const std::string path = (dir_ / "pricing.yaml").string();
  EXPECT_CONTAINS(PriceError(std::string(kPrices) + "spot_discont: 0.5\n"),
                  path + ":12:1: spot_discont: unknown key");
  std::string bad = kPrices;
  bad.replace(bad.find("0.2\n"), 3, "abc");
  EXPECT_CONTAINS(PriceError(bad), path + ":7:19: on_demand_usd_per_hour.us-east-1.ml.c5.xlarge:");
  bad = kPrices;
  bad.replace(bad.find("1000"), 4, "0");
  EXPECT_CONTAINS(PriceError(bad), path + ":10:17: env_steps_per_second.ml.c5.xlarge: expected");
  bad = kPrices;
  bad.replace(bad.find("\"2024-06-01\""), 12, "\"\"");
  EXPECT_CONTAINS(PriceError(bad), "as_of: missing");
}

TEST_F(CostTest, TheRepositoryTableLoadsAndCoversItsInstances) {
  const PriceTable table = LoadPriceTable(fs::path(RLPIPE_SOURCE_DIR) / "aws/pricing.yaml");
  EXPECT_FALSE(table.as_of.empty());
  ASSERT_TRUE(table.on_demand_per_hour.count("us-east-1"));
  // Every priced instance has a throughput assumption, so any priced type can be estimated.
  for (const auto& [region, prices] : table.on_demand_per_hour) {
    for (const auto& [type, price] : prices) {
      EXPECT_TRUE(table.env_steps_per_second.count(type)) << region << " " << type;
    }
  }
  EXPECT_TRUE(table.on_demand_per_hour.at("us-east-1").count("ml.c5.xlarge"));  // the default
}

TEST_F(CostTest, ReportSaysTheseAreEstimates) {
  const PriceTable table = Prices();
  WriteFileAtomic(dir_ / "p.yaml", "sessions:\n  - {name: only, config: train.yaml}\n");
  const auto pipeline = config::LoadPipeline(dir_ / "p.yaml");
  const auto sessions = std::vector{config::ResolveSession(pipeline, pipeline.sessions[0])};
  const std::string report =
      FormatCostReport(pipeline, EstimateCost(pipeline, sessions, table), table);
  EXPECT_CONTAINS(report,
                  "ESTIMATED SageMaker cost of pipeline 'p' in us-east-1 (aws.region not "
                  "set; assumed)");
  EXPECT_CONTAINS(report,
                  "Estimates, not quotes: on-demand list prices as of 2024-06-01 from test");
  EXPECT_CONTAINS(report, "spot assumed 75% cheaper");
  EXPECT_CONTAINS(report, "only     ml.c5.xlarge");
}

}  // namespace
}  // namespace rlpipe::platform
