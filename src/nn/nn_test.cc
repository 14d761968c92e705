#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "nn/diag_gaussian.h"
#include "nn/flat_parameters.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::nn {
namespace {

MlpActorCriticOptions SmallOptions() {
  MlpActorCriticOptions options;
  options.obs_dim = 3;
  options.act_dim = 2;
  options.policy_layers = {64, 32};
  options.value_layers = {16};
  options.log_std_init = -0.5;
  options.init_seed = 7;
  return options;
}

TEST(MlpActorCriticTest, ParameterNamesAndShapesMatchStableBaselines3) {
  MlpActorCritic policy(SmallOptions());
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : policy->named_parameters())
    shapes[item.key()] = item.value().sizes().vec();

  const std::map<std::string, std::vector<int64_t>> expected = {
      {"mlp_extractor.policy_net.0.weight", {64, 3}},
      {"mlp_extractor.policy_net.0.bias", {64}},
      {"mlp_extractor.policy_net.2.weight", {32, 64}},
      {"mlp_extractor.policy_net.2.bias", {32}},
      {"mlp_extractor.value_net.0.weight", {16, 3}},
      {"mlp_extractor.value_net.0.bias", {16}},
      {"action_net.weight", {2, 32}},
      {"action_net.bias", {2}},
      {"value_net.weight", {1, 16}},
      {"value_net.bias", {1}},
      {"log_std", {2}},
  };
  EXPECT_EQ(shapes, expected);
}

TEST(MlpActorCriticTest, InitialisationFollowsStableBaselines3) {
  MlpActorCritic policy(SmallOptions());
  auto params = policy->named_parameters();

  // Orthogonal rows/columns scaled by the gain: W Wᵀ = g² I (wide) or Wᵀ W = g² I (tall).
  auto check_orthogonal = [](const torch::Tensor& w, double gain) {
    torch::Tensor gram = w.size(0) <= w.size(1) ? w.matmul(w.t()) : w.t().matmul(w);
    torch::Tensor identity = torch::eye(gram.size(0)) * gain * gain;
    EXPECT_TRUE(torch::allclose(gram, identity, 1e-4, 1e-5)) << w.sizes();
  };
  check_orthogonal(params["mlp_extractor.policy_net.0.weight"], std::sqrt(2.0));
  check_orthogonal(params["mlp_extractor.policy_net.2.weight"], std::sqrt(2.0));
  check_orthogonal(params["mlp_extractor.value_net.0.weight"], std::sqrt(2.0));
  check_orthogonal(params["action_net.weight"], 0.01);
  check_orthogonal(params["value_net.weight"], 1.0);
  EXPECT_EQ(params["mlp_extractor.policy_net.0.bias"].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(params["value_net.bias"].abs().sum().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(params["log_std"], torch::full({2}, -0.5)));
}

TEST(MlpActorCriticTest, SameSeedSameWeightsDifferentSeedDifferent) {
  MlpActorCriticOptions options = SmallOptions();
  MlpActorCritic a(options);
  MlpActorCritic b(options);
  options.init_seed = 8;
  MlpActorCritic c(options);
  auto pa = a->named_parameters();
  auto pb = b->named_parameters();
  auto pc = c->named_parameters();
  EXPECT_TRUE(torch::equal(pa["mlp_extractor.policy_net.0.weight"],
                           pb["mlp_extractor.policy_net.0.weight"]));
  EXPECT_FALSE(torch::equal(pa["mlp_extractor.policy_net.0.weight"],
                            pc["mlp_extractor.policy_net.0.weight"]));
}

TEST(MlpActorCriticTest, ForwardShapes) {
  MlpActorCritic policy(SmallOptions());
  ActorCriticOutput out = policy->forward(torch::randn({5, 3}));
  EXPECT_EQ(out.mean.sizes().vec(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(out.log_std.sizes().vec(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(out.value.sizes().vec(), (std::vector<int64_t>{5}));
}

// ActForward/ActValue (the loop's acting path, CPU kernels without the dispatcher) give forward's
// and Value's bits for every activation, with and without gSDE, an empty policy stack, a batch
// size that changes, and after the parameters move into a flat buffer and change in place.
TEST(MlpActorCriticTest, ActForwardHasForwardsBits) {
  for (config::Activation activation :
       {config::Activation::kTanh, config::Activation::kRelu, config::Activation::kElu,
        config::Activation::kLeakyRelu, config::Activation::kSigmoid}) {
    for (bool sde : {false, true}) {
      for (bool empty_policy : {false, true}) {
        MlpActorCriticOptions options = SmallOptions();
        options.activation = activation;
        options.use_sde = sde;
        if (empty_policy) options.policy_layers = {};
        MlpActorCritic policy(options);
        const std::string what = "activation " + std::to_string(static_cast<int>(activation)) +
                                 (sde ? " sde" : "") + (empty_policy ? " empty policy" : "");
        auto expect_same = [&](int64_t batch) {
          const torch::Tensor obs = 3.0 * torch::randn({batch, 3});
          c10::InferenceMode inference;
          const ActorCriticOutput ref = policy->forward(obs);
          const ActorCriticOutput act = policy->ActForward(obs);
          EXPECT_TRUE(torch::equal(act.mean, ref.mean)) << what << " batch " << batch;
          EXPECT_TRUE(torch::equal(act.value, ref.value)) << what << " batch " << batch;
          EXPECT_TRUE(torch::equal(act.log_std, ref.log_std)) << what;
          EXPECT_EQ(act.latent_sde.defined(), sde) << what;
          if (sde) {
            EXPECT_TRUE(torch::equal(act.latent_sde, ref.latent_sde)) << what;
          }
          EXPECT_TRUE(torch::equal(policy->ActValue(obs), policy->Value(obs))) << what;
        };
        expect_same(8);
        expect_same(8);
        expect_same(1);
        // Parameters moved into one buffer (as the PPO update does), then changed in place.
        FlatParameters flat(*policy);
        expect_same(1);
        {
          torch::NoGradGuard no_grad;
          flat.data().add_(0.01 * torch::randn_like(flat.data()));
        }
        expect_same(8);
      }
    }
  }
}

TEST(DiagGaussianTest, LogProbAndEntropyMatchClosedForm) {
  torch::Tensor mean = torch::tensor({{0.5f, -1.0f}, {0.0f, 2.0f}});
  torch::Tensor log_std = torch::tensor({std::log(0.5f), std::log(2.0f)});
  torch::Tensor actions = torch::tensor({{1.0f, 0.0f}, {-0.5f, 2.0f}});
  DiagGaussian dist(mean, log_std);

  // Hand-computed per row: Σ −(a−μ)²/(2σ²) − log σ − ½ log 2π with σ = (0.5, 2).
  const double c = 0.5 * std::log(2.0 * std::numbers::pi);
  const double row0 = -(0.25 / 0.5) - std::log(0.5) - c + -(1.0 / 8.0) - std::log(2.0) - c;
  const double row1 = -(0.25 / 0.5) - std::log(0.5) - c + 0.0 - std::log(2.0) - c;
  torch::Tensor log_prob = dist.LogProb(actions);
  EXPECT_NEAR(log_prob[0].item<double>(), row0, 1e-5);
  EXPECT_NEAR(log_prob[1].item<double>(), row1, 1e-5);

  // Entropy of a Gaussian: ½ log(2πe σ²) per dimension.
  const double entropy = 0.5 * std::log(2.0 * std::numbers::pi * std::numbers::e * 0.25) +
                         0.5 * std::log(2.0 * std::numbers::pi * std::numbers::e * 4.0);
  torch::Tensor h = dist.Entropy();
  EXPECT_NEAR(h[0].item<double>(), entropy, 1e-5);
  EXPECT_NEAR(h[1].item<double>(), entropy, 1e-5);
}

TEST(DiagGaussianTest, SamplingUsesOnlyTheGivenGenerator) {
  DiagGaussian dist(torch::full({20000, 1}, 1.5f), torch::tensor({std::log(0.3f)}));
  torch::Generator g1 = MakeGenerator(11);
  torch::Generator g2 = MakeGenerator(11);
  torch::Tensor a = dist.Sample(g1);
  torch::manual_seed(999);  // the global generator must not matter
  torch::Tensor b = dist.Sample(g2);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_NEAR(a.mean().item<double>(), 1.5, 0.01);
  EXPECT_NEAR(a.std().item<double>(), 0.3, 0.01);
  EXPECT_FALSE(torch::equal(a, dist.Sample(g1)));
}

TEST(GsdeTest, LogStdIsPerNoiseWeightAndTheLatentIsDetached) {
  MlpActorCriticOptions options = SmallOptions();
  options.use_sde = true;
  MlpActorCritic policy(options);
  EXPECT_EQ(policy->named_parameters()["log_std"].sizes().vec(), (std::vector<int64_t>{32, 2}));
  ActorCriticOutput out = policy->forward(torch::randn({5, 3}));
  EXPECT_EQ(out.latent_sde.sizes().vec(), (std::vector<int64_t>{5, 32}));
  EXPECT_FALSE(out.latent_sde.requires_grad());
  EXPECT_EQ(out.log_std.sizes().vec(), (std::vector<int64_t>{32, 2}));
  EXPECT_TRUE(torch::allclose(policy->ActionLogStd(), torch::full({32, 2}, -0.5f)));
}

TEST(GsdeTest, LogProbAndEntropyUseTheStateDependentVariance) {
  // latent θ [2, 3], log σ [3, 2]; per action j: var_j = Σ_i θ_i² σ_ij² + 1e-6 (SB3's epsilon).
  const std::vector<std::vector<double>> theta = {{1.0, -2.0, 0.5}, {0.0, 1.0, 3.0}};
  const std::vector<std::vector<double>> sigma = {{0.5, 1.0}, {0.1, 2.0}, {1.5, 0.2}};
  ActorCriticOutput out;
  out.mean = torch::tensor({{0.5f, -1.0f}, {0.0f, 2.0f}});
  out.latent_sde = torch::tensor({{1.0f, -2.0f, 0.5f}, {0.0f, 1.0f, 3.0f}});
  out.log_std = torch::log(torch::tensor({{0.5f, 1.0f}, {0.1f, 2.0f}, {1.5f, 0.2f}}));
  const torch::Tensor actions = torch::tensor({{1.0f, 0.0f}, {-0.5f, 2.5f}});
  const DiagGaussian dist = PolicyDistribution(out);
  const torch::Tensor log_prob = dist.LogProb(actions);
  const torch::Tensor entropy = dist.Entropy();
  const std::vector<std::vector<double>> a = {{1.0, 0.0}, {-0.5, 2.5}};
  const std::vector<std::vector<double>> mu = {{0.5, -1.0}, {0.0, 2.0}};
  for (int b = 0; b < 2; ++b) {
    double lp = 0.0, h = 0.0;
    for (int j = 0; j < 2; ++j) {
      double var = 1e-6;
      for (int i = 0; i < 3; ++i) var += theta[b][i] * theta[b][i] * sigma[i][j] * sigma[i][j];
      const double d = a[b][j] - mu[b][j];
      lp += -d * d / (2 * var) - 0.5 * std::log(var) - 0.5 * std::log(2 * std::numbers::pi);
      h += 0.5 * std::log(2 * std::numbers::pi * std::numbers::e * var);
    }
    EXPECT_NEAR(log_prob[b].item<double>(), lp, 1e-4) << b;
    EXPECT_NEAR(entropy[b].item<double>(), h, 1e-4) << b;
  }
}

TEST(GsdeTest, ExplorationIsLinearInTheLatentWithTheDistributionsVariance) {
  // One latent row, 20000 noise matrices: the actions' spread is the distribution's.
  ActorCriticOutput out;
  const int64_t n = 20000;
  out.mean = torch::full({n, 2}, 0.25f);
  out.latent_sde = torch::tensor({1.0f, -2.0f, 0.5f}).expand({n, 3});
  out.log_std = torch::log(torch::tensor({{0.5f, 1.0f}, {0.1f, 2.0f}, {1.5f, 0.2f}}));
  torch::Generator g1 = MakeGenerator(5);
  torch::Generator g2 = MakeGenerator(5);
  const torch::Tensor exploration = DrawExploration(out.log_std, n, g1);
  EXPECT_EQ(exploration.sizes().vec(), (std::vector<int64_t>{n, 3, 2}));
  EXPECT_TRUE(torch::equal(exploration, DrawExploration(out.log_std, n, g2)));
  const torch::Tensor actions = ExploreAction(out, exploration);
  // var_0 = 0.25 + 4·0.01 + 0.25·2.25 = 0.8525; var_1 = 1 + 4·4 + 0.25·0.04 = 17.01.
  EXPECT_NEAR(actions.select(1, 0).var().item<double>(), 0.8525, 0.8525 * 0.05);
  EXPECT_NEAR(actions.select(1, 1).var().item<double>(), 17.01, 17.01 * 0.05);
  EXPECT_NEAR(actions.select(1, 0).mean().item<double>(), 0.25, 0.05);

  // The same matrix and latent give the same action: noise is fixed within a period.
  const torch::Tensor again = ExploreAction(out, exploration);
  EXPECT_TRUE(torch::equal(actions, again));
  // And it is exactly mean + θᵀ M.
  const torch::Tensor by_hand = out.mean[0] + torch::matmul(out.latent_sde[0], exploration[0]);
  EXPECT_TRUE(torch::allclose(actions[0], by_hand, 1e-6, 1e-6));
}

TEST(MlpActorCriticTest, WithoutOrthoInitLayersHaveTorchsDefaultUniformInit) {
  MlpActorCriticOptions options = SmallOptions();
  options.ortho_init = false;
  MlpActorCritic policy(options);
  MlpActorCritic same(options);
  auto params = policy->named_parameters();
  // fan_in 3 → bound 1/√3 for the first policy layer, biases drawn too (not zero).
  const torch::Tensor w = params["mlp_extractor.policy_net.0.weight"];
  const torch::Tensor b = params["mlp_extractor.policy_net.0.bias"];
  EXPECT_LE(w.abs().max().item<double>(), 1.0 / std::sqrt(3.0));
  EXPECT_GT(w.abs().max().item<double>(), 0.9 / std::sqrt(3.0));
  EXPECT_GT(b.abs().max().item<double>(), 0.0);
  // action_net: fan_in 32, bound 1/√32 (not the orthogonal 0.01 gain).
  EXPECT_GT(params["action_net.weight"].abs().max().item<double>(), 0.1);
  EXPECT_LE(params["action_net.weight"].abs().max().item<double>(), 1.0 / std::sqrt(32.0));
  for (const auto& item : policy->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), same->named_parameters()[item.key()])) << item.key();
  }
}

}  // namespace
}  // namespace rlpipe::nn
