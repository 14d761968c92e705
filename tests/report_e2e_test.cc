// What a user sees after a run, end to end: a 2-session pipeline with TensorBoard on, killed with
// SIGKILL in the middle of session 2 and continued with --resume. The event files are read back by
// an independent reader (Google's protobuf runtime over TensorBoard's field numbers, with
// TensorBoard's restart rule), the HTML report is loaded in headless Chromium, and the archive is
// listed by GNU tar.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using namespace rlpipe::e2e;  // NOLINT(google-build-using-namespace)

const fs::path kSource = RLPIPE_SOURCE_DIR;

/// Runs a shell command; returns (exit code, stdout + stderr).
std::pair<int, std::string> Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  return {ExitCode(pclose(pipe)), output};
}

/// A numeric CSV as rows of column → value (empty cells left out).
std::vector<std::map<std::string, double>> ReadCsv(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> columns;
  std::vector<std::map<std::string, double>> rows;
  if (!std::getline(in, line)) return rows;
  std::stringstream header(line);
  for (std::string cell; std::getline(header, cell, ',');) columns.push_back(cell);
  while (std::getline(in, line)) {
    std::map<std::string, double> row;
    std::stringstream cells(line);
    size_t i = 0;
    for (std::string cell; std::getline(cells, cell, ','); ++i) {
      if (!cell.empty() && i < columns.size()) row[columns[i]] = std::stod(cell);
    }
    rows.push_back(row);
  }
  return rows;
}

size_t RowsWith(const std::vector<std::map<std::string, double>>& rows, const std::string& key) {
  return static_cast<size_t>(
      std::count_if(rows.begin(), rows.end(), [&](const auto& r) { return r.count(key) > 0; }));
}

class ReportE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_report_e2e_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // A tiny PPO config on pendulum with TensorBoard on and frequent checkpoints.
    std::ofstream(dir_ / "train.yaml") << R"(environment:
  name: pendulum
  max_episode_steps: 200
agent:
  algorithm: PPO
  learning_rate: 0.001
  n_steps: 256
  batch_size: 64
  n_epochs: 2
  gamma: 0.9
network:
  policy_layers: [32, 32]
  value_layers: [32, 32]
training:
  total_timesteps: 6144
  eval_freq: 1024
  eval_episodes: 2
  save_freq: 512
  log_interval: 1
  n_envs: 2
monitoring:
  use_tensorboard: true
)";
    WritePipeline("pipeline.yaml", dir_ / "archives");
    WritePipeline("reference.yaml", dir_ / "reference_archives");
  }

  /// The two-session pipeline, archiving into `archives`.
  void WritePipeline(const std::string& name, const fs::path& archives) const {
    std::ofstream(dir_ / name) << R"(name: report_e2e
description: two sessions for the report test
seed: 7
monitoring:
  track_metrics: [episode_reward_mean, approx_kl, explained_variance]
post_pipeline:
  compare_sessions: true
  evaluate_final_models: true
  eval_episodes: 2
  archive_results: true
  archive_location: )" << archives.string()
                               << R"(
sessions:
  - name: s1
    config: train.yaml
    timesteps: 4096
  - name: s2
    config: train.yaml
    timesteps: 20480
    use_previous_checkpoint: true
)";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::vector<std::string> Args(const fs::path& out, bool resume,
                                const std::string& pipeline = "pipeline.yaml") const {
    std::vector<std::string> args{"run", "--config", (dir_ / pipeline).string(), "--output-dir",
                                  out.string()};
    if (resume) args.push_back("--resume");
    return args;
  }

  /// The run folder's TensorBoard curves as TensorBoard shows them (read_events.py).
  json ReadEvents(const fs::path& run_dir) const {
    const auto [code, output] =
        Shell("/usr/bin/python3 " + Quote((kSource / "tests/tensorboard/read_events.py").string()) +
              " " + Quote(run_dir.string()));
    EXPECT_EQ(code, 0) << output;
    return json::parse(output);
  }

  fs::path dir_;
};

TEST_F(ReportE2E, KilledAndResumedRunHasWholeCurvesABrowserCheckedReportAndAnArchive) {
  // The reference: the same pipeline, never interrupted.
  const fs::path reference = dir_ / "reference";
  const Outcome straight = Rlpipe(Args(reference, false, "reference.yaml"));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  // Kill -9 once session 2 has a checkpoint at 4096 steps or more; then --resume.
  const fs::path out = dir_ / "out";
  const pid_t pid = SpawnRlpipe(Args(out, false), dir_ / "killed.log");
  const bool seen = WaitFor(
      [&] {
        const fs::path checkpoints = out / "s2" / "models.partial" / "checkpoints";
        if (!fs::exists(checkpoints)) return false;
        for (const auto& entry : fs::directory_iterator(checkpoints)) {
          std::smatch m;
          const std::string name = entry.path().filename().string();
          static const std::regex kName(R"(rl_model_(\d+)_steps\.zip)");
          if (std::regex_match(name, m, kName) && std::stoll(m[1]) >= 4096) return true;
        }
        return false;
      },
      120.0);
  ASSERT_TRUE(seen) << Slurp(dir_ / "killed.log");
  kill(pid, SIGKILL);
  ASSERT_EQ(WaitExit(pid), 128 + SIGKILL)
      << "finished before the kill: " << Slurp(dir_ / "killed.log");
  const Outcome resumed = Rlpipe(Args(out, true));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const json state = ReadJson(out / "pipeline_state.json");
  const int64_t resumed_at = state["sessions"]["s2"]["resumed_from_timesteps"];
  ASSERT_GE(resumed_at, 4096);

  // TensorBoard: one run per session; each tag once per step, in step order; the restart marked
  // at the checkpoint; and exactly the uninterrupted run's curve (exact resume).
  for (const std::string session : {"s1", "s2"}) {
    SCOPED_TRACE(session);
    const json events = ReadEvents(out / session / "runs");
    EXPECT_EQ(events["versions"][0], "brain.Event:2");
    for (const char* tag :
         {"rollout/ep_rew_mean", "rollout/ep_len_mean", "time/fps", "train/approx_kl",
          "train/value_loss", "eval/mean_reward", "eval/mean_ep_length"}) {
      ASSERT_TRUE(events["scalars"].contains(tag)) << tag << " missing: " << events.dump();
      const json& points = events["scalars"][tag];
      for (size_t i = 1; i < points.size(); ++i) {
        ASSERT_LT(points[i - 1][0].get<int64_t>(), points[i][0].get<int64_t>())
            << tag << " not strictly increasing in step: " << points.dump();
      }
    }
    const json expected = ReadEvents(reference / session / "runs");
    EXPECT_EQ(events["scalars"]["rollout/ep_rew_mean"], expected["scalars"]["rollout/ep_rew_mean"]);
    EXPECT_EQ(events["scalars"]["eval/mean_reward"], expected["scalars"]["eval/mean_reward"]);
    EXPECT_EQ(events["scalars"]["train/approx_kl"], expected["scalars"]["train/approx_kl"]);
    // The last point of every curve is the session's end.
    EXPECT_EQ(events["scalars"]["rollout/ep_rew_mean"].back()[0],
              state["sessions"][session]["timesteps"]);
  }
  const json s2_events = ReadEvents(out / "s2" / "runs");
  EXPECT_EQ(s2_events["files"], 2);
  EXPECT_EQ(s2_events["starts"], json::array({resumed_at + 1}));

  // metrics.csv: one row per step count, none written twice, none lost across the kill.
  const auto progress = ReadCsv(out / "s2" / "logs" / "metrics.csv");
  const auto reference_progress = ReadCsv(reference / "s2" / "logs" / "metrics.csv");
  ASSERT_EQ(progress.size(), reference_progress.size());
  for (size_t i = 0; i < progress.size(); ++i) {
    EXPECT_EQ(progress[i].at("timesteps"), reference_progress[i].at("timesteps"));
    if (i > 0) {
      EXPECT_LT(progress[i - 1].at("timesteps"), progress[i].at("timesteps"));
    }
  }

  // The HTML report in Chromium: every chart plots the points its CSV holds; a screenshot.
  const fs::path html = out / "pipeline_report.html";
  ASSERT_TRUE(fs::exists(html));
  std::string command =
      "/usr/bin/python3 " + Quote((kSource / "tests/report/check_report.py").string()) + " " +
      Quote(html.string()) + " --screenshot " + Quote((dir_ / "report.png").string());
  for (const std::string session : {"s1", "s2"}) {
    const auto rows = ReadCsv(out / session / "logs" / "metrics.csv");
    const auto evals = ReadCsv(out / session / "logs" / "evaluations.csv");
    command += " --expect " + Quote(session +
                                    "/learning-curve|training episode return (mean of "
                                    "last 100)=" +
                                    std::to_string(RowsWith(rows, "mean_episode_return")));
    command +=
        " --expect " +
        Quote(session + "/learning-curve|eval mean return (± std)=" + std::to_string(evals.size()));
    command +=
        " --expect " +
        Quote(session + "/metric/approx_kl=" + std::to_string(RowsWith(rows, "train/approx_kl")));
    command += " --expect " + Quote(session + "/metric/explained_variance=" +
                                    std::to_string(RowsWith(rows, "train/explained_variance")));
  }
  const size_t all_evals = ReadCsv(out / "s1" / "logs" / "evaluations.csv").size() +
                           ReadCsv(out / "s2" / "logs" / "evaluations.csv").size();
  command += " --expect " + Quote("compare-sessions=" + std::to_string(all_evals));
  const auto [code, output] = Shell(command);
  EXPECT_EQ(code, 0) << output;
  EXPECT_TRUE(fs::exists(dir_ / "report.png"));
  // Kept beside the test binary's working folder (docs/report.png is one of these).
  fs::copy_file(dir_ / "report.png", "report_e2e_screenshot.png",
                fs::copy_options::overwrite_existing);
  EXPECT_NE(Slurp(html).find("data-chart=\"time-split\""), std::string::npos);
  EXPECT_LT(fs::file_size(html), 2u * 1024 * 1024);

  // The same check fails on a report whose learning curve lost its points.
  std::string broken = Slurp(html);
  const size_t chart = broken.find("data-chart=\"s1/learning-curve\"");
  ASSERT_NE(chart, std::string::npos);
  const size_t path = broken.find("<path class=\"series\" data-series=\"training", chart);
  ASSERT_NE(path, std::string::npos);
  const size_t points = broken.find("data-points=\"", path) + 13;
  broken.replace(points, broken.find('"', points) - points, "0");
  const size_t d = broken.find(" d=\"", path) + 4;
  broken.replace(d, broken.find('"', d) - d, "");
  std::ofstream(dir_ / "broken.html") << broken;
  const auto [broken_code, broken_output] =
      Shell("/usr/bin/python3 " + Quote((kSource / "tests/report/check_report.py").string()) + " " +
            Quote((dir_ / "broken.html").string()) + " --expect " +
            Quote("s1/learning-curve|training episode return (mean of last 100)=" +
                  std::to_string(RowsWith(ReadCsv(out / "s1" / "logs" / "metrics.csv"),
                                          "mean_episode_return"))));
  EXPECT_EQ(broken_code, 1) << broken_output;
  EXPECT_NE(broken_output.find("chart 's1/learning-curve' is empty"), std::string::npos)
      << broken_output;

  // Final evaluation: both models of both sessions, deterministic on the session's evaluation
  // seeds, so the best model reproduces the evaluation that made it best (same 2 episodes).
  const json report = ReadJson(out / "pipeline_report.json");
  for (const json& session : report["sessions"]) {
    SCOPED_TRACE(session["name"].get<std::string>());
    const json& evaluation = session["final_evaluation"];
    ASSERT_TRUE(evaluation.is_object()) << report.dump(2);
    EXPECT_EQ(evaluation["best"]["episodes"], 2);
    EXPECT_EQ(evaluation["final"]["episodes"], 2);
    EXPECT_TRUE(evaluation["final"]["mean_length"].is_number());
    EXPECT_EQ(evaluation["best"]["mean_return"].get<double>(),
              session["best_mean_return"].get<double>());
  }
  EXPECT_NE(Slurp(html).find("<h2>Final evaluation</h2>"), std::string::npos);

  // `rlpipe report` rebuilds the same charts from the files alone.
  fs::remove(html);
  const Outcome rebuilt = Rlpipe({"report", "--output-dir", out.string()});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.output;
  const auto [rebuilt_code, rebuilt_output] = Shell(command);
  EXPECT_EQ(rebuilt_code, 0) << rebuilt_output;

  // The archive: the run folder without work in progress, readable by GNU tar.
  std::vector<fs::path> archives;
  for (const auto& entry : fs::directory_iterator(dir_ / "archives")) archives.push_back(entry);
  ASSERT_EQ(archives.size(), 1u);
  EXPECT_TRUE(archives[0].filename().string().starts_with("report_e2e-"));
  const auto [tar_code, listing] = Shell("tar -tzf " + Quote(archives[0].string()));
  ASSERT_EQ(tar_code, 0) << listing;
  const std::string top =
      archives[0].filename().string().substr(0, archives[0].filename().string().size() - 7);
  EXPECT_NE(listing.find(top + "/pipeline_state.json\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(top + "/pipeline_report.html\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(top + "/s2/models/best_model.zip\n"), std::string::npos) << listing;
  EXPECT_NE(listing.find(top + "/s2/runs/events.out.tfevents."), std::string::npos) << listing;
  EXPECT_EQ(listing.find("models.partial"), std::string::npos) << listing;
  EXPECT_EQ(listing.find(".rlpipe.lock"), std::string::npos) << listing;
}

TEST_F(ReportE2E, AnUnwritableArchiveLocationFailsAfterTheResultsAreSafe) {
  std::ofstream(dir_ / "archives") << "a file where the archive folder should be";
  const fs::path out = dir_ / "out";
  const Outcome outcome = Rlpipe(Args(out, false));
  EXPECT_EQ(outcome.exit_code, 1) << outcome.output;
  EXPECT_NE(outcome.output.find("post_pipeline.archive_results: cannot write the archive to " +
                                (dir_ / "archives").string()),
            std::string::npos)
      << outcome.output;
  const json state = ReadJson(out / "pipeline_state.json");
  EXPECT_EQ(state["sessions"]["s1"]["status"], "completed");
  EXPECT_EQ(state["sessions"]["s2"]["status"], "completed");
  EXPECT_TRUE(fs::exists(out / "pipeline_report.html"));
}

}  // namespace
