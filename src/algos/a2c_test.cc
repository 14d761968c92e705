#include "algos/a2c.h"

#include <gtest/gtest.h>

#include "config/experiment_config.h"
#include "nn/diag_gaussian.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::algos {
namespace {

// Fixed inputs; expected values computed with python3-torch (see each test).
A2cLossInputs FixedInputs() {
  return {torch::tensor({-0.5f, -1.0f, -2.0f}), torch::tensor({1.0f, -2.0f, 0.5f}),
          torch::tensor({0.1f, 0.2f, 0.3f}), torch::tensor({1.0f, 0.0f, -1.0f}),
          torch::tensor({1.2f, 1.3f, 1.4f})};
}

TEST(A2cLossTest, MatchesHandComputedTerms) {
  config::A2cConfig agent;
  agent.ent_coef = 0.01;
  const A2cLossTerms terms = ComputeA2cLoss(FixedInputs(), agent);
  // −mean(Â log π) = −(−0.5 + 2 − 1)/3; mse = (0.81 + 0.04 + 1.69)/3; −mean(H) = −1.3.
  EXPECT_NEAR(terms.policy_loss.item<double>(), -0.1666667, 1e-6);
  EXPECT_NEAR(terms.value_loss.item<double>(), 0.8466667, 1e-6);
  EXPECT_NEAR(terms.entropy_loss.item<double>(), -1.3, 1e-6);
  EXPECT_NEAR(terms.loss.item<double>(), 0.2436667, 1e-6);
}

TEST(A2cLossTest, NormalisesAdvantagesWhenAsked) {
  config::A2cConfig agent;
  agent.normalize_advantage = true;
  // torch: an = (adv − mean) / (adv.std() + 1e-8); −mean(an · log π) = 0.0172825.
  EXPECT_NEAR(ComputeA2cLoss(FixedInputs(), agent).policy_loss.item<double>(), 0.0172825, 1e-6);
}

TEST(A2cUpdateTest, UsesRmsPropByDefaultAndAdamOnRequest) {
  nn::MlpActorCriticOptions options;
  options.obs_dim = 2;
  options.act_dim = 1;
  config::A2cConfig agent;
  A2cUpdate rms_prop(agent, nn::MlpActorCritic(options));
  EXPECT_EQ(rms_prop.AdamOptimizer(), nullptr);
  agent.use_rms_prop = false;
  A2cUpdate adam(agent, nn::MlpActorCritic(options));
  EXPECT_NE(adam.AdamOptimizer(), nullptr);

  // One update on a tiny rollout changes the parameters and reports SB3's loss names.
  nn::MlpActorCritic policy(options);
  A2cUpdate update(config::A2cConfig{}, policy);
  torch::Tensor before = policy->named_parameters()["value_net.weight"].clone();
  RolloutTensors rollout{torch::ones({4, 2}),
                         torch::zeros({4, 1}),
                         torch::zeros({4}),
                         torch::zeros({4}),
                         torch::tensor({1.0f, -1.0f, 0.5f, 0.0f}),
                         torch::tensor({1.0f, 2.0f, 3.0f, 4.0f})};
  torch::Generator generator = nn::MakeGenerator(1);
  const auto losses = update.Update(rollout, generator, 0);
  EXPECT_FALSE(torch::equal(before, policy->named_parameters()["value_net.weight"]));
  for (const char* name :
       {"train/policy_loss", "train/value_loss", "train/entropy_loss", "train/loss"}) {
    EXPECT_TRUE(losses.contains(name)) << name;
  }
}

}  // namespace
}  // namespace rlpipe::algos
