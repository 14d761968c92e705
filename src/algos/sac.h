#pragma once
/// Soft Actor-Critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications",
/// eq. 5, 7, 17, 18), with Stable-Baselines3's loss terms and clipped double-Q:
///   y       = r + γ (1 − d) [ min_k Q̄_k(s', a') − α log π(a'|s') ],   a' ~ π(·|s')
///   L_Q     = ½ Σ_k E[ (Q_k(s, a) − y)² ]
///   L_π     = E[ α log π(ã|s) − min_k Q_k(s, ã) ],                     ã ~ π(·|s) (reparam.)
///   L_α     = −E[ log α · (log π(ã|s) + H̄) ]                            (H̄ = target entropy)
///   Q̄ ← (1 − τ) Q̄ + τ Q                                                 (every gradient step)
/// The policy is a tanh-squashed Gaussian (nn::SquashedGaussian); actions live in [-1, 1].
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "algos/flat_adam.h"
#include "algos/off_policy_update.h"
#include "config/agent_config.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::algos {

/// The soft TD target y, [B]. All inputs [B]; `ent_coef` is α (a scalar tensor or number).
torch::Tensor SacTarget(const torch::Tensor& rewards, const torch::Tensor& dones,
                        const nn::TwinQValues& next_q, const torch::Tensor& next_log_prob,
                        double ent_coef, double gamma);
/// L_π = mean(α log π − min_k Q_k), inputs [B].
torch::Tensor SacActorLoss(const torch::Tensor& log_prob, const nn::TwinQValues& q_pi,
                           double ent_coef);
/// L_α = −mean(log α · (log π + H̄)) with log π detached; `log_ent_coef` is a [1] parameter.
torch::Tensor EntCoefLoss(const torch::Tensor& log_ent_coef, const torch::Tensor& log_prob,
                          double target_entropy);

/// SAC: networks, optimizers (Adam for actor, critic and log α) and the gradient step.
class Sac : public OffPolicyAlgorithm {
 public:
  Sac(const config::SacConfig& agent, const nn::OffPolicyPolicyOptions& options);
  torch::Tensor ExploreAction(const torch::Tensor& obs, torch::Generator& generator) override;
  torch::Tensor DeterministicAction(const torch::Tensor& obs) override;
  std::map<std::string, double> TrainStep(const ReplayBatch& batch, torch::Generator& generator,
                                          int64_t timesteps) override;
  void SetLearningRate(double learning_rate) override;
  void SetUpdateThreads(int threads) override;
  void RestUpdateThreads() override { tasks_->Rest(); }
  torch::nn::Module& Policy() override { return *policy_; }
  checkpoint::SaveOptions CheckpointOptions() const override;
  void SaveState(torch::serialize::OutputArchive& archive) const override;
  void LoadState(torch::serialize::InputArchive& archive) override;

  /// The entropy target H̄ (−dim(A) when `auto`).
  double target_entropy() const { return target_entropy_; }
  /// The current α.
  double EntCoef() const;

 private:
  config::SacConfig agent_;
  nn::SacPolicy policy_;
  double target_entropy_;
  torch::Tensor log_ent_coef_;  // [1], trained when ent_coef is auto
  // Each network's parameters in one buffer: Adam and Polyak averaging are a few vector ops.
  nn::FlatParameters actor_params_;
  nn::FlatParameters critic_params_;
  nn::FlatParameters critic_target_params_;
  FlatAdam actor_optimizer_;
  FlatAdam critic_optimizer_;
  std::unique_ptr<nn::TaskPair> tasks_ = std::make_unique<nn::TaskPair>(1);  // the step's threads
  std::optional<torch::optim::Adam> ent_coef_optimizer_;
};

}  // namespace rlpipe::algos
