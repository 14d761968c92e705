// End-to-end tests of the training features through `rlpipe run`: early-stopping reasons and
// task statistics in pipeline_report.json, and metrics.csv columns for every algorithm.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rlpipe::e2e::Rlpipe;
using rlpipe::e2e::Slurp;

namespace {

const fs::path kFixtures = fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines";

/// The header cells of a CSV file.
std::vector<std::string> Header(const fs::path& csv) {
  std::istringstream lines(Slurp(csv));
  std::string header;
  std::getline(lines, header);
  std::vector<std::string> cells;
  std::istringstream fields(header);
  for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
  return cells;
}

bool Has(const std::vector<std::string>& cells, const std::string& name) {
  return std::find(cells.begin(), cells.end(), name) != cells.end();
}

class TrainingFeaturesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("rlpipe_tf_e2e_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  json RunAndReport(const std::string& sessions) {
    const fs::path pipeline = Write("pipeline.yaml", "name: features\nsessions:\n" + sessions);
    const rlpipe::e2e::Outcome run =
        Rlpipe({"run", "--config", pipeline.string(), "--output-dir", (dir_ / "out").string()});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return rlpipe::e2e::ReadJson(dir_ / "out/pipeline_report.json");
  }
  fs::path dir_;
};

TEST_F(TrainingFeaturesE2E, BothEarlyStoppingRulesEndTheSessionWithTheReasonInTheReport) {
  const std::string tiny = (kFixtures / "pendulum_tiny.yaml").string();
  // Any return reaches −1e9 at the first evaluation (512 steps of 4096). With a learning rate of
  // 1e-12 the deterministic evaluations barely move (zero-initialised biases still shift by
  // ~1e-12, so a return may rise in its last digits and count as a new best, as in SB3); the
  // session must stop at the first evaluation that is no new best, well before 4096 steps.
  const json report = RunAndReport(
      "  - name: reward\n    config: " + tiny + "\n    timesteps: 4096\n    overrides:\n" +
      "      training: {eval_freq: 512, stop_on_reward: -1.0e9}\n" +
      "  - name: plateau\n    config: " + tiny + "\n    timesteps: 4096\n    overrides:\n" +
      "      agent: {learning_rate: 1.0e-12}\n" +
      "      training: {eval_freq: 512, stop_after_no_improvement: 1}\n");
  ASSERT_EQ(report["sessions"].size(), 2u);
  const json& reward = report["sessions"][0];
  EXPECT_EQ(reward["status"], "completed");
  EXPECT_EQ(reward["timesteps"], 512);
  EXPECT_NE(reward["stop_reason"].get<std::string>().find("stop_on_reward"), std::string::npos);
  const json& plateau = report["sessions"][1];
  EXPECT_EQ(plateau["status"], "completed");
  std::istringstream rows(Slurp(dir_ / "out/plateau/logs/evaluations.csv"));
  std::string row;
  std::getline(rows, row);  // header: timesteps,mean_return,std_return,mean_length,new_best
  std::vector<std::pair<int64_t, bool>> evaluations;
  while (std::getline(rows, row)) {
    evaluations.emplace_back(std::stoll(row.substr(0, row.find(','))), row.back() == '1');
  }
  ASSERT_GE(evaluations.size(), 2u);
  for (size_t k = 0; k + 1 < evaluations.size(); ++k) EXPECT_TRUE(evaluations[k].second) << k;
  EXPECT_FALSE(evaluations.back().second);
  EXPECT_EQ(plateau["timesteps"], evaluations.back().first);
  EXPECT_LT(plateau["timesteps"].get<int64_t>(), 4096);
  EXPECT_NE(plateau["stop_reason"].get<std::string>().find("stop_after_no_improvement"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "out/plateau/models/final_model.zip"));
}

TEST_F(TrainingFeaturesE2E, RobotTaskStatisticsReachMetricsCsvAndTheReport) {
  const json report = RunAndReport(
      "  - name: height\n    config: " + (kFixtures / "height_tiny.yaml").string() + "\n");
  const std::vector<std::string> header = Header(dir_ / "out/height/logs/metrics.csv");
  for (const char* column : {"task/max_height", "task/best_height", "task/connections"}) {
    EXPECT_TRUE(Has(header, column)) << column;
  }
  const json& stats = report["sessions"][0]["task_stats"];
  ASSERT_TRUE(stats.contains("best_height")) << stats.dump();
  EXPECT_GT(stats["best_height"]["max"].get<double>(), 0.0);
  EXPECT_GE(stats["best_height"]["max"].get<double>(), stats["best_height"]["mean"].get<double>());
  EXPECT_TRUE(stats.contains("connections"));
}

TEST_F(TrainingFeaturesE2E, MetricsCsvHasSpeedAndTimeSharesForEveryAlgorithm) {
  const std::string tiny = (kFixtures / "pendulum_tiny.yaml").string();
  // Each algorithm with its own keys replaced (the PPO-only keys of the fixture are dropped).
  const fs::path a2c = Write("a2c.yaml",
                             "environment: {name: pendulum, max_episode_steps: 50}\n"
                             "agent: {algorithm: A2C}\n"
                             "training: {total_timesteps: 400, eval_freq: 0, eval_episodes: 1, "
                             "n_envs: 2, log_interval: 10}\n");
  const std::string off_policy_training =
      "training: {total_timesteps: 300, eval_freq: 0, eval_episodes: 1, n_envs: 1, "
      "log_interval: 1}\n";
  const fs::path sac = Write("sac.yaml",
                             "environment: {name: pendulum, max_episode_steps: 50}\n"
                             "agent: {algorithm: SAC, learning_starts: 100, batch_size: 32}\n"
                             "network: {policy_layers: [32], value_layers: [32]}\n" +
                                 off_policy_training);
  const fs::path td3 = Write("td3.yaml",
                             "environment: {name: pendulum, max_episode_steps: 50}\n"
                             "agent: {algorithm: TD3, learning_starts: 100, batch_size: 32}\n"
                             "network: {policy_layers: [32], value_layers: [32]}\n" +
                                 off_policy_training);
  RunAndReport("  - name: ppo\n    config: " + tiny + "\n    timesteps: 512\n" +
               "  - name: a2c\n    config: " + a2c.string() + "\n" + "  - name: sac\n    config: " +
               sac.string() + "\n" + "  - name: td3\n    config: " + td3.string() + "\n");
  for (const char* session : {"ppo", "a2c", "sac", "td3"}) {
    const fs::path csv = dir_ / "out" / session / "logs/metrics.csv";
    const std::vector<std::string> header = Header(csv);
    for (const char* column : {"steps_per_s", "collect_s", "update_s", "collect_share",
                               "update_share", "train/learning_rate"}) {
      EXPECT_TRUE(Has(header, column)) << session << ": " << column;
    }
    // The shares are fractions of the wall time: in [0, 1] and the update ran.
    std::istringstream lines(Slurp(csv));
    std::string line, last;
    while (std::getline(lines, line)) last = line;
    std::vector<std::string> cells;
    std::istringstream fields(last);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    const auto at = [&](const std::string& name) {
      const size_t i =
          static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
      return i < cells.size() && !cells[i].empty() ? std::stod(cells[i]) : -1.0;
    };
    EXPECT_GT(at("steps_per_s"), 0.0) << session;
    EXPECT_GT(at("update_share"), 0.0) << session;
    EXPECT_GT(at("collect_share"), 0.0) << session;
    EXPECT_LE(at("collect_share") + at("update_share"), 1.0) << session;
  }
}

}  // namespace
