#include "algos/rollout_buffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace rlpipe::algos {
namespace {

TEST(GaeTest, MatchesHandComputationWithTerminationAndTruncation) {
  // Two envs, three steps, γ = 0.9, λ = 0.8. Env 0 terminates after step 1; env 1 is truncated
  // after step 0 with V(final_obs) = 4.
  const double gamma = 0.9;
  const double lambda = 0.8;
  RolloutBuffer buffer(3, 2, 1, 1);
  const std::vector<float> obs = {0.0f, 0.0f};
  const std::vector<float> actions = {0.0f, 0.0f};
  const std::vector<float> log_probs = {0.0f, 0.0f};

  // Step 0: env 1 truncated (not terminated) → its reward −1 becomes −1 + 0.9 · 4 = 2.6.
  std::vector<float> rewards = {1.0f, -1.0f};
  AddTruncationBootstrap(rewards, std::vector<uint8_t>{0, 0}, std::vector<uint8_t>{0, 1},
                         std::vector<float>{99.0f, 4.0f}, gamma);
  EXPECT_FLOAT_EQ(rewards[0], 1.0f);
  EXPECT_FLOAT_EQ(rewards[1], 2.6f);
  buffer.Add(obs, actions, rewards, std::vector<uint8_t>{0, 1}, std::vector<float>{0.5f, 1.0f},
             log_probs);

  // Step 1: env 0 terminated → no bootstrap, even when the final value is large (and none for
  // a step that is both terminated and truncated).
  rewards = {2.0f, 0.5f};
  AddTruncationBootstrap(rewards, std::vector<uint8_t>{1, 1}, std::vector<uint8_t>{0, 1},
                         std::vector<float>{99.0f, 99.0f}, gamma);
  EXPECT_FLOAT_EQ(rewards[0], 2.0f);
  EXPECT_FLOAT_EQ(rewards[1], 0.5f);
  buffer.Add(obs, actions, rewards, std::vector<uint8_t>{1, 0}, std::vector<float>{1.0f, 0.0f},
             log_probs);

  // Step 2: nothing ends; the tail bootstraps from last_values (2, −1).
  buffer.Add(obs, actions, std::vector<float>{3.0f, 0.5f}, std::vector<uint8_t>{0, 0},
             std::vector<float>{1.5f, 2.0f}, log_probs);
  EXPECT_TRUE(buffer.Full());
  buffer.ComputeReturnsAndAdvantage(std::vector<float>{2.0f, -1.0f}, gamma, lambda);

  // Env 0 by hand: δ2 = 3 + 0.9·2 − 1.5 = 3.3; δ1 = 2 − 1 = 1 (terminal);
  // δ0 = 1 + 0.9·1 − 0.5 = 1.4, A0 = 1.4 + 0.9·0.8·1 = 2.12.
  // Env 1 by hand: δ2 = 0.5 − 0.9 − 2 = −2.4; δ1 = 0.5 + 0.9·2 − 0 = 2.3, A1 = 2.3 + 0.72·(−2.4);
  // A0 = δ0 = 2.6 − 1 = 1.6 (the episode ended at step 0).
  const std::vector<float> expected_adv = {2.12f, 1.6f, 1.0f, 0.572f, 3.3f, -2.4f};
  const std::vector<float> expected_ret = {2.62f, 2.6f, 2.0f, 0.572f, 4.8f, -0.4f};
  for (size_t k = 0; k < expected_adv.size(); ++k) {
    EXPECT_NEAR(buffer.advantages()[k], expected_adv[k], 1e-5) << "index " << k;
    EXPECT_NEAR(buffer.returns()[k], expected_ret[k], 1e-5) << "index " << k;
  }
}

TEST(GaeTest, LambdaOneIsDiscountedMonteCarloAndLambdaZeroIsTd) {
  // One env, no episode end: λ = 1 gives Σ γ^k r + γ^T V(s_T) − V(s_t); λ = 0 gives δ_t.
  const std::vector<float> rewards = {1.0f, 1.0f, 1.0f};
  const std::vector<float> values = {0.2f, 0.4f, 0.6f};
  const std::vector<uint8_t> dones = {0, 0, 0};
  const std::vector<float> last = {1.0f};
  std::vector<float> adv(3), ret(3);
  ComputeGae(3, 1, rewards, values, dones, last, 0.5, 1.0, adv, ret);
  EXPECT_NEAR(ret[0], 1 + 0.5 + 0.25 + 0.125 * 1.0, 1e-6);
  EXPECT_NEAR(adv[0], ret[0] - 0.2, 1e-6);
  ComputeGae(3, 1, rewards, values, dones, last, 0.5, 0.0, adv, ret);
  EXPECT_NEAR(adv[0], 1 + 0.5 * 0.4 - 0.2, 1e-6);
  EXPECT_NEAR(adv[2], 1 + 0.5 * 1.0 - 0.6, 1e-6);
}

TEST(ExplainedVarianceTest, ClosedForm) {
  const std::vector<float> returns = {1.0f, 2.0f, 3.0f};
  EXPECT_DOUBLE_EQ(ExplainedVariance(returns, returns), 1.0);
  EXPECT_NEAR(ExplainedVariance(std::vector<float>{0, 0, 0}, returns), 0.0, 1e-12);
  // Residual (0, 0, 1): Var = 2/9; Var(returns) = 2/3 → 1 − 1/3.
  EXPECT_NEAR(ExplainedVariance(std::vector<float>{1, 2, 2}, returns), 2.0 / 3.0, 1e-6);
  EXPECT_TRUE(std::isnan(ExplainedVariance(returns, std::vector<float>{5, 5, 5})));
}

TEST(RolloutBufferTest, StoresTimeMajorRowsAndRefusesOverflow) {
  RolloutBuffer buffer(2, 2, 2, 1);
  buffer.Add(std::vector<float>{1, 2, 3, 4}, std::vector<float>{5, 6}, std::vector<float>{0, 0},
             std::vector<uint8_t>{0, 0}, std::vector<float>{0, 0}, std::vector<float>{0, 0});
  buffer.Add(std::vector<float>{7, 8, 9, 10}, std::vector<float>{11, 12}, std::vector<float>{0, 0},
             std::vector<uint8_t>{0, 0}, std::vector<float>{0, 0}, std::vector<float>{0, 0});
  EXPECT_EQ(buffer.obs(), (std::vector<float>{1, 2, 3, 4, 7, 8, 9, 10}));
  EXPECT_EQ(buffer.actions(), (std::vector<float>{5, 6, 11, 12}));
  EXPECT_THROW(
      buffer.Add(std::vector<float>{1, 2, 3, 4}, std::vector<float>{5, 6}, std::vector<float>{0, 0},
                 std::vector<uint8_t>{0, 0}, std::vector<float>{0, 0}, std::vector<float>{0, 0}),
      std::logic_error);
}

}  // namespace
}  // namespace rlpipe::algos
