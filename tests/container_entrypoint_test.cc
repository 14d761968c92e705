// The SageMaker container contract of `rlpipe train`, run as a real process over a temp folder
// standing in for /opt/ml (RLPIPE_SM_ROOT): the files it reads, the files it writes, metric lines,
// failure reasons, SIGTERM and a spot restart from the checkpoint left behind.
#include "platform/container_entrypoint.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/hyperparameters.h"
#include "platform/sagemaker_metrics.h"
#include "storage/checkpoint_store.h"
#include "storage/s3rver_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rlpipe::platform::SessionJobInput;

namespace {

const fs::path kTinyConfig =
    fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines/pendulum_tiny.yaml";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The tiny pendulum config with `training` values replaced.
std::string TinyConfig(int64_t total_timesteps, int64_t save_freq) {
  std::string yaml = Slurp(kTinyConfig);
  yaml = std::regex_replace(yaml, std::regex("total_timesteps: \\d+"),
                            "total_timesteps: " + std::to_string(total_timesteps));
  yaml = std::regex_replace(yaml, std::regex("save_freq: \\d+"),
                            "save_freq: " + std::to_string(save_freq));
  return yaml;
}

struct Process {
  pid_t pid = -1;
  fs::path log;
};

class ContainerEntrypoint : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_container_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    root_ = dir_ / "opt_ml";
    fs::create_directories(root_ / "input/config");
    input_.pipeline_name = "pipe";
    input_.session_name = "walk";
    input_.resolved_config_yaml = TinyConfig(2048, 512);
    input_.seed = 7;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// Writes the three files SageMaker writes.
  void WriteInputs(const std::vector<std::string>& hosts = {"algo-1"}) {
    std::ofstream(root_ / "input/config/hyperparameters.json")
        << json(rlpipe::platform::EncodeHyperParameters(input_)).dump();
    std::ofstream(root_ / "input/config/resourceconfig.json")
        << json{{"current_host", "algo-1"}, {"hosts", hosts}}.dump();
    std::ofstream(root_ / "input/config/checkpointconfig.json")
        << json{{"LocalPath", "/opt/ml/checkpoints"}, {"S3Uri", "s3://b/ckpt"}}.dump();
  }

  /// Starts `rlpipe train` with RLPIPE_SM_ROOT and `env` set, output to a log file.
  Process Start(const std::vector<std::pair<std::string, std::string>>& env = {}) {
    Process p;
    p.log = dir_ / ("train_" + std::to_string(++runs_) + ".log");
    p.pid = fork();
    if (p.pid == 0) {
      setenv("RLPIPE_SM_ROOT", root_.c_str(), 1);
      for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
      FILE* f = freopen(p.log.c_str(), "w", stdout);
      (void)f;
      dup2(fileno(stdout), 2);
      execl(RLPIPE_BINARY, RLPIPE_BINARY, "train", static_cast<char*>(nullptr));
      _exit(127);
    }
    return p;
  }
  static int Wait(const Process& p) {
    int status = 0;
    waitpid(p.pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  /// Runs to the end; returns the exit code and leaves the output in `output_`.
  int Run(const std::vector<std::pair<std::string, std::string>>& env = {}) {
    const Process p = Start(env);
    const int code = Wait(p);
    output_ = Slurp(p.log);
    return code;
  }
  std::string Failure() const { return Slurp(root_ / "output/failure"); }

  fs::path dir_;
  fs::path root_;
  SessionJobInput input_;
  std::string output_;
  int runs_ = 0;
};

TEST_F(ContainerEntrypoint, TrainsTheSessionIntoModelAndCheckpoints) {
  WriteInputs();
  ASSERT_EQ(Run(), 0) << output_;
  EXPECT_FALSE(fs::exists(root_ / "output/failure"));

  // The model folder: models, metrics, the resolved config and the report.
  for (const char* name : {"best_model.zip", "final_model.zip", "metrics.csv", "evaluations.csv",
                           "training_config.yaml", "report.json"}) {
    EXPECT_TRUE(fs::exists(root_ / "model" / name)) << name;
  }
  EXPECT_EQ(Slurp(root_ / "model/training_config.yaml"), input_.resolved_config_yaml);
  const json report = json::parse(Slurp(root_ / "model/report.json"));
  EXPECT_EQ(report["status"], "completed");
  EXPECT_EQ(report["session"], "walk");
  EXPECT_EQ(report["timesteps"], 2048);
  EXPECT_EQ(report["model"], "best_model.zip");
  EXPECT_TRUE(report["resumed_from"].is_null());

  // Periodic checkpoints in LocalPath (rebased under the root), `latest` naming the newest; the
  // last training.keep_checkpoints (3) of them are kept.
  for (int steps : {1024, 1536, 2048}) {
    EXPECT_TRUE(
        fs::exists(root_ / "checkpoints" / ("rl_model_" + std::to_string(steps) + "_steps.zip")))
        << steps;
  }
  EXPECT_FALSE(fs::exists(root_ / "checkpoints" / "rl_model_512_steps.zip"));
  EXPECT_EQ(Slurp(root_ / "checkpoints/latest"), "rl_model_2048_steps.zip\n");
  EXPECT_FALSE(fs::exists(root_ / "model/checkpoints"));

  // Metric lines: the final step count, and every line is found by a MetricDefinition regex.
  EXPECT_NE(output_.find("[rlpipe-metric] timesteps=2048\n"), std::string::npos) << output_;
  EXPECT_NE(output_.find("[rlpipe-metric] eval_mean_reward="), std::string::npos) << output_;
  std::vector<std::regex> regexes;
  for (const auto& d : rlpipe::platform::MetricDefinitions()) regexes.emplace_back(d.regex);
  std::istringstream lines(output_);
  int metric_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[rlpipe-metric] ", 0) != 0) continue;
    ++metric_lines;
    bool found = false;
    for (const auto& r : regexes) found = found || std::regex_search(line, r);
    EXPECT_TRUE(found) << line;
  }
  EXPECT_GT(metric_lines, 10);
}

TEST_F(ContainerEntrypoint, MissingHyperparametersIsAOneLineFailure) {
  ASSERT_EQ(Run(), 1) << output_;
  const std::string reason = Failure();
  EXPECT_NE(reason.find((root_ / "input/config/hyperparameters.json").string() + ": missing"),
            std::string::npos)
      << reason;
  EXPECT_EQ(reason.find('\n'), std::string::npos);
  EXPECT_NE(output_.find("rlpipe train: error:"), std::string::npos);
}

TEST_F(ContainerEntrypoint, BadConfigAndTwoHostsFailWithTheirReason) {
  input_.resolved_config_yaml =
      std::regex_replace(TinyConfig(2048, 0), std::regex("gamma: "), "gammma: ");
  WriteInputs();
  ASSERT_EQ(Run(), 1) << output_;
  EXPECT_NE(Failure().find("gammma"), std::string::npos) << Failure();

  input_.resolved_config_yaml = TinyConfig(2048, 0);
  WriteInputs({"algo-1", "algo-2"});
  ASSERT_EQ(Run(), 1) << output_;
  EXPECT_NE(Failure().find("2 hosts"), std::string::npos) << Failure();
}

TEST_F(ContainerEntrypoint, CorruptInputIsCutTo1024Bytes) {
  // A huge config whose error message repeats the offending text.
  std::ofstream(root_ / "input/config/hyperparameters.json") << "{\"rlpipe_format\": ";
  std::ofstream(root_ / "input/config/resourceconfig.json") << "{}";
  ASSERT_EQ(Run(), 1);
  EXPECT_NE(Failure().find("not valid JSON"), std::string::npos) << Failure();
  EXPECT_LE(Failure().size(), rlpipe::platform::kMaxFailureReasonBytes);

  const std::string long_message(5000, 'x');
  EXPECT_EQ(rlpipe::platform::FailureReason(long_message).size(), 1024u);
  EXPECT_EQ(rlpipe::platform::FailureReason("a\nb"), "a b");
  // Never cut inside a UTF-8 character.
  const std::string reason = rlpipe::platform::FailureReason(std::string(1020, 'a') + "üüüü");
  EXPECT_EQ(reason, std::string(1020, 'a') + "...");
}

TEST_F(ContainerEntrypoint, SigtermCheckpointsFastAndARestartResumesFromIt) {
  constexpr int64_t kTotal = 16384;
  input_.resolved_config_yaml = TinyConfig(kTotal, 0);
  WriteInputs();
  const Process p = Start();
  // Let it train a little, then SIGTERM as SageMaker does on a spot interruption.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Slurp(p.log).find("[rlpipe-metric] timesteps=1024") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(p.pid, SIGTERM), 0);
  const int code = Wait(p);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  output_ = Slurp(p.log);
  ASSERT_EQ(code, 128 + SIGTERM) << output_;
  // SageMaker kills the container 120 s after SIGTERM; we need well under that.
  EXPECT_LT(seconds, 10.0) << "SIGTERM to exit took " << seconds << " s";
  std::printf("SIGTERM to exit: %.3f s\n", seconds);
  EXPECT_FALSE(fs::exists(root_ / "output/failure"));
  std::string latest = Slurp(root_ / "checkpoints/latest");
  ASSERT_FALSE(latest.empty());
  latest.pop_back();
  ASSERT_TRUE(fs::exists(root_ / "checkpoints" / latest)) << latest;
  const int64_t stopped_at = std::stoll(latest.substr(9));
  EXPECT_GE(stopped_at, 1024);
  ASSERT_LT(stopped_at, kTotal) << "finished before the SIGTERM landed";

  // The restart (a new instance, same job inputs: fresh model folder, checkpoints synced back)
  // continues exactly from the checkpoint, not from 0, and keeps the checkpoint it started from.
  fs::remove_all(root_ / "model");
  ASSERT_EQ(Run(), 0) << output_;
  EXPECT_NE(output_.find("restart: resuming from"), std::string::npos) << output_;
  EXPECT_NE(output_.find("at " + std::to_string(stopped_at) + " steps"), std::string::npos);
  const json report = json::parse(Slurp(root_ / "model/report.json"));
  EXPECT_EQ(report["resumed_from"], latest);
  EXPECT_EQ(report["timesteps"], kTotal);
  // The interrupted rollout is finished first: the first progress row is at its end (rollouts
  // of 512 steps), not one whole rollout after the checkpoint.
  std::istringstream csv(Slurp(root_ / "model/metrics.csv"));
  std::string header, first;
  std::getline(csv, header);
  std::getline(csv, first);
  EXPECT_EQ(std::stoll(first), (stopped_at / 512 + 1) * 512) << first;
  EXPECT_TRUE(fs::exists(root_ / "checkpoints" / latest));
}

TEST_F(ContainerEntrypoint, StartsFromTheInputModelInS3AndUploadsItsModels) {
  rlpipe::testing::S3rverProcess s3rver;
  const std::string error = s3rver.Start(dir_ / "s3rver", {"bucket"});
  if (!error.empty()) GTEST_SKIP() << "needs s3rver: " << error;
  const std::vector<std::pair<std::string, std::string>> env = {
      {"AWS_ACCESS_KEY_ID", rlpipe::testing::kS3rverKey},
      {"AWS_SECRET_ACCESS_KEY", rlpipe::testing::kS3rverSecret},
      {"AWS_REGION", "us-east-1"},
      {"AWS_ENDPOINT_URL_S3", s3rver.endpoint()},
      {"AWS_EC2_METADATA_DISABLED", "true"},
      {"AWS_CONFIG_FILE", "/nonexistent"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}};

  // A first session, uploaded to the run's folder.
  input_.run_uri = "s3://bucket/runs/r1";
  WriteInputs();
  ASSERT_EQ(Run(env), 0) << output_;
  rlpipe::StorageOptions options;
  options.s3.endpoint_url = s3rver.endpoint();
  options.credentials = std::make_shared<rlpipe::StaticCredentialsProvider>(rlpipe::AwsCredentials{
      rlpipe::testing::kS3rverKey, rlpipe::testing::kS3rverSecret, "", std::nullopt, "test"});
  auto store = rlpipe::OpenCheckpointStore("s3://bucket", options);
  ASSERT_TRUE(store->IsCompleteCheckpoint("s3://bucket/runs/r1/checkpoints/walk"));
  EXPECT_EQ(store->GetBytes("s3://bucket/runs/r1/checkpoints/walk/best_model.zip"),
            Slurp(root_ / "model/best_model.zip"));
  EXPECT_TRUE(store->Exists("s3://bucket/runs/r1/checkpoints/walk/report.json"));

  // The next session on a fresh instance starts from that model.
  fs::remove_all(root_);
  fs::create_directories(root_ / "input/config");
  input_.session_name = "run";
  input_.input_checkpoint_uri = "s3://bucket/runs/r1/checkpoints/walk/best_model.zip";
  WriteInputs();
  ASSERT_EQ(Run(env), 0) << output_;
  EXPECT_NE(output_.find("downloading the input model " + input_.input_checkpoint_uri),
            std::string::npos)
      << output_;
  EXPECT_NE(output_.find("transfer from "), std::string::npos) << output_;
  EXPECT_TRUE(fs::exists(root_ / "model/transfer_report.json"));
  EXPECT_TRUE(store->IsCompleteCheckpoint("s3://bucket/runs/r1/checkpoints/run"));

  // A missing input model is a clear failure naming it.
  fs::remove_all(root_);
  fs::create_directories(root_ / "input/config");
  input_.input_checkpoint_uri = "s3://bucket/runs/r1/checkpoints/nope/best_model.zip";
  WriteInputs();
  ASSERT_EQ(Run(env), 1) << output_;
  EXPECT_NE(Failure().find("nope/best_model.zip"), std::string::npos) << Failure();
}

}  // namespace
