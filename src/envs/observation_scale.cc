#include "envs/observation_scale.h"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "envs/time_limit.h"

namespace rlpipe::envs {
namespace {

// The simulator warnings of a task under MakeEnv's wrappers; nullptr without a simulator.
const sim::WarningSource* TaskWarnings(const Env& env) {
  return dynamic_cast<const sim::WarningSource*>(&UnwrapTask(env));
}

}  // namespace

ObservationScale::ObservationScale(std::unique_ptr<Env> inner, std::vector<float> scales)
    : inner_(std::move(inner)), scales_(std::move(scales)), spec_(inner_->Spec()) {
  if (static_cast<int>(scales_.size()) != spec_.observation_space.Dim()) {
    throw std::invalid_argument("ObservationScale: expected " +
                                std::to_string(spec_.observation_space.Dim()) + " scales, got " +
                                std::to_string(scales_.size()));
  }
  // The bounds scale with the values (infinite ones stay infinite).
  for (size_t k = 0; k < scales_.size(); ++k) {
    if (!(scales_[k] > 0.0f) || !std::isfinite(scales_[k])) {
      throw std::invalid_argument("ObservationScale: scale " + std::to_string(k) +
                                  " must be finite and > 0");
    }
    spec_.observation_space.low[k] *= scales_[k];
    spec_.observation_space.high[k] *= scales_[k];
  }
}

void ObservationScale::Scale(std::span<float> obs) const {
  for (size_t k = 0; k < scales_.size(); ++k) obs[k] *= scales_[k];
}

void ObservationScale::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  inner_->Reset(seed, obs);
  Scale(obs);
}

StepResult ObservationScale::Step(std::span<const float> action, std::span<float> obs) {
  StepResult result = inner_->Step(action, obs);
  Scale(obs);
  return result;
}

int64_t ObservationScale::WarningCount() const {
  const sim::WarningSource* source = TaskWarnings(*inner_);
  return source != nullptr ? source->WarningCount() : 0;
}

std::string ObservationScale::WarningSummary() const {
  const sim::WarningSource* source = TaskWarnings(*inner_);
  return source != nullptr ? source->WarningSummary() : std::string();
}

const Env& UnwrapTask(const Env& env) { return UnwrapTask(const_cast<Env&>(env)); }

Env& UnwrapTask(Env& env) {
  if (auto* scaled = dynamic_cast<ObservationScale*>(&env)) return UnwrapTask(scaled->inner());
  if (auto* limited = dynamic_cast<TimeLimit*>(&env)) return UnwrapTask(limited->inner());
  return env;
}

}  // namespace rlpipe::envs
