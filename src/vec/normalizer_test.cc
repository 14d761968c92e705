#include "vec/normalizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "core/error.h"

namespace rlpipe::vec {
namespace {

config::NormalizeConfig Both(double clip_obs = 10.0, double clip_reward = 10.0) {
  config::NormalizeConfig c;
  c.obs = true;
  c.reward = true;
  c.clip_obs = clip_obs;
  c.clip_reward = clip_reward;
  return c;
}

// Merging the SB3 prior (mean 0, var 1, count 1e-4) with data of mean m, variance v, count n.
double PriorMean(double m, double n) { return m * n / (n + 1e-4); }
double PriorVar(double m, double v, double n) {
  return (1e-4 * 1.0 + v * n + m * m * 1e-4 * n / (n + 1e-4)) / (n + 1e-4);
}

TEST(RunningMeanStd, MergingBatchesEqualsTheStatisticsOfAllRows) {
  // Column 0: {1, 3} then {5, 7, 9} → all rows mean 5, variance 8. Column 1: {2, 2}, {2, 2, 8}
  // → mean 3.2, variance ((1.2² · 4) + 4.8²) / 5 = 5.76.
  RunningMeanStd rms(2);
  const std::vector<float> a = {1, 2, 3, 2};
  const std::vector<float> b = {5, 2, 7, 2, 9, 8};
  rms.Update(a, 2);
  rms.Update(b, 3);
  EXPECT_NEAR(rms.State().count, 5.0001, 1e-12);
  EXPECT_NEAR(rms.State().mean[0], PriorMean(5.0, 5.0), 1e-12);
  EXPECT_NEAR(rms.State().var[0], PriorVar(5.0, 8.0, 5.0), 1e-12);
  EXPECT_NEAR(rms.State().mean[1], PriorMean(3.2, 5.0), 1e-12);
  EXPECT_NEAR(rms.State().var[1], PriorVar(3.2, 5.76, 5.0), 1e-12);
}

TEST(VecNormalizer, ObservationsAreCentredScaledAndClipped) {
  VecNormalizer normalizer(Both(/*clip_obs=*/3.0), 0.99, 1, 1);
  NormalizerState state = normalizer.State();
  state.obs = {{1.0}, {4.0}, 10.0};
  normalizer.Restore(state);

  // (x − 1) / √(4 + 1e-8), clipped to ±3.
  std::vector<float> obs = {5.0f, 1.0f, 100.0f, -100.0f};
  normalizer.NormalizeObs(obs);
  EXPECT_FLOAT_EQ(obs[0], static_cast<float>(4.0 / std::sqrt(4.0 + 1e-8)));
  EXPECT_FLOAT_EQ(obs[1], 0.0f);
  EXPECT_FLOAT_EQ(obs[2], 3.0f);
  EXPECT_FLOAT_EQ(obs[3], -3.0f);

  // Normalising never changes the statistics (evaluation uses them frozen).
  EXPECT_EQ(normalizer.State().obs.mean, state.obs.mean);
  EXPECT_EQ(normalizer.State().obs.count, state.obs.count);
}

TEST(VecNormalizer, RewardsAreScaledByTheStdOfTheDiscountedReturnAndDonesResetIt) {
  // γ = 0.5, two envs.
  VecNormalizer normalizer(Both(10.0, /*clip_reward=*/10.0), 0.5, 2, 1);
  const std::vector<float> obs = {0.0f, 0.0f};
  normalizer.ObserveReset(obs);

  // Step 1: returns [1, 3] → batch mean 2, variance 1.
  normalizer.ObserveStep(obs, std::vector<float>{1.0f, 3.0f}, std::vector<uint8_t>{0, 0});
  RunningMeanStd expected(1);
  expected.UpdateFromMoments({2.0}, {1.0}, 2.0);
  EXPECT_NEAR(normalizer.State().ret.var[0], PriorVar(2.0, 1.0, 2.0), 1e-12);

  // Step 2: returns [0.5 + 2, 1.5 + 2] = [2.5, 3.5] → mean 3, variance 0.25; env 0 ends.
  normalizer.ObserveStep(obs, std::vector<float>{2.0f, 2.0f}, std::vector<uint8_t>{1, 0});
  expected.UpdateFromMoments({3.0}, {0.25}, 2.0);
  EXPECT_NEAR(normalizer.State().ret.var[0], expected.State().var[0], 1e-12);
  EXPECT_EQ(normalizer.State().returns, (std::vector<double>{0.0, 3.5}));

  // Step 3: env 0 starts over: returns [1, 1.75 + 1].
  normalizer.ObserveStep(obs, std::vector<float>{1.0f, 1.0f}, std::vector<uint8_t>{0, 0});
  EXPECT_EQ(normalizer.State().returns, (std::vector<double>{1.0, 2.75}));
  expected.UpdateFromMoments({1.875}, {0.765625}, 2.0);
  const double var = expected.State().var[0];
  EXPECT_NEAR(normalizer.State().ret.var[0], var, 1e-12);

  // r / √(σ²_ret + ε): the return's spread, not the reward's; clipped to ±clip_reward.
  std::vector<float> rewards = {2.0f, 1000.0f, -1000.0f};
  normalizer.NormalizeRewards(rewards);
  EXPECT_FLOAT_EQ(rewards[0], static_cast<float>(2.0 / std::sqrt(var + 1e-8)));
  EXPECT_FLOAT_EQ(rewards[1], 10.0f);
  EXPECT_FLOAT_EQ(rewards[2], -10.0f);
}

TEST(VecNormalizer, DisabledPartsPassValuesThrough) {
  config::NormalizeConfig obs_only;
  obs_only.obs = true;
  VecNormalizer normalizer(obs_only, 0.99, 1, 1);
  EXPECT_TRUE(normalizer.Enabled());
  std::vector<float> rewards = {123.0f};
  normalizer.ObserveStep(std::vector<float>{4.0f}, rewards, std::vector<uint8_t>{0});
  normalizer.NormalizeRewards(rewards);
  EXPECT_EQ(rewards[0], 123.0f);

  VecNormalizer off(config::NormalizeConfig{}, 0.99, 1, 1);
  EXPECT_FALSE(off.Enabled());
  std::vector<float> obs = {7.0f};
  off.ObserveStep(obs, rewards, std::vector<uint8_t>{0});
  off.NormalizeObs(obs);
  EXPECT_EQ(obs[0], 7.0f);
  EXPECT_EQ(off.State().obs.count, 1e-4);
}

TEST(VecNormalizer, StateRoundTripsThroughJsonBitForBit) {
  VecNormalizer normalizer(Both(5.0, 7.5), 0.97, 3, 2);
  normalizer.ObserveReset(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});
  normalizer.ObserveStep(std::vector<float>{1.0f / 3, 2.0f, 1e-30f, -4.0f, 5.0f, 6.0f},
                         std::vector<float>{0.1f, -0.7f, 1.0f / 7}, std::vector<uint8_t>{0, 1, 0});
  const NormalizerState before = normalizer.State();
  const NormalizerState after = NormalizerStateFromJson(NormalizerStateToJson(before), "test.zip");

  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  };
  EXPECT_TRUE(same(after.obs.mean, before.obs.mean));
  EXPECT_TRUE(same(after.obs.var, before.obs.var));
  EXPECT_TRUE(same(after.ret.var, before.ret.var));
  EXPECT_TRUE(same(after.returns, before.returns));
  EXPECT_EQ(after.obs.count, before.obs.count);
  EXPECT_EQ(after.gamma, 0.97);
  EXPECT_EQ(after.config.clip_reward, 7.5);
  EXPECT_TRUE(after.config.obs && after.config.reward);

  // A restored normaliser continues exactly like the original.
  VecNormalizer restored(Both(), 0.5, 3, 2);
  restored.Restore(after);
  std::vector<float> a = {3.0f, -1.0f}, b = a;
  normalizer.NormalizeObs(a);
  restored.NormalizeObs(b);
  EXPECT_EQ(a, b);
  EXPECT_THROW(NormalizerStateFromJson("{\"obs\": true}", "x.zip"), IoError);
  VecNormalizer other_envs(Both(), 0.97, 4, 2);
  EXPECT_THROW(other_envs.Restore(after), std::invalid_argument);
}

TEST(VecNormalizer, RemappedStatisticsFollowTheColumnMapAndStartFreshColumnsAtUnitScale) {
  NormalizerState state;
  state.obs = {{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}, 42.0};
  state.ret = {{0.5}, {2.0}, 9.0};
  // Target columns: source 2, a new column, source 0, then source 1.
  const NormalizerState moved = RemapObservations(state, {2, -1, 0, 1});
  EXPECT_EQ(moved.obs.mean, (std::vector<double>{3.0, 0.0, 1.0, 2.0}));
  EXPECT_EQ(moved.obs.var, (std::vector<double>{6.0, 1.0, 4.0, 5.0}));
  EXPECT_EQ(moved.obs.count, 42.0);
  EXPECT_EQ(moved.ret.var, state.ret.var);

  // A 4-column normaliser takes it; a new column is normalised as (x - 0) / 1.
  VecNormalizer normalizer(Both(), 0.99, 1, 4);
  normalizer.AdoptStatistics(moved);
  std::vector<float> obs = {3.0f, 0.5f, 1.0f, 2.0f};
  normalizer.NormalizeObs(obs);
  EXPECT_NEAR(obs[0], 0.0f, 1e-6);
  EXPECT_NEAR(obs[1], 0.5f, 1e-6);
  EXPECT_NEAR(obs[2], 0.0f, 1e-6);
  EXPECT_THROW(RemapObservations(state, {0, 3}), std::invalid_argument);
}

}  // namespace
}  // namespace rlpipe::vec
