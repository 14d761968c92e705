#include "envs/robots/navigation_common.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace rlpipe::envs::robots {

NearestRobot FindNearestRobot(const MultiRobotWorld& world, double x, double y) {
  NearestRobot nearest{.robot = -1, .distance_m = std::numeric_limits<double>::infinity()};
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const mjtNum* p = world.RobotPosition(robot);
    const double distance = std::hypot(p[0] - x, p[1] - y);
    if (distance < nearest.distance_m) nearest = {.robot = robot, .distance_m = distance};
  }
  return nearest;
}

void ObserveRobotOffsets(const MultiRobotWorld& world, double x, double y, std::span<float> out) {
  size_t k = 0;
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const mjtNum* p = world.RobotPosition(robot);
    out[k++] = static_cast<float>(x - p[0]);
    out[k++] = static_cast<float>(y - p[1]);
    out[k++] = static_cast<float>(std::hypot(x - p[0], y - p[1]));
  }
}

void AppendRobotOffsetBounds(const MultiRobotWorld& world, Box& box) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    box.low.insert(box.low.end(), {-kInf, -kInf, 0.0f});
    box.high.insert(box.high.end(), {kInf, kInf, kInf});
  }
}

void AppendRobotOffsetScales(const MultiRobotWorld& world, std::vector<float>& scales) {
  AppendUnit(scales, ObservationUnits::kHorizontalM, kRobotOffsetValues * world.NumRobots());
}

bool AnyRobotOutside(const MultiRobotWorld& world, double min_x, double max_x, double min_y,
                     double max_y) {
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const mjtNum* p = world.RobotPosition(robot);
    if (p[0] < min_x || p[0] > max_x || p[1] < min_y || p[1] > max_y) return true;
  }
  return false;
}

bool RobotTouches(const MultiRobotWorld& world, const std::vector<uint8_t>& scenery) {
  const mjData& data = world.data();
  for (int c = 0; c < data.ncon; ++c) {
    const int g1 = data.contact[c].geom1;
    const int g2 = data.contact[c].geom2;
    if (scenery[static_cast<size_t>(g1)] && world.IsRobotGeom(g2)) return true;
    if (scenery[static_cast<size_t>(g2)] && world.IsRobotGeom(g1)) return true;
  }
  return false;
}

bool SimulateAndDetectContact(MultiRobotWorld& world, const std::vector<uint8_t>& scenery) {
  // Before physics step s > 0 the contact list is that of step s - 1 (the one before step 0
  // belongs to the previous control step); after the loop it is the last step's.
  bool touched = false;
  int substep = 0;
  world.Simulate([&](const mjModel&, mjData&) {
    if (substep++ > 0 && !touched) touched = RobotTouches(world, scenery);
  });
  return touched || RobotTouches(world, scenery);
}

std::string MjcfNumber(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

}  // namespace rlpipe::envs::robots
