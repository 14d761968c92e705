#pragma once
/// The diagonal Gaussian action distribution of SB3's DiagGaussianDistribution.
#include <torch/torch.h>

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

 private:
  torch::Tensor mean_;
  torch::Tensor log_std_;
};

/// A CPU generator seeded with `seed`.
torch::Generator MakeGenerator(uint64_t seed);

}  // namespace rlpipe::nn
