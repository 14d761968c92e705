// Can the robots push object_displacement's object at all, and what does a random policy get?
// (issue 15: the task did not learn.) Runs hand-written policies on the task with its defaults
// and prints, per policy, the mean over E episodes of the task's statistic (best displacement
// along the target direction), the episode return, the steps until a robot first moves the object
// (> 1 cm), and the start distance of the nearest sphere to the object.
//
// Policies: idle (all actions 0), random (uniform in [-1, 1]), and push: each sphere drives
// (a velocity servo on its world-frame force) to a point behind the object as seen along the
// target direction, going around it, then pushes along the direction, steering onto the object's
// line; charge: each sphere drives straight at the object's centre (it pushes the object along
// its bearing from the sphere, whatever the target direction); seek: each sphere goes down the
// gradient of the task's approach potential at full speed (what the approach term alone asks
// for: its minimum is a sphere pressing on the object from behind); bar robots idle in all three.
// "push", "charge" and "seek" are reachability checks, not good policies.
//
//   build/bench/envs/object_displacement_probe [--episodes E] [--max-object-distance M]
//                                              [--steps H]
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "envs/robots/object_displacement.h"
#include "envs/robots/object_task_util.h"

namespace {

using rlpipe::envs::StepResult;
using rlpipe::envs::robots::ObjectDisplacement;
using rlpipe::envs::robots::ObjectDisplacementParams;
using rlpipe::envs::robots::WorldParams;

enum class Policy { kIdle, kRandom, kPush, kCharge, kSeek };

struct EpisodeStats {
  double best_displacement = 0.0;
  double ret = 0.0;
  int first_contact_step = -1;
  double start_distance = 0.0;
  int length = 0;
};

/// A saturated velocity servo on one sphere: the world-frame force command (x, y) that drives its
/// velocity towards `v_des` (m/s).
std::array<float, 2> Servo(const std::array<double, 2>& v_des, const std::array<double, 2>& v) {
  constexpr double kGain = 1.0;  // command per m/s of velocity error
  return {static_cast<float>(std::clamp(kGain * (v_des[0] - v[0]), -1.0, 1.0)),
          static_cast<float>(std::clamp(kGain * (v_des[1] - v[1]), -1.0, 1.0))};
}

EpisodeStats RunEpisode(ObjectDisplacement& env, Policy policy, uint64_t seed, std::mt19937& rng) {
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(seed, obs);
  auto& world = env.world();
  const int bars = world.NumBars();
  const int spheres = world.NumSpheres();
  const mjtNum* object_pos = world.data().qpos + env.object().qpos;
  const std::array<double, 2> start = {object_pos[0], object_pos[1]};
  EpisodeStats stats;
  stats.start_distance = 1e9;
  for (int j = 0; j < spheres; ++j) {
    const mjtNum* p = world.RobotPosition(bars + j);
    stats.start_distance =
        std::min(stats.start_distance, std::hypot(p[0] - start[0], p[1] - start[1]));
  }
  std::vector<std::array<double, 2>> last(static_cast<size_t>(spheres));
  for (int j = 0; j < spheres; ++j) {
    const mjtNum* p = world.RobotPosition(bars + j);
    last[static_cast<size_t>(j)] = {p[0], p[1]};
  }
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const std::array<double, 2> dir = env.DirectionVector();
  const double dt = world.ControlDt();
  for (int step = 0;; ++step) {
    std::fill(action.begin(), action.end(), 0.0f);
    if (policy == Policy::kRandom) {
      for (float& a : action) a = uniform(rng);
    } else if (policy != Policy::kIdle) {
      const std::array<double, 2> o = {object_pos[0], object_pos[1]};
      for (int j = 0; j < spheres; ++j) {
        const mjtNum* p = world.RobotPosition(bars + j);
        const std::array<double, 2> x = {p[0], p[1]};
        const std::array<double, 2> v = {(x[0] - last[static_cast<size_t>(j)][0]) / dt,
                                         (x[1] - last[static_cast<size_t>(j)][1]) / dt};
        // Sphere relative to the object: along the direction and across it.
        const double along = (x[0] - o[0]) * dir[0] + (x[1] - o[1]) * dir[1];
        const double across = -(x[0] - o[0]) * dir[1] + (x[1] - o[1]) * dir[0];
        std::array<double, 2> goal;
        double speed = 2.5;
        if (policy == Policy::kCharge) {
          // Straight at the object's centre, whatever the direction.
          goal = {o[0] + (o[0] - x[0]), o[1] + (o[1] - x[1])};
        } else if (policy == Policy::kSeek) {
          // Down the approach potential's gradient (central differences, 1 cm), at full speed.
          const std::array<double, 2> down = rlpipe::envs::robots::object_tasks::DescentDirection(
              [&env](double px, double py) { return env.ApproachPotential(px, py); }, x[0], x[1],
              0.01);
          goal = {x[0] + 10.0 * down[0], x[1] + 10.0 * down[1]};
        } else if (along < 0.0 && std::abs(across) < 0.35) {
          // Behind the object and on its line: push, steering onto the line.
          goal = {x[0] + dir[0] - 0.8 * across * -dir[1], x[1] + dir[1] - 0.8 * across * dir[0]};
        } else if (along < 0.0) {
          // Behind but off the line: to the point 1 m behind the object.
          goal = {o[0] - 1.0 * dir[0], o[1] - 1.0 * dir[1]};
          speed = std::min(2.5, 1.5 * std::abs(across) + 0.5);
        } else {
          // In front or beside: around the object on the side the sphere is on, to 1 m behind.
          const double side = across >= 0.0 ? 1.0 : -1.0;
          goal = {o[0] - 1.0 * dir[0] + 1.2 * side * -dir[1],
                  o[1] - 1.0 * dir[1] + 1.2 * side * dir[0]};
        }
        const double gx = goal[0] - x[0];
        const double gy = goal[1] - x[1];
        const double gn = std::max(1e-9, std::hypot(gx, gy));
        const double s = std::min(speed, 2.0 * gn);
        const std::array<float, 2> f = Servo({s * gx / gn, s * gy / gn}, v);
        const size_t a = static_cast<size_t>(6 * bars + 3 * j);
        action[a] = f[0];
        action[a + 1] = f[1];
        last[static_cast<size_t>(j)] = x;
      }
    }
    const StepResult result = env.Step(action, obs);
    if (std::getenv("PROBE_TRACE") && policy == Policy::kPush && step % 30 == 0) {
      const mjtNum* p = world.RobotPosition(bars);
      std::printf(
          "  ep %llu step %d obj %.2f %.2f sphere0 %.2f %.2f %.2f dir %.0f %.0f act %.2f %.2f\n",
          static_cast<unsigned long long>(seed), step, object_pos[0], object_pos[1], p[0], p[1],
          p[2], dir[0], dir[1], action[static_cast<size_t>(6 * bars)],
          action[static_cast<size_t>(6 * bars + 1)]);
    }
    stats.ret += result.reward;
    stats.best_displacement = result.info.at("best_displacement");
    if (stats.first_contact_step < 0 &&
        std::hypot(object_pos[0] - start[0], object_pos[1] - start[1]) > 0.01) {
      stats.first_contact_step = step + 1;
    }
    if (result.terminated || result.truncated) {
      stats.length = step + 1;
      break;
    }
  }
  return stats;
}

}  // namespace

int main(int argc, char** argv) {
  int episodes = 20;
  ObjectDisplacementParams params;
  int steps = ObjectDisplacement::kDefaultMaxEpisodeSteps;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--episodes") {
      episodes = std::atoi(argv[i + 1]);
    } else if (flag == "--max-object-distance") {
      params.max_object_distance_m = std::atof(argv[i + 1]);
    } else if (flag == "--steps") {
      steps = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "object_displacement_probe: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  ObjectDisplacement env(WorldParams{}, params, steps);
  std::printf(
      "object_displacement, defaults but max_object_distance %.1f m, %d steps, %d episodes\n",
      params.max_object_distance_m, steps, episodes);
  std::printf("%-7s %10s %10s %10s %10s %10s %8s\n", "policy", "best_disp", "return", "touched",
              "contact@", "sphere_d0", "length");
  const char* names[] = {"idle", "random", "push", "charge", "seek"};
  for (Policy policy :
       {Policy::kIdle, Policy::kRandom, Policy::kPush, Policy::kCharge, Policy::kSeek}) {
    std::mt19937 rng(7);
    double disp = 0.0, ret = 0.0, contact = 0.0, d0 = 0.0, length = 0.0;
    int touched = 0;
    for (int e = 0; e < episodes; ++e) {
      const EpisodeStats s = RunEpisode(env, policy, 1000 + static_cast<uint64_t>(e), rng);
      disp += s.best_displacement;
      ret += s.ret;
      d0 += s.start_distance;
      length += s.length;
      if (s.first_contact_step >= 0) {
        ++touched;
        contact += s.first_contact_step;
      }
    }
    std::printf("%-7s %10.3f %10.2f %7d/%-2d %10.0f %10.2f %8.0f\n",
                names[static_cast<int>(policy)], disp / episodes, ret / episodes, touched, episodes,
                touched ? contact / touched : -1.0, d0 / episodes, length / episodes);
  }
  return 0;
}
