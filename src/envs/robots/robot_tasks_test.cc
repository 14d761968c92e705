// Reward and termination of the robot tasks on constructed states.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "config/tree.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/robots/crush_resistance.h"
#include "envs/robots/height_maximize.h"
#include "envs/time_limit.h"

namespace rlpipe::envs::robots {
namespace {

using ::testing::HasSubstr;
using C = RobotConstants;

/// Registry parameters of `task`: defaults plus `overrides`.
TaskParams Params(const std::string& task, const TaskParams& overrides = {}) {
  TaskParams params;
  for (const auto& spec : FindTask(task)->info.params) params[spec.name] = spec.default_value;
  for (const auto& [key, value] : overrides) params[key] = value;
  return params;
}

/// Moves every robot to the floor in a row at y = `y`, 1 m apart.
void LineUp(MultiRobotWorld& world, double y) {
  for (int robot = 0; robot < world.NumRobots(); ++robot) {
    const double radius = robot < world.NumBars() ? C::kBallRadius : C::kSphereRadius;
    world.PlaceRobot(robot, {-3.0 + 1.0 * robot, y, radius + 0.001});
  }
}

TEST(HeightMaximizeTest, ARobotAtTwoMetresEarnsItsHeight) {
  HeightMaximize env(ReadWorldParams(Params("height_maximize")));
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  env.Reset(1, obs);
  LineUp(env.world(), 0.0);
  const int sphere = env.world().NumBars();
  env.world().PlaceRobot(sphere, {0.0, 2.0, 2.0});
  const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  const StepResult r = env.Step(idle, obs);

  // After one control step of free fall (1/60 s) the sphere is the highest robot.
  const double dt = 1.0 / 60.0;
  const double expected_height = 2.0 - 0.5 * 9.81 * dt * dt;
  EXPECT_NEAR(r.info.at("max_height"), expected_height, 2e-3);
  EXPECT_DOUBLE_EQ(r.reward, 0.1 * r.info.at("max_height"));
  EXPECT_DOUBLE_EQ(r.info.at("best_height"), r.info.at("max_height"));
  EXPECT_EQ(r.info.at("connections"), 0.0);
  EXPECT_FALSE(r.terminated);
  EXPECT_FALSE(r.truncated);
  // The task block: best height, then the elapsed fraction of the episode.
  const size_t task = static_cast<size_t>(env.world().ObsDim());
  EXPECT_FLOAT_EQ(obs[task], static_cast<float>(r.info.at("best_height")));
  EXPECT_FLOAT_EQ(obs[task + 1], 1.0f / 1000.0f);
}

TEST(HeightMaximizeTest, TheLastStepPaysTenTimesTheBestHeight) {
  HeightMaximize env(ReadWorldParams(Params("height_maximize")), /*max_episode_steps=*/3);
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(1, obs);
  LineUp(env.world(), 0.0);
  env.world().PlaceRobot(env.world().NumBars(), {0.0, 2.0, 1.5});
  const StepResult first = env.Step(idle, obs);
  const double best = first.info.at("max_height");  // the sphere falls from here on
  env.Step(idle, obs);
  const StepResult last = env.Step(idle, obs);
  EXPECT_TRUE(last.truncated);
  EXPECT_FALSE(last.terminated);
  EXPECT_DOUBLE_EQ(last.info.at("best_height"), best);
  EXPECT_DOUBLE_EQ(last.reward, 0.1 * last.info.at("max_height") + 10.0 * best);
}

TEST(HeightMaximizeTest, AConfiguredHorizonMovesTheEndBonusWithTheTimeLimit) {
  // max_episode_steps from the config must reach the task, not only the TimeLimit wrapper.
  config::EnvironmentConfig cfg;
  cfg.name = "height_maximize";
  cfg.max_episode_steps = 5;
  auto env = MakeEnv(cfg);
  std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env->Spec().action_space.Dim()), 0.0f);
  env->Reset(1, obs);
  StepResult r;
  for (int step = 1; step <= 5; ++step) {
    r = env->Step(idle, obs);
    if (step < 5) {
      EXPECT_DOUBLE_EQ(r.reward, 0.1 * r.info.at("max_height")) << step;
    }
  }
  EXPECT_TRUE(r.truncated);
  EXPECT_DOUBLE_EQ(r.reward, 0.1 * r.info.at("max_height") + 10.0 * r.info.at("best_height"));
}

TEST(HeightMaximizeTest, LeavingTheTwentyMetreRadiusTerminates) {
  HeightMaximize env(ReadWorldParams(Params("height_maximize")));
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(1, obs);
  LineUp(env.world(), 0.0);
  // 19.5 m out (diagonally) is inside; 20.5 m is out, and the episode-end bonus is paid.
  env.world().PlaceRobot(0, {19.5 / std::sqrt(2.0), 19.5 / std::sqrt(2.0), 0.03});
  EXPECT_FALSE(env.Step(idle, obs).terminated);
  env.world().PlaceRobot(env.world().NumBars(), {0.0, -20.5, C::kSphereRadius});
  const StepResult r = env.Step(idle, obs);
  EXPECT_TRUE(r.terminated);
  EXPECT_FALSE(r.truncated);
  EXPECT_DOUBLE_EQ(r.reward, 0.1 * r.info.at("max_height") + 10.0 * r.info.at("best_height"));
}

TEST(HeightMaximizeTest, RegisteredUnderItsNameAndAlias) {
  config::EnvironmentConfig cfg;
  cfg.name = "height_maximize_env";
  auto env = MakeEnv(cfg);
  EXPECT_EQ(env->Spec().name, "height_maximize");
  EXPECT_EQ(env->Spec().max_episode_steps, 1000);
  // 4 bars × 29 + 2 spheres × 14 + 2; 4 × 6 + 2 × 3 actions.
  EXPECT_EQ(env->Spec().observation_space.Dim(), 4 * 29 + 2 * 14 + 2);
  EXPECT_EQ(env->Spec().action_space.Dim(), 4 * 6 + 2 * 3);

  // The named blocks of both vectors (what transfer learning matches on).
  const SpaceLayout& obs = env->Spec().observation_layout;
  ASSERT_EQ(obs.size(), 7u);
  EXPECT_EQ(obs[3].name, "bar_robot[3]");
  EXPECT_EQ(obs[3].size, 29);
  EXPECT_EQ(obs[5].name, "sphere[1]");
  EXPECT_EQ(obs[5].size, 14);
  EXPECT_EQ(obs[6].name, "task:height_maximize");
  EXPECT_EQ(obs[6].size, 2);
  const SpaceLayout& act = env->Spec().action_layout;
  ASSERT_EQ(act.size(), 6u);
  EXPECT_EQ(act[4].name, "sphere[0]");
  EXPECT_EQ(act[4].size, 3);

  // Too many robots for the disc is a ConfigError from MakeEnv.
  cfg.params.kind = config::Tree::Kind::kMap;
  cfg.params.entries.emplace_back("num_type_b_robots", config::Tree::Scalar("50"));
  EXPECT_THROW(MakeEnv(cfg), ConfigError);
}

/// A crush_resistance env with the given overrides.
CrushResistance MakeCrush(const TaskParams& overrides = {}) {
  const TaskParams p = Params("crush_resistance", overrides);
  return CrushResistance(ReadWorldParams(p),
                         PressParams{.reference_height_m = p.at("reference_height"),
                                     .positioning_seconds = p.at("positioning_seconds"),
                                     .descent_speed_mps = p.at("press_descent_speed"),
                                     .force_increment_n = p.at("press_force_increment"),
                                     .crush_height_m = p.at("crush_height"),
                                     .height_reward_scale = p.at("height_reward_scale")});
}

TEST(CrushResistanceTest, RestingRobotsDoNotEndTheEpisodeAndThePressHoldsStill) {
  CrushResistance env = MakeCrush({{"positioning_seconds", 2.0}});
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(4, obs);
  // Positioning: robots at rest on the floor, the press at 5 m; reward is 0.01 × highest z.
  for (int t = 1; t <= 120; ++t) {
    const StepResult r = env.Step(idle, obs);
    ASSERT_FALSE(r.terminated || r.truncated) << t;
    ASSERT_NEAR(r.info.at("press_height"), 5.0, 1e-3) << t;
    ASSERT_DOUBLE_EQ(r.reward, 0.01 * env.world().MaxRobotHeight()) << t;
    ASSERT_EQ(r.info.at("survival_seconds"), 0.0);
  }
  // Active: 1 + 0.5 × mean z per step while the press comes down; still nothing ends.
  for (int t = 1; t <= 60; ++t) {
    const StepResult r = env.Step(idle, obs);
    ASSERT_FALSE(r.terminated || r.truncated) << t;
    ASSERT_DOUBLE_EQ(r.reward, 1.0 + 0.5 * env.world().MeanRobotHeight()) << t;
    ASSERT_NEAR(r.info.at("survival_seconds"), t / 60.0, 1e-12);
  }
  // Unobstructed descent at 0.5 m/s (after the servo's short start).
  EXPECT_NEAR(env.PressHeight(), 5.0 - 0.5, 0.03);
  EXPECT_EQ(env.press_force(), 50.0);
  EXPECT_EQ(env.WarningCount(), 0) << env.WarningSummary();
}

TEST(CrushResistanceTest, TheActiveRewardPaysMeanHeightAtItsScale) {
  // Once active: 1 + height_reward_scale × mean z (0: survival alone).
  for (const double scale : {0.0, 2.0}) {
    CrushResistance env = MakeCrush({{"positioning_seconds", 0.0}, {"height_reward_scale", scale}});
    std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
    const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
    env.Reset(4, obs);
    for (int t = 1; t <= 30; ++t) {
      const StepResult r = env.Step(idle, obs);
      ASSERT_FALSE(r.terminated || r.truncated) << t;
      ASSERT_DOUBLE_EQ(r.reward, 1.0 + scale * env.world().MeanRobotHeight()) << t;
    }
  }
}

TEST(CrushResistanceTest, DefaultsCrushUnresistingRobotsWithinTheHorizon) {
  // With the defaults and idle robots, the episode ends by crushing before max_episode_steps.
  CrushResistance env = MakeCrush();
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(2, obs);
  StepResult r;
  int steps = 0;
  double max_force = 0.0;
  while (!r.terminated && !r.truncated) {
    r = env.Step(idle, obs);
    ++steps;
    max_force = std::max(max_force, r.info.at("press_force"));
  }
  EXPECT_TRUE(r.terminated);
  EXPECT_LT(steps, CrushResistance::kDefaultMaxEpisodeSteps);
  EXPECT_GT(steps, 1800);  // never during positioning
  EXPECT_LE(r.info.at("press_height"), 0.3);
  // The robots held the press up for a while: its push grew past the first increment.
  EXPECT_GT(max_force, 50.0);
  EXPECT_NEAR(r.info.at("survival_seconds"), (steps - 1800) / 60.0, 1e-9);
  EXPECT_DOUBLE_EQ(
      r.reward, 1.0 + 0.5 * env.world().MeanRobotHeight() + 10.0 * r.info.at("survival_seconds"));
  EXPECT_EQ(env.WarningCount(), 0) << env.WarningSummary();
}

TEST(CrushResistanceTest, ThePressReachingCrushHeightTerminates) {
  // The press starts low and at once: it lands on the idle robots and crushes them within 200
  // steps, terminating on the first step its underside is at or below 0.3 m.
  CrushResistance env = MakeCrush({{"positioning_seconds", 0.0}, {"reference_height", 0.6}});
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  const std::vector<float> idle(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(1, obs);
  StepResult r;
  int steps = 0;
  while (!r.terminated && steps < 200) {
    r = env.Step(idle, obs);
    ++steps;
  }
  ASSERT_TRUE(r.terminated);
  EXPECT_LE(r.info.at("press_height"), 0.3);
  EXPECT_GT(r.info.at("press_height"), 0.3 - 0.5 / 60.0 - 1e-3);
}

TEST(CrushResistanceTest, PressParametersAreChecked) {
  config::EnvironmentConfig cfg;
  cfg.name = "crush_resistance_env";
  EXPECT_EQ(MakeEnv(cfg)->Spec().name, "crush_resistance");
  EXPECT_EQ(MakeEnv(cfg)->Spec().max_episode_steps, 3000);
  cfg.params.kind = config::Tree::Kind::kMap;
  cfg.params.entries.emplace_back("crush_height", config::Tree::Scalar("6"));
  try {
    MakeEnv(cfg);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("environment.crush_height"));
  }
}

}  // namespace
}  // namespace rlpipe::envs::robots

namespace rlpipe::envs::robots {
namespace {

// The seed's session 2 settings (press 0.05 m/s, 30 s positioning, 3000 steps): one warning
// naming the keys and the numbers, at the key's line; the defaults give none.
TEST(SettingWarningsTest, APressThatCannotReachTheCrushHeightIsWarnedWithTheNumbers) {
  const config::Tree root = config::ParseYaml(
      "environment:\n  name: crush_resistance\n  max_episode_steps: 3000\n"
      "  press_descent_speed: 0.05\n  positioning_seconds: 30\n",
      "session2.yaml");
  config::EnvironmentConfig cfg = config::ParseExperimentConfig(root).environment;
  const std::vector<std::string> warnings = EnvironmentWarnings(cfg);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::StartsWith("session2.yaml:4:3: warning: "
                                                 "environment.press_descent_speed: "));
  for (const char* part :
       {"positioning_seconds 30", "reference_height 5", "crush_height 0.3",
        "press_descent_speed 0.05", "124 s", "max_episode_steps 3000", "= 50 s"}) {
    EXPECT_THAT(warnings[0], ::testing::HasSubstr(part));
  }

  config::EnvironmentConfig defaults;
  defaults.name = "crush_resistance";
  EXPECT_TRUE(EnvironmentWarnings(defaults).empty());
}

// A course longer than the top speed covers in the horizon, and one that is not.
TEST(SettingWarningsTest, ATargetNoRobotCanReachInTheHorizonIsWarned) {
  config::EnvironmentConfig cfg;
  cfg.name = "terrain_traversal";
  cfg.max_episode_steps = 300;  // 5 s at 3 m/s: 15 m
  cfg.params.Set("target_distance", config::Tree::Scalar("20"));
  const std::vector<std::string> warnings = EnvironmentWarnings(cfg);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("environment.target_distance: target_distance 20 m"
                                                " / sphere_max_speed 3 m/s = 6.67 s > "
                                                "max_episode_steps 300"));
  cfg.max_episode_steps = 0;  // the task's 2000 steps
  EXPECT_TRUE(EnvironmentWarnings(cfg).empty());
  for (const TaskInfo& task : RegisteredTasks()) {
    config::EnvironmentConfig plain;
    plain.name = task.name;
    EXPECT_TRUE(EnvironmentWarnings(plain).empty()) << task.name << " warns on its defaults";
  }
}

}  // namespace
}  // namespace rlpipe::envs::robots
