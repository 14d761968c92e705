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

/// Validated task parameters: one value for every ParamSpec of the task (defaults filled in).
using TaskParams = std::map<std::string, double>;

/// The kind of value a task parameter takes (every value is stored as a double).
enum class ParamType { kReal, kInteger, kFlag };

/// A task parameter (a key of the `environment:` section), declared once by its task with its
/// type, default, range, unit and one-line doc. The registry checks every written value against
/// it when a pipeline is resolved; `rlpipe env info` and docs/environments.md show it.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kReal;
  double default_value = 0.0;
  double min = 0.0;            // smallest valid value (excluded when min_exclusive)
  double max = 0.0;            // largest valid value
  bool min_exclusive = false;  // (min, max] instead of [min, max]
  std::string unit;            // "m", "s", "N", "m/s"; empty for counts and fractions
  std::string description;     // one line

  /// The valid values as users read them: "integer 1-64", "(0, 0.1]", "0 or 1".
  std::string RangeText() const;
  /// Why `value` is not valid ("expected an integer in [1, 64], found 500"); nullopt when valid.
  std::optional<std::string> Problem(double value) const;
};

/// A real parameter in [min, max] (or (min, max] when min_exclusive).
ParamSpec RealParam(std::string name, double default_value, double min, double max,
                    std::string unit, std::string description, bool min_exclusive = false);
/// A real parameter in (0, max].
ParamSpec PositiveParam(std::string name, double default_value, double max, std::string unit,
                        std::string description);
/// An integer parameter in [min, max].
ParamSpec IntParam(std::string name, int default_value, int min, int max, std::string description);
/// A 0/1 switch.
ParamSpec FlagParam(std::string name, bool default_value, std::string description);

/// Checks every value of `params` that has a spec in `specs`; throws ConfigError
/// "environment.<key>: expected …, found …" for the first one out of its range.
void CheckParamValues(const std::vector<ParamSpec>& specs, const TaskParams& params);

/// The parameters as a Markdown table (`| key | default | valid | unit | meaning |`), the form
/// docs/environments.md shows them in (a test keeps the two equal).
std::string ParamTableMarkdown(const std::vector<ParamSpec>& specs);

/// A number in messages, as users write it: up to 12 significant digits ("0.4", "500", "1e+09").
std::string ShownNumber(double value);

/// A checked integer or flag parameter as an int.
inline int ParamInt(const TaskParams& params, const std::string& key) {
  return static_cast<int>(params.at(key));
}

/// A registered task.
struct TaskInfo {
  std::string name;
  std::string description;
  int default_max_episode_steps;
  std::vector<ParamSpec> params;
};

/// Every registered task, in registry order (one explicit list; no static registration).
const std::vector<TaskInfo>& RegisteredTasks();

/// Checks the task name, each parameter (type, range) and the task's cross-field rules (e.g.
/// spawn fitting) by building the task once; returns its spec. Throws ConfigError naming
/// file:line:col, the key path and what was expected.
EnvSpec ValidateEnvironment(const config::EnvironmentConfig& cfg);

/// Builds a task instance wrapped in a TimeLimit (cfg.max_episode_steps or the task default).
std::unique_ptr<Env> MakeEnv(const config::EnvironmentConfig& cfg);

}  // namespace rlpipe::envs
