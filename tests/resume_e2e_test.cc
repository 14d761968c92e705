// Exact mid-session resume with the real `rlpipe` binary: a session run straight through, and the
// same session killed with SIGKILL at fixed-seed random points and continued with --resume three
// times, end with bitwise the same weights (PPO and SAC on pendulum; one torch thread, fixed
// seed). The state file and the report record where each resume started and the steps lost.
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
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/zip.h"
#include "e2e_process.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using rlpipe::e2e::Slurp;
using rlpipe::e2e::SpawnRlpipe;
using rlpipe::e2e::WaitExit;

/// Step counts of the complete periodic checkpoints in `dir` (temp files do not match).
std::vector<int64_t> CheckpointSteps(const fs::path& dir) {
  static const std::regex kName(R"(rl_model_(\d+)_steps\.zip)");
  std::vector<int64_t> steps;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::smatch match;
    const std::string name = it->path().filename().string();
    if (std::regex_match(name, match, kName)) steps.push_back(std::stoll(match[1]));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

/// Every SB3 member of a model archive (weights, optimizer states, variables) and `data`, by name.
std::string WeightsAndData(const fs::path& model) {
  rlpipe::ZipReader zip = rlpipe::ZipReader::FromFile(model);
  std::string all;
  for (const std::string& name : zip.Names()) {
    if (name.ends_with(".pth") || name == "data") all += name + "\n" + zip.Get(name) + "\n";
  }
  return all;
}

/// The names of the members compared by WeightsAndData that differ between two archives, with
/// num_timesteps of each (the step the model was saved at).
std::string DifferingMembers(const fs::path& a, const fs::path& b) {
  rlpipe::ZipReader za = rlpipe::ZipReader::FromFile(a);
  rlpipe::ZipReader zb = rlpipe::ZipReader::FromFile(b);
  std::string out;
  for (const std::string& name : za.Names()) {
    if (!name.ends_with(".pth") && name != "data") continue;
    const std::vector<std::string> names_b = zb.Names();
    if (std::find(names_b.begin(), names_b.end(), name) == names_b.end()) {
      out += name + " (only in the first) ";
    } else if (za.Get(name) != zb.Get(name)) {
      out += name + " ";
    }
  }
  const auto steps = [](rlpipe::ZipReader& z) {
    return json::parse(z.Get("data")).value("num_timesteps", int64_t{-1});
  };
  return out + "(num_timesteps " + std::to_string(steps(za)) + " vs " + std::to_string(steps(zb)) +
         ")";
}

// PPO: rollouts of 2 x 64 steps, checkpoints every 96 steps (mostly mid-rollout).
constexpr char kPpoConfig[] = R"(environment:
  name: pendulum
  max_episode_steps: 100
agent:
  algorithm: PPO
  learning_rate: lin_0.001
  n_steps: 64
  batch_size: 32
  n_epochs: 2
network:
  policy_layers: [32, 32]
  value_layers: [32, 32]
training:
  total_timesteps: 3072
  eval_freq: 768
  eval_episodes: 2
  save_freq: 96
  keep_checkpoints: 0
  n_envs: 2
)";

// SAC: a 300-transition buffer that wraps around, learning from step 100, checkpoints every 50.
constexpr char kSacConfig[] = R"(environment:
  name: pendulum
  max_episode_steps: 100
agent:
  algorithm: SAC
  learning_rate: 0.001
  buffer_size: 300
  learning_starts: 100
  batch_size: 32
network:
  policy_layers: [32, 32]
  qf_layers: [32, 32]
training:
  total_timesteps: 900
  eval_freq: 300
  eval_episodes: 2
  save_freq: 50
  keep_checkpoints: 0
  n_envs: 1
)";

class ResumeE2E : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string name =
        std::string(GetParam()).find("SAC") != std::string::npos ? "sac" : "ppo";
    dir_ =
        fs::temp_directory_path() / ("rlpipe_resume_e2e_" + name + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "session.yaml") << GetParam();
    std::ofstream(dir_ / "pipeline.yaml")
        << "name: resume-e2e\nseed: 11\nsessions:\n"
        << "  - name: s\n    config: " << (dir_ / "session.yaml").string() << "\n";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::vector<std::string> Args(const fs::path& out, bool resume) const {
    std::vector<std::string> args = {"run", "--config", (dir_ / "pipeline.yaml").string(),
                                     "--output-dir", out.string()};
    if (resume) args.push_back("--resume");
    return args;
  }

  fs::path dir_;
};

TEST_P(ResumeE2E, KilledAndResumedThreeTimesEqualsUninterrupted) {
  // Straight through.
  const fs::path straight = dir_ / "straight";
  ASSERT_EQ(WaitExit(SpawnRlpipe(Args(straight, false), dir_ / "straight.log")), 0)
      << Slurp(dir_ / "straight.log");
  const std::vector<int64_t> all_checkpoints = CheckpointSteps(straight / "s/models/checkpoints");
  ASSERT_GE(all_checkpoints.size(), 8u);

  // Three kills: each after a checkpoint picked at random (fixed seed) from the ones the next
  // attempt will write, plus a random delay of up to 30 ms.
  const fs::path out = dir_ / "killed";
  const fs::path partial = out / "s/models.partial/checkpoints";
  std::mt19937 rng(2026);
  int64_t expected_lost = 0;
  size_t reached = 0;  // index into all_checkpoints the previous attempt got to
  for (int kill_number = 0; kill_number < 3; ++kill_number) {
    const size_t left = all_checkpoints.size() - 1 - reached;
    const size_t target = reached + 1 + std::uniform_int_distribution<size_t>(0, left / 3)(rng);
    const int64_t target_steps = all_checkpoints[target];
    const pid_t pid = SpawnRlpipe(Args(out, kill_number > 0), dir_ / "killed.log");
    bool seen = false;
    for (int poll = 0; poll < 6000 && !seen; ++poll) {
      const std::vector<int64_t> steps = CheckpointSteps(partial);
      seen = !steps.empty() && steps.back() >= target_steps;
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(seen) << Slurp(dir_ / "killed.log");
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
    kill(pid, SIGKILL);
    ASSERT_EQ(WaitExit(pid), 128 + SIGKILL)
        << "finished before the kill: " << Slurp(dir_ / "killed.log");

    // The state says running; the next resume loses the steps after the newest checkpoint.
    const json state = json::parse(Slurp(out / "pipeline_state.json"));
    ASSERT_EQ(state["sessions"]["s"]["status"], "running");
    const int64_t progress = state["sessions"]["s"]["timesteps"].get<int64_t>();
    const int64_t newest = CheckpointSteps(partial).back();
    EXPECT_GE(progress, all_checkpoints[reached]);
    // (A kill between a checkpoint and the state write that follows it loses nothing.)
    expected_lost += std::max<int64_t>(0, progress - newest);
    reached =
        static_cast<size_t>(std::find(all_checkpoints.begin(), all_checkpoints.end(), newest) -
                            all_checkpoints.begin());
    ASSERT_LT(reached, all_checkpoints.size()) << newest;

    // A half-written checkpoint of more steps (what a kill during a write would leave if writes
    // were not atomic) is ignored by the resume.
    std::ofstream(partial / ("rl_model_" + std::to_string(newest + 1) + "_steps.zip"))
        << "PK\x03\x04 cut short";
  }

  // The last resume runs to the end.
  ASSERT_EQ(WaitExit(SpawnRlpipe(Args(out, true), dir_ / "killed.log")), 0)
      << Slurp(dir_ / "killed.log");
  for (const char* model : {"final_model.zip", "best_model.zip"}) {
    const fs::path resumed = out / "s/models" / model;
    const fs::path reference = straight / "s/models" / model;
    EXPECT_EQ(WeightsAndData(resumed), WeightsAndData(reference))
        << model << ": members that differ: " << DifferingMembers(resumed, reference)
        << "\nevaluations (straight):\n"
        << Slurp(straight / "s/logs/evaluations.csv") << "evaluations (killed and resumed):\n"
        << Slurp(out / "s/logs/evaluations.csv") << "log of the attempts:\n"
        << Slurp(out / "pipeline.log");
  }

  // State and report: four attempts, where the last one resumed, and the steps lost in total.
  const json state = json::parse(Slurp(out / "pipeline_state.json"));
  const json& record = state["sessions"]["s"];
  EXPECT_EQ(record["status"], "completed");
  EXPECT_EQ(record["attempts"], 4);
  EXPECT_EQ(record["resumed_from_timesteps"], all_checkpoints[reached]);
  EXPECT_EQ(record["steps_lost"], expected_lost);
  const json report = json::parse(Slurp(out / "pipeline_report.json"));
  EXPECT_EQ(report["sessions"][0]["steps_lost"], expected_lost);
  EXPECT_EQ(report["sessions"][0]["resumed_from_timesteps"], all_checkpoints[reached]);
  EXPECT_NE(Slurp(out / "pipeline.log").find("steps lost"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(PpoAndSac, ResumeE2E, ::testing::Values(kPpoConfig, kSacConfig),
                         [](const auto& info) {
                           return std::string(info.param).find("SAC") != std::string::npos
                                      ? std::string("SAC")
                                      : std::string("PPO");
                         });

}  // namespace
