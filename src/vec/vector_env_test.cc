#include "vec/vector_env.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
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

/// A task without state capture: obs = [seed-derived start + steps], one episode per 4 steps.
class CounterEnv : public envs::Env {
 public:
  CounterEnv() { spec_ = {"counter", {{-1e9f}, {1e9f}}, {{-1.0f}, {1.0f}}, 0, {}, {}, {}}; }
  const envs::EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override {
    if (seed) start_ = static_cast<float>(*seed % 1000);
    value_ = start_;
    obs[0] = value_;
  }
  envs::StepResult Step(std::span<const float> action, std::span<float> obs) override {
    value_ += 1.0f + action[0];
    obs[0] = value_;
    envs::StepResult result;
    result.reward = value_;
    result.truncated = ++steps_ % 4 == 0;
    return result;
  }

 private:
  envs::EnvSpec spec_;
  float start_ = 0.0f;
  float value_ = 0.0f;
  int steps_ = 0;
};

TEST(VectorEnvTest, RestoredStateContinuesBitwise) {
  // Two pendulums stepped into their episodes (one past an auto reset), then saved.
  VectorEnv original(2, Horizons({4, 50}));
  original.Reset(5);
  for (int t = 0; t < 6; ++t) original.Step(Actions(2, t));
  const std::string state = original.SaveState();

  // A vector reset with another seed, then restored: the same observations, rewards and finished
  // episodes (whose returns include the steps before the save) from here on.
  VectorEnv restored(2, Horizons({4, 50}));
  restored.Reset(77);
  EXPECT_EQ(restored.RestoreState(state, 123), 0);
  EXPECT_TRUE(SameBits(original.Observations(), restored.Observations()));
  for (int t = 6; t < 60; ++t) {
    const BatchStep a = original.Step(Actions(2, t));
    const BatchStep& b = restored.Step(Actions(2, t));
    ASSERT_TRUE(SameBits(a.obs, b.obs)) << "step " << t;
    ASSERT_TRUE(SameBits(a.rewards, b.rewards)) << "step " << t;
    ASSERT_EQ(a.finished.size(), b.finished.size()) << "step " << t;
    for (size_t k = 0; k < a.finished.size(); ++k) {
      EXPECT_EQ(a.finished[k].episode_return, b.finished[k].episode_return);
      EXPECT_EQ(a.finished[k].length, b.finished[k].length);
    }
  }
}

TEST(VectorEnvTest, EnvsWithoutStateFollowTheRestartRule) {
  // Saved mid-episode; restored, every env starts a fresh episode seeded from the restart seed.
  VectorEnv original(2, [] { return std::make_unique<CounterEnv>(); });
  original.Reset(1);
  original.Step({0.5f, 0.5f});
  VectorEnv restored(2, [] { return std::make_unique<CounterEnv>(); });
  restored.Reset(1);
  EXPECT_EQ(restored.RestoreState(original.SaveState(), 4242), 2);
  for (int i = 0; i < 2; ++i) {
    CounterEnv reference;
    std::vector<float> obs(1);
    reference.Reset(DeriveSeed(4242, static_cast<uint64_t>(i)), obs);
    EXPECT_EQ(restored.Observations()[static_cast<size_t>(i)], obs[0]) << "env " << i;
  }

  // The dropped partial episode does not count: the next finished episode has 4 fresh steps.
  for (int t = 0; t < 3; ++t) restored.Step({0.0f, 0.0f});
  const BatchStep& step = restored.Step({0.0f, 0.0f});
  ASSERT_EQ(step.finished.size(), 2u);
  EXPECT_EQ(step.finished[0].length, 4);

  // A state of another size is refused.
  VectorEnv three(3, [] { return std::make_unique<CounterEnv>(); });
  EXPECT_THROW(three.RestoreState(original.SaveState(), 1), IoError);
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
