#pragma once
/// The interface every on-policy (PPO, A2C) actor-critic network implements, so that one training
/// loop drives either network: the SB3-compatible MLP (mlp_actor_critic.h) or the multi-robot
/// network (multi_robot_policy.h).
#include <torch/torch.h>

#include <concepts>
#include <cstddef>
#include <memory>
#include <utility>

namespace rlpipe::nn {

/// What one forward pass produces.
struct ActorCriticOutput {
  torch::Tensor mean;        // [B, act_dim] mean action of the Gaussian policy
  torch::Tensor log_std;     // [B, act_dim] log standard deviation (state-independent, broadcast);
                             // with gSDE the [latent, act_dim] log std of the noise weights
  torch::Tensor value;       // [B] state value
  torch::Tensor latent_sde;  // gSDE only: [B, latent] policy features (detached); else undefined
};

/// A Gaussian policy with a state-independent log_std and a state-value head.
class ActorCriticImpl : public torch::nn::Module {
 public:
  /// obs [B, obs_dim] → mean, log_std, value.
  virtual ActorCriticOutput forward(const torch::Tensor& obs) = 0;
  /// Value only, obs [B, obs_dim] → [B].
  virtual torch::Tensor Value(const torch::Tensor& obs) = 0;
  /// The log standard deviation of every action dimension, [act_dim], or with gSDE of every noise
  /// weight, [latent, act_dim] (SB3's train/std is the mean of its exponential).
  virtual torch::Tensor ActionLogStd() = 0;

  /// forward() and Value() for the training loop's acting: the same values bit for bit, with no
  /// gradient (call under InferenceMode, from one thread at a time). A network may compute them
  /// with fewer dispatched operations into buffers of its own, so the tensors returned are valid
  /// until the next ActForward/ActValue call: copy out what must stay.
  virtual ActorCriticOutput ActForward(const torch::Tensor& obs) { return forward(obs); }
  virtual torch::Tensor ActValue(const torch::Tensor& obs) { return Value(obs); }
};

/// A holder of any ActorCriticImpl; converts from the holder of a concrete network
/// (`nn::ActorCritic policy = nn::MlpActorCritic(options);`).
class ActorCritic : public torch::nn::ModuleHolder<ActorCriticImpl> {
 public:
  /* implicit */ ActorCritic(std::nullptr_t) : ModuleHolder(nullptr) {}
  /* implicit */ ActorCritic(std::shared_ptr<ActorCriticImpl> impl)
      : ModuleHolder(std::move(impl)) {}
  template <typename Impl>
  requires std::derived_from<Impl, ActorCriticImpl>
  /* implicit */ ActorCritic(const torch::nn::ModuleHolder<Impl>& holder)
      : ModuleHolder(std::shared_ptr<ActorCriticImpl>(holder.ptr())) {}
};

}  // namespace rlpipe::nn
