#pragma once
/// Pipeline task 5: push `num_objects` boxes and cylinders of random mass into their target
/// circles in a square arena (see docs/environments.md). Per step the reward is 5 × the summed
/// progress of the objects towards their targets, plus 0.5 × the decrease of every sphere's
/// approach potential (towards the back side of the nearest object not yet inside its target),
/// +50 the first time an object enters its target and +200 when all objects are inside at once
/// (success, which ends the episode). The objects slide on the floor with friction 0.3.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/object_task_util.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// Task parameters (keys of the `environment:` section).
struct ObjectManipulationParams {
  int num_objects = 3;         // objects (and targets), 1-8; even indices boxes, odd cylinders
  double arena_size_m = 15.0;  // side of the square arena centred on the spawn disc
};

/// The object_manipulation task on the shared multi-robot world.
class ObjectManipulation : public RobotTask {
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
  /// Sliding friction of the objects, which governs their contacts (geom priority over the floor's
  /// 1): with MuJoCo's default 1 the two spheres (20 N each per world axis) could not slide an
  /// object above ~5 kg (bench/envs/object_manipulation_probe's shove test); at 0.3 (23.5 N at
  /// 8 kg) two spheres slide every mass, one pushing along an axis up to 6.8 kg.
  static constexpr double kObjectFriction = 0.3;
  /// Approach shaping: per unit of approach potential a sphere lost this step (summed over the
  /// spheres). The objects start at least 1 m outside the spawn disc and nothing else pays before
  /// a robot pushes one; spheres are the robots that can get there (bar robots only tumble).
  static constexpr double kApproachScale = 0.5;
  /// A sphere's approach potential towards object k is its horizontal distance to the object's
  /// centre plus this many metres per radian of the angle between its bearing from the centre and
  /// the direction away from the object's target (object_displacement's potential): smallest for a
  /// sphere touching the object on the side away from its target, and a sphere meeting the
  /// object's front or side is paid for going around it.
  static constexpr double kApproachArcRadius = 0.5;
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

  int NumObjects() const { return params_.num_objects; }
  /// Object `k`'s free-joint addresses, its target centre (x, y) and this episode's mass (kg).
  const object_tasks::FreeBody& object(int k) const { return objects_[static_cast<size_t>(k)]; }
  const std::array<double, 2>& target(int k) const { return targets_[static_cast<size_t>(k)]; }
  double ObjectMass(int k) const;
  /// Horizontal distance of object `k`'s centre from its target centre (m).
  double TargetDistance(int k) const;
  /// The approach potential of a sphere at (x, y) (m): the smallest over the objects not inside
  /// their targets of the distance to the object's centre + kApproachArcRadius × the angle (rad)
  /// between the bearing from the centre and the direction away from the target; 0 when every
  /// object is inside.
  double ApproachPotential(double x, double y) const;
  /// Mean approach potential of the sphere robots (m).
  double ApproachDistance() const;

 private:
  void ResetTask() override;
  /// The spheres' approach potential before the step, then the step's physics.
  void SimulateStep() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// The objects' targets, distances and entered flags, and their masses (model fields).
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  /// Draws object masses, start positions and targets, and places the objects.
  void PlaceObjects();
  /// True when (x, y) lies outside the arena by more than kArenaExitMargin.
  bool OutsideArena(double x, double y) const;

  ObjectManipulationParams params_;
  std::vector<object_tasks::FreeBody> objects_;             // [objects]
  std::vector<std::array<double, 3>> unit_inertia_;         // [objects] compiled inertia of 1 kg
  std::vector<std::array<double, 2>> unit_body_invweight_;  // [objects] of 1 kg
  std::vector<std::array<double, 6>> unit_dof_invweight_;   // [objects] of 1 kg
  std::vector<std::array<double, 2>> targets_;              // [objects]
  std::vector<double> last_distance_;  // [objects] at the end of the previous step
  std::vector<uint8_t> entered_;       // [objects] has entered its target this episode
  double approach_before_ = 0.0;       // the spheres' mean approach potential before the step
};

/// Registered parameters (the world's, num_objects, arena_size) and the registry row's factory.
std::vector<ParamSpec> ObjectManipulationParamSpecs();
std::unique_ptr<Env> MakeObjectManipulation(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
