#include "algos/off_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "algos/bandit_env_test_util.h"
#include "algos/off_policy_update.h"
#include "algos/replay_buffer.h"
#include "algos/sac.h"
#include "algos/td3.h"
#include "checkpoint/checkpoint.h"
#include "core/error.h"
#include "nn/diag_gaussian.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

// Expected values below were computed with python3-torch on the same inputs.

TEST(SacLossTest, SoftTargetCriticActorAndTemperatureLosses) {
  const torch::Tensor rewards = torch::tensor({1.0f, -0.5f});
  const torch::Tensor dones = torch::tensor({0.0f, 1.0f});
  const nn::TwinQValues next_q{torch::tensor({2.0f, 3.0f}), torch::tensor({1.5f, 4.0f})};
  const torch::Tensor next_log_prob = torch::tensor({-1.0f, 0.5f});

  // y = r + γ (1 − d)(min Q̄ − α log π'): 1 + 0.9 (1.5 + 0.2) = 2.53, and −0.5 past termination.
  torch::Tensor target = SacTarget(rewards, dones, next_q, next_log_prob, 0.2, 0.9);
  EXPECT_NEAR(target[0].item<double>(), 2.53, 1e-6);
  EXPECT_NEAR(target[1].item<double>(), -0.5, 1e-6);

  // ½ Σ_k mse(Q_k, y) = 0.25045 (SAC); TD3 drops the ½.
  const nn::TwinQValues current{torch::tensor({2.0f, 0.0f}), torch::tensor({3.0f, -1.0f})};
  EXPECT_NEAR(TwinCriticLoss(current, target, 0.5).item<double>(), 0.25045, 1e-6);
  EXPECT_NEAR(TwinCriticLoss(current, target, 1.0).item<double>(), 0.5009, 1e-6);

  // mean(α log π − min Q) = ((−0.2 − 0.5) + (0.1 − 2)) / 2 = −1.3.
  const nn::TwinQValues q_pi{torch::tensor({1.0f, 2.0f}), torch::tensor({0.5f, 3.0f})};
  EXPECT_NEAR(SacActorLoss(torch::tensor({-1.0f, 0.5f}), q_pi, 0.2).item<double>(), -1.3, 1e-6);

  // −mean(log α (log π + H̄)) with α = 0.5, H̄ = −1: −0.866434; d/d log α = 1.25.
  torch::Tensor log_alpha = torch::full({1}, std::log(0.5), torch::requires_grad());
  torch::Tensor loss = EntCoefLoss(log_alpha, torch::tensor({-1.0f, 0.5f}), -1.0);
  EXPECT_NEAR(loss.item<double>(), -0.866434, 1e-6);
  loss.backward();
  EXPECT_NEAR(log_alpha.grad().item<double>(), 1.25, 1e-6);
}

TEST(Td3LossTest, SmoothingTargetAndActorLoss) {
  // Noise clipped at 0.5, then the action clipped into [-1, 1].
  torch::Tensor smoothed =
      SmoothedTargetAction(torch::tensor({{0.9f, -0.2f}}), torch::tensor({{0.7f, -0.3f}}), 0.5);
  EXPECT_TRUE(torch::allclose(smoothed, torch::tensor({{1.0f, -0.5f}})));

  // y = r + γ (1 − d) min Q̄ = 1 + 0.99 · 2 and 2 past termination.
  const nn::TwinQValues next_q{torch::tensor({3.0f, 1.0f}), torch::tensor({2.0f, 5.0f})};
  torch::Tensor target =
      Td3Target(torch::tensor({1.0f, 2.0f}), torch::tensor({0.0f, 1.0f}), next_q, 0.99);
  EXPECT_NEAR(target[0].item<double>(), 2.98, 1e-6);
  EXPECT_NEAR(target[1].item<double>(), 2.0, 1e-6);
  EXPECT_NEAR(Td3ActorLoss(torch::tensor({1.0f, 3.0f})).item<double>(), -2.0, 1e-6);
}

TEST(SquashedGaussianTest, LogProbHasTheTanhCorrection) {
  // python3-torch: Normal(μ, σ).log_prob(u).sum() − Σ log(1 − tanh(u)² + 1e-6) = −0.4227912
  // (TransformedDistribution with TanhTransform gives −0.4227864, the ε aside).
  nn::SquashedGaussian dist(torch::tensor({{0.3f, -0.2f}}), torch::tensor({{-0.5f, 0.1f}}));
  EXPECT_NEAR(dist.LogProbFromPreTanh(torch::tensor({{0.7f, -1.2f}})).item<double>(), -0.4227912,
              1e-5);
  EXPECT_TRUE(torch::allclose(dist.Mode(), torch::tanh(torch::tensor({{0.3f, -0.2f}}))));

  // Samples lie in (-1, 1) and carry the log-prob of their own pre-tanh value.
  torch::Generator generator = nn::MakeGenerator(3);
  nn::SquashedSample sample = dist.Sample(generator);
  EXPECT_LT(sample.action.abs().max().item<double>(), 1.0);
  EXPECT_TRUE(torch::allclose(sample.log_prob, dist.LogProbFromPreTanh(torch::atanh(sample.action)),
                              1e-3, 1e-3));
}

TEST(PolyakUpdateTest, MovesTargetsByTau) {
  torch::nn::Linear source(2, 1);
  torch::nn::Linear target(2, 1);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : source->parameters()) p.fill_(1.0);
    for (auto& p : target->parameters()) p.fill_(0.0);
  }
  nn::FlatParameters source_flat(*source);
  nn::FlatParameters target_flat(*target);
  PolyakUpdate(source_flat, target_flat, 0.1);
  EXPECT_TRUE(torch::allclose(target->weight, torch::full({1, 2}, 0.1)));
  PolyakUpdate(source_flat, target_flat, 0.1);
  EXPECT_TRUE(torch::allclose(target->bias, torch::full({1}, 0.19)));
  PolyakUpdate(source_flat, target_flat, 1.0);
  EXPECT_TRUE(torch::allclose(target->weight, source->weight));
}

TEST(ReplayBufferTest, WrapsAroundOverwritingTheOldest) {
  ReplayBuffer buffer(3, 1, 1);
  // Two envs per Add: transitions 0, 1, then 2, 3 (which overwrites row 0).
  for (float t : {0.0f, 2.0f}) {
    std::vector<float> obs{t, t + 1};
    std::vector<float> next{t + 10, t + 11};
    std::vector<float> actions{-t, -t - 1};
    std::vector<float> rewards{t * 100, (t + 1) * 100};
    std::vector<uint8_t> terminated{1, 0};
    buffer.Add(obs, next, actions, rewards, terminated);
  }
  EXPECT_EQ(buffer.Size(), 3);
  EXPECT_EQ(buffer.Position(), 1);
  ReplayBatch batch = buffer.Gather(torch::tensor({0, 1, 2}, torch::kLong));
  EXPECT_TRUE(torch::equal(batch.obs.squeeze(1), torch::tensor({3.0f, 1.0f, 2.0f})));
  EXPECT_TRUE(torch::equal(batch.next_obs.squeeze(1), torch::tensor({13.0f, 11.0f, 12.0f})));
  EXPECT_TRUE(torch::equal(batch.actions.squeeze(1), torch::tensor({-3.0f, -1.0f, -2.0f})));
  EXPECT_TRUE(torch::equal(batch.rewards, torch::tensor({300.0f, 100.0f, 200.0f})));
  EXPECT_TRUE(torch::equal(batch.dones, torch::tensor({0.0f, 0.0f, 1.0f})));

  // Uniform samples only ever return stored rows.
  torch::Generator generator = nn::MakeGenerator(5);
  ReplayBatch sample = buffer.Sample(64, generator);
  EXPECT_EQ(sample.obs.size(0), 64);
  EXPECT_GE(sample.obs.min().item<double>(), 1.0);
  EXPECT_LE(sample.obs.max().item<double>(), 3.0);
}

using test_util::MakeBandit;

class OffPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rlpipe_off_policy_test_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  TrainingRequest BanditRequest(config::Algorithm algorithm, const std::string& name) const {
    TrainingRequest request;
    config::ExperimentConfig& c = request.config;
    c.environment.name = "bandit";
    c.agent = config::DefaultAgentConfig(algorithm);
    c.agent.off_policy()->batch_size = 64;
    c.agent.off_policy()->learning_rate = 3e-3;
    c.agent.off_policy()->learning_starts = 100;
    c.network = config::DefaultNetworkConfig(algorithm);
    c.network.policy_layers = {32, 32};
    c.network.qf_layers = {32, 32};
    c.training.n_envs = 2;
    c.training.total_timesteps = 3000;
    c.training.eval_freq = 1000;
    c.training.eval_episodes = 2;
    c.training.log_interval = 100;
    request.seed = 1;
    request.models_dir = root_ / name;
    return request;
  }

  fs::path root_;
};

// Both algorithms find the bandit's optimum (a = 0.5, return 0; random actions average −1.58).
TEST_F(OffPolicyTest, SacAndTd3SolveTheContinuousBandit) {
  for (config::Algorithm algorithm : {config::Algorithm::kSac, config::Algorithm::kTd3}) {
    TrainingRequest request = BanditRequest(algorithm, config::ToString(algorithm));
    if (algorithm == config::Algorithm::kTd3) {
      request.config.agent.off_policy()->action_noise = {config::ActionNoiseType::kNormal, 0.3};
    }
    int evaluations = 0;
    std::map<std::string, double> losses;
    request.hooks.on_eval = [&](const EvalEvent&) { ++evaluations; };
    request.hooks.on_progress = [&](const ProgressEvent& event) { losses = event.losses; };
    TrainingResult result = TrainOffPolicy(request, MakeBandit);
    const std::string name = config::ToString(algorithm);
    EXPECT_EQ(result.timesteps, 3000) << name;
    EXPECT_EQ(evaluations, 3) << name;
    ASSERT_TRUE(result.final_mean_return.has_value()) << name;
    EXPECT_GT(*result.final_mean_return, -0.01) << name;
    ASSERT_TRUE(result.final_model.has_value()) << name;
    EXPECT_TRUE(fs::exists(*result.best_model)) << name;
    EXPECT_TRUE(losses.contains("train/actor_loss")) << name;
    EXPECT_TRUE(losses.contains("train/critic_loss")) << name;
    if (algorithm == config::Algorithm::kSac) {
      EXPECT_TRUE(losses.contains("train/ent_coef")) << name;
      EXPECT_TRUE(losses.contains("train/ent_coef_loss")) << name;
    }
  }
}

// policy.pth holds SB3's names for every network, targets included.
TEST_F(OffPolicyTest, CheckpointsUseSb3ParameterNames) {
  const std::vector<std::pair<config::Algorithm, std::vector<std::string>>> expected = {
      {config::Algorithm::kSac,
       {"actor.latent_pi.0.weight", "actor.latent_pi.2.bias", "actor.mu.weight",
        "actor.log_std.weight", "critic.qf0.0.weight", "critic.qf1.4.weight",
        "critic_target.qf0.4.bias"}},
      {config::Algorithm::kTd3,
       {"actor.mu.0.weight", "actor.mu.4.weight", "actor_target.mu.2.bias", "critic.qf0.0.weight",
        "critic.qf1.4.bias", "critic_target.qf1.2.weight"}}};
  for (const auto& [algorithm, names] : expected) {
    TrainingRequest request = BanditRequest(algorithm, "names_" + config::ToString(algorithm));
    request.config.training.total_timesteps = 120;
    TrainingResult result = TrainOffPolicy(request, MakeBandit);
    ASSERT_TRUE(result.final_model.has_value());
    checkpoint::LoadedModel model = checkpoint::LoadModel(*result.final_model);
    EXPECT_EQ(model.data.agent.algorithm(), algorithm);
    std::vector<std::string> stored;
    for (const auto& [name, tensor] : model.state_dict) stored.push_back(name);
    for (const std::string& name : names) {
      EXPECT_NE(std::find(stored.begin(), stored.end(), name), stored.end()) << name;
    }

    // The model starts a new session (every tensor copied by name).
    TrainingRequest next = BanditRequest(algorithm, "next_" + config::ToString(algorithm));
    next.config.training.total_timesteps = 2;
    next.init_checkpoint = *result.final_model;
    std::string message;
    next.hooks.on_message = [&](const std::string& line) { message = line; };
    TrainOffPolicy(next, MakeBandit);
    EXPECT_NE(message.find(": " + std::to_string(stored.size()) + " copied, 0 sliced, 0 fresh"),
              std::string::npos)
        << message;
  }
}

TEST_F(OffPolicyTest, StopRequestSavesAnInterruptCheckpoint) {
  TrainingRequest request = BanditRequest(config::Algorithm::kTd3, "stop");
  int polls = 0;
  request.hooks.stop_requested = [&] { return ++polls > 10; };
  TrainingResult result = TrainOffPolicy(request, MakeBandit);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.timesteps, 20);
  EXPECT_FALSE(result.final_model.has_value());
  ASSERT_TRUE(result.interrupt_checkpoint.has_value());
  EXPECT_TRUE(fs::exists(*result.interrupt_checkpoint));
}

TEST_F(OffPolicyTest, OnPolicyChoicesAreConfigErrors) {
  TrainingRequest request = BanditRequest(config::Algorithm::kSac, "ppo");
  request.config.agent = config::DefaultAgentConfig(config::Algorithm::kPpo);
  try {
    TrainOffPolicy(request, MakeBandit);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "agent.algorithm: expected an off-policy algorithm (SAC, TD3), found PPO");
  }
}

// training.threads 2 runs the twin critics' work as two tasks: after several gradient steps (TD3's
// delayed actor steps included) SAC and TD3 have the same losses, weights (targets included) and
// optimizer state, bit for bit, as with one thread.
TEST(OffPolicyThreadsTest, TwoThreadsGiveTheOneThreadBits) {
  for (config::Algorithm algorithm : {config::Algorithm::kSac, config::Algorithm::kTd3}) {
    config::NetworkConfig network = config::DefaultNetworkConfig(algorithm);
    network.policy_layers = {64, 64};
    network.qf_layers = {64, 64};
    std::vector<std::unique_ptr<OffPolicyAlgorithm>> algos;
    std::vector<std::vector<std::map<std::string, double>>> losses(2);
    for (int threads : {1, 2}) {
      algos.push_back(MakeOffPolicyAlgorithm(config::DefaultAgentConfig(algorithm), network, {5, 2},
                                             /*init_seed=*/9));
      algos.back()->SetUpdateThreads(threads);
      torch::Generator data = nn::MakeGenerator(4);
      torch::Generator generator = nn::MakeGenerator(8);
      for (int step = 1; step <= 6; ++step) {
        ReplayBatch batch;
        batch.obs = at::normal(0.0, 1.0, {32, 5}, data, torch::kFloat32);
        batch.actions = torch::tanh(at::normal(0.0, 1.0, {32, 2}, data, torch::kFloat32));
        batch.rewards = at::normal(0.0, 1.0, {32}, data, torch::kFloat32);
        batch.next_obs = at::normal(0.0, 1.0, {32, 5}, data, torch::kFloat32);
        batch.dones = (torch::rand({32}, data) < 0.1).to(torch::kFloat32);
        losses[static_cast<size_t>(threads - 1)].push_back(
            algos.back()->TrainStep(batch, generator, step));
      }
    }
    const std::string name = config::ToString(algorithm);
    EXPECT_EQ(losses[0], losses[1]) << name;
    const auto one = algos[0]->Policy().named_parameters();
    const auto two = algos[1]->Policy().named_parameters();
    ASSERT_EQ(one.size(), two.size());
    for (const auto& p : one) {
      EXPECT_TRUE(torch::equal(p.value(), two[p.key()])) << name << " " << p.key();
    }
    // Every optimizer's moments and step counts, parameter by parameter.
    const checkpoint::SaveOptions one_options = algos[0]->CheckpointOptions();
    const checkpoint::SaveOptions two_options = algos[1]->CheckpointOptions();
    ASSERT_EQ(one_options.optimizers.size(), two_options.optimizers.size());
    for (size_t i = 0; i < one_options.optimizers.size(); ++i) {
      const torch::optim::Optimizer& a = *one_options.optimizers[i].optimizer;
      const torch::optim::Optimizer& b = *two_options.optimizers[i].optimizer;
      const std::vector<torch::Tensor>& a_params = a.param_groups().front().params();
      const std::vector<torch::Tensor>& b_params = b.param_groups().front().params();
      ASSERT_EQ(a_params.size(), b_params.size());
      for (size_t k = 0; k < a_params.size(); ++k) {
        const auto& sa = static_cast<const torch::optim::AdamParamState&>(
            *a.state().at(c10::guts::to_string(a_params[k].unsafeGetTensorImpl())));
        const auto& sb = static_cast<const torch::optim::AdamParamState&>(
            *b.state().at(c10::guts::to_string(b_params[k].unsafeGetTensorImpl())));
        const std::string where =
            name + " " + one_options.optimizers[i].name + " #" + std::to_string(k);
        EXPECT_EQ(sa.step(), sb.step()) << where;
        EXPECT_TRUE(torch::equal(sa.exp_avg(), sb.exp_avg())) << where;
        EXPECT_TRUE(torch::equal(sa.exp_avg_sq(), sb.exp_avg_sq())) << where;
      }
    }
  }
}

// SAC with ent_coef auto uses −dim(A) as its target entropy; a written value wins.
TEST(SacTest, TargetEntropyDefaultsToMinusActionDim) {
  nn::OffPolicyPolicyOptions options;
  options.obs_dim = 3;
  options.act_dim = 2;
  options.actor_layers = {8};
  options.critic_layers = {8};
  config::SacConfig agent;
  EXPECT_DOUBLE_EQ(Sac(agent, options).target_entropy(), -2.0);
  EXPECT_DOUBLE_EQ(Sac(agent, options).EntCoef(), 1.0);
  agent.target_entropy = -0.5;
  agent.ent_coef = 0.1;
  EXPECT_DOUBLE_EQ(Sac(agent, options).target_entropy(), -0.5);
  EXPECT_NEAR(Sac(agent, options).EntCoef(), 0.1, 1e-7);
}

}  // namespace
}  // namespace rlpipe::algos
