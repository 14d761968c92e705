#pragma once
/// How a task presents its observation: each value of the task's own (SI) observation times a
/// fixed, documented scale, so that the network sees O(1) inputs whatever the algorithm and
/// whether or not `training.normalize` is on (docs/environments.md, "Observation scales").
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "envs/env.h"
#include "sim/warning_source.h"

namespace rlpipe::envs {

/// A task that declares a scale for every observation value (multi-robot tasks).
class ObservationScaleSource {
 public:
  virtual ~ObservationScaleSource() = default;
  /// One factor per observation value (the observation space's size), > 0.
  virtual std::vector<float> ObservationScales() const = 0;
};

/// Multiplies every observation of the wrapped env by its scale; the spaces' bounds follow.
/// Stateless: the wrapped env's state is the whole state (exact resume is unchanged).
class ObservationScale : public Env, public sim::WarningSource {
 public:
  /// `scales` has one factor > 0 per observation value (std::invalid_argument otherwise).
  ObservationScale(std::unique_ptr<Env> inner, std::vector<float> scales);

  const EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override;
  StepResult Step(std::span<const float> action, std::span<float> obs) override;
  std::optional<std::string> SaveState() const override { return inner_->SaveState(); }
  void RestoreState(std::string_view state) override { inner_->RestoreState(state); }
  /// The simulator warnings of the wrapped env (through a TimeLimit); 0 without a simulator.
  int64_t WarningCount() const override;
  std::string WarningSummary() const override;

  /// The wrapped env (a TimeLimit around the task when built by MakeEnv).
  Env& inner() { return *inner_; }
  const std::vector<float>& scales() const { return scales_; }

 private:
  void Scale(std::span<float> obs) const;

  std::unique_ptr<Env> inner_;
  std::vector<float> scales_;
  EnvSpec spec_;
};

/// The task under MakeEnv's wrappers (ObservationScale, TimeLimit); `env` itself otherwise.
Env& UnwrapTask(Env& env);
const Env& UnwrapTask(const Env& env);

}  // namespace rlpipe::envs
