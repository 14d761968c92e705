#pragma once
/// Pipeline task 5: push `num_objects` boxes and cylinders of random mass into their target
/// circles in a square arena (see docs/environments.md). Per step the reward is 5 × the summed
/// progress of the objects towards their targets, +50 the first time an object enters its target
/// and +200 when all objects are inside at once (success, which ends the episode).
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "envs/env.h"
#include "envs/observation_scale.h"
#include "envs/registry.h"
#include "envs/robots/multi_robot_world.h"
#include "envs/robots/object_task_util.h"
#include "sim/warning_source.h"

namespace rlpipe::envs::robots {

/// Task parameters (keys of the `environment:` section).
struct ObjectManipulationParams {
  int num_objects = 3;         // objects (and targets), 1-8; even indices boxes, odd cylinders
  double arena_size_m = 15.0;  // side of the square arena centred on the spawn disc
};

/// The object_manipulation task on the shared multi-robot world.
class ObjectManipulation : public Env,
                           public sim::WarningSource,
                           public WorldHolder,
                           public ObservationScaleSource {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 2000;
  static constexpr double kProgressScale = 5.0;   // per m of progress towards the targets
  static constexpr double kEnterBonus = 50.0;     // once per object, on first entering
  static constexpr double kAllInBonus = 200.0;    // all objects inside at once (success)
  static constexpr double kTargetRadius = 1.0;    // m; an object is in when its centre is
  static constexpr double kObjectHalfSize = 0.3;  // m: box half side, cylinder radius and half
                                                  // height
  static constexpr double kMinMass = 2.0;         // kg, uniform per object and episode
  static constexpr double kMaxMass = 8.0;
  static constexpr double kEdgeMargin = 1.0;     // objects start this far inside the arena's edge
  static constexpr double kSpawnMargin = 1.0;    // ... and this far outside the spawn disc
  static constexpr double kObjectSpacing = 1.2;  // between object centres at placement
  static constexpr double kTargetStartDistance = 2.5;  // target centre to its object's start
  static constexpr double kArenaExitMargin = 1.0;      // leaving the arena by this much terminates
  /// Per object: position 3, quaternion 4, linear velocity 3, target centre (x, y) 2, offset to
  /// the target (x, y) 2, distance to the target 1, inside flag 1, mass 1.
  static constexpr int kObjectObsDim = 17;

  ObjectManipulation(const WorldParams& world, const ObjectManipulationParams& params,
                     int max_episode_steps = kDefaultMaxEpisodeSteps);

  const EnvSpec& Spec() const override { return spec_; }
  /// The world\'s robot-block scales, then this task\'s block (ObservationUnits).
  std::vector<float> ObservationScales() const override;
  void Reset(std::optional<uint64_t> seed, std::span<float> obs) override;
  StepResult Step(std::span<const float> action, std::span<float> obs) override;
  /// The objects' masses (model fields), targets, distances and entered flags, the reset RNG and
  /// the world's state, bit for bit.
  std::optional<std::string> SaveState() const override;
  void RestoreState(std::string_view state) override;
  int64_t WarningCount() const override { return world_.Warnings().Total(); }
  std::string WarningSummary() const override { return world_.Warnings().ToString(); }

  /// Writes the observation of the current state.
  void Observe(std::span<float> obs) const;
  MultiRobotWorld& world() { return world_; }
  const MultiRobotWorld& World() const override { return world_; }
  int NumObjects() const { return params_.num_objects; }
  /// Object `k`'s free-joint addresses, its target centre (x, y) and this episode's mass (kg).
  const object_tasks::FreeBody& object(int k) const { return objects_[static_cast<size_t>(k)]; }
  const std::array<double, 2>& target(int k) const { return targets_[static_cast<size_t>(k)]; }
  double ObjectMass(int k) const;
  /// Horizontal distance of object `k`'s centre from its target centre (m).
  double TargetDistance(int k) const;

 private:
  /// Draws object masses, start positions and targets, and places the objects.
  void PlaceObjects();
  /// True when (x, y) lies outside the arena by more than kArenaExitMargin.
  bool OutsideArena(double x, double y) const;

  ObjectManipulationParams params_;
  MultiRobotWorld world_;
  std::vector<object_tasks::FreeBody> objects_;             // [objects]
  std::vector<std::array<double, 3>> unit_inertia_;         // [objects] compiled inertia of 1 kg
  std::vector<std::array<double, 2>> unit_body_invweight_;  // [objects] of 1 kg
  std::vector<std::array<double, 6>> unit_dof_invweight_;   // [objects] of 1 kg
  std::vector<std::array<double, 2>> targets_;              // [objects]
  std::vector<double> last_distance_;  // [objects] at the end of the previous step
  std::vector<uint8_t> entered_;       // [objects] has entered its target this episode
  EnvSpec spec_;
  std::mt19937_64 rng_;
  int max_episode_steps_;
  int steps_ = 0;
};

/// Registered parameters (the world's, num_objects, arena_size) and the registry row's factory.
std::vector<ParamSpec> ObjectManipulationParamSpecs();
std::unique_ptr<Env> MakeObjectManipulation(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
