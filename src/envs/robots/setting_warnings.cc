#include "envs/robots/setting_warnings.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "envs/robots/narrow_passage.h"
#include "envs/robots/object_displacement.h"

namespace rlpipe::envs::robots {
namespace {

// "%g" of a number.
std::string Num(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", value);
  return text;
}

// The horizon in seconds: max_episode_steps × timestep × frame_skip.
double HorizonSeconds(const TaskParams& params, int max_episode_steps) {
  return max_episode_steps * params.at("timestep") * params.at("frame_skip");
}

// "max_episode_steps 3000 × 1/60 s = 50 s"
std::string HorizonText(const TaskParams& params, int max_episode_steps) {
  return "max_episode_steps " + std::to_string(max_episode_steps) + " × " +
         Num(params.at("timestep") * params.at("frame_skip")) +
         " s = " + Num(HorizonSeconds(params, max_episode_steps)) + " s";
}

// A distance no robot covers in the horizon at the spheres' top speed (the fastest drive).
std::vector<SettingWarning> Unreachable(const TaskParams& params, int max_episode_steps,
                                        const std::string& key, const std::string& what,
                                        double distance_m) {
  const double speed = params.at("sphere_max_speed");
  const double needed_s = distance_m / speed;
  if (max_episode_steps <= 0 || needed_s <= HorizonSeconds(params, max_episode_steps)) return {};
  return {{key, what + " " + Num(distance_m) + " m / sphere_max_speed " + Num(speed) +
                    " m/s = " + Num(needed_s) + " s > " + HorizonText(params, max_episode_steps) +
                    ": no robot can get there in an episode"}};
}

}  // namespace

std::vector<SettingWarning> CrushResistanceWarnings(const TaskParams& params,
                                                    int max_episode_steps) {
  // Positioning, then the unobstructed descent to the crush height, against the horizon.
  const double positioning = params.at("positioning_seconds");
  const double reference = params.at("reference_height");
  const double crush = params.at("crush_height");
  const double speed = params.at("press_descent_speed");
  if (max_episode_steps <= 0 || speed <= 0.0) return {};
  const double needed_s = positioning + (reference - crush) / speed;
  const double horizon_s = HorizonSeconds(params, max_episode_steps);
  if (needed_s <= horizon_s) return {};
  return {{"press_descent_speed",
           "the press cannot reach crush_height within the horizon: positioning_seconds " +
               Num(positioning) + " + (reference_height " + Num(reference) + " − crush_height " +
               Num(crush) + ") / press_descent_speed " + Num(speed) + " = " + Num(needed_s) +
               " s > " + HorizonText(params, max_episode_steps) +
               "; every episode lasts to the horizon whatever the robots do (press_descent_speed "
               ">= " +
               Num((reference - crush) / std::max(1e-9, horizon_s - positioning)) +
               " would reach it)"}};
}

std::vector<SettingWarning> TerrainTraversalWarnings(const TaskParams& params,
                                                     int max_episode_steps) {
  return Unreachable(params, max_episode_steps, "target_distance", "target_distance",
                     params.at("target_distance"));
}

std::vector<SettingWarning> ObjectDisplacementWarnings(const TaskParams& params,
                                                       int max_episode_steps) {
  return Unreachable(params, max_episode_steps, "max_object_distance",
                     "the farthest object (max_object_distance + 0.5 m clearance)",
                     params.at("max_object_distance") + 0.5);
}

std::vector<SettingWarning> NarrowPassageWarnings(const TaskParams& params, int max_episode_steps) {
  // The centre line from the doorway (its first checkpoint) to the goal.
  NarrowPassageParams task;
  task.num_passages = static_cast<int>(params.at("num_passages"));
  task.passage_width_m = params.at("passage_width");
  task.passage_difficulty = params.at("passage_difficulty");
  if (task.passage_width_m <= 0.0) return {};
  const PassageCourse course = BuildPassageCourse(task, params.at("spawn_radius"));
  double length = 0.0;
  for (size_t k = 2; k < course.centerline.size(); ++k) {
    length += std::hypot(course.centerline[k][0] - course.centerline[k - 1][0],
                         course.centerline[k][1] - course.centerline[k - 1][1]);
  }
  return Unreachable(params, max_episode_steps, "num_passages",
                     "the corridors' centre line from the doorway to the goal", length);
}

std::vector<SettingWarning> ObstacleNavigationWarnings(const TaskParams& params,
                                                       int max_episode_steps) {
  return Unreachable(params, max_episode_steps, "arena_size",
                     "the arena's diagonal (arena_size × √2)",
                     params.at("arena_size") * std::sqrt(2.0));
}

}  // namespace rlpipe::envs::robots
