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

/// Validated task parameters: one value for every ParamSpec of the task (defaults filled in).
using TaskParams = std::map<std::string, double>;

/// One row of the registry.
struct TaskRegistration {
  TaskInfo info;
  std::vector<std::string> aliases;  // other accepted names, e.g. "Pendulum-v1"
  /// Builds the bare task (no TimeLimit) from validated parameters.
  /// Builds the bare task; `max_episode_steps` is the horizon the TimeLimit will cut at (tasks
  /// that pay an end-of-episode bonus need it).
  std::function<std::unique_ptr<Env>(const TaskParams&, int max_episode_steps)> factory;
};

/// Every registry row, in registry order.
const std::vector<TaskRegistration>& TaskRegistry();

/// The row whose name or alias equals `name`; nullptr when there is none.
const TaskRegistration* FindTask(std::string_view name);

/// Validates cfg (task name, parameter names, numeric values) and returns the task's parameters
/// with defaults filled in. Throws ConfigError like ValidateEnvironment.
TaskParams ResolveTaskParams(const config::EnvironmentConfig& cfg);

}  // namespace rlpipe::envs
