#pragma once
/// What an on-policy algorithm (PPO, A2C) supplies to the shared on-policy loop: its update.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/experiment_config.h"
#include "nn/actor_critic.h"

namespace rlpipe::algos {

/// A full rollout as flat tensors, S = n_steps · n_envs samples.
struct RolloutTensors {
  torch::Tensor obs;         // [S, obs_dim]
  torch::Tensor actions;     // [S, act_dim] as sampled (unclipped)
  torch::Tensor values;      // [S] V(s) at collection time
  torch::Tensor log_probs;   // [S] log π_old(a|s)
  torch::Tensor advantages;  // [S] GAE advantages
  torch::Tensor returns;     // [S] advantages + values
};

/// One algorithm's gradient update over a rollout.
class OnPolicyUpdate {
 public:
  virtual ~OnPolicyUpdate() = default;
  /// Updates the policy from `rollout` (minibatch shuffles drawn from `generator`) and returns
  /// the losses by SB3 name ("train/value_loss", ...). `timesteps` names the step in errors.
  /// Throws TrainingError on a non-finite loss.
  virtual std::map<std::string, double> Update(const RolloutTensors& rollout,
                                               torch::Generator& generator, int64_t timesteps) = 0;
  /// Whether the update reads the rollout's collection-time log-probabilities (PPO's ratio); when
  /// not (A2C recomputes them), the loop does not compute them while acting and stores zeros.
  virtual bool UsesCollectionLogProbs() const { return true; }
  /// Sets the optimizer's step size (the loop applies the learning-rate schedule before Update).
  virtual void SetLearningRate(double learning_rate) = 0;
  /// The Adam optimizer in torch's per-parameter form; null when the algorithm uses another
  /// optimizer (A2C with RMSprop). Checkpoints write Optimizer(), whichever it is.
  virtual const torch::optim::Adam* AdamOptimizer() const = 0;
  /// The optimizer (Adam, or A2C's RMSprop) in torch's per-parameter form, written as
  /// policy.optimizer.pth (the updates run on a flat parameter buffer; this view is refreshed
  /// from it on each call).
  virtual const torch::optim::Optimizer& Optimizer() const = 0;
  /// Lets `edit` change the optimizer's per-parameter state (install a transferred model's
  /// moments), which the update then takes over.
  virtual void EditOptimizerState(const std::function<void(torch::optim::Optimizer&)>& edit) = 0;
  /// Exact resume: the optimizer's full state (moments, step counts, options), and back.
  virtual void SaveState(torch::serialize::OutputArchive& archive) const = 0;
  virtual void LoadState(torch::serialize::InputArchive& archive) = 0;
};

/// The update of `agent`'s algorithm (its AlgorithmRegistry row) for `policy`; ConfigError for
/// algorithms that are not on-policy.
std::unique_ptr<OnPolicyUpdate> MakeOnPolicyUpdate(const config::AgentConfig& agent,
                                                   nn::ActorCritic policy);

}  // namespace rlpipe::algos
