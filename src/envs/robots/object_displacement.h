#pragma once
/// Pipeline task 3: push one object as far as possible in a target direction (see
/// docs/environments.md). The object is one of eight shapes (mug and torus are compounds of
/// primitive geoms), placed 2 to `max_object_distance` m beyond the spawn disc's edge; the target
/// direction is north, south, east or west. Per step the reward is the object's displacement
/// progress along the direction plus 0.1 × its velocity along it, plus 0.5 × the decrease of every
/// sphere's approach potential (its distance to the object's centre plus 0.5 m × its angle from
/// the object's back side, smallest for a sphere touching the object from behind); the last step
/// adds 10 × the best displacement.
#include <array>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/object_task_util.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// The object shapes, in the order of the observation's one-hot block.
enum class ObjectShape {
  kSphere,
  kCube,
  kCylinder,
  kCapsule,
  kMug,
  kTorus,
  kRectangularPrism,
  kTallCylinder,
};
inline constexpr int kNumObjectShapes = 8;

/// Target directions: east = +x, north = +y, west = -x, south = -y.
enum class Direction { kEast, kNorth, kWest, kSouth };

/// Task parameters (keys of the `environment:` section).
struct ObjectDisplacementParams {
  double max_object_distance_m = 15.0;  // farthest object placement beyond the spawn disc, >= 2
};

/// The MJCF body of the object (a free body named "object" with joint "object_root").
std::string ObjectBodyXml(ObjectShape shape);

/// The object_displacement task on the shared multi-robot world (each shape its own world).
class ObjectDisplacement : public RobotTask {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 1000;
  static constexpr double kProgressScale = 1.0;  // per m of displacement progress this step
  static constexpr double kVelocityScale = 0.1;  // per m/s of velocity along the direction
  static constexpr double kBestDisplacementBonus = 10.0;  // last step, per m of best displacement
  /// Approach shaping: per unit of approach potential a sphere lost this step (summed over the
  /// spheres). The robots start 2 to 15 m from the object and no other term pays before they touch
  /// it; spheres are the robots that can get there (bar robots only tumble).
  static constexpr double kApproachScale = 0.5;
  /// A sphere's approach potential is its horizontal distance to the object's centre plus this
  /// many metres per radian of the angle between its bearing from the centre and the backward
  /// direction: smallest for a sphere touching the object from behind, and a sphere that meets
  /// the object's front or side is paid for going around it (a plain distance to a point behind
  /// the object pays nothing for that first step sideways, and a sphere pressing on the front
  /// stays). About the shapes' contact radius, so going around costs what it pays.
  static constexpr double kApproachArcRadius = 0.5;
  /// The push point (in the observation, where the spheres should push from) lies this far behind
  /// the object's centre: closer than a sphere touching any shape from behind (0.29 m for the tall
  /// cylinder, the thinnest), so a sphere cannot sit on it without pushing.
  static constexpr double kPushPointOffset = 0.25;
  static constexpr double kMinObjectDistance = 2.0;  // m beyond the spawn disc's edge
  static constexpr double kObjectMass = 1.0;         // kg, every shape
  static constexpr double kObjectClearance = 0.5;    // m, bounding radius of every shape
  static constexpr double kArenaMargin = 20.0;       // m beyond the farthest object placement
  /// Task block: object position 3, quaternion 4, linear velocity 3, angular velocity 3, target
  /// direction (x, y) 2, displacement along it 1, best displacement 1, shape one-hot 8, elapsed
  /// fraction of the episode 1, push point (x, y) 2, the spheres' mean approach potential 1; then
  /// the sphere guides (object_tasks::kSphereGuideValues per sphere), not counted here.
  static constexpr int kTaskObsDim = 29;

  ObjectDisplacement(const WorldParams& world, const ObjectDisplacementParams& params,
                     int max_episode_steps = kDefaultMaxEpisodeSteps);

  /// The object's free-joint addresses in world().
  const object_tasks::FreeBody& object() const { return object_; }
  ObjectShape shape() const { return shape_; }
  Direction direction() const { return direction_; }
  /// Unit vector of the target direction (x, y).
  std::array<double, 2> DirectionVector() const;
  /// Object displacement along the direction since the reset (m), and its velocity along it.
  double Displacement() const;
  double VelocityAlong() const;
  /// The push point: the object's centre moved kPushPointOffset against the direction (x, y).
  std::array<double, 2> PushPoint() const;
  /// The approach potential of a sphere at (x, y): distance to the object's centre +
  /// kApproachArcRadius × the angle (rad) between the bearing from the centre and -direction.
  double ApproachPotential(double x, double y) const;
  /// Mean approach potential of the sphere robots (m).
  double ApproachDistance() const;
  /// Robots further than this from the origin end the episode (m).
  double ArenaRadius() const;

 private:
  /// The episode's shape and direction; a new shape gets its own compiled world.
  void BeforeWorldReset() override;
  /// The object: random bearing, 2..max_object_distance m beyond the spawn disc, random heading.
  void ResetTask() override;
  /// The spheres' approach potential before the step, then the step's physics.
  void SimulateStep() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// Shape (the world is rebuilt for it on restore), direction, start and displacement
  /// variables, warnings of replaced worlds.
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  WorldParams world_params_;
  ObjectDisplacementParams params_;
  object_tasks::FreeBody object_;
  ObjectShape shape_ = ObjectShape::kSphere;
  Direction direction_ = Direction::kEast;
  std::array<double, 2> start_xy_ = {0.0, 0.0};
  double last_displacement_ = 0.0;
  double best_displacement_ = 0.0;
  double approach_before_ = 0.0;  // the spheres' approach potential before the step
};

/// Registered parameters (the world's and max_object_distance) and the registry row's factory.
std::vector<ParamSpec> ObjectDisplacementParamSpecs();
std::unique_ptr<Env> MakeObjectDisplacement(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
