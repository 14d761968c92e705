#pragma once
/// Session 1 of the robot pipeline: raise any robot as high as possible (see
/// docs/environments.md). Reward 0.1 × (highest robot centre z) per step, plus 10 × the best
/// height of the episode on its last step; terminates when a robot leaves a 20 m radius.
#include <cstdint>
#include <optional>
#include <random>
#include <span>

#include "envs/env.h"
#include "envs/observation_scale.h"
#include "envs/registry.h"
#include "envs/robots/multi_robot_world.h"
#include "sim/warning_source.h"

namespace rlpipe::envs::robots {

/// The height_maximize task on the shared multi-robot world.
class HeightMaximize : public Env,
                       public sim::WarningSource,
                       public WorldHolder,
                       public ObservationScaleSource {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 1000;
  static constexpr double kHeightRewardScale = 0.1;  // per step, per metre of the highest robot
  static constexpr double kBestHeightBonus = 10.0;   // on the last step, per metre of best height
  static constexpr double kArenaRadius = 20.0;       // m, horizontal distance from the origin
  static constexpr int kTaskObsDim = 2;              // best height (m), episode progress [0, 1]

  HeightMaximize(const WorldParams& world, int max_episode_steps = kDefaultMaxEpisodeSteps);

  const EnvSpec& Spec() const override { return spec_; }
  /// The world\'s robot-block scales, then this task\'s block (ObservationUnits).
  std::vector<float> ObservationScales() const override;
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override;
  StepResult Step(std::span<const float> action, std::span<float> obs) override;
  /// The world's state, the episode variables and the reset RNG, bit for bit.
  std::optional<std::string> SaveState() const override;
  void RestoreState(std::string_view state) override;
  int64_t WarningCount() const override { return world_.Warnings().Total(); }
  std::string WarningSummary() const override { return world_.Warnings().ToString(); }

  /// The episode length at which the end-of-episode bonus is paid (and the episode truncated).
  void SetMaxEpisodeSteps(int steps) { max_episode_steps_ = steps; }
  /// Writes the observation of the current state.
  void Observe(std::span<float> obs) const;
  MultiRobotWorld& world() { return world_; }
  const MultiRobotWorld& World() const override { return world_; }
  double best_height() const { return best_height_; }

 private:
  MultiRobotWorld world_;
  EnvSpec spec_;
  std::mt19937_64 rng_;
  int max_episode_steps_;
  int steps_ = 0;
  double best_height_ = 0.0;
};

/// Registered parameters (the world's) and the factory used by the registry row.
std::vector<ParamSpec> HeightMaximizeParamSpecs();
std::unique_ptr<Env> MakeHeightMaximize(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
