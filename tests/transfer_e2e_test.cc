// End-to-end test of transfer learning: the real rlpipe binary runs a two-session pipeline whose
// second session has another robot count (height_maximize N = 2 → N = 3, so another observation
// and action size) and checks transfer_report.json and the log's summary line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;
using rlpipe::e2e::Outcome;
using rlpipe::e2e::Rlpipe;
using rlpipe::e2e::Slurp;

namespace {

void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// A tiny PPO config on height_maximize with N sphere robots: 256 steps, 64-step episodes.
std::string TinyHeightConfig(int n) {
  return "environment:\n"
         "  name: height_maximize\n"
         "  num_type_b_robots: " +
         std::to_string(n) +
         "\n"
         "  max_episode_steps: 64\n"
         "agent:\n"
         "  algorithm: PPO\n"
         "  n_steps: 64\n"
         "  batch_size: 64\n"
         "  n_epochs: 1\n"
         "network:\n"
         "  policy_layers: [16, 16]\n"
         "  value_layers: [16, 16]\n"
         "training:\n"
         "  total_timesteps: 256\n"
         "  eval_freq: 0\n"
         "  eval_episodes: 1\n"
         "  n_envs: 2\n";
}

class TransferE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlpipe_transfer_e2e_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TransferE2E, TwoToThreeRobotsWritesReportAndLogLine) {
  Write(dir_ / "n2.yaml", TinyHeightConfig(2));
  Write(dir_ / "n3.yaml", TinyHeightConfig(3));
  Write(dir_ / "pipeline.yaml",
        "name: transfer_e2e\n"
        "seed: 5\n"
        "sessions:\n"
        "  - name: two\n"
        "    config: n2.yaml\n"
        "  - name: three\n"
        "    config: n3.yaml\n"
        "    use_previous_checkpoint: true\n"
        "    transfer:\n"
        "      freeze: [\"mlp_extractor.value_net.2.*\"]\n"
        "      reset: [\"value_net.*\"]\n"
        "      reset_log_std: true\n");
  const fs::path out = dir_ / "out";
  const Outcome run =
      Rlpipe({"run", "--config", (dir_ / "pipeline.yaml").string(), "--output-dir", out.string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // One summary line, with the model's path relative to the output folder.
  const std::string line =
      "[three] transfer from two/models/best_model.zip: 6 copied, 4 sliced, 0 fresh, 2 frozen, "
      "3 skipped";
  EXPECT_NE(run.output.find(line), std::string::npos) << run.output;
  EXPECT_NE(Slurp(out / "pipeline.log").find(line), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "two" / "transfer_report.json"));

  // The report: obs 146 → 218 and act 30 → 45, sliced by robot block.
  const json report = json::parse(Slurp(out / "three" / "transfer_report.json"));
  EXPECT_EQ(report["summary"]["copied"], 6);
  EXPECT_EQ(report["summary"]["sliced"], 4);
  EXPECT_EQ(report["summary"]["skipped"], 3);
  EXPECT_EQ(report["summary"]["frozen"], 2);
  EXPECT_EQ(report["options"]["reset_log_std"], true);
  EXPECT_EQ(report["options"]["reset"], json({"value_net.*"}));
  std::map<std::string, json> by_name;
  for (const json& t : report["tensors"]) by_name[t["name"]] = t;
  const json& first = by_name.at("mlp_extractor.policy_net.0.weight");
  EXPECT_EQ(first["action"], "sliced");
  EXPECT_EQ(first["source_shape"], json({16, 146}));
  EXPECT_EQ(first["target_shape"], json({16, 218}));
  EXPECT_EQ(first["slices"][0]["rule"], "observation");
  EXPECT_EQ(first["slices"][0]["copied"][1]["source"], json({116, 144}));  // spheres 0-1
  EXPECT_EQ(first["slices"][0]["copied"][1]["target"], json({174, 202}));
  EXPECT_EQ(first["slices"][0]["copied"][2]["source"], json({144, 146}));  // the task block
  EXPECT_EQ(first["slices"][0]["copied"][2]["target"], json({216, 218}));
  const json& head = by_name.at("action_net.weight");
  EXPECT_EQ(head["action"], "sliced");
  EXPECT_EQ(head["slices"][0]["rule"], "action");
  EXPECT_EQ(head["slices"][0]["copied"][1]["target"], json({36, 42}));
  EXPECT_EQ(by_name.at("log_std")["action"], "skipped");
  EXPECT_EQ(by_name.at("log_std")["reason"], "reset_log_std");
  EXPECT_EQ(by_name.at("value_net.weight")["action"], "skipped");
  EXPECT_EQ(by_name.at("value_net.bias")["reason"], "transfer.reset");
  EXPECT_EQ(by_name.at("mlp_extractor.value_net.0.weight")["action"], "sliced");
  EXPECT_EQ(by_name.at("mlp_extractor.value_net.2.weight")["frozen"], true);
  EXPECT_EQ(by_name.at("mlp_extractor.value_net.0.weight")["frozen"], false);
}

TEST_F(TransferE2E, ParameterPatternMatchingNothingFailsTheSessionNamingIt) {
  Write(dir_ / "n2.yaml", TinyHeightConfig(2));
  Write(dir_ / "pipeline.yaml",
        "sessions:\n"
        "  - name: a\n"
        "    config: n2.yaml\n"
        "    timesteps: 64\n"
        "  - name: b\n"
        "    config: n2.yaml\n"
        "    timesteps: 64\n"
        "    use_previous_checkpoint: true\n"
        "    transfer:\n"
        "      freeze: [encoder.*]\n");
  const Outcome run = Rlpipe({"run", "--config", (dir_ / "pipeline.yaml").string(), "--output-dir",
                              (dir_ / "out").string()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find((dir_ / "pipeline.yaml").string() +
                            ":10:16: sessions[1].transfer.freeze[0]: pattern 'encoder.*' matches "
                            "no parameter of the model"),
            std::string::npos)
      << run.output;
}

}  // namespace
