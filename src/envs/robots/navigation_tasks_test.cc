// Reward, termination and scenery of the navigation tasks on constructed states.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "config/tree.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/robots/narrow_passage.h"
#include "envs/robots/obstacle_navigation.h"
#include "envs/robots/task_test_util.h"

namespace rlpipe::envs::robots {
namespace {

using ::testing::HasSubstr;
using C = RobotConstants;

/// Defaults of `specs` plus `overrides`.
TaskParams Params(const std::vector<ParamSpec>& specs, const TaskParams& overrides = {}) {
  TaskParams params;
  for (const auto& spec : specs) params[spec.name] = spec.default_value;
  for (const auto& [key, value] : overrides) params[key] = value;
  return params;
}

/// Moves every robot to the floor in a row at y = `y`, 1 m apart from x = -2.5 (inside the
/// default spawn disc, so clear of obstacles).
void LineUp(MultiRobotWorld& world, double y) {
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const double radius = robot < world.NumBars() ? C::kBallRadius : C::kSphereRadius;
    world.PlaceRobot(robot, {-2.5 + 1.0 * robot, y, radius + 0.001});
  }
}

/// The message of the ConfigError `make` throws ("" if it does not throw one).
template <typename Make>
std::string ConfigErrorOf(Make make) {
  try {
    make();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

/// Geom `g`'s world position (x, y, z) from the last kinematics pass.
const mjtNum* GeomPos(const mjData& data, int g) {
  return data.geom_xpos + 3 * static_cast<size_t>(g);
}

/// Horizontal footprint radius of a box or cylinder geom, from MuJoCo's model.
double GeomFootprint(const mjModel& model, int geom) {
  const mjtNum* size = model.geom_size + 3 * static_cast<size_t>(geom);
  return model.geom_type[geom] == mjGEOM_BOX ? std::hypot(size[0], size[1]) : size[0];
}

using rlpipe::envs::test_util::SameFuture;

/// An obstacle_navigation env with the given overrides.
std::unique_ptr<ObstacleNavigation> MakeNavigation(const TaskParams& overrides = {}) {
  const TaskParams p = Params(ObstacleNavigationParamSpecs(), overrides);
  auto env = MakeObstacleNavigation(p, 1000);
  return std::unique_ptr<ObstacleNavigation>(static_cast<ObstacleNavigation*>(env.release()));
}

/// The reward of a step without the +100 target bonus, from its info terms.
double ShapedReward(const StepResult& r, double collision_penalty = 1.0) {
  return 2.0 * r.info.at("progress") - 0.01 * r.info.at("target_distance") + 0.1 -
         collision_penalty * r.info.at("collision");
}

TEST(ObstacleNavigationTest, ReachingTheTargetPaysOnceAndMovesItToAFreeSpot) {
  auto env = MakeNavigation();
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
  env->Reset(3, obs);
  LineUp(env->world(), 0.0);
  // The target 0.5 m beside robot 2: the first step reaches it.
  env->PlaceTarget(-0.5, 0.5);
  const StepResult hit = env->Step(idle, obs);
  EXPECT_EQ(hit.info.at("target_reached"), 1.0);
  EXPECT_EQ(env->targets_reached(), 1);
  EXPECT_NEAR(hit.info.at("target_distance"), 0.5, 1e-2);
  EXPECT_NEAR(hit.reward, 100.0 + ShapedReward(hit), 1e-9);

  // The new target is clear of every obstacle and more than radius + 1 m from every robot.
  const auto target = env->target();
  const mjModel& model = env->world().model();
  const mjData& data = env->world().data();
  for (int i = 0; i < env->task_params().num_obstacles; ++i) {
    const int g = env->ObstacleGeom(i);
    EXPECT_GE(std::hypot(target[0] - GeomPos(data, g)[0], target[1] - GeomPos(data, g)[1]),
              GeomFootprint(model, g) + 1.0);
  }
  for (int robot = 0; robot < env->world().NumRobots(); ++robot) {
    const mjtNum* p = env->world().RobotPosition(robot);
    EXPECT_GE(std::hypot(target[0] - p[0], target[1] - p[1]), 2.0);
  }
  // The observation shows the new target; staying put pays no second bonus.
  const size_t task = static_cast<size_t>(env->world().ObsDim());
  EXPECT_FLOAT_EQ(obs[task], static_cast<float>(target[0]));
  EXPECT_FLOAT_EQ(obs[task + 1], static_cast<float>(target[1]));
  // After the obstacles, every robot's offset to the new target and its length.
  const size_t offsets = task + 6 + static_cast<size_t>(4 * env->task_params().num_obstacles);
  for (int robot = 0; robot < env->world().NumRobots(); ++robot) {
    const mjtNum* p = env->world().RobotPosition(robot);
    const size_t at = offsets + static_cast<size_t>(3 * robot);
    EXPECT_FLOAT_EQ(obs[at], static_cast<float>(target[0] - p[0])) << robot;
    EXPECT_FLOAT_EQ(obs[at + 1], static_cast<float>(target[1] - p[1])) << robot;
    EXPECT_FLOAT_EQ(obs[at + 2], static_cast<float>(std::hypot(target[0] - p[0], target[1] - p[1])))
        << robot;
  }
  EXPECT_EQ(offsets + static_cast<size_t>(3 * env->world().NumRobots()), obs.size());
  const StepResult next = env->Step(idle, obs);
  EXPECT_EQ(next.info.at("target_reached"), 0.0);
  EXPECT_EQ(env->targets_reached(), 1);
  EXPECT_NEAR(next.reward, ShapedReward(next), 1e-9);
  EXPECT_LT(next.reward, 1.0);
  EXPECT_EQ(env->WarningCount(), 0) << env->WarningSummary();
}

TEST(ObstacleNavigationTest, CollisionPenaltyOnlyWhileTouchingAnObstacle) {
  // The default penalty (1) and a configured one.
  for (const double penalty : {1.0, 0.1}) {
    auto env = MakeNavigation({{"collision_penalty", penalty}});
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
    env->Reset(5, obs);
    LineUp(env->world(), -2.0);
    env->PlaceTarget(8.0, -8.0);
    // Robots resting on the floor: no collision.
    const StepResult free = env->Step(idle, obs);
    EXPECT_EQ(free.info.at("collision"), 0.0);
    EXPECT_NEAR(free.reward, ShapedReward(free, penalty), 1e-9);

    // A sphere pressed 2 mm into the cylinder (obstacle 2) moved next to it: penalised.
    const int sphere = env->world().NumBars();
    ASSERT_EQ(ObstacleNavigation::Kind(2), ObstacleKind::kCylinder);
    env->PlaceObstacle(2, 0.0, 1.5, 0.0);
    env->world().PlaceRobot(sphere, {0.0, 1.5 - 0.5 - C::kSphereRadius + 0.002, C::kSphereRadius});
    const StepResult hit = env->Step(idle, obs);
    EXPECT_EQ(hit.info.at("collision"), 1.0);
    EXPECT_NEAR(hit.reward, ShapedReward(hit, penalty), 1e-9);
    EXPECT_NEAR(hit.reward, ShapedReward(hit, 0.0) - penalty, 1e-9);
    EXPECT_EQ(obs[static_cast<size_t>(env->world().ObsDim()) + 5], 1.0f);

    // Moved 1 m away from it: no penalty again.
    env->world().PlaceRobot(sphere, {0.0, 0.0, C::kSphereRadius});
    const StepResult away = env->Step(idle, obs);
    EXPECT_EQ(away.info.at("collision"), 0.0);
    EXPECT_NEAR(away.reward, ShapedReward(away, penalty), 1e-9);
    EXPECT_EQ(env->WarningCount(), 0) << env->WarningSummary();
  }
}

TEST(ObstacleNavigationTest, ProgressOfTheNearestRobotHasTheSignOfItsApproach) {
  auto env = MakeNavigation();
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
  env->Reset(7, obs);
  LineUp(env->world(), -2.0);
  // The sphere at (0, 0) is nearest to a target at (0, 8).
  const int sphere = env->world().NumBars();
  env->world().PlaceRobot(sphere, {0.0, 0.0, C::kSphereRadius});
  env->PlaceTarget(0.0, 8.0);

  // 1 m closer: progress ≈ +1 and the reward is 2 × progress − 0.01 × 7 + 0.1.
  env->world().PlaceRobot(sphere, {0.0, 1.0, C::kSphereRadius});
  const StepResult closer = env->Step(idle, obs);
  EXPECT_NEAR(closer.info.at("progress"), 1.0, 1e-2);
  EXPECT_NEAR(closer.info.at("target_distance"), 7.0, 1e-2);
  EXPECT_NEAR(closer.reward, ShapedReward(closer), 1e-9);
  EXPECT_NEAR(closer.reward, 2.0 - 0.07 + 0.1, 3e-2);

  // 2 m back: progress ≈ −2 (now another robot may be nearest, no farther than the sphere).
  env->world().PlaceRobot(sphere, {0.0, -1.0, C::kSphereRadius});
  const StepResult back = env->Step(idle, obs);
  EXPECT_LT(back.info.at("progress"), -0.9);
  EXPECT_LT(back.reward, 0.0);
  EXPECT_NEAR(back.reward, ShapedReward(back), 1e-9);

  // Standing still: progress ≈ 0.
  const StepResult still = env->Step(idle, obs);
  EXPECT_NEAR(still.info.at("progress"), 0.0, 1e-2);
}

TEST(ObstacleNavigationTest, ObstaclesAndTargetsNeverOverlapTheSpawnDiscOrEachOther) {
  auto env = MakeNavigation({{"num_obstacles", 12}});
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const mjModel& model = env->world().model();
  const mjData& data = env->world().data();
  const double spawn_radius = env->world().params().spawn_radius_m;
  std::vector<double> first_x;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    env->Reset(seed, obs);
    const auto target = env->target();
    EXPECT_GE(std::hypot(target[0], target[1]), spawn_radius + 0.6 + 1.0) << seed;
    for (int i = 0; i < 12; ++i) {
      const int g = env->ObstacleGeom(i);
      const double x = GeomPos(data, g)[0], y = GeomPos(data, g)[1];
      const double r = GeomFootprint(model, g);
      // Off the spawn disc, inside the 20 m arena, off the target, off the other obstacles.
      EXPECT_GE(std::hypot(x, y), spawn_radius + r) << seed << " obstacle " << i;
      EXPECT_LE(std::max(std::abs(x), std::abs(y)) + r, 10.0 + 1e-9) << seed;
      EXPECT_GE(std::hypot(x - target[0], y - target[1]), r + 1.0) << seed;
      for (int j = 0; j < i; ++j) {
        const int h = env->ObstacleGeom(j);
        EXPECT_GE(std::hypot(x - GeomPos(data, h)[0], y - GeomPos(data, h)[1]),
                  r + GeomFootprint(model, h))
            << seed << " obstacles " << i << ", " << j;
      }
    }
    first_x.push_back(GeomPos(data, env->ObstacleGeom(0))[0]);
    // No obstacle starts touching anything.
    for (int c = 0; c < data.ncon; ++c) {
      for (int i = 0; i < 12; ++i) {
        EXPECT_NE(data.contact[c].geom1, env->ObstacleGeom(i)) << seed;
        EXPECT_NE(data.contact[c].geom2, env->ObstacleGeom(i)) << seed;
      }
    }
  }
  // The layout changes with the seed.
  std::sort(first_x.begin(), first_x.end());
  EXPECT_EQ(std::unique(first_x.begin(), first_x.end()), first_x.end());
}

TEST(ObstacleNavigationTest, RestoringAStateBringsItsObstaclesTargetAndCounts) {
  // The saved env has reached one target; the restored one is in another episode.
  auto saved = MakeNavigation();
  auto restored = MakeNavigation();
  std::vector<float> obs(static_cast<size_t>(saved->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(saved->Spec().action_space.Dim()), 0.0f);
  saved->Reset(3, obs);
  restored->Reset(4, obs);
  LineUp(saved->world(), 0.0);
  saved->PlaceTarget(-0.5, 0.5);
  ASSERT_EQ(saved->Step(idle, obs).info.at("target_reached"), 1.0);

  restored->RestoreState(*saved->SaveState());
  EXPECT_EQ(restored->target(), saved->target());
  EXPECT_EQ(restored->targets_reached(), 1);
  for (int i = 0; i < saved->task_params().num_obstacles; ++i) {
    const int g = saved->ObstacleGeom(i);
    EXPECT_EQ(std::memcmp(GeomPos(restored->world().data(), g), GeomPos(saved->world().data(), g),
                          3 * sizeof(mjtNum)),
              0);
  }
  EXPECT_TRUE(SameFuture(*saved, *restored, 40));
}

TEST(ObstacleNavigationTest, LeavingTheArenaTerminatesAtItsPenalty) {
  // No penalty by default, and a configured one on the leaving step only.
  for (const double penalty : {0.0, 50.0}) {
    auto env = MakeNavigation({{"num_obstacles", 0}, {"out_of_arena_penalty", penalty}});
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
    env->Reset(1, obs);
    LineUp(env->world(), 0.0);
    env->PlaceTarget(-8.0, -8.0);
    const int sphere = env->world().NumBars();
    env->world().PlaceRobot(sphere, {9.5, 9.5, C::kSphereRadius});
    const StepResult inside = env->Step(idle, obs);
    EXPECT_FALSE(inside.terminated);
    EXPECT_NEAR(inside.reward, ShapedReward(inside), 1e-9);
    env->world().PlaceRobot(sphere, {10.5, 0.0, C::kSphereRadius});
    const StepResult outside = env->Step(idle, obs);
    EXPECT_TRUE(outside.terminated);
    EXPECT_NEAR(outside.reward, ShapedReward(outside) - penalty, 1e-9);
  }
}

TEST(ObstacleNavigationTest, BadParametersNameTheirKey) {
  const auto make = [](const TaskParams& overrides) {
    return [overrides] { MakeNavigation(overrides); };
  };
  EXPECT_THAT(ConfigErrorOf(make({{"num_obstacles", 2.5}})),
              HasSubstr("environment.num_obstacles"));
  EXPECT_THAT(ConfigErrorOf(make({{"num_obstacles", -1}})), HasSubstr("environment.num_obstacles"));
  EXPECT_THAT(ConfigErrorOf(make({{"num_obstacles", 64}})), HasSubstr("environment.num_obstacles"));
  EXPECT_THAT(ConfigErrorOf(make({{"arena_size", 0.0}})), HasSubstr("environment.arena_size"));
  EXPECT_THAT(ConfigErrorOf(make({{"arena_size", 9.0}})), HasSubstr("environment.arena_size"));
  EXPECT_THAT(ConfigErrorOf(make({{"collision_penalty", -0.5}})),
              HasSubstr("environment.collision_penalty"));
  EXPECT_THAT(ConfigErrorOf(make({{"out_of_arena_penalty", -1.0}})),
              HasSubstr("environment.out_of_arena_penalty"));
  EXPECT_THAT(ConfigErrorOf(make({{"target_radius", -1.0}})),
              HasSubstr("environment.target_radius"));
  EXPECT_EQ(ConfigErrorOf(make({{"num_obstacles", 0}, {"arena_size", 12.0}})), "");
}

TEST(ObstacleNavigationTest, RegisteredUnderItsNameAndAlias) {
  config::EnvironmentConfig cfg;
  cfg.name = "obstacle_navigation_env";
  auto env = MakeEnv(cfg);
  EXPECT_EQ(env->Spec().name, "obstacle_navigation");
  EXPECT_EQ(env->Spec().max_episode_steps, ObstacleNavigation::kDefaultMaxEpisodeSteps);
  // Shared blocks, the target block (6), 8 obstacles × 4, 6 robots' offsets × 3.
  EXPECT_EQ(env->Spec().observation_space.Dim(), 4 * 29 + 2 * 14 + 6 + 8 * 4 + 6 * 3);
  cfg.params.kind = config::Tree::Kind::kMap;
  cfg.params.entries.emplace_back("target_radius", config::Tree::Scalar("0"));
  EXPECT_THROW(MakeEnv(cfg), ConfigError);
}

/// A narrow_passage env with the given overrides.
std::unique_ptr<NarrowPassage> MakePassage(const TaskParams& overrides = {}) {
  const TaskParams p = Params(NarrowPassageParamSpecs(), overrides);
  auto env = MakeNarrowPassage(p, 2000);
  return std::unique_ptr<NarrowPassage>(static_cast<NarrowPassage*>(env.release()));
}

/// Horizontal distance from (x, y) to wall geom `g` (a box or a cylinder), from MuJoCo's geom
/// positions, orientations and sizes.
double DistanceToGeom(const mjModel& model, const mjData& data, int g, double x, double y) {
  const mjtNum* c = GeomPos(data, g);
  const mjtNum* size = model.geom_size + 3 * static_cast<size_t>(g);
  const double dx = x - c[0], dy = y - c[1];
  if (model.geom_type[g] == mjGEOM_CYLINDER) return std::max(0.0, std::hypot(dx, dy) - size[0]);
  // The point in the box's frame (local = R^T · offset; the walls turn about z only).
  const mjtNum* r = data.geom_xmat + 9 * static_cast<size_t>(g);
  const double lx = r[0] * dx + r[3] * dy, ly = r[1] * dx + r[4] * dy;
  return std::hypot(std::max(0.0, std::abs(lx) - size[0]), std::max(0.0, std::abs(ly) - size[1]));
}

/// The smallest distance from any wall to the corridor centre line, walked in 2 cm steps from the
/// room centre to the goal.
double MinWallClearance(NarrowPassage& env) {
  const mjModel& model = env.world().model();
  const mjData& data = env.world().data();
  const auto& line = env.course().centerline;
  double clearance = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    const double length = std::hypot(line[i + 1][0] - line[i][0], line[i + 1][1] - line[i][1]);
    const int steps = static_cast<int>(std::ceil(length / 0.02));
    for (int k = 0; k <= steps; ++k) {
      const double f = static_cast<double>(k) / steps;
      const double x = line[i][0] + f * (line[i + 1][0] - line[i][0]);
      const double y = line[i][1] + f * (line[i + 1][1] - line[i][1]);
      for (int g = 0; g < model.ngeom; ++g) {
        if (!env.IsWallGeom(g)) continue;
        clearance = std::min(clearance, DistanceToGeom(model, data, g, x, y));
      }
    }
  }
  return clearance;
}

TEST(NarrowPassageTest, ACorridorLeadsFromTheStartRoomToTheGoal) {
  for (const double passages : {4.0, 9.0}) {
    auto env = MakePassage({{"num_passages", passages}});
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    env->Reset(1, obs);
    const PassageCourse& course = env->course();
    // The walk starts at the spawn centre, passes every checkpoint and ends at the goal.
    ASSERT_EQ(course.checkpoints.size(), static_cast<size_t>(passages));
    EXPECT_EQ(course.centerline.front(), course.room_center);
    EXPECT_EQ(course.centerline.back(), course.goal);
    EXPECT_EQ(course.centerline[1], course.checkpoints[0]);
    // No wall comes closer than half the corridor width to it, and the corridor is that narrow.
    const double clearance = MinWallClearance(*env);
    EXPECT_GE(clearance, course.width_m / 2.0 - 1e-6) << passages;
    EXPECT_LE(clearance, course.width_m / 2.0 + 1e-3) << passages;
    // Both sides of the first passage are walled: 0.1 m beyond its edge is inside a wall.
    const Point2 a = course.centerline[1], b = course.centerline[2];
    const double length = std::hypot(b[0] - a[0], b[1] - a[1]);
    const Point2 normal = {-(b[1] - a[1]) / length, (b[0] - a[0]) / length};
    for (const double side : {1.0, -1.0}) {
      const double offset = side * (course.width_m / 2.0 + 0.1);
      const double x = (a[0] + b[0]) / 2.0 + offset * normal[0];
      const double y = (a[1] + b[1]) / 2.0 + offset * normal[1];
      double nearest = std::numeric_limits<double>::infinity();
      for (int g = 0; g < env->world().model().ngeom; ++g) {
        if (env->IsWallGeom(g)) {
          nearest =
              std::min(nearest, DistanceToGeom(env->world().model(), env->world().data(), g, x, y));
        }
      }
      EXPECT_EQ(nearest, 0.0) << side;
    }
  }
}

TEST(NarrowPassageTest, DifficultyNarrowsTheCorridor) {
  double previous = std::numeric_limits<double>::infinity();
  for (const double difficulty : {0.0, 0.5, 1.0}) {
    auto env = MakePassage({{"passage_difficulty", difficulty}, {"num_passages", 2.0}});
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    env->Reset(1, obs);
    EXPECT_DOUBLE_EQ(env->course().width_m, 2.0 * (1.0 - 0.6 * difficulty));
    // Measured between MuJoCo's wall geoms: twice the centre line's clearance.
    const double width = 2.0 * MinWallClearance(*env);
    EXPECT_NEAR(width, 2.0 * (1.0 - 0.6 * difficulty), 2e-3);
    EXPECT_LT(width, previous);
    previous = width;
  }
}

TEST(NarrowPassageTest, RobotsSpawnInTheStartRoom) {
  auto env = MakePassage();
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const PassageCourse& course = env->course();
  for (uint64_t seed = 0; seed < 5; ++seed) {
    env->Reset(seed, obs);
    for (int robot = 0; robot < env->world().NumRobots(); ++robot) {
      const mjtNum* p = env->world().RobotPosition(robot);
      EXPECT_LE(std::hypot(p[0] - course.room_center[0], p[1] - course.room_center[1]), 3.0 + 1e-9);
    }
    // Nobody starts on the first checkpoint or touching a wall.
    EXPECT_EQ(env->checkpoints_passed(), 0);
    EXPECT_GT(obs[static_cast<size_t>(env->world().ObsDim()) + 4], course.width_m / 2.0);
  }
}

TEST(NarrowPassageTest, CheckpointsPayOnceAndOnlyInOrder) {
  auto env = MakePassage();
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
  env->Reset(2, obs);
  const auto& checkpoints = env->course().checkpoints;
  const int sphere = env->world().NumBars();
  const auto place = [&](const Point2& p) {
    env->world().PlaceRobot(sphere, {p[0], p[1], C::kSphereRadius});
  };

  // Checkpoint 1 before checkpoint 0: nothing.
  place(checkpoints[1]);
  const StepResult early = env->Step(idle, obs);
  EXPECT_EQ(early.info.at("checkpoints_passed"), 0.0);
  EXPECT_EQ(early.info.at("wall_contact"), 0.0);
  EXPECT_NEAR(early.reward, -0.05 * early.info.at("next_distance"), 1e-9);
  EXPECT_GT(early.info.at("next_distance"), 1.0);

  // Checkpoint 0: +100 once.
  place(checkpoints[0]);
  const StepResult first = env->Step(idle, obs);
  EXPECT_EQ(first.info.at("checkpoints_passed"), 1.0);
  EXPECT_NEAR(first.reward, 100.0 - 0.05 * first.info.at("next_distance"), 1e-9);
  EXPECT_LT(first.info.at("next_distance"), 0.05);
  const StepResult again = env->Step(idle, obs);
  EXPECT_EQ(again.info.at("checkpoints_passed"), 1.0);
  EXPECT_NEAR(again.reward, -0.05 * again.info.at("next_distance"), 1e-9);
  // The observation now points at checkpoint 1.
  const size_t task = static_cast<size_t>(env->world().ObsDim());
  EXPECT_FLOAT_EQ(obs[task], static_cast<float>(checkpoints[1][0]));
  EXPECT_FLOAT_EQ(obs[task + 1], static_cast<float>(checkpoints[1][1]));
  EXPECT_FLOAT_EQ(obs[task + 7], 0.25f);
  // Then every robot's offset to it and its length, in layout order (the sphere stands on
  // checkpoint 0).
  for (int robot = 0; robot < env->world().NumRobots(); ++robot) {
    const mjtNum* p = env->world().RobotPosition(robot);
    const size_t at = task + 9 + static_cast<size_t>(3 * robot);
    const double dx = checkpoints[1][0] - p[0], dy = checkpoints[1][1] - p[1];
    EXPECT_FLOAT_EQ(obs[at], static_cast<float>(dx)) << robot;
    EXPECT_FLOAT_EQ(obs[at + 1], static_cast<float>(dy)) << robot;
    EXPECT_FLOAT_EQ(obs[at + 2], static_cast<float>(std::hypot(dx, dy))) << robot;
  }
  EXPECT_NEAR(
      obs[task + 9 + static_cast<size_t>(3 * sphere) + 2],
      std::hypot(checkpoints[1][0] - checkpoints[0][0], checkpoints[1][1] - checkpoints[0][1]),
      0.05);

  // Checkpoint 1 in order: +100.
  place(checkpoints[1]);
  const StepResult second = env->Step(idle, obs);
  EXPECT_EQ(second.info.at("checkpoints_passed"), 2.0);
  EXPECT_NEAR(second.reward, 100.0 - 0.05 * second.info.at("next_distance"), 1e-9);
  EXPECT_FALSE(second.terminated);
  EXPECT_EQ(env->WarningCount(), 0) << env->WarningSummary();
}

TEST(NarrowPassageTest, TheGoalAfterEveryCheckpointEndsTheEpisodeWithFiveHundred) {
  auto env = MakePassage();
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
  env->Reset(3, obs);
  const PassageCourse& course = env->course();
  const int sphere = env->world().NumBars();
  const auto place = [&](const Point2& p) {
    env->world().PlaceRobot(sphere, {p[0], p[1], C::kSphereRadius});
  };

  // The goal before the checkpoints does not count.
  place(course.goal);
  const StepResult early = env->Step(idle, obs);
  EXPECT_FALSE(early.terminated);
  EXPECT_EQ(early.info.at("goal_reached"), 0.0);
  EXPECT_LT(early.reward, 0.0);

  // Every checkpoint in order, then the goal: +500 and the episode ends.
  for (const Point2& checkpoint : course.checkpoints) {
    place(checkpoint);
    ASSERT_FALSE(env->Step(idle, obs).terminated);
  }
  EXPECT_EQ(env->checkpoints_passed(), 4);
  place(course.goal);
  const StepResult goal = env->Step(idle, obs);
  EXPECT_TRUE(goal.terminated);
  EXPECT_EQ(goal.info.at("goal_reached"), 1.0);
  EXPECT_NEAR(goal.reward, 500.0 - 0.05 * goal.info.at("next_distance"), 1e-9);
  EXPECT_EQ(env->WarningCount(), 0) << env->WarningSummary();
}

TEST(NarrowPassageTest, WallContactCostsItsPenaltyPerStepOnlyWhileTouching) {
  // The default penalty (2) and a configured one.
  for (const double penalty : {2.0, 0.25}) {
    auto env = MakePassage({{"wall_contact_penalty", penalty}});
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
    env->Reset(4, obs);
    const PassageCourse& course = env->course();
    const int sphere = env->world().NumBars();
    const double floor_y = course.room_center[1] - course.room_half_size_m;

    // The sphere pressed 2 mm into the room's south wall: − penalty.
    env->world().PlaceRobot(
        sphere, {course.room_center[0], floor_y + C::kSphereRadius - 0.002, C::kSphereRadius});
    const StepResult hit = env->Step(idle, obs);
    EXPECT_EQ(hit.info.at("wall_contact"), 1.0);
    EXPECT_NEAR(hit.reward, -0.05 * hit.info.at("next_distance") - penalty, 1e-9);
    EXPECT_EQ(obs[static_cast<size_t>(env->world().ObsDim()) + 8], 1.0f);

    // 1 m from it: no penalty.
    env->world().PlaceRobot(sphere, {course.room_center[0], floor_y + 1.0, C::kSphereRadius});
    const StepResult away = env->Step(idle, obs);
    EXPECT_EQ(away.info.at("wall_contact"), 0.0);
    EXPECT_NEAR(away.reward, -0.05 * away.info.at("next_distance"), 1e-9);
  }
}

TEST(NarrowPassageTest, ARobotOverAWallTerminates) {
  auto env = MakePassage();
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
  env->Reset(5, obs);
  const PassageCourse& course = env->course();
  const int sphere = env->world().NumBars();
  // Beside the middle of the first passage: inside the corridor, on its wall, beyond it.
  const Point2 a = course.centerline[1], b = course.centerline[2];
  const double length = std::hypot(b[0] - a[0], b[1] - a[1]);
  const Point2 normal = {-(b[1] - a[1]) / length, (b[0] - a[0]) / length};
  const auto beside = [&](double offset, double z) {
    env->world().PlaceRobot(sphere, {(a[0] + b[0]) / 2.0 + offset * normal[0],
                                     (a[1] + b[1]) / 2.0 + offset * normal[1], z});
  };
  beside(0.0, C::kSphereRadius);
  EXPECT_FALSE(env->Step(idle, obs).terminated);
  beside(course.width_m / 2.0 + 0.1, 1.0 + C::kSphereRadius + 0.01);  // on top of the wall
  EXPECT_FALSE(env->Step(idle, obs).terminated);
  beside(course.width_m / 2.0 + 0.5, C::kSphereRadius);  // over it
  EXPECT_TRUE(env->Step(idle, obs).terminated);
  EXPECT_TRUE(env->OnCourse(course.goal[0], course.goal[1]));
  EXPECT_TRUE(env->OnCourse(course.room_center[0], course.room_center[1]));
  EXPECT_FALSE(env->OnCourse(course.room_center[0], course.room_center[1] - 100.0));
}

TEST(NarrowPassageTest, RestoringAStateBringsItsCheckpointProgress) {
  auto saved = MakePassage();
  auto restored = MakePassage();
  std::vector<float> obs(static_cast<size_t>(saved->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(saved->Spec().action_space.Dim()), 0.0f);
  saved->Reset(2, obs);
  restored->Reset(3, obs);
  const Point2 first = saved->course().checkpoints[0];
  saved->world().PlaceRobot(saved->world().NumBars(), {first[0], first[1], C::kSphereRadius});
  ASSERT_EQ(saved->Step(idle, obs).info.at("checkpoints_passed"), 1.0);

  restored->RestoreState(*saved->SaveState());
  EXPECT_EQ(restored->checkpoints_passed(), 1);
  EXPECT_TRUE(SameFuture(*saved, *restored, 40));
  // A state of another course (more passages) does not fit.
  auto longer = MakePassage({{"num_passages", 6.0}});
  EXPECT_THROW(longer->RestoreState(*saved->SaveState()), IoError);
}

TEST(NarrowPassageTest, BadParametersNameTheirKey) {
  const auto make = [](const TaskParams& overrides) {
    return [overrides] { MakePassage(overrides); };
  };
  EXPECT_THAT(ConfigErrorOf(make({{"num_passages", 0}})), HasSubstr("environment.num_passages"));
  EXPECT_THAT(ConfigErrorOf(make({{"num_passages", 1.5}})), HasSubstr("environment.num_passages"));
  EXPECT_THAT(ConfigErrorOf(make({{"passage_width", 0.0}})),
              HasSubstr("environment.passage_width"));
  EXPECT_THAT(ConfigErrorOf(make({{"passage_difficulty", 1.5}})),
              HasSubstr("environment.passage_difficulty"));
  EXPECT_THAT(ConfigErrorOf(make({{"passage_difficulty", -0.1}})),
              HasSubstr("environment.passage_difficulty"));
  EXPECT_THAT(ConfigErrorOf(make({{"wall_contact_penalty", -1.0}})),
              HasSubstr("environment.wall_contact_penalty"));
  // 1 m × (1 − 0.6) = 0.4 m is too narrow for the robots.
  EXPECT_THAT(ConfigErrorOf(make({{"passage_width", 1.0}, {"passage_difficulty", 1.0}})),
              HasSubstr("environment.passage_width"));
  EXPECT_EQ(ConfigErrorOf(make({{"passage_width", 1.0}, {"passage_difficulty", 0.5}})), "");
}

TEST(NarrowPassageTest, RegisteredUnderItsNameAndAlias) {
  config::EnvironmentConfig cfg;
  cfg.name = "narrow_passage_env";
  auto env = MakeEnv(cfg);
  EXPECT_EQ(env->Spec().name, "narrow_passage");
  EXPECT_EQ(env->Spec().max_episode_steps, NarrowPassage::kDefaultMaxEpisodeSteps);
  EXPECT_EQ(env->Spec().observation_space.Dim(), 4 * 29 + 2 * 14 + 9 + 6 * 3);
  cfg.params.kind = config::Tree::Kind::kMap;
  cfg.params.entries.emplace_back("passage_difficulty", config::Tree::Scalar("2"));
  EXPECT_THROW(MakeEnv(cfg), ConfigError);
}

}  // namespace
}  // namespace rlpipe::envs::robots
