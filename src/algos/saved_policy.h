#pragma once
/// A saved model made ready to act in an env: the network of its algorithm rebuilt for the env's
/// spaces, the archive's weights moved in by the session transfer rules (checkpoint/transfer.h;
/// whole tensors when the env is the one it was trained on) and its normaliser's frozen
/// statistics. For evaluation and rendering; no training state. No torch headers.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "envs/env.h"
#include "vec/normalizer.h"

namespace rlpipe::algos {

/// One model, one thread.
class SavedPolicy {
 public:
  /// Loads `model_path` into a network for `config` (algorithm, policy, network, normalisation)
  /// and envs with `spec`. Throws IoError for a missing or corrupt archive, ConfigError naming
  /// the model and the mismatch when it cannot act there (another algorithm or policy, nothing
  /// that fits).
  SavedPolicy(const std::filesystem::path& model_path, const config::ExperimentConfig& config,
              const envs::EnvSpec& spec);
  ~SavedPolicy();
  SavedPolicy(const SavedPolicy&) = delete;
  SavedPolicy& operator=(const SavedPolicy&) = delete;

  /// The env action for one (normalised) observation: the deterministic one (the Gaussian's
  /// mean, or μ(s) for SAC/TD3), or with `Sample` a draw from the policy (SAC's squashed
  /// Gaussian; TD3 is deterministic either way), inside the action box.
  void Act(std::span<const float> obs, std::vector<float>& action);
  void Sample(std::span<const float> obs, std::vector<float>& action);
  /// Restarts the sampling generator (e.g. per episode, so episodes are reproducible alone).
  void Reseed(uint64_t seed);
  /// The normaliser with the model's statistics (disabled when the config does not normalise).
  const vec::VecNormalizer& normalizer() const;
  /// The transfer report's summary line: which tensors were copied whole, sliced or left fresh.
  const std::string& TransferSummary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rlpipe::algos
