#pragma once
/// Twin Delayed DDPG (Fujimoto et al. 2018, "Addressing Function Approximation Error in
/// Actor-Critic Methods", algorithm 1), with Stable-Baselines3's loss terms:
///   ã' = clip(μ̄(s') + clip(ε, −c, c), −1, 1),  ε ~ N(0, σ̃²)        (target policy smoothing)
///   y  = r + γ (1 − d) min_k Q̄_k(s', ã')                              (clipped double-Q)
///   L_Q = Σ_k E[ (Q_k(s, a) − y)² ]
///   every `policy_delay` critic steps:  L_μ = −E[ Q_0(s, μ(s)) ],
///     then Q̄ ← (1 − τ) Q̄ + τ Q and μ̄ ← (1 − τ) μ̄ + τ μ.
/// The actor is deterministic (tanh output); exploration comes from the loop's action noise.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "algos/flat_adam.h"
#include "algos/off_policy_update.h"
#include "config/agent_config.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::algos {

/// clip(target_actions + clip(noise, −noise_clip, noise_clip), −1, 1), all [B, act_dim];
/// `noise` is the unclipped N(0, σ̃²) draw.
torch::Tensor SmoothedTargetAction(const torch::Tensor& target_actions, const torch::Tensor& noise,
                                   double noise_clip);
/// y = r + γ (1 − d) min_k Q̄_k, [B].
torch::Tensor Td3Target(const torch::Tensor& rewards, const torch::Tensor& dones,
                        const nn::TwinQValues& next_q, double gamma);
/// L_μ = −mean(Q_0(s, μ(s))), from q0 [B].
torch::Tensor Td3ActorLoss(const torch::Tensor& q0);

/// TD3: networks, optimizers (Adam for actor and critic) and the gradient step.
class Td3 : public OffPolicyAlgorithm {
 public:
  Td3(const config::Td3Config& agent, const nn::OffPolicyPolicyOptions& options);
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

 private:
  config::Td3Config agent_;
  nn::Td3Policy policy_;
  // Each network's parameters in one buffer: Adam and Polyak averaging are a few vector ops.
  nn::FlatParameters actor_params_;
  nn::FlatParameters actor_target_params_;
  nn::FlatParameters critic_params_;
  nn::FlatParameters critic_target_params_;
  FlatAdam actor_optimizer_;
  FlatAdam critic_optimizer_;
  std::unique_ptr<nn::TaskPair> tasks_ = std::make_unique<nn::TaskPair>(1);  // the step's threads
  int64_t n_updates_ = 0;  // critic steps so far (the actor steps when divisible by policy_delay)
  double last_actor_loss_ = 0.0;
};

}  // namespace rlpipe::algos
