#pragma once
/// The TimeLimit wrapper: cuts episodes after a fixed number of steps (sets `truncated`).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "envs/env.h"

namespace rlpipe::envs {

/// Truncates episodes of the wrapped env after `max_episode_steps` steps (Gymnasium TimeLimit).
class TimeLimit : public Env {
 public:
  /// `max_episode_steps` must be > 0; it becomes Spec().max_episode_steps.
  TimeLimit(std::unique_ptr<Env> inner, int max_episode_steps);

  const EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override;
  StepResult Step(std::span<const float> action, std::span<float> obs) override;
  /// The wrapped env's state and the step count (nullopt when the wrapped env has none).
  std::optional<std::string> SaveState() const override;
  void RestoreState(std::string_view state) override;

  /// The wrapped env (e.g. to inspect a task's state in tests).
  Env& inner() { return *inner_; }
  const Env& inner() const { return *inner_; }
  /// Steps taken in the current episode.
  int elapsed_steps() const { return elapsed_steps_; }

 private:
  std::unique_ptr<Env> inner_;
  EnvSpec spec_;
  int elapsed_steps_ = 0;
};

}  // namespace rlpipe::envs
