#pragma once
/// Session 1 of the robot pipeline: raise any robot as high as possible (see
/// docs/environments.md). Reward 0.1 × (highest robot centre z) per step, plus 10 × the best
/// height of the episode on its last step; terminates when a robot leaves a 20 m radius.
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// The height_maximize task on the shared multi-robot world.
class HeightMaximize : public RobotTask {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 1000;
  static constexpr double kHeightRewardScale = 0.1;  // per step, per metre of the highest robot
  static constexpr double kBestHeightBonus = 10.0;   // on the last step, per metre of best height
  static constexpr double kArenaRadius = 20.0;       // m, horizontal distance from the origin
  static constexpr int kTaskObsDim = 2;              // best height (m), episode progress [0, 1]

  HeightMaximize(const WorldParams& world, int max_episode_steps = kDefaultMaxEpisodeSteps);

  double best_height() const { return best_height_; }

 private:
  void ResetTask() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// The best height of the episode.
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  double best_height_ = 0.0;
};

/// Registered parameters (the world's) and the factory used by the registry row.
std::vector<ParamSpec> HeightMaximizeParamSpecs();
std::unique_ptr<Env> MakeHeightMaximize(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
