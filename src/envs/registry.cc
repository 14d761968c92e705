#include "envs/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "config/tree.h"
#include "envs/pendulum.h"
#include "envs/robots/crush_resistance.h"
#include "envs/robots/height_maximize.h"
// includes: object tasks
#include "envs/robots/object_displacement.h"
#include "envs/robots/object_manipulation.h"
#include "envs/robots/terrain_traversal.h"
// includes: navigation tasks
#include "envs/observation_scale.h"
#include "envs/robots/narrow_passage.h"
#include "envs/robots/obstacle_navigation.h"
#include "envs/robots/setting_warnings.h"
#include "envs/time_limit.h"

namespace rlpipe::envs {
namespace {

/// "a, b, c"
std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

/// A plain (unquoted) YAML scalar read as a finite number; nullopt otherwise.
std::optional<double> ParseNumber(const config::Tree& node) {
  if (node.kind != config::Tree::Kind::kScalar || node.quoted) return std::nullopt;
  std::string_view text = node.scalar;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

/// How a non-number value looks, for error messages.
std::string Describe(const config::Tree& node) {
  switch (node.kind) {
    case config::Tree::Kind::kScalar:
      return node.quoted ? "the string \"" + node.scalar + "\"" : "'" + node.scalar + "'";
    case config::Tree::Kind::kSequence:
      return "a list";
    case config::Tree::Kind::kMap:
      return "a mapping";
    case config::Tree::Kind::kNull:
      break;
  }
  return "null";
}

/// The horizon a task's episodes are cut at: the configured one, else the task's default.
int Horizon(const config::EnvironmentConfig& cfg, const TaskRegistration& task) {
  return cfg.max_episode_steps > 0 ? cfg.max_episode_steps : task.info.default_max_episode_steps;
}

}  // namespace

const std::vector<TaskRegistration>& TaskRegistry() {
  // The registry: one row per task.
  static const std::vector<TaskRegistration> kRegistry = {
      {.info = {.name = "pendulum",
                .description = "Swing up and balance an inverted pendulum (Gymnasium Pendulum-v1).",
                .default_max_episode_steps = 200,
                .params = {RealParam("g", 10.0, 0.0, 100.0, "m/s^2",
                                     "gravitational acceleration")}},
       .aliases = {"Pendulum-v1"},
       .factory = [](const TaskParams& p, int /*max_episode_steps*/) -> std::unique_ptr<Env> {
         return std::make_unique<Pendulum>(PendulumParams{.g = p.at("g")});
       },
       .warnings = {}},
      {.info = {.name = "height_maximize",
                .description = "Multi-robot world (2N bar robots, N spheres): raise any robot as "
                               "high as possible (pipeline session 1).",
                .default_max_episode_steps = robots::HeightMaximize::kDefaultMaxEpisodeSteps,
                .params = robots::HeightMaximizeParamSpecs()},
       .aliases = {"height_maximize_env"},
       .factory = robots::MakeHeightMaximize,
       .warnings = {}},
      {.info = {.name = "crush_resistance",
                .description = "Multi-robot world with a descending press: hold it up as long as "
                               "possible (pipeline session 2).",
                .default_max_episode_steps = robots::CrushResistance::kDefaultMaxEpisodeSteps,
                .params = robots::CrushResistanceParamSpecs()},
       .aliases = {"crush_resistance_env"},
       .factory = robots::MakeCrushResistance,
       .warnings = robots::CrushResistanceWarnings},
      // rows: object tasks (object_displacement, object_manipulation, terrain_traversal)
      {.info = {.name = "object_displacement",
                .description = "Multi-robot world with one object of 8 shapes: push it as far as "
                               "possible in a target direction (N/S/E/W).",
                .default_max_episode_steps = robots::ObjectDisplacement::kDefaultMaxEpisodeSteps,
                .params = robots::ObjectDisplacementParamSpecs()},
       .aliases = {"object_displacement_env"},
       .factory = robots::MakeObjectDisplacement,
       .warnings = robots::ObjectDisplacementWarnings},
      {.info = {.name = "object_manipulation",
                .description = "Multi-robot world with boxes and cylinders of random mass: push "
                               "each into its target circle.",
                .default_max_episode_steps = robots::ObjectManipulation::kDefaultMaxEpisodeSteps,
                .params = robots::ObjectManipulationParamSpecs()},
       .aliases = {"object_manipulation_env"},
       .factory = robots::MakeObjectManipulation,
       .warnings = {}},
      {.info = {.name = "terrain_traversal",
                .description = "Multi-robot world on a course of slopes, stairs, rough blocks, "
                               "gaps and platforms: move the group to the finish.",
                .default_max_episode_steps = robots::TerrainTraversal::kDefaultMaxEpisodeSteps,
                .params = robots::TerrainTraversalParamSpecs()},
       .aliases = {"terrain_traversal_env"},
       .factory = robots::MakeTerrainTraversal,
       .warnings = robots::TerrainTraversalWarnings},
      // rows: navigation tasks (obstacle_navigation, narrow_passage)
      {.info = {.name = "obstacle_navigation",
                .description = "Multi-robot world in a square arena with static obstacles: bring "
                               "any robot to a target that moves on once reached.",
                .default_max_episode_steps = robots::ObstacleNavigation::kDefaultMaxEpisodeSteps,
                .params = robots::ObstacleNavigationParamSpecs()},
       .aliases = {"obstacle_navigation_env"},
       .factory = robots::MakeObstacleNavigation,
       .warnings = robots::ObstacleNavigationWarnings},
      {.info = {.name = "narrow_passage",
                .description = "Multi-robot world: leave a start room through narrow corridors, "
                               "past checkpoints in order, to a goal.",
                .default_max_episode_steps = robots::NarrowPassage::kDefaultMaxEpisodeSteps,
                .params = robots::NarrowPassageParamSpecs()},
       .aliases = {"narrow_passage_env"},
       .factory = robots::MakeNarrowPassage,
       .warnings = robots::NarrowPassageWarnings},
  };
  return kRegistry;
}

const std::vector<TaskInfo>& RegisteredTasks() {
  static const std::vector<TaskInfo> kTasks = [] {
    std::vector<TaskInfo> tasks;
    for (const auto& row : TaskRegistry()) tasks.push_back(row.info);
    return tasks;
  }();
  return kTasks;
}

const TaskRegistration* FindTask(std::string_view name) {
  for (const auto& row : TaskRegistry()) {
    if (row.info.name == name) return &row;
    for (const auto& alias : row.aliases) {
      if (alias == name) return &row;
    }
  }
  return nullptr;
}

TaskParams ResolveTaskParams(const config::EnvironmentConfig& cfg) {
  // The task name (or one of its aliases) must be registered.
  const TaskRegistration* task = FindTask(cfg.name);
  if (task == nullptr) {
    std::vector<std::string> valid;
    for (const auto& row : TaskRegistry()) valid.push_back(row.info.name);
    config::FailAt(cfg.name_loc, "environment.name",
                   "unknown task '" + cfg.name + "' (valid: " + JoinNames(valid) + ")");
  }

  // Defaults first; every given key must be a declared parameter with a numeric value.
  TaskParams params;
  std::vector<std::string> valid;
  for (const auto& spec : task->info.params) {
    params[spec.name] = spec.default_value;
    valid.push_back(spec.name);
  }
  if (cfg.params.kind == config::Tree::Kind::kNull) return params;
  if (cfg.params.kind != config::Tree::Kind::kMap) {
    config::FailAt(cfg.params.loc, "environment", "expected a mapping of task parameters");
  }
  for (const auto& [key, value] : cfg.params.entries) {
    const std::string path = "environment." + key;
    if (!params.contains(key)) {
      const config::SourceLoc& key_loc = value.key_loc.line > 0 ? value.key_loc : value.loc;
      config::FailAt(key_loc, path,
                     "unknown parameter for task '" + task->info.name + "' (valid: " +
                         (valid.empty() ? std::string("none") : JoinNames(valid)) + ")");
    }
    // An explicit null keeps the default (as everywhere in the config).
    if (value.IsNull()) continue;
    const std::optional<double> number = ParseNumber(value);
    if (!number) {
      config::FailAt(value.loc, path, "expected a finite number, found " + Describe(value));
    }
    // The value's type and range, as the task declares them.
    const ParamSpec& spec = *std::find_if(task->info.params.begin(), task->info.params.end(),
                                          [&key](const ParamSpec& s) { return s.name == key; });
    if (const std::optional<std::string> problem = spec.Problem(*number)) {
      config::FailAt(value.loc, path, *problem);
    }
    params[key] = *number;
  }
  return params;
}

EnvSpec ValidateEnvironment(const config::EnvironmentConfig& cfg) {
  // Each value on its own, then the task's cross-field rules by building the task once (the
  // compiled world is cached, so the run that follows does not compile it again).
  const TaskParams params = ResolveTaskParams(cfg);
  const TaskRegistration& task = *FindTask(cfg.name);
  const int max_steps = Horizon(cfg, task);
  try {
    return task.factory(params, max_steps)->Spec();
  } catch (const ConfigError& e) {
    // "environment.<key>…: why" from the task: at the first key's position when it was written,
    // else at the task name's.
    const std::string message = e.what();
    config::SourceLoc loc = cfg.name_loc;
    constexpr std::string_view kPrefix = "environment.";
    if (message.starts_with(kPrefix)) {
      const size_t end =
          message.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_", kPrefix.size());
      const std::string key = message.substr(kPrefix.size(), end - kPrefix.size());
      if (const config::Tree* value = cfg.params.Find(key)) {
        loc = value->key_loc.line > 0 ? value->key_loc : value->loc;
      }
    }
    const std::string where = loc.ToString();
    throw ConfigError(where.empty() ? message : where + ": " + message);
  }
}

std::vector<std::string> EnvironmentWarnings(const config::EnvironmentConfig& cfg) {
  // The task's own checks on its validated parameters and horizon.
  const TaskParams params = ResolveTaskParams(cfg);
  const TaskRegistration& task = *FindTask(cfg.name);
  if (!task.warnings) return {};
  const int max_steps = Horizon(cfg, task);
  std::vector<SettingWarning> found;
  try {
    found = task.warnings(params, max_steps);
  } catch (const Error&) {
    return {};  // out-of-range values: building the env reports them as errors
  }

  // Each at the key's location when it was written, else at the task name's.
  std::vector<std::string> lines;
  for (const SettingWarning& w : found) {
    config::SourceLoc loc = cfg.name_loc;
    if (const config::Tree* value = cfg.params.Find(w.key)) {
      loc = value->key_loc.line > 0 ? value->key_loc : value->loc;
    }
    const std::string where = loc.ToString();
    lines.push_back((where.empty() ? "" : where + ": ") + "warning: environment." + w.key + ": " +
                    w.message);
  }
  return lines;
}

std::unique_ptr<Env> MakeEnv(const config::EnvironmentConfig& cfg) {
  // Validate, build the bare task, then cut episodes at the configured or default horizon.
  const TaskParams params = ResolveTaskParams(cfg);
  const TaskRegistration& task = *FindTask(cfg.name);
  const int max_steps = Horizon(cfg, task);
  std::unique_ptr<Env> env = task.factory(params, max_steps);
  std::vector<float> scales;
  const auto* scaled = dynamic_cast<const ObservationScaleSource*>(env.get());
  if (scaled != nullptr && params.at("scale_observations") != 0.0) {
    scales = scaled->ObservationScales();
  }
  if (max_steps > 0) env = std::make_unique<TimeLimit>(std::move(env), max_steps);
  // Outermost: the task's documented observation units (docs/environments.md).
  if (!scales.empty()) env = std::make_unique<ObservationScale>(std::move(env), std::move(scales));
  return env;
}

}  // namespace rlpipe::envs
