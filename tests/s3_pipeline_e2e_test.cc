// End-to-end tests of `rlpipe run --use-s3` and `rlpipe runs`: the real binary against s3rver on a
// loopback port (tests/s3/start_s3rver.sh over a temp folder), real PPO sessions on pendulum, real
// signals. Skipped with a message when s3rver is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_process.h"
#include "storage/checkpoint_store.h"
#include "storage/s3rver_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rlpipe::testing::ShellQuote;

namespace {

using namespace rlpipe::e2e;  // NOLINT(google-build-using-namespace)

const fs::path kTinyConfig =
    fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines/pendulum_tiny.yaml";
constexpr char kBucket[] = "rlpipe-runs";

class S3PipelineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_s3e2e_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    out_ = dir_ / "out";
    const std::string error = s3rver_.Start(dir_ / "s3rver", {kBucket});
    if (!error.empty()) GTEST_SKIP() << "needs s3rver: " << error;

    // rlpipe (a child process) finds s3rver and its credentials through the environment only,
    // isolated from the user's AWS settings; retries are few and short.
    for (const char* name :
         {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"}) {
      unsetenv(name);
    }
    setenv("AWS_ACCESS_KEY_ID", rlpipe::testing::kS3rverKey, 1);
    setenv("AWS_SECRET_ACCESS_KEY", rlpipe::testing::kS3rverSecret, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("RLPIPE_S3_MAX_ATTEMPTS", "3", 1);
    setenv("RLPIPE_S3_RETRY_BASE_MS", "5", 1);
    PointAtS3rver();
  }
  void TearDown() override {
    s3rver_.Stop();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// AWS_ENDPOINT_URL_S3 and the test's own store follow s3rver's (current) port.
  void PointAtS3rver() {
    setenv("AWS_ENDPOINT_URL_S3", s3rver_.endpoint().c_str(), 1);
    rlpipe::StorageOptions options;
    options.s3.endpoint_url = s3rver_.endpoint();
    options.credentials =
        std::make_shared<rlpipe::StaticCredentialsProvider>(rlpipe::AwsCredentials{
            rlpipe::testing::kS3rverKey, rlpipe::testing::kS3rverSecret, "", std::nullopt, "test"});
    store_ = rlpipe::OpenCheckpointStore(std::string("s3://") + kBucket, options);
  }

  /// Writes a pipeline file into the test folder; `sessions` is the YAML of the sessions list.
  fs::path WritePipeline(const std::string& header, const std::string& sessions) {
    const fs::path p = dir_ / "pipeline.yaml";
    std::ofstream(p) << header << "\nsessions:\n" << sessions;
    return p;
  }
  /// One session entry using the tiny config.
  std::string Session(const std::string& name, const std::string& extra = "") const {
    return "  - name: " + name + "\n    config: " + kTinyConfig.string() + "\n" + extra;
  }

  /// Keys below s3://bucket/`prefix`, relative to it.
  std::vector<std::string> Keys(const std::string& prefix) {
    const std::string base = std::string("s3://") + kBucket + "/" + prefix;
    std::vector<std::string> keys;
    for (const auto& uri : store_->List(base)) keys.push_back(uri.substr(base.size()));
    return keys;
  }
  std::string Object(const std::string& key) {
    return store_->GetBytes(std::string("s3://") + kBucket + "/" + key);
  }
  static bool Has(const std::vector<std::string>& keys, const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  }

  fs::path dir_;
  fs::path out_;
  rlpipe::testing::S3rverProcess s3rver_;
  std::unique_ptr<rlpipe::CheckpointStore> store_;
};

TEST_F(S3PipelineE2E, WholePipelineLandsUnderTheRunPrefix) {
  const fs::path p = WritePipeline(
      "name: s3-two", Session("one", "    overrides:\n      training:\n        save_freq: 1024\n") +
                          Session("two", "    use_previous_checkpoint: true\n"));
  const std::vector<std::string> s3_args = {"--use-s3", "--s3-bucket", kBucket, "--s3-prefix",
                                            "team/exp", "--run-id",    "r1"};
  std::vector<std::string> args = {"run", "--config", p.string(), "--output-dir", out_.string()};
  args.insert(args.end(), s3_args.begin(), s3_args.end());
  const Outcome r = Rlpipe(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("run id: r1"), std::string::npos) << r.output;

  // Every session's models (periodic checkpoints side by side), the state and the report.
  const std::vector<std::string> keys = Keys("team/exp/r1/");
  for (const char* key :
       {"checkpoints/one/best_model.zip", "checkpoints/one/final_model.zip",
        "checkpoints/one/rl_model_1024_steps.zip", "checkpoints/one/rl_model_2048_steps.zip",
        "checkpoints/one/manifest.json", "checkpoints/two/best_model.zip",
        "checkpoints/two/final_model.zip", "checkpoints/two/manifest.json", "pipeline_state.json",
        "reports/pipeline_report.json"}) {
    EXPECT_TRUE(Has(keys, key)) << key;
  }
  EXPECT_EQ(Object("team/exp/r1/checkpoints/one/best_model.zip"),
            Slurp(out_ / "one/models/best_model.zip"));
  EXPECT_EQ(Object("team/exp/r1/reports/pipeline_report.json"),
            Slurp(out_ / "pipeline_report.json"));

  // The state object is the local state file, which records the run.
  const std::string state_text = Object("team/exp/r1/pipeline_state.json");
  EXPECT_EQ(state_text, Slurp(out_ / "pipeline_state.json"));
  const json state = json::parse(state_text);
  EXPECT_EQ(state["run_id"], "r1");
  EXPECT_EQ(state["run_uri"], std::string("s3://") + kBucket + "/team/exp/r1");
  EXPECT_EQ(state["pending_uploads"], json::array());
  EXPECT_EQ(state["sessions"]["two"]["status"], "completed");

  // `rlpipe runs` lists it; the same run id is never reused by a new run.
  const Outcome runs = Rlpipe({"runs", "--s3-bucket", kBucket, "--s3-prefix", "team/exp"});
  ASSERT_EQ(runs.exit_code, 0) << runs.output;
  EXPECT_NE(runs.output.find("r1"), std::string::npos) << runs.output;
  EXPECT_NE(runs.output.find("completed"), std::string::npos) << runs.output;
  EXPECT_NE(runs.output.find("2/2"), std::string::npos) << runs.output;
  std::vector<std::string> again = {"run", "--config", p.string(), "--output-dir",
                                    (dir_ / "other").string()};
  again.insert(again.end(), s3_args.begin(), s3_args.end());
  const Outcome reused = Rlpipe(again);
  EXPECT_EQ(reused.exit_code, 2) << reused.output;
  EXPECT_NE(reused.output.find("already exists"), std::string::npos) << reused.output;
}

TEST_F(S3PipelineE2E, AwsCliListsWhatRlpipeWroteWithTheConfigEndpoint) {
  if (rlpipe::testing::FindOnPath("aws").empty()) GTEST_SKIP() << "awscli is not installed";
  // aws.s3_endpoint_url wins over AWS_ENDPOINT_URL_S3 (pointed at a closed port here); the run id
  // is generated.
  setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", 1);
  const fs::path p =
      WritePipeline("name: cli-check\naws:\n  use_s3: true\n  s3_bucket: " + std::string(kBucket) +
                        "\n  s3_endpoint_url: " + s3rver_.endpoint(),
                    Session("one"));
  const Outcome r = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string run_id =
      json::parse(Slurp(out_ / "pipeline_state.json"))["run_id"].get<std::string>();
  EXPECT_TRUE(run_id.starts_with("cli-check-")) << run_id;
  EXPECT_NE(r.output.find("run id: " + run_id), std::string::npos) << r.output;

  // The reference client sees the objects and downloads the same bytes.
  const std::string aws =
      "env -u AWS_PROFILE -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u AWS_SESSION_TOKEN "
      "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
      "AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent "
      "AWS_EC2_METADATA_DISABLED=true AWS_REQUEST_CHECKSUM_CALCULATION=when_required "
      "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required aws --endpoint-url " +
      s3rver_.endpoint() + " ";
  const auto listed =
      rlpipe::testing::RunCommand(aws + "s3 ls --recursive s3://" + std::string(kBucket) + "/");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  for (const std::string key :
       {"/pipeline_state.json", "/checkpoints/one/best_model.zip",
        "/checkpoints/one/final_model.zip", "/checkpoints/one/manifest.json",
        "/reports/pipeline_report.json"}) {
    EXPECT_NE(listed.output.find(run_id + key), std::string::npos) << key << " in\n"
                                                                   << listed.output;
  }
  const fs::path copy = dir_ / "from_aws.json";
  const auto copied =
      rlpipe::testing::RunCommand(aws + "s3 cp s3://" + std::string(kBucket) + "/" + run_id +
                                  "/pipeline_state.json " + ShellQuote(copy.string()));
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  EXPECT_EQ(Slurp(copy), Slurp(out_ / "pipeline_state.json"));
}

TEST_F(S3PipelineE2E, FreshMachineResumeDownloadsStateAndTheModelItNeeds) {
  // Session two runs long enough to be interrupted in the middle.
  const fs::path p =
      WritePipeline("name: fresh", Session("one") + Session("two",
                                                            "    use_previous_checkpoint: true\n"
                                                            "    timesteps: 5000000\n"));
  const pid_t pid = SpawnRlpipe({"run", "--config", p.string(), "--output-dir", out_.string(),
                                 "--use-s3", "--s3-bucket", kBucket, "--run-id", "r2"},
                                dir_ / "log.txt");
  ASSERT_TRUE(WaitFor([&] { return SessionRunning(out_, "two"); })) << Slurp(dir_ / "log.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(pid, SIGINT);
  ASSERT_EQ(WaitExit(pid), 130) << Slurp(dir_ / "log.txt");
  EXPECT_EQ(json::parse(Object("r2/pipeline_state.json"))["sessions"]["two"]["status"],
            "interrupted");
  const Outcome interrupted = Rlpipe({"runs", "--s3-bucket", kBucket});
  EXPECT_NE(interrupted.output.find("interrupted"), std::string::npos) << interrupted.output;

  // A new machine: nothing local. Session two (now short) starts from one's model from S3.
  const std::string one_best = Slurp(out_ / "one/models/best_model.zip");
  fs::remove_all(out_);
  const fs::path out2 = dir_ / "elsewhere";
  const fs::path p2 = WritePipeline(
      "name: fresh", Session("one") + Session("two", "    use_previous_checkpoint: true\n"));
  const Outcome r = Rlpipe({"run", "--config", p2.string(), "--output-dir", out2.string(),
                            "--resume", "--use-s3", "--s3-bucket", kBucket, "--run-id", "r2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("downloaded the state"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("skipping completed session 'one'"), std::string::npos) << r.output;
  EXPECT_EQ(Slurp(out2 / "one/models/best_model.zip"), one_best);
  const json state = json::parse(Slurp(out2 / "pipeline_state.json"));
  EXPECT_EQ(state["sessions"]["one"]["attempts"], 1);
  EXPECT_EQ(state["sessions"]["two"]["attempts"], 2);
  EXPECT_EQ(state["sessions"]["two"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["two"]["init_checkpoint"], "one/models/best_model.zip");
  EXPECT_EQ(Object("r2/pipeline_state.json"), Slurp(out2 / "pipeline_state.json"));
  EXPECT_TRUE(Has(Keys("r2/"), "checkpoints/two/manifest.json"));
  const Outcome completed = Rlpipe({"runs", "--s3-bucket", kBucket});
  EXPECT_NE(completed.output.find("completed"), std::string::npos) << completed.output;
}

TEST_F(S3PipelineE2E, StoppedServerFailsClearlyAndResumeFinishesTheUpload) {
  const fs::path p =
      WritePipeline("name: faults", Session("one", "    timesteps: 49152\n") +
                                        Session("two", "    use_previous_checkpoint: true\n"));
  const std::vector<std::string> args = {"run",         "--config", p.string(),    "--output-dir",
                                         out_.string(), "--use-s3", "--s3-bucket", kBucket,
                                         "--run-id",    "r3"};
  const pid_t pid = SpawnRlpipe(args, dir_ / "log.txt");

  // Stop s3rver once S3 knows session one is running; its models cannot go up. The window
  // between the state's "running" and "completed" uploads is session one's training, a few
  // seconds, which slow S3 polls on a loaded machine can miss. So rlpipe is held (SIGSTOP) as
  // soon as its local state says running, which is written before the upload, and let go for
  // short steps until S3 has the state too; s3rver stops while rlpipe is held.
  auto s3_says_running = [&] {
    try {
      return json::parse(Object("r3/pipeline_state.json"))["sessions"]["one"]["status"] ==
             "running";
    } catch (...) {
      return false;
    }
  };
  ASSERT_TRUE(WaitFor([&] { return SessionRunning(out_, "one"); }, 120.0))
      << Slurp(dir_ / "log.txt");
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  bool uploaded = false;
  for (int step = 0; step < 600 && !uploaded; ++step) {  // up to 600 x 50 ms let go
    uploaded = s3_says_running();
    if (!uploaded) {
      kill(pid, SIGCONT);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      kill(pid, SIGSTOP);
    }
  }
  const bool still_running = SessionRunning(out_, "one");
  s3rver_.Stop();
  kill(pid, SIGCONT);
  const int exit_code = WaitExit(pid);
  ASSERT_TRUE(uploaded && still_running)
      << "S3 never showed session one running while it ran (uploaded " << uploaded
      << ", still running " << still_running << "): " << Slurp(dir_ / "log.txt");
  EXPECT_EQ(exit_code, 3) << Slurp(dir_ / "log.txt");
  const std::string log = Slurp(dir_ / "log.txt");
  EXPECT_NE(log.find(std::string("s3://") + kBucket + "/r3/checkpoints/one/"), std::string::npos)
      << log;
  EXPECT_NE(log.find("gave up after 3 attempts"), std::string::npos) << log;
  EXPECT_NE(log.find("--resume"), std::string::npos) << log;

  // Locally the session completed and is intact; what S3 lacks is listed.
  json state = json::parse(Slurp(out_ / "pipeline_state.json"));
  EXPECT_EQ(state["sessions"]["one"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["two"]["status"], "pending");
  EXPECT_EQ(state["pending_uploads"],
            json({"checkpoints/one", "pipeline_state.json", "reports/pipeline_report.json"}));
  EXPECT_TRUE(fs::exists(out_ / "one/models/best_model.zip"));
  EXPECT_TRUE(fs::exists(out_ / "one/models/final_model.zip"));
  const Outcome status = Rlpipe({"status", "--output-dir", out_.string()});
  EXPECT_NE(status.output.find("not in S3 yet: checkpoints/one"), std::string::npos)
      << status.output;

  // The same data folder behind a new port: --resume uploads first, then continues.
  ASSERT_EQ(s3rver_.Start(dir_ / "s3rver", {kBucket}), "");
  PointAtS3rver();
  EXPECT_FALSE(
      store_->IsCompleteCheckpoint(std::string("s3://") + kBucket + "/r3/checkpoints/one"));
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  const Outcome r = Rlpipe(resume);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  state = json::parse(Slurp(out_ / "pipeline_state.json"));
  EXPECT_EQ(state["pending_uploads"], json::array());
  EXPECT_EQ(state["sessions"]["one"]["attempts"], 1);
  EXPECT_EQ(state["sessions"]["two"]["status"], "completed");
  EXPECT_EQ(Object("r3/checkpoints/one/best_model.zip"), Slurp(out_ / "one/models/best_model.zip"));
  EXPECT_TRUE(Has(Keys("r3/"), "checkpoints/two/manifest.json"));
  EXPECT_EQ(Object("r3/pipeline_state.json"), Slurp(out_ / "pipeline_state.json"));
}

}  // namespace
