// End-to-end: `rlpipe run --platform sagemaker` against the local SageMaker-API test server
// (tests/sagemaker_server/, which runs the real `rlpipe train` entrypoint over a temp /opt/ml) and
// s3rver. Tiny two-session pendulum pipelines, a few seconds each: a success chain, an algorithm
// failure, a spot interruption with restart, Ctrl-C (StopTrainingJob), warm-pool reuse and
// `--resume` re-attaching to a job that is still running.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/zip.h"
#include "e2e_process.h"
#include "storage/checkpoint_store.h"
#include "storage/http.h"
#include "storage/s3rver_fixture.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using namespace rlpipe::e2e;  // NOLINT(google-build-using-namespace)

const fs::path kSource = RLPIPE_SOURCE_DIR;
const fs::path kTinyConfig = kSource / "tests/fixtures/pipelines/pendulum_tiny.yaml";
constexpr char kBucket[] = "bucket";

class SageMakerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_sme2e_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    out_ = dir_ / "out";
    if (access("/usr/bin/python3", X_OK) != 0 ||
        rlpipe::testing::RunCommand("/usr/bin/python3 -c 'import boto3'").exit_code != 0) {
      GTEST_SKIP() << "needs Debian's python3 with boto3 (python3-boto3)";
    }
    const std::string error = s3rver_.Start(dir_ / "s3rver", {kBucket});
    if (!error.empty()) GTEST_SKIP() << "needs s3rver: " << error;

    // The SageMaker + Logs + SNS test server.
    const fs::path port_file = dir_ / "sm.port";
    server_ = Spawn(
        {"/usr/bin/python3", (kSource / "tests/sagemaker_server/sagemaker_server.py"), "--rlpipe",
         RLPIPE_BINARY, "--s3-endpoint", s3rver_.endpoint(), "--work-dir", (dir_ / "jobs").string(),
         "--port-file", port_file.string(), "--scenario", R"({"phase_delay_s": 0.05})"},
        dir_ / "server.log");
    ASSERT_TRUE(WaitFor([&] { return fs::exists(port_file); }, 30)) << Slurp(dir_ / "server.log");
    endpoint_ = "http://127.0.0.1:" + Slurp(port_file);

    // rlpipe finds every service through the standard endpoint variables only.
    for (const char* name : {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                             "AWS_CONTAINER_CREDENTIALS_FULL_URI", "RLPIPE_SM_ROOT"}) {
      unsetenv(name);
    }
    setenv("AWS_ACCESS_KEY_ID", rlpipe::testing::kS3rverKey, 1);
    setenv("AWS_SECRET_ACCESS_KEY", rlpipe::testing::kS3rverSecret, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ENDPOINT_URL_S3", s3rver_.endpoint().c_str(), 1);
    setenv("AWS_ENDPOINT_URL_SAGEMAKER", endpoint_.c_str(), 1);
    setenv("AWS_ENDPOINT_URL_LOGS", endpoint_.c_str(), 1);
    setenv("AWS_ENDPOINT_URL_SNS", endpoint_.c_str(), 1);
    setenv("RLPIPE_SM_POLL_MS", "100", 1);
    setenv("RLPIPE_S3_MAX_ATTEMPTS", "3", 1);
    setenv("RLPIPE_S3_RETRY_BASE_MS", "5", 1);

    rlpipe::StorageOptions options;
    options.s3.endpoint_url = s3rver_.endpoint();
    options.credentials =
        std::make_shared<rlpipe::StaticCredentialsProvider>(rlpipe::AwsCredentials{
            rlpipe::testing::kS3rverKey, rlpipe::testing::kS3rverSecret, "", std::nullopt, "test"});
    store_ = rlpipe::OpenCheckpointStore(std::string("s3://") + kBucket, options);
  }
  void TearDown() override {
    if (server_ > 0) {
      kill(server_, SIGTERM);
      WaitExit(server_);
    }
    s3rver_.Stop();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// A two-session pipeline; `sagemaker_extra` goes under aws.sagemaker, `one`/`two` under each
  /// session entry.
  fs::path WritePipeline(const std::string& sagemaker_extra = "", const std::string& one = "",
                         const std::string& two = "    use_previous_checkpoint: true\n") {
    const fs::path p = dir_ / "pipeline.yaml";
    std::ofstream(p) << "name: smpipe\nseed: 3\naws:\n  s3_bucket: " << kBucket
                     << "\n  s3_prefix: runs\n"
                        "  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:rlpipe\n"
                        "  sagemaker:\n"
                        "    role_arn: arn:aws:iam::123456789012:role/SageMakerRole\n"
                        "    container_image_uri: "
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/rlpipe:latest\n"
                     << sagemaker_extra
                     << "sessions:\n  - name: one\n    config: " << kTinyConfig.string() << "\n"
                     << one << "  - name: two\n    config: " << kTinyConfig.string() << "\n"
                     << two;
    return p;
  }
  std::vector<std::string> RunArgs(const fs::path& pipeline) const {
    return {RLPIPE_BINARY, "run",        "--config",  pipeline.string(), "--output-dir",
            out_.string(), "--platform", "sagemaker", "--run-id",        "r1"};
  }
  /// Runs rlpipe to the end; its output is in output_.
  int Run(std::vector<std::string> args) {
    const pid_t pid = Spawn(args, dir_ / "rlpipe.log");
    const int code = WaitExit(pid);
    output_ = Slurp(dir_ / "rlpipe.log");
    return code;
  }
  json Get(const std::string& path) {
    rlpipe::HttpRequest request;
    request.url = endpoint_ + path;
    auto response = rlpipe::SendHttp(request);
    if (!response.ok()) return json();
    return json::parse(response.value().body);
  }
  /// The test server's jobs (Describe shapes plus its `_test` record), by session name.
  json JobOf(const std::string& session) {
    for (const auto& job : Get("/_test/jobs")) {
      if (job["TrainingJobName"].get<std::string>().find("-" + session + "-") !=
          std::string::npos) {
        return job;
      }
    }
    return json();
  }
  json State() { return json::parse(Slurp(out_ / "pipeline_state.json")); }
  std::vector<std::string> Statuses(const json& job) {
    std::vector<std::string> out;
    for (const auto& t : job["SecondaryStatusTransitions"]) out.push_back(t["Status"]);
    return out;
  }

  fs::path dir_;
  fs::path out_;
  std::string endpoint_;
  std::string output_;
  pid_t server_ = -1;
  rlpipe::testing::S3rverProcess s3rver_;
  std::unique_ptr<rlpipe::CheckpointStore> store_;
};

TEST_F(SageMakerE2E, TwoSessionsChainThroughS3) {
  ASSERT_EQ(Run(RunArgs(WritePipeline())), 0) << output_;

  // Both jobs completed; the second started from the first one's best model in S3.
  const json one = JobOf("one");
  const json two = JobOf("two");
  ASSERT_FALSE(one.is_null());
  ASSERT_FALSE(two.is_null());
  EXPECT_EQ(one["TrainingJobStatus"], "Completed");
  EXPECT_EQ(two["TrainingJobStatus"], "Completed");
  EXPECT_EQ(two["HyperParameters"]["rlpipe_input_checkpoint"],
            "s3://bucket/runs/r1/checkpoints/one/best_model.zip");
  EXPECT_FALSE(one["HyperParameters"].contains("rlpipe_input_checkpoint"));
  EXPECT_NE(output_.find(
                "downloading the input model s3://bucket/runs/r1/checkpoints/one/best_model.zip"),
            std::string::npos);

  // The state records both, with their jobs; the models came back to the output folder.
  const json state = State();
  EXPECT_EQ(state["sessions"]["one"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["two"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["one"]["job"], one["TrainingJobName"]);
  EXPECT_EQ(state["sessions"]["two"]["timesteps"], 2048);
  EXPECT_EQ(Slurp(out_ / "one/models/best_model.zip"),
            store_->GetBytes("s3://bucket/runs/r1/checkpoints/one/best_model.zip"));
  EXPECT_TRUE(fs::exists(out_ / "two/logs/metrics.csv"));

  // The console: secondary statuses and the job's own log lines, prefixed by the session.
  EXPECT_NE(output_.find("[one] SageMaker: Training - "), std::string::npos) << output_;
  EXPECT_NE(output_.find("[one] SageMaker: Completed - "), std::string::npos);
  EXPECT_NE(output_.find("[two] [rlpipe-metric] timesteps=2048"), std::string::npos);

  // SageMaker's own copy of the model, and one notification per session.
  EXPECT_EQ(
      one["ModelArtifacts"]["S3ModelArtifacts"].get<std::string>().rfind("s3://bucket/runs/r1/", 0),
      0u);
  const json sns = Get("/_test/sns");
  ASSERT_EQ(sns.size(), 2u) << sns.dump();
  EXPECT_EQ(json::parse(sns[0]["Message"].get<std::string>())["status"], "completed");
  EXPECT_EQ(json::parse(sns[1]["Message"].get<std::string>())["session"], "two");
}

TEST_F(SageMakerE2E, AlgorithmFailureBecomesTheSessionsError) {
  // Session two's network has another hidden depth than session one's (one policy layer, not
  // two): no transfer is meaningful, and the container fails naming the layer stack.
  const std::string two =
      "    use_previous_checkpoint: true\n"
      "    overrides:\n      network:\n        policy_layers: [16]\n";
  ASSERT_EQ(Run(RunArgs(WritePipeline("", "", two))), 1) << output_;
  const json job = JobOf("two");
  EXPECT_EQ(job["TrainingJobStatus"], "Failed");
  const std::string reason = job["FailureReason"];
  EXPECT_EQ(reason.rfind("AlgorithmError: ", 0), 0u) << reason;
  EXPECT_NE(reason.find("mlp_extractor.policy_net"), std::string::npos) << reason;
  const json state = State();
  EXPECT_EQ(state["sessions"]["one"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["two"]["status"], "failed");
  EXPECT_NE(state["sessions"]["two"]["error"].get<std::string>().find(reason), std::string::npos);
  const json sns = Get("/_test/sns");
  ASSERT_EQ(sns.size(), 2u);
  EXPECT_EQ(json::parse(sns[1]["Message"].get<std::string>())["status"], "failed");
}

TEST_F(SageMakerE2E, SpotInterruptionRestartsFromTheSyncedCheckpoint) {
  rlpipe::HttpRequest scenario;
  scenario.method = "POST";
  scenario.url = endpoint_ + "/_test/scenario";
  scenario.body = R"({"spot_interrupt": ["-one-"]})";
  ASSERT_TRUE(rlpipe::SendHttp(scenario).ok());
  const std::string one =
      "    timesteps: 8192\n    overrides:\n      training:\n        save_freq: 1024\n";
  ASSERT_EQ(Run(RunArgs(WritePipeline("    use_spot_instances: true\n", one))), 0) << output_;

  const json job = JobOf("one");
  EXPECT_EQ(job["TrainingJobStatus"], "Completed");
  EXPECT_EQ(job["_test"]["interruptions"], 1);
  EXPECT_EQ(job["_test"]["exit_codes"], json::array({143, 0}));
  const std::vector<std::string> statuses = Statuses(job);
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "Interrupted"), statuses.end());
  EXPECT_NE(output_.find("[one] SageMaker: Interrupted - "), std::string::npos) << output_;
  // The restart resumed from the checkpoint the first start left in S3, and finished the run.
  EXPECT_NE(output_.find("restart: resuming from"), std::string::npos) << output_;
  const json report = json::parse(Slurp(out_ / "one/models/report.json"));
  EXPECT_FALSE(report["resumed_from"].is_null());
  // Exact resume: the restart lands on the target step count and its final weights are
  // bitwise equal to those of the same session trained without interruption.
  EXPECT_EQ(report["timesteps"].get<int64_t>(), 8192);
  EXPECT_EQ(State()["sessions"]["two"]["status"], "completed");

  scenario.body = R"({"spot_interrupt": []})";
  ASSERT_TRUE(rlpipe::SendHttp(scenario).ok());
  const fs::path interrupted_out = out_;
  out_ = dir_ / "out-uninterrupted";
  std::vector<std::string> args = RunArgs(WritePipeline("", one));
  args.back() = "r2";
  ASSERT_EQ(Run(args), 0) << output_;
  const auto weights = [](const fs::path& out) {
    return rlpipe::ZipReader::FromFile(out / "one/models/final_model.zip").Get("policy.pth");
  };
  EXPECT_EQ(weights(interrupted_out), weights(out_));
}

TEST_F(SageMakerE2E, CtrlCStopsTheJobAndRecordsInterrupted) {
  const pid_t pid =
      Spawn(RunArgs(WritePipeline("", "    timesteps: 2000000\n")), dir_ / "rlpipe.log");
  ASSERT_TRUE(WaitFor([&] {
    return Slurp(dir_ / "rlpipe.log").find("[one] [rlpipe-metric] timesteps=") != std::string::npos;
  })) << Slurp(dir_ / "rlpipe.log");
  kill(pid, SIGINT);
  EXPECT_EQ(WaitExit(pid), 130);
  output_ = Slurp(dir_ / "rlpipe.log");
  const json job = JobOf("one");
  EXPECT_EQ(job["TrainingJobStatus"], "Stopped") << output_;
  EXPECT_EQ(job["_test"]["exit_codes"], json::array({143}));
  EXPECT_EQ(State()["sessions"]["one"]["status"], "interrupted");
  EXPECT_EQ(State()["sessions"]["two"]["status"], "pending");
  EXPECT_TRUE(JobOf("two").is_null());
  const json requests = Get("/_test/requests");
  EXPECT_NE(std::find(requests.begin(), requests.end(), "SageMaker.StopTrainingJob"),
            requests.end());
}

TEST_F(SageMakerE2E, WarmPoolIsReusedAndReleasedAfterTheLastSession) {
  ASSERT_EQ(Run(RunArgs(WritePipeline(
                "    warm_pool:\n      enabled: true\n      retention_period_seconds: 600\n"))),
            0)
      << output_;
  const json one = JobOf("one");
  const json two = JobOf("two");
  EXPECT_EQ(one["WarmPoolStatus"]["Status"], "Reused");
  EXPECT_EQ(one["WarmPoolStatus"]["ReusedByJob"], two["TrainingJobName"]);
  EXPECT_TRUE(two["_test"]["reused_pool"].get<bool>());
  EXPECT_NE(output_.find("[two] SageMaker: Starting - Reusing the warm pool of"), std::string::npos)
      << output_;
  // Released by UpdateTrainingJob(KeepAlivePeriodInSeconds=0) once nothing will reuse it.
  EXPECT_EQ(two["WarmPoolStatus"]["Status"], "Terminated");
  EXPECT_NE(output_.find("released the warm pool of SageMaker job " +
                         two["TrainingJobName"].get<std::string>()),
            std::string::npos);
}

TEST_F(SageMakerE2E, ResumeReattachesToTheRunningJob) {
  const fs::path pipeline = WritePipeline("", "    timesteps: 60000\n");
  const pid_t pid = Spawn(RunArgs(pipeline), dir_ / "first.log");
  ASSERT_TRUE(WaitFor([&] {
    return Slurp(dir_ / "first.log").find("[one] [rlpipe-metric] timesteps=") != std::string::npos;
  }));
  // The orchestrator dies without stopping the job (kill -9); the job goes on.
  kill(pid, SIGKILL);
  WaitExit(pid);
  const std::string job_name = JobOf("one")["TrainingJobName"];
  EXPECT_EQ(JobOf("one")["TrainingJobStatus"], "InProgress");
  EXPECT_EQ(State()["sessions"]["one"]["job"], job_name);

  std::vector<std::string> args = RunArgs(pipeline);
  args.push_back("--resume");
  ASSERT_EQ(Run(args), 0) << output_;
  EXPECT_NE(output_.find("[one] re-attaching to SageMaker job " + job_name), std::string::npos)
      << output_;
  // One job for the session, not two.
  int jobs_for_one = 0;
  for (const auto& job : Get("/_test/jobs")) {
    jobs_for_one += job["TrainingJobName"].get<std::string>().find("-one-") != std::string::npos;
  }
  EXPECT_EQ(jobs_for_one, 1);
  EXPECT_EQ(State()["sessions"]["one"]["status"], "completed");
  EXPECT_EQ(State()["sessions"]["two"]["status"], "completed");
}

// `rlpipe tune --platform sagemaker`: a 2-point grid x 2 seeds as one tuning job; the test server
// runs its 4 training jobs (2 at a time) with the real container, which applies the tuned value.
TEST_F(SageMakerE2E, TuneGridWithSeedsRunsAsOneTuningJob) {
  const fs::path pipeline = WritePipeline();
  const fs::path space = dir_ / "space.yaml";
  std::ofstream(space) << "metric: best_mean_return\nsessions: [one]\nparameters:\n"
                          "  agent.n_epochs: {values: [1, 3]}\n";
  const int code = Run({RLPIPE_BINARY, "tune", "--config", pipeline.string(), "--space",
                        space.string(), "--platform", "sagemaker", "--seeds", "2", "--parallel",
                        "2", "--run-id", "r1", "--output-dir", out_.string()});
  ASSERT_EQ(code, 0) << output_;
  EXPECT_NE(output_.find("tune: submitted SageMaker tuning job smpipe-one-"), std::string::npos)
      << output_;
  EXPECT_NE(output_.find("Completed: completed 4, running 0"), std::string::npos) << output_;
  const json tuning = Get("/_test/tuning_jobs")[0];
  EXPECT_EQ(tuning["HyperParameterTuningJobStatus"], "Completed");
  EXPECT_EQ(tuning["TrainingJobStatusCounters"]["Completed"], 4);
  // Every training job got a tuned value and a seed, and trained with that value.
  std::set<std::string> points;
  for (const json& job : Get("/_test/jobs")) {
    const json& hp = job["HyperParameters"];
    points.insert(hp["rlpipe_set_agent.n_epochs"].get<std::string>() + "/" +
                  hp["rlpipe_seed"].get<std::string>());
  }
  EXPECT_EQ(points.size(), 4u);
  // Results: 2 trials, each with both seeds; the best model and pipeline here.
  const json results = ReadJson(out_ / "results.json");
  ASSERT_EQ(results["trials"].size(), 2u) << results.dump(2);
  for (const json& trial : results["trials"]) {
    EXPECT_EQ(trial["per_seed"].size(), 2u);
    EXPECT_TRUE(trial["per_seed"][1].is_number()) << results.dump(2);
  }
  const std::string best_epochs = results["trials"][0]["params"]["agent.n_epochs"].dump();
  const std::string trained = Slurp(out_ / "best_model/training_config.yaml");
  EXPECT_NE(trained.find("n_epochs: " + best_epochs), std::string::npos) << trained;
  EXPECT_TRUE(fs::exists(out_ / "best_model/best_model.zip"));
  const std::string best_pipeline = Slurp(out_ / "best_pipeline.yaml");
  EXPECT_NE(best_pipeline.find("n_epochs: " + best_epochs), std::string::npos) << best_pipeline;
}

TEST_F(SageMakerE2E, TuneCtrlCStopsTheTuningJob) {
  const fs::path pipeline = WritePipeline("", "    timesteps: 2000000\n");
  const fs::path space = dir_ / "space.yaml";
  std::ofstream(space) << "metric: best_mean_return\nstrategy: random\nsessions: [one]\n"
                          "parameters:\n  agent.gamma: {min: 0.9, max: 0.99}\n";
  const pid_t pid = Spawn({RLPIPE_BINARY, "tune", "--config", pipeline.string(), "--space",
                           space.string(), "--platform", "sagemaker", "--trials", "3",
                           "--run-id", "r1", "--output-dir", out_.string()},
                          dir_ / "rlpipe.log");
  ASSERT_TRUE(WaitFor([&] {
    const json jobs = Get("/_test/jobs");
    return jobs.is_array() && !jobs.empty() && jobs[0].value("SecondaryStatus", "") == "Training";
  })) << Slurp(dir_ / "rlpipe.log");
  kill(pid, SIGINT);
  EXPECT_EQ(WaitExit(pid), 130) << Slurp(dir_ / "rlpipe.log");
  output_ = Slurp(dir_ / "rlpipe.log");
  EXPECT_EQ(Get("/_test/tuning_jobs")[0]["HyperParameterTuningJobStatus"], "Stopped") << output_;
  EXPECT_EQ(Get("/_test/jobs")[0]["TrainingJobStatus"], "Stopped");
  const json requests = Get("/_test/requests");
  EXPECT_NE(std::find(requests.begin(), requests.end(), "SageMaker.StopHyperParameterTuningJob"),
            requests.end());
}

}  // namespace
