#pragma once
/// Task 7 of the robot pipeline: from a start room, through a sequence of narrow corridors
/// (straight, turn, S-curve, zigzag in turn), past checkpoints in order to a goal (see
/// docs/environments.md). Reward +100 per checkpoint, −0.05 × distance to the next one, −2 per
/// step with a robot touching a wall, +500 at the goal (which ends the episode). A robot that
/// leaves the room and corridors (over a wall) ends the episode.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/robot_task.h"

namespace rlpipe::envs::robots {

/// Task parameters (keys of the `environment:` section).
struct NarrowPassageParams {
  int num_passages = 4;               // corridors in sequence, 1-16
  double passage_width_m = 2.0;       // corridor width at difficulty 0
  double passage_difficulty = 0.5;    // in [0, 1]: the width shrinks by up to 60%
  double wall_contact_penalty = 2.0;  // per step in which a robot touches a wall
};

/// Corridor shapes; passage k has kind k mod 4.
enum class PassageKind { kStraight, kTurn, kSCurve, kZigzag };

/// A point on the floor (x, y), m.
using Point2 = std::array<double, 2>;

/// The course: start room, corridors, checkpoints and goal, in world coordinates (built from the
/// parameters alone: the same every episode; only the robots' spawn varies).
struct PassageCourse {
  double width_m = 0.0;                         // effective corridor width
  Point2 room_center = {0, 0};                  // the spawn disc's centre
  double room_half_size_m = 0.0;                // inner half side of the square start room
  std::vector<Point2> centerline;               // room centre, doorway, …, goal
  std::vector<Point2> checkpoints;              // entrance of each passage (first: the doorway)
  std::vector<double> checkpoint_heading_rad;   // corridor direction at each checkpoint
  Point2 goal = {0, 0};                         // end of the last passage
  double goal_heading_rad = 0.0;                // corridor direction at the goal
  std::array<double, 4> bounds = {0, 0, 0, 0};  // min x, max x, min y, max y of the walls
  /// The walls as MJCF: static geoms of the world body named "passage_wall<k>".
  std::string wall_xml;
};

/// Builds the course for these parameters and a spawn disc of `spawn_radius_m`.
PassageCourse BuildPassageCourse(const NarrowPassageParams& params, double spawn_radius_m);

/// The narrow_passage task on the shared multi-robot world.
class NarrowPassage : public RobotTask {
 public:
  static constexpr int kDefaultMaxEpisodeSteps = 2000;
  static constexpr double kCheckpointReward = 100.0;
  static constexpr double kDistancePenalty = 0.05;  // per step, per metre to the next checkpoint
  static constexpr double kGoalReward = 500.0;
  static constexpr double kWidthReduction = 0.6;  // width × (1 − 0.6 × difficulty)
  static constexpr double kMinWidth = 0.5;        // m; a sphere robot is 0.334 m wide
  static constexpr double kWallThickness = 0.2;   // m
  /// Task block: next point x, y; its offset from the nearest robot x, y; that distance; the
  /// corridor heading there (cos, sin); fraction of checkpoints passed; wall contact flag; then
  /// every robot's offset to the next point (kRobotOffsetValues per robot), not counted here.
  static constexpr int kTaskObsDim = 9;

  NarrowPassage(const WorldParams& world, const NarrowPassageParams& task);

  const PassageCourse& course() const { return course_; }
  /// Checkpoints passed in this episode (the next one's index).
  int checkpoints_passed() const { return next_; }
  /// True when (x, y) is inside the start room or the corridors, walls included (a robot centre
  /// anywhere else has crossed a wall, e.g. flown over it).
  bool OnCourse(double x, double y) const;
  /// True when geom `geom` is a wall (room or corridor).
  bool IsWallGeom(int geom) const { return is_wall_[static_cast<size_t>(geom)] != 0; }

 private:
  NarrowPassage(const WorldParams& world, PassageCourse course, double wall_contact_penalty);

  void ResetTask() override;
  /// Watches for robot-wall contacts.
  void SimulateStep() override;
  StepResult StepTask(bool at_horizon) override;
  void ObserveTask(std::span<float> task_obs) const override;
  void AppendTaskScales(std::vector<float>& scales) const override;
  /// The checkpoint progress and the wall contact flag (the course follows from the parameters).
  void SaveTaskState(ByteWriter& writer) const override;
  std::function<void()> ReadTaskState(ByteReader& reader) override;

  /// The next point to reach: checkpoint `next_`, or the goal once all are passed.
  Point2 NextPoint() const;
  double NextHeading() const;

  PassageCourse course_;
  double wall_contact_penalty_;   // per step with a robot touching a wall
  std::vector<uint8_t> is_wall_;  // [ngeom]
  int next_ = 0;
  bool wall_contact_ = false;
};

/// Registered parameters (the world's and the task's) and the registry row's factory.
std::vector<ParamSpec> NarrowPassageParamSpecs();
std::unique_ptr<Env> MakeNarrowPassage(const TaskParams& params, int max_episode_steps);

}  // namespace rlpipe::envs::robots
