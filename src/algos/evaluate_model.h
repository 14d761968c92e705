#pragma once
/// Evaluating a saved model (`rlpipe evaluate`, session videos): the task and its parameters come
/// from the config stored in the model, or from another config through the session transfer
/// rules; episodes run through the training loops' own evaluation (algos/evaluation.h), so the
/// session's seed reproduces the returns its evaluations recorded. No torch headers.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "algos/evaluation.h"
#include "config/experiment_config.h"

namespace rlpipe::algos {

/// What to evaluate.
struct EvaluateModelRequest {
  std::filesystem::path model;  // a model zip written by rlpipe or by SB3
  /// The experiment to run the model in; nullopt: the resolved config stored in the model (an
  /// SB3 zip has none and needs one).
  std::optional<config::ExperimentConfig> config;
  int episodes = 10;          // >= 1
  int first_episode = 0;      // episodes first_episode .. first_episode + episodes - 1 run
  bool deterministic = true;  // false: actions sampled from the policy
  /// Seed whose derived evaluation seeds start the episodes; nullopt: the model's training seed
  /// (which reproduces the session's own evaluations).
  std::optional<uint64_t> seed;
  int n_envs = 1;  // envs evaluating episodes in parallel threads (results do not depend on it)
  /// Sees the first observed_episodes episodes, run first on the calling thread (rendering).
  const EpisodeObserver* observer = nullptr;
  int observed_episodes = 0;
};

/// What came out.
struct EvaluateModelResult {
  config::ExperimentConfig config;  // the experiment the model ran in
  std::string source;               // "the model's stored config" or the --config file
  uint64_t seed = 0;
  std::vector<EpisodeOutcome> episodes;  // in episode order, from first_episode
  EvaluationSummary summary;
  std::string transfer_summary;  // how the weights moved in ("" with the model's own config)
  double seconds = 0.0;          // wall time of the episodes
};

/// The experiment config stored in a model archive. ConfigError when it holds none (an SB3 zip:
/// pass --config), IoError when the archive is missing or corrupt.
config::ExperimentConfig StoredConfig(const std::filesystem::path& model);

/// Runs the evaluation. Throws ConfigError for bad requests (episodes < 1, a model that cannot
/// act in the config), IoError for unreadable models.
EvaluateModelResult EvaluateModel(const EvaluateModelRequest& request);

}  // namespace rlpipe::algos
