// `rlpipe run --platform sagemaker [--dry-run]` and `rlpipe cost` through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kPipelines = fs::path(RLPIPE_SOURCE_DIR) / "tests/sagemaker/pipelines";

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (part) << "' not in: " << (text)

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Runs the binary in `cwd`, stdout and stderr kept apart.
Outcome Rlpipe(const std::vector<std::string>& args, const fs::path& cwd) {
  const fs::path err_file = cwd / "stderr.txt";
  std::string command = "cd " + Quote(cwd.string()) + " && " + Quote(RLPIPE_BINARY);
  for (const auto& a : args) command += " " + Quote(a);
  command += " 2>" + Quote(err_file.string());
  Outcome outcome;
  FILE* pipe = popen(command.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) outcome.out.append(buf, n);
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE* err = std::fopen(err_file.c_str(), "r");
  while (err && (n = fread(buf, 1, sizeof(buf), err)) > 0) outcome.err.append(buf, n);
  if (err) std::fclose(err);
  fs::remove(err_file);
  return outcome;
}

/// The JSON documents of a dry run's stdout, in order.
std::vector<nlohmann::json> Documents(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  while (in >> std::ws && in.peek() != EOF) {
    nlohmann::json doc;
    in >> doc;
    out.push_back(std::move(doc));
  }
  return out;
}

class SageMakerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlpipe_smcli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SageMakerCliTest, DryRunPrintsEveryRequestAndCreatesNothing) {
  const Outcome o =
      Rlpipe({"run", "--config", (kPipelines / "warm_pool.yaml").string(), "--platform",
              "sagemaker", "--dry-run", "--run-id", "r1", "--output-dir", "out"},
             dir_);
  ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  const std::vector<nlohmann::json> requests = Documents(o.out);
  ASSERT_EQ(requests.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(requests[i]["TrainingJobName"].get<std::string>().starts_with(
        "warm-stage-" + std::to_string(i + 1) + "-"));
    EXPECT_EQ(requests[i]["Environment"]["RLPIPE_RUN_URI"], "s3://rl-robotics-models/team/warm/r1");
  }
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 0);
}

TEST_F(SageMakerCliTest, RoleFlagWinsAndWarningsGoToStderr) {
  const Outcome o =
      Rlpipe({"run", "-c", (kPipelines / "overrides.yaml").string(), "--platform", "SageMaker",
              "--dry-run", "--role-arn", "arn:aws:iam::111122223333:role/Other"},
             dir_);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const auto requests = Documents(o.out);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1]["RoleArn"], "arn:aws:iam::111122223333:role/Other");
  EXPECT_CONTAINS(o.err,
                  "overrides.yaml:25:24: sessions[1].aws_overrides.sagemaker.instance_type: "
                  "warning: session 'session2_refine_on_rough_terrain' cannot reuse the "
                  "warm pool");
}

// Submission itself is covered by sagemaker_e2e_test (against the local SageMaker server).
TEST_F(SageMakerCliTest, BadInputIsExit2) {
  const std::string plain = (kPipelines / "plain.yaml").string();
  Outcome o = Rlpipe({"run", "-c", plain, "--dry-run"}, dir_);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_CONTAINS(o.err, "rlpipe: error: --dry-run: only with --platform sagemaker");
  o = Rlpipe({"run", "-c", plain, "--platform", "sagemaker", "--dry-run", "--role-arn", "x"}, dir_);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_CONTAINS(o.err, "rlpipe: error: --role-arn: expected an IAM role ARN");
  o = Rlpipe({"run", "-c", plain, "--platform", "lambda"}, dir_);
  EXPECT_NE(o.exit_code, 0);
  EXPECT_EQ(o.out, "");
}

TEST_F(SageMakerCliTest, CostPrintsAnEstimatePerSessionAndInTotal) {
  const Outcome o = Rlpipe({"cost", "--config", (kPipelines / "warm_pool.yaml").string()}, dir_);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_CONTAINS(o.out, "ESTIMATED SageMaker cost of pipeline 'warm' in us-west-2");
  EXPECT_CONTAINS(o.out, "Estimates, not quotes");
  EXPECT_CONTAINS(o.out, "stage-3");
  EXPECT_CONTAINS(o.out, "\ntotal ");
  const Outcome bad = Rlpipe({"cost", "--config", (kPipelines / "vpc.yaml").string(), "--pricing",
                              (dir_ / "none.yaml").string()},
                             dir_);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_CONTAINS(bad.err,
                  "rlpipe: error: --pricing: file not found: " + (dir_ / "none.yaml").string());
}

}  // namespace
