// The CreateHyperParameterTuningJob requests of the spaces in tests/sagemaker/tuning/, compared
// exactly with tests/sagemaker/tuning_golden/<space>.json. Each space's first line names its
// pipeline (in tests/sagemaker/pipelines/) and the flags:
//   # pipeline: plain.yaml  trials: -  parallel: 2  seeds: 2
// After an intended change, regenerate and review the diff:
//   RLPIPE_UPDATE_GOLDEN=1 build/tests/tuning_golden_test
// tests/sagemaker/validate_tuning_requests.py checks the same files against botocore's model.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "config/pipeline_config.h"
#include "core/error.h"
#include "core/files.h"
#include "tune/tuning_job_request.h"

namespace rlpipe::tune {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(RLPIPE_SOURCE_DIR) / "tests/sagemaker";

struct GoldenCase {
  const char* space;
  size_t warnings;  // warnings the plan must report
};

class TuningGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(TuningGoldenTest, RequestMatchesTheGoldenFile) {
  const GoldenCase& c = GetParam();
  const fs::path space_file = kDir / "tuning" / (std::string(c.space) + ".yaml");
  const std::string text = ReadFile(space_file);
  std::smatch header;
  static const std::regex kHeader(
      R"(# pipeline: (\S+)\s+trials: (\S+)\s+parallel: (\d+)\s+seeds: (\d+))");
  ASSERT_TRUE(std::regex_search(text, header, kHeader)) << space_file;
  const config::PipelineConfig pipeline =
      config::LoadPipeline(kDir / "pipelines" / header[1].str());
  const SearchSpace space = LoadSearchSpace(space_file);
  const size_t index = TunedSession(pipeline, space);
  TuningJobOptions options;
  options.run_id = "golden-run";
  options.timestamp = "20260101-120000";
  if (header[2] != "-") options.trials = std::stoi(header[2]);
  options.parallel = std::stoi(header[3]);
  options.seeds = std::stoi(header[4]);
  const TuningJobPlan plan = PlanTuningJob(
      pipeline, space, index, config::ResolveSession(pipeline, pipeline.sessions[index]), options);
  EXPECT_EQ(plan.warnings.size(), c.warnings) << (plan.warnings.empty() ? "" : plan.warnings[0]);
  const std::string actual = plan.request.dump(2) + "\n";

  const fs::path golden = kDir / "tuning_golden" / (std::string(c.space) + ".json");
  if (const char* update = std::getenv("RLPIPE_UPDATE_GOLDEN"); update && *update == '1') {
    WriteFileAtomic(golden, actual);
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " missing; set RLPIPE_UPDATE_GOLDEN=1 to write it";
  EXPECT_EQ(actual, ReadFile(golden))
      << "request differs from " << golden << "; if intended, rerun with RLPIPE_UPDATE_GOLDEN=1";
}

INSTANTIATE_TEST_SUITE_P(Spaces, TuningGoldenTest,
                         ::testing::Values(GoldenCase{"grid_seeds", 0},
                                           GoldenCase{"random_spot", 2},
                                           GoldenCase{"bayesian_vpc", 0}),
                         [](const auto& info) { return std::string(info.param.space); });

// The ConfigError message `fn` throws ("" when it does not throw).
template <typename Fn>
std::string ErrorOf(Fn fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TuningJobRequest, WhatAwsWouldRejectIsAnErrorBeforeAnythingIsSent) {
  const config::PipelineConfig pipeline = config::LoadPipeline(kDir / "pipelines/plain.yaml");
  auto plan = [&](const std::string& space_text, TuningJobOptions options) {
    const SearchSpace space = ParseSearchSpace(space_text, "SPACE.yaml");
    const size_t index = TunedSession(pipeline, space);
    options.timestamp = "20260101-120000";
    options.run_id = "r";
    return PlanTuningJob(pipeline, space, index,
                         config::ResolveSession(pipeline, pipeline.sessions[index]), options);
  };
  // Two sessions and none named.
  EXPECT_NE(ErrorOf([&] {
              plan("metric: best_mean_return\nparameters:\n  agent.gamma: {values: [0.9]}\n", {});
            }).find("a SageMaker tuning job tunes one session"),
            std::string::npos);
  // A metric the container does not print.
  EXPECT_NE(ErrorOf([&] {
              plan("metric: steps_lost\nsessions: [basics]\nparameters:\n"
                   "  agent.gamma: {values: [0.9]}\n",
                   {});
            }).find("SPACE.yaml:1:9: metric: a SageMaker tuning job can only optimise"),
            std::string::npos);
  // Random without --trials, seeds without a grid.
  EXPECT_NE(ErrorOf([&] {
              plan("metric: best_mean_return\nstrategy: random\nsessions: [basics]\n"
                   "parameters:\n  agent.gamma: {min: 0.9, max: 0.99}\n",
                   {});
            }).find("SPACE.yaml:2:1: strategy: random needs --trials N"),
            std::string::npos);
  TuningJobOptions seeds;
  seeds.trials = 5;
  seeds.seeds = 2;
  EXPECT_NE(ErrorOf([&] {
              plan("metric: best_mean_return\nstrategy: random\nsessions: [basics]\n"
                   "parameters:\n  agent.gamma: {min: 0.9, max: 0.99}\n",
                   seeds);
            }).find("needs strategy grid"),
            std::string::npos);
  // 31 categorical values.
  std::string values;
  for (int i = 0; i < 31; ++i) values += (i ? ", " : "") + std::to_string(i + 1);
  EXPECT_NE(ErrorOf([&] {
              plan("metric: best_mean_return\nsessions: [basics]\nparameters:\n"
                   "  agent.n_epochs: {values: [" + values + "]}\n",
                   {});
            }).find("SPACE.yaml:4:3: parameters.agent.n_epochs: 31 values"),
            std::string::npos);
}

TEST(TuningJobRequest, NamesFitAwsThirtyTwoCharacters) {
  EXPECT_EQ(TuningJobName("plain", "refine", "20260101-120000"), "plain-refine-20260101-120000");
  const std::string a = TuningJobName("a-very-long-pipeline-name", "session-one", "20260101-120000");
  const std::string b = TuningJobName("a-very-long-pipeline-name", "session-two", "20260101-120000");
  EXPECT_LE(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}"))) << a;
  EXPECT_TRUE(a.ends_with("-20260101-120000")) << a;
}

}  // namespace
}  // namespace rlpipe::tune
