#include "envs/robots/height_maximize.h"

#include <algorithm>
#include <limits>
#include <sstream>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::envs::robots {

HeightMaximize::HeightMaximize(const WorldParams& world, int max_episode_steps)
    : world_(world), max_episode_steps_(max_episode_steps) {
  // Spaces: the shared robot blocks, then this task's block.
  spec_.name = "height_maximize";
  spec_.observation_space = world_.RobotObservationSpace();
  spec_.observation_space.low.insert(spec_.observation_space.low.end(),
                                     {-std::numeric_limits<float>::infinity(), 0.0f});
  spec_.observation_space.high.insert(spec_.observation_space.high.end(),
                                      {std::numeric_limits<float>::infinity(), 1.0f});
  spec_.action_space = world_.RobotActionSpace();
  world_.DescribeLayout(spec_);
}

void HeightMaximize::Reset(std::optional<uint64_t> seed, std::span<float> obs) {
  if (seed) rng_.seed(*seed);
  world_.Reset(rng_);
  steps_ = 0;
  best_height_ = world_.MaxRobotHeight();
  Observe(obs);
}

StepResult HeightMaximize::Step(std::span<const float> action, std::span<float> obs) {
  // Physics for one control step.
  world_.ApplyAction(action);
  world_.Simulate();
  ++steps_;

  // Height reward on the state after the step; the best height of the episode so far.
  StepResult result;
  const double height = world_.MaxRobotHeight();
  best_height_ = std::max(best_height_, height);
  result.reward = kHeightRewardScale * height;

  // A robot beyond the arena radius ends the episode; the horizon truncates it.
  result.terminated = world_.MaxRobotRadius() > kArenaRadius;
  result.truncated = !result.terminated && max_episode_steps_ > 0 && steps_ >= max_episode_steps_;
  if (result.terminated || result.truncated) result.reward += kBestHeightBonus * best_height_;

  result.info = {{"max_height", height},
                 {"best_height", best_height_},
                 {"connections", static_cast<double>(world_.Connections().size())}};
  Observe(obs);
  return result;
}

void HeightMaximize::Observe(std::span<float> obs) const {
  // Shared robot blocks, then best height and the fraction of the episode elapsed.
  const int robot_dim = world_.ObsDim();
  world_.Observe(obs.first(static_cast<size_t>(robot_dim)));
  obs[static_cast<size_t>(robot_dim)] = static_cast<float>(best_height_);
  obs[static_cast<size_t>(robot_dim) + 1] =
      max_episode_steps_ > 0
          ? static_cast<float>(std::min(1.0, static_cast<double>(steps_) / max_episode_steps_))
          : 0.0f;
}

std::vector<ParamSpec> HeightMaximizeParamSpecs() { return WorldParamSpecs(); }

std::unique_ptr<Env> MakeHeightMaximize(const TaskParams& params, int max_episode_steps) {
  return std::make_unique<HeightMaximize>(ReadWorldParams(params), max_episode_steps);
}

std::optional<std::string> HeightMaximize::SaveState() const {
  // The RNG in the standard's text form (exact), the episode variables, then the world.
  std::ostringstream rng_text;
  rng_text << rng_;
  ByteWriter writer;
  writer.PutString(rng_text.str());
  writer.Put<int32_t>(static_cast<int32_t>(steps_));
  writer.Put<double>(best_height_);
  world_.SaveState(writer);
  return writer.Take();
}

void HeightMaximize::RestoreState(std::string_view state) {
  ByteReader reader(state, "height_maximize state");
  std::istringstream rng_text(reader.GetString());
  std::mt19937_64 rng;
  rng_text >> rng;
  if (rng_text.fail())
    throw IoError("height_maximize state: expected an mt19937_64 state, found garbage");
  const auto steps = reader.Get<int32_t>();
  const auto best_height = reader.Get<double>();
  world_.RestoreState(reader);
  reader.Finish();
  rng_ = rng;
  steps_ = steps;
  best_height_ = best_height;
}

std::vector<float> HeightMaximize::ObservationScales() const {
  std::vector<float> scales = world_.ObservationScales();
  // Best height (m), elapsed fraction.
  AppendUnit(scales, ObservationUnits::kHeightM);
  AppendUnit(scales, 1.0);
  return scales;
}

}  // namespace rlpipe::envs::robots
