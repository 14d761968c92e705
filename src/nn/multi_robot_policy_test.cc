#include "nn/multi_robot_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::nn {
namespace {

// The multi-robot world's shapes: 2N bars (29 obs, 6 act), N spheres (14 obs, 3 act).
MultiRobotLayout WorldLayout(int n, int task_dim) {
  return {.types = {{.type = "bar", .count = 2 * n, .obs_dim = 29, .act_dim = 6},
                    {.type = "sphere", .count = n, .obs_dim = 14, .act_dim = 3}},
          .task_obs_dim = task_dim};
}

MultiRobotPolicyOptions SmallOptions(int n, int task_dim) {
  MultiRobotPolicyOptions options;
  options.layout = WorldLayout(n, task_dim);
  options.embed_dim = 16;
  options.attention_heads = 4;
  options.attention_layers = 2;
  options.policy_layers = {16};
  options.value_layers = {16};
  options.init_seed = 3;
  return options;
}

// Makes every output O(1) (the 0.01 action gain would hide most differences).
void Perturb(torch::nn::Module& module, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = MakeGenerator(seed);
  for (auto& p : module.parameters()) {
    p.add_(at::normal(0.0, 0.3, p.sizes(), generator, p.options()));
  }
}

torch::Tensor RandomObs(int64_t batch, int64_t dim, uint64_t seed) {
  torch::Generator generator = MakeGenerator(seed);
  return at::normal(0.0, 1.0, {batch, dim}, generator, torch::TensorOptions(torch::kFloat32));
}

// Robot r's observation block [B, d] (bars 0..2N-1, then spheres) and its action block.
struct Block {
  int64_t obs_offset;
  int64_t obs_dim;
  int64_t act_offset;
  int64_t act_dim;
};
Block BlockOf(const MultiRobotLayout& layout, int robot) {
  int64_t obs = 0;
  int64_t act = 0;
  for (const RobotTypeBlocks& t : layout.types) {
    if (robot < t.count)
      return {obs + robot * t.obs_dim, t.obs_dim, act + robot * t.act_dim, t.act_dim};
    robot -= t.count;
    obs += int64_t{t.count} * t.obs_dim;
    act += int64_t{t.count} * t.act_dim;
  }
  ADD_FAILURE() << "no robot " << robot;
  return {};
}

// obs with robots a and b (same type) exchanged.
torch::Tensor SwapRobots(const torch::Tensor& obs, const MultiRobotLayout& layout, int a, int b) {
  const Block x = BlockOf(layout, a);
  const Block y = BlockOf(layout, b);
  torch::Tensor out = obs.clone();
  out.narrow(1, x.obs_offset, x.obs_dim).copy_(obs.narrow(1, y.obs_offset, y.obs_dim));
  out.narrow(1, y.obs_offset, y.obs_dim).copy_(obs.narrow(1, x.obs_offset, x.obs_dim));
  return out;
}

TEST(MultiRobotPolicyTest, OutputsHaveTheEnvsShapes) {
  MultiRobotPolicy policy(SmallOptions(2, 2));
  const MultiRobotLayout& layout = policy->options().layout;
  ASSERT_EQ(layout.ObsDim(), 4 * 29 + 2 * 14 + 2);
  ASSERT_EQ(layout.ActDim(), 30);
  ActorCriticOutput out = policy->forward(RandomObs(5, layout.ObsDim(), 1));
  EXPECT_EQ(out.mean.sizes(), (std::vector<int64_t>{5, 30}));
  EXPECT_EQ(out.log_std.sizes(), (std::vector<int64_t>{5, 30}));
  EXPECT_EQ(out.value.sizes(), (std::vector<int64_t>{5}));
  EXPECT_EQ(policy->Value(RandomObs(5, layout.ObsDim(), 1)).sizes(), (std::vector<int64_t>{5}));
  EXPECT_EQ(policy->ActionLogStd().sizes(), (std::vector<int64_t>{30}));
  EXPECT_TRUE(torch::allclose(policy->Value(RandomObs(5, layout.ObsDim(), 1)), out.value));
  EXPECT_TRUE(out.mean.isfinite().all().item<bool>());
}

TEST(MultiRobotPolicyTest, ParameterNamesDoNotDependOnTheRobotCount) {
  MultiRobotPolicy small(SmallOptions(2, 2));
  MultiRobotPolicy large(SmallOptions(5, 9));
  auto a = small->named_parameters();
  auto b = large->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) {
    ASSERT_TRUE(b.contains(item.key())) << item.key();
    EXPECT_EQ(item.value().sizes(), b[item.key()].sizes()) << item.key();
  }
  EXPECT_TRUE(a.contains("encoders.bar.0.weight"));
  EXPECT_TRUE(a.contains("attention.1.qkv.weight"));
  EXPECT_TRUE(a.contains("action_net.sphere.weight"));
  EXPECT_TRUE(a.contains("log_std.bar"));
  EXPECT_TRUE(a.contains("value_net.weight"));
}

TEST(MultiRobotPolicyTest, SwappingTwoRobotsSwapsTheirActionsAndKeepsTheValue) {
  MultiRobotPolicy policy(SmallOptions(2, 2));
  Perturb(*policy, 7);
  const MultiRobotLayout& layout = policy->options().layout;
  torch::Tensor obs = RandomObs(3, layout.ObsDim(), 2);
  ActorCriticOutput out = policy->forward(obs);

  // Bars 1 and 3, then spheres 0 and 1 (robots 4 and 5).
  for (auto [a, b] : std::vector<std::pair<int, int>>{{1, 3}, {4, 5}}) {
    ActorCriticOutput swapped = policy->forward(SwapRobots(obs, layout, a, b));
    const Block x = BlockOf(layout, a);
    const Block y = BlockOf(layout, b);
    torch::Tensor mean_a = out.mean.narrow(1, x.act_offset, x.act_dim);
    torch::Tensor mean_b = out.mean.narrow(1, y.act_offset, y.act_dim);
    // The two robots act differently, so the swap is visible.
    ASSERT_GT((mean_a - mean_b).abs().max().item<double>(), 1e-2);
    EXPECT_TRUE(torch::allclose(swapped.mean.narrow(1, x.act_offset, x.act_dim), mean_b, 0, 1e-5));
    EXPECT_TRUE(torch::allclose(swapped.mean.narrow(1, y.act_offset, y.act_dim), mean_a, 0, 1e-5));
    EXPECT_TRUE(torch::allclose(swapped.value, out.value, 0, 1e-5))
        << swapped.value << " vs " << out.value;
  }
}

TEST(MultiRobotPolicyTest, TheSameModuleEvaluatesAnyRobotCount) {
  MultiRobotPolicy policy(SmallOptions(2, 2));
  Perturb(*policy, 8);
  const MultiRobotLayout three = WorldLayout(3, 6);
  ActorCriticOutput out = policy->Evaluate(RandomObs(4, three.ObsDim(), 3), three);
  EXPECT_EQ(out.mean.sizes(), (std::vector<int64_t>{4, 6 * 6 + 3 * 3}));
  EXPECT_EQ(out.log_std.sizes(), (std::vector<int64_t>{4, 45}));
  EXPECT_EQ(out.value.sizes(), (std::vector<int64_t>{4}));
  EXPECT_TRUE(out.mean.isfinite().all().item<bool>());

  // Doubling every robot (each one twice) changes neither attention averages nor the mean pool:
  // the value and each robot's action stay the same.
  const MultiRobotLayout one = WorldLayout(1, 2);
  torch::Tensor obs = RandomObs(2, one.ObsDim(), 4);
  torch::Tensor bars = obs.narrow(1, 0, 2 * 29);
  torch::Tensor sphere = obs.narrow(1, 2 * 29, 14);
  torch::Tensor task = obs.narrow(1, 2 * 29 + 14, 2);
  torch::Tensor doubled = torch::cat({bars, bars, sphere, sphere, task}, 1);
  ActorCriticOutput single = policy->Evaluate(obs, one);
  ActorCriticOutput twice = policy->Evaluate(doubled, WorldLayout(2, 2));
  EXPECT_TRUE(torch::allclose(twice.value, single.value, 1e-4, 1e-5));
  EXPECT_TRUE(
      torch::allclose(twice.mean.narrow(1, 0, 12), single.mean.narrow(1, 0, 12), 1e-4, 1e-5));
  EXPECT_TRUE(
      torch::allclose(twice.mean.narrow(1, 24, 3), single.mean.narrow(1, 12, 3), 1e-4, 1e-5));
}

TEST(MultiRobotPolicyTest, AMaskedRobotIsTheSameAsAnAbsentOne) {
  MultiRobotPolicy policy(SmallOptions(2, 2));
  Perturb(*policy, 9);
  const MultiRobotLayout full = WorldLayout(2, 2);  // bars 0-3, spheres 4-5
  torch::Tensor obs = RandomObs(3, full.ObsDim(), 5);

  // Bar 3 padded out vs. a layout with three bars.
  torch::Tensor valid = torch::ones({3, full.NumRobots()}, torch::kBool);
  valid.index_put_({torch::indexing::Slice(), 3}, false);
  ActorCriticOutput masked = policy->Evaluate(obs, full, valid);
  MultiRobotLayout three_bars = full;
  three_bars.types[0].count = 3;
  torch::Tensor without =
      torch::cat({obs.narrow(1, 0, 3 * 29), obs.narrow(1, 4 * 29, 2 * 14 + 2)}, 1);
  ActorCriticOutput absent = policy->Evaluate(without, three_bars);
  EXPECT_TRUE(torch::allclose(masked.value, absent.value, 1e-4, 1e-5));
  EXPECT_TRUE(
      torch::allclose(masked.mean.narrow(1, 0, 18), absent.mean.narrow(1, 0, 18), 1e-4, 1e-5));
  EXPECT_TRUE(
      torch::allclose(masked.mean.narrow(1, 24, 6), absent.mean.narrow(1, 18, 6), 1e-4, 1e-5));
}

TEST(MultiRobotPolicyTest, LogStdIsSharedByTheRobotsOfAType) {
  MultiRobotPolicyOptions options = SmallOptions(2, 2);
  options.log_std_init = -0.5;
  MultiRobotPolicy policy(options);
  {
    torch::NoGradGuard no_grad;
    policy->named_parameters()["log_std.sphere"].copy_(torch::tensor({0.1f, 0.2f, 0.3f}));
  }
  torch::Tensor log_std = policy->ActionLogStd();
  EXPECT_TRUE(torch::allclose(log_std.narrow(0, 0, 24), torch::full({24}, -0.5f)));
  EXPECT_TRUE(torch::allclose(log_std.narrow(0, 24, 6),
                              torch::tensor({0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f})));
}

TEST(MultiRobotPolicyTest, InitialisationIsSeededAndSb3Like) {
  MultiRobotPolicy a(SmallOptions(2, 2));
  MultiRobotPolicy b(SmallOptions(2, 2));
  MultiRobotPolicyOptions other = SmallOptions(2, 2);
  other.init_seed = 4;
  MultiRobotPolicy c(other);
  auto pa = a->named_parameters();
  auto pb = b->named_parameters();
  auto pc = c->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  EXPECT_FALSE(torch::equal(pa["encoders.bar.0.weight"], pc["encoders.bar.0.weight"]));

  // Orthogonal rows with gain 0.01 for the action head (W Wᵀ = 0.01² I), zero biases.
  torch::Tensor w = pa["action_net.bar.weight"];  // [6, 16]
  EXPECT_TRUE(torch::allclose(torch::matmul(w, w.t()), 1e-4 * torch::eye(6), 0, 1e-7));
  EXPECT_TRUE(torch::equal(pa["action_net.bar.bias"], torch::zeros({6})));
  EXPECT_TRUE(torch::equal(pa["attention.0.norm1.weight"], torch::ones({16})));
}

TEST(MultiRobotPolicyTest, WrongShapesAndLayoutsAreErrors) {
  MultiRobotPolicy policy(SmallOptions(2, 2));
  EXPECT_THROW(policy->forward(torch::zeros({2, 10})), ConfigError);
  MultiRobotLayout renamed = WorldLayout(2, 2);
  renamed.types[1].type = "ball";
  EXPECT_THROW(policy->Evaluate(torch::zeros({2, renamed.ObsDim()}), renamed), ConfigError);
  MultiRobotPolicyOptions bad = SmallOptions(2, 2);
  bad.attention_heads = 3;  // does not divide 16
  EXPECT_THROW(MultiRobotPolicy{bad}, ConfigError);
  bad = SmallOptions(2, 2);
  bad.layout.types[0].type = "bar.robot";  // not a parameter-name identifier
  EXPECT_THROW(MultiRobotPolicy{bad}, ConfigError);
}

TEST(MultiRobotPolicyTest, GradientsReachEveryParameter) {
  MultiRobotPolicy policy(SmallOptions(2, 2));
  const MultiRobotLayout& layout = policy->options().layout;
  ActorCriticOutput out = policy->forward(RandomObs(4, layout.ObsDim(), 6));
  DiagGaussian dist(out.mean, out.log_std);
  torch::Tensor actions = torch::zeros_like(out.mean);
  (dist.LogProb(actions).sum() + out.value.sum()).backward();
  for (const auto& item : policy->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST(MultiRobotPolicyTest, FusedAttentionMatchesBatchedMatmuls) {
  // The same weights with attention as one fused node and as batched matmuls: the same outputs
  // and the same gradients for every parameter, with a padded (masked) robot too.
  MultiRobotPolicyOptions options = SmallOptions(2, 3);
  MultiRobotPolicyOptions matmul = options;
  matmul.fused_attention_max_robots = 0;
  MultiRobotPolicy fused(options), reference(matmul);
  Perturb(*fused, 9);
  Perturb(*reference, 9);
  const MultiRobotLayout layout = WorldLayout(2, 3);
  const torch::Tensor obs = RandomObs(5, layout.ObsDim(), 4);
  torch::Tensor valid = torch::ones({5, layout.NumRobots()}, torch::kBool);
  valid.index_put_({1, 2}, false);
  valid.index_put_({3, 5}, false);
  for (const torch::Tensor& mask : {torch::Tensor(), valid}) {
    fused->zero_grad();
    reference->zero_grad();
    const ActorCriticOutput a = fused->Evaluate(obs, layout, mask);
    const ActorCriticOutput b = reference->Evaluate(obs, layout, mask);
    EXPECT_TRUE(torch::allclose(a.mean, b.mean, 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(a.value, b.value, 1e-4, 1e-5));
    ((a.mean * a.mean).sum() + a.value.sum()).backward();
    ((b.mean * b.mean).sum() + b.value.sum()).backward();
    const auto pa = fused->named_parameters();
    const auto pb = reference->named_parameters();
    for (const auto& item : pa) {
      const torch::Tensor& ga = item.value().grad();
      const torch::Tensor& gb = pb[item.key()].grad();
      ASSERT_EQ(ga.defined(), gb.defined()) << item.key();
      if (!ga.defined()) continue;  // log_std is not in this loss
      // Relative to the gradient's largest entry: the two paths sum over the batch and the robots
      // in different orders (and OpenBLAS's kernels differ by CPU), so an entry that nearly
      // cancels can differ by more than an elementwise tolerance while the gradient is the same.
      const double scale = gb.abs().max().item<double>();
      const double difference = (ga - gb).abs().max().item<double>();
      EXPECT_LE(difference, 2e-5 * scale)
          << item.key() << ": max difference " << difference << " of max entry " << scale;
    }
  }
}

}  // namespace
}  // namespace rlpipe::nn
