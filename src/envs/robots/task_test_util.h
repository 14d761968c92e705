#pragma once
/// Helpers shared by the robot task tests.
#include <cmath>
#include <cstring>
#include <vector>

#include "envs/env.h"

namespace rlpipe::envs::test_util {

/// Steps `a` and `b` `steps` times with the same varied actions (no resets); true when every
/// reward, end flag and observation is bitwise equal.
inline bool SameFuture(Env& a, Env& b, int steps) {
  const size_t act_dim = static_cast<size_t>(a.Spec().action_space.Dim());
  std::vector<float> obs_a(static_cast<size_t>(a.Spec().observation_space.Dim()));
  std::vector<float> obs_b(obs_a.size());
  std::vector<float> action(act_dim);
  for (int t = 0; t < steps; ++t) {
    for (size_t j = 0; j < act_dim; ++j) action[j] = static_cast<float>(std::sin(0.7 * t + j));
    const StepResult ra = a.Step(action, obs_a);
    const StepResult rb = b.Step(action, obs_b);
    if (std::memcmp(&ra.reward, &rb.reward, sizeof ra.reward) != 0 ||
        ra.terminated != rb.terminated || ra.truncated != rb.truncated ||
        std::memcmp(obs_a.data(), obs_b.data(), obs_a.size() * sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace rlpipe::envs::test_util
