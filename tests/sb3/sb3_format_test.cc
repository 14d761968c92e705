// rlpipe ↔ Stable-Baselines3: our checkpoints as SB3 2.x reads them (checked in Debian's Python
// by check_rlpipe_zip.py), and SB3-saved zips (made by make_sb3_fixture.py) imported exactly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "algos/evaluate_model.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "config/algorithms.h"
#include "config/experiment_config.h"
#include "core/error.h"
#include "core/files.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;
using config::Algorithm;

const fs::path kFixtures = RLPIPE_SB3_FIXTURES;
const std::string kPython = "/usr/bin/python3";  // Debian's, with python3-torch

// Runs a shell command; returns its stdout and sets `status`.
std::string RunCommand(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  std::array<char, 512> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  status = pclose(pipe);
  return out;
}

class Sb3FormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rlpipe_sb3_format_test_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A short pendulum session of `algorithm` with [8, 8] networks (the fixture's PPO net).
  algos::TrainingRequest Request(Algorithm algorithm, const std::string& name) const {
    algos::TrainingRequest request;
    config::ExperimentConfig& c = request.config;
    c.environment.name = "pendulum";
    c.agent = config::DefaultAgentConfig(algorithm);
    if (config::OnPolicyConfig* on_policy = c.agent.on_policy()) {
      on_policy->n_steps = 16;
      on_policy->ent_coef = 1.0;
    }
    if (auto* ppo = std::get_if<config::PpoConfig>(&c.agent.settings)) {
      ppo->batch_size = 16;
      ppo->n_epochs = 1;
    }
    if (config::OffPolicyConfig* off_policy = c.agent.off_policy()) {
      off_policy->batch_size = 16;
      off_policy->learning_starts = 8;
    }
    c.network = config::DefaultNetworkConfig(algorithm);
    c.network.policy_layers = {8, 8};
    c.network.value_layers = {8, 8};
    c.network.qf_layers = {8, 8};
    c.network.activation = config::Activation::kTanh;
    c.training.n_envs = 2;
    c.training.total_timesteps = 64;
    c.training.eval_freq = 0;
    c.training.eval_episodes = 1;
    request.seed = 5;
    request.models_dir = root_ / name;
    return request;
  }

  fs::path root_;
};

// Every algorithm's checkpoint opens in Python the way SB3's load does: members, data pickles
// (pickletools opcodes, stub-module unpickling, Box bounds and dtype), policy.pth names and shapes,
// optimizer state dicts loaded into the matching torch.optim optimizer.
TEST_F(Sb3FormatTest, EveryAlgorithmsCheckpointReadsAsSb3InPython) {
  for (const config::AlgorithmInfo& row : config::Algorithms()) {
    const Algorithm algorithm = row.algorithm;
    const std::string name = row.name;
    const algos::TrainingResult result = algos::Train(Request(algorithm, name));
    ASSERT_TRUE(result.final_model.has_value()) << name;

    // Python's view: one "name [shape]" line per tensor, then ok.
    int status = 0;
    const std::string printed =
        RunCommand(kPython + " " + RLPIPE_SOURCE_DIR + "/tests/sb3/check_rlpipe_zip.py " +
                       result.final_model->string() + " " + name + " 2>&1",
                   status);
    ASSERT_EQ(status, 0) << name << ": " << printed;

    // ... equals ours, tensor for tensor, in order.
    std::ostringstream expected;
    for (const auto& [tensor_name, tensor] :
         checkpoint::LoadModel(*result.final_model).state_dict) {
      expected << tensor_name << " " << checkpoint::ShapeString(tensor) << "\n";
    }
    expected << "ok\n";
    EXPECT_EQ(printed, expected.str()) << name;
  }
}

// A zip written as SB3's save_to_zip_file writes it (stored or deflated) imports with every
// tensor bit-exact, and its pickled closures are never executed.
TEST_F(Sb3FormatTest, Sb3SavedModelImportsEveryTensorExactly) {
  const nlohmann::json expected =
      nlohmann::json::parse(ReadFile(kFixtures / "sb3_ppo_expected.json"));
  const fs::path marker = ReadFile(kFixtures / "sb3_marker_path.txt");
  for (const char* file : {"sb3_ppo.zip", "sb3_ppo_deflated.zip"}) {
    const checkpoint::LoadedModel model = checkpoint::LoadModel(kFixtures / file);
    EXPECT_TRUE(model.from_sb3) << file;
    EXPECT_EQ(model.data.agent.algorithm(), Algorithm::kPpo) << file;
    EXPECT_EQ(model.data.num_timesteps, 20480) << file;
    EXPECT_EQ(model.data.n_envs, 4) << file;
    EXPECT_EQ(model.data.agent.on_policy()->n_steps, 2048) << file;
    EXPECT_EQ(model.data.obs_dim, 3) << file;
    EXPECT_EQ(model.data.act_dim, 1) << file;
    EXPECT_EQ(model.optimizer_members.count(checkpoint::kOptimizerMember), 1u) << file;
    ASSERT_EQ(model.state_dict.size(), expected.size()) << file;
    for (const auto& [name, tensor] : model.state_dict) {
      ASSERT_TRUE(expected.contains(name)) << name;
      const auto shape = expected[name]["shape"].get<std::vector<int64_t>>();
      const auto values = expected[name]["values"].get<std::vector<float>>();
      EXPECT_EQ(tensor.sizes().vec(), shape) << name;
      EXPECT_EQ(tensor.dtype(), torch::kFloat32) << name;
      const torch::Tensor flat = tensor.contiguous().flatten();
      ASSERT_EQ(flat.numel(), static_cast<int64_t>(values.size())) << name;
      for (int64_t i = 0; i < flat.numel(); ++i) {
        EXPECT_EQ(flat[i].item<float>(), values[static_cast<size_t>(i)]) << name << "[" << i << "]";
      }
    }
  }
  EXPECT_FALSE(fs::exists(marker)) << "a pickled closure was executed";
}

// `checkpoint: sb3_model.zip` starts a session from the SB3 model's weights.
TEST_F(Sb3FormatTest, Sb3ModelStartsASession) {
  algos::TrainingRequest request = Request(Algorithm::kPpo, "from_sb3");
  request.init_checkpoint = kFixtures / "sb3_ppo.zip";
  std::string loaded;
  request.hooks.on_message = [&](const std::string& line) {
    if (line.starts_with("transfer from")) loaded = line;
  };
  const algos::TrainingResult result = algos::Train(request);
  EXPECT_EQ(result.timesteps, 64);
  EXPECT_NE(loaded.find(": 13 copied, 0 sliced, 0 fresh"), std::string::npos) << loaded;
}

// Another hidden depth or another algorithm is refused with a message that says what differs.
// (Another width is a transfer since docs/transfer.md: the overlapping slices are copied.)
TEST_F(Sb3FormatTest, IncompatibleNetworkOrAlgorithmIsRefusedClearly) {
  algos::TrainingRequest deeper = Request(Algorithm::kPpo, "deeper");
  deeper.config.network.policy_layers = {8, 8, 8};
  deeper.init_checkpoint = kFixtures / "sb3_ppo.zip";
  try {
    algos::Train(deeper);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("mlp_extractor.policy_net has 2 layers in the checkpoint (0: [8, 3], "
                        "2: [8, 8]) and 3 in the model"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("sb3_ppo.zip"), std::string::npos) << what;
  }

  algos::TrainingRequest sac = Request(Algorithm::kSac, "sac");
  sac.init_checkpoint = kFixtures / "sb3_ppo.zip";
  try {
    algos::Train(sac);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("SAC"), std::string::npos) << what;
    EXPECT_NE(what.find("PPO"), std::string::npos) << what;
    EXPECT_NE(what.find("sb3_ppo.zip"), std::string::npos) << what;
  }
}

// `rlpipe evaluate` of an SB3-saved zip: it runs in the config given (it stores none), its weights
// copied whole, with the same returns every time.
TEST_F(Sb3FormatTest, Sb3ModelEvaluatesInTheConfigGiven) {
  algos::EvaluateModelRequest request;
  request.model = kFixtures / "sb3_ppo.zip";
  request.config = Request(Algorithm::kPpo, "evaluate").config;
  request.episodes = 2;
  request.seed = 9;
  const algos::EvaluateModelResult first = algos::EvaluateModel(request);
  ASSERT_EQ(first.episodes.size(), 2u);
  EXPECT_EQ(first.episodes[0].length, 200);
  EXPECT_NE(first.transfer_summary.find("13 copied, 0 sliced, 0 fresh"), std::string::npos)
      << first.transfer_summary;
  const algos::EvaluateModelResult second = algos::EvaluateModel(request);
  EXPECT_EQ(second.episodes[1].episode_return, first.episodes[1].episode_return);

  // Without a config there is nothing to say which task it runs in.
  request.config.reset();
  try {
    algos::EvaluateModel(request);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("pass --config"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlpipe
