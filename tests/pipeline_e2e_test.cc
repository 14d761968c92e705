// End-to-end tests of `rlpipe run`: the real binary, real PPO sessions on pendulum (about a second
// each), real signals. Each test is one line of the pipeline semantics in the skeleton issue.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using namespace rlpipe::e2e;  // NOLINT(google-build-using-namespace)

const fs::path kFixtures = fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines";
const fs::path kTinyConfig = kFixtures / "pendulum_tiny.yaml";

class PipelineE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_e2e_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    out_ = dir_ / "out";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
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
  json State() const { return ReadJson(out_ / "pipeline_state.json"); }
  json Report() const { return ReadJson(out_ / "pipeline_report.json"); }

  fs::path dir_;
  fs::path out_;
};

TEST_F(PipelineE2E, WritesTheOutputLayoutAndChainsCheckpoints) {
  const Outcome r = Rlpipe({"run", "--config", (kFixtures / "three_sessions.yaml").string(),
                            "--output-dir", out_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Layout.
  for (const char* f : {"pipeline_state.json", "pipeline_report.json", "pipeline.log"}) {
    EXPECT_TRUE(fs::exists(out_ / f)) << f;
  }
  for (const char* s : {"first", "second", "third"}) {
    EXPECT_TRUE(fs::exists(out_ / s / "training_config.yaml")) << s;
    EXPECT_TRUE(fs::exists(out_ / s / "models/best_model.zip")) << s;
    EXPECT_TRUE(fs::exists(out_ / s / "models/final_model.zip")) << s;
    EXPECT_TRUE(fs::exists(out_ / s / "logs/metrics.csv")) << s;
    EXPECT_TRUE(fs::exists(out_ / s / "logs/training.log")) << s;
    EXPECT_FALSE(fs::exists(out_ / s / "models.partial")) << s;
  }

  // State: the seed's fields plus per-session records.
  const json state = State();
  EXPECT_EQ(state["sessions_completed"], json({"first", "second", "third"}));
  EXPECT_TRUE(state["current_session"].is_null());
  EXPECT_FALSE(state["started_at"].get<std::string>().empty());
  EXPECT_FALSE(state["last_updated"].get<std::string>().empty());
  EXPECT_EQ(state["checkpoints"]["first"], "first/models/best_model.zip");
  EXPECT_TRUE(state["sessions"]["first"]["init_checkpoint"].is_null());
  EXPECT_EQ(state["sessions"]["second"]["init_checkpoint"], "first/models/best_model.zip");
  EXPECT_EQ(state["sessions"]["third"]["init_checkpoint"], "second/models/best_model.zip");
  EXPECT_EQ(state["sessions"]["first"]["config_fingerprint"].get<std::string>().size(), 16u);

  // timesteps: null keeps the config's value; a number replaces it; overrides merge.
  EXPECT_EQ(state["sessions"]["first"]["timesteps"], 2048);
  EXPECT_EQ(state["sessions"]["second"]["timesteps"], 1024);
  const std::string second_cfg = Slurp(out_ / "second/training_config.yaml");
  EXPECT_NE(second_cfg.find("eval_freq: 512"), std::string::npos) << second_cfg;
  EXPECT_NE(second_cfg.find("total_timesteps: 1024"), std::string::npos) << second_cfg;

  // Report.
  const json report = Report();
  EXPECT_EQ(report["pipeline_name"], "e2e-three");
  EXPECT_EQ(report["summary"]["completed"], 3);
  EXPECT_EQ(report["summary"]["failed"], 0);
  ASSERT_EQ(report["sessions"].size(), 3u);
  for (const auto& s : report["sessions"]) {
    EXPECT_EQ(s["status"], "completed");
    EXPECT_TRUE(s["best_mean_return"].is_number());
    EXPECT_TRUE(s["final_mean_return"].is_number());
    EXPECT_GT(s["duration_seconds"].get<double>(), 0.0);
  }
  EXPECT_FALSE(report["finished_at"].get<std::string>().empty());
}

TEST_F(PipelineE2E, ExplicitCheckpointWinsAndTransferOffDisablesPrevious) {
  // Session one produces a model; a second pipeline names it explicitly.
  ASSERT_EQ(Rlpipe({"run", "--config", WritePipeline("name: a", Session("one")).string(),
                    "--output-dir", out_.string()})
                .exit_code,
            0);
  const fs::path model = out_ / "one/models/final_model.zip";
  ASSERT_TRUE(fs::exists(model));
  const fs::path out2 = dir_ / "out2";
  const fs::path p =
      WritePipeline("name: b\nenable_transfer_learning: false",
                    Session("x") + Session("y", "    use_previous_checkpoint: true\n") +
                        Session("z", "    checkpoint: " + model.string() + "\n"));
  const Outcome r = Rlpipe({"run", "--config", p.string(), "--output-dir", out2.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json state = ReadJson(out2 / "pipeline_state.json");
  EXPECT_TRUE(state["sessions"]["y"]["init_checkpoint"].is_null());
  EXPECT_EQ(state["sessions"]["z"]["init_checkpoint"], model.string());
}

TEST_F(PipelineE2E, ExistingStateWithoutResumeIsAnError) {
  const fs::path p = WritePipeline("name: a", Session("one"));
  ASSERT_EQ(Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()}).exit_code, 0);
  const Outcome again = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("--resume"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("--output-dir"), std::string::npos) << again.output;
}

/// Session two of kFailingTwo cannot take session one's model: one hidden layer against two (what
/// only the transfer itself finds, once session one has trained).
const char kOneLayer[] =
    "    use_previous_checkpoint: true\n    overrides:\n      network:\n"
    "        policy_layers: [16]\n";

TEST_F(PipelineE2E, FailureStopsThePipelineAndResumeRerunsIt) {
  // Session two fails when its transfer starts; three never runs.
  const std::string three = Session("three", "    use_previous_checkpoint: true\n");
  const fs::path p = WritePipeline("name: a", Session("one") + Session("two", kOneLayer) + three);
  const Outcome r = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  json state = State();
  EXPECT_EQ(state["sessions"]["one"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["two"]["status"], "failed");
  EXPECT_NE(state["sessions"]["two"]["error"].get<std::string>().find("policy_net has 2 layers"),
            std::string::npos)
      << state["sessions"]["two"]["error"];
  EXPECT_EQ(state["sessions"]["three"]["status"], "pending");
  EXPECT_EQ(Report()["summary"]["failed"], 1);

  // Fix session two's network, then resume: one is skipped.
  WritePipeline("name: a",
                Session("one") + Session("two", "    use_previous_checkpoint: true\n") + three);
  const Outcome resumed =
      Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string(), "--resume"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  state = State();
  EXPECT_EQ(state["sessions"]["one"]["attempts"], 1);
  EXPECT_EQ(state["sessions"]["two"]["attempts"], 2);
  EXPECT_EQ(state["sessions"]["three"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["three"]["init_checkpoint"], "two/models/best_model.zip");
}

TEST_F(PipelineE2E, ContinueOnErrorHandsOnTheLastGoodCheckpoint) {
  const fs::path p = WritePipeline("name: a\ncontinue_on_error: true",
                                   Session("one") + Session("two", kOneLayer) +
                                       Session("three", "    use_previous_checkpoint: true\n"));
  const Outcome r = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const json state = State();
  EXPECT_EQ(state["sessions"]["two"]["status"], "failed");
  EXPECT_EQ(state["sessions"]["three"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["three"]["init_checkpoint"], "one/models/best_model.zip");
}

TEST_F(PipelineE2E, UnmetSuccessCriteriaFailTheSessionAndKeepTheGoodModels) {
  const fs::path p =
      WritePipeline("name: a", Session("one", "    success_criteria:\n      min_reward: 1000.0\n"));
  const Outcome r = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const json state = State();
  EXPECT_EQ(state["sessions"]["one"]["status"], "failed_criteria");
  EXPECT_NE(state["sessions"]["one"]["error"].get<std::string>().find("min_reward"),
            std::string::npos);
  EXPECT_FALSE(state["checkpoints"].contains("one"));
  EXPECT_FALSE(fs::exists(out_ / "one/models"));
  EXPECT_TRUE(fs::exists(out_ / "one/models.partial/final_model.zip"));

  // min_episodes counts training episodes (2048 steps / 200 per episode -> 10).
  const fs::path out2 = dir_ / "out2";
  const fs::path p2 =
      WritePipeline("name: a", Session("one", "    success_criteria:\n      min_episodes: 11\n"));
  EXPECT_EQ(Rlpipe({"run", "--config", p2.string(), "--output-dir", out2.string()}).exit_code, 1);
  EXPECT_EQ(ReadJson(out2 / "pipeline_state.json")["sessions"]["one"]["status"], "failed_criteria");
}

TEST_F(PipelineE2E, StartFromRunsTheNamedSessionWithThePreviousModelFromState) {
  const fs::path p = WritePipeline(
      "name: a", Session("one") + Session("two", "    use_previous_checkpoint: true\n"));
  ASSERT_EQ(Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()}).exit_code, 0);
  const Outcome r =
      Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string(), "--start-from", "two"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json state = State();
  EXPECT_EQ(state["sessions"]["one"]["attempts"], 1);
  EXPECT_EQ(state["sessions"]["two"]["attempts"], 2);
  EXPECT_EQ(state["sessions"]["two"]["init_checkpoint"], "one/models/best_model.zip");

  const Outcome unknown = Rlpipe(
      {"run", "--config", p.string(), "--output-dir", out_.string(), "--start-from", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("valid: one, two"), std::string::npos) << unknown.output;

  // On a fresh folder, a session wanting the previous model cannot start from nothing.
  const Outcome fresh = Rlpipe({"run", "--config", p.string(), "--output-dir",
                                (dir_ / "fresh").string(), "--start-from", "two"});
  EXPECT_EQ(fresh.exit_code, 2);
  EXPECT_NE(fresh.output.find("use_previous_checkpoint"), std::string::npos) << fresh.output;
}

TEST_F(PipelineE2E, ResumeRefusesChangedConfigUnlessForced) {
  const fs::path p = WritePipeline(
      "name: a", Session("one") + Session("two", "    checkpoint: /nonexistent/x.zip\n"));
  // two's checkpoint is missing: that is a config error before anything runs.
  const Outcome bad = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("pipeline.yaml:"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(out_ / "pipeline_state.json"));

  const fs::path p2 = WritePipeline(
      "name: a\ncontinue_on_error: false",
      Session("one") + Session("two", "    success_criteria:\n      min_reward: 1000\n"));
  EXPECT_EQ(Rlpipe({"run", "--config", p2.string(), "--output-dir", out_.string()}).exit_code, 1);
  // Change session one's config: resume refuses, --force accepts.
  const fs::path p3 = WritePipeline(
      "name: a",
      Session("one", "    overrides:\n      agent:\n        gamma: 0.95\n") + Session("two"));
  const Outcome refused =
      Rlpipe({"run", "--config", p3.string(), "--output-dir", out_.string(), "--resume"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("one"), std::string::npos);
  EXPECT_NE(refused.output.find("--force"), std::string::npos);
  const Outcome forced = Rlpipe(
      {"run", "--config", p3.string(), "--output-dir", out_.string(), "--resume", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(State()["sessions"]["one"]["attempts"], 1);
}

/// A session long enough to be signalled in the middle.
std::string LongSession(const std::string& name) {
  return "  - name: " + name + "\n    config: " + kTinyConfig.string() +
         "\n    timesteps: 5000000\n";
}

TEST_F(PipelineE2E, SigintAndSigtermCheckpointAndMarkInterrupted) {
  for (int sig : {SIGINT, SIGTERM}) {
    const fs::path out = dir_ / ("out_" + std::to_string(sig));
    const fs::path p = WritePipeline("name: a", Session("one") + LongSession("two"));
    const pid_t pid = SpawnRlpipe({"run", "--config", p.string(), "--output-dir", out.string()},
                                  dir_ / "log.txt");
    ASSERT_TRUE(WaitFor([&] { return SessionRunning(out, "two"); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, sig);
    EXPECT_EQ(WaitExit(pid), 128 + sig) << Slurp(dir_ / "log.txt");
    const json state = ReadJson(out / "pipeline_state.json");
    EXPECT_EQ(state["sessions"]["two"]["status"], "interrupted");
    EXPECT_NE(state["sessions"]["two"]["error"].get<std::string>().find("checkpoint"),
              std::string::npos);
    bool has_checkpoint = false;
    for (const auto& e : fs::directory_iterator(out / "two/models.partial/checkpoints")) {
      has_checkpoint |= e.path().filename().string().starts_with("rl_model_");
    }
    EXPECT_TRUE(has_checkpoint);
    EXPECT_EQ(ReadJson(out / "pipeline_report.json")["summary"]["interrupted"], 1);
  }
}

TEST_F(PipelineE2E, ResumeAfterKill9ContinuesWithTheUnfinishedSession) {
  const fs::path p = WritePipeline("name: a", Session("one") + LongSession("two"));
  const pid_t pid =
      SpawnRlpipe({"run", "--config", p.string(), "--output-dir", out_.string()}, dir_ / "log.txt");
  ASSERT_TRUE(WaitFor([&] { return SessionRunning(out_, "two"); }));
  kill(pid, SIGKILL);
  EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);
  EXPECT_EQ(State()["sessions"]["two"]["status"], "running");

  // Resume with a shorter session two (a changed config of an unfinished session is fine).
  const fs::path p2 = WritePipeline("name: a", Session("one") + Session("two"));
  const Outcome r =
      Rlpipe({"run", "--config", p2.string(), "--output-dir", out_.string(), "--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json state = State();
  EXPECT_EQ(state["sessions"]["one"]["attempts"], 1);
  EXPECT_EQ(state["sessions"]["two"]["attempts"], 2);
  EXPECT_EQ(state["sessions"]["two"]["status"], "completed");
}

TEST_F(PipelineE2E, ASecondProcessOnTheSameFolderIsRefused) {
  const fs::path p = WritePipeline("name: a", LongSession("one"));
  const pid_t pid =
      SpawnRlpipe({"run", "--config", p.string(), "--output-dir", out_.string()}, dir_ / "log.txt");
  ASSERT_TRUE(WaitFor([&] { return SessionRunning(out_, "one"); }));
  const Outcome second =
      Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string(), "--resume"});
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.output.find("another rlpipe process"), std::string::npos) << second.output;
  kill(pid, SIGINT);
  EXPECT_EQ(WaitExit(pid), 130);
}

TEST_F(PipelineE2E, BadInputIsOneLineWithFileLineAndKeyPath) {
  const fs::path p =
      WritePipeline("name: a", Session("one", "    overrides:\n      agent:\n        gama: 0.9\n"));
  const Outcome r = Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("pipeline.yaml:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gama"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;

  const Outcome unknown_env =
      Rlpipe({"run", "--config",
              WritePipeline(
                  "name: a",
                  Session("one", "    overrides:\n      environment:\n        name: robot_env\n"))
                  .string(),
              "--output-dir", out_.string()});
  EXPECT_EQ(unknown_env.exit_code, 2);
  EXPECT_NE(unknown_env.output.find("pendulum"), std::string::npos) << unknown_env.output;
}

// Validate first: what only the second session's task can check (a parameter's range, a
// cross-field rule, the network against the task) fails `rlpipe run` and `rlpipe config` before
// the first session trains, at the key's own line in the file that wrote it.
TEST_F(PipelineE2E, ALaterSessionsBadTaskSettingFailsBeforeAnythingTrains) {
  struct Case {
    std::string overrides;  // session two's `overrides:` body
    std::string expected;   // the error line from the key path on
    std::string at;         // "line:col" of the offending key in pipeline.yaml
  };
  const std::vector<Case> cases = {
      // A value out of the task's declared range (the example).
      {"      environment:\n        name: height_maximize\n        num_type_b_robots: 500\n",
       "environment.num_type_b_robots: expected an integer in [1, 64], found 500", "10:28"},
      // A cross-field rule checked by building the task: 120 robots in a 1 m disc.
      {"      environment:\n        name: height_maximize\n        num_type_b_robots: 40\n"
       "        spawn_radius: 1.0\n",
       "environment.num_type_b_robots / environment.spawn_radius: 120 robots", "10:9"},
      // The network against the task's spaces.
      {"      agent:\n        policy: MultiRobotPolicy\n",
       "agent.policy: MultiRobotPolicy needs a multi-robot task", "9:17"},
  };
  for (const Case& c : cases) {
    const fs::path p =
        WritePipeline("name: a", Session("one") + Session("two", "    overrides:\n" + c.overrides));
    for (const std::string command : {"run", "config"}) {
      const auto start = std::chrono::steady_clock::now();
      const Outcome r = command == "run"
                            ? Rlpipe({"run", "--config", p.string(), "--output-dir", out_.string()})
                            : Rlpipe({"config", "--config", p.string()});
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output;
      EXPECT_NE(r.output.find("pipeline.yaml:" + c.at + ": " + c.expected), std::string::npos)
          << command << ": " << r.output;
      EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
      std::printf("rlpipe %s failed in %.2f s: %s", command.c_str(), seconds, r.output.c_str());
    }
    // Nothing trained, nothing written.
    EXPECT_FALSE(fs::exists(out_)) << c.expected;
  }
}

// The model a session starts from is checked before anything trains too: a hand-over between
// sessions of two algorithms, and a `checkpoint:` file trained with another algorithm.
TEST_F(PipelineE2E, AModelThatCannotBeHandedOverFailsBeforeAnythingTrains) {
  const fs::path sac = dir_ / "sac.yaml";
  std::ofstream(sac) << "environment:\n  name: pendulum\nagent:\n  algorithm: SAC\n"
                        "  learning_starts: 100\n  buffer_size: 1000\n"
                        "training:\n  total_timesteps: 300\n  eval_freq: 0\n";
  // Session two (SAC) after session one (PPO).
  const fs::path handed =
      WritePipeline("name: a", Session("one") + "  - name: two\n    config: " + sac.string() +
                                   "\n    use_previous_checkpoint: true\n");
  Outcome r = Rlpipe({"run", "--config", handed.string(), "--output-dir", out_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sac.yaml:4:14: agent.algorithm: session 'two' starts from session "
                          "'one''s model (use_previous_checkpoint), trained with PPO, not SAC"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(out_));

  // A `checkpoint:` file from a PPO run, for a SAC session.
  const fs::path ppo = WritePipeline("name: a", Session("one"));
  ASSERT_EQ(Rlpipe({"run", "--config", ppo.string(), "--output-dir", out_.string()}).exit_code, 0);
  const fs::path model = out_ / "one" / "models" / "best_model.zip";
  ASSERT_TRUE(fs::exists(model));
  const fs::path from_file =
      WritePipeline("name: b", "  - name: two\n    config: " + sac.string() +
                                   "\n    checkpoint: " + model.string() + "\n");
  r = Rlpipe({"config", "--config", from_file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(
      r.output.find("pipeline.yaml:5:17: sessions[0].checkpoint: checkpoint " + model.string() +
                    ": expected a model trained with SAC, found one "
                    "trained with PPO"),
      std::string::npos)
      << r.output;
}

TEST_F(PipelineE2E, ConfigCommandPrintsTheResolvedSession) {
  const fs::path p =
      WritePipeline("name: a", Session("one",
                                       "    timesteps: 4096\n    overrides:\n      agent:\n"
                                       "        gamma: 0.95\n") +
                                   Session("two"));
  const Outcome r = Rlpipe({"config", "--config", p.string(), "--session", "one"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("gamma: 0.95"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("total_timesteps: 4096"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("n_steps: 256"), std::string::npos) << r.output;
  const Outcome bad = Rlpipe({"config", "--config", p.string(), "--session", "zzz"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("valid: one, two"), std::string::npos) << bad.output;
}

}  // namespace
