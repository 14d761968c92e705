#pragma once
/// Task 4 of the robot pipeline: bring any robot to a target in a square arena with static
/// obstacles (see docs/environments.md). Obstacles (walls, boxes, cylinders) and the target are
/// placed per episode from the seed, never on the spawn disc nor on each other. Reward: 2 × the
/// nearest robot's progress toward the target, +100 on reaching it (the target then moves to a
/// free spot), − `collision_penalty` (default 1) per step in which a robot touches an obstacle,
/// −0.01 × distance, +0.1 living bonus. A robot leaving the arena terminates the episode, less
/// `out_of_arena_penalty` (default 0) on that step.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// Task parameters (keys of the `environment:` section).
struct ObstacleNavigationParams {
  int num_obstacles = 8;              // static obstacles per episode, 0-64
  double arena_size_m = 20.0;         // side of the square arena centred on the spawn disc
  double target_radius_m = 1.0;       // a robot centre this close (horizontally) reaches the target
  double collision_penalty = 1.0;     // per step in which a robot touches an obstacle
  double out_of_arena_penalty = 0.0;  // on the step a robot leaves the arena (which ends it)
};

/// Obstacle shapes; obstacle i has kind i mod 3 (wall, box, cylinder).
enum class ObstacleKind { kWall, kBox, kCylinder };

/// The obstacle_navigation task on the shared multi-robot world.
class ObstacleNavigation : public RobotTask {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 1000;
  static constexpr double kProgressReward = 2.0;    // per metre of the nearest robot's progress
  static constexpr double kTargetReward = 100.0;    // per target reached
  static constexpr double kDistancePenalty = 0.01;  // per step, per metre to the target
  static constexpr double kLivingBonus = 0.1;       // per step
  /// Obstacles keep this clearance (m) from the spawn disc's edge: a bar robot's arm can lie flat.
  static constexpr double kSpawnClearance = 0.6;
  /// Gap kept between obstacles' footprint circles (m), so that robots fit between any two.
  static constexpr double kObstacleGap = 0.4;
  /// A moved target keeps this distance (m) beyond its radius from every robot centre.
  static constexpr double kRelocationClearance = 1.0;
  /// Task block before the obstacles: target x, y; target − nearest robot x, y; distance;
  /// collision flag of the last step.
  static constexpr int kTaskObsBaseDim = 6;
  /// Per obstacle: centre x, y, cos yaw, sin yaw.
  static constexpr int kObstacleObsDim = 4;

  ObstacleNavigation(const WorldParams& world, const ObstacleNavigationParams& task);

  const ObstacleNavigationParams& task_params() const { return task_; }
  /// Target centre (x, y).
  std::array<double, 2> target() const { return target_; }
  /// Test and tool access: moves the target to (x, y); progress is measured from here on.
  void PlaceTarget(double x, double y);
  /// Test and tool access: moves obstacle `i` to (x, y) with heading `yaw_rad`.
  void PlaceObstacle(int i, double x, double y, double yaw_rad);
  /// Obstacle `i`'s MuJoCo geom id, kind, and footprint radius (horizontal bounding circle, m).
  int ObstacleGeom(int i) const { return obstacle_geom_[static_cast<size_t>(i)]; }
  static ObstacleKind Kind(int i);
  static double FootprintRadius(ObstacleKind kind);
  /// Targets reached in this episode.
  int targets_reached() const { return targets_reached_; }

 private:
  void ResetTask() override;
  /// Watches for robot-obstacle contacts.
  void SimulateStep() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// The obstacle layout, the target, the progress and collision variables (the world's state
  /// holds the obstacle and target mocap poses).
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  /// A target spot clear of obstacles (and of the spawn disc when `off_spawn_disc`) and at least
  /// `min_robot_distance` from every robot centre (the farthest of many draws if none is).
  std::array<double, 2> DrawTargetSpot(double min_robot_distance, bool off_spawn_disc);
  /// True when a disc at (x, y) of radius `radius` misses the footprints of obstacles 0..count-1.
  bool ClearOfObstacles(double x, double y, double radius, int count) const;

  ObstacleNavigationParams task_;
  std::vector<int> obstacle_geom_;                    // [obstacles]
  std::vector<int> obstacle_mocap_;                   // [obstacles]
  std::vector<std::array<double, 3>> obstacle_pose_;  // [obstacles]: x, y, yaw
  std::vector<uint8_t> is_obstacle_;                  // [ngeom]
  int target_mocap_ = -1;
  std::array<double, 2> target_ = {0.0, 0.0};
  double previous_distance_m_ = 0.0;  // nearest robot's distance to the target after last step
  bool collision_ = false;
  int targets_reached_ = 0;
};

/// Registered parameters (the world's and the task's) and the registry row's factory.
std::vector<ParamSpec> ObstacleNavigationParamSpecs();
std::unique_ptr<Env> MakeObstacleNavigation(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
