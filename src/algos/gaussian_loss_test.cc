// GaussianLoss against autograd on ComputePpoLoss / ComputeA2cLoss over a DiagGaussian: the same
// terms and the same gradients with respect to mean, log std and value.
#include "algos/gaussian_loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <optional>

#include "algos/a2c.h"
#include "algos/ppo.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::algos {
namespace {

struct Case {
  bool ppo = true;
  bool normalize = true;
  std::optional<double> clip_range_vf;
  bool per_sample_log_std = false;  // [B, A] (as gSDE's) instead of a broadcast [A]
};

class GaussianLossTest : public ::testing::TestWithParam<Case> {};

TEST_P(GaussianLossTest, MatchesAutogradTermsAndGradients) {
  const Case c = GetParam();
  torch::manual_seed(4);
  const int64_t rows = 37, dims = 2;
  const torch::Tensor mean0 = torch::randn({rows, dims}) * 0.5;
  const torch::Tensor log_std0 = c.per_sample_log_std ? torch::randn({rows, dims}) * 0.3 - 0.5
                                                      : torch::randn({dims}) * 0.3 - 0.5;
  const torch::Tensor value0 = torch::randn({rows});
  GaussianLossBatch batch;
  batch.actions = mean0 + torch::randn({rows, dims}) * 0.7;
  batch.advantages = torch::randn({rows}) * 2.0 + 0.3;
  batch.returns = torch::randn({rows});
  batch.old_values = value0 + torch::randn({rows}) * 0.4;
  {
    // Old log-probabilities around the current ones: ratios on both sides of the clip range.
    const nn::DiagGaussian dist(mean0, log_std0);
    batch.old_log_prob = dist.LogProb(batch.actions) + torch::randn({rows}) * 0.4;
  }

  GaussianLossSettings settings;
  settings.ppo = c.ppo;
  settings.clip_range = 0.2;
  settings.clip_range_vf = c.clip_range_vf;
  settings.ent_coef = 0.01;
  settings.vf_coef = 0.5;
  settings.normalize_advantage = c.normalize;

  // Reference: autograd through the torch formulation.
  torch::Tensor mean_a = mean0.clone().requires_grad_(),
                log_std_a = log_std0.clone().requires_grad_(),
                value_a = value0.clone().requires_grad_();
  const nn::DiagGaussian dist_a(mean_a, log_std_a);
  torch::Tensor loss_a;
  double policy_a = 0.0, value_loss_a = 0.0, entropy_a = 0.0, kl_a = 0.0, clip_a = 0.0;
  if (c.ppo) {
    config::PpoConfig agent;
    agent.clip_range = settings.clip_range;
    agent.clip_range_vf = settings.clip_range_vf;
    agent.ent_coef = settings.ent_coef;
    agent.vf_coef = settings.vf_coef;
    agent.normalize_advantage = settings.normalize_advantage;
    PpoLossTerms t =
        ComputePpoLoss({dist_a.LogProb(batch.actions), batch.old_log_prob, batch.advantages,
                        value_a, batch.old_values, batch.returns, dist_a.Entropy()},
                       agent);
    loss_a = t.loss;
    policy_a = t.policy_loss.item<double>();
    value_loss_a = t.value_loss.item<double>();
    entropy_a = t.entropy_loss.item<double>();
    kl_a = t.approx_kl.item<double>();
    clip_a = t.clip_fraction.item<double>();
  } else {
    config::A2cConfig agent;
    agent.ent_coef = settings.ent_coef;
    agent.vf_coef = settings.vf_coef;
    agent.normalize_advantage = settings.normalize_advantage;
    A2cLossTerms t = ComputeA2cLoss(
        {dist_a.LogProb(batch.actions), batch.advantages, value_a, batch.returns, dist_a.Entropy()},
        agent);
    loss_a = t.loss;
    policy_a = t.policy_loss.item<double>();
    value_loss_a = t.value_loss.item<double>();
    entropy_a = t.entropy_loss.item<double>();
  }
  loss_a.backward();

  // Fused.
  torch::Tensor mean_f = mean0.clone().requires_grad_(),
                log_std_f = log_std0.clone().requires_grad_(),
                value_f = value0.clone().requires_grad_();
  const GaussianLossResult r =
      GaussianLoss(nn::DiagGaussian(mean_f, log_std_f), value_f, batch, settings);
  r.loss.backward();

  EXPECT_NEAR(r.loss_value, loss_a.item<double>(), 1e-5);
  EXPECT_NEAR(r.loss.item<double>(), loss_a.item<double>(), 1e-5);
  EXPECT_NEAR(r.policy_loss, policy_a, 1e-5);
  EXPECT_NEAR(r.value_loss, value_loss_a, 1e-5);
  EXPECT_NEAR(r.entropy_loss, entropy_a, 1e-5);
  EXPECT_NEAR(r.approx_kl, kl_a, 1e-6);
  EXPECT_NEAR(r.clip_fraction, clip_a, 1e-6);
  if (c.ppo) {
    EXPECT_GT(r.clip_fraction, 0.1);  // the case exercises clipping
    EXPECT_LT(r.clip_fraction, 0.9);
  }
  EXPECT_TRUE(torch::allclose(mean_f.grad(), mean_a.grad(), 1e-4, 1e-6))
      << mean_f.grad() - mean_a.grad();
  EXPECT_TRUE(torch::allclose(log_std_f.grad(), log_std_a.grad(), 1e-4, 1e-6))
      << log_std_f.grad() - log_std_a.grad();
  EXPECT_TRUE(torch::allclose(value_f.grad(), value_a.grad(), 1e-4, 1e-6))
      << value_f.grad() - value_a.grad();
  if (c.clip_range_vf) {
    // Some values lie outside the clip range: their gradient is zero.
    EXPECT_GT((value_f.grad() == 0).sum().item<int64_t>(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GaussianLossTest,
                         ::testing::Values(Case{true, true, std::nullopt, false},
                                           Case{true, false, std::nullopt, false},
                                           Case{true, true, 0.2, false},
                                           Case{true, true, std::nullopt, true},
                                           Case{false, true, std::nullopt, false},
                                           Case{false, false, std::nullopt, true}));

}  // namespace
}  // namespace rlpipe::algos
