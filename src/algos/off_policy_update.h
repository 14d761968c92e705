#pragma once
/// What an off-policy algorithm (SAC, TD3) supplies to the shared off-policy loop: its networks
/// (for acting and checkpoints) and its gradient step. Shared pieces: Polyak target updates.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "algos/replay_buffer.h"
#include "checkpoint/checkpoint.h"
#include "config/experiment_config.h"
#include "nn/flat_parameters.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::algos {

/// One off-policy algorithm: how it acts and how it learns from a replay batch.
class OffPolicyAlgorithm {
 public:
  virtual ~OffPolicyAlgorithm() = default;
  /// Exploration actions in [-1, 1] for obs [N, obs_dim] → [N, act_dim], before action noise
  /// (SAC samples its squashed Gaussian; TD3 returns μ(s)). No gradients.
  virtual torch::Tensor ExploreAction(const torch::Tensor& obs, torch::Generator& generator) = 0;
  /// The deterministic action in [-1, 1], [N, act_dim]. No gradients.
  virtual torch::Tensor DeterministicAction(const torch::Tensor& obs) = 0;
  /// One gradient step (critic, and the actor and targets when due) on `batch`; returns the
  /// losses by SB3 name. `timesteps` names the step in errors; TrainingError on a non-finite loss.
  virtual std::map<std::string, double> TrainStep(const ReplayBatch& batch,
                                                  torch::Generator& generator,
                                                  int64_t timesteps) = 0;
  /// Sets every optimizer's step size (the loop applies the learning-rate schedule).
  virtual void SetLearningRate(double learning_rate) = 0;
  /// Threads a gradient step may use (training.threads): 1, or 2 (more count as 2) to run the
  /// twin critics' independent work, and the actor's independent forward passes, as the two
  /// tasks of an nn::TaskPair. The results are the same bits for any count.
  virtual void SetUpdateThreads(int threads) = 0;
  /// No gradient step follows soon (the loop is about to step its envs on several threads): the
  /// step's worker thread sleeps now instead of spinning (nn::TaskPair::Rest).
  virtual void RestUpdateThreads() = 0;
  /// All networks with SB3's names (actor.*, critic.*, critic_target.*, ...), for checkpoints.
  virtual torch::nn::Module& Policy() = 0;
  /// SB3's optimizer members and pytorch_variables for checkpoints (actor./critic.optimizer.pth;
  /// SAC also ent_coef_optimizer.pth and log_ent_coef, or ent_coef_tensor when α is fixed).
  virtual checkpoint::SaveOptions CheckpointOptions() const = 0;
  /// Exact resume: everything beyond Policy()'s parameters the next TrainStep depends on (every
  /// optimizer's state, learned scalars such as log α, update counters), and back.
  virtual void SaveState(torch::serialize::OutputArchive& archive) const = 0;
  virtual void LoadState(torch::serialize::InputArchive& archive) = 0;
};

/// Sizes an off-policy algorithm is built for.
struct OffPolicyDims {
  int obs_dim = 0;
  int act_dim = 0;
};

/// The algorithm of `agent` (its AlgorithmRegistry row) with networks per `network` (actor on
/// policy_layers, critics on qf_layers), initialised from `init_seed`; ConfigError for an
/// on-policy algorithm.
std::unique_ptr<OffPolicyAlgorithm> MakeOffPolicyAlgorithm(const config::AgentConfig& agent,
                                                           const config::NetworkConfig& network,
                                                           const OffPolicyDims& dims,
                                                           uint64_t init_seed);

/// Polyak averaging of two flat parameter buffers of the same layout (two ops over the network):
///   θ_target ← (1 − τ) θ_target + τ θ.
void PolyakUpdate(const nn::FlatParameters& source, nn::FlatParameters& target, double tau);

/// The twin-critic regression loss scale · Σ_k mse(Q_k, y), y [B] (SAC uses scale ½, TD3 1).
torch::Tensor TwinCriticLoss(const nn::TwinQValues& current, const torch::Tensor& target,
                             double scale);

/// TrainingError "<algorithm> update at timestep T: expected finite losses, found ..." when any
/// value of `losses` is not finite.
void CheckFinite(const std::string& algorithm, int64_t timesteps,
                 const std::map<std::string, double>& losses);

}  // namespace rlpipe::algos
