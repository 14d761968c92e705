// The runner in-process, with a fake SessionExecutor: the order of sessions, the model each one
// starts from, what a failure leaves behind and what --resume / --start-from / continue_on_error
// do, in milliseconds instead of training. (End-to-end runs with the real executor:
// tests/pipeline_e2e_test.cc.)
#include "pipeline/runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/session_executor.h"

namespace rlpipe::pipeline {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Trains nothing: writes a "model" naming the session and the model it started from, and returns
/// the result (or error) the test asked for.
class FakeExecutor : public SessionExecutor {
 public:
  SessionTrainingOutcome Execute(const SessionRun& run) override {
    const std::string& name = run.pipeline->sessions[run.index].name;
    calls.push_back(name);
    init_of[name] = run.init_checkpoint ? ReadText(*run.init_checkpoint) : "scratch";
    SessionTrainingOutcome outcome;
    if (failing.contains(name)) {
      // A failed attempt may have written half a model into its staging folder.
      std::ofstream(run.models_dir / "best_model.zip") << "half-written " << name;
      outcome.error = "fake failure of " + name;
      return outcome;
    }
    std::ofstream(run.models_dir / "best_model.zip") << name << "(" << init_of[name] << ")";
    outcome.result.timesteps = run.experiment->training.total_timesteps;
    outcome.result.episodes = 10;
    outcome.result.best_mean_return = returns.contains(name) ? returns[name] : -100.0;
    outcome.result.final_mean_return = outcome.result.best_mean_return;
    outcome.result.best_model = run.models_dir / "best_model.zip";
    return outcome;
  }

  std::vector<std::string> calls;              // sessions executed, in order
  std::map<std::string, std::string> init_of;  // session -> content of the model it started from
  std::set<std::string> failing;               // sessions that fail
  std::map<std::string, double> returns;       // best mean eval return per session
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_runner_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    executor_ = std::make_shared<FakeExecutor>();
    console_ = std::tmpfile();
  }
  void TearDown() override {
    std::fclose(console_);
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// A pipeline of sessions one, two, three (each from the previous one's model) on the tiny
  /// pendulum config, with `header` lines and `extra` YAML under session two.
  void WritePipeline(const std::string& header = "", const std::string& extra = "") {
    const std::string config =
        (fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines/pendulum_tiny.yaml").string();
    std::ofstream out(dir_ / "pipeline.yaml");
    out << "name: fake\n" << header << "sessions:\n";
    for (const std::string name : {"one", "two", "three"}) {
      out << "  - name: " << name << "\n    config: " << config << "\n"
          << "    use_previous_checkpoint: true\n"
          << (name == "two" ? extra : "");
    }
  }

  int Run(bool resume = false, std::optional<std::string> start_from = std::nullopt) {
    RunOptions options;
    options.config_file = dir_ / "pipeline.yaml";
    options.output_dir = dir_ / "out";
    options.resume = resume;
    options.start_from = std::move(start_from);
    options.executor = executor_;
    return RunPipeline(options, console_);
  }

  std::string Model(const std::string& session) const {
    return ReadText(dir_ / "out" / session / "models" / "best_model.zip");
  }
  std::string Status(const std::string& session) const {
    const nlohmann::json state =
        nlohmann::json::parse(ReadText(dir_ / "out" / "pipeline_state.json"));
    const auto& sessions = state.at("sessions");
    return sessions.contains(session) ? sessions.at(session).at("status").get<std::string>()
                                      : "absent";
  }

  fs::path dir_;
  std::shared_ptr<FakeExecutor> executor_;
  std::FILE* console_ = nullptr;
};

TEST_F(RunnerTest, SessionsRunInOrderEachFromThePreviousOnesModel) {
  WritePipeline();
  EXPECT_EQ(Run(), kExitOk);
  EXPECT_EQ(executor_->calls, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(Model("one"), "one(scratch)");
  EXPECT_EQ(Model("two"), "two(one(scratch))");
  EXPECT_EQ(Model("three"), "three(two(one(scratch)))");
  for (const char* s : {"one", "two", "three"}) EXPECT_EQ(Status(s), "completed") << s;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "pipeline_report.json"));
  // No staging folder is left behind by completed sessions.
  EXPECT_FALSE(fs::exists(dir_ / "out" / "two" / "models.partial"));
}

TEST_F(RunnerTest, AFailedSessionStopsThePipelineAndResumeSkipsWhatCompleted) {
  WritePipeline();
  executor_->failing = {"two"};
  EXPECT_EQ(Run(), kExitSessionFailed);
  EXPECT_EQ(executor_->calls, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(Status("two"), "failed");
  EXPECT_EQ(Status("three"), "pending");
  // The failed attempt's files stay in staging for inspection, never as the session's models.
  EXPECT_FALSE(fs::exists(dir_ / "out" / "two" / "models" / "best_model.zip"));
  EXPECT_EQ(ReadText(dir_ / "out" / "two" / "models.partial" / "best_model.zip"),
            "half-written two");

  // --resume: session one is not trained again; two and three run from one's model.
  executor_->failing.clear();
  executor_->calls.clear();
  EXPECT_EQ(Run(/*resume=*/true), kExitOk);
  EXPECT_EQ(executor_->calls, (std::vector<std::string>{"two", "three"}));
  EXPECT_EQ(Model("three"), "three(two(one(scratch)))");
}

TEST_F(RunnerTest, AFailedRetryNeverReplacesTheGoodModels) {
  WritePipeline();
  ASSERT_EQ(Run(), kExitOk);
  const std::string good = Model("two");

  // Session two again, failing this time: its completed models stay as they were.
  executor_->failing = {"two"};
  executor_->calls.clear();
  EXPECT_EQ(Run(/*resume=*/false, "two"), kExitSessionFailed);
  EXPECT_EQ(executor_->calls, (std::vector<std::string>{"two"}));
  EXPECT_EQ(Model("two"), good);
  EXPECT_EQ(Status("two"), "failed");
}

TEST_F(RunnerTest, ContinueOnErrorHandsOnTheLastGoodModel) {
  WritePipeline("continue_on_error: true\n");
  executor_->failing = {"two"};
  EXPECT_EQ(Run(), kExitSessionFailed);
  EXPECT_EQ(executor_->calls, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(Model("three"), "three(one(scratch))");
  EXPECT_EQ(Status("three"), "completed");
}

TEST_F(RunnerTest, UnmetSuccessCriteriaKeepTheModelsOutOfTheHandOver) {
  WritePipeline("", "    success_criteria:\n      min_reward: -50\n");
  executor_->returns = {{"two", -80.0}};
  EXPECT_EQ(Run(), kExitSessionFailed);
  EXPECT_EQ(Status("two"), "failed_criteria");
  EXPECT_FALSE(fs::exists(dir_ / "out" / "two" / "models" / "best_model.zip"));
  EXPECT_EQ(executor_->calls, (std::vector<std::string>{"one", "two"}));

  // Met on a retry from there: the next session starts from the new model.
  executor_->returns = {{"two", -10.0}};
  executor_->calls.clear();
  EXPECT_EQ(Run(/*resume=*/true), kExitOk);
  EXPECT_EQ(Model("three"), "three(two(one(scratch)))");
}

}  // namespace
}  // namespace rlpipe::pipeline
