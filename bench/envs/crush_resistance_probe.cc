// How much can crush_resistance's survival depend on the robots? (issue 15: the task did not
// learn.) Runs hand-written policies on the task with press settings from the flags and prints,
// per policy, the mean over E episodes of the survival seconds, the episode return, the step
// the press first touched a robot (after activation) and the bar robots' mean arm-tip height over
// the episode.
//
// Policies: idle (all actions 0), random (uniform in [-1, 1]), arms-up: every bar robot holds
// both arms vertical (a PD law on the arm's direction, torques in the arm's frame), spheres idle —
// a posture a policy can hold from any pose, whose arm tips are 0.55 m above the floor;
// arms-up-pos: arms-up while positioning, idle once the press descends; prop: idle until the
// plate's underside is below --prop-height, then arms-up (the arms rise from where they lie and
// their tips meet the plate); prop-one: the same with only each bar robot's first arm.
//
//   build/bench/envs/crush_resistance_probe [--episodes E] [--reference-height m]
//     [--positioning-seconds s] [--speed m/s] [--increment N] [--crush-height m] [--steps H]
//     [--noise std] [--noise-on-spheres 0|1]   (Gaussian noise of this std added to the idle and
//     arms-up actions: all of them, or with 0 only the bar robots' arm torques)
//     [--kp N·m/rad] [--kd N·m·s/rad]   (the arms-up law's gains, 60 and 3)
//     [--prop-height m]   (when the prop policies raise their arms, 0.7)
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "envs/robots/crush_resistance.h"

namespace {

using rlpipe::envs::StepResult;
using rlpipe::envs::robots::CrushResistance;
using rlpipe::envs::robots::PressParams;
using rlpipe::envs::robots::WorldParams;

enum class Policy { kIdle, kRandom, kArmsUp, kArmsUpPositioning, kProp, kPropOne };

struct EpisodeStats {
  double survival = 0.0;
  double ret = 0.0;
  int first_touch = -1;     // steps after activation
  double tip_height = 0.0;  // mean over the episode's steps
};

/// Arm torques (in the arm's frame, as actions) that turn arm `body`'s long axis (its local x)
/// towards world up and damp its spin.
/// PD gains of the arms-up law: N·m per rad of tilt, N·m per rad/s (flags --kp, --kd).
double kP = 60.0;
double kD = 3.0;
/// The prop policies raise their arms once the plate's underside is below this (flag
/// --prop-height, m).
double prop_height = 0.7;
/// Whether --noise also drives the spheres (else only the bar robots' arm torques).
bool noise_on_spheres = true;

std::array<float, 3> ArmUp(const mjData& data, int body) {
  constexpr double kGear = 21.6;
  const mjtNum* r = data.xmat + 9 * body;  // row-major: world = R · local
  const double x[3] = {r[0], r[3], r[6]};
  // Error axis x × up, its length sin(tilt); the tilt angle along it.
  const double e[3] = {x[1], -x[0], 0.0};
  const double s = std::hypot(e[0], e[1]);
  const double tilt = std::atan2(s, x[2]);
  const double scale = s > 1e-9 ? tilt / s : 0.0;
  const mjtNum* w = data.cvel + 6 * body;  // rotational velocity (world frame) first
  double torque[3];
  for (int k = 0; k < 3; ++k) torque[k] = kP * scale * e[k] - kD * w[k];
  std::array<float, 3> local{};
  for (int k = 0; k < 3; ++k) {
    const double t = r[k] * torque[0] + r[3 + k] * torque[1] + r[6 + k] * torque[2];
    local[static_cast<size_t>(k)] = static_cast<float>(std::clamp(t / kGear, -1.0, 1.0));
  }
  return local;
}

EpisodeStats RunEpisode(CrushResistance& env, Policy policy, double noise, uint64_t seed,
                        std::mt19937& rng) {
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(seed, obs);
  auto& world = env.world();
  std::vector<int> arm_bodies;
  for (int bar = 0; bar < world.NumBars(); ++bar) {
    for (int arm = 0; arm < 2; ++arm) {
      const std::string name = "bar" + std::to_string(bar) + "_arm" + std::to_string(arm);
      arm_bodies.push_back(mj_name2id(&world.model(), mjOBJ_BODY, name.c_str()));
    }
  }
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  EpisodeStats stats;
  int active_steps = 0;
  for (int step = 0;; ++step) {
    std::fill(action.begin(), action.end(), 0.0f);
    if (policy == Policy::kRandom) {
      for (float& a : action) a = uniform(rng);
    } else if (policy == Policy::kArmsUp ||
               (policy == Policy::kArmsUpPositioning && !env.active()) ||
               ((policy == Policy::kProp || policy == Policy::kPropOne) &&
                env.PressHeight() < prop_height)) {
      // prop-one raises only each bar robot's first arm.
      const size_t stride = policy == Policy::kPropOne ? 2 : 1;
      for (size_t k = 0; k < arm_bodies.size(); k += stride) {
        const std::array<float, 3> t = ArmUp(world.data(), arm_bodies[k]);
        std::copy(t.begin(), t.end(), action.begin() + static_cast<long>(3 * k));
      }
    }
    if (noise > 0.0 && policy != Policy::kRandom) {
      // Gaussian exploration noise of this std on every action (what a PPO policy with
      // log_std = log(noise) adds), clipped by the env.
      std::normal_distribution<double> gauss(0.0, noise);
      const size_t noisy =
          noise_on_spheres ? action.size() : static_cast<size_t>(6 * world.NumBars());
      for (size_t k = 0; k < noisy; ++k) action[k] += static_cast<float>(gauss(rng));
    }
    const StepResult result = env.Step(action, obs);
    stats.ret += result.reward;
    double tips = 0.0;
    for (int bar = 0; bar < world.NumBars(); ++bar) {
      for (int arm = 0; arm < 2; ++arm) tips += world.TipPosition(bar, arm)[2];
    }
    stats.tip_height += tips / (2 * world.NumBars());
    if (env.active()) {
      ++active_steps;
      if (stats.first_touch < 0 && env.PressHeld()) stats.first_touch = active_steps;
    }
    if (result.terminated || result.truncated) {
      stats.survival = result.info.at("survival_seconds");
      stats.tip_height /= step + 1;
      break;
    }
  }
  return stats;
}

}  // namespace

int main(int argc, char** argv) {
  int episodes = 10;
  PressParams press;
  int steps = CrushResistance::kDefaultMaxEpisodeSteps;
  double noise = 0.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const double value = std::atof(argv[i + 1]);
    if (flag == "--episodes") {
      episodes = static_cast<int>(value);
    } else if (flag == "--reference-height") {
      press.reference_height_m = value;
    } else if (flag == "--positioning-seconds") {
      press.positioning_seconds = value;
    } else if (flag == "--speed") {
      press.descent_speed_mps = value;
    } else if (flag == "--increment") {
      press.force_increment_n = value;
    } else if (flag == "--crush-height") {
      press.crush_height_m = value;
    } else if (flag == "--steps") {
      steps = static_cast<int>(value);
    } else if (flag == "--noise") {
      noise = value;
    } else if (flag == "--noise-on-spheres") {
      noise_on_spheres = value != 0.0;
    } else if (flag == "--kp") {
      kP = value;
    } else if (flag == "--kd") {
      kD = value;
    } else if (flag == "--prop-height") {
      prop_height = value;
    } else {
      std::fprintf(stderr, "crush_resistance_probe: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  CrushResistance env(WorldParams{}, press, steps);
  std::printf(
      "crush_resistance: reference %.2f m, positioning %.1f s, speed %.2f m/s, increment %.1f N, "
      "crush %.2f m, %d steps, %d episodes, action noise std %.2f, arms-up gains %.1f / %.2f\n",
      press.reference_height_m, press.positioning_seconds, press.descent_speed_mps,
      press.force_increment_n, press.crush_height_m, steps, episodes, noise, kP, kD);
  std::printf("%-11s %10s %10s %10s %10s\n", "policy", "survival", "return", "touch@", "tip_z");
  const char* names[] = {"idle", "random", "arms-up", "arms-up-pos", "prop", "prop-one"};
  for (Policy policy : {Policy::kIdle, Policy::kRandom, Policy::kArmsUp, Policy::kArmsUpPositioning,
                        Policy::kProp, Policy::kPropOne}) {
    std::mt19937 rng(7);
    double survival = 0.0, ret = 0.0, touch = 0.0, tip = 0.0;
    int touched = 0;
    for (int e = 0; e < episodes; ++e) {
      const EpisodeStats s = RunEpisode(env, policy, noise, 1000 + static_cast<uint64_t>(e), rng);
      survival += s.survival;
      ret += s.ret;
      tip += s.tip_height;
      if (s.first_touch >= 0) {
        ++touched;
        touch += s.first_touch;
      }
    }
    std::printf("%-11s %10.2f %10.1f %10.0f %10.3f\n", names[static_cast<int>(policy)],
                survival / episodes, ret / episodes, touched ? touch / touched : -1.0,
                tip / episodes);
  }
  return 0;
}
