#pragma once
/// The MLP actor-critic of Stable-Baselines3's PPO/A2C `MlpPolicy`, with SB3's parameter names so
/// that a checkpoint means the same thing to both (DESIGN.md, extension point 4).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "config/experiment_config.h"
#include "nn/actor_critic.h"

namespace rlpipe::nn {

/// Sizes and initialisation of an MlpActorCritic.
struct MlpActorCriticOptions {
  int obs_dim = 0;                         // observation size, >= 1
  int act_dim = 0;                         // action size, >= 1
  std::vector<int> policy_layers{64, 64};  // hidden sizes of mlp_extractor.policy_net
  std::vector<int> value_layers{64, 64};   // hidden sizes of mlp_extractor.value_net
  config::Activation activation = config::Activation::kTanh;
  double log_std_init = 0.0;  // initial value of every log_std entry
  bool use_sde = false;       // gSDE: log_std is [latent, act_dim] (noise weights' log std)
  bool ortho_init = true;     // false: torch.nn.Linear's default init (SB3's ortho_init=False)
  uint64_t init_seed = 0;     // seed of the initialisation
};

/// Separate policy and value MLPs (SB3's `net_arch=dict(pi=..., vf=...)`), a linear action head
/// with a state-independent log_std ([act_dim]; with gSDE [latent, act_dim], latent = the last
/// policy width), and a linear value head. Parameter names:
/// mlp_extractor.policy_net.{0,2,..}.{weight,bias}, mlp_extractor.value_net.{0,2,..}.{weight,bias},
/// action_net.{weight,bias}, value_net.{weight,bias}, log_std.
class MlpActorCriticImpl : public ActorCriticImpl {
 public:
  explicit MlpActorCriticImpl(const MlpActorCriticOptions& options);

  /// obs [B, obs_dim] → mean, log_std, value.
  ActorCriticOutput forward(const torch::Tensor& obs) override;
  /// Value only, obs [B, obs_dim] → [B] (skips the policy branch).
  torch::Tensor Value(const torch::Tensor& obs) override;
  /// log_std, [act_dim] ([latent, act_dim] with gSDE).
  torch::Tensor ActionLogStd() override { return log_std_; }
  /// forward() / Value() with the same CPU kernels called directly (at::cpu::addmm_out and the
  /// activation's _out kernel, no dispatcher, no autograd, no allocation once the batch size is
  /// seen): the same bits in about half the time at acting sizes (bench/on_policy_step).
  ActorCriticOutput ActForward(const torch::Tensor& obs) override;
  torch::Tensor ActValue(const torch::Tensor& obs) override;

  /// Re-draws every weight with SB3's orthogonal initialisation (gain √2 for the extractor, 0.01
  /// for action_net, 1 for value_net, biases 0) — or, with ortho_init false, torch.nn.Linear's
  /// default U(±1/√fan_in) for weights and biases — and resets log_std to log_std_init.
  void ResetParameters(uint64_t seed);

  const MlpActorCriticOptions& options() const { return options_; }

 private:
  MlpActorCriticOptions options_;
  torch::nn::Sequential policy_net_{nullptr};
  torch::nn::Sequential value_net_{nullptr};
  torch::nn::Linear action_net_{nullptr};
  torch::nn::Linear value_head_{nullptr};
  torch::Tensor log_std_;

  // ActForward/ActValue: one Linear layer (+ activation) with its output buffer.
  struct ActLayer {
    torch::nn::Linear linear;  // the module (its weight may move: see ActLayers)
    torch::Tensor weight_t;    // [in, out] view of the weight
    torch::Tensor out;         // [B, out]
    bool activation;           // hidden layers; the heads have none
  };
  // The layers of a stack and its head, ready for `batch` rows and the parameters' current memory
  // (FlatParameters moves them after construction; a load may too).
  std::vector<ActLayer>& ActLayers(bool policy, int64_t batch);
  const torch::Tensor& RunActLayers(std::vector<ActLayer>& layers, const torch::Tensor& obs);
  std::vector<ActLayer> act_policy_, act_value_;
};
TORCH_MODULE(MlpActorCritic);

/// The activation module of `activation` (for Sequential stacks).
torch::nn::AnyModule MakeActivation(config::Activation activation);

/// Linear/activation pairs, so that Linear layers sit at indices 0, 2, 4, ... (SB3's names).
/// ConfigError on a layer size < 1.
torch::nn::Sequential MakeMlp(int in_dim, const std::vector<int>& layers,
                              config::Activation activation);

/// Fills `weight` ([rows, cols]) with a (semi-)orthogonal matrix times `gain`, drawn from
/// `generator` (same algorithm as torch.nn.init.orthogonal_, without the global generator).
void OrthogonalInit(torch::Tensor weight, double gain, torch::Generator& generator);

/// torch.nn.Linear's reset_parameters: weight and bias ~ U(−1/√fan_in, 1/√fan_in) (kaiming
/// uniform with a = √5), drawn from `generator`.
void DefaultLinearInit(torch::nn::Linear& linear, torch::Generator& generator);

}  // namespace rlpipe::nn
