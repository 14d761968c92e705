#pragma once
/// The task registry: one explicit table of rows (name, aliases, description, horizon, parameters,
/// factory). Adding a task is adding one row in registry.cc; the sweep test then covers it.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/experiment_config.h"
#include "envs/env.h"

namespace rlpipe::envs {

/// A setting that makes a task degenerate without being invalid (e.g. a press that cannot reach
/// its crush height within the horizon): the `environment.` key to point at and one line saying
/// why, with the numbers. Warned at resolve time, never an error.
struct SettingWarning {
  std::string key;      // parameter key ("press_descent_speed"), or "max_episode_steps"
  std::string message;  // "…: 124 s needed > 50 s horizon; …"
};

/// One row of the registry.
struct TaskRegistration {
  TaskInfo info;
  std::vector<std::string> aliases;  // other accepted names, e.g. "Pendulum-v1"
  /// Builds the bare task (no TimeLimit) from validated parameters.
  /// Builds the bare task; `max_episode_steps` is the horizon the TimeLimit will cut at (tasks
  /// that pay an end-of-episode bonus need it).
  std::function<std::unique_ptr<Env>(const TaskParams&, int max_episode_steps)> factory;
  /// Degenerate settings of validated parameters and the horizon (empty function: none known).
  std::function<std::vector<SettingWarning>(const TaskParams&, int max_episode_steps)> warnings;
};

/// Every registry row, in registry order.
const std::vector<TaskRegistration>& TaskRegistry();

/// The row whose name or alias equals `name`; nullptr when there is none.
const TaskRegistration* FindTask(std::string_view name);

/// Validates cfg (task name, parameter names, numeric values) and returns the task's parameters
/// with defaults filled in. Throws ConfigError like ValidateEnvironment.
TaskParams ResolveTaskParams(const config::EnvironmentConfig& cfg);

/// Validates cfg like ResolveTaskParams and returns one line per degenerate setting:
/// "file:line:col: warning: environment.<key>: <why, with the numbers>" (the location of the key
/// when it was written, else of `environment.name`). Never throws for a valid config.
std::vector<std::string> EnvironmentWarnings(const config::EnvironmentConfig& cfg);

}  // namespace rlpipe::envs
