#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "vec/vector_env.h"

namespace rlpipe::vec {
namespace {

/// Task `name` cut after `horizon` steps.
VectorEnv::Factory Task(const std::string& name, int horizon) {
  return [name, horizon] {
    config::EnvironmentConfig cfg;
    cfg.name = name;
    cfg.max_episode_steps = horizon;
    return envs::MakeEnv(cfg);
  };
}

/// Reproducible actions [n, act_dim] in [-1, 1] for step t.
std::vector<float> Actions(int n, int act_dim, int t) {
  std::mt19937_64 rng(static_cast<uint64_t>(t) + 1000);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> actions(static_cast<size_t>(n * act_dim));
  for (float& a : actions) a = unit(rng);
  return actions;
}

template <typename T>
bool SameBits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

/// Steps a serial and a threaded batch side by side; every buffer must match bitwise.
void ExpectSameAsSerial(const std::string& task, int n, int threads, int horizon, int steps) {
  VectorEnv serial(n, Task(task, horizon));
  ThreadedVectorEnv threaded(n, threads, Task(task, horizon));
  EXPECT_EQ(threaded.Threads(), std::min(threads, n));
  ASSERT_TRUE(SameBits(serial.Reset(21), threaded.Reset(21)));
  int episodes = 0;
  for (int t = 0; t < steps; ++t) {
    const std::vector<float> actions = Actions(n, serial.ActDim(), t);
    const BatchStep& a = serial.Step(actions);
    const BatchStep& b = threaded.Step(actions);
    ASSERT_TRUE(SameBits(a.obs, b.obs)) << "step " << t;
    ASSERT_TRUE(SameBits(a.rewards, b.rewards)) << "step " << t;
    ASSERT_EQ(a.terminated, b.terminated) << "step " << t;
    ASSERT_EQ(a.truncated, b.truncated) << "step " << t;
    ASSERT_TRUE(SameBits(a.final_obs, b.final_obs)) << "step " << t;
    ASSERT_EQ(a.finished.size(), b.finished.size()) << "step " << t;
    for (size_t e = 0; e < a.finished.size(); ++e) {
      ASSERT_EQ(a.finished[e].episode_return, b.finished[e].episode_return);
      ASSERT_EQ(a.finished[e].length, b.finished[e].length);
      ASSERT_EQ(a.finished[e].last_info, b.finished[e].last_info);
    }
    episodes += static_cast<int>(a.finished.size());
  }
  // The run crossed auto-resets, so the gather order was exercised.
  EXPECT_GT(episodes, n);
}

TEST(ThreadedVectorEnvTest, EqualsSerialOnTheRobotTask) {
  ExpectSameAsSerial("height_maximize", 5, 2, 40, 100);
}

TEST(ThreadedVectorEnvTest, EqualsSerialWithUnevenSlicesAndMoreThreadsThanEnvs) {
  ExpectSameAsSerial("pendulum", 7, 3, 13, 60);
  ExpectSameAsSerial("pendulum", 2, 8, 5, 20);
}

TEST(ThreadedVectorEnvTest, ReusesItsPoolAcrossManySteps) {
  // Many short rounds: a lost wake-up or a double count would hang or fail here.
  ThreadedVectorEnv venv(4, 4, Task("pendulum", 10));
  venv.Reset(1);
  const std::vector<float> actions(4, 0.5f);
  for (int t = 0; t < 5000; ++t) venv.Step(actions);
  EXPECT_EQ(venv.Size(), 4);
}

/// A one-dimensional env whose Step throws when the action is negative.
class PickyEnv : public envs::Env {
 public:
  PickyEnv() { spec_ = {"picky", {{0.0f}, {1.0f}}, {{-1.0f}, {1.0f}}, 0, {}, {}, {}}; }
  const envs::EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t>, std::span<float> obs) override { obs[0] = 0.0f; }
  envs::StepResult Step(std::span<const float> action, std::span<float> obs) override {
    if (action[0] < 0.0f) throw std::runtime_error("negative action");
    obs[0] = action[0];
    return {};
  }

 private:
  envs::EnvSpec spec_;
};

TEST(ThreadedVectorEnvTest, AWorkerThreadsErrorReachesTheCaller) {
  ThreadedVectorEnv venv(3, 3, [] { return std::make_unique<PickyEnv>(); });
  venv.Reset(1);
  // Env 2 runs on the last worker thread.
  EXPECT_THROW(venv.Step({0.5f, 0.5f, -1.0f}), std::runtime_error);
  EXPECT_THROW(venv.Step(std::vector<float>(2)), std::invalid_argument);
  // The pool is still usable afterwards.
  EXPECT_EQ(venv.Step({0.25f, 0.5f, 0.75f}).obs, (std::vector<float>{0.25f, 0.5f, 0.75f}));
}

}  // namespace
}  // namespace rlpipe::vec
