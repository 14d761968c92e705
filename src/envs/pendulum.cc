#include "envs/pendulum.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "core/byte_stream.h"

namespace rlpipe::envs {

double AngleNormalize(double x) {
  // Python's % takes the sign of the divisor: floor modulo, not std::fmod's truncation.
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  const double shifted = x + std::numbers::pi;
  return shifted - kTwoPi * std::floor(shifted / kTwoPi) - std::numbers::pi;
}

Pendulum::Pendulum(const PendulumParams& params) : params_(params) {
  // Spaces as in Gymnasium: observation bounds [1, 1, 8], one torque in [-2, 2].
  const auto max_speed = static_cast<float>(kMaxSpeed);
  const auto max_torque = static_cast<float>(kMaxTorque);
  spec_.name = "pendulum";
  spec_.observation_space = {{-1.0f, -1.0f, -max_speed}, {1.0f, 1.0f, max_speed}};
  spec_.action_space = {{-max_torque}, {max_torque}};
}

void Pendulum::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  // θ ~ U[-π, π], θdot ~ U[-1, 1] from the env's own stream (reseeded only when asked).
  if (seed) rng_.seed(*seed);
  std::uniform_real_distribution<double> angle(-std::numbers::pi, std::numbers::pi);
  std::uniform_real_distribution<double> speed(-1.0, 1.0);
  theta_ = angle(rng_);
  theta_dot_ = speed(rng_);
  Observe(obs);
}

StepResult Pendulum::Step(std::span<const float> action, std::span<float> obs) {
  const double u = std::clamp(static_cast<double>(action[0]), -kMaxTorque, kMaxTorque);

  // Cost of the state before the update.
  const double angle = AngleNormalize(theta_);
  const double cost = angle * angle + 0.1 * theta_dot_ * theta_dot_ + 0.001 * u * u;

  // Semi-implicit Euler in Gymnasium's order: velocity first (clipped), then angle.
  const double accel =
      3.0 * params_.g / (2.0 * kLength) * std::sin(theta_) + 3.0 / (kMass * kLength * kLength) * u;
  theta_dot_ = std::clamp(theta_dot_ + accel * kDt, -kMaxSpeed, kMaxSpeed);
  theta_ = theta_ + theta_dot_ * kDt;

  Observe(obs);
  StepResult result;
  result.reward = -cost;
  return result;
}

std::optional<std::string> Pendulum::SaveState() const {
  // The angle and speed bit for bit, then the RNG in the standard's text form (exact).
  std::ostringstream rng_text;
  rng_text << rng_;
  ByteWriter writer;
  writer.Put(theta_);
  writer.Put(theta_dot_);
  writer.PutString(rng_text.str());
  return writer.Take();
}

void Pendulum::RestoreState(std::string_view state) {
  ByteReader reader(state, "pendulum state");
  const auto theta = reader.Get<double>();
  const auto theta_dot = reader.Get<double>();
  std::istringstream rng_text(reader.GetString());
  reader.Finish();
  std::mt19937_64 rng;
  rng_text >> rng;
  if (rng_text.fail()) throw IoError("pendulum state: expected an mt19937_64 state, found garbage");
  theta_ = theta;
  theta_dot_ = theta_dot;
  rng_ = rng;
}

void Pendulum::SetState(double theta, double theta_dot) {
  theta_ = theta;
  theta_dot_ = theta_dot;
}

void Pendulum::Observe(std::span<float> obs) const {
  obs[0] = static_cast<float>(std::cos(theta_));
  obs[1] = static_cast<float>(std::sin(theta_));
  obs[2] = static_cast<float>(theta_dot_);
}

}  // namespace rlpipe::envs
