#include "envs/robots/obstacle_navigation.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <string>

#include "core/error.h"
#include "envs/robots/navigation_common.h"

namespace rlpipe::envs::robots {
namespace {

/// Half extents (m) of the obstacle shapes: a wall 3 × 0.2 m, a 1 m cube, a cylinder of radius
/// 0.5 m; all 1 m tall.
constexpr std::array<double, 3> kWallHalfSize = {1.5, 0.1, 0.5};
constexpr std::array<double, 3> kBoxHalfSize = {0.5, 0.5, 0.5};
constexpr double kCylinderRadius = 0.5;
constexpr double kObstacleHalfHeight = 0.5;
/// Obstacles wait here (m, along x) until the first reset places them.
constexpr double kParkingX = 1000.0;
/// Rejection sampling budgets: draws per obstacle, restarts of the whole layout, target draws.
constexpr int kObstacleDraws = 10000;
constexpr int kLayoutRestarts = 100;
constexpr int kTargetDraws = 2000;
/// Obstacles, the target and the spawn disc may cover at most this fraction of the arena, so
/// that random placement always succeeds (random sequential placement jams near 0.55).
constexpr double kMaxCoverage = 0.4;

/// The obstacles' mocap bodies and the target marker (a site: no physics).
std::string Scenery(const ObstacleNavigationParams& task) {
  std::ostringstream xml;
  for (int i = 0; i < task.num_obstacles; ++i) {
    const std::string name = "obstacle" + std::to_string(i);
    xml << "    <body name=\"" << name << "\" mocap=\"true\" pos=\""
        << MjcfNumber(kParkingX + 4.0 * i) << " 0 " << MjcfNumber(kObstacleHalfHeight) << "\">\n";
    switch (ObstacleNavigation::Kind(i)) {
      case ObstacleKind::kWall:
        xml << "      <geom name=\"" << name << "\" type=\"box\" size=\""
            << MjcfNumber(kWallHalfSize[0]) << " " << MjcfNumber(kWallHalfSize[1]) << " "
            << MjcfNumber(kWallHalfSize[2]) << "\" rgba=\"0.6 0.5 0.4 1\"/>\n";
        break;
      case ObstacleKind::kBox:
        xml << "      <geom name=\"" << name << "\" type=\"box\" size=\""
            << MjcfNumber(kBoxHalfSize[0]) << " " << MjcfNumber(kBoxHalfSize[1]) << " "
            << MjcfNumber(kBoxHalfSize[2]) << "\" rgba=\"0.5 0.5 0.6 1\"/>\n";
        break;
      case ObstacleKind::kCylinder:
        xml << "      <geom name=\"" << name << "\" type=\"cylinder\" size=\""
            << MjcfNumber(kCylinderRadius) << " " << MjcfNumber(kObstacleHalfHeight)
            << "\" rgba=\"0.4 0.6 0.5 1\"/>\n";
        break;
    }
    xml << "    </body>\n";
  }
  xml << "    <body name=\"nav_target\" mocap=\"true\">\n"
      << "      <site name=\"nav_target\" type=\"cylinder\" size=\""
      << MjcfNumber(task.target_radius_m) << " 0.005\" rgba=\"0.1 0.9 0.1 0.4\"/>\n"
      << "    </body>\n";
  return xml.str();
}

/// The world with the task's scenery (obstacles touch robots only: room for their contacts).
WorldParams WithScenery(WorldParams world, const ObstacleNavigationParams& task) {
  world.extra_worldbody_xml = Scenery(task);
  world.extra_contacts = 8 * 3 * world.num_type_b_robots;
  return world;
}

/// Throws ConfigError when the arena cannot hold the spawn disc, the target and the obstacles.
void CheckArenaFits(const WorldParams& world, const ObstacleNavigationParams& task) {
  const double half = task.arena_size_m / 2.0;
  const double exclusion = world.spawn_radius_m + ObstacleNavigation::kSpawnClearance;
  const double needed_half = exclusion + 2.0 * task.target_radius_m;
  if (half < needed_half) {
    throw ConfigError("environment.arena_size: expected at least " + MjcfNumber(2.0 * needed_half) +
                      " m (the spawn disc of spawn_radius " + MjcfNumber(world.spawn_radius_m) +
                      " m plus " + MjcfNumber(ObstacleNavigation::kSpawnClearance) +
                      " m clearance and a target of target_radius " +
                      MjcfNumber(task.target_radius_m) + " m beside it), found " +
                      MjcfNumber(task.arena_size_m));
  }
  // Footprints (with half the gap) of every obstacle, the target and the spawn exclusion disc.
  double covered = exclusion * exclusion + task.target_radius_m * task.target_radius_m;
  for (int i = 0; i < task.num_obstacles; ++i) {
    const double r = ObstacleNavigation::FootprintRadius(ObstacleNavigation::Kind(i)) +
                     ObstacleNavigation::kObstacleGap / 2.0;
    covered += r * r;
  }
  covered *= std::numbers::pi;
  const double area = task.arena_size_m * task.arena_size_m;
  if (covered > kMaxCoverage * area) {
    throw ConfigError("environment.num_obstacles: " + std::to_string(task.num_obstacles) +
                      " obstacles, the target and the spawn disc would cover " +
                      MjcfNumber(std::round(100.0 * covered / area)) + "% of the " +
                      MjcfNumber(task.arena_size_m) + " m arena (at most " +
                      MjcfNumber(100.0 * kMaxCoverage) +
                      "%); lower num_obstacles or raise arena_size");
  }
}

/// Mocap id of a named body (the names come from Scenery).
int MocapId(const mjModel& model, const std::string& name) {
  const int body = mj_name2id(&model, mjOBJ_BODY, name.c_str());
  if (body < 0 || model.body_mocapid[body] < 0) {
    throw TrainingError("obstacle_navigation: no mocap body named '" + name + "'");
  }
  return model.body_mocapid[body];
}

}  // namespace

ObstacleKind ObstacleNavigation::Kind(int i) {
  constexpr std::array<ObstacleKind, 3> kCycle = {ObstacleKind::kWall, ObstacleKind::kBox,
                                                  ObstacleKind::kCylinder};
  return kCycle[static_cast<size_t>(i % 3)];
}

double ObstacleNavigation::FootprintRadius(ObstacleKind kind) {
  switch (kind) {
    case ObstacleKind::kWall:
      return std::hypot(kWallHalfSize[0], kWallHalfSize[1]);
    case ObstacleKind::kBox:
      return std::hypot(kBoxHalfSize[0], kBoxHalfSize[1]);
    case ObstacleKind::kCylinder:
      break;
  }
  return kCylinderRadius;
}

ObstacleNavigation::ObstacleNavigation(const WorldParams& world,
                                       const ObstacleNavigationParams& task)
    : RobotTask("obstacle_navigation", (CheckArenaFits(world, task), WithScenery(world, task)),
                /*horizon=*/std::nullopt),
      task_(task) {
  // Task block: the target block, one block per obstacle, then every robot's offset to the
  // target.
  constexpr float kInf = std::numeric_limits<float>::infinity();
  Box block = {{-kInf, -kInf, -kInf, -kInf, 0.0f, 0.0f}, {kInf, kInf, kInf, kInf, kInf, 1.0f}};
  for (int i = 0; i < task_.num_obstacles; ++i) {
    block.low.insert(block.low.end(), {-kInf, -kInf, -1.0f, -1.0f});
    block.high.insert(block.high.end(), {kInf, kInf, 1.0f, 1.0f});
  }
  AppendRobotOffsetBounds(this->world(), block);
  SetTaskObservation(block);

  // Obstacle geoms and mocap bodies, resolved once by name.
  const mjModel& model = this->world().model();
  is_obstacle_.assign(static_cast<size_t>(model.ngeom), 0);
  for (int i = 0; i < task_.num_obstacles; ++i) {
    const std::string name = "obstacle" + std::to_string(i);
    const int geom = mj_name2id(&model, mjOBJ_GEOM, name.c_str());
    if (geom < 0) throw TrainingError("obstacle_navigation: no geom named '" + name + "'");
    obstacle_geom_.push_back(geom);
    obstacle_mocap_.push_back(MocapId(model, name));
    is_obstacle_[static_cast<size_t>(geom)] = 1;
  }
  obstacle_pose_.assign(static_cast<size_t>(task_.num_obstacles), {0.0, 0.0, 0.0});
  target_mocap_ = MocapId(model, "nav_target");
}

bool ObstacleNavigation::ClearOfObstacles(double x, double y, double radius, int count) const {
  for (int j = 0; j < count; ++j) {
    const auto& pose = obstacle_pose_[static_cast<size_t>(j)];
    if (std::hypot(x - pose[0], y - pose[1]) < FootprintRadius(Kind(j)) + radius) return false;
  }
  return true;
}

void ObstacleNavigation::PlaceObstacle(int i, double x, double y, double yaw_rad) {
  obstacle_pose_[static_cast<size_t>(i)] = {x, y, yaw_rad};
  mjData& data = world().mutable_data();
  const size_t mocap = static_cast<size_t>(obstacle_mocap_[static_cast<size_t>(i)]);
  mjtNum* pos = data.mocap_pos + 3 * mocap;
  mjtNum* quat = data.mocap_quat + 4 * mocap;
  pos[0] = x;
  pos[1] = y;
  pos[2] = kObstacleHalfHeight;
  quat[0] = std::cos(yaw_rad / 2.0);
  quat[1] = 0.0;
  quat[2] = 0.0;
  quat[3] = std::sin(yaw_rad / 2.0);
  mj_kinematics(&world().model(), &data);
}

void ObstacleNavigation::PlaceTarget(double x, double y) {
  target_ = {x, y};
  mjtNum* pos = world().mutable_data().mocap_pos + 3 * static_cast<size_t>(target_mocap_);
  pos[0] = x;
  pos[1] = y;
  pos[2] = 0.0;
  mj_kinematics(&world().model(), &world().mutable_data());
  previous_distance_m_ = FindNearestRobot(world(), x, y).distance_m;
}

std::array<double, 2> ObstacleNavigation::DrawTargetSpot(double min_robot_distance,
                                                         bool off_spawn_disc) {
  // Uniform over the arena (inset by the radius) off the obstacles; the first spot at least
  // `min_robot_distance` from every robot wins, else the farthest one seen.
  const double cx = world().params().spawn_center_x_m;
  const double cy = world().params().spawn_center_y_m;
  const double exclusion =
      off_spawn_disc ? world().params().spawn_radius_m + kSpawnClearance + task_.target_radius_m
                     : 0.0;
  const double reach = task_.arena_size_m / 2.0 - task_.target_radius_m;
  std::uniform_real_distribution<double> coord(-reach, reach);
  std::array<double, 2> best = {cx + reach, cy + reach};
  double best_distance = -1.0;
  for (int draw = 0; draw < kTargetDraws; ++draw) {
    const double x = cx + coord(rng());
    const double y = cy + coord(rng());
    if (std::hypot(x - cx, y - cy) < exclusion ||
        !ClearOfObstacles(x, y, task_.target_radius_m, task_.num_obstacles)) {
      continue;
    }
    const double distance = FindNearestRobot(world(), x, y).distance_m;
    if (distance >= min_robot_distance) return {x, y};
    if (distance > best_distance) {
      best = {x, y};
      best_distance = distance;
    }
  }
  return best;
}

void ObstacleNavigation::ResetTask() {
  // Obstacles: uniform over the arena (inset by their footprint), random heading, clear of the
  // spawn disc (plus clearance) and of each other (plus a gap); restart the layout if jammed.
  const double cx = world().params().spawn_center_x_m;
  const double cy = world().params().spawn_center_y_m;
  const double exclusion = world().params().spawn_radius_m + kSpawnClearance;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int placed = 0;
  for (int restart = 0; placed < task_.num_obstacles; ++restart) {
    if (restart == kLayoutRestarts) {
      throw TrainingError("obstacle_navigation: could not place " +
                          std::to_string(task_.num_obstacles) + " obstacles");
    }
    for (placed = 0; placed < task_.num_obstacles; ++placed) {
      const double footprint = FootprintRadius(Kind(placed));
      const double reach = task_.arena_size_m / 2.0 - footprint;
      bool found = false;
      for (int draw = 0; draw < kObstacleDraws && !found; ++draw) {
        const double x = cx + reach * (2.0 * unit(rng()) - 1.0);
        const double y = cy + reach * (2.0 * unit(rng()) - 1.0);
        const double yaw = std::numbers::pi * unit(rng());
        found = std::hypot(x - cx, y - cy) >= exclusion + footprint &&
                ClearOfObstacles(x, y, footprint + kObstacleGap, placed);
        if (found) obstacle_pose_[static_cast<size_t>(placed)] = {x, y, yaw};
      }
      if (!found) break;
    }
  }
  for (int i = 0; i < task_.num_obstacles; ++i) {
    const auto& pose = obstacle_pose_[static_cast<size_t>(i)];
    PlaceObstacle(i, pose[0], pose[1], pose[2]);
  }

  // The first target: off the obstacles and outside the spawn disc (so not reached at once).
  const std::array<double, 2> spot =
      DrawTargetSpot(task_.target_radius_m + kRelocationClearance, /*off_spawn_disc=*/true);
  PlaceTarget(spot[0], spot[1]);
  sim::Forward(world().model(), world().mutable_data());
  collision_ = false;
  targets_reached_ = 0;
}

void ObstacleNavigation::SimulateStep() {
  collision_ = SimulateAndDetectContact(world(), is_obstacle_);
}

StepResult ObstacleNavigation::StepTask(bool /*at_horizon*/) {
  // Progress: how much the nearest robot's distance to the target shrank since the last step.
  StepResult result;
  const NearestRobot nearest = FindNearestRobot(world(), target_[0], target_[1]);
  const double progress = previous_distance_m_ - nearest.distance_m;
  result.reward = kProgressReward * progress - kDistancePenalty * nearest.distance_m +
                  kLivingBonus - (collision_ ? task_.collision_penalty : 0.0);
  previous_distance_m_ = nearest.distance_m;

  // Reaching the target pays once; the target then moves to a free spot away from the robots.
  const bool reached = nearest.distance_m <= task_.target_radius_m;
  if (reached) {
    result.reward += kTargetReward;
    ++targets_reached_;
    const std::array<double, 2> spot =
        DrawTargetSpot(task_.target_radius_m + kRelocationClearance, /*off_spawn_disc=*/false);
    PlaceTarget(spot[0], spot[1]);
  }

  // A robot leaving the arena square ends the episode, at the configured cost.
  const double half = task_.arena_size_m / 2.0;
  const double cx = world().params().spawn_center_x_m;
  const double cy = world().params().spawn_center_y_m;
  result.terminated = AnyRobotOutside(world(), cx - half, cx + half, cy - half, cy + half);
  if (result.terminated) result.reward -= task_.out_of_arena_penalty;

  result.info = {{"target_distance", nearest.distance_m},
                 {"progress", progress},
                 {"collision", collision_ ? 1.0 : 0.0},
                 {"target_reached", reached ? 1.0 : 0.0},
                 {"targets_reached", static_cast<double>(targets_reached_)}};
  return result;
}

void ObstacleNavigation::ObserveTask(std::span<float> task_obs) const {
  // Target block: target, its offset from the nearest robot, that distance, collision flag.
  const NearestRobot nearest = FindNearestRobot(world(), target_[0], target_[1]);
  const mjtNum* p = world().RobotPosition(nearest.robot);
  size_t k = 0;
  const auto put = [&task_obs, &k](double value) { task_obs[k++] = static_cast<float>(value); };
  put(target_[0]);
  put(target_[1]);
  put(target_[0] - p[0]);
  put(target_[1] - p[1]);
  put(nearest.distance_m);
  put(collision_ ? 1.0 : 0.0);

  // One block per obstacle: centre and heading.
  for (const auto& pose : obstacle_pose_) {
    put(pose[0]);
    put(pose[1]);
    put(std::cos(pose[2]));
    put(std::sin(pose[2]));
  }

  // Every robot's own way to the target.
  ObserveRobotOffsets(world(), target_[0], target_[1], task_obs.subspan(k));
}

std::vector<ParamSpec> ObstacleNavigationParamSpecs() {
  // The world's parameters, then the task's.
  const ObstacleNavigationParams d;
  std::vector<ParamSpec> specs = WorldParamSpecs();
  specs.push_back(IntParam("num_obstacles", d.num_obstacles, 0, 64,
                           "static obstacles per episode (walls, boxes, cylinders in turn)"));
  specs.push_back(PositiveParam("arena_size", d.arena_size_m, 1000.0, "m",
                                "side of the square arena centred on the spawn disc, at least 2 × "
                                "(spawn_radius + 0.6 + 2 × target_radius); leaving it ends the "
                                "episode"));
  specs.push_back(PositiveParam("target_radius", d.target_radius_m, 100.0, "m",
                                "a robot centre this close (horizontally) reaches the target"));
  specs.push_back(RealParam("collision_penalty", d.collision_penalty, 0.0, 1000.0, "",
                            "subtracted from the reward at every step in which a robot touches an "
                            "obstacle"));
  specs.push_back(RealParam("out_of_arena_penalty", d.out_of_arena_penalty, 0.0, 1000000.0, "",
                            "subtracted from the reward on the step a robot leaves the arena "
                            "(which ends the episode)"));
  return specs;
}

std::unique_ptr<Env> MakeObstacleNavigation(const TaskParams& params, int /*max_episode_steps*/) {
  CheckParamValues(ObstacleNavigationParamSpecs(), params);
  ObstacleNavigationParams task;
  task.num_obstacles = ParamInt(params, "num_obstacles");
  task.arena_size_m = params.at("arena_size");
  task.target_radius_m = params.at("target_radius");
  task.collision_penalty = params.at("collision_penalty");
  task.out_of_arena_penalty = params.at("out_of_arena_penalty");
  return std::make_unique<ObstacleNavigation>(ReadWorldParams(params), task);
}

void ObstacleNavigation::SaveTaskState(ByteWriter& writer) const {
  writer.PutVector<std::array<double, 3>>(obstacle_pose_);
  writer.Put(target_);
  writer.Put<double>(previous_distance_m_);
  writer.Put<uint8_t>(static_cast<uint8_t>(collision_));
  writer.Put<int32_t>(static_cast<int32_t>(targets_reached_));
}

std::function<void()> ObstacleNavigation::ReadTaskState(ByteReader& reader) {
  std::vector<std::array<double, 3>> obstacle_pose = reader.GetVector<std::array<double, 3>>();
  if (obstacle_pose.size() != obstacle_pose_.size()) {
    throw IoError("obstacle_navigation state: expected " + std::to_string(obstacle_pose_.size()) +
                  " obstacles, found " + std::to_string(obstacle_pose.size()));
  }
  const auto target = reader.Get<std::array<double, 2>>();
  const auto previous_distance_m = reader.Get<double>();
  const auto collision = reader.Get<uint8_t>();
  const auto targets_reached = reader.Get<int32_t>();
  return [this, obstacle_pose, target, previous_distance_m, collision, targets_reached] {
    obstacle_pose_ = obstacle_pose;
    target_ = target;
    previous_distance_m_ = previous_distance_m;
    collision_ = collision != 0;
    targets_reached_ = targets_reached;
  };
}

void ObstacleNavigation::AppendTaskScales(std::vector<float>& scales) const {
  // Target, offset, distance, collision flag; per obstacle its centre and heading; per robot its
  // offset to the target.
  AppendUnit(scales, ObservationUnits::kHorizontalM, 5);
  AppendUnit(scales, 1.0);
  for (int i = 0; i < task_.num_obstacles; ++i) {
    AppendUnit(scales, ObservationUnits::kHorizontalM, 2);
    AppendUnit(scales, 1.0, 2);
  }
  AppendRobotOffsetScales(world(), scales);
}

}  // namespace rlpipe::envs::robots
