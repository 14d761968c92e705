#include "envs/time_limit.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "core/byte_stream.h"

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

std::optional<std::string> TimeLimit::SaveState() const {
  std::optional<std::string> inner = inner_->SaveState();
  if (!inner) return std::nullopt;
  ByteWriter writer;
  writer.Put<int32_t>(elapsed_steps_);
  writer.PutString(*inner);
  return writer.Take();
}

void TimeLimit::RestoreState(std::string_view state) {
  ByteReader reader(state, "time limit state of " + spec_.name);
  const auto elapsed = reader.Get<int32_t>();
  const std::string inner = reader.GetString();
  reader.Finish();
  inner_->RestoreState(inner);
  elapsed_steps_ = elapsed;
}

}  // namespace rlpipe::envs
