#pragma once
/// The diagonal Gaussian action distribution of SB3's DiagGaussianDistribution.
#include <torch/torch.h>

#include "nn/actor_critic.h"

namespace rlpipe::nn {

/// N(mean, diag(exp(log_std)²)), batched over the first dimension.
/// log π(a) = Σ_i [ −(a_i − μ_i)² / (2σ_i²) − log σ_i − ½ log 2π ];  H = Σ_i [ ½ + ½ log 2π + log
/// σ_i ].
class DiagGaussian {
 public:
  /// mean [B, act_dim]; log_std [B, act_dim] or [act_dim] (broadcast).
  DiagGaussian(torch::Tensor mean, torch::Tensor log_std);

  /// actions [B, act_dim] → [B], summed over action dimensions.
  torch::Tensor LogProb(const torch::Tensor& actions) const;
  /// [B], summed over action dimensions.
  torch::Tensor Entropy() const;
  /// [B, act_dim] drawn with `generator` (never the global one).
  torch::Tensor Sample(torch::Generator& generator) const;
  /// [B, act_dim] the deterministic action (the mean).
  torch::Tensor Mode() const { return mean_; }
  /// [B, act_dim] the mean and the log standard deviation (broadcast to the mean's shape).
  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& log_std() const { return log_std_; }

 private:
  torch::Tensor mean_;
  torch::Tensor log_std_;
};

/// The action distribution of a forward pass: N(mean, exp(log_std)²); with gSDE (out.latent_sde
/// defined; SB3's StateDependentNoiseDistribution with full_std, no expln, features not learnt)
/// N(mean, diag(latent² · exp(log_std)² + 1e-6)), latent [B, L], log_std [L, act_dim].
DiagGaussian PolicyDistribution(const ActorCriticOutput& out);

/// gSDE: `n` noise matrices [n, L, act_dim], every entry ~ N(0, exp(log_std)²), log_std [L,
/// act_dim], drawn with `generator`. They stay fixed for a noise period (a rollout, or
/// sde_sample_freq steps), so exploration is smooth in time.
torch::Tensor DrawExploration(const torch::Tensor& log_std, int64_t n, torch::Generator& generator);

/// gSDE action: mean + latentᵀ M per row; out.latent_sde [B, L], exploration [B, L, act_dim].
/// A sample of PolicyDistribution(out) for a random exploration matrix.
torch::Tensor ExploreAction(const ActorCriticOutput& out, const torch::Tensor& exploration);

/// A CPU generator seeded with `seed`.
torch::Generator MakeGenerator(uint64_t seed);

}  // namespace rlpipe::nn
