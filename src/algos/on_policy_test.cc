#include "algos/on_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "algos/bandit_env_test_util.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "core/error.h"
#include "core/zip.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

using test_util::MakeBandit;

class OnPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rlpipe_on_policy_test_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  TrainingRequest BanditRequest(const std::string& name, uint64_t seed) const {
    TrainingRequest request;
    config::ExperimentConfig& c = request.config;
    c.environment.name = "bandit";
    config::PpoConfig& ppo = c.agent.Get<config::PpoConfig>();
    ppo.n_steps = 32;
    ppo.batch_size = 32;
    ppo.n_epochs = 10;
    ppo.learning_rate = 3e-3;
    ppo.gamma = 0.99;
    c.network.policy_layers = {16, 16};
    c.network.value_layers = {16, 16};
    c.training.n_envs = 4;
    c.training.total_timesteps = 4096;
    c.training.eval_freq = 1024;
    c.training.eval_episodes = 3;
    request.seed = seed;
    request.models_dir = root_ / name;
    return request;
  }

  fs::path root_;
};

TEST_F(OnPolicyTest, PpoSolvesTheContinuousBandit) {
  TrainingRequest request = BanditRequest("learn", 1);
  int evaluations = 0;
  int progress = 0;
  request.hooks.on_eval = [&](const EvalEvent&) { ++evaluations; };
  request.hooks.on_progress = [&](const ProgressEvent& event) {
    ++progress;
    EXPECT_TRUE(event.losses.contains("train/approx_kl"));
    EXPECT_TRUE(event.losses.contains("train/explained_variance"));
  };
  TrainingResult result = TrainOnPolicy(request, MakeBandit);

  // Deterministic return −(μ − 0.5)² ≥ −0.01 ⇔ the mean action is within 0.1 of the target.
  ASSERT_TRUE(result.final_mean_return.has_value());
  EXPECT_GT(*result.final_mean_return, -0.01);
  EXPECT_EQ(result.timesteps, 4096);
  EXPECT_EQ(result.episodes, 4096);  // one-step episodes
  EXPECT_EQ(evaluations, 4);         // at 1024, 2048, 3072, 4096 (no second final evaluation)
  EXPECT_EQ(progress, 32);           // every rollout; the end does not repeat the last one
  EXPECT_FALSE(result.interrupted);
  EXPECT_TRUE(fs::exists(request.models_dir / "final_model.zip"));
  EXPECT_TRUE(fs::exists(request.models_dir / "best_model.zip"));
  EXPECT_GT(result.collect_seconds, 0.0);
  EXPECT_GT(result.update_seconds, 0.0);
}

TEST_F(OnPolicyTest, SameSeedGivesBitwiseEqualWeights) {
  auto run = [&](const std::string& name, uint64_t seed) {
    TrainingRequest request = BanditRequest(name, seed);
    request.config.training.total_timesteps = 512;
    request.config.training.eval_freq = 0;
    TrainOnPolicy(request, MakeBandit);
    return ZipReader::FromFile(request.models_dir / "final_model.zip").Get("policy.pth");
  };
  const std::string a = run("a", 7);
  const std::string b = run("b", 7);
  const std::string c = run("c", 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST_F(OnPolicyTest, StopRequestWritesCheckpointAndReturnsInterrupted) {
  TrainingRequest request = BanditRequest("stop", 3);
  request.config.training.save_freq = 64;
  request.config.training.keep_checkpoints = 0;  // all of them
  int polls = 0;
  request.hooks.stop_requested = [&] { return ++polls > 50; };  // after 50 steps of 4 envs
  TrainingResult result = TrainOnPolicy(request, MakeBandit);

  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.timesteps, 200);
  ASSERT_TRUE(result.interrupt_checkpoint.has_value());
  EXPECT_EQ(*result.interrupt_checkpoint,
            request.models_dir / "checkpoints" / "rl_model_200_steps.zip");
  EXPECT_TRUE(ZipReader::FromFile(*result.interrupt_checkpoint).Has("policy.pth"));
  EXPECT_FALSE(result.final_model.has_value());
  EXPECT_FALSE(fs::exists(request.models_dir / "final_model.zip"));
  // Periodic checkpoints every 64 steps (crossed at 64, 128, 192).
  EXPECT_TRUE(fs::exists(request.models_dir / "checkpoints" / "rl_model_64_steps.zip"));
  EXPECT_TRUE(fs::exists(request.models_dir / "checkpoints" / "rl_model_192_steps.zip"));
}

TEST_F(OnPolicyTest, InitCheckpointTransfersByNameAndSlicesWiderLayers) {
  TrainingRequest first = BanditRequest("first", 4);
  first.config.training.total_timesteps = 128;
  TrainingResult trained = TrainOnPolicy(first, MakeBandit);

  // Same network: every tensor is copied; without an on_transfer hook the summary is a message.
  TrainingRequest second = BanditRequest("second", 5);
  second.config.training.total_timesteps = 128;
  second.init_checkpoint = trained.final_model;
  std::vector<std::string> messages;
  second.hooks.on_message = [&](const std::string& line) { messages.push_back(line); };
  TrainOnPolicy(second, MakeBandit);
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.front(), "transfer from " + trained.final_model->string() +
                                  ": 13 copied, 0 sliced, 0 fresh, 0 frozen");

  // A wider first policy layer: its rows (and the next layer's columns) are sliced.
  TrainingRequest wider = BanditRequest("wider", 5);
  wider.config.network.policy_layers = {32, 16};
  wider.config.training.total_timesteps = 64;
  wider.init_checkpoint = trained.final_model;
  std::optional<checkpoint::TransferReport> report;
  wider.hooks.on_transfer = [&](const checkpoint::TransferReport& r) { report = r; };
  TrainOnPolicy(wider, MakeBandit);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->Count(checkpoint::TensorAction::kSliced), 3);
  EXPECT_EQ(report->Count(checkpoint::TensorAction::kCopied), 10);
  // Tensors are reported in module order (SB3's: log_std first); find the first policy layer.
  const auto first_layer_it =
      std::find_if(report->tensors.begin(), report->tensors.end(),
                   [](const auto& t) { return t.name == "mlp_extractor.policy_net.0.weight"; });
  ASSERT_NE(first_layer_it, report->tensors.end());
  const checkpoint::TensorTransfer& first_layer = *first_layer_it;
  EXPECT_EQ(first_layer.action, checkpoint::TensorAction::kSliced);
  EXPECT_EQ(first_layer.source_shape, (std::vector<int64_t>{16, 1}));
  EXPECT_EQ(first_layer.target_shape, (std::vector<int64_t>{32, 1}));
}

TEST_F(OnPolicyTest, FrozenParametersStayPutAndAdamStateCarriesOver) {
  TrainingRequest first = BanditRequest("source", 4);
  first.config.training.total_timesteps = 128;
  TrainingResult trained = TrainOnPolicy(first, MakeBandit);

  // PPO trains on with the value network frozen and the source's Adam state.
  TrainingRequest next = BanditRequest("frozen", 5);
  next.config.training.total_timesteps = 256;
  next.init_checkpoint = trained.final_model;
  config::ParameterPattern frozen_value;
  frozen_value.glob = "mlp_extractor.value_net.*";
  frozen_value.path = "freeze[0]";
  next.transfer.freeze.push_back(frozen_value);
  next.transfer.reset_optimizer = false;
  std::optional<checkpoint::TransferReport> report;
  next.hooks.on_transfer = [&](const checkpoint::TransferReport& r) { report = r; };
  TrainingResult result = TrainOnPolicy(next, MakeBandit);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->FrozenCount(), 4);
  EXPECT_EQ(report->optimizer, "carried for 9 tensors copied whole");

  // Frozen tensors are bit-identical after 256 steps of PPO; trained ones moved.
  const checkpoint::LoadedModel before = checkpoint::LoadModel(*trained.final_model);
  const checkpoint::LoadedModel after = checkpoint::LoadModel(*result.final_model);
  for (size_t i = 0; i < before.state_dict.size(); ++i) {
    const std::string& name = before.state_dict[i].first;
    const bool frozen = name.rfind("mlp_extractor.value_net.", 0) == 0;
    EXPECT_EQ(torch::equal(before.state_dict[i].second, after.state_dict[i].second), frozen)
        << name;
  }
}

TEST_F(OnPolicyTest, A2cSolvesTheContinuousBandit) {
  // SB3's A2C defaults (RMSprop, n_steps 5, no advantage normalisation), a larger step size.
  TrainingRequest request = BanditRequest("a2c", 1);
  request.config.agent = config::DefaultAgentConfig(config::Algorithm::kA2c);
  config::A2cConfig& agent = request.config.agent.Get<config::A2cConfig>();
  agent.learning_rate = 3e-3;
  agent.n_steps = 8;
  request.config.training.total_timesteps = 8192;
  request.config.training.eval_freq = 4096;
  std::map<std::string, double> losses;
  request.hooks.on_progress = [&](const ProgressEvent& event) { losses = event.losses; };
  TrainingResult result = TrainOnPolicy(request, MakeBandit);
  EXPECT_EQ(result.timesteps, 8192);
  ASSERT_TRUE(result.final_mean_return.has_value());
  EXPECT_GT(*result.final_mean_return, -0.02);
  EXPECT_TRUE(losses.contains("train/policy_loss"));
  EXPECT_TRUE(losses.contains("train/value_loss"));
  EXPECT_DOUBLE_EQ(losses.at("train/learning_rate"), 3e-3);
}

TEST_F(OnPolicyTest, LinearScheduleDecaysTheLearningRate) {
  TrainingRequest request = BanditRequest("lin", 1);
  request.config.agent.common().learning_rate_linear = true;
  request.config.training.total_timesteps = 512;
  std::vector<double> rates;
  request.hooks.on_progress = [&](const ProgressEvent& event) {
    rates.push_back(event.losses.at("train/learning_rate"));
  };
  TrainOnPolicy(request, MakeBandit);
  // Updates at 128, 256, 384, 512 steps: lr · (1 − t / 512); the last event repeats the last.
  ASSERT_GE(rates.size(), 4u);
  EXPECT_NEAR(rates[0], 3e-3 * 0.75, 1e-12);
  EXPECT_NEAR(rates[1], 3e-3 * 0.5, 1e-12);
  EXPECT_NEAR(rates[3], 0.0, 1e-12);
}

TEST_F(OnPolicyTest, OffPolicyChoicesAreConfigErrors) {
  TrainingRequest request = BanditRequest("sac", 1);
  const config::AgentConfig ppo = request.config.agent;
  request.config.agent = config::DefaultAgentConfig(config::Algorithm::kSac);
  try {
    TrainOnPolicy(request, MakeBandit);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "agent.algorithm: expected an on-policy algorithm (PPO, A2C), found SAC");
  }
  // The bandit has no robot layout: MultiRobotPolicy cannot describe it.
  request.config.agent = ppo;
  request.config.agent.common().policy = config::Policy::kMultiRobot;
  try {
    TrainOnPolicy(request, MakeBandit);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "agent.policy: MultiRobotPolicy needs a multi-robot task (one with per-robot "
                 "observation blocks); task bandit has none, use MlpPolicy");
  }
}

}  // namespace
}  // namespace rlpipe::algos
