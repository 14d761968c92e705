#include "envs/robots/narrow_passage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <utility>

#include "core/error.h"
#include "envs/robots/navigation_common.h"

namespace rlpipe::envs::robots {
namespace {

constexpr double kWallHalfHeight = 0.5;  // walls are 1 m tall
/// Room between the spawn disc's edge and the doorway, beyond half a corridor width (m), so that
/// no robot spawns on the first checkpoint.
constexpr double kRoomMargin = 0.5;

/// One static wall piece: a box (half sizes along its own x, y) or a cylinder (radius half_x).
struct WallPiece {
  bool cylinder = false;
  double x = 0.0;
  double y = 0.0;
  double half_x = 0.0;
  double half_y = 0.0;
  double yaw_rad = 0.0;
};

/// Walks the corridor centre line: a position, a heading, and the points visited.
struct Turtle {
  Point2 at = {0.0, 0.0};
  double heading_rad = 0.0;
  std::vector<Point2> points;

  void Forward(double distance_m) {
    at = {at[0] + distance_m * std::cos(heading_rad), at[1] + distance_m * std::sin(heading_rad)};
    points.push_back(at);
  }
  void Turn(double degrees) { heading_rad += degrees * std::numbers::pi / 180.0; }
};

/// The wall pieces on one side (`side` +1 left, −1 right) of a polyline: boxes between the
/// mitred offset points at `offset` (walls `thickness` thick), cylinders filling the joints.
void AddSideWalls(const std::vector<Point2>& line, double side, double offset, double thickness,
                  std::vector<WallPiece>& walls) {
  // Unit left normal of segment i.
  const auto normal = [&line](size_t i) -> Point2 {
    const double dx = line[i + 1][0] - line[i][0], dy = line[i + 1][1] - line[i][1];
    const double length = std::hypot(dx, dy);
    return {-dy / length, dx / length};
  };
  // Offset points: plain at the ends, mitred (at `offset` from both segments) at the joints.
  std::vector<Point2> offsets;
  for (size_t i = 0; i < line.size(); ++i) {
    Point2 n = i == 0 ? normal(0) : normal(i - 1);
    if (i > 0 && i + 1 < line.size()) {
      const Point2 a = normal(i - 1), b = normal(i);
      const double scale = 1.0 / (1.0 + a[0] * b[0] + a[1] * b[1]);
      n = {(a[0] + b[0]) * scale, (a[1] + b[1]) * scale};
    }
    offsets.push_back({line[i][0] + side * offset * n[0], line[i][1] + side * offset * n[1]});
  }
  // A box along each offset segment, a cylinder at each joint.
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    const double dx = offsets[i + 1][0] - offsets[i][0], dy = offsets[i + 1][1] - offsets[i][1];
    walls.push_back({.cylinder = false,
                     .x = (offsets[i][0] + offsets[i + 1][0]) / 2.0,
                     .y = (offsets[i][1] + offsets[i + 1][1]) / 2.0,
                     .half_x = std::hypot(dx, dy) / 2.0,
                     .half_y = thickness / 2.0,
                     .yaw_rad = std::atan2(dy, dx)});
    if (i > 0) {
      walls.push_back({.cylinder = true,
                       .x = offsets[i][0],
                       .y = offsets[i][1],
                       .half_x = thickness / 2.0,
                       .half_y = thickness / 2.0});
    }
  }
}

/// The MJCF of the wall pieces (static geoms of the world body).
std::string WallXml(const std::vector<WallPiece>& walls) {
  std::ostringstream xml;
  for (size_t k = 0; k < walls.size(); ++k) {
    const WallPiece& w = walls[k];
    xml << "    <geom name=\"passage_wall" << k << "\" type=\"" << (w.cylinder ? "cylinder" : "box")
        << "\" pos=\"" << MjcfNumber(w.x) << " " << MjcfNumber(w.y) << " "
        << MjcfNumber(kWallHalfHeight) << "\" size=\"";
    if (w.cylinder) {
      xml << MjcfNumber(w.half_x) << " " << MjcfNumber(kWallHalfHeight);
    } else {
      xml << MjcfNumber(w.half_x) << " " << MjcfNumber(w.half_y) << " "
          << MjcfNumber(kWallHalfHeight) << "\" euler=\"0 0 " << MjcfNumber(w.yaw_rad);
    }
    xml << "\" rgba=\"0.55 0.5 0.45 1\"/>\n";
  }
  return xml.str();
}

/// The world with the course's walls, spawning in the start room.
WorldParams WithCourse(WorldParams world, const PassageCourse& course) {
  world.extra_worldbody_xml = course.wall_xml;
  world.extra_contacts = 8 * 3 * world.num_type_b_robots;
  world.spawn_center_x_m = course.room_center[0];
  world.spawn_center_y_m = course.room_center[1];
  return world;
}

}  // namespace

PassageCourse BuildPassageCourse(const NarrowPassageParams& params, double spawn_radius_m) {
  // Corridor width, wall offset and the length unit of every passage (the outer corridor width).
  PassageCourse course;
  const double width =
      params.passage_width_m * (1.0 - NarrowPassage::kWidthReduction * params.passage_difficulty);
  const double t = NarrowPassage::kWallThickness;
  const double unit = width + 2.0 * t;
  course.width_m = width;
  course.room_half_size_m = spawn_radius_m + width / 2.0 + kRoomMargin;
  const double a = course.room_half_size_m;

  // The centre line from the room centre through the doorway (+x wall), one passage after the
  // other; turns alternate left and right so the course never folds back on itself.
  Turtle turtle;
  turtle.points.push_back(turtle.at);
  turtle.Forward(a);
  double turn_sign = 1.0;
  for (int k = 0; k < params.num_passages; ++k) {
    course.checkpoints.push_back(turtle.at);
    course.checkpoint_heading_rad.push_back(turtle.heading_rad);
    switch (static_cast<PassageKind>(k % 4)) {
      case PassageKind::kStraight:
        turtle.Forward(4.0 * unit);
        break;
      case PassageKind::kTurn:
        turtle.Forward(2.0 * unit);
        turtle.Turn(90.0 * turn_sign);
        turtle.Forward(2.0 * unit);
        turn_sign = -turn_sign;
        break;
      case PassageKind::kSCurve:
        turtle.Forward(1.5 * unit);
        turtle.Turn(45.0);
        turtle.Forward(2.0 * unit);
        turtle.Turn(-45.0);
        turtle.Forward(1.5 * unit);
        break;
      case PassageKind::kZigzag:
        turtle.Forward(unit);
        turtle.Turn(45.0);
        for (int leg = 0; leg < 4; ++leg) {
          turtle.Forward(2.0 * unit);
          if (leg < 3) turtle.Turn(leg % 2 == 0 ? -90.0 : 90.0);
        }
        turtle.Turn(45.0);
        turtle.Forward(unit);
        break;
    }
  }
  course.goal = turtle.at;
  course.goal_heading_rad = turtle.heading_rad;
  course.centerline = turtle.points;

  // Corridor walls along the centre line from the doorway to half a width past the goal, where a
  // cap closes the corridor.
  std::vector<Point2> walled(course.centerline.begin() + 1, course.centerline.end());
  turtle.Forward(width / 2.0);
  walled.push_back(turtle.at);
  std::vector<WallPiece> walls;
  for (const double side : {1.0, -1.0}) AddSideWalls(walled, side, (width + t) / 2.0, t, walls);
  const double c = std::cos(turtle.heading_rad), s = std::sin(turtle.heading_rad);
  walls.push_back({.x = turtle.at[0] + c * t / 2.0,
                   .y = turtle.at[1] + s * t / 2.0,
                   .half_x = t / 2.0,
                   .half_y = width / 2.0 + t,
                   .yaw_rad = turtle.heading_rad});

  // The start room: four walls, the +x one split by the doorway.
  const double door_half = (a + t - width / 2.0) / 2.0;
  walls.push_back({.x = -a - t / 2.0, .half_x = t / 2.0, .half_y = a + t});
  walls.push_back({.y = a + t / 2.0, .half_x = a + t, .half_y = t / 2.0});
  walls.push_back({.y = -a - t / 2.0, .half_x = a + t, .half_y = t / 2.0});
  walls.push_back(
      {.x = a + t / 2.0, .y = width / 2.0 + door_half, .half_x = t / 2.0, .half_y = door_half});
  walls.push_back(
      {.x = a + t / 2.0, .y = -width / 2.0 - door_half, .half_x = t / 2.0, .half_y = door_half});

  // Bounds of every wall piece (its horizontal bounding circle).
  std::array<double, 4> b = {
      std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const WallPiece& w : walls) {
    const double r = std::hypot(w.half_x, w.cylinder ? 0.0 : w.half_y);
    b = {std::min(b[0], w.x - r), std::max(b[1], w.x + r), std::min(b[2], w.y - r),
         std::max(b[3], w.y + r)};
  }

  // Everything shifted so the course's bounding box is centred on the origin.
  const double sx = -(b[0] + b[1]) / 2.0, sy = -(b[2] + b[3]) / 2.0;
  const auto shift = [sx, sy](Point2& p) { p = {p[0] + sx, p[1] + sy}; };
  for (Point2& p : course.centerline) shift(p);
  for (Point2& p : course.checkpoints) shift(p);
  shift(course.goal);
  shift(course.room_center);
  for (WallPiece& w : walls) {
    w.x += sx;
    w.y += sy;
  }
  course.bounds = {b[0] + sx, b[1] + sx, b[2] + sy, b[3] + sy};
  course.wall_xml = WallXml(walls);
  return course;
}

NarrowPassage::NarrowPassage(const WorldParams& world, const NarrowPassageParams& task)
    : NarrowPassage(world, BuildPassageCourse(task, world.spawn_radius_m),
                    task.wall_contact_penalty) {}

NarrowPassage::NarrowPassage(const WorldParams& world, PassageCourse course,
                             double wall_contact_penalty)
    : RobotTask("narrow_passage", WithCourse(world, course), /*horizon=*/std::nullopt),
      course_(std::move(course)),
      wall_contact_penalty_(wall_contact_penalty) {
  // Task block: next point, offset, distance, heading (cos, sin), checkpoint fraction, wall flag.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Box block = {{-kInf, -kInf, -kInf, -kInf, 0.0f, -1.0f, -1.0f, 0.0f, 0.0f},
               {kInf, kInf, kInf, kInf, kInf, 1.0f, 1.0f, 1.0f, 1.0f}};
  AppendRobotOffsetBounds(this->world(), block);  // every robot's offset to the next point
  SetTaskObservation(block);

  // Wall geoms: every geom named passage_wall….
  const mjModel& model = this->world().model();
  is_wall_.assign(static_cast<size_t>(model.ngeom), 0);
  for (int g = 0; g < model.ngeom; ++g) {
    const char* name = mj_id2name(&model, mjOBJ_GEOM, g);
    if (name != nullptr && std::string_view(name).starts_with("passage_wall")) {
      is_wall_[static_cast<size_t>(g)] = 1;
    }
  }
}

bool NarrowPassage::OnCourse(double x, double y) const {
  // The start room, walls included.
  const double room = course_.room_half_size_m + kWallThickness;
  if (std::abs(x - course_.room_center[0]) <= room &&
      std::abs(y - course_.room_center[1]) <= room) {
    return true;
  }
  // The corridors: within half a width plus a wall of the centre line from the doorway on, the
  // closing cap (half a width past the goal) included.
  const auto& line = course_.centerline;
  const double band = course_.width_m / 2.0 + kWallThickness;
  for (size_t i = 1; i + 1 < line.size(); ++i) {
    const double dx = line[i + 1][0] - line[i][0], dy = line[i + 1][1] - line[i][1];
    const double length_sq = dx * dx + dy * dy;
    // The nearest point of segment i (the last one runs on to the cap's outer face).
    const double end = i + 2 == line.size() ? 1.0 + band / std::sqrt(length_sq) : 1.0;
    const double f =
        std::clamp(((x - line[i][0]) * dx + (y - line[i][1]) * dy) / length_sq, 0.0, end);
    if (std::hypot(x - line[i][0] - f * dx, y - line[i][1] - f * dy) <= band) return true;
  }
  return false;
}

Point2 NarrowPassage::NextPoint() const {
  return next_ < static_cast<int>(course_.checkpoints.size())
             ? course_.checkpoints[static_cast<size_t>(next_)]
             : course_.goal;
}

double NarrowPassage::NextHeading() const {
  return next_ < static_cast<int>(course_.checkpoints.size())
             ? course_.checkpoint_heading_rad[static_cast<size_t>(next_)]
             : course_.goal_heading_rad;
}

void NarrowPassage::ResetTask() {
  // Robots spawn in the start room; the course is the same every episode.
  next_ = 0;
  wall_contact_ = false;
}

void NarrowPassage::SimulateStep() { wall_contact_ = SimulateAndDetectContact(world(), is_wall_); }

StepResult NarrowPassage::StepTask(bool /*at_horizon*/) {
  // Distance of the nearest robot to the point that was next at the start of the step.
  StepResult result;
  const Point2 next = NextPoint();
  const NearestRobot nearest = FindNearestRobot(world(), next[0], next[1]);
  result.reward =
      -kDistancePenalty * nearest.distance_m - (wall_contact_ ? wall_contact_penalty_ : 0.0);

  // A robot within half a corridor width of the next checkpoint passes it (in order only); after
  // the last checkpoint, the goal ends the episode.
  const bool reached = nearest.distance_m <= course_.width_m / 2.0;
  const bool at_goal = reached && next_ == static_cast<int>(course_.checkpoints.size());
  if (reached && !at_goal) {
    result.reward += kCheckpointReward;
    ++next_;
  }
  if (at_goal) result.reward += kGoalReward;

  // The goal, or a robot off the course (flown over a wall), ends the episode.
  bool off_course = false;
  for (int robot = 0; robot < world().NumRobots() && !off_course; ++robot) {
    const mjtNum* p = world().RobotPosition(robot);
    off_course = !OnCourse(p[0], p[1]);
  }
  result.terminated = at_goal || off_course;

  result.info = {{"next_distance", nearest.distance_m},
                 {"checkpoints_passed", static_cast<double>(next_)},
                 {"wall_contact", wall_contact_ ? 1.0 : 0.0},
                 {"goal_reached", at_goal ? 1.0 : 0.0}};
  return result;
}

void NarrowPassage::ObserveTask(std::span<float> task_obs) const {
  // Next point, its offset from the nearest robot, the distance, the corridor heading there,
  // progress through the checkpoints and the wall contact flag; then every robot's offset to it.
  const Point2 next = NextPoint();
  const NearestRobot nearest = FindNearestRobot(world(), next[0], next[1]);
  const mjtNum* p = world().RobotPosition(nearest.robot);
  size_t k = 0;
  const auto put = [&task_obs, &k](double value) { task_obs[k++] = static_cast<float>(value); };
  put(next[0]);
  put(next[1]);
  put(next[0] - p[0]);
  put(next[1] - p[1]);
  put(nearest.distance_m);
  put(std::cos(NextHeading()));
  put(std::sin(NextHeading()));
  put(static_cast<double>(next_) / static_cast<double>(course_.checkpoints.size()));
  put(wall_contact_ ? 1.0 : 0.0);

  // Every robot's own way to the next point.
  ObserveRobotOffsets(world(), next[0], next[1], task_obs.subspan(k));
}

std::vector<ParamSpec> NarrowPassageParamSpecs() {
  // The world's parameters, then the task's.
  const NarrowPassageParams d;
  std::vector<ParamSpec> specs = WorldParamSpecs();
  specs.push_back(IntParam("num_passages", d.num_passages, 1, 16,
                           "corridors in sequence (straight, turn, S-curve, zigzag in turn)"));
  specs.push_back(PositiveParam("passage_width", d.passage_width_m, 10.0, "m",
                                "corridor width at difficulty 0"));
  specs.push_back(RealParam("passage_difficulty", d.passage_difficulty, 0.0, 1.0, "",
                            "the corridor width is passage_width × (1 − 0.6 × difficulty)"));
  specs.push_back(RealParam("wall_contact_penalty", d.wall_contact_penalty, 0.0, 1000.0, "",
                            "subtracted from the reward at every step in which a robot touches a "
                            "wall"));
  return specs;
}

std::unique_ptr<Env> MakeNarrowPassage(const TaskParams& params, int /*max_episode_steps*/) {
  // Each value in range, and the effective width wide enough for every robot.
  CheckParamValues(NarrowPassageParamSpecs(), params);
  NarrowPassageParams task;
  task.num_passages = ParamInt(params, "num_passages");
  task.passage_width_m = params.at("passage_width");
  task.passage_difficulty = params.at("passage_difficulty");
  task.wall_contact_penalty = params.at("wall_contact_penalty");
  const double width =
      task.passage_width_m * (1.0 - NarrowPassage::kWidthReduction * task.passage_difficulty);
  if (width < NarrowPassage::kMinWidth) {
    throw ConfigError(
        "environment.passage_width: passage_width × (1 − 0.6 × passage_difficulty) = " +
        MjcfNumber(width) + " m is narrower than " + MjcfNumber(NarrowPassage::kMinWidth) +
        " m; raise passage_width or lower passage_difficulty");
  }
  return std::make_unique<NarrowPassage>(ReadWorldParams(params), task);
}

void NarrowPassage::SaveTaskState(ByteWriter& writer) const {
  writer.Put<int32_t>(static_cast<int32_t>(next_));
  writer.Put<uint8_t>(static_cast<uint8_t>(wall_contact_));
}

std::function<void()> NarrowPassage::ReadTaskState(ByteReader& reader) {
  const auto next = reader.Get<int32_t>();
  const auto wall_contact = reader.Get<uint8_t>();
  if (next < 0 || next > static_cast<int32_t>(course_.checkpoints.size())) {
    throw IoError("narrow_passage state: expected a checkpoint index in [0, " +
                  std::to_string(course_.checkpoints.size()) + "], found " + std::to_string(next));
  }
  return [this, next, wall_contact] {
    next_ = next;
    wall_contact_ = wall_contact != 0;
  };
}

void NarrowPassage::AppendTaskScales(std::vector<float>& scales) const {
  // Next point, offset, distance; heading, checkpoint fraction, wall flag; per robot its offset to
  // the next point.
  AppendUnit(scales, ObservationUnits::kHorizontalM, 5);
  AppendUnit(scales, 1.0, 4);
  AppendRobotOffsetScales(world(), scales);
}

}  // namespace rlpipe::envs::robots
