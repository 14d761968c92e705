#include "envs/robots/height_maximize.h"

#include <algorithm>
#include <limits>

namespace rlpipe::envs::robots {

HeightMaximize::HeightMaximize(const WorldParams& world, int max_episode_steps)
    : RobotTask("height_maximize", world, max_episode_steps) {
  // Task block: best height, elapsed fraction.
  SetTaskObservation({{-std::numeric_limits<float>::infinity(), 0.0f},
                      {std::numeric_limits<float>::infinity(), 1.0f}});
}

void HeightMaximize::ResetTask() { best_height_ = world().MaxRobotHeight(); }

StepResult HeightMaximize::StepTask(bool at_horizon) {
  // Height reward on the state after the step; the best height of the episode so far.
  StepResult result;
  const double height = world().MaxRobotHeight();
  best_height_ = std::max(best_height_, height);
  result.reward = kHeightRewardScale * height;

  // A robot beyond the arena radius ends the episode; the last step pays the best height.
  result.terminated = world().MaxRobotRadius() > kArenaRadius;
  if (result.terminated || at_horizon) result.reward += kBestHeightBonus * best_height_;

  result.info = {{"max_height", height}, {"best_height", best_height_}};
  return result;
}

void HeightMaximize::ObserveTask(std::span<float> task_obs) const {
  // Best height and the fraction of the episode elapsed.
  task_obs[0] = static_cast<float>(best_height_);
  const int horizon = max_episode_steps();
  task_obs[1] = horizon > 0
                    ? static_cast<float>(std::min(1.0, static_cast<double>(steps()) / horizon))
                    : 0.0f;
}

void HeightMaximize::AppendTaskScales(std::vector<float>& scales) const {
  // Best height (m), elapsed fraction.
  AppendUnit(scales, ObservationUnits::kHeightM);
  AppendUnit(scales, 1.0);
}

void HeightMaximize::SaveTaskState(ByteWriter& writer) const { writer.Put<double>(best_height_); }

std::function<void()> HeightMaximize::ReadTaskState(ByteReader& reader) {
  const auto best_height = reader.Get<double>();
  return [this, best_height] { best_height_ = best_height; };
}

std::vector<ParamSpec> HeightMaximizeParamSpecs() { return WorldParamSpecs(); }

std::unique_ptr<Env> MakeHeightMaximize(const TaskParams& params, int max_episode_steps) {
  return std::make_unique<HeightMaximize>(ReadWorldParams(params), max_episode_steps);
}

}  // namespace rlpipe::envs::robots
