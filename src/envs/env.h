#pragma once
/// The single-environment interface a task author implements (see DESIGN.md, extension point 1).
/// Threads, batching, auto-reset and seeding policy live in `vec`, not here.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/experiment_config.h"
#include "core/error.h"
#include "core/space_layout.h"

namespace rlpipe::envs {

/// A box space of float32 values.
struct Box {
  std::vector<float> low;
  std::vector<float> high;
  int Dim() const { return static_cast<int>(low.size()); }
};

/// The robots of one type in a multi-robot observation and action: `count` blocks of `obs_dim`
/// (and `act_dim`) values, robot after robot, starting at `obs_offset` (and `act_offset`).
struct RobotGroupLayout {
  std::string type;    // robot type name ("bar", "sphere"), a plain identifier
  int count = 0;       // robots of this type, >= 1
  int obs_offset = 0;  // index of the first robot's first observation value
  int obs_dim = 0;     // observation values per robot
  int act_offset = 0;  // index of the first robot's first action value
  int act_dim = 0;     // action values per robot
};

/// How a multi-robot task's flat observation and action split into per-robot blocks and the
/// task's own block (docs/environments.md, "Observation layout"). Networks that treat robots as a
/// set (nn::MultiRobotPolicy) read it; MLPs ignore it.
struct RobotLayout {
  std::vector<RobotGroupLayout> groups;  // in observation (and action) order
  int task_obs_offset = 0;               // first value of the task block
  int task_obs_dim = 0;                  // values in the task block (the observation's tail)
};

/// Static description of a task instance.
struct EnvSpec {
  std::string name;
  Box observation_space;
  Box action_space;
  int max_episode_steps = 0;  // truncation horizon applied by the TimeLimit wrapper (0 = none)
  /// Per-robot blocks of the observation and action; set by every multi-robot task, absent for
  /// single-body tasks (pendulum).
  std::optional<RobotLayout> robot_layout;
  /// Named parts of the observation / action vectors (empty = unknown); used to move weights
  /// between tasks whose vectors differ.
  SpaceLayout observation_layout;
  SpaceLayout action_layout;
};

/// Outcome of one control step. `info` holds task statistics (named scalars).
struct StepResult {
  double reward = 0.0;
  bool terminated = false;  // a terminal state of the MDP (no bootstrapping)
  bool truncated = false;   // time limit or other cut (bootstrap from the final observation)
  std::map<std::string, double> info;
};

/// One environment instance. Not thread-safe; one instance per thread.
class Env {
 public:
  virtual ~Env() = default;
  virtual const EnvSpec& Spec() const = 0;
  /// Starts an episode and writes the first observation. With a seed, reseeds the env's RNG
  /// (same seed → same trajectory); without, continues the current RNG stream.
  virtual void Reset(std::optional<uint64_t> seed, std::span<float> obs) = 0;
  /// Applies `action` (clipped to the action box by the env) and writes the next observation.
  virtual StepResult Step(std::span<const float> action, std::span<float> obs) = 0;

  /// Exact resume: the env's whole state (simulation, episode variables, RNG) as opaque bytes, or
  /// nullopt when the task cannot capture it (the default). Such an env follows the restart rule
  /// on resume: its in-progress episode is dropped and a fresh one starts from a reset seeded
  /// deterministically from the session seed and the resume step (docs/resume.md).
  virtual std::optional<std::string> SaveState() const { return std::nullopt; }
  /// Puts back a state SaveState returned for the same task and parameters; the next Step then
  /// equals the one the saved env would have taken, bit for bit. The default (no SaveState)
  /// throws IoError; bytes that do not fit throw IoError.
  virtual void RestoreState(std::string_view /*state*/) {
    throw IoError("task " + Spec().name +
                  ": expected an env that can restore its state, found one without state capture");
  }
};

/// A registered task parameter (a key of the `environment:` section).
struct ParamSpec {
  std::string name;
  double default_value;
  std::string description;
};

/// A registered task.
struct TaskInfo {
  std::string name;
  std::string description;
  int default_max_episode_steps;
  std::vector<ParamSpec> params;
};

/// Every registered task, in registry order (one explicit list; no static registration).
const std::vector<TaskInfo>& RegisteredTasks();

/// Checks the task name and its parameters; throws ConfigError naming file:line:col, the key
/// path and the valid names.
void ValidateEnvironment(const config::EnvironmentConfig& cfg);

/// Builds a task instance wrapped in a TimeLimit (cfg.max_episode_steps or the task default).
std::unique_ptr<Env> MakeEnv(const config::EnvironmentConfig& cfg);

}  // namespace rlpipe::envs
