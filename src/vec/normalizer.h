#pragma once
/// Observation and reward normalisation of a vector env, with Stable-Baselines3's VecNormalize
/// semantics:
///   obs    ← clip((obs − μ_obs) / √(σ²_obs + ε), ±clip_obs)   μ, σ² over all envs' observations
///   reward ← clip(r / √(σ²_ret + ε), ±clip_reward)          σ² of the discounted return
///   R_i    ← γ R_i + r_i (raw reward), R_i ← 0 when env i's episode ends.
/// Statistics are running means and variances merged batch by batch (Chan et al. 1979, the
/// parallel variance formula). Updating (Observe*) and normalising (Normalize*) are separate, so
/// evaluation applies frozen statistics and the off-policy loop can store raw transitions and
/// normalise them when sampled, as SB3 does.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/experiment_config.h"

namespace rlpipe::vec {

/// The exact state of a RunningMeanStd.
struct RunningMeanStdState {
  std::vector<double> mean;  // [dim]
  std::vector<double> var;   // [dim] population variance
  double count = 0.0;        // samples seen (starts at 1e-4, as SB3's)
};

/// Per-dimension running mean and population variance of rows of `dim` values.
class RunningMeanStd {
 public:
  /// SB3's start: mean 0, variance 1, count 1e-4.
  explicit RunningMeanStd(int dim);
  /// Merges `rows` rows of batch [rows, dim] (row-major) into the statistics.
  void Update(std::span<const float> batch, int64_t rows);
  /// Merges a batch given by its moments (mean, population variance, count).
  void UpdateFromMoments(const std::vector<double>& batch_mean,
                         const std::vector<double>& batch_var, double batch_count);
  int Dim() const { return static_cast<int>(state_.mean.size()); }
  const RunningMeanStdState& State() const { return state_; }
  /// Replaces the statistics; std::invalid_argument when the dimension differs.
  void Restore(const RunningMeanStdState& state);

 private:
  RunningMeanStdState state_;
};

/// Everything a VecNormalizer holds, for checkpoints and exact resume.
struct NormalizerState {
  config::NormalizeConfig config;  // which parts are on, and the clips
  double gamma = 0.99;             // discount of the return whose spread scales rewards
  double epsilon = 1e-8;           // added to variances before the square root
  RunningMeanStdState obs;         // [obs_dim] observation statistics
  RunningMeanStdState ret;         // [1] discounted-return statistics
  std::vector<double> returns;     // [n_envs] running discounted return per env
};

/// The normaliser of one training session (see the file comment). Disabled parts pass values
/// through unchanged and keep no statistics.
class VecNormalizer {
 public:
  /// SB3's epsilon.
  static constexpr double kEpsilon = 1e-8;

  VecNormalizer(const config::NormalizeConfig& config, double gamma, int n_envs, int obs_dim);

  /// True when observations or rewards are normalised.
  bool Enabled() const { return config_.obs || config_.reward; }
  const config::NormalizeConfig& Config() const { return config_; }

  /// After a training reset of every env: merges obs [N, obs_dim] and zeroes the returns.
  void ObserveReset(std::span<const float> obs);
  /// After a training step: merges next obs [N, obs_dim] (after auto-reset), folds raw rewards
  /// [N] into the discounted returns and merges those, then zeroes the returns of ended episodes
  /// (dones [N], terminated or truncated).
  void ObserveStep(std::span<const float> obs, std::span<const float> rewards,
                   std::span<const uint8_t> dones);

  /// Normalises rows of observations in place with the current (frozen) statistics.
  void NormalizeObs(std::span<float> obs) const;
  /// Normalises rewards in place with the current (frozen) return statistics.
  void NormalizeRewards(std::span<float> rewards) const;

  /// A copy of the full state.
  NormalizerState State() const;
  /// Restores a full state (same config sizes: obs_dim and n_envs); std::invalid_argument
  /// naming what differs.
  void Restore(const NormalizerState& state);
  /// Takes over the running statistics of `state` (e.g. of the model a session starts from),
  /// keeping this session's config and zeroed returns.
  void AdoptStatistics(const NormalizerState& state);

 private:
  config::NormalizeConfig config_;
  double gamma_;
  int obs_dim_;
  RunningMeanStd obs_rms_;
  RunningMeanStd ret_rms_;
  std::vector<double> returns_;  // [N]
};

/// The state as JSON with every double as a hex float ("0x1.8p+1"), so a round trip is exact.
std::string NormalizerStateToJson(const NormalizerState& state);
/// Inverse of NormalizerStateToJson; std::invalid_argument naming `origin` on malformed text.
/// `state` with its observation statistics moved to another observation vector: entry i from
/// column map[i], or mean 0 / variance 1 where map[i] < 0 (a block the source did not have).
NormalizerState RemapObservations(const NormalizerState& state, const std::vector<int64_t>& map);

NormalizerState NormalizerStateFromJson(const std::string& text, const std::string& origin);

}  // namespace rlpipe::vec
