// Runs every registered task through the same checks (DESIGN.md, extension point 1), so a task
// added to the registry is covered without touching this file.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "envs/env.h"
#include "envs/observation_scale.h"
#include "envs/registry.h"
#include "envs/time_limit.h"
#include "sim/warning_source.h"

namespace rlpipe::envs {
namespace {

/// A task with its default parameters and horizon.
std::unique_ptr<Env> MakeTask(const std::string& name) {
  config::EnvironmentConfig cfg;
  cfg.name = name;
  return MakeEnv(cfg);
}

/// Random actions in the action box, sometimes beyond it (the env must clip); [steps, act_dim].
std::vector<float> RandomActions(const Box& box, int steps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(-0.25, 1.25);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<float> actions;
  for (int t = 0; t < steps; ++t) {
    for (int j = 0; j < box.Dim(); ++j) {
      const double lo = box.low[j], hi = box.high[j];
      const bool finite = std::isfinite(lo) && std::isfinite(hi);
      actions.push_back(static_cast<float>(finite ? lo + unit(rng) * (hi - lo) : normal(rng)));
    }
  }
  return actions;
}

/// Everything one rollout produced, compared bitwise.
struct Trajectory {
  std::vector<float> obs;
  std::vector<double> rewards;
  std::vector<int> flags;
};

/// Steps `steps` times from the env's current state with the given actions (resetting without a
/// seed after each episode end).
Trajectory Continue(Env& env, const std::vector<float>& actions, int steps) {
  const int act_dim = env.Spec().action_space.Dim();
  std::vector<float> obs(env.Spec().observation_space.Dim());
  Trajectory traj;
  for (int t = 0; t < steps; ++t) {
    const StepResult r = env.Step(std::span(actions.data() + t * act_dim, act_dim), obs);
    traj.obs.insert(traj.obs.end(), obs.begin(), obs.end());
    traj.rewards.push_back(r.reward);
    traj.flags.push_back(r.terminated * 2 + r.truncated);
    if (r.terminated || r.truncated) {
      env.Reset(std::nullopt, obs);
      traj.obs.insert(traj.obs.end(), obs.begin(), obs.end());
    }
  }
  return traj;
}

/// Resets with `seed` (the first observation is recorded), then Continue.
Trajectory Rollout(Env& env, uint64_t seed, const std::vector<float>& actions, int steps) {
  std::vector<float> obs(env.Spec().observation_space.Dim());
  env.Reset(seed, obs);
  Trajectory traj = Continue(env, actions, steps);
  traj.obs.insert(traj.obs.begin(), obs.begin(), obs.end());
  return traj;
}

bool BitwiseEqual(const Trajectory& a, const Trajectory& b) {
  return a.obs.size() == b.obs.size() && a.rewards.size() == b.rewards.size() &&
         std::memcmp(a.obs.data(), b.obs.data(), a.obs.size() * sizeof(float)) == 0 &&
         std::memcmp(a.rewards.data(), b.rewards.data(), a.rewards.size() * sizeof(double)) == 0 &&
         a.flags == b.flags;
}

/// The simulator's warning counters of a task (through a TimeLimit); nullptr if it has none.
const sim::WarningSource* WarningsOf(Env& env) {
  if (auto* source = dynamic_cast<const sim::WarningSource*>(&env)) return source;
  if (auto* limited = dynamic_cast<TimeLimit*>(&env)) return WarningsOf(limited->inner());
  return nullptr;
}

/// Fails the test if a MuJoCo task raised any simulator warning.
void ExpectNoSimulatorWarnings(Env& env) {
  if (const sim::WarningSource* source = WarningsOf(env)) {
    EXPECT_EQ(source->WarningCount(), 0) << "MuJoCo warnings: " << source->WarningSummary();
  }
}

class EnvSweepTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EnvSweepTest, SpacesAreConsistent) {
  auto env = MakeTask(GetParam());
  const EnvSpec& spec = env->Spec();
  const TaskRegistration* registration = FindTask(GetParam());
  ASSERT_NE(registration, nullptr);
  const TaskInfo* info = &registration->info;
  EXPECT_EQ(spec.max_episode_steps, info->default_max_episode_steps);

  // Both boxes: non-empty, matching low/high lengths, low <= high, no NaN bounds.
  for (const Box* box : {&spec.observation_space, &spec.action_space}) {
    ASSERT_GT(box->Dim(), 0);
    ASSERT_EQ(box->low.size(), box->high.size());
    for (int j = 0; j < box->Dim(); ++j) EXPECT_LE(box->low[j], box->high[j]) << "index " << j;
  }
  // A layout, when given, covers its vector exactly with uniquely named blocks.
  for (const auto& [layout, dim] :
       {std::pair(&spec.observation_layout, spec.observation_space.Dim()),
        std::pair(&spec.action_layout, spec.action_space.Dim())}) {
    if (layout->empty()) continue;
    EXPECT_EQ(LayoutSize(*layout), dim);
    std::set<std::string> names;
    for (const SpaceBlock& block : *layout) {
      EXPECT_GT(block.size, 0) << block.name;
      EXPECT_TRUE(names.insert(block.name).second) << block.name;
    }
  }

  // Actions must be bounded so random and policy actions can be clipped.
  for (int j = 0; j < spec.action_space.Dim(); ++j) {
    EXPECT_TRUE(std::isfinite(spec.action_space.low[j]) &&
                std::isfinite(spec.action_space.high[j]));
  }

  // Reset and Step write exactly obs_dim values (a sentinel after the span stays untouched).
  const int obs_dim = spec.observation_space.Dim();
  const float kSentinel = -12345.0f;
  std::vector<float> buffer(obs_dim + 1, std::numeric_limits<float>::quiet_NaN());
  buffer[obs_dim] = kSentinel;
  std::span<float> obs(buffer.data(), obs_dim);
  env->Reset(0, obs);
  for (int j = 0; j < obs_dim; ++j) EXPECT_FALSE(std::isnan(buffer[j])) << "index " << j;
  EXPECT_EQ(buffer[obs_dim], kSentinel);
  std::fill(obs.begin(), obs.end(), std::numeric_limits<float>::quiet_NaN());
  const std::vector<float> action = RandomActions(spec.action_space, 1, 0);
  env->Step(action, obs);
  for (int j = 0; j < obs_dim; ++j) EXPECT_FALSE(std::isnan(buffer[j])) << "index " << j;
  EXPECT_EQ(buffer[obs_dim], kSentinel);
}

TEST_P(EnvSweepTest, RobotLayoutTilesTheSpaces) {
  auto env = MakeTask(GetParam());
  const EnvSpec& spec = env->Spec();
  const TaskRegistration* registration = FindTask(GetParam());
  ASSERT_NE(registration, nullptr);
  const TaskInfo* info = &registration->info;

  // Every task built on the multi-robot world (it registers the world's parameters) has a layout;
  // others have none.
  bool multi_robot = false;
  for (const ParamSpec& param : info->params) multi_robot |= param.name == "num_type_b_robots";
  ASSERT_EQ(spec.robot_layout.has_value(), multi_robot);
  if (!multi_robot) return;

  // Groups tile the observation's head and the whole action, in order; the task block is the
  // observation's tail.
  const RobotLayout& layout = *spec.robot_layout;
  ASSERT_FALSE(layout.groups.empty());
  int obs_end = 0;
  int act_end = 0;
  for (const RobotGroupLayout& group : layout.groups) {
    EXPECT_FALSE(group.type.empty());
    EXPECT_GE(group.count, 1) << group.type;
    EXPECT_EQ(group.obs_offset, obs_end) << group.type;
    EXPECT_EQ(group.act_offset, act_end) << group.type;
    obs_end += group.count * group.obs_dim;
    act_end += group.count * group.act_dim;
  }
  EXPECT_EQ(layout.task_obs_offset, obs_end);
  EXPECT_GE(layout.task_obs_dim, 1);
  EXPECT_EQ(layout.task_obs_offset + layout.task_obs_dim, spec.observation_space.Dim());
  EXPECT_EQ(act_end, spec.action_space.Dim());
}

TEST_P(EnvSweepTest, SameSeedSameTrajectory) {
  auto a = MakeTask(GetParam());
  auto b = MakeTask(GetParam());
  const int steps = a->Spec().max_episode_steps + 50;  // crosses one auto reset
  const auto actions = RandomActions(a->Spec().action_space, steps, 7);
  EXPECT_TRUE(BitwiseEqual(Rollout(*a, 11, actions, steps), Rollout(*b, 11, actions, steps)));
  // The same instance reseeded repeats itself too.
  EXPECT_TRUE(BitwiseEqual(Rollout(*a, 11, actions, steps), Rollout(*a, 11, actions, steps)));
}

TEST_P(EnvSweepTest, DifferentSeedDifferentTrajectory) {
  auto env = MakeTask(GetParam());
  const auto actions = RandomActions(env->Spec().action_space, 20, 7);
  EXPECT_FALSE(BitwiseEqual(Rollout(*env, 1, actions, 20), Rollout(*env, 2, actions, 20)));
}

TEST_P(EnvSweepTest, ResetAfterEpisodeEndStartsAFullEpisode) {
  auto env = MakeTask(GetParam());
  const int horizon = env->Spec().max_episode_steps;
  ASSERT_GT(horizon, 0);
  std::vector<float> obs(env->Spec().observation_space.Dim());
  const auto actions = RandomActions(env->Spec().action_space, horizon, 3);
  const int act_dim = env->Spec().action_space.Dim();

  // Each episode ends within the horizon, and exactly at it unless it terminated.
  for (int episode = 0; episode < 3; ++episode) {
    env->Reset(episode == 0 ? std::optional<uint64_t>(5) : std::nullopt, obs);
    int length = 0;
    StepResult r;
    while (!r.terminated && !r.truncated) {
      ASSERT_LT(length, horizon) << "episode " << episode << " outlived its time limit";
      r = env->Step(std::span<const float>(actions.data() + length * act_dim, act_dim), obs);
      ++length;
      for (float v : obs) ASSERT_FALSE(std::isnan(v));
    }
    if (!r.terminated) {
      EXPECT_EQ(length, horizon);
    }
  }
  ExpectNoSimulatorWarnings(*env);
}

TEST_P(EnvSweepTest, RandomActionsStayFiniteAndInBounds) {
  auto env = MakeTask(GetParam());
  const EnvSpec& spec = env->Spec();
  constexpr int kSteps = 1000;
  const auto actions = RandomActions(spec.action_space, kSteps, 9);
  const Box& box = spec.observation_space;
  const auto check = [&](const std::vector<float>& obs, int t) {
    for (int j = 0; j < box.Dim(); ++j) {
      ASSERT_TRUE(std::isfinite(obs[j])) << "step " << t << " index " << j;
      if (std::isfinite(box.low[j])) {
        ASSERT_GE(obs[j], box.low[j]) << "step " << t << " index " << j;
      }
      if (std::isfinite(box.high[j])) {
        ASSERT_LE(obs[j], box.high[j]) << "step " << t << " index " << j;
      }
    }
  };

  std::vector<float> obs(box.Dim());
  env->Reset(13, obs);
  check(obs, 0);
  for (int t = 0; t < kSteps; ++t) {
    const int act_dim = spec.action_space.Dim();
    const StepResult r = env->Step(std::span(actions.data() + t * act_dim, act_dim), obs);
    ASSERT_TRUE(std::isfinite(r.reward)) << "step " << t;
    for (const auto& [name, value] : r.info) ASSERT_TRUE(std::isfinite(value)) << name;
    check(obs, t + 1);
    if (r.terminated || r.truncated) {
      env->Reset(std::nullopt, obs);
      check(obs, t + 1);
    }
  }
  ExpectNoSimulatorWarnings(*env);
}

TEST_P(EnvSweepTest, SavedStateRestoresTheSameFuture) {
  // Mid-episode of a 30-step horizon (so the check crosses an episode end quickly).
  const std::string name = GetParam();
  auto make = [&name] {
    config::EnvironmentConfig cfg;
    cfg.name = name;
    cfg.max_episode_steps = 30;
    return MakeEnv(cfg);
  };
  auto env = make();
  std::vector<float> obs(env->Spec().observation_space.Dim());
  const int act_dim = env->Spec().action_space.Dim();
  const auto warmup = RandomActions(env->Spec().action_space, 7, 5);
  env->Reset(21, obs);
  for (int t = 0; t < 7; ++t) env->Step(std::span(warmup.data() + t * act_dim, act_dim), obs);
  // Every registered task captures its state (exact resume, docs/resume.md).
  const std::optional<std::string> state = env->SaveState();
  ASSERT_TRUE(state.has_value()) << name << " has no state capture";

  // Another instance, in another episode, restored from the bytes: the same future, bit for bit,
  // across an episode end (the reset RNG is part of the state).
  const int steps = env->Spec().max_episode_steps + 20;
  const auto actions = RandomActions(env->Spec().action_space, steps, 9);
  auto copy = make();
  copy->Reset(99, obs);
  copy->RestoreState(*state);
  EXPECT_TRUE(BitwiseEqual(Continue(*env, actions, steps), Continue(*copy, actions, steps)));

  // Bytes that do not fit are an error, not a silently wrong state.
  EXPECT_THROW(copy->RestoreState(state->substr(0, state->size() / 2)), IoError);
}

/// Registered task names (the parameter of every sweep test).
std::vector<std::string> AllTaskNames() {
  std::vector<std::string> names;
  for (const auto& task : RegisteredTasks()) names.push_back(task.name);
  return names;
}

/// A gtest-safe test name: letters, digits and '_'.
std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST_P(EnvSweepTest, RobotTasksPresentScaledObservations) {
  // Every multi-robot task (it registers scale_observations) is wrapped by default; the scaled
  // trajectory is the raw one (scale_observations: 0) times the declared scales, value for value.
  const TaskRegistration* registration = FindTask(GetParam());
  ASSERT_NE(registration, nullptr);
  bool scalable = false;
  for (const ParamSpec& p : registration->info.params) scalable |= p.name == "scale_observations";
  auto env = MakeTask(GetParam());
  auto* scaled = dynamic_cast<ObservationScale*>(env.get());
  if (!scalable) {
    EXPECT_EQ(scaled, nullptr);
    return;
  }
  ASSERT_NE(scaled, nullptr) << "a robot task must present scaled observations by default";
  const std::vector<float>& scales = scaled->scales();
  ASSERT_EQ(static_cast<int>(scales.size()), env->Spec().observation_space.Dim());

  config::EnvironmentConfig raw_cfg;
  raw_cfg.name = GetParam();
  raw_cfg.params.Set("scale_observations", config::Tree::Scalar("0"));
  auto raw = MakeEnv(raw_cfg);
  EXPECT_EQ(dynamic_cast<ObservationScale*>(raw.get()), nullptr);
  const int steps = 50;
  const std::vector<float> actions = RandomActions(env->Spec().action_space, steps, 5);
  const Trajectory a = Rollout(*env, 11, actions, steps);
  const Trajectory b = Rollout(*raw, 11, actions, steps);
  ASSERT_EQ(a.obs.size(), b.obs.size());
  EXPECT_EQ(a.rewards, b.rewards);
  for (size_t k = 0; k < a.obs.size(); ++k) {
    ASSERT_EQ(a.obs[k], b.obs[k] * scales[k % scales.size()]) << "value " << k % scales.size();
  }
  // The bounds follow the values.
  for (size_t k = 0; k < scales.size(); ++k) {
    EXPECT_EQ(env->Spec().observation_space.high[k],
              raw->Spec().observation_space.high[k] * scales[k]);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTasks, EnvSweepTest, ::testing::ValuesIn(AllTaskNames()), TestName);

}  // namespace
}  // namespace rlpipe::envs
