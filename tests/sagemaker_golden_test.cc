// The CreateTrainingJob requests of representative pipelines, compared exactly with
// tests/sagemaker/golden/<pipeline>.json (a JSON array, one request per session). After an
// intended change, regenerate them and review the diff:
//   RLPIPE_UPDATE_GOLDEN=1 build/tests/sagemaker_golden_test
// tests/sagemaker/validate_requests.py checks the same files against botocore's SageMaker model.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/files.h"
#include "pipeline/runner.h"
#include "platform/sagemaker_request.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(RLPIPE_SOURCE_DIR) / "tests/sagemaker";

struct GoldenCase {
  const char* pipeline;
  size_t warnings;  // warnings the plan must report
};

class SageMakerGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_P(SageMakerGoldenTest, RequestsMatchTheGoldenFile) {
  const GoldenCase& c = GetParam();
  // Fixed run id and timestamp: everything else comes from the pipeline file.
  const pipeline::ResolvedPipeline resolved =
      pipeline::ResolvePipeline(kDir / "pipelines" / (std::string(c.pipeline) + ".yaml"));
  platform::SageMakerPlanOptions options;
  options.run_id = "golden-run";
  options.timestamp = "20260101-120000";
  const platform::SageMakerPlan plan =
      platform::PlanSageMakerRun(resolved.pipeline, resolved.sessions, options);
  EXPECT_EQ(plan.warnings.size(), c.warnings);
  nlohmann::json requests = nlohmann::json::array();
  for (const platform::PlannedJob& job : plan.jobs) requests.push_back(job.request);
  const std::string actual = requests.dump(2) + "\n";

  const fs::path golden = kDir / "golden" / (std::string(c.pipeline) + ".json");
  if (const char* update = std::getenv("RLPIPE_UPDATE_GOLDEN"); update && *update == '1') {
    WriteFileAtomic(golden, actual);
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " missing; set RLPIPE_UPDATE_GOLDEN=1 to write it";
  EXPECT_EQ(actual, ReadText(golden))
      << "requests differ from " << golden << "; if intended, rerun with RLPIPE_UPDATE_GOLDEN=1";
}

INSTANTIATE_TEST_SUITE_P(Pipelines, SageMakerGoldenTest,
                         ::testing::Values(GoldenCase{"plain", 0}, GoldenCase{"spot", 0},
                                           GoldenCase{"warm_pool", 0}, GoldenCase{"vpc", 0},
                                           GoldenCase{"overrides", 1}),
                         [](const auto& info) { return std::string(info.param.pipeline); });

TEST(SageMakerGoldenFilesTest, EveryGoldenFileHasAPipeline) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(kDir / "golden")) {
    EXPECT_TRUE(fs::exists(kDir / "pipelines" / (entry.path().stem().string() + ".yaml")))
        << entry.path() << " has no pipeline (stale golden file)";
    ++count;
  }
  EXPECT_EQ(count, 5u);
}

}  // namespace
}  // namespace rlpipe
