#pragma once
/// Proximal Policy Optimization (Schulman et al. 2017, "Proximal Policy Optimization Algorithms",
/// eq. 7 and 9), with Stable-Baselines3's loss terms:
///   r_t(θ) = exp(log π_θ(a_t|s_t) − log π_old(a_t|s_t))
///   L_clip = −E[ min(r_t Â_t, clip(r_t, 1 − ε, 1 + ε) Â_t) ]     (Â normalised per minibatch)
///   L_vf   = E[ (R_t − V_θ(s_t))² ]; with clip_range_vf ε_v the prediction is
///            V_old + clip(V_θ − V_old, −ε_v, ε_v) (SB3's, an unclipped squared error of that)
///   L_ent  = −E[ H(π_θ(·|s_t)) ]
///   L      = L_clip + c_ent L_ent + c_vf L_vf
/// approx_kl = E[(r − 1) − log r] (Schulman's k3 estimator), clip_fraction = E[|r − 1| > ε].
/// With target_kl, the update stops before the step of the first minibatch whose approx_kl
/// exceeds 1.5 × target_kl (SB3); that minibatch's losses are still in the logged means.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "algos/flat_adam.h"
#include "algos/gaussian_loss.h"
#include "algos/on_policy_update.h"
#include "config/agent_config.h"
#include "nn/actor_critic.h"
#include "nn/flat_parameters.h"

namespace rlpipe::algos {

/// The per-minibatch quantities the PPO loss is computed from, all [B].
struct PpoLossInputs {
  torch::Tensor log_prob;      // log π_θ(a|s) under the current parameters
  torch::Tensor old_log_prob;  // log π_old(a|s) stored at collection time
  torch::Tensor advantages;    // GAE advantages (raw; normalised here when asked)
  torch::Tensor values;        // V_θ(s)
  torch::Tensor old_values;    // V(s) stored at collection time (used with clip_range_vf)
  torch::Tensor returns;       // GAE returns
  torch::Tensor entropy;       // H(π_θ(·|s))
};

/// The loss terms of one minibatch (scalars; `loss` carries the gradient).
struct PpoLossTerms {
  torch::Tensor policy_loss;
  torch::Tensor value_loss;
  torch::Tensor entropy_loss;
  torch::Tensor loss;
  torch::Tensor approx_kl;
  torch::Tensor clip_fraction;
};

/// The PPO loss with the hyper-parameters of `agent` (clip_range, clip_range_vf, ent_coef,
/// vf_coef, normalize_advantage).
PpoLossTerms ComputePpoLoss(const PpoLossInputs& in, const config::PpoConfig& agent);

/// PPO's update: n_epochs passes of shuffled minibatches of batch_size, Adam (eps 1e-5), global
/// gradient-norm clipping at max_grad_norm, early stop on target_kl. The policy's parameters live
/// in one flat buffer (nn::FlatParameters), so zeroing gradients, clipping their norm and the Adam
/// step are a few whole-buffer operations per minibatch, and the loss is one autograd node
/// (GaussianLoss; the same terms as ComputePpoLoss).
class PpoUpdate : public OnPolicyUpdate {
 public:
  PpoUpdate(const config::PpoConfig& agent, nn::ActorCritic policy);
  std::map<std::string, double> Update(const RolloutTensors& rollout, torch::Generator& generator,
                                       int64_t timesteps) override;
  void SetLearningRate(double learning_rate) override;
  const torch::optim::Adam* AdamOptimizer() const override { return &optimizer_.AsTorchAdam(); }
  const torch::optim::Optimizer& Optimizer() const override { return optimizer_.AsTorchAdam(); }
  void EditOptimizerState(const std::function<void(torch::optim::Optimizer&)>& edit) override {
    optimizer_.EditState([&](torch::optim::Adam& adam) { edit(adam); });
  }
  void SaveState(torch::serialize::OutputArchive& archive) const override {
    optimizer_.Save(archive);
  }
  void LoadState(torch::serialize::InputArchive& archive) override { optimizer_.Load(archive); }

 private:
  config::PpoConfig agent_;
  nn::ActorCritic policy_;
  nn::FlatParameters params_;
  FlatAdam optimizer_;
  GaussianLossSettings settings_;
};

}  // namespace rlpipe::algos
