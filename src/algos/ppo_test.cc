#include "algos/ppo.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "nn/diag_gaussian.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::algos {
namespace {

struct Fixture {
  std::vector<double> log_prob = {0.0, 0.3, -0.3, 0.1};
  std::vector<double> advantages = {1.0, 2.0, -1.0, -2.0};
  std::vector<double> values = {0.0, 1.0, 2.0, 3.0};
  std::vector<double> old_values = {0.5, 0.5, 0.5, 0.5};
  std::vector<double> returns = {1.0, 1.0, 1.0, 1.0};
  std::vector<double> entropy = {1.0, 1.2, 0.8, 1.0};

  PpoLossInputs Inputs() const {
    auto t = [](const std::vector<double>& v) {
      return torch::tensor(std::vector<float>(v.begin(), v.end()));
    };
    return {t(log_prob),     torch::zeros({4}), t(advantages), t(values),
            t(old_values), t(returns),        t(entropy)};
  }
};

// The clipped surrogate by hand, with ratio = exp(log_prob) (old log-probs are 0).
double HandPolicyLoss(const Fixture& f, const std::vector<double>& adv, double clip) {
  double sum = 0.0;
  for (size_t i = 0; i < adv.size(); ++i) {
    const double ratio = std::exp(f.log_prob[i]);
    const double clipped = std::min(std::max(ratio, 1.0 - clip), 1.0 + clip);
    sum += std::min(ratio * adv[i], clipped * adv[i]);
  }
  return -sum / static_cast<double>(adv.size());
}

TEST(PpoLossTest, TermsMatchHandComputationWithoutNormalisation) {
  Fixture f;
  config::PpoConfig agent;
  agent.clip_range = 0.2;
  agent.ent_coef = 0.01;
  agent.vf_coef = 0.5;
  agent.normalize_advantage = false;
  PpoLossTerms terms = ComputePpoLoss(f.Inputs(), agent);

  // Ratios (1, 1.35, 0.74, 1.105): the 2nd and 3rd are outside [0.8, 1.2].
  const double policy_loss = HandPolicyLoss(f, f.advantages, 0.2);
  const double value_loss = (1.0 + 0.0 + 1.0 + 4.0) / 4.0;
  const double entropy_loss = -(1.0 + 1.2 + 0.8 + 1.0) / 4.0;
  double approx_kl = 0.0;
  for (double lp : f.log_prob) approx_kl += (std::exp(lp) - 1.0) - lp;
  approx_kl /= 4.0;

  EXPECT_NEAR(terms.policy_loss.item<double>(), policy_loss, 1e-6);
  EXPECT_NEAR(terms.value_loss.item<double>(), value_loss, 1e-6);
  EXPECT_NEAR(terms.entropy_loss.item<double>(), entropy_loss, 1e-6);
  EXPECT_NEAR(terms.loss.item<double>(), policy_loss + 0.01 * entropy_loss + 0.5 * value_loss,
              1e-6);
  EXPECT_NEAR(terms.approx_kl.item<double>(), approx_kl, 1e-6);
  EXPECT_NEAR(terms.clip_fraction.item<double>(), 0.5, 1e-7);
}

TEST(PpoLossTest, AdvantagesAreNormalisedPerMinibatchWithUnbiasedStd) {
  Fixture f;
  config::PpoConfig agent;
  agent.clip_range = 0.1;
  agent.normalize_advantage = true;
  PpoLossTerms terms = ComputePpoLoss(f.Inputs(), agent);

  // Mean 0, unbiased std √(10/3).
  const double std = std::sqrt(10.0 / 3.0);
  std::vector<double> normalised;
  for (double a : f.advantages) normalised.push_back(a / (std + 1e-8));
  EXPECT_NEAR(terms.policy_loss.item<double>(), HandPolicyLoss(f, normalised, 0.1), 1e-6);
}

TEST(PpoLossTest, ClipRangeVfLimitsHowFarTheValuePredictionMovesFromTheStoredOne) {
  // Values (0, 1, 2, 3) around stored 0.5 with ε_v = 0.25: predictions (0.25, 0.75, 0.75, 0.75),
  // squared errors against returns 1: (0.5625, 0.0625, 0.0625, 0.0625).
  Fixture f;
  config::PpoConfig agent;
  agent.clip_range_vf = 0.25;
  PpoLossTerms terms = ComputePpoLoss(f.Inputs(), agent);
  EXPECT_NEAR(terms.value_loss.item<double>(), (0.5625 + 3 * 0.0625) / 4.0, 1e-6);
}

TEST(PpoLossTest, GradientOfClippedSamplesIsZero) {
  // A sample with positive advantage and ratio above 1 + ε contributes no policy gradient.
  torch::Tensor log_prob = torch::tensor({0.5f, 0.0f}, torch::requires_grad());
  config::PpoConfig agent;
  agent.normalize_advantage = false;
  PpoLossInputs in{log_prob,          torch::zeros({2}), torch::tensor({1.0f, 1.0f}),
                   torch::zeros({2}), torch::zeros({2}), torch::zeros({2}),
                   torch::zeros({2})};
  ComputePpoLoss(in, agent).policy_loss.backward();
  EXPECT_EQ(log_prob.grad()[0].item<float>(), 0.0f);
  EXPECT_NEAR(log_prob.grad()[1].item<float>(), -0.5f, 1e-6);  // −A · ratio / B
}

RolloutTensors SmallRollout(int64_t size) {
  RolloutTensors rollout;
  rollout.obs = torch::linspace(-1, 1, size * 2).reshape({size, 2});      // [S, obs_dim]
  rollout.actions = torch::linspace(-0.5, 0.5, size).reshape({size, 1});  // [S, act_dim]
  rollout.values = torch::zeros({size});
  rollout.log_probs = torch::full({size}, -1.0f);
  rollout.advantages = torch::linspace(-1, 1, size);
  rollout.returns = torch::linspace(0, 2, size);
  return rollout;
}

nn::MlpActorCritic SmallPolicy() {
  nn::MlpActorCriticOptions options;
  options.obs_dim = 2;
  options.act_dim = 1;
  options.policy_layers = {8};
  options.value_layers = {8};
  return nn::MlpActorCritic(options);
}

TEST(PpoUpdateTest, ReportsSb3LossNamesAndReducesValueLoss) {
  config::PpoConfig agent;
  agent.batch_size = 8;
  agent.n_epochs = 20;
  agent.learning_rate = 1e-2;
  PpoUpdate update(agent, SmallPolicy());
  torch::Generator generator = nn::MakeGenerator(1);
  RolloutTensors rollout = SmallRollout(32);
  auto first = update.Update(rollout, generator, 32);
  for (const char* name : {"train/policy_gradient_loss", "train/value_loss", "train/entropy_loss",
                           "train/approx_kl", "train/clip_fraction", "train/loss"}) {
    EXPECT_TRUE(first.contains(name)) << name;
  }
  auto second = update.Update(rollout, generator, 64);
  EXPECT_LT(second["train/value_loss"], first["train/value_loss"]);
}

TEST(PpoUpdateTest, TargetKlStopsTheEpochsBeforeTheStepThatWouldMoveTooFar) {
  // Stored log-probs of −1 are far from the fresh policy's: approx_kl of the first minibatch is
  // well above 1.5 × 1e-6, so no step is taken and the weights stay as they were.
  config::PpoConfig agent;
  agent.batch_size = 8;
  agent.n_epochs = 5;
  agent.target_kl = 1e-6;
  nn::MlpActorCritic policy = SmallPolicy();
  std::vector<torch::Tensor> before;
  for (const auto& p : policy->parameters()) before.push_back(p.detach().clone());
  PpoUpdate update(agent, policy);
  torch::Generator generator = nn::MakeGenerator(1);
  auto losses = update.Update(SmallRollout(32), generator, 32);
  EXPECT_GT(losses["train/approx_kl"], 1.5e-6);
  const auto after = policy->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));

  // Without target_kl the same update moves them.
  agent.target_kl.reset();
  PpoUpdate moving(agent, policy);
  moving.Update(SmallRollout(32), generator, 32);
  EXPECT_FALSE(torch::equal(before[0], policy->parameters()[0]));
}

TEST(PpoUpdateTest, NonFiniteLossIsTrainingErrorNamingStepAndLoss) {
  config::PpoConfig agent;
  agent.batch_size = 8;
  PpoUpdate update(agent, SmallPolicy());
  torch::Generator generator = nn::MakeGenerator(1);
  RolloutTensors rollout = SmallRollout(16);
  rollout.returns[3] = std::nanf("");
  try {
    update.Update(rollout, generator, 12345);
    FAIL() << "expected TrainingError";
  } catch (const TrainingError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("12345"), std::string::npos) << what;
    EXPECT_NE(what.find("value_loss="), std::string::npos) << what;
    EXPECT_NE(what.find("nan"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace rlpipe::algos
