#include "envs/time_limit.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace rlpipe::envs {

TimeLimit::TimeLimit(std::unique_ptr<Env> inner, int max_episode_steps)
    : inner_(std::move(inner)), spec_(inner_->Spec()) {
  if (max_episode_steps <= 0) {
    throw std::invalid_argument("TimeLimit: expected max_episode_steps > 0, got " +
                                std::to_string(max_episode_steps));
  }
  spec_.max_episode_steps = max_episode_steps;
}

void TimeLimit::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  elapsed_steps_ = 0;
  inner_->Reset(seed, obs);
}

StepResult TimeLimit::Step(std::span<const float> action, std::span<float> obs) {
  // Truncate when the horizon is reached (a terminal state stays terminated as well).
  StepResult result = inner_->Step(action, obs);
  ++elapsed_steps_;
  if (elapsed_steps_ >= spec_.max_episode_steps) result.truncated = true;
  return result;
}

}  // namespace rlpipe::envs
