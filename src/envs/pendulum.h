#pragma once
/// The classic inverted pendulum swing-up with exactly Gymnasium Pendulum-v1's dynamics, so that
/// learning results compare with published numbers.
#include <cstdint>
#include <optional>
#include <random>
#include <span>

#include "envs/env.h"

namespace rlpipe::envs {

/// Physical constants of the pendulum (Gymnasium defaults).
struct PendulumParams {
  double g = 10.0;  // gravity, m/s^2
};

/// Pendulum-v1: observation [cos θ, sin θ, θdot], action torque in [-2, 2]. Never terminates;
/// the 200-step horizon comes from the TimeLimit wrapper.
class Pendulum : public Env {
 public:
  static constexpr double kMass = 1.0;       // kg
  static constexpr double kLength = 1.0;     // m
  static constexpr double kDt = 0.05;        // s per step
  static constexpr double kMaxSpeed = 8.0;   // rad/s
  static constexpr double kMaxTorque = 2.0;  // N m

  explicit Pendulum(const PendulumParams& params = {});

  const EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override;
  StepResult Step(std::span<const float> action, std::span<float> obs) override;
  /// θ, θdot and the reset RNG, bit for bit.
  std::optional<std::string> SaveState() const override;
  void RestoreState(std::string_view state) override;

  /// Places the pendulum in a given state (angle in rad, 0 = upright; angular velocity in rad/s).
  void SetState(double theta, double theta_dot);
  double theta() const { return theta_; }
  double theta_dot() const { return theta_dot_; }
  /// Writes the observation of the current state.
  void Observe(std::span<float> obs) const;

 private:
  PendulumParams params_;
  EnvSpec spec_;
  std::mt19937_64 rng_;
  double theta_ = 0.0;
  double theta_dot_ = 0.0;
};

/// Wraps an angle into [-π, π) the way Gymnasium does: ((x + π) mod 2π) − π with floor modulo.
double AngleNormalize(double x);

}  // namespace rlpipe::envs
