#include "envs/pendulum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "config/tree.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/time_limit.h"

namespace rlpipe::envs {
namespace {

using ::testing::HasSubstr;

/// An `environment:` config as the loader would produce it, with locations in "env.yaml".
config::EnvironmentConfig Config(const std::string& name) {
  config::EnvironmentConfig cfg;
  cfg.name = name;
  cfg.name_loc = {"env.yaml", 2, 9};
  return cfg;
}

/// Adds `key: text` to cfg.params, the key at env.yaml:line:3 and the value at env.yaml:line:6.
void AddParam(config::EnvironmentConfig& cfg, const std::string& key, const std::string& text,
              int line, bool quoted = false) {
  config::Tree value = config::Tree::Scalar(text, {"env.yaml", line, 6});
  value.key_loc = {"env.yaml", line, 3};
  value.quoted = quoted;
  cfg.params.kind = config::Tree::Kind::kMap;
  cfg.params.entries.emplace_back(key, value);
}

/// The message of the ConfigError `fn` throws ("" if it throws none).
template <typename Fn>
std::string ConfigErrorOf(Fn fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(PendulumTest, SpacesMatchGymnasium) {
  Pendulum env;
  const EnvSpec& spec = env.Spec();
  EXPECT_EQ(spec.observation_space.low, (std::vector<float>{-1, -1, -8}));
  EXPECT_EQ(spec.observation_space.high, (std::vector<float>{1, 1, 8}));
  EXPECT_EQ(spec.action_space.low, (std::vector<float>{-2}));
  EXPECT_EQ(spec.action_space.high, (std::vector<float>{2}));
}

TEST(PendulumTest, OneStepMatchesTheEquations) {
  Pendulum env;
  env.SetState(0.7, -1.3);
  std::vector<float> obs(3);
  const StepResult result = env.Step(std::vector<float>{1.5f}, obs);

  // By hand: g = 10, m = l = 1, dt = 0.05; cost from the state before the update.
  const double cost = 0.7 * 0.7 + 0.1 * 1.3 * 1.3 + 0.001 * 1.5 * 1.5;
  const double new_theta_dot = -1.3 + (15.0 * std::sin(0.7) + 3.0 * 1.5) * 0.05;
  const double new_theta = 0.7 + new_theta_dot * 0.05;
  EXPECT_NEAR(result.reward, -cost, 1e-12);
  EXPECT_NEAR(env.theta_dot(), new_theta_dot, 1e-12);
  EXPECT_NEAR(env.theta(), new_theta, 1e-12);
  EXPECT_FLOAT_EQ(obs[0], static_cast<float>(std::cos(new_theta)));
  EXPECT_FLOAT_EQ(obs[1], static_cast<float>(std::sin(new_theta)));
  EXPECT_FLOAT_EQ(obs[2], static_cast<float>(new_theta_dot));
  EXPECT_FALSE(result.terminated);
  EXPECT_FALSE(result.truncated);
}

TEST(PendulumTest, ClipsTorqueAndSpeed) {
  // Torque 5 is clipped to 2 in both the dynamics and the cost; speed is clipped to 8.
  Pendulum env;
  env.SetState(std::numbers::pi / 2, 7.9);
  std::vector<float> obs(3);
  const StepResult result = env.Step(std::vector<float>{5.0f}, obs);
  const double angle = std::numbers::pi / 2;
  EXPECT_NEAR(result.reward, -(angle * angle + 0.1 * 7.9 * 7.9 + 0.001 * 4.0), 1e-12);
  EXPECT_EQ(env.theta_dot(), 8.0);
  EXPECT_NEAR(env.theta(), angle + 8.0 * 0.05, 1e-12);

  // Negative side: torque -5 acts as -2.
  env.SetState(0.0, 0.0);
  env.Step(std::vector<float>{-5.0f}, obs);
  EXPECT_NEAR(env.theta_dot(), 3.0 * -2.0 * 0.05, 1e-12);
}

TEST(PendulumTest, CostUsesTheNormalizedAngle) {
  // 2π + 0.1 is 0.1 away from upright; -3.5 is 2π - 3.5 after wrapping.
  Pendulum env;
  std::vector<float> obs(3);
  env.SetState(2 * std::numbers::pi + 0.1, 0.0);
  EXPECT_NEAR(env.Step(std::vector<float>{0.0f}, obs).reward, -0.01, 1e-12);
  env.SetState(-3.5, 0.0);
  const double wrapped = 2 * std::numbers::pi - 3.5;
  EXPECT_NEAR(env.Step(std::vector<float>{0.0f}, obs).reward, -wrapped * wrapped, 1e-12);
  EXPECT_NEAR(AngleNormalize(-3.5), wrapped, 1e-12);
  EXPECT_NEAR(AngleNormalize(3 * std::numbers::pi + 0.2), -std::numbers::pi + 0.2, 1e-12);
}

TEST(PendulumTest, UprightAtRestWithZeroTorqueEarnsZeroAndStays) {
  Pendulum env;
  env.SetState(0.0, 0.0);
  std::vector<float> obs(3);
  const StepResult result = env.Step(std::vector<float>{0.0f}, obs);
  EXPECT_EQ(result.reward, 0.0);
  EXPECT_EQ(obs, (std::vector<float>{1.0f, 0.0f, 0.0f}));
}

TEST(PendulumTest, ResetDrawsFromTheDocumentedRangesAndSeeds) {
  Pendulum env;
  std::vector<float> obs(3);
  double min_theta = 10, max_theta = -10;
  for (int i = 0; i < 500; ++i) {
    env.Reset(i == 0 ? std::optional<uint64_t>(1) : std::nullopt, obs);
    EXPECT_LE(std::abs(env.theta()), std::numbers::pi);
    EXPECT_LE(std::abs(env.theta_dot()), 1.0);
    min_theta = std::min(min_theta, env.theta());
    max_theta = std::max(max_theta, env.theta());
  }
  // The whole circle is covered.
  EXPECT_LT(min_theta, -3.0);
  EXPECT_GT(max_theta, 3.0);

  // Same seed → same state; no seed → the stream continues.
  env.Reset(42, obs);
  const double first = env.theta();
  env.Reset(std::nullopt, obs);
  EXPECT_NE(env.theta(), first);
  env.Reset(42, obs);
  EXPECT_EQ(env.theta(), first);
}

TEST(PendulumTest, GravityParameterChangesDynamics) {
  config::EnvironmentConfig cfg = Config("pendulum");
  AddParam(cfg, "g", "0", 3);
  auto env = MakeEnv(cfg);
  auto& pendulum = dynamic_cast<Pendulum&>(dynamic_cast<TimeLimit&>(*env).inner());
  pendulum.SetState(std::numbers::pi / 2, 0.0);
  std::vector<float> obs(3);
  env->Step(std::vector<float>{0.0f}, obs);
  EXPECT_EQ(pendulum.theta_dot(), 0.0);

  // With the default g the horizontal pendulum falls.
  auto falling = MakeEnv(Config("pendulum"));
  auto& pendulum10 = dynamic_cast<Pendulum&>(dynamic_cast<TimeLimit&>(*falling).inner());
  pendulum10.SetState(std::numbers::pi / 2, 0.0);
  falling->Step(std::vector<float>{0.0f}, obs);
  EXPECT_NEAR(pendulum10.theta_dot(), 15.0 * 0.05, 1e-12);
}

TEST(PendulumTest, TimeLimitTruncatesAt200) {
  auto env = MakeEnv(Config("pendulum"));
  EXPECT_EQ(env->Spec().max_episode_steps, 200);
  std::vector<float> obs(3);
  const std::vector<float> action{0.3f};
  for (int episode = 0; episode < 2; ++episode) {
    env->Reset(episode == 0 ? std::optional<uint64_t>(3) : std::nullopt, obs);
    for (int t = 1; t < 200; ++t) {
      const StepResult r = env->Step(action, obs);
      ASSERT_FALSE(r.truncated) << "step " << t;
      ASSERT_FALSE(r.terminated);
    }
    const StepResult last = env->Step(action, obs);
    EXPECT_TRUE(last.truncated);
    EXPECT_FALSE(last.terminated);
  }
}

TEST(PendulumTest, ConfiguredHorizonOverridesTheDefault) {
  config::EnvironmentConfig cfg = Config("pendulum");
  cfg.max_episode_steps = 5;
  auto env = MakeEnv(cfg);
  EXPECT_EQ(env->Spec().max_episode_steps, 5);
  std::vector<float> obs(3);
  env->Reset(0, obs);
  for (int t = 1; t <= 5; ++t) {
    EXPECT_EQ(env->Step(std::vector<float>{0.0f}, obs).truncated, t == 5);
  }
}

TEST(PendulumValidationTest, UnknownTaskListsValidNames) {
  const std::string message = ConfigErrorOf([] { ValidateEnvironment(Config("cartpole")); });
  EXPECT_THAT(message, HasSubstr("env.yaml:2:9"));
  EXPECT_THAT(message, HasSubstr("environment.name"));
  EXPECT_THAT(message, HasSubstr("unknown task 'cartpole' (valid: pendulum"));
  EXPECT_THROW(MakeEnv(Config("cartpole")), ConfigError);
}

TEST(PendulumValidationTest, UnknownParameterIsNamed) {
  config::EnvironmentConfig cfg = Config("pendulum");
  AddParam(cfg, "g", "9.81", 3);
  AddParam(cfg, "gravity", "9.81", 4);
  const std::string message = ConfigErrorOf([&] { ValidateEnvironment(cfg); });
  EXPECT_THAT(message, HasSubstr("env.yaml:4:3"));
  EXPECT_THAT(message, HasSubstr("environment.gravity"));
  EXPECT_THAT(message, HasSubstr("unknown parameter for task 'pendulum' (valid: g)"));
}

TEST(PendulumValidationTest, ParameterMustBeANumber) {
  config::EnvironmentConfig quoted = Config("pendulum");
  AddParam(quoted, "g", "9.81", 3, /*quoted=*/true);
  std::string message = ConfigErrorOf([&] { ValidateEnvironment(quoted); });
  EXPECT_THAT(message, HasSubstr("env.yaml:3:6"));
  EXPECT_THAT(message, HasSubstr("environment.g"));
  EXPECT_THAT(message, HasSubstr("expected a finite number"));

  config::EnvironmentConfig word = Config("pendulum");
  AddParam(word, "g", "strong", 3);
  message = ConfigErrorOf([&] { ValidateEnvironment(word); });
  EXPECT_THAT(message, HasSubstr("found 'strong'"));

  config::EnvironmentConfig trailing = Config("pendulum");
  AddParam(trailing, "g", "9.8x", 3);
  EXPECT_THROW(ValidateEnvironment(trailing), ConfigError);

  config::EnvironmentConfig plain = Config("pendulum");
  AddParam(plain, "g", "9.81", 3);
  EXPECT_EQ(ResolveTaskParams(plain).at("g"), 9.81);
}

TEST(PendulumValidationTest, AliasIsAccepted) {
  EXPECT_NO_THROW(ValidateEnvironment(Config("Pendulum-v1")));
  auto env = MakeEnv(Config("Pendulum-v1"));
  EXPECT_EQ(env->Spec().name, "pendulum");
  EXPECT_EQ(env->Spec().max_episode_steps, 200);
  EXPECT_EQ(ResolveTaskParams(Config("Pendulum-v1")).at("g"), 10.0);
}

}  // namespace
}  // namespace rlpipe::envs
