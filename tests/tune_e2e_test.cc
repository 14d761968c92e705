// `rlpipe tune` end to end with the real binary: a 2 x 2 grid x 2 seeds with --parallel 2 (the
// children, how many run at once, their thread budget), kill -9 of the study and its children
// then --resume (nothing redone, the interrupted run continues from its checkpoint), Ctrl-C,
// median early stopping (the clearly worse trial stopped, the others not; --resume keeps it),
// and the one-line errors for bad input.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rlpipe::e2e::ReadJson;
using rlpipe::e2e::Rlpipe;
using rlpipe::e2e::Slurp;
using rlpipe::e2e::SpawnRlpipe;
using rlpipe::e2e::WaitExit;
using rlpipe::e2e::WaitFor;

namespace {

constexpr char kGridSpace[] = R"(metric: best_mean_return
direction: maximize
strategy: grid
parameters:
  agent.learning_rate: {values: [0.001, 0.0003]}
  agent.n_epochs: {values: [2, 1]}
)";

// The pids whose parent is `parent` (from /proc/<pid>/stat).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = Slurp(entry.path() / "stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) == 2 && ppid == parent &&
        state != 'Z') {
      children.push_back(static_cast<pid_t>(std::stoi(name)));
    }
  }
  return children;
}

// One variable of a process's environment ("" when absent or unreadable).
std::string EnvironOf(pid_t pid, const std::string& name) {
  const std::string environ = Slurp("/proc/" + std::to_string(pid) + "/environ");
  size_t start = 0;
  while (start < environ.size()) {
    const size_t end = environ.find('\0', start);
    const std::string entry = environ.substr(start, end - start);
    if (entry.starts_with(name + "=")) return entry.substr(name.size() + 1);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

// True when a periodic checkpoint (rl_model_<n>_steps.zip) exists anywhere under `dir`.
bool HasPeriodicCheckpoint(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("rl_model_") && name.ends_with("_steps.zip")) return true;
  }
  return false;
}

int Cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  return std::max(1, CPU_COUNT(&set));
}

class TuneE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tune_e2e_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines/pendulum_tiny.yaml",
                  dir_ / "tiny.yaml");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A one-session pipeline on the tiny pendulum config; `training` is extra YAML under the
  // session's overrides.training.
  fs::path WritePipeline(const std::string& training = "") {
    std::ofstream(dir_ / "pipeline.yaml")
        << "name: tune-e2e\nseed: 11\nsessions:\n"
           "  - name: only\n    config: tiny.yaml\n"
        << (training.empty() ? "" : "    overrides:\n      training:\n" + training);
    return dir_ / "pipeline.yaml";
  }
  fs::path WriteSpace(const std::string& text, const std::string& name = "space.yaml") {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  json Study() { return ReadJson(dir_ / "out/study.json"); }

  fs::path dir_;
};

TEST_F(TuneE2e, AGridWithSeedsRunsTwoChildrenAtATimeWithTheirShareOfTheCores) {
  const fs::path pipeline = WritePipeline();
  const fs::path space = WriteSpace(kGridSpace);
  const pid_t tune =
      SpawnRlpipe({"tune", "--config", pipeline.string(), "--space", space.string(), "--seeds", "2",
                   "--parallel", "2", "--output-dir", (dir_ / "out").string()},
                  dir_ / "tune.log");
  // Watch the children while the study runs: never more than 2, each with the thread budget.
  size_t most = 0;
  std::set<pid_t> seen;
  std::set<std::string> budgets;
  int status = 0;
  while (waitpid(tune, &status, WNOHANG) == 0) {
    const std::vector<pid_t> children = ChildrenOf(tune);
    most = std::max(most, children.size());
    for (pid_t child : children) {
      seen.insert(child);
      const std::string omp = EnvironOf(child, "OMP_NUM_THREADS");
      if (!omp.empty()) budgets.insert(omp);
    }
    usleep(20000);
  }
  const std::string log = Slurp(dir_ / "tune.log");
  ASSERT_EQ(rlpipe::e2e::ExitCode(status), 0) << log;
  EXPECT_EQ(most, 2u) << log;
  EXPECT_GE(seen.size(), 8u);
  EXPECT_EQ(budgets, (std::set<std::string>{std::to_string(std::max(1, Cores() / 2))}));

  // Every trial x seed ran as an ordinary pipeline run with its own seed and overrides.
  const json study = Study();
  ASSERT_EQ(study["runs"].size(), 8u);
  std::set<uint64_t> seeds;
  for (const json& run : study["runs"]) {
    EXPECT_EQ(run["status"], "completed") << run.dump();
    EXPECT_EQ(run["attempts"], 1);
    EXPECT_TRUE(run["metric"].is_number()) << run.dump();
    seeds.insert(run["seed"].get<uint64_t>());
    const fs::path run_dir = dir_ / "out" / run["dir"].get<std::string>();
    const json report = ReadJson(run_dir / "pipeline_report.json");
    EXPECT_EQ(report["seed"], run["seed"]);
    EXPECT_DOUBLE_EQ(report["sessions"][0]["best_mean_return"].get<double>(),
                     run["metric"].get<double>());
  }
  EXPECT_EQ(seeds, (std::set<uint64_t>{11, 12}));
  const std::string variant = Slurp(dir_ / "out/trials/t001-s1/tune_pipeline.yaml");
  EXPECT_NE(variant.find("learning_rate: 0.001"), std::string::npos) << variant;
  EXPECT_NE(variant.find("n_epochs: 1"), std::string::npos) << variant;
  EXPECT_NE(variant.find("seed: 12"), std::string::npos) << variant;

  // The ranked results, and the best trial's pipeline runs as is.
  const std::string csv = Slurp(dir_ / "out/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  const json results = ReadJson(dir_ / "out/results.json");
  ASSERT_EQ(results["trials"].size(), 4u);
  EXPECT_EQ(results["trials"][0]["rank"], 1);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_GE(results["trials"][i - 1]["mean"].get<double>(),
              results["trials"][i]["mean"].get<double>());
  }
  EXPECT_NE(log.find("best: " + results["best"].get<std::string>()), std::string::npos) << log;
  // The report: a scatter per parameter, a curve per run.
  const std::string report = Slurp(dir_ / "out/tune_report.html");
  EXPECT_NE(report.find("data-chart=\"param/agent.learning_rate\""), std::string::npos);
  EXPECT_NE(report.find("data-series=\"runs (one per seed)\" data-points=\"8\""),
            std::string::npos);
  size_t curves = 0;
  for (size_t at = report.find("<path class=\"series\" data-series=\"t0"); at != std::string::npos;
       at = report.find("<path class=\"series\" data-series=\"t0", at + 1)) {
    ++curves;
  }
  EXPECT_EQ(curves, 8u);
  const auto best = Rlpipe({"run", "--config", (dir_ / "out/best_pipeline.yaml").string(),
                            "--output-dir", (dir_ / "best").string()});
  EXPECT_EQ(best.exit_code, 0) << best.output;
}

TEST_F(TuneE2e, KillNineThenResumeRedoesNothing) {
  // Two trials, one at a time, long enough to be killed mid-run after a periodic checkpoint.
  const fs::path pipeline = WritePipeline(
      "        total_timesteps: 12288\n        save_freq: 1024\n"
      "        eval_freq: 4096\n");
  const fs::path space = WriteSpace(
      "metric: final_mean_return\nparameters:\n  agent.learning_rate: {values: [0.001, 0.002]}\n");
  const std::vector<std::string> args{
      "tune",         "--config",     pipeline.string(),      "--space",
      space.string(), "--output-dir", (dir_ / "out").string()};
  const pid_t tune = SpawnRlpipe(args, dir_ / "tune1.log");
  // Kill when the first run has finished and the second has a periodic checkpoint.
  const bool ready = WaitFor(
      [&] {
        try {
          const json study = Study();
          return study["runs"][0]["status"] == "completed" &&
                 study["runs"][1]["status"] == "running" &&
                 HasPeriodicCheckpoint(dir_ / "out/trials/t001-s0");
        } catch (...) {
          return false;
        }
      },
      240);
  ASSERT_TRUE(ready) << Slurp(dir_ / "tune1.log");
  const std::vector<pid_t> children = ChildrenOf(tune);
  kill(tune, SIGKILL);
  for (pid_t child : children) kill(child, SIGKILL);
  EXPECT_EQ(WaitExit(tune), 128 + SIGKILL);
  const auto report_time = fs::last_write_time(dir_ / "out/trials/t000-s0/pipeline_report.json");

  // The same command with --resume finishes the study.
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  const auto second = Rlpipe(resume);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("(1 already finished)"), std::string::npos) << second.output;
  const json study = Study();
  EXPECT_EQ(study["runs"][0]["attempts"], 1);  // finished: kept, not redone
  EXPECT_EQ(fs::last_write_time(dir_ / "out/trials/t000-s0/pipeline_report.json"), report_time);
  EXPECT_EQ(study["runs"][1]["attempts"], 2);
  EXPECT_EQ(study["runs"][1]["status"], "completed");
  // The interrupted run continued from its checkpoint through `rlpipe run --resume`.
  const json state = ReadJson(dir_ / "out/trials/t001-s0/pipeline_state.json");
  const json& session = state["sessions"]["only"];
  EXPECT_TRUE(session["resumed_from"].is_string()) << session.dump();
  EXPECT_GT(session["resumed_from_timesteps"].get<int64_t>(), 0) << session.dump();
  EXPECT_NE(second.output.find("start  trials/t001-s0 --resume"), std::string::npos)
      << second.output;
  EXPECT_TRUE(fs::exists(dir_ / "out/best_pipeline.yaml"));
}

TEST_F(TuneE2e, CtrlCStopsTheChildrenCleanlyAndResumeFinishes) {
  const fs::path pipeline =
      WritePipeline("        total_timesteps: 40960\n        eval_freq: 8192\n");
  const fs::path space =
      WriteSpace("metric: best_mean_return\nparameters:\n  agent.n_epochs: {values: [1, 2]}\n");
  const std::vector<std::string> args{"tune",    "--config",     pipeline.string(),
                                      "--space", space.string(), "--parallel",
                                      "2",       "--output-dir", (dir_ / "out").string()};
  const pid_t tune = SpawnRlpipe(args, dir_ / "tune1.log");
  ASSERT_TRUE(WaitFor([&] { return ChildrenOf(tune).size() == 2; }, 60));
  ASSERT_TRUE(WaitFor(
      [&] {
        return rlpipe::e2e::SessionRunning(dir_ / "out/trials/t000-s0", "only") &&
               rlpipe::e2e::SessionRunning(dir_ / "out/trials/t001-s0", "only");
      },
      60));
  kill(tune, SIGINT);
  EXPECT_EQ(WaitExit(tune), 130) << Slurp(dir_ / "tune1.log");
  const json study = Study();
  for (const json& run : study["runs"]) {
    EXPECT_EQ(run["status"], "interrupted") << run.dump();
    EXPECT_EQ(run["exit_code"], 130) << run.dump();
    const json state =
        ReadJson(dir_ / "out" / run["dir"].get<std::string>() / "pipeline_state.json");
    EXPECT_EQ(state["sessions"]["only"]["status"], "interrupted");
  }
  EXPECT_TRUE(ChildrenOf(tune).empty());
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  const auto second = Rlpipe(resume);
  EXPECT_EQ(second.exit_code, 0) << second.output;
}

TEST_F(TuneE2e, MedianEarlyStoppingStopsTheTrialWhoseLearningRateRuinsItAndResumeKeepsItStopped) {
  // Five trials x 2 seeds, two runs at a time. A learning rate of 1.0 saturates the policy
  // within the first updates (eval return about -1620, against -1100 to -1400 for the others);
  // it is the 4th trial, so three others have reached each of its steps when it is judged, and
  // the 5th is judged against the first four. It is judged at its 3rd evaluation (3072 steps);
  // the 5120 steps left give the study ample time to stop its runs before they end.
  const fs::path pipeline =
      WritePipeline("        total_timesteps: 8192\n        eval_freq: 1024\n");
  const fs::path space = WriteSpace(
      "metric: best_mean_return\nearly_stopping: median\nparameters:\n"
      "  agent.learning_rate: {values: [0.001, 0.0003, 0.0001, 1.0, 0.0005]}\n");
  const std::vector<std::string> args{"tune",
                                      "--config",
                                      pipeline.string(),
                                      "--space",
                                      space.string(),
                                      "--seeds",
                                      "2",
                                      "--parallel",
                                      "2",
                                      "--output-dir",
                                      (dir_ / "out").string()};
  const auto first = Rlpipe(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;  // a stopped trial is not a failure
  EXPECT_NE(first.output.find("tune: stop   t003 at 3072 steps"), std::string::npos)
      << first.output;

  // t003 is stopped, the others completed. Its two seeds run side by side and the trial is judged
  // on the mean over the seeds that reached its 3rd evaluation, so which seed got there first
  // depends on the machine's load. The run that got furthest keeps what it had: it checkpointed
  // as on Ctrl-C, its own state says interrupted (it could be continued by hand) and its report
  // has its partial figures. The other may have been stopped before it had written anything.
  json study = Study();
  const json* furthest = nullptr;
  int furthest_steps = -1;
  json furthest_report;
  for (const json& run : study["runs"]) {
    const bool bad = run["trial"] == "t003";
    EXPECT_EQ(run["status"], bad ? "stopped" : "completed") << run.dump();
    // A stopped trial's run was either running (SIGTERM) or still pending, so never started
    // (which of the two depends on how fast its sibling runs went on a loaded machine). Seed 0
    // is always started first.
    if (bad && run["attempts"] == 0) {
      EXPECT_TRUE(run["exit_code"].is_null()) << run.dump();
      EXPECT_NE(run["seed_index"], 0) << run.dump();
      continue;
    }
    EXPECT_EQ(run["attempts"], 1) << run.dump();
    if (!bad) continue;
    EXPECT_EQ(run["exit_code"], 128 + SIGTERM) << run.dump();
    const fs::path report_file = dir_ / "out/trials" /
                                 ("t003-s" + std::to_string(run["seed_index"].get<int>())) /
                                 "pipeline_report.json";
    if (!fs::exists(report_file)) continue;  // stopped before its first report
    const json report = ReadJson(report_file)["sessions"][0];
    if (report["timesteps"].get<int>() > furthest_steps) {
      furthest = &run;
      furthest_steps = report["timesteps"].get<int>();
      furthest_report = report;
    }
  }
  ASSERT_NE(furthest, nullptr) << "no run of t003 wrote a report";
  const fs::path stopped_run =
      dir_ / "out/trials" / ("t003-s" + std::to_string((*furthest)["seed_index"].get<int>()));
  EXPECT_EQ(ReadJson(stopped_run / "pipeline_state.json")["sessions"]["only"]["status"],
            "interrupted");
  EXPECT_GE(furthest_steps, 3072);
  EXPECT_LT(furthest_steps, 8192);
  EXPECT_DOUBLE_EQ((*furthest)["metric"].get<double>(),
                   furthest_report["best_mean_return"].get<double>());
  for (const json& trial : study["trials"]) {
    EXPECT_EQ(trial.contains("early_stop"), trial["id"] == "t003") << trial.dump();
  }
  const json& stop = study["trials"][3]["early_stop"];
  EXPECT_EQ(stop["timesteps"], 3072);  // its 3rd evaluation: the first one judged
  EXPECT_EQ(stop["other_trials"], 3);
  EXPECT_LT(stop["best_eval_return"].get<double>(), stop["median"].get<double>());

  // Results: the stopped trial is listed unranked with its partial metric and the reason.
  const json results = ReadJson(dir_ / "out/results.json");
  ASSERT_EQ(results["trials"].size(), 5u);
  EXPECT_EQ(results["trials"][4]["trial"], "t003");
  EXPECT_EQ(results["trials"][4]["status"], "stopped");
  EXPECT_TRUE(results["trials"][4]["rank"].is_null());
  EXPECT_TRUE(results["trials"][4]["mean"].is_number());
  EXPECT_EQ(results["trials"][4]["early_stop"]["timesteps"], 3072);
  EXPECT_NE(Slurp(dir_ / "out/results.csv").find(",t003,1.0,"), std::string::npos);
  const std::string report = Slurp(dir_ / "out/tune_report.html");
  EXPECT_NE(report.find("class=\"status s-stopped\">stopped"), std::string::npos);
  EXPECT_NE(report.find("t003 at 3072 steps"), std::string::npos);

  // --resume: nothing to run, the stopped trial stays stopped.
  std::vector<std::string> resume = args;
  resume.push_back("--resume");
  const auto second = Rlpipe(resume);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("(10 already finished)"), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find("start"), std::string::npos) << second.output;
  study = Study();
  for (const json& run : study["runs"]) {
    const bool bad = run["trial"] == "t003";
    EXPECT_EQ(run["status"], bad ? "stopped" : "completed") << run.dump();
    // Nothing ran again: each run kept the attempts it had.
    EXPECT_EQ(run["attempts"], bad && run["exit_code"].is_null() ? 0 : 1) << run.dump();
  }
  EXPECT_EQ(study["trials"][3]["early_stop"]["timesteps"], 3072);
}

TEST_F(TuneE2e, BadInputIsOneLine) {
  const fs::path pipeline = WritePipeline();
  const fs::path space = WriteSpace(kGridSpace);
  auto error = [&](std::vector<std::string> extra, const fs::path& sp) {
    std::vector<std::string> args{"tune",      "--config",     pipeline.string(),      "--space",
                                  sp.string(), "--output-dir", (dir_ / "out").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto outcome = Rlpipe(args);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.output;
    EXPECT_EQ(std::count(outcome.output.begin(), outcome.output.end(), '\n'), 1) << outcome.output;
    return outcome.output;
  };
  EXPECT_NE(error({"--parallel", "0"}, space).find("--parallel 0: expected >= 1"),
            std::string::npos);
  EXPECT_NE(error({}, WriteSpace("metric: best_mean_return\nparameters:\n  agent.gamma: "
                                 "{values: []}\n",
                                 "empty.yaml"))
                .find("empty.yaml:3:"),
            std::string::npos);
  EXPECT_NE(error({}, WriteSpace("metric: best_mean_return\nparameters:\n  agent.gama: "
                                 "{values: [0.9]}\n",
                                 "typo.yaml"))
                .find("typo.yaml:3:3: agent.gama: unknown key, did you mean 'gamma'?"),
            std::string::npos);
  EXPECT_NE(
      error({}, WriteSpace("metric: mean_reward\nparameters:\n  agent.gamma: {values: [0.9]}\n",
                           "metric.yaml"))
          .find("metric.yaml:1:9: metric: pipeline_report.json has no per-session figure"),
      std::string::npos);
  EXPECT_NE(error({}, WriteSpace("metric: timesteps\nearly_stopping: median\nparameters:\n"
                                 "  agent.gamma: {values: [0.9]}\n",
                                 "stopping.yaml"))
                .find("stopping.yaml:2:17: early_stopping: median early stopping compares "
                      "evaluation returns"),
            std::string::npos);
  EXPECT_NE(error({}, WriteSpace("metric: best_mean_return\nearly_stopping: median\nparameters:\n"
                                 "  training.eval_freq: {values: [1024, 0]}\n",
                                 "noeval.yaml"))
                .find("noeval.yaml:2:17: early_stopping: session 'only' never evaluates "
                      "(training.eval_freq: 0 in trial t001)"),
            std::string::npos);
  EXPECT_NE(error({}, WriteSpace("metric: best_mean_return\nstrategy: random\nparameters:\n"
                                 "  agent.gamma: {min: 0.9, max: 0.99}\n",
                                 "random.yaml"))
                .find("random needs --trials N"),
            std::string::npos);

  // A study whose space changed is not resumed unless --force.
  const fs::path small = WriteSpace(
      "metric: best_mean_return\nparameters:\n  agent.n_epochs: {values: [1]}\n", "small.yaml");
  const auto first = Rlpipe({"tune", "--config", pipeline.string(), "--space", small.string(),
                             "--output-dir", (dir_ / "out").string()});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(error({"--resume"}, space).find("was made for another space"), std::string::npos);
  EXPECT_NE(error({}, small).find("already holds a study"), std::string::npos);
  const fs::path bigger = WriteSpace(
      "metric: best_mean_return\nparameters:\n  agent.n_epochs: {values: [1, 2]}\n", "big.yaml");
  const auto forced = Rlpipe({"tune", "--config", pipeline.string(), "--space", bigger.string(),
                              "--output-dir", (dir_ / "out").string(), "--resume", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(forced.output.find("(1 already finished)"), std::string::npos) << forced.output;
}

}  // namespace
