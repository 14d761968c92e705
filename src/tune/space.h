#pragma once
/// The search space of a study (SPACE.yaml, docs/tune.md): which per-session figure to optimise,
/// in which direction, and the parameters (training-config key paths) with their values or
/// ranges. Loading is strict (file:line:col on every error); expanding a grid and sampling at
/// random are pure functions of the space (and a seed), so a study can be rebuilt on --resume.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/tree.h"

namespace rlpipe::tune {

/// `direction:`.
enum class Direction { kMaximize, kMinimize };
/// `strategy:` (SageMaker's Bayesian is only meaningful with --platform sagemaker).
enum class Strategy { kGrid, kRandom, kBayesian };
/// `scale:` of a range (SageMaker's ScalingType: Linear / Logarithmic).
enum class Scale { kLinear, kLog };
/// `early_stopping:` (SageMaker's TrainingJobEarlyStoppingType: Off / Auto).
enum class EarlyStopping { kOff, kMedian };

std::string ToString(Direction direction);  // "maximize"
std::string ToString(Strategy strategy);    // "grid"
std::string ToString(Scale scale);          // "linear", "log"

/// One `parameters:` entry: either a list of values (categorical) or a numeric range.
struct Parameter {
  std::string key;                     // training-config key path, e.g. "agent.learning_rate"
  std::vector<config::Tree> values;    // `values:` (scalars as written); empty for a range
  double min = 0.0;                    // range: lower bound (inclusive)
  double max = 0.0;                    // range: upper bound (inclusive), >= min
  Scale scale = Scale::kLinear;        // range: how values are spread
  bool integer = false;                // range: min and max written as integers → integer values
  config::SourceLoc loc;               // where the key was written
  bool IsRange() const { return values.empty(); }
};

/// The whole SPACE.yaml.
struct SearchSpace {
  std::filesystem::path file;
  std::string metric;                  // a per-session figure of pipeline_report.json
  std::optional<std::string> session;  // whose figure; nullopt = the pipeline's last session
  Direction direction = Direction::kMaximize;
  Strategy strategy = Strategy::kGrid;
  std::vector<Parameter> parameters;   // file order
  std::vector<std::string> sessions;   // sessions the overrides apply to; empty = every session
  EarlyStopping early_stopping = EarlyStopping::kOff;
  std::optional<uint64_t> seed;        // random strategy's sampler seed; nullopt = pipeline seed
  config::Tree tree;                   // the file as read (for the study's fingerprint)
  config::SourceLoc metric_loc;        // where `metric:` was written
  config::SourceLoc session_loc;       // where `session:` was written
  config::SourceLoc sessions_loc;      // where `sessions:` was written
};

/// Reads SPACE.yaml strictly: unknown keys, wrong types, an empty `values:` list, min > max, a
/// log range with min <= 0, no parameters at all, a range under `strategy: grid` are
/// ConfigError "file:line:col: key path: problem". Throws IoError when the file is unreadable.
SearchSpace LoadSearchSpace(const std::filesystem::path& file);
/// The same for text in memory (`origin` names it in errors).
SearchSpace ParseSearchSpace(const std::string& text, const std::string& origin);

/// One point of the space: a value per parameter, in the space's parameter order.
struct Trial {
  std::string id;  // "t000", "t001", … in generation order
  std::vector<std::pair<std::string, config::Tree>> values;  // key path → value (a scalar)
};

/// Every combination of the parameters' values, the last parameter varying fastest. Throws
/// ConfigError when a parameter is a range.
std::vector<Trial> ExpandGrid(const SearchSpace& space);

/// `count` trials drawn independently: a value list uniformly, a linear range uniformly, a log
/// range log-uniformly; integer ranges give integers. The same space, count and seed give the
/// same trials on every machine (SplitMix64 and explicit mappings, no std distributions).
std::vector<Trial> SampleRandom(const SearchSpace& space, int count, uint64_t seed);

/// The canonical text of a value: what is written into the trial's pipeline and the results.
std::string ValueText(const config::Tree& value);

}  // namespace rlpipe::tune
