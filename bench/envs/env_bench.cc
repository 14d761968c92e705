// Env throughput: (a) wrapper overhead of height_maximize against raw mj_step on the same compiled
// model, (b) 8 envs on 2 threads against 1 thread, (c) env-steps/s of every robot task, and the
// cost of compiling a world against copying a compiled one, (d) the RK4 integrator's cost
// against Euler's and implicit's, (e) each integrator's energy and momentum errors. Ratios come
// from the same run.
//   rlpipe_env_bench [seconds_per_measurement]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "envs/observation_scale.h"
#include "envs/registry.h"
#include "envs/robots/height_maximize.h"
#include "envs/robots/world_checks.h"
#include "sim/mujoco_model.h"
#include "vec/vector_env.h"

namespace {

using Clock = std::chrono::steady_clock;

/// Runs `step` in batches until `seconds` have passed; returns calls per second.
double Rate(double seconds, const std::function<void()>& step) {
  int64_t calls = 0;
  const auto start = Clock::now();
  double elapsed = 0.0;
  while (elapsed < seconds) {
    for (int i = 0; i < 100; ++i) step();
    calls += 100;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(calls) / elapsed;
}

std::unique_ptr<rlpipe::envs::Env> Make(const std::string& name) {
  rlpipe::config::EnvironmentConfig cfg;
  cfg.name = name;
  return rlpipe::envs::MakeEnv(cfg);
}

/// Random actions in [-1, 1], a bank of 64 rows of `dim`.
std::vector<std::vector<float>> ActionBank(int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<std::vector<float>> bank(64, std::vector<float>(static_cast<size_t>(dim)));
  for (auto& row : bank) {
    for (float& a : row) a = unit(rng);
  }
  return bank;
}

/// Env-steps/s of one env stepped with random actions (auto-reset on episode end).
double EnvStepRate(rlpipe::envs::Env& env, double seconds) {
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  const auto bank = ActionBank(env.Spec().action_space.Dim(), 1);
  env.Reset(1, obs);
  size_t t = 0;
  return Rate(seconds, [&] {
    const auto r = env.Step(bank[t++ % bank.size()], obs);
    if (r.terminated || r.truncated) env.Reset(std::nullopt, obs);
  });
}

/// Env-steps/s of a batch of `n` envs of `task` on `threads` threads.
double BatchRate(const std::string& task, int n, int threads, double seconds) {
  const rlpipe::vec::VectorEnv::Factory factory = [task] { return Make(task); };
  rlpipe::vec::ThreadedVectorEnv venv(n, threads, factory);
  venv.Reset(3);
  const std::vector<float> actions = ActionBank(venv.ActDim() * n, 2).front();
  return n * Rate(seconds, [&] { venv.Step(actions); });
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  using rlpipe::envs::robots::HeightMaximize;

  // (a) Wrapper overhead: the env's step against a hand-written loop over a second, identical
  // env's MuJoCo model and data — the same seed, the same random action sequence written into
  // ctrl / xfrc_applied (ApplyAction), frame_skip raw mj_step calls and the connection update,
  // nothing else — so both simulate the same kind of motion. Measured alternately three times; the
  // best of each counts.
  {
    auto env = Make("height_maximize");
    auto raw_env = Make("height_maximize");
    auto& raw_task = dynamic_cast<HeightMaximize&>(rlpipe::envs::UnwrapTask(*raw_env));
    rlpipe::envs::robots::MultiRobotWorld& world = raw_task.world();
    std::vector<float> obs(static_cast<size_t>(env->Spec().observation_space.Dim()));
    env->Reset(1, obs);
    raw_env->Reset(1, obs);
    const int frame_skip = world.params().frame_skip;
    const int horizon = env->Spec().max_episode_steps;
    const auto bank = ActionBank(env->Spec().action_space.Dim(), 1);
    size_t t = 0;
    int raw_steps = 0;
    double raw = 0.0, wrapped = 0.0;
    for (int round = 0; round < 3; ++round) {
      raw = std::max(raw, Rate(seconds / 3, [&] {
                       world.ApplyAction(bank[t++ % bank.size()]);
                       for (int s = 0; s < frame_skip; ++s)
                         mj_step(&world.model(), &world.mutable_data());
                       // Connections are part of the physics (they switch equality constraints
                       // on and off); without them the raw loop simulates fewer constraints.
                       world.UpdateConnections();
                       // Same episode length as the env's time limit.
                       if (++raw_steps % horizon == 0) raw_env->Reset(std::nullopt, obs);
                     }));
      wrapped = std::max(wrapped, EnvStepRate(*env, seconds / 3));
    }
    std::printf(
        "(a) height_maximize N=2: env %.0f steps/s, raw ApplyAction + mj_step x%d + connections "
        "%.0f steps/s, "
        "ratio %.3f (goal >= 0.90)\n",
        wrapped, frame_skip, raw, wrapped / raw);
  }

  // (b) 8 envs on 2 threads against 1 thread.
  {
    const double one = BatchRate("height_maximize", 8, 1, seconds);
    const double two = BatchRate("height_maximize", 8, 2, seconds);
    std::printf(
        "(b) height_maximize 8 envs: 1 thread %.0f env-steps/s, 2 threads %.0f, "
        "ratio %.3f (goal >= 1.7)\n",
        one, two, two / one);
  }

  // (c) Every registered task, one env, random actions.
  for (const auto& info : rlpipe::envs::RegisteredTasks()) {
    auto env = Make(info.name);
    std::printf("(c) %-18s %.0f env-steps/s\n", info.name.c_str(), EnvStepRate(*env, seconds));
  }

  // (d) The world's integrator (RK4) against semi-implicit Euler and implicit on the same task,
  // seed and actions; alternately three times, the best of each counts.
  {
    const auto with_integrator = [](int integrator) {
      auto env = Make("height_maximize");
      if (integrator >= 0) {
        dynamic_cast<HeightMaximize&>(rlpipe::envs::UnwrapTask(*env))
            .world()
            .mutable_model()
            .opt.integrator = integrator;
      }
      return env;
    };
    auto world_env = with_integrator(-1);
    auto euler_env = with_integrator(mjINT_EULER);
    auto implicit_env = with_integrator(mjINT_IMPLICIT);
    double world = 0.0, euler = 0.0, implicit = 0.0;
    for (int round = 0; round < 3; ++round) {
      world = std::max(world, EnvStepRate(*world_env, seconds / 3));
      euler = std::max(euler, EnvStepRate(*euler_env, seconds / 3));
      implicit = std::max(implicit, EnvStepRate(*implicit_env, seconds / 3));
    }
    std::printf(
        "(d) height_maximize N=2: RK4 (the world's) %.0f steps/s, Euler %.0f, implicit %.0f; "
        "time per step against Euler: RK4 %.2fx, implicit %.2fx\n",
        world, euler, implicit, euler / world, euler / implicit);
  }

  // (e) What each integrator does to the physics (envs/robots/world_checks.h, the checks the
  // world's tests assert for RK4): a tumbling bar robot's energy gain with idle motors in 5 s at
  // 100 and 200 rad/s, and the worst error of a flailing falling robot's centre-of-mass
  // acceleration against -g over 2 s.
  for (const auto& [integrator, label] : {std::pair{mjINT_EULER, "Euler"},
                                          std::pair{mjINT_IMPLICIT, "implicit"},
                                          std::pair{mjINT_RK4, "RK4"}}) {
    const auto world = [integrator] {
      rlpipe::envs::robots::WorldParams params;
      params.num_type_b_robots = 1;
      auto w = std::make_unique<rlpipe::envs::robots::MultiRobotWorld>(params);
      w->mutable_model().opt.integrator = integrator;
      return w;
    };
    const auto gain = [&](double rate) {
      const auto energy =
          rlpipe::envs::robots::TumbleBarRobot(*world(), {0.6 * rate, 0.48 * rate, 0.64 * rate}, 300);
      return 100.0 * (energy.most_j / energy.start_j - 1.0);
    };
    double worst = 0.0;
    auto falling = world();
    const double g = -falling->model().opt.gravity[2];
    for (double a : rlpipe::envs::robots::FreeFallComAccelerations(*falling, 1, 120))
      worst = std::max(worst, std::abs(a + g));
    std::printf(
        "(e) %-8s tumbling robot's energy gain in 5 s: %+.1f%% at 100 rad/s, %+.1f%% at 200 rad/s; "
        "falling robot's centre of mass off -g by up to %.2f m/s^2\n",
        label, gain(100.0), gain(200.0), worst);
  }

  // Compiling a world against copying an already compiled one (what each env does).
  {
    const rlpipe::envs::robots::WorldParams params;
    const std::string xml = rlpipe::envs::robots::BuildWorldXml(params);
    const rlpipe::sim::ModelPtr compiled = rlpipe::sim::CompileXml(xml);
    const double compile = Rate(seconds / 4, [&] { rlpipe::sim::CompileXml(xml); });
    const double copy = Rate(seconds / 4, [&] { rlpipe::sim::CopyModel(*compiled); });
    std::printf("model: compile %.2f ms, copy %.3f ms (%.0fx faster)\n", 1e3 / compile, 1e3 / copy,
                copy / compile);
  }
  return 0;
}
