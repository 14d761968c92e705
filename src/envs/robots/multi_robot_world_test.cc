#include "envs/robots/multi_robot_world.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <random>
#include <vector>

#include "core/byte_stream.h"
#include "core/error.h"
#include "envs/robots/world_checks.h"

namespace rlpipe::envs::robots {
namespace {

using ::testing::HasSubstr;
using C = RobotConstants;

/// World parameters from a registry-style map: defaults plus `overrides`.
TaskParams Params(const TaskParams& overrides = {}) {
  TaskParams params;
  for (const auto& spec : WorldParamSpecs()) params[spec.name] = spec.default_value;
  for (const auto& [key, value] : overrides) params[key] = value;
  return params;
}

/// Moves every robot far apart (rows at y = 5) so a test can stage one encounter.
void ParkEveryone(MultiRobotWorld& world) {
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const double radius = robot < world.NumBars() ? C::kBallRadius : C::kSphereRadius;
    world.PlaceRobot(robot, {-6.0 + 2.0 * robot, 5.0, radius + 0.001});
  }
}

/// A sphere at the origin on the floor and bar robot 0 lying along x, arm 0 pointing at the
/// sphere with its tip `gap` metres from the sphere's surface.
void StageTipNearSphere(MultiRobotWorld& world, double gap) {
  ParkEveryone(world);
  const int sphere_robot = world.NumBars();
  world.PlaceRobot(sphere_robot, {0.0, 0.0, C::kSphereRadius});
  world.SetArmOrientation(0, 0, {1, 0, 0, 0});
  world.SetArmOrientation(0, 1, {1, 0, 0, 0});
  // Yaw π: arm 0 (local +x) points along world -x, towards the sphere.
  world.PlaceRobot(0, {C::kSphereRadius + gap + C::kBarTip, 0.0, C::kSphereRadius},
                   {0.0, 0.0, 0.0, 1.0});
}

double GapToSphere(const MultiRobotWorld& world, int bar, int arm, int sphere) {
  const std::array<double, 3> tip = world.TipPosition(bar, arm);
  const mjtNum* c = world.RobotPosition(world.NumBars() + sphere);
  return std::hypot(tip[0] - c[0], tip[1] - c[1], tip[2] - c[2]) - C::kSphereRadius;
}

TEST(MultiRobotWorldTest, LayoutSizesFollowTheRobotCount) {
  MultiRobotWorld world(ReadWorldParams(Params({{"num_type_b_robots", 3}})));
  EXPECT_EQ(world.NumBars(), 6);
  EXPECT_EQ(world.NumSpheres(), 3);
  EXPECT_EQ(world.ObsDim(), 6 * 29 + 3 * 14);
  EXPECT_EQ(world.ActDim(), 6 * 6 + 3 * 3);
  EXPECT_EQ(world.RobotObservationSpace().Dim(), world.ObsDim());
  EXPECT_EQ(world.RobotActionSpace().Dim(), world.ActDim());
  EXPECT_EQ(world.model().nu, 36);
  EXPECT_EQ(world.model().neq, 6 * 2 * 3);
  EXPECT_DOUBLE_EQ(world.ControlDt(), 1.0 / 60.0);
}

TEST(MultiRobotWorldTest, LayoutNamesEachRobotTypesBlocks) {
  MultiRobotWorld world(ReadWorldParams(Params({{"num_type_b_robots", 3}})));
  const RobotLayout layout = world.Layout(2);
  ASSERT_EQ(layout.groups.size(), 2u);
  const RobotGroupLayout& bar = layout.groups[0];
  const RobotGroupLayout& sphere = layout.groups[1];
  EXPECT_EQ(bar.type, "bar");
  EXPECT_EQ(bar.count, 6);
  EXPECT_EQ(bar.obs_offset, 0);
  EXPECT_EQ(bar.obs_dim, 29);
  EXPECT_EQ(bar.act_offset, 0);
  EXPECT_EQ(bar.act_dim, 6);
  EXPECT_EQ(sphere.type, "sphere");
  EXPECT_EQ(sphere.count, 3);
  EXPECT_EQ(sphere.obs_offset, 6 * 29);
  EXPECT_EQ(sphere.obs_dim, 14);
  EXPECT_EQ(sphere.act_offset, 6 * 6);
  EXPECT_EQ(sphere.act_dim, 3);
  EXPECT_EQ(layout.task_obs_offset, world.ObsDim());
  EXPECT_EQ(layout.task_obs_dim, 2);
}

TEST(MultiRobotWorldTest, MassesMatchTheSpecAndInertiasComeFromTheGeoms) {
  MultiRobotWorld world(ReadWorldParams(Params()));
  const mjModel& m = world.model();
  const int bar = mj_name2id(&m, mjOBJ_BODY, "bar0");
  const int arm = mj_name2id(&m, mjOBJ_BODY, "bar0_arm0");
  const int sphere = mj_name2id(&m, mjOBJ_BODY, "sphere0");
  EXPECT_NEAR(m.body_mass[bar], 0.1, 1e-12);
  EXPECT_NEAR(m.body_mass[arm], 0.5, 1e-12);
  EXPECT_NEAR(m.body_mass[sphere], 1.0, 1e-12);
  EXPECT_NEAR(m.body_subtreemass[bar], 1.1, 1e-12);
  // Solid sphere: 2/5 m r^2.
  EXPECT_NEAR(m.body_inertia[3 * sphere], 0.4 * 1.0 * 0.167 * 0.167, 1e-9);
  // A 0.5 m bar about a transverse axis through its centre is close to m L^2 / 12.
  const double transverse = std::max(m.body_inertia[3 * arm + 1], m.body_inertia[3 * arm + 2]);
  EXPECT_NEAR(transverse, 0.5 * 0.5 * 0.5 / 12.0, 0.1 * 0.5 * 0.5 * 0.5 / 12.0);
  // Each hinge motor gives 21.6 N m at full action.
  EXPECT_NEAR(m.actuator_gear[0], C::kJointTorque, 1e-12);
}

TEST(MultiRobotWorldTest, SpawnIsSeparatedWithinTheDiscAndSeeded) {
  MultiRobotWorld world(ReadWorldParams(Params({{"num_type_b_robots", 4}, {"spawn_radius", 1.5}})));
  std::mt19937_64 rng(3);
  double max_radius = 0.0;
  for (int episode = 0; episode < 20; ++episode) {
    world.Reset(rng);
    for (int a = 0; a < world.NumRobots(); ++a) {
      const mjtNum* p = world.RobotPosition(a);
      max_radius = std::max(max_radius, std::hypot(p[0], p[1]));
      ASSERT_LE(std::hypot(p[0], p[1]), 1.5 + 1e-12);
      for (int b = 0; b < a; ++b) {
        const mjtNum* q = world.RobotPosition(b);
        ASSERT_GE(std::hypot(p[0] - q[0], p[1] - q[1]), C::kMinSeparation);
      }
    }
    // Nothing overlaps at spawn: no robot-robot contact.
    for (int c = 0; c < world.data().ncon; ++c) {
      const mjContact& contact = world.data().contact[c];
      ASSERT_FALSE(world.IsRobotGeom(contact.geom1) && world.IsRobotGeom(contact.geom2));
    }
  }
  // The whole disc is used, not just its middle.
  EXPECT_GT(max_radius, 1.2);
}

TEST(MultiRobotWorldTest, ASpawnThatCannotFitIsAConfigError) {
  try {
    ReadWorldParams(Params({{"num_type_b_robots", 40}}));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("environment.num_type_b_robots / environment.spawn_radius"));
    EXPECT_THAT(e.what(), HasSubstr("120 robots"));
  }
  EXPECT_THROW(MultiRobotWorld(WorldParams{.num_type_b_robots = 1, .spawn_radius_m = 0.1}),
               ConfigError);
  EXPECT_THROW(ReadWorldParams(Params({{"frame_skip", 2.5}})), ConfigError);
  EXPECT_THROW(ReadWorldParams(Params({{"num_type_b_robots", 0}})), ConfigError);
  EXPECT_THROW(ReadWorldParams(Params({{"timestep", 0}})), ConfigError);
  // The largest count that fits does spawn.
  MultiRobotWorld tight(WorldParams{.num_type_b_robots = 3, .spawn_radius_m = 0.8});
  std::mt19937_64 rng(1);
  EXPECT_NO_THROW(tight.Reset(rng));
}

TEST(MultiRobotWorldTest, ActionsAreTorquesAndWorldFrameForcesClipped) {
  MultiRobotWorld world(ReadWorldParams(Params()));
  std::mt19937_64 rng(1);
  world.Reset(rng);
  std::vector<float> action(static_cast<size_t>(world.ActDim()), 0.0f);
  action[0] = 0.5f;
  action[1] = 3.0f;           // clipped to 1
  action[2] = std::nanf("");  // treated as 0
  const size_t sphere0 = static_cast<size_t>(world.NumBars() * 6);
  action[sphere0 + 0] = -2.0f;
  action[sphere0 + 2] = 0.25f;
  world.ApplyAction(action);
  EXPECT_EQ(world.data().ctrl[0], 0.5);
  EXPECT_EQ(world.data().ctrl[1], 1.0);
  EXPECT_EQ(world.data().ctrl[2], 0.0);
  const int body = mj_name2id(&world.model(), mjOBJ_BODY, "sphere0");
  EXPECT_EQ(world.data().xfrc_applied[6 * body + 0], -20.0);
  EXPECT_EQ(world.data().xfrc_applied[6 * body + 2], 5.0);

  // A sphere pushed along +x in the world frame moves along +x even as it rolls.
  ParkEveryone(world);
  std::fill(action.begin(), action.end(), 0.0f);
  action[sphere0] = 1.0f;
  const double x0 = world.RobotPosition(world.NumBars())[0];
  for (int t = 0; t < 60; ++t) {
    world.ApplyAction(action);
    world.Simulate();
  }
  const mjtNum* p = world.RobotPosition(world.NumBars());
  EXPECT_GT(p[0] - x0, 1.0);
  EXPECT_NEAR(p[1], 5.0, 0.05);
  EXPECT_EQ(world.Warnings().Total(), 0) << world.Warnings().ToString();
}

TEST(MultiRobotWorldTest, ASphereCannotLiftItself) {
  // Full upward action: the force is capped below the sphere's weight (0.8 × 1 kg × 9.81 N), so
  // a free sphere stays on the floor; downward the full 20 N apply.
  MultiRobotWorld world(ReadWorldParams(Params()));
  std::mt19937_64 rng(1);
  world.Reset(rng);
  ParkEveryone(world);
  std::vector<float> action(static_cast<size_t>(world.ActDim()), 0.0f);
  const size_t sphere0 = static_cast<size_t>(world.NumBars() * 6);
  action[sphere0 + 2] = 1.0f;
  world.ApplyAction(action);
  const int body = mj_name2id(&world.model(), mjOBJ_BODY, "sphere0");
  EXPECT_NEAR(world.data().xfrc_applied[6 * body + 2], 0.8 * 9.81, 1e-9);
  for (int t = 0; t < 120; ++t) {  // 2 s
    world.ApplyAction(action);
    world.Simulate();
  }
  EXPECT_LT(world.RobotPosition(world.NumBars())[2], C::kSphereRadius + 0.01);
  action[sphere0 + 2] = -1.0f;
  world.ApplyAction(action);
  // Full force down (the resting sphere's residual contact velocity is far below the top speed).
  EXPECT_NEAR(world.data().xfrc_applied[6 * body + 2], -20.0, 1e-3);
}

TEST(MultiRobotWorldTest, ASphereDriveFadesToZeroAtItsTopSpeed) {
  // The force-speed curve on one axis: full at rest and against the motion, half at half the top
  // speed along the push, none beyond it.
  EXPECT_EQ(SphereDriveFactor(1.0, 0.0, 3.0), 1.0);
  EXPECT_DOUBLE_EQ(SphereDriveFactor(1.0, 1.5, 3.0), 0.5);
  EXPECT_EQ(SphereDriveFactor(1.0, 4.0, 3.0), 0.0);
  EXPECT_EQ(SphereDriveFactor(-0.5, 1.5, 3.0), 1.0);
  EXPECT_DOUBLE_EQ(SphereDriveFactor(-0.5, -1.5, 3.0), 0.5);
  EXPECT_EQ(SphereDriveFactor(0.0, 0.0, 3.0), 0.0);

  // Pushed at full force along +x for 5 s, a sphere approaches the top speed and never passes it
  // (a bare 20 N would reach ~70 m/s); pushed back, the full force brakes it.
  MultiRobotWorld world(ReadWorldParams(Params()));
  std::mt19937_64 rng(1);
  world.Reset(rng);
  ParkEveryone(world);
  const int sphere_dof =
      world.model().jnt_dofadr[mj_name2id(&world.model(), mjOBJ_JOINT, "sphere0_root")];
  std::vector<float> action(static_cast<size_t>(world.ActDim()), 0.0f);
  const size_t sphere0 = static_cast<size_t>(world.NumBars() * 6);
  action[sphere0] = 1.0f;
  double fastest = 0.0;
  for (int t = 0; t < 300; ++t) {
    world.ApplyAction(action);
    world.Simulate();
    fastest = std::max(fastest, world.data().qvel[sphere_dof]);
  }
  const double top = world.params().sphere_max_speed_mps;
  EXPECT_LE(fastest, top);
  EXPECT_GT(world.data().qvel[sphere_dof], 0.75 * top);  // ~85%: contacts resist rolling a little
  action[sphere0] = -1.0f;
  world.ApplyAction(action);
  const int body = mj_name2id(&world.model(), mjOBJ_BODY, "sphere0");
  EXPECT_EQ(world.data().xfrc_applied[6 * body + 0], -C::kSphereForce);
}

TEST(MultiRobotWorldTest, ASpinningRobotDoesNotGainEnergy) {
  // A bar robot tumbling in free fall with idle motors: nothing does work on it, so its kinetic
  // energy may only fall (joint damping). Semi-implicit Euler handles the gyroscopic terms
  // explicitly and gained 10-14% here within 5 s (`make bench-env`, line (e)) — energy trained
  // policies pumped into flights of kilometres.
  MultiRobotWorld world(ReadWorldParams(Params({{"num_type_b_robots", 1}})));
  const TumbleEnergy energy =
      TumbleBarRobot(world, {60.0, 48.0, 64.0}, 300);  // 100 rad/s about no principal axis, 5 s
  EXPECT_GT(energy.start_j, 400.0);
  EXPECT_LE(energy.most_j, energy.start_j * (1.0 + 1e-9));
  EXPECT_EQ(world.Warnings().Total(), 0) << world.Warnings().ToString();
}

TEST(MultiRobotWorldTest, AFlailingRobotFallsLikeAStone) {
  // In free fall only gravity acts on a bar robot, whatever its motors do: its centre of mass
  // accelerates at -g. First-order integrators (Euler, implicit) were off by up to 12-13 m/s² per
  // control step under random torques (`make bench-env`, line (e)), enough for a trained policy
  // to hover in the air.
  MultiRobotWorld world(ReadWorldParams(Params({{"num_type_b_robots", 1}})));
  const double g = -world.model().opt.gravity[2];
  const std::vector<double> accelerations = FreeFallComAccelerations(world, 1, 120);
  ASSERT_EQ(accelerations.size(), 118u);
  for (size_t t = 0; t < accelerations.size(); ++t)
    EXPECT_NEAR(accelerations[t], -g, 1.0) << "control step " << t + 2;
}

TEST(MultiRobotWorldTest, ATipNearASphereConnectsAndIsPulledOntoItsSurface) {
  MultiRobotWorld world(ReadWorldParams(Params()));
  std::mt19937_64 rng(1);
  world.Reset(rng);

  // 0.25 m away: no connection; 0.1 m away: one, in the observation too.
  StageTipNearSphere(world, 0.25);
  world.UpdateConnections();
  EXPECT_TRUE(world.Connections().empty());
  StageTipNearSphere(world, 0.1);
  EXPECT_NEAR(GapToSphere(world, 0, 0, 0), 0.1, 1e-9);
  world.UpdateConnections();
  ASSERT_EQ(world.Connections().size(), 1u);
  EXPECT_EQ(world.Connections()[0].bar, 0);
  EXPECT_EQ(world.Connections()[0].arm, 0);
  EXPECT_EQ(world.Connections()[0].sphere, 0);
  EXPECT_EQ(world.SphereConnectionCount(0), 1);
  std::vector<float> obs(static_cast<size_t>(world.ObsDim()));
  world.Observe(obs);
  EXPECT_EQ(obs[27], 1.0f);                                              // bar 0, arm 0 flag
  EXPECT_EQ(obs[28], 0.0f);                                              // bar 0, arm 1 flag
  EXPECT_EQ(obs[static_cast<size_t>(world.NumBars() * 29 + 13)], 1.0f);  // sphere 0 count

  // The ball-socket pulls the tip onto the sphere and holds it there.
  const std::vector<float> idle(static_cast<size_t>(world.ActDim()), 0.0f);
  for (int t = 0; t < 60; ++t) {
    world.ApplyAction(idle);
    world.Simulate();
  }
  ASSERT_EQ(world.Connections().size(), 1u);
  EXPECT_LT(std::abs(GapToSphere(world, 0, 0, 0)), 0.01);
  EXPECT_GT(world.ConnectionForce(0, 0, 0), 0.0);
  EXPECT_EQ(world.Warnings().Total(), 0) << world.Warnings().ToString();
}

/// Connects bar 0 (held in the air by the connection) to sphere 0, then pushes the sphere away
/// at full force for `steps` steps. Returns the number of steps the connection lasted.
int StepsConnectedWhilePulled(double break_force_n, int steps) {
  MultiRobotWorld world(ReadWorldParams(Params({{"connection_break_force", break_force_n}})));
  std::mt19937_64 rng(1);
  world.Reset(rng);
  StageTipNearSphere(world, 0.0);
  world.UpdateConnections();
  std::vector<float> action(static_cast<size_t>(world.ActDim()), 0.0f);
  const std::vector<float> idle = action;
  EXPECT_EQ(world.Connections().size(), 1u);
  action[static_cast<size_t>(world.NumBars() * 6)] = -1.0f;  // away from the bar (-x)
  for (int t = 0; t < steps; ++t) {
    world.ApplyAction(action);
    world.Simulate();
    if (world.Connections().empty()) {
      // Broken: the tip is still close, but it does not reconnect until it has left.
      world.ApplyAction(idle);
      world.Simulate();
      EXPECT_TRUE(world.Connections().empty());
      return t;
    }
  }
  return steps;
}

TEST(MultiRobotWorldTest, AConnectionBreaksAboveTheForceThreshold) {
  // The bar's weight (10.8 N) plus a 20 N pull hold under the default 500 N threshold and break
  // a 5 N one at once.
  EXPECT_EQ(StepsConnectedWhilePulled(500.0, 60), 60);
  EXPECT_LT(StepsConnectedWhilePulled(5.0, 60), 5);
}

TEST(MultiRobotWorldTest, WarningsSurviveResets) {
  MultiRobotWorld world(ReadWorldParams(Params()));
  std::mt19937_64 rng(1);
  world.Reset(rng);
  world.mutable_data().qvel[0] = std::numeric_limits<double>::quiet_NaN();
  world.Simulate();
  sim::TakeMessages();
  EXPECT_EQ(world.Warnings().number[mjWARN_BADQVEL], 1);
  world.Reset(rng);
  EXPECT_EQ(world.Warnings().Total(), 1);
}

TEST(MultiRobotWorldTest, EqualStatesSaveEqualBytesWhateverContactPaddingHolds) {
  // Robots resting on the floor: contacts in the buffer. MuJoCo copies each contact with the
  // padding at the end of mjContact from its own stack; the saved bytes must not depend on it.
  MultiRobotWorld world(ReadWorldParams(Params()));
  std::mt19937_64 rng(3);
  world.Reset(rng);
  for (int step = 0; step < 5; ++step) world.Simulate();
  ASSERT_GT(world.data().ncon, 0);
  ByteWriter before;
  world.SaveState(before);

  // Garbage in every contact slot's padding, nothing else changed.
  constexpr size_t kEnd = offsetof(mjContact, efc_address) + sizeof(int);
  ASSERT_LT(kEnd, sizeof(mjContact)) << "mjContact has no tail padding in this MuJoCo";
  for (int c = 0; c < world.model().nconmax; ++c) {
    char* contact = reinterpret_cast<char*>(world.mutable_data().contact + c);
    std::fill(contact + kEnd, contact + sizeof(mjContact), '\x5a');
  }
  ByteWriter after;
  world.SaveState(after);
  EXPECT_EQ(before.bytes(), after.bytes());
}

TEST(MultiRobotWorldTest, XmlIsDeterministicAndSharedAcrossInstances) {
  const WorldParams params = ReadWorldParams(Params());
  EXPECT_EQ(BuildWorldXml(params), BuildWorldXml(params));
  MultiRobotWorld a(params);
  MultiRobotWorld b(params);
  // Each instance switches its own connections.
  EXPECT_NE(a.model().eq_active, b.model().eq_active);
}

}  // namespace
}  // namespace rlpipe::envs::robots
