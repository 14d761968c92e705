#pragma once
/// Advantage Actor-Critic (Mnih et al. 2016, "Asynchronous Methods for Deep Reinforcement
/// Learning", algorithm S3), synchronous, with Stable-Baselines3's loss terms:
///   L_pg  = −E[ Â_t log π_θ(a_t|s_t) ]         (Â optionally normalised over the rollout)
///   L_vf  = E[ (R_t − V_θ(s_t))² ]
///   L_ent = −E[ H(π_θ(·|s_t)) ]
///   L     = L_pg + c_ent L_ent + c_vf L_vf
/// One gradient step per rollout (the whole rollout is the batch), RMSprop (α 0.99, ε 1e-5) or
/// Adam, global gradient-norm clipping at max_grad_norm.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "algos/flat_adam.h"
#include "algos/flat_rmsprop.h"
#include "algos/gaussian_loss.h"
#include "algos/on_policy_update.h"
#include "algos/optimizer_state.h"
#include "config/agent_config.h"
#include "nn/actor_critic.h"
#include "nn/flat_parameters.h"

namespace rlpipe::algos {

/// The quantities the A2C loss is computed from, all [S].
struct A2cLossInputs {
  torch::Tensor log_prob;    // log π_θ(a|s) under the current parameters
  torch::Tensor advantages;  // GAE advantages (raw; normalised here when asked)
  torch::Tensor values;      // V_θ(s)
  torch::Tensor returns;     // GAE returns
  torch::Tensor entropy;     // H(π_θ(·|s))
};

/// The loss terms (scalars; `loss` carries the gradient).
struct A2cLossTerms {
  torch::Tensor policy_loss;
  torch::Tensor value_loss;
  torch::Tensor entropy_loss;
  torch::Tensor loss;
};

/// The A2C loss with the hyper-parameters of `agent` (ent_coef, vf_coef, normalize_advantage).
A2cLossTerms ComputeA2cLoss(const A2cLossInputs& in, const config::A2cConfig& agent);

/// A2C's update: one gradient step over the whole rollout, the loss as one autograd node
/// (GaussianLoss: the terms of ComputeA2cLoss, sums in double precision), on the network's flat
/// parameter buffer (zeroing, the norm clip and RMSprop or Adam are a few vector operations, with
/// torch::optim's and clip_grad_norm_'s arithmetic).
class A2cUpdate : public OnPolicyUpdate {
 public:
  A2cUpdate(const config::A2cConfig& agent, nn::ActorCritic policy);
  std::map<std::string, double> Update(const RolloutTensors& rollout, torch::Generator& generator,
                                       int64_t timesteps) override;
  void SetLearningRate(double learning_rate) override;
  /// A2C's loss uses log π under the current parameters only.
  bool UsesCollectionLogProbs() const override { return false; }
  const torch::optim::Adam* AdamOptimizer() const override;
  const torch::optim::Optimizer& Optimizer() const override;
  void EditOptimizerState(const std::function<void(torch::optim::Optimizer&)>& edit) override;
  void SaveState(torch::serialize::OutputArchive& archive) const override;
  void LoadState(torch::serialize::InputArchive& archive) override;

 private:
  config::A2cConfig agent_;
  nn::ActorCritic policy_;
  nn::FlatParameters params_;
  std::optional<FlatRmsProp> rms_prop_;  // use_rms_prop (SB3's default)
  std::optional<FlatAdam> adam_;         // otherwise
  GaussianLossSettings settings_;        // A2C's terms of the fused loss
};

}  // namespace rlpipe::algos
