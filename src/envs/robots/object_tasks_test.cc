// Reward, termination and scenery of the object and terrain tasks on constructed states.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <numbers>
#include <set>
#include <vector>

#include "config/tree.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/robots/object_displacement.h"
#include "envs/robots/object_manipulation.h"
#include "envs/robots/task_test_util.h"
#include "envs/robots/terrain_traversal.h"

namespace rlpipe::envs::robots {
namespace {

using ::testing::HasSubstr;
using C = RobotConstants;

constexpr double kDt = 1.0 / 60.0;

/// Registry parameters of `task`: defaults plus `overrides`.
TaskParams Params(const std::string& task, const TaskParams& overrides = {}) {
  TaskParams params;
  for (const auto& spec : FindTask(task)->info.params) params[spec.name] = spec.default_value;
  for (const auto& [key, value] : overrides) params[key] = value;
  return params;
}

/// Zero action of `env`, and an observation buffer.
std::vector<float> Idle(const Env& env) {
  return std::vector<float>(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
}
std::vector<float> ObsBuffer(const Env& env) {
  return std::vector<float>(static_cast<size_t>(env.Spec().observation_space.Dim()));
}

/// Lays every robot flat on a floor of height `floor_z` in a row along x from `x0`, 1 m apart, at
/// y = `y` (bar robots with both arms horizontal).
void LineUp(MultiRobotWorld& world, double x0, double y, double floor_z = 0.0) {
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const bool bar = robot < world.NumBars();
    if (bar) {
      world.SetArmOrientation(robot, 0, {1, 0, 0, 0});
      world.SetArmOrientation(robot, 1, {1, 0, 0, 0});
    }
    world.PlaceRobot(
        robot, {x0 + 1.0 * robot, y, floor_z + (bar ? C::kBallRadius : C::kSphereRadius) + 0.001});
  }
}

/// Moves every robot by `dx` along x (orientation kept, at rest).
void ShiftRobots(MultiRobotWorld& world, double dx) {
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const mjtNum* p = world.RobotPosition(robot);
    world.PlaceRobot(robot, {p[0] + dx, p[1], p[2]}, {p[3], p[4], p[5], p[6]});
  }
}

/// Puts a free body at (x, y, z) with its current orientation and linear velocity `vel`.
void PlaceFreeBody(MultiRobotWorld& world, const object_tasks::FreeBody& body, double x, double y,
                   double z, const std::array<double, 3>& vel = {0, 0, 0}) {
  mjData& d = world.mutable_data();
  d.qpos[body.qpos] = x;
  d.qpos[body.qpos + 1] = y;
  d.qpos[body.qpos + 2] = z;
  for (int a = 0; a < 6; ++a) d.qvel[body.dof + a] = a < 3 ? vel[static_cast<size_t>(a)] : 0.0;
  mj_forward(&world.model(), &d);
}

/// The ConfigError message of building `task` with `overrides` ("" when none was thrown).
std::string ConfigErrorOf(const std::string& task, const TaskParams& overrides) {
  try {
    FindTask(task)->factory(Params(task, overrides), 100);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

using rlpipe::envs::test_util::SameFuture;

// ----------------------------------------------------------------------------- displacement

std::unique_ptr<ObjectDisplacement> MakeDisplacement(int max_episode_steps = 1000) {
  const TaskParams params = Params("object_displacement");
  return std::make_unique<ObjectDisplacement>(ReadWorldParams(params), ObjectDisplacementParams{},
                                              max_episode_steps);
}

TEST(ObjectDisplacementTest, RewardIsProgressAlongTheDirectionPlusATenthOfTheVelocity) {
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(3, obs);
  LineUp(env->world(), -3.0, 0.0);
  const std::array<double, 2> dir = env->DirectionVector();
  const mjtNum* start = env->world().data().qpos + env->object().qpos;
  const double x0 = start[0], y0 = start[1], z0 = start[2];

  // Moved 0.5 m along the direction and sliding along it at 1 m/s: the push point moved with it.
  PlaceFreeBody(env->world(), env->object(), x0 + 0.5 * dir[0], y0 + 0.5 * dir[1], z0,
                {dir[0], dir[1], 0.0});
  const double a0 = env->ApproachDistance();
  const StepResult first = env->Step(idle, obs);
  const double d1 = first.info.at("displacement");
  const double a1 = first.info.at("approach_distance");
  EXPECT_GT(d1, 0.5);
  EXPECT_LT(d1, 0.5 + kDt + 1e-3);
  EXPECT_GT(first.info.at("velocity_along"), 0.5);
  EXPECT_DOUBLE_EQ(first.reward, d1 + 0.1 * first.info.at("velocity_along") + 0.5 * 2 * (a0 - a1));
  EXPECT_FALSE(first.terminated || first.truncated);

  // The next step pays only this step's progress; moving against the direction costs.
  PlaceFreeBody(env->world(), env->object(), x0 - 0.2 * dir[0], y0 - 0.2 * dir[1], z0);
  const double a1_moved = env->ApproachDistance();
  const StepResult second = env->Step(idle, obs);
  const double d2 = second.info.at("displacement");
  EXPECT_NEAR(d2, -0.2, 1e-3);
  EXPECT_DOUBLE_EQ(second.reward, (d2 - d1) + 0.1 * second.info.at("velocity_along") +
                                      0.5 * 2 * (a1_moved - second.info.at("approach_distance")));
  EXPECT_DOUBLE_EQ(second.info.at("best_displacement"), d1);

  // Task block: direction, displacement, best displacement, shape one-hot.
  const size_t task = static_cast<size_t>(env->world().ObsDim());
  EXPECT_FLOAT_EQ(obs[task + 13], static_cast<float>(dir[0]));
  EXPECT_FLOAT_EQ(obs[task + 14], static_cast<float>(dir[1]));
  EXPECT_FLOAT_EQ(obs[task + 15], static_cast<float>(d2));
  EXPECT_FLOAT_EQ(obs[task + 16], static_cast<float>(d1));
  EXPECT_FLOAT_EQ(obs[task + 17 + static_cast<size_t>(env->shape())], 1.0f);
}

TEST(ObjectDisplacementTest, EverySphereIsPaidForLoweringItsApproachPotential) {
  // The push point lies 0.25 m behind the object along the direction; robots 10 m beyond it.
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  auto action = Idle(*env);
  env->Reset(4, obs);
  const std::array<double, 2> dir = env->DirectionVector();
  const mjtNum* object = env->world().data().qpos + env->object().qpos;
  const std::array<double, 2> c = {object[0], object[1]};
  const std::array<double, 2> push = env->PushPoint();
  EXPECT_NEAR(push[0], c[0] - 0.25 * dir[0], 1e-12);
  EXPECT_NEAR(push[1], c[1] - 0.25 * dir[1], 1e-12);
  LineUp(env->world(), push[0] + 10.0, push[1]);

  // Sphere 0 put (not moved: nothing is paid) on the backward axis 2.25 m from the centre, where
  // its approach potential is its distance.
  const int sphere = env->world().NumBars();
  env->world().PlaceRobot(sphere, {c[0] - 2.25 * dir[0], c[1] - 2.25 * dir[1], C::kSphereRadius});
  const mjtNum* other = env->world().RobotPosition(sphere + 1);
  const double other_potential = env->ApproachPotential(other[0], other[1]);
  StepResult r = env->Step(action, obs);
  EXPECT_NEAR(r.info.at("approach_distance"), (2.25 + other_potential) / 2.0, 1e-3);
  EXPECT_NEAR(r.reward, 0.0, 1e-6);

  // Driven towards the object it is paid half of each step's approach (the mean potential over
  // the two spheres falls by half of it).
  const size_t drive = static_cast<size_t>(6 * env->world().NumBars());
  action[drive] = static_cast<float>(dir[0]);
  action[drive + 1] = static_cast<float>(dir[1]);
  double paid = 0.0;
  for (int step = 0; step < 30; ++step) {
    const double before = r.info.at("approach_distance");
    r = env->Step(action, obs);
    EXPECT_NEAR(r.info.at("displacement"), 0.0, 1e-6);
    EXPECT_NEAR(r.reward, 0.5 * 2 * (before - r.info.at("approach_distance")), 1e-12);
    paid += r.reward;
  }
  const mjtNum* p = env->world().RobotPosition(sphere);
  const double approached = 2.25 - std::hypot(p[0] - c[0], p[1] - c[1]);
  EXPECT_GT(approached, 0.5);
  EXPECT_NEAR(paid, 0.5 * approached, 1e-3);

  // Before the sphere guides: the push point and the spheres' mean approach potential.
  const size_t tail = static_cast<size_t>(env->Spec().observation_space.Dim()) - 3 -
                      object_tasks::kSphereGuideValues * 2;
  EXPECT_FLOAT_EQ(obs[tail], static_cast<float>(push[0]));
  EXPECT_FLOAT_EQ(obs[tail + 1], static_cast<float>(push[1]));
  EXPECT_FLOAT_EQ(obs[tail + 2], static_cast<float>(r.info.at("approach_distance")));
}

TEST(ObjectDisplacementTest, EverySphereObservesTheWayToTheObjectsBack) {
  // The task block ends with one guide per sphere: the unit vector that lowers its approach
  // potential fastest, and the potential. Behind the object: straight at it, along the direction.
  // Beside it at r: inwards and backwards, -(radial + 0.5 / r x direction) normalised.
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  for (uint64_t seed : {1, 2, 3}) {
    env->Reset(seed, obs);
    const std::array<double, 2> d = env->DirectionVector();
    const mjtNum* object = env->world().data().qpos + env->object().qpos;
    const double cx = object[0], cy = object[1];
    const int sphere = env->world().NumBars();
    env->world().PlaceRobot(sphere, {cx - 2.25 * d[0], cy - 2.25 * d[1], C::kSphereRadius});
    env->world().PlaceRobot(sphere + 1, {cx - 2.0 * d[1], cy + 2.0 * d[0], C::kSphereRadius});
    env->Observe(obs);

    const size_t guides = static_cast<size_t>(env->Spec().observation_space.Dim()) -
                          object_tasks::kSphereGuideValues * 2;
    EXPECT_NEAR(obs[guides], d[0], 1e-5);
    EXPECT_NEAR(obs[guides + 1], d[1], 1e-5);
    EXPECT_NEAR(obs[guides + 2], 2.25, 1e-5);

    const double rx = -d[1], ry = d[0];  // the radial unit vector of sphere 1
    const double gx = -(rx + 0.25 * d[0]), gy = -(ry + 0.25 * d[1]);
    const double n = std::hypot(gx, gy);
    EXPECT_NEAR(obs[guides + 3], gx / n, 1e-5);
    EXPECT_NEAR(obs[guides + 4], gy / n, 1e-5);
    EXPECT_NEAR(obs[guides + 5], 2.0 + 0.5 * std::numbers::pi / 2, 1e-5);
  }
}

TEST(ObjectDisplacementTest, TheApproachPotentialPaysGoingAroundTheObject) {
  // 1 m from the centre: behind 1, beside 1 + 0.5 × π/2 (either side), in front 1 + 0.5 × π. A
  // sphere that meets the object's front is paid 0.25 × π/2 per side-quarter it goes around.
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
    env->Reset(seed, obs);
    const std::array<double, 2> d = env->DirectionVector();
    const mjtNum* object = env->world().data().qpos + env->object().qpos;
    const double cx = object[0], cy = object[1];
    const double pi = std::numbers::pi;
    EXPECT_NEAR(env->ApproachPotential(cx - d[0], cy - d[1]), 1.0, 1e-12);
    EXPECT_NEAR(env->ApproachPotential(cx - d[1], cy + d[0]), 1.0 + 0.5 * pi / 2, 1e-12);
    EXPECT_NEAR(env->ApproachPotential(cx + d[1], cy - d[0]), 1.0 + 0.5 * pi / 2, 1e-12);
    EXPECT_NEAR(env->ApproachPotential(cx + d[0], cy + d[1]), 1.0 + 0.5 * pi, 1e-12);
    // Going around at 1 m lowers it all the way: every 10° towards the back pays.
    double last = env->ApproachPotential(cx + d[0], cy + d[1]);
    for (int step = 1; step <= 18; ++step) {
      const double a = step * pi / 18;  // angle from the front, turning through the left side
      const double x = cx + std::cos(a) * d[0] - std::sin(a) * d[1];
      const double y = cy + std::cos(a) * d[1] + std::sin(a) * d[0];
      const double now = env->ApproachPotential(x, y);
      EXPECT_NEAR(last - now, 0.5 * pi / 18, 1e-9) << step;
      last = now;
    }
  }
}

TEST(ObjectDisplacementTest, NoSphereReachesThePushPointWithoutTouchingTheObject) {
  // Every shape, in several headings: a sphere brought up from 1.5 m behind the object's centre
  // along the direction touches the object while it is still farther from the centre than the
  // push point (0.25 m), so the approach term's optimum is a sphere pressing on the object.
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  std::map<ObjectShape, int> headings;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    env->Reset(seed, obs);
    if (headings[env->shape()] >= 3) continue;
    ++headings[env->shape()];
    MultiRobotWorld& world = env->world();
    const mjModel& model = world.model();
    const int object_body = mj_name2id(&model, mjOBJ_BODY, "object");
    const mjtNum* centre = world.data().qpos + env->object().qpos;
    const std::array<double, 2> c = {centre[0], centre[1]};
    const std::array<double, 2> dir = env->DirectionVector();
    LineUp(world, c[0] + 10.0, c[1] + 10.0);
    const int sphere = world.NumBars();
    double contact_distance = -1.0;
    for (double behind = 1.5; behind > 0.0 && contact_distance < 0.0; behind -= 0.005) {
      world.PlaceRobot(sphere,
                       {c[0] - behind * dir[0], c[1] - behind * dir[1], C::kSphereRadius + 0.001});
      mj_forward(&model, &world.mutable_data());
      const mjData& d = world.data();
      for (int k = 0; k < d.ncon; ++k) {
        const int b1 = model.geom_bodyid[d.contact[k].geom1];
        const int b2 = model.geom_bodyid[d.contact[k].geom2];
        if ((b1 == object_body && world.IsRobotGeom(d.contact[k].geom2)) ||
            (b2 == object_body && world.IsRobotGeom(d.contact[k].geom1))) {
          contact_distance = behind;
        }
      }
    }
    const int shape = static_cast<int>(env->shape());
    EXPECT_GT(contact_distance, ObjectDisplacement::kPushPointOffset + 0.02) << "shape " << shape;
  }
  EXPECT_DOUBLE_EQ(ObjectDisplacement::kPushPointOffset, 0.25);
  EXPECT_EQ(headings.size(), static_cast<size_t>(kNumObjectShapes));
}

TEST(ObjectDisplacementTest, TheLastStepPaysTenTimesTheBestDisplacement) {
  auto env = MakeDisplacement(/*max_episode_steps=*/3);
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(5, obs);
  LineUp(env->world(), -3.0, 0.0);
  const std::array<double, 2> dir = env->DirectionVector();
  const mjtNum* start = env->world().data().qpos + env->object().qpos;
  const double x0 = start[0], y0 = start[1], z0 = start[2];
  PlaceFreeBody(env->world(), env->object(), x0 + 0.8 * dir[0], y0 + 0.8 * dir[1], z0);
  const StepResult first = env->Step(idle, obs);
  const double best = first.info.at("displacement");
  EXPECT_NEAR(best, 0.8, 1e-3);
  PlaceFreeBody(env->world(), env->object(), x0, y0, z0);
  const StepResult second = env->Step(idle, obs);
  const StepResult last = env->Step(idle, obs);
  EXPECT_FALSE(second.truncated);
  EXPECT_TRUE(last.truncated);
  EXPECT_FALSE(last.terminated);
  EXPECT_DOUBLE_EQ(last.info.at("best_displacement"), best);
  EXPECT_DOUBLE_EQ(
      last.reward,
      (last.info.at("displacement") - second.info.at("displacement")) +
          0.1 * last.info.at("velocity_along") +
          0.5 * 2 * (second.info.at("approach_distance") - last.info.at("approach_distance")) +
          10.0 * best);
}

TEST(ObjectDisplacementTest, AllEightShapesAppearRestStillAndArePlacedWithinRange) {
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  std::set<ObjectShape> seen;
  std::set<Direction> directions;
  for (uint64_t seed = 0; seed < 200 && seen.size() < kNumObjectShapes; ++seed) {
    env->Reset(seed, obs);
    directions.insert(env->direction());
    // 2..15 m beyond the spawn disc (radius 3) and the object's 0.5 m clearance.
    const mjtNum* p = env->world().data().qpos + env->object().qpos;
    const double distance = std::hypot(p[0], p[1]);
    EXPECT_GE(distance, 3.0 + 0.5 + 2.0 - 1e-9);
    EXPECT_LE(distance, 3.0 + 0.5 + 15.0 + 1e-9);
    if (!seen.insert(env->shape()).second) continue;
    // A new shape: untouched, it settles where it was placed.
    StepResult r;
    for (int step = 0; step < 60; ++step) r = env->Step(idle, obs);
    EXPECT_NEAR(r.info.at("displacement"), 0.0, 0.02) << static_cast<int>(env->shape());
    EXPECT_EQ(r.info.at("shape"), static_cast<double>(env->shape()));
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kNumObjectShapes));
  EXPECT_EQ(directions.size(), 4u);
  EXPECT_EQ(env->WarningCount(), 0) << env->WarningSummary();
}

TEST(ObjectDisplacementTest, RestoringAStateOfAnotherShapeRebuildsThatShapesWorld) {
  // The saved env mid-episode; the restored one in an episode of another shape.
  auto saved = MakeDisplacement();
  auto restored = MakeDisplacement();
  auto obs = ObsBuffer(*saved);
  saved->Reset(1, obs);
  uint64_t other_seed = 2;
  for (restored->Reset(other_seed, obs); restored->shape() == saved->shape();) {
    restored->Reset(++other_seed, obs);
  }
  for (int t = 0; t < 5; ++t) saved->Step(Idle(*saved), obs);

  restored->RestoreState(*saved->SaveState());
  EXPECT_EQ(restored->shape(), saved->shape());
  EXPECT_EQ(restored->direction(), saved->direction());
  EXPECT_EQ(restored->world().model().ngeom, saved->world().model().ngeom);
  EXPECT_EQ(restored->Displacement(), saved->Displacement());
  EXPECT_TRUE(SameFuture(*saved, *restored, 40));
  EXPECT_EQ(restored->WarningCount(), 0) << restored->WarningSummary();
}

TEST(ObjectDisplacementTest, ARobotLeavingTheArenaTerminatesWithTheBonus) {
  auto env = MakeDisplacement();
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(1, obs);
  LineUp(env->world(), -3.0, 0.0);
  env->world().PlaceRobot(env->world().NumBars(),
                          {0.0, env->ArenaRadius() - 0.5, C::kSphereRadius});
  EXPECT_FALSE(env->Step(idle, obs).terminated);
  env->world().PlaceRobot(env->world().NumBars(),
                          {0.0, env->ArenaRadius() + 0.5, C::kSphereRadius});
  const double approach_before = env->ApproachDistance();
  const StepResult r = env->Step(idle, obs);
  EXPECT_TRUE(r.terminated);
  EXPECT_DOUBLE_EQ(r.reward, (r.info.at("displacement") - 0.0) + 0.1 * r.info.at("velocity_along") +
                                 0.5 * 2 * (approach_before - r.info.at("approach_distance")) +
                                 10.0 * r.info.at("best_displacement"));
}

TEST(ObjectDisplacementTest, AConfiguredHorizonReachesTheTask) {
  config::EnvironmentConfig cfg;
  cfg.name = "object_displacement_env";
  cfg.max_episode_steps = 4;
  auto env = MakeEnv(cfg);
  EXPECT_EQ(env->Spec().name, "object_displacement");
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(2, obs);
  StepResult r;
  double before = 0.0;
  double approach_before = 0.0;
  for (int step = 1; step <= 4; ++step) {
    if (step > 1) {
      before = r.info.at("displacement");
      approach_before = r.info.at("approach_distance");
    }
    r = env->Step(idle, obs);
  }
  EXPECT_TRUE(r.truncated);
  EXPECT_DOUBLE_EQ(r.reward, (r.info.at("displacement") - before) +
                                 0.1 * r.info.at("velocity_along") +
                                 0.5 * 2 * (approach_before - r.info.at("approach_distance")) +
                                 10.0 * r.info.at("best_displacement"));
}

// ----------------------------------------------------------------------------- manipulation

std::unique_ptr<ObjectManipulation> MakeManipulation(int num_objects = 3) {
  const TaskParams params = Params("object_manipulation");
  return std::make_unique<ObjectManipulation>(
      ReadWorldParams(params), ObjectManipulationParams{.num_objects = num_objects}, 2000);
}

/// Puts object `k` at rest at `fraction` of the way from its position to its target centre.
void MoveTowardsTarget(ObjectManipulation& env, int k, double fraction) {
  const mjtNum* p = env.world().data().qpos + env.object(k).qpos;
  const std::array<double, 2>& t = env.target(k);
  PlaceFreeBody(env.world(), env.object(k), p[0] + fraction * (t[0] - p[0]),
                p[1] + fraction * (t[1] - p[1]), ObjectManipulation::kObjectHalfSize + 0.001);
}

TEST(ObjectManipulationTest, ProgressTowardsTheTargetPaysFivePerMetre) {
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(4, obs);
  LineUp(env->world(), -3.0, 0.0);
  const double before = env->TargetDistance(0);
  ASSERT_GT(before, ObjectManipulation::kTargetStartDistance - 1e-9);
  MoveTowardsTarget(*env, 0, 0.5 / before);
  const StepResult r = env->Step(idle, obs);
  EXPECT_NEAR(r.info.at("progress"), 0.5, 2e-3);
  EXPECT_DOUBLE_EQ(r.reward, 5.0 * r.info.at("progress"));
  EXPECT_EQ(r.info.at("objects_inside"), 0.0);
  EXPECT_FALSE(r.terminated || r.truncated);

  // Object 0's block: target centre, offset, distance, inside flag, mass.
  const size_t block = static_cast<size_t>(env->world().ObsDim());
  EXPECT_FLOAT_EQ(obs[block + 10], static_cast<float>(env->target(0)[0]));
  EXPECT_FLOAT_EQ(obs[block + 11], static_cast<float>(env->target(0)[1]));
  EXPECT_FLOAT_EQ(obs[block + 14], static_cast<float>(env->TargetDistance(0)));
  EXPECT_EQ(obs[block + 15], 0.0f);
  EXPECT_FLOAT_EQ(obs[block + 16], static_cast<float>(env->ObjectMass(0)));
}

TEST(ObjectManipulationTest, EnteringTheTargetPaysFiftyExactlyOnce) {
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(6, obs);
  LineUp(env->world(), -3.0, 0.0);
  MoveTowardsTarget(*env, 1, 1.0);
  const StepResult in = env->Step(idle, obs);
  EXPECT_DOUBLE_EQ(in.reward, 5.0 * in.info.at("progress") + 50.0);
  EXPECT_EQ(in.info.at("objects_inside"), 1.0);
  EXPECT_EQ(in.info.at("objects_entered"), 1.0);
  EXPECT_FALSE(in.terminated);

  // Staying inside pays nothing more.
  const StepResult stay = env->Step(idle, obs);
  EXPECT_DOUBLE_EQ(stay.reward, 5.0 * stay.info.at("progress"));
  EXPECT_LT(std::abs(stay.reward), 0.1);

  // Out and back in again pays no second bonus.
  const std::array<double, 2>& t = env->target(1);
  PlaceFreeBody(env->world(), env->object(1), t[0] + 1.5, t[1], 0.301);
  const StepResult out = env->Step(idle, obs);
  EXPECT_EQ(out.info.at("objects_inside"), 0.0);
  MoveTowardsTarget(*env, 1, 1.0);
  const StepResult again = env->Step(idle, obs);
  EXPECT_EQ(again.info.at("objects_inside"), 1.0);
  EXPECT_DOUBLE_EQ(again.reward, 5.0 * again.info.at("progress"));
  EXPECT_GT(again.reward, 5.0 * 1.4);
}

TEST(ObjectManipulationTest, AllObjectsInsidePayTwoHundredAndEndTheEpisode) {
  auto env = MakeManipulation(/*num_objects=*/2);
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(8, obs);
  LineUp(env->world(), -3.0, 0.0);
  MoveTowardsTarget(*env, 0, 1.0);
  const StepResult one = env->Step(idle, obs);
  EXPECT_FALSE(one.terminated);
  EXPECT_EQ(one.info.at("success"), 0.0);
  MoveTowardsTarget(*env, 1, 1.0);
  const StepResult both = env->Step(idle, obs);
  EXPECT_TRUE(both.terminated);
  EXPECT_FALSE(both.truncated);
  EXPECT_EQ(both.info.at("success"), 1.0);
  EXPECT_DOUBLE_EQ(both.reward, 5.0 * both.info.at("progress") + 50.0 + 200.0);
}

TEST(ObjectManipulationTest, MassesAreRandomInTwoToEightKilogramsWithScaledInertia) {
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  std::set<double> masses;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    env->Reset(seed, obs);
    for (int k = 0; k < env->NumObjects(); ++k) {
      const double mass = env->ObjectMass(k);
      EXPECT_GE(mass, 2.0);
      EXPECT_LE(mass, 8.0);
      masses.insert(mass);
      // A box of side 0.6 m: I = m (0.6² + 0.6²) / 12 about each axis.
      if (k % 2 == 0) {
        EXPECT_NEAR(env->world().model().body_inertia[3 * env->object(k).body], mass * 0.72 / 12.0,
                    1e-9);
      }
    }
  }
  EXPECT_EQ(masses.size(), 12u);
  // Targets lie inside the arena, their objects start outside them.
  for (int k = 0; k < env->NumObjects(); ++k) {
    EXPECT_LE(std::abs(env->target(k)[0]), 7.5 - 1.0);
    EXPECT_LE(std::abs(env->target(k)[1]), 7.5 - 1.0);
    EXPECT_GE(env->TargetDistance(k), 2.5);
  }
}

TEST(ObjectManipulationTest, RestoringAStateBringsItsMassesTargetsAndEnteredFlags) {
  // An object entered its target in the saved episode; the restored env is in another episode.
  auto saved = MakeManipulation();
  auto restored = MakeManipulation();
  auto obs = ObsBuffer(*saved);
  saved->Reset(0, obs);
  restored->Reset(1, obs);
  MoveTowardsTarget(*saved, 0, 1.0);
  const StepResult entered = saved->Step(Idle(*saved), obs);
  ASSERT_EQ(entered.info.at("objects_entered"), 1.0);

  restored->RestoreState(*saved->SaveState());
  const mjModel& a = saved->world().model();
  const mjModel& b = restored->world().model();
  for (int k = 0; k < saved->NumObjects(); ++k) {
    const int body = saved->object(k).body;
    EXPECT_EQ(restored->ObjectMass(k), saved->ObjectMass(k));
    EXPECT_EQ(std::memcmp(b.body_inertia + 3 * body, a.body_inertia + 3 * body, 3 * sizeof(mjtNum)),
              0);
    EXPECT_EQ(restored->target(k), saved->target(k));
  }
  EXPECT_EQ(std::memcmp(b.body_subtreemass, a.body_subtreemass, a.nbody * sizeof(mjtNum)), 0);
  // The entered bonus is not paid again, and the future is the same.
  const StepResult next = restored->Step(Idle(*restored), obs);
  EXPECT_EQ(next.info.at("objects_entered"), 1.0);
  saved->Step(Idle(*saved), obs);
  EXPECT_TRUE(SameFuture(*saved, *restored, 40));
}

TEST(ObjectManipulationTest, TheTightestAcceptedArenaAlwaysPlacesEverything) {
  // 6 objects in an 8 m arena around a 1 m spawn disc is just inside the capacity check.
  auto env =
      FindTask("object_manipulation")
          ->factory(Params("object_manipulation",
                           {{"num_objects", 6.0}, {"spawn_radius", 1.0}, {"arena_size", 8.0}}),
                    100);
  auto obs = ObsBuffer(*env);
  for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_NO_THROW(env->Reset(seed, obs)) << seed;
}

TEST(ObjectManipulationTest, AnObjectLeavingTheArenaTerminates) {
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(2, obs);
  PlaceFreeBody(env->world(), env->object(2), 7.5 + 1.5, 0.0, 0.301);
  const StepResult r = env->Step(idle, obs);
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.info.at("left_arena"), 1.0);
  EXPECT_EQ(r.info.at("success"), 0.0);
}

TEST(ObjectManipulationTest, TheApproachPotentialLeadsToTheBackOfTheNearestObjectNotInside) {
  // 1 m from an object's centre: on the side away from its target 1, beside 1 + 0.5 × π/2, on the
  // target's side 1 + 0.5 × π; the smallest over the objects, so 1 m behind any object is 1.
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  const double pi = std::numbers::pi;
  for (uint64_t seed : {1, 2, 3}) {
    env->Reset(seed, obs);
    for (int k = 0; k < env->NumObjects(); ++k) {
      const mjtNum* c = env->world().data().qpos + env->object(k).qpos;
      const std::array<double, 2>& t = env->target(k);
      const double n = std::hypot(t[0] - c[0], t[1] - c[1]);
      EXPECT_NEAR(env->ApproachPotential(c[0] - (t[0] - c[0]) / n, c[1] - (t[1] - c[1]) / n), 1.0,
                  1e-12)
          << seed << " " << k;
    }
  }

  // Objects inside their targets do not count: only object 0 is left, then none (potential 0).
  env->Reset(5, obs);
  LineUp(env->world(), -3.0, 0.0);
  MoveTowardsTarget(*env, 1, 1.0);
  MoveTowardsTarget(*env, 2, 1.0);
  const mjtNum* c = env->world().data().qpos + env->object(0).qpos;
  const std::array<double, 2>& t = env->target(0);
  const double n = env->TargetDistance(0);
  const std::array<double, 2> d = {(t[0] - c[0]) / n, (t[1] - c[1]) / n};
  EXPECT_NEAR(env->ApproachPotential(c[0] - d[0], c[1] - d[1]), 1.0, 1e-12);
  EXPECT_NEAR(env->ApproachPotential(c[0] - d[1], c[1] + d[0]), 1.0 + 0.5 * pi / 2, 1e-12);
  EXPECT_NEAR(env->ApproachPotential(c[0] + d[1], c[1] - d[0]), 1.0 + 0.5 * pi / 2, 1e-12);
  EXPECT_NEAR(env->ApproachPotential(c[0] + d[0], c[1] + d[1]), 1.0 + 0.5 * pi, 1e-12);
  // Next to object 1 (inside its target) the potential is still object 0's.
  const mjtNum* c1 = env->world().data().qpos + env->object(1).qpos;
  EXPECT_GT(env->ApproachPotential(c1[0] + 0.5, c1[1]),
            std::hypot(c1[0] + 0.5 - c[0], c1[1] - c[1]) - 1e-9);
  // Sphere 0's guide (the task block's tail): straight at object 0 from behind it.
  const int sphere = env->world().NumBars();
  env->world().PlaceRobot(sphere, {c[0] - 1.5 * d[0], c[1] - 1.5 * d[1], C::kSphereRadius});
  env->Observe(obs);
  const size_t guides = static_cast<size_t>(env->Spec().observation_space.Dim()) -
                        object_tasks::kSphereGuideValues * env->world().NumSpheres();
  EXPECT_NEAR(obs[guides], d[0], 1e-4);
  EXPECT_NEAR(obs[guides + 1], d[1], 1e-4);
  EXPECT_NEAR(obs[guides + 2], 1.5, 1e-4);
  MoveTowardsTarget(*env, 0, 1.0);
  EXPECT_EQ(env->ApproachPotential(c[0] - d[0], c[1] - d[1]), 0.0);
  // With every object inside, the field is flat: no direction, potential 0.
  env->Observe(obs);
  EXPECT_EQ(obs[guides], 0.0f);
  EXPECT_EQ(obs[guides + 1], 0.0f);
  EXPECT_EQ(obs[guides + 2], 0.0f);
}

TEST(ObjectManipulationTest, EverySphereIsPaidForLoweringItsApproachPotential) {
  // Objects 1 and 2 inside their targets (their bonuses paid by a first step): sphere 0 put 2.25
  // m behind object 0 (away from its target), where its approach potential is its distance.
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  auto action = Idle(*env);
  env->Reset(4, obs);
  LineUp(env->world(), -3.0, 0.0);
  MoveTowardsTarget(*env, 1, 1.0);
  MoveTowardsTarget(*env, 2, 1.0);
  ASSERT_EQ(env->Step(action, obs).info.at("objects_entered"), 2.0);
  const mjtNum* object = env->world().data().qpos + env->object(0).qpos;
  const std::array<double, 2> c = {object[0], object[1]};
  const std::array<double, 2>& t = env->target(0);
  const double n = env->TargetDistance(0);
  const std::array<double, 2> dir = {(t[0] - c[0]) / n, (t[1] - c[1]) / n};
  const int sphere = env->world().NumBars();
  env->world().PlaceRobot(sphere, {c[0] - 2.25 * dir[0], c[1] - 2.25 * dir[1], C::kSphereRadius});
  const mjtNum* other = env->world().RobotPosition(sphere + 1);
  const double other_potential = env->ApproachPotential(other[0], other[1]);
  StepResult r = env->Step(action, obs);
  EXPECT_NEAR(r.info.at("approach_distance"), (2.25 + other_potential) / 2.0, 1e-3);
  EXPECT_NEAR(r.reward, 0.0, 1e-6);

  // Driven towards the object it is paid 0.5 per metre (the mean over the two spheres falls by
  // half of it); nothing is pushed yet, so that is the whole reward.
  const size_t drive = static_cast<size_t>(6 * env->world().NumBars());
  action[drive] = static_cast<float>(dir[0]);
  action[drive + 1] = static_cast<float>(dir[1]);
  double paid = 0.0;
  for (int step = 0; step < 20; ++step) {
    const double before = r.info.at("approach_distance");
    r = env->Step(action, obs);
    EXPECT_NEAR(r.info.at("progress"), 0.0, 1e-6);
    EXPECT_NEAR(r.reward,
                5.0 * r.info.at("progress") + 0.5 * 2 * (before - r.info.at("approach_distance")),
                1e-12);
    paid += r.reward;
  }
  const mjtNum* p = env->world().RobotPosition(sphere);
  const double approached = 2.25 - std::hypot(p[0] - c[0], p[1] - c[1]);
  EXPECT_GT(approached, 0.3);
  // (The drive fades per world axis, so the sphere drifts a little off the axis: its potential,
  // not its distance, is what was paid.)
  EXPECT_NEAR(paid, 0.5 * (2.25 - env->ApproachPotential(p[0], p[1])), 1e-3);
  EXPECT_NEAR(env->ApproachPotential(p[0], p[1]), 2.25 - approached, 0.02);
  EXPECT_NEAR(r.info.at("approach_distance"), env->ApproachDistance(), 1e-12);

  // Driving away costs as much.
  action[drive] = -action[drive];
  action[drive + 1] = -action[drive + 1];
  const double before = r.info.at("approach_distance");
  r = env->Step(action, obs);
  EXPECT_DOUBLE_EQ(
      r.reward, 5.0 * r.info.at("progress") + 0.5 * 2 * (before - r.info.at("approach_distance")));
}

/// Object `k` square to +x with every robot and the other objects out of the way, `pushers`
/// spheres 1 cm behind it pushing along +x at full command for 2 s: its displacement (m).
double ShoveAlongX(ObjectManipulation& env, int k, int pushers) {
  auto obs = ObsBuffer(env);
  auto action = Idle(env);
  MultiRobotWorld& world = env.world();
  LineUp(world, 20.0, 20.0);
  for (int o = 0; o < env.NumObjects(); ++o) {
    if (o != k) PlaceFreeBody(world, env.object(o), 20.0 + 2.0 * o, -20.0, 0.302);
  }
  const mjtNum* c = world.data().qpos + env.object(k).qpos;
  const double x0 = c[0], y0 = c[1];
  mjData& d = world.mutable_data();
  const mjtNum pos[3] = {x0, y0, 0.302};
  const mjtNum square[4] = {1.0, 0.0, 0.0, 0.0};
  object_tasks::SetFreeBodyPose(env.object(k), d, pos, square);
  for (int j = 0; j < pushers; ++j) {
    const double lane = (j - 0.5 * (pushers - 1)) * 0.36;
    world.PlaceRobot(world.NumBars() + j,
                     {x0 - 0.3 - C::kSphereRadius - 0.01, y0 + lane, C::kSphereRadius + 0.001});
    action[static_cast<size_t>(6 * world.NumBars() + 3 * j)] = 1.0f;
  }
  for (int step = 0; step < 120; ++step) env.Step(action, obs);
  return c[0] - x0;
}

TEST(ObjectManipulationTest, TwoSpheresSlideTheHeaviestObjectsOneSlidesLightOnes) {
  // The objects' friction (0.3) governs their contacts. Along an axis a sphere pushes with 20 N:
  // an 8 kg object's friction is 23.5 N, which two spheres (40 N) overcome and one does not; a
  // light one slides under one sphere. With the floor's friction 1 (78 N at 8 kg) two spheres
  // moved 6.5-8 kg objects by 9 mm in 2 s (bench/envs/object_manipulation_probe).
  auto env = MakeManipulation();
  auto obs = ObsBuffer(*env);
  const mjModel& m = env->world().model();
  for (int g = 0; g < m.ngeom; ++g) {
    if (m.geom_bodyid[g] != env->object(0).body) continue;
    EXPECT_EQ(m.geom_friction[3 * g], 0.3);
    EXPECT_EQ(m.geom_priority[g], 1);
  }
  int heavy = 0;
  int light = 0;
  for (uint64_t seed = 0; seed < 40 && (heavy < 2 || light < 1); ++seed) {
    for (int k = 0; k < env->NumObjects(); ++k) {
      env->Reset(seed, obs);
      const double mass = env->ObjectMass(k);
      if (mass >= 7.5 && heavy < 2) {
        ++heavy;
        EXPECT_GT(ShoveAlongX(*env, k, 2), 1.0) << seed << " " << k << " " << mass;
        env->Reset(seed, obs);
        EXPECT_LT(ShoveAlongX(*env, k, 1), 0.1) << seed << " " << k << " " << mass;
      } else if (mass <= 3.0 && light < 1) {
        ++light;
        EXPECT_GT(ShoveAlongX(*env, k, 1), 1.0) << seed << " " << k << " " << mass;
      }
    }
  }
  EXPECT_EQ(heavy, 2);
  EXPECT_EQ(light, 1);
}

// ----------------------------------------------------------------------------- terrain

std::unique_ptr<TerrainTraversal> MakeTerrain(const TerrainParams& terrain) {
  const TaskParams params = Params("terrain_traversal");
  return std::make_unique<TerrainTraversal>(ReadWorldParams(params), terrain, 2000);
}

TEST(TerrainTraversalTest, RewardIsTenTimesTheCentresForwardProgress) {
  auto env = MakeTerrain({});
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(1, obs);
  ShiftRobots(env->world(), 0.3);
  const StepResult r = env->Step(idle, obs);
  EXPECT_NEAR(r.info.at("progress"), 0.3, 0.03);
  EXPECT_DOUBLE_EQ(r.reward, 10.0 * r.info.at("progress"));
  const double x1 = env->Centre()[0];
  ShiftRobots(env->world(), -0.2);
  const StepResult back = env->Step(idle, obs);
  EXPECT_NEAR(back.reward, 10.0 * (env->Centre()[0] - x1), 1e-9);
  EXPECT_LT(back.reward, -1.5);
}

TEST(TerrainTraversalTest, AStuckGroupEndsAfterStuckStepsAndAProgressingOneDoesNot) {
  auto env = MakeTerrain({.stuck_steps = 20});
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  const double floor_z = TerrainTraversal::kPlatformHeight;
  // Robots lined up flat around the centre they spawned with (the stuck counter's reference).
  const auto line_up = [&env, floor_z] {
    const double first_x = env->Centre()[0] - 0.5 * (env->world().NumRobots() - 1);
    LineUp(env->world(), first_x, 0.0, floor_z);
  };

  // Lying still: ends exactly at step 20.
  env->Reset(2, obs);
  line_up();
  for (int step = 1; step <= 20; ++step) {
    const StepResult r = env->Step(idle, obs);
    ASSERT_EQ(r.terminated, step == 20) << step;
    EXPECT_EQ(r.info.at("stuck"), step == 20 ? 1.0 : 0.0);
  }

  // Shuffling back and forth is no progress either: ends 20 steps after the first advance.
  env->Reset(2, obs);
  line_up();
  for (int step = 1; step <= 21; ++step) {
    ShiftRobots(env->world(), step % 2 == 1 ? 0.3 : -0.3);
    const StepResult r = env->Step(idle, obs);
    ASSERT_EQ(r.terminated, step == 21) << step;
  }

  // Creeping forward 3 cm per step: never stuck.
  env->Reset(2, obs);
  line_up();
  for (int step = 1; step <= 40; ++step) {
    ShiftRobots(env->world(), 0.03);
    const StepResult r = env->Step(idle, obs);
    ASSERT_FALSE(r.terminated) << step;
    EXPECT_LE(env->stuck_count(), 1);
  }
}

TEST(TerrainTraversalTest, TheCourseIsDeterministicPerSeedAndDifficultyChangesIt) {
  auto a = MakeTerrain({});
  auto b = MakeTerrain({});
  auto hard = MakeTerrain({.difficulty = 0.9});
  auto obs = ObsBuffer(*a);
  a->Reset(4, obs);
  b->Reset(4, obs);
  hard->Reset(4, obs);
  EXPECT_EQ(a->CourseGeometry(), b->CourseGeometry());
  EXPECT_EQ(a->features(), b->features());
  EXPECT_NE(a->CourseGeometry(), hard->CourseGeometry());
  const std::vector<double> seed4 = a->CourseGeometry();
  a->Reset(5, obs);
  EXPECT_NE(a->CourseGeometry(), seed4);
  a->Reset(4, obs);
  EXPECT_EQ(a->CourseGeometry(), seed4);
  EXPECT_EQ(a->features().size(), 8u);  // 20 m of 2.5 m segments
}

TEST(TerrainTraversalTest, RestoringAStateBringsItsCourseAndStuckCount) {
  auto saved = MakeTerrain({});
  auto restored = MakeTerrain({});
  auto obs = ObsBuffer(*saved);
  saved->Reset(4, obs);
  restored->Reset(5, obs);
  ASSERT_NE(restored->CourseGeometry(), saved->CourseGeometry());
  for (int t = 0; t < 5; ++t) saved->Step(Idle(*saved), obs);

  restored->RestoreState(*saved->SaveState());
  EXPECT_EQ(restored->CourseGeometry(), saved->CourseGeometry());
  EXPECT_EQ(restored->features(), saved->features());
  EXPECT_EQ(restored->stuck_count(), saved->stuck_count());
  EXPECT_EQ(restored->TerrainHeight(6.0, 0.0), saved->TerrainHeight(6.0, 0.0));
  EXPECT_TRUE(SameFuture(*saved, *restored, 40));
}

TEST(TerrainTraversalTest, TheTerrainHasTheDrawnFeatureHeights) {
  // Probes see platforms and features at the heights the difficulty sets.
  for (double difficulty : {0.0, 1.0}) {
    auto env = MakeTerrain({.difficulty = difficulty});
    auto obs = ObsBuffer(*env);
    std::set<TerrainFeature> seen;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      env->Reset(seed, obs);
      EXPECT_NEAR(env->TerrainHeight(0.0, 0.0), 0.2, 1e-9);
      EXPECT_NEAR(env->TerrainHeight(env->FinishX() + 1.0, 0.0), 0.2, 1e-9);
      for (size_t s = 0; s < env->features().size(); ++s) {
        const double x0 = env->CourseStartX() + 2.5 * static_cast<double>(s);
        seen.insert(env->features()[s]);
        switch (env->features()[s]) {
          case TerrainFeature::kSlope:
            EXPECT_NEAR(env->TerrainHeight(x0 + 0.5, 0.0), (0.1 + 0.3 * difficulty) / 2.0, 1e-6);
            EXPECT_NEAR(env->TerrainHeight(x0 + 1.25, 0.0), 0.1 + 0.3 * difficulty, 1e-9);
            break;
          case TerrainFeature::kStairs:
            EXPECT_NEAR(env->TerrainHeight(x0 + 1.25, 1.0), 3 * (0.04 + 0.12 * difficulty), 1e-9);
            break;
          case TerrainFeature::kRoughBlocks: {
            const double h = env->TerrainHeight(x0 + 1.0, 0.3);
            EXPECT_GE(h, 0.02 - 1e-9);
            EXPECT_LE(h, 0.05 + 0.2 * difficulty + 1e-9);
            break;
          }
          case TerrainFeature::kGap:
            EXPECT_NEAR(env->TerrainHeight(x0 + 0.5, 0.0), 0.15 + 0.15 * difficulty, 1e-9);
            EXPECT_EQ(env->TerrainHeight(x0 + 1.0 + 0.1 + 0.3 * difficulty, 0.0), 0.0);
            break;
          case TerrainFeature::kPlatform:
            EXPECT_NEAR(env->TerrainHeight(x0 + 1.25, -2.0), 0.1 + 0.3 * difficulty, 1e-9);
            break;
        }
      }
    }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kNumTerrainFeatures));
  }
}

TEST(TerrainTraversalTest, ReachingTheFinishSucceedsAndLeavingTheCourseEnds) {
  auto env = MakeTerrain({});
  auto obs = ObsBuffer(*env);
  const auto idle = Idle(*env);
  env->Reset(3, obs);
  EXPECT_FALSE(env->Step(idle, obs).terminated);
  // Every robot on the finish platform, just past the line.
  for (int robot = 0; robot < env->world().NumRobots(); ++robot) {
    env->world().PlaceRobot(robot, {env->FinishX() + 1.0, -2.5 + 0.8 * robot, 0.2 + 0.2});
  }
  const StepResult finish = env->Step(idle, obs);
  EXPECT_TRUE(finish.terminated);
  EXPECT_EQ(finish.info.at("success"), 1.0);

  env->Reset(3, obs);
  env->world().PlaceRobot(0, {0.0, 4.0 + 2.5, C::kBallRadius});
  const StepResult off = env->Step(idle, obs);
  EXPECT_TRUE(off.terminated);
  EXPECT_EQ(off.info.at("off_course"), 1.0);
  EXPECT_EQ(off.info.at("success"), 0.0);
}

// ----------------------------------------------------------------------------- parameters

TEST(ObjectTasksTest, BadParametersNameTheirKey) {
  EXPECT_THAT(ConfigErrorOf("object_displacement", {{"max_object_distance", 1.0}}),
              HasSubstr("environment.max_object_distance"));
  EXPECT_THAT(ConfigErrorOf("object_manipulation", {{"num_objects", 0.0}}),
              HasSubstr("environment.num_objects"));
  EXPECT_THAT(ConfigErrorOf("object_manipulation", {{"num_objects", 2.5}}),
              HasSubstr("environment.num_objects"));
  EXPECT_THAT(ConfigErrorOf("object_manipulation", {{"arena_size", 10.0}}),
              HasSubstr("environment.arena_size"));
  EXPECT_THAT(ConfigErrorOf("terrain_traversal", {{"terrain_difficulty", 1.5}}),
              HasSubstr("environment.terrain_difficulty"));
  EXPECT_THAT(ConfigErrorOf("terrain_traversal", {{"target_distance", 1.0}}),
              HasSubstr("environment.target_distance"));
  EXPECT_THAT(ConfigErrorOf("terrain_traversal", {{"stuck_steps", 0.0}}),
              HasSubstr("environment.stuck_steps"));
  EXPECT_THAT(ConfigErrorOf("object_manipulation",
                            {{"num_objects", 8.0}, {"spawn_radius", 1.0}, {"arena_size", 8.0}}),
              HasSubstr("environment.num_objects / environment.arena_size"));
  EXPECT_EQ(ConfigErrorOf("object_manipulation", {{"arena_size", 12.0}, {"num_objects", 8.0}}), "");
}

TEST(ObjectTasksTest, RegisteredUnderTheirNamesAndAliases) {
  for (const std::string name :
       {"object_displacement", "object_manipulation", "terrain_traversal"}) {
    config::EnvironmentConfig cfg;
    cfg.name = name + "_env";
    auto env = MakeEnv(cfg);
    EXPECT_EQ(env->Spec().name, name);
  }
}

}  // namespace
}  // namespace rlpipe::envs::robots
