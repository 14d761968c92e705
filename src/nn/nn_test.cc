#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "nn/diag_gaussian.h"
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

}  // namespace
}  // namespace rlpipe::nn
