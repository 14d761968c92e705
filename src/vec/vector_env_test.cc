#include "vec/vector_env.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/seed.h"
#include "envs/registry.h"

namespace rlpipe::vec {
namespace {

/// A pendulum cut after `horizon` steps.
std::unique_ptr<envs::Env> MakePendulum(int horizon) {
  config::EnvironmentConfig cfg;
  cfg.name = "pendulum";
  cfg.max_episode_steps = horizon;
  return envs::MakeEnv(cfg);
}

/// A factory whose env i has horizon horizons[i].
VectorEnv::Factory Horizons(std::vector<int> horizons) {
  auto next = std::make_shared<size_t>(0);
  return [horizons, next] { return MakePendulum(horizons.at((*next)++)); };
}

/// Reproducible actions [n, 1] for step t.
std::vector<float> Actions(int n, int t) {
  std::mt19937_64 rng(static_cast<uint64_t>(t));
  std::uniform_real_distribution<float> torque(-2.0f, 2.0f);
  std::vector<float> actions(static_cast<size_t>(n));
  for (float& a : actions) a = torque(rng);
  return actions;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(VectorEnvTest, ShapesComeFromTheSpec) {
  VectorEnv venv(3, Horizons({10, 10, 10}));
  EXPECT_EQ(venv.Size(), 3);
  EXPECT_EQ(venv.ObsDim(), 3);
  EXPECT_EQ(venv.ActDim(), 1);
  EXPECT_EQ(venv.Reset(1).size(), 9u);
  EXPECT_THROW(venv.Step(std::vector<float>(2)), std::invalid_argument);
  EXPECT_THROW(VectorEnv(0, Horizons({})), std::invalid_argument);
}

TEST(VectorEnvTest, AutoResetKeepsFinalObservationAndStats) {
  // Env 0 ends after 3 steps, env 1 after 5; references are single envs with the derived seeds.
  constexpr uint64_t kSeed = 99;
  VectorEnv venv(2, Horizons({3, 5}));
  std::vector<std::unique_ptr<envs::Env>> refs;
  refs.push_back(MakePendulum(3));
  refs.push_back(MakePendulum(5));
  std::vector<std::vector<float>> ref_obs(2, std::vector<float>(3));
  for (int i = 0; i < 2; ++i) {
    refs[i]->Reset(DeriveSeed(kSeed, static_cast<uint64_t>(i)), ref_obs[i]);
  }
  venv.Reset(kSeed);

  std::vector<double> ref_return(2, 0.0);
  for (int t = 1; t <= 6; ++t) {
    const std::vector<float> actions = Actions(2, t);
    const BatchStep& step = venv.Step(actions);
    size_t finished = 0;
    for (int i = 0; i < 2; ++i) {
      const envs::StepResult r = refs[i]->Step(std::span(&actions[i], 1), ref_obs[i]);
      ref_return[i] += r.reward;
      EXPECT_EQ(step.rewards[i], static_cast<float>(r.reward));
      EXPECT_EQ(step.truncated[i], r.truncated ? 1 : 0) << "env " << i << " step " << t;
      EXPECT_EQ(step.terminated[i], 0);
      if (r.truncated) {
        // final_obs holds the pre-reset observation; obs already holds the next episode's first.
        std::vector<float> final_obs(step.final_obs.begin() + i * 3,
                                     step.final_obs.begin() + i * 3 + 3);
        EXPECT_TRUE(SameBits(final_obs, ref_obs[i]));
        ASSERT_LT(finished, step.finished.size());
        EXPECT_EQ(step.finished[finished].length, i == 0 ? 3 : 5);
        EXPECT_DOUBLE_EQ(step.finished[finished].episode_return, ref_return[i]);
        ++finished;
        ref_return[i] = 0.0;
        refs[i]->Reset(std::nullopt, ref_obs[i]);
        EXPECT_FALSE(SameBits(final_obs, ref_obs[i]));
      }
      std::vector<float> obs(step.obs.begin() + i * 3, step.obs.begin() + i * 3 + 3);
      EXPECT_TRUE(SameBits(obs, ref_obs[i])) << "env " << i << " step " << t;
    }
    EXPECT_EQ(step.finished.size(), finished);
    // Env 0 ends at steps 3 and 6, env 1 at step 5.
    EXPECT_EQ(finished, static_cast<size_t>((t == 3 || t == 5 || t == 6) ? 1 : 0)) << t;
  }
}

TEST(VectorEnvTest, SameSeedSameBatchTrajectory) {
  VectorEnv a(4, Horizons({7, 7, 7, 7}));
  VectorEnv b(4, Horizons({7, 7, 7, 7}));
  EXPECT_TRUE(SameBits(a.Reset(5), b.Reset(5)));
  for (int t = 0; t < 30; ++t) {
    const std::vector<float> actions = Actions(4, t);
    const BatchStep& sa = a.Step(actions);
    const BatchStep& sb = b.Step(actions);
    ASSERT_TRUE(SameBits(sa.obs, sb.obs)) << t;
    ASSERT_TRUE(SameBits(sa.rewards, sb.rewards)) << t;
    ASSERT_EQ(sa.truncated, sb.truncated);
    ASSERT_EQ(sa.finished.size(), sb.finished.size());
  }
  // A different seed gives a different start; envs within a batch differ from each other.
  VectorEnv c(4, Horizons({7, 7, 7, 7}));
  const std::vector<float> obs = c.Reset(6);
  EXPECT_FALSE(SameBits(obs, a.Reset(5)));
  EXPECT_FALSE(std::equal(obs.begin(), obs.begin() + 3, obs.begin() + 3));
}

TEST(VectorEnvTest, EachEnvEqualsASingleEnvWithItsDerivedSeed) {
  constexpr int kEnvs = 3;
  constexpr uint64_t kSeed = 1234;
  VectorEnv venv(kEnvs, Horizons({200, 200, 200}));
  venv.Reset(kSeed);
  std::vector<BatchStep> steps;
  for (int t = 0; t < 250; ++t) steps.push_back(venv.Step(Actions(kEnvs, t)));

  // Replay env i alone: same observations and rewards step for step, across the auto reset.
  for (int i = 0; i < kEnvs; ++i) {
    auto env = MakePendulum(200);
    std::vector<float> obs(3);
    env->Reset(DeriveSeed(kSeed, static_cast<uint64_t>(i)), obs);
    for (int t = 0; t < 250; ++t) {
      const std::vector<float> actions = Actions(kEnvs, t);
      const envs::StepResult r = env->Step(std::span(&actions[i], 1), obs);
      ASSERT_EQ(steps[t].rewards[i], static_cast<float>(r.reward)) << "env " << i << " t " << t;
      if (r.truncated) env->Reset(std::nullopt, obs);
      const std::vector<float> row(steps[t].obs.begin() + i * 3, steps[t].obs.begin() + i * 3 + 3);
      ASSERT_TRUE(SameBits(row, obs)) << "env " << i << " t " << t;
    }
  }
}

TEST(VectorEnvTest, ResetRestartsEpisodeStatistics) {
  VectorEnv venv(1, Horizons({4}));
  venv.Reset(1);
  venv.Step(Actions(1, 0));
  venv.Step(Actions(1, 1));
  venv.Reset(2);
  for (int t = 0; t < 3; ++t) EXPECT_TRUE(venv.Step(Actions(1, t)).finished.empty());
  const BatchStep& last = venv.Step(Actions(1, 3));
  ASSERT_EQ(last.finished.size(), 1u);
  EXPECT_EQ(last.finished[0].length, 4);
}

}  // namespace
}  // namespace rlpipe::vec
