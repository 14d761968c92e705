// Can the robots bring object_manipulation's 2-8 kg objects to their targets at all, what does the
// reward pay before they touch one, and why do episodes end early? (issue 15: the task did not
// learn; its trained policy ended evaluation episodes after 215-553 steps against random's 1790.)
// Runs hand-written policies on the task with its defaults and prints, per policy, the mean over
// E episodes of: the bench statistic (the episode's summed `progress`, m: what
// bench/task_learning compares with random), the return, the return before the first touch, the
// episode length, how the episode ended (success, a sphere, a bar robot or an object more than 1 m
// outside the arena, the horizon), the steps until a robot first touches an object and until an
// object first moves (> 1 cm), and the objects that entered their targets.
//
// Policies: idle (all actions 0); random (uniform in [-1, 1] every step); drift (one uniform
// action per episode, held: what a deterministic policy with an untrained, non-zero mean does);
// push: both spheres (a velocity servo on their world-frame force) pick the unfinished object whose
// back side (as seen from its target) is nearest, drive around it to its back, side by side, then
// push it along the line to its target, steering onto it; the next object when it is within 0.5 m
// of its target centre; seek: each sphere goes down the gradient of the task's approach potential
// at full speed (what the approach term alone asks for); bar robots idle in push and seek. "push"
// and "seek" are reachability checks, not good policies.
//
// Then a shove test, the physics alone: per object of E resets (every other object and the bar
// robots parked far outside the arena), one or both spheres placed 1 cm behind the object (a box
// turned square to the push) push it towards its target at full command for 2 s; the mean
// displacement along the push per mass bin says which masses the spheres can move at all.
//
//   build/bench/envs/object_manipulation_probe [--episodes E] [--objects K] [--steps H]
//       [--policies idle,random,drift,push,seek] [--object-friction F] [--noise S]
//
// --noise S: Gaussian noise of std S added to every action of idle, drift, push and seek (the
// exploration PPO's policy adds to its mean: std 1 at the shipped log_std_init 0).
//
// --object-friction F (what if): the objects' sliding friction set to F in this probe's model
// (governing their contacts), e.g. 1 for the floor's, which the objects had before issue 15.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "envs/robots/object_manipulation.h"
#include "envs/robots/object_task_util.h"

namespace {

using rlpipe::envs::StepResult;
using rlpipe::envs::robots::ObjectManipulation;
using rlpipe::envs::robots::ObjectManipulationParams;
using rlpipe::envs::robots::RobotConstants;
using rlpipe::envs::robots::WorldParams;
using Vec2 = std::array<double, 2>;

enum class Policy { kIdle, kRandom, kDrift, kPush, kSeek };
constexpr const char* kPolicyNames[] = {"idle", "random", "drift", "push", "seek"};

/// How an episode ended.
enum class End { kSuccess, kSphereOut, kBarOut, kObjectOut, kHorizon };

struct EpisodeStats {
  double progress = 0.0;       // summed info "progress" (the bench statistic), m
  double ret = 0.0;            // return
  double ret_untouched = 0.0;  // return before the first robot-object contact
  int length = 0;
  End end = End::kHorizon;
  int first_touch = -1;  // step of the first robot-object contact (-1: never)
  int first_move = -1;   // step an object first moved > 1 cm from its start (-1: never)
  int entered = 0;       // objects that entered their target
};

/// A saturated velocity servo on one sphere: the world-frame force command (x, y) that drives its
/// velocity towards `v_des` (m/s).
std::array<float, 2> Servo(const Vec2& v_des, const Vec2& v) {
  constexpr double kGain = 1.0;  // command per m/s of velocity error
  return {static_cast<float>(std::clamp(kGain * (v_des[0] - v[0]), -1.0, 1.0)),
          static_cast<float>(std::clamp(kGain * (v_des[1] - v[1]), -1.0, 1.0))};
}

Vec2 ObjectXy(const ObjectManipulation& env, int k) {
  const mjtNum* p = env.world().data().qpos + env.object(k).qpos;
  return {p[0], p[1]};
}

/// Unit vector from object `k` to its target.
Vec2 PushDirection(const ObjectManipulation& env, int k) {
  const Vec2 o = ObjectXy(env, k);
  const Vec2& t = env.target(k);
  const double n = std::max(1e-9, std::hypot(t[0] - o[0], t[1] - o[1]));
  return {(t[0] - o[0]) / n, (t[1] - o[1]) / n};
}

/// True when (x, y) is more than kArenaExitMargin outside the arena (the task's own test).
bool Outside(const ObjectManipulation& env, double arena_size_m, double x, double y) {
  const WorldParams& w = env.world().params();
  const double limit = arena_size_m / 2.0 + ObjectManipulation::kArenaExitMargin;
  return std::abs(x - w.spawn_center_x_m) > limit || std::abs(y - w.spawn_center_y_m) > limit;
}

/// True when a robot geom touches an object geom in the current contacts.
bool RobotTouchesObject(const ObjectManipulation& env) {
  const mjModel& m = env.world().model();
  const mjData& d = env.world().data();
  for (int c = 0; c < d.ncon; ++c) {
    const int g1 = d.contact[c].geom1;
    const int g2 = d.contact[c].geom2;
    for (int k = 0; k < env.NumObjects(); ++k) {
      const int body = env.object(k).body;
      if ((m.geom_bodyid[g1] == body && env.world().IsRobotGeom(g2)) ||
          (m.geom_bodyid[g2] == body && env.world().IsRobotGeom(g1))) {
        return true;
      }
    }
  }
  return false;
}

/// The push policy's sphere commands (bar robots idle). `chosen`: the object the spheres work on
/// (kept until it is within 0.5 m of its target centre).
void PushActions(const ObjectManipulation& env, int& chosen, const std::vector<Vec2>& sphere_xy,
                 const std::vector<Vec2>& sphere_v, std::vector<float>& action) {
  const auto& world = env.world();
  const int bars = world.NumBars();
  const int spheres = world.NumSpheres();
  constexpr double kDoneDistance = 0.5;
  if (chosen < 0 || env.TargetDistance(chosen) < kDoneDistance) {
    // The unfinished object whose back side is nearest to the spheres' centroid.
    Vec2 c = {0.0, 0.0};
    for (const Vec2& x : sphere_xy) c = {c[0] + x[0] / spheres, c[1] + x[1] / spheres};
    chosen = -1;
    double best = 1e18;
    for (int k = 0; k < env.NumObjects(); ++k) {
      if (env.TargetDistance(k) < kDoneDistance) continue;
      const Vec2 o = ObjectXy(env, k);
      const Vec2 dir = PushDirection(env, k);
      const double d = std::hypot(o[0] - 0.8 * dir[0] - c[0], o[1] - 0.8 * dir[1] - c[1]);
      if (d < best) {
        best = d;
        chosen = k;
      }
    }
  }
  if (chosen < 0) return;
  const Vec2 o = ObjectXy(env, chosen);
  const Vec2 dir = PushDirection(env, chosen);
  const Vec2 perp = {-dir[1], dir[0]};
  for (int j = 0; j < spheres; ++j) {
    // This sphere's lane: side by side behind the object's back face.
    const double lane = (j - 0.5 * (spheres - 1)) * 0.36;
    const Vec2& x = sphere_xy[static_cast<size_t>(j)];
    const double along = (x[0] - o[0]) * dir[0] + (x[1] - o[1]) * dir[1];
    const double across = (x[0] - o[0]) * perp[0] + (x[1] - o[1]) * perp[1] - lane;
    Vec2 goal;
    double speed = 2.5;
    if (along < -0.3 && std::abs(across) < 0.15) {
      // Behind the object in its lane: push, steering onto the lane.
      goal = {x[0] + dir[0] - 0.8 * across * perp[0], x[1] + dir[1] - 0.8 * across * perp[1]};
    } else if (along < -0.3) {
      // Behind but off the lane: to the lane 0.9 m behind the object.
      goal = {o[0] - 0.9 * dir[0] + lane * perp[0], o[1] - 0.9 * dir[1] + lane * perp[1]};
      speed = std::min(2.5, 1.5 * std::abs(across) + 0.5);
    } else {
      // In front or beside: around the object on the sphere's side, to 0.9 m behind it.
      const double side = across + lane >= 0.0 ? 1.0 : -1.0;
      goal = {o[0] - 0.9 * dir[0] + 1.2 * side * perp[0],
              o[1] - 0.9 * dir[1] + 1.2 * side * perp[1]};
    }
    const double gx = goal[0] - x[0];
    const double gy = goal[1] - x[1];
    const double gn = std::max(1e-9, std::hypot(gx, gy));
    const double s = std::min(speed, 2.0 * gn);
    const std::array<float, 2> f =
        Servo({s * gx / gn, s * gy / gn}, sphere_v[static_cast<size_t>(j)]);
    const size_t a = static_cast<size_t>(6 * bars + 3 * j);
    action[a] = f[0];
    action[a + 1] = f[1];
  }
}

EpisodeStats RunEpisode(ObjectManipulation& env, double arena_size_m, Policy policy, uint64_t seed,
                        double noise_std, std::mt19937& rng) {
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(seed, obs);
  const auto& world = env.world();
  const int bars = world.NumBars();
  const int spheres = world.NumSpheres();
  std::vector<Vec2> starts;
  for (int k = 0; k < env.NumObjects(); ++k) starts.push_back(ObjectXy(env, k));
  std::vector<Vec2> last(static_cast<size_t>(spheres));
  for (int j = 0; j < spheres; ++j) {
    const mjtNum* p = world.RobotPosition(bars + j);
    last[static_cast<size_t>(j)] = {p[0], p[1]};
  }
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> held(action.size());
  for (float& a : held) a = uniform(rng);
  const double dt = world.ControlDt();
  int chosen = -1;
  EpisodeStats stats;
  for (int step = 0;; ++step) {
    // Sphere positions and velocities (finite differences over the last control step).
    std::vector<Vec2> xy(static_cast<size_t>(spheres)), v(static_cast<size_t>(spheres));
    for (int j = 0; j < spheres; ++j) {
      const mjtNum* p = world.RobotPosition(bars + j);
      const size_t i = static_cast<size_t>(j);
      xy[i] = {p[0], p[1]};
      v[i] = {(p[0] - last[i][0]) / dt, (p[1] - last[i][1]) / dt};
      last[i] = xy[i];
    }
    std::fill(action.begin(), action.end(), 0.0f);
    if (policy == Policy::kRandom) {
      for (float& a : action) a = uniform(rng);
    } else if (policy == Policy::kDrift) {
      action = held;
    } else if (policy == Policy::kPush) {
      PushActions(env, chosen, xy, v, action);
    } else if (policy == Policy::kSeek) {
      // Down the approach potential's gradient (central differences, 1 cm), at full speed.
      for (int j = 0; j < spheres; ++j) {
        const Vec2& x = xy[static_cast<size_t>(j)];
        const std::array<double, 2> down = rlpipe::envs::robots::object_tasks::DescentDirection(
            [&env](double px, double py) { return env.ApproachPotential(px, py); }, x[0], x[1],
            0.01);
        const std::array<float, 2> f =
            Servo({2.5 * down[0], 2.5 * down[1]}, v[static_cast<size_t>(j)]);
        const size_t a = static_cast<size_t>(6 * bars + 3 * j);
        action[a] = f[0];
        action[a + 1] = f[1];
      }
    }
    // Exploration noise (what PPO's Gaussian policy adds to its mean; the env clips).
    if (noise_std > 0.0 && policy != Policy::kRandom) {
      std::normal_distribution<float> gauss(0.0f, static_cast<float>(noise_std));
      for (float& a : action) a += gauss(rng);
    }
    const StepResult result = env.Step(action, obs);
    stats.progress += result.info.at("progress");
    stats.ret += result.reward;
    if (stats.first_touch < 0 && RobotTouchesObject(env)) stats.first_touch = step + 1;
    if (stats.first_touch < 0) stats.ret_untouched += result.reward;
    for (int k = 0; stats.first_move < 0 && k < env.NumObjects(); ++k) {
      const Vec2 o = ObjectXy(env, k);
      const Vec2& s = starts[static_cast<size_t>(k)];
      if (std::hypot(o[0] - s[0], o[1] - s[1]) > 0.01) stats.first_move = step + 1;
    }
    if (result.terminated || result.truncated) {
      stats.length = step + 1;
      stats.entered = static_cast<int>(result.info.at("objects_entered"));
      if (result.info.at("success") > 0.0) {
        stats.end = End::kSuccess;
      } else if (result.terminated) {
        stats.end = End::kObjectOut;
        for (int r = 0; r < world.NumRobots(); ++r) {
          const mjtNum* p = world.RobotPosition(r);
          if (Outside(env, arena_size_m, p[0], p[1])) {
            stats.end = r < world.NumBars() ? End::kBarOut : End::kSphereOut;
          }
        }
      }
      return stats;
    }
  }
}

/// Mass bins of the shove test (kg).
constexpr std::array<double, 4> kBinEdges = {2.0, 3.5, 5.0, 6.5};
int MassBin(double mass) {
  int bin = 0;
  while (bin + 1 < static_cast<int>(kBinEdges.size()) &&
         mass >= kBinEdges[static_cast<size_t>(bin + 1)])
    ++bin;
  return bin;
}

/// Shove test on object `k` after a reset: everything else parked outside the arena, `pushers`
/// spheres placed 1 cm behind the object (a box turned square to the push), full command towards
/// the target for `steps` steps. Returns the object's displacement along the push (m).
double Shove(ObjectManipulation& env, uint64_t seed, int k, int pushers, int steps) {
  std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(env.Spec().action_space.Dim()), 0.0f);
  env.Reset(seed, obs);
  auto& world = env.world();
  mjData& d = world.mutable_data();
  const int bars = world.NumBars();
  // Park every bar robot, every other sphere and every other object far outside the arena.
  for (int r = 0; r < world.NumRobots(); ++r) {
    world.PlaceRobot(r, {20.0 + 1.0 * r, 20.0, 0.3});
  }
  for (int o = 0; o < env.NumObjects(); ++o) {
    if (o == k) continue;
    const mjtNum pos[3] = {20.0 + 2.0 * o, -20.0, ObjectManipulation::kObjectHalfSize + 0.002};
    const mjtNum quat[4] = {1.0, 0.0, 0.0, 0.0};
    rlpipe::envs::robots::object_tasks::SetFreeBodyPose(env.object(o), d, pos, quat);
  }
  // The object square to the push; the pushers side by side 1 cm behind it.
  const Vec2 o = ObjectXy(env, k);
  const Vec2 dir = PushDirection(env, k);
  const Vec2 perp = {-dir[1], dir[0]};
  const double yaw = std::atan2(dir[1], dir[0]);
  const mjtNum pos[3] = {o[0], o[1], ObjectManipulation::kObjectHalfSize + 0.002};
  const mjtNum quat[4] = {std::cos(yaw / 2.0), 0.0, 0.0, std::sin(yaw / 2.0)};
  rlpipe::envs::robots::object_tasks::SetFreeBodyPose(env.object(k), d, pos, quat);
  const double reach = ObjectManipulation::kObjectHalfSize + RobotConstants::kSphereRadius;
  for (int j = 0; j < pushers; ++j) {
    const double lane = (j - 0.5 * (pushers - 1)) * 0.36;
    const double back = (k % 2 == 0 ? reach : std::sqrt(reach * reach - lane * lane)) + 0.01;
    world.PlaceRobot(bars + j,
                     {o[0] - back * dir[0] + lane * perp[0], o[1] - back * dir[1] + lane * perp[1],
                      RobotConstants::kSphereRadius + 0.001});
  }
  mj_forward(&world.model(), &d);
  // Full command along the push direction (per-axis clipping: 20 N on an axis, 28 N diagonally).
  const double scale = 1.0 / std::max(std::abs(dir[0]), std::abs(dir[1]));
  for (int j = 0; j < pushers; ++j) {
    const size_t a = static_cast<size_t>(6 * bars + 3 * j);
    action[a] = static_cast<float>(dir[0] * scale);
    action[a + 1] = static_cast<float>(dir[1] * scale);
  }
  for (int step = 0; step < steps; ++step) env.Step(action, obs);
  const Vec2 end = ObjectXy(env, k);
  return (end[0] - o[0]) * dir[0] + (end[1] - o[1]) * dir[1];
}

}  // namespace

int main(int argc, char** argv) {
  int episodes = 20;
  ObjectManipulationParams params;
  int steps = ObjectManipulation::kDefaultMaxEpisodeSteps;
  double object_friction = -1.0;  // < 0: the task's own
  double noise_std = 0.0;         // Gaussian noise on every action of the scripted policies
  std::string policies = "idle,random,drift,push,seek";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--episodes") {
      episodes = std::atoi(argv[i + 1]);
    } else if (flag == "--objects") {
      params.num_objects = std::atoi(argv[i + 1]);
    } else if (flag == "--steps") {
      steps = std::atoi(argv[i + 1]);
    } else if (flag == "--object-friction") {
      object_friction = std::atof(argv[i + 1]);
    } else if (flag == "--noise") {
      noise_std = std::atof(argv[i + 1]);
    } else if (flag == "--policies") {
      policies = argv[i + 1];
    } else {
      std::fprintf(stderr, "object_manipulation_probe: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  ObjectManipulation env(WorldParams{}, params, steps);
  if (object_friction >= 0.0) {
    // What if: the objects' sliding friction, governing their contacts (priority over the floor).
    mjModel& m = env.world().mutable_model();
    for (int k = 0; k < env.NumObjects(); ++k) {
      for (int g = 0; g < m.ngeom; ++g) {
        if (m.geom_bodyid[g] != env.object(k).body) continue;
        m.geom_friction[3 * g] = object_friction;
        m.geom_priority[g] = 1;
      }
    }
    std::printf("what if: object sliding friction %.2f (governs the objects' contacts)\n",
                object_friction);
  }

  // The policies on the task.
  if (noise_std > 0.0) std::printf("exploration noise: std %.2f on every action\n", noise_std);
  std::printf(
      "object_manipulation, defaults (%d objects, arena %.0f m, N = 2), %d steps, %d "
      "episodes\n",
      params.num_objects, params.arena_size_m, steps, episodes);
  std::printf("%-7s %9s %9s %9s %7s  %-28s %14s %14s %8s\n", "policy", "progress", "return",
              "ret<touch", "length", "end: succ/sphere/bar/obj/hz", "touch@ (n)", "move@ (n)",
              "entered");
  for (Policy policy :
       {Policy::kIdle, Policy::kRandom, Policy::kDrift, Policy::kPush, Policy::kSeek}) {
    if (("," + policies + ",")
            .find("," + std::string(kPolicyNames[static_cast<int>(policy)]) + ",") ==
        std::string::npos) {
      continue;
    }
    std::mt19937 rng(7);
    double progress = 0.0, ret = 0.0, ret_untouched = 0.0, length = 0.0, touch = 0.0, move = 0.0,
           entered = 0.0;
    int touched = 0, moved = 0;
    std::array<int, 5> ends = {0, 0, 0, 0, 0};
    for (int e = 0; e < episodes; ++e) {
      const EpisodeStats s = RunEpisode(env, params.arena_size_m, policy,
                                        1000 + static_cast<uint64_t>(e), noise_std, rng);
      progress += s.progress;
      ret += s.ret;
      ret_untouched += s.ret_untouched;
      length += s.length;
      entered += s.entered;
      ++ends[static_cast<size_t>(s.end)];
      if (s.first_touch >= 0) {
        ++touched;
        touch += s.first_touch;
      }
      if (s.first_move >= 0) {
        ++moved;
        move += s.first_move;
      }
    }
    char end_text[64];
    std::snprintf(end_text, sizeof(end_text), "%d/%d/%d/%d/%d", ends[0], ends[1], ends[2], ends[3],
                  ends[4]);
    char touch_text[32], move_text[32];
    std::snprintf(touch_text, sizeof(touch_text), "%.0f (%d)", touched ? touch / touched : -1.0,
                  touched);
    std::snprintf(move_text, sizeof(move_text), "%.0f (%d)", moved ? move / moved : -1.0, moved);
    std::printf("%-7s %9.3f %9.2f %9.3f %7.0f  %-28s %14s %14s %8.2f\n",
                kPolicyNames[static_cast<int>(policy)], progress / episodes, ret / episodes,
                ret_untouched / episodes, length / episodes, end_text, touch_text, move_text,
                entered / episodes);
  }

  // The shove test: displacement along the push in 2 s, per mass bin, one or both spheres.
  constexpr int kShoveSteps = 120;
  std::printf("\nshove test: %d s at full command from 1 cm behind, every object of %d resets\n",
              kShoveSteps / 60, episodes);
  std::printf("%-10s %8s %16s %16s\n", "mass (kg)", "objects", "1 sphere (m)", "2 spheres (m)");
  std::array<double, 4> one{}, two{};
  std::array<int, 4> count{};
  for (int e = 0; e < episodes; ++e) {
    for (int k = 0; k < params.num_objects; ++k) {
      const uint64_t seed = 1000 + static_cast<uint64_t>(e);
      std::vector<float> obs(static_cast<size_t>(env.Spec().observation_space.Dim()));
      env.Reset(seed, obs);
      const size_t bin = static_cast<size_t>(MassBin(env.ObjectMass(k)));
      ++count[bin];
      one[bin] += Shove(env, seed, k, 1, kShoveSteps);
      two[bin] += Shove(env, seed, k, std::min(2, env.world().NumSpheres()), kShoveSteps);
    }
  }
  for (size_t b = 0; b < kBinEdges.size(); ++b) {
    const double hi = b + 1 < kBinEdges.size() ? kBinEdges[b + 1] : ObjectManipulation::kMaxMass;
    char bin[32];
    std::snprintf(bin, sizeof(bin), "%.1f-%.1f", kBinEdges[b], hi);
    std::printf("%-10s %8d %16.3f %16.3f\n", bin, count[b], count[b] ? one[b] / count[b] : 0.0,
                count[b] ? two[b] / count[b] : 0.0);
  }
  return 0;
}
