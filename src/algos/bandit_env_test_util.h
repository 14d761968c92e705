#pragma once
/// A one-step continuous bandit for the training-loop tests of both algorithm families.
#include <memory>
#include <optional>
#include <span>

#include "envs/env.h"

namespace rlpipe::algos::test_util {

/// Observation [1], reward −(a − 0.5)², every step terminates.
class BanditEnv : public envs::Env {
 public:
  BanditEnv() {
    spec_.name = "bandit";
    spec_.observation_space = {{1.0f}, {1.0f}};
    spec_.action_space = {{-2.0f}, {2.0f}};
  }
  const envs::EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t>, std::span<float> obs) override { obs[0] = 1.0f; }
  envs::StepResult Step(std::span<const float> action, std::span<float> obs) override {
    obs[0] = 1.0f;
    const double error = static_cast<double>(action[0]) - 0.5;
    envs::StepResult result;
    result.reward = -error * error;
    result.terminated = true;
    return result;
  }

 private:
  envs::EnvSpec spec_;
};

inline std::unique_ptr<envs::Env> MakeBandit() { return std::make_unique<BanditEnv>(); }

}  // namespace rlpipe::algos::test_util
