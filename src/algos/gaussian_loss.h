#pragma once
/// PPO's and A2C's losses for a diagonal Gaussian policy as one autograd node: the per-sample
/// terms (log-probability, ratio, clipping, value error, entropy) and their gradients with
/// respect to the policy's mean, log std and value are computed in one plain loop over the
/// minibatch. Autograd's version of the same loss (ComputePpoLoss / ComputeA2cLoss over a
/// DiagGaussian) dispatches ~300 small operations per minibatch, which at 64 samples cost far more
/// than the arithmetic. Same terms and gradients as those (tests compare both); sums are taken in
/// double precision, so values can differ from the float32 reductions in the last bits.
///
/// Gradients follow torch's conventions where the loss is not differentiable: min(a, b) passes
/// half the gradient to each side on a tie, clamp passes it inside its closed range only.
#include <torch/torch.h>

#include <optional>

#include "nn/diag_gaussian.h"

namespace rlpipe::algos {

/// The stored per-sample quantities of a minibatch, all [B] float32 (actions [B, act_dim]).
struct GaussianLossBatch {
  torch::Tensor actions;       // as sampled at collection time
  torch::Tensor old_log_prob;  // log π_old(a|s) (PPO only)
  torch::Tensor advantages;    // GAE advantages, raw
  torch::Tensor old_values;    // V(s) at collection time (PPO with clip_range_vf only)
  torch::Tensor returns;       // GAE returns
};

struct GaussianLossSettings {
  bool ppo = true;                      // PPO's clipped surrogate, else A2C's −Â log π
  double clip_range = 0.2;              // PPO's ε
  std::optional<double> clip_range_vf;  // PPO's value clipping ε_v
  double ent_coef = 0.0;
  double vf_coef = 0.5;
  bool normalize_advantage = true;  // Â = (A − mean) / (unbiased std + 1e-8) over the batch
};

/// The loss (a scalar carrying the gradient into dist's mean and log std and into `value`) and
/// its terms as numbers. approx_kl and clip_fraction are PPO's diagnostics (0 for A2C).
struct GaussianLossResult {
  torch::Tensor loss;
  double loss_value = 0.0;
  double policy_loss = 0.0;
  double value_loss = 0.0;
  double entropy_loss = 0.0;
  double approx_kl = 0.0;
  double clip_fraction = 0.0;
};

/// The loss of `dist` (mean [B, act_dim], log std [B, act_dim] or broadcast) and `value` [B] on
/// `batch`.
GaussianLossResult GaussianLoss(const nn::DiagGaussian& dist, const torch::Tensor& value,
                                const GaussianLossBatch& batch,
                                const GaussianLossSettings& settings);

}  // namespace rlpipe::algos
