#pragma once
/// Logic shared by the navigation tasks (obstacle_navigation, narrow_passage): the robot nearest
/// to a point, robot contacts with a set of scenery geoms over one control step, and strict
/// parameter reading that names the `environment.` key.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "envs/robots/multi_robot_world.h"

namespace rlpipe::envs::robots {

/// The robot whose centre is horizontally nearest to a point, and that distance (m).
struct NearestRobot {
  int robot = -1;
  double distance_m = 0.0;
};

/// The robot (any kind) whose centre is horizontally nearest to (x, y).
NearestRobot FindNearestRobot(const MultiRobotWorld& world, double x, double y);

/// Values per robot in the robot-offset block: the offset (x, y) from the robot's centre to a
/// point, and its length.
inline constexpr int kRobotOffsetValues = 3;

/// The robot-offset block of every robot of `world` (layout order: bars, then spheres) to the
/// point (x, y). The navigation tasks observe it after their own values so that a policy sees each
/// robot's own way to the point, not only the nearest robot's (which one is nearest changes).
void ObserveRobotOffsets(const MultiRobotWorld& world, double x, double y, std::span<float> out);

/// Appends the robot-offset block's bounds for every robot of `world` to `box`.
void AppendRobotOffsetBounds(const MultiRobotWorld& world, Box& box);

/// Appends the robot-offset block's observation units (metres) for every robot of `world`.
void AppendRobotOffsetScales(const MultiRobotWorld& world, std::vector<float>& scales);

/// True when any robot centre lies outside the rectangle [min_x, max_x] × [min_y, max_y].
bool AnyRobotOutside(const MultiRobotWorld& world, double min_x, double max_x, double min_y,
                     double max_y);

/// True when the current contact list holds a contact between a robot geom and a geom flagged in
/// `scenery` ([ngeom], 1 = scenery).
bool RobotTouches(const MultiRobotWorld& world, const std::vector<uint8_t>& scenery);

/// Runs one control step (World::Simulate) and reports whether the contact list of any of its
/// physics steps held a robot–scenery contact (see RobotTouches).
bool SimulateAndDetectContact(MultiRobotWorld& world, const std::vector<uint8_t>& scenery);

/// A double as MJCF text (round-trips exactly).
std::string MjcfNumber(double value);

}  // namespace rlpipe::envs::robots
