#pragma once
/// The networks of Stable-Baselines3's SAC and TD3 `MlpPolicy` with SB3's parameter names:
/// twin Q critics, the squashed-Gaussian SAC actor and the deterministic TD3 actor, and the
/// policy modules that hold them (with their target copies) for checkpoints.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "config/experiment_config.h"
#include "nn/task_pair.h"

namespace rlpipe::nn {

/// Sizes of a twin-Q critic.
struct TwinQCriticOptions {
  int obs_dim = 0;                    // observation size, >= 1
  int act_dim = 0;                    // action size, >= 1
  std::vector<int> layers{256, 256};  // hidden sizes of each Q network
  config::Activation activation = config::Activation::kRelu;
};

/// Both critics' estimates, [B] each.
struct TwinQValues {
  torch::Tensor q0;
  torch::Tensor q1;
  /// Element-wise min(q0, q1), [B] (clipped double-Q).
  torch::Tensor Min() const { return torch::min(q0, q1); }
};

/// Two independent MLPs Q_k(s, a) on concat(obs, action) (SB3's ContinuousCritic, n_critics 2).
/// Parameter names: qf0.{0,2,..}.{weight,bias}, qf1.{0,2,..}.{weight,bias}.
class TwinQCriticImpl : public torch::nn::Module {
 public:
  explicit TwinQCriticImpl(const TwinQCriticOptions& options);
  /// obs [B, obs_dim], actions [B, act_dim] in [-1, 1] → both Q values.
  TwinQValues forward(const torch::Tensor& obs, const torch::Tensor& actions);
  /// The same values and gradients as forward(obs, actions), with each Q network's forward and
  /// its part of a later backward pass (weight gradients, and the gradient to the input when
  /// obs or actions track gradients) as one task of `tasks` when it has two threads; with one, the
  /// plain forward.
  /// `tasks` must outlive the backward pass.
  TwinQValues forward(const torch::Tensor& obs, const torch::Tensor& actions, TaskPair& tasks);
  /// Q_0 only (TD3's actor loss), [B].
  torch::Tensor Q0(const torch::Tensor& obs, const torch::Tensor& actions);

 private:
  friend class TwinQTasks;
  torch::nn::Sequential qf0_{nullptr};
  torch::nn::Sequential qf1_{nullptr};
};
TORCH_MODULE(TwinQCritic);

/// Sizes of an actor (SAC or TD3).
struct ActorOptions {
  int obs_dim = 0;                    // observation size, >= 1
  int act_dim = 0;                    // action size, >= 1
  std::vector<int> layers{256, 256};  // hidden sizes
  config::Activation activation = config::Activation::kRelu;
};

/// The SAC actor's Gaussian before squashing, [B, act_dim] each.
struct SacActorOutput {
  torch::Tensor mean;
  torch::Tensor log_std;  // clamped to [kLogStdMin, kLogStdMax]
};

/// SAC's actor: a state-dependent diagonal Gaussian squashed by tanh (SB3's sac.Actor without
/// gSDE). Parameter names: latent_pi.{0,2,..}.{weight,bias}, mu.{weight,bias},
/// log_std.{weight,bias}.
class SacActorImpl : public torch::nn::Module {
 public:
  static constexpr double kLogStdMin = -20.0;
  static constexpr double kLogStdMax = 2.0;
  explicit SacActorImpl(const ActorOptions& options);
  /// obs [B, obs_dim] → mean and clamped log_std of the pre-tanh Gaussian.
  SacActorOutput forward(const torch::Tensor& obs);

 private:
  torch::nn::Sequential latent_pi_{nullptr};
  torch::nn::Linear mu_{nullptr};
  torch::nn::Linear log_std_{nullptr};
};
TORCH_MODULE(SacActor);

/// TD3's deterministic actor μ(s) ∈ [-1, 1]^act_dim (SB3's td3.Actor).
/// Parameter names: mu.{0,2,..}.{weight,bias} (the last Linear, then Tanh).
class Td3ActorImpl : public torch::nn::Module {
 public:
  explicit Td3ActorImpl(const ActorOptions& options);
  /// obs [B, obs_dim] → actions [B, act_dim] in [-1, 1].
  torch::Tensor forward(const torch::Tensor& obs);

 private:
  torch::nn::Sequential mu_{nullptr};
};
TORCH_MODULE(Td3Actor);

/// A squashed action and its log-density.
struct SquashedSample {
  torch::Tensor action;    // [B, act_dim] tanh(u) in (-1, 1)
  torch::Tensor log_prob;  // [B] log π(a|s) with the tanh correction
};

/// tanh(u) with u ~ N(mean, diag(exp(log_std)²)) (SAC, Haarnoja et al. 2018, appendix C, eq. 21):
///   log π(a|s) = log N(u; μ, σ) − Σ_i log(1 − tanh(u_i)² + ε),  ε = 1e-6 (as SB3).
class SquashedGaussian {
 public:
  static constexpr double kEpsilon = 1e-6;
  /// mean, log_std [B, act_dim].
  SquashedGaussian(torch::Tensor mean, torch::Tensor log_std);
  /// A reparameterised sample (gradients flow into mean and log_std) drawn with `generator`.
  SquashedSample Sample(torch::Generator& generator) const;
  /// log π of the squashed action tanh(u) for pre-tanh `u` [B, act_dim] → [B].
  torch::Tensor LogProbFromPreTanh(const torch::Tensor& u) const;
  /// tanh(mean), [B, act_dim] (the deterministic action).
  torch::Tensor Mode() const { return torch::tanh(mean_); }

 private:
  torch::Tensor mean_;
  torch::Tensor log_std_;
};

/// Sizes of a SAC or TD3 policy.
struct OffPolicyPolicyOptions {
  int obs_dim = 0;
  int act_dim = 0;
  std::vector<int> actor_layers{256, 256};   // network.policy_layers
  std::vector<int> critic_layers{256, 256};  // network.qf_layers
  config::Activation activation = config::Activation::kRelu;
  uint64_t init_seed = 0;  // seed of the (PyTorch-default) initialisation
};

/// SAC's networks as SB3's SACPolicy names them: actor.*, critic.*, critic_target.*.
class SacPolicyImpl : public torch::nn::Module {
 public:
  explicit SacPolicyImpl(const OffPolicyPolicyOptions& options);
  SacActor actor{nullptr};
  TwinQCritic critic{nullptr};
  TwinQCritic critic_target{nullptr};  // starts as a copy of critic; never receives gradients
};
TORCH_MODULE(SacPolicy);

/// TD3's networks as SB3's TD3Policy names them: actor.*, actor_target.*, critic.*,
/// critic_target.*.
class Td3PolicyImpl : public torch::nn::Module {
 public:
  explicit Td3PolicyImpl(const OffPolicyPolicyOptions& options);
  Td3Actor actor{nullptr};
  Td3Actor actor_target{nullptr};
  TwinQCritic critic{nullptr};
  TwinQCritic critic_target{nullptr};
};
TORCH_MODULE(Td3Policy);

/// PyTorch's default nn.Linear initialisation (U(−1/√fan_in, 1/√fan_in) for weight and bias),
/// drawn from `generator`, for every Linear in `module`.
void DefaultLinearInit(torch::nn::Module& module, torch::Generator& generator);

/// Copies every parameter of `source` into `target` (same structure), without gradients.
void HardCopy(torch::nn::Module& source, torch::nn::Module& target);

}  // namespace rlpipe::nn
