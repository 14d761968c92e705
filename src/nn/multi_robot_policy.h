#pragma once
/// The multi-robot (entity) actor-critic, `agent.policy: MultiRobotPolicy` (docs/networks.md).
/// Robots are a set, not a vector: shared per-type encoders, self-attention across robots
/// (Vaswani et al. 2017, "Attention Is All You Need", eq. 1, post-norm residual blocks), a masked
/// mean pool (Zaheer et al. 2017, "Deep Sets"), per-type action heads. The network is equivariant
/// to robot order and none of its parameters depends on the robot count or the task block's size,
/// so a model trained with N robots loads and runs with any other N and on any robot task.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config/experiment_config.h"
#include "nn/actor_critic.h"

namespace rlpipe::nn {

/// One robot type's blocks: `count` robots of `obs_dim` observation and `act_dim` action values.
struct RobotTypeBlocks {
  std::string type;  // names the type's parameters (encoders.<type>.*), a plain identifier
  int count = 0;     // robots of this type, >= 1
  int obs_dim = 0;   // observation values per robot, >= 1
  int act_dim = 0;   // action values per robot, >= 1
};

/// The flat observation is [type 0 robots … | type 1 robots … | task block]; the flat action is
/// [type 0 robots … | type 1 robots …]; each robot's values are contiguous.
struct MultiRobotLayout {
  std::vector<RobotTypeBlocks> types;  // in observation and action order, >= 1 type
  int task_obs_dim = 0;                // values of the task block (may be 0)

  int ObsDim() const;
  int ActDim() const;
  int NumRobots() const;
};

/// Sizes and initialisation of a MultiRobotPolicy.
struct MultiRobotPolicyOptions {
  MultiRobotLayout layout;                 // the layout forward() reads (Evaluate takes others)
  int embed_dim = 64;                      // width of every robot embedding, >= 1
  int attention_heads = 4;                 // divides embed_dim
  int attention_layers = 2;                // self-attention blocks, >= 0
  std::vector<int> policy_layers{64, 64};  // hidden sizes of each type's action head
  std::vector<int> value_layers{64, 64};   // hidden sizes of the value head
  config::Activation activation = config::Activation::kTanh;
  double log_std_init = 0.0;  // initial value of every log_std entry
  uint64_t init_seed = 0;     // seed of the orthogonal initialisation
  /// Up to this many robots, attention (scores, masked softmax, context) runs as one fused node
  /// in plain loops instead of batched matmuls, which LibTorch's CPU bmm runs as B·heads tiny
  /// products one after the other. The same function either way (up to rounding); not a config
  /// key (bench/height_mrp_learning compares both).
  int fused_attention_max_robots = 16;
};

/// Multi-head self-attention over robots with a residual connection and LayerNorm, then a
/// feed-forward layer with the same. Parameter names: qkv, out, norm1, ff.{0,2}, norm2.
class RobotAttentionImpl : public torch::nn::Module {
 public:
  RobotAttentionImpl(int embed_dim, int heads, config::Activation activation, int fused_max_robots);
  /// x [B, R, E]; valid [B, R] bool (true = a robot; undefined = all) → [B, R, E]. Padded robots
  /// are never attended to.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid);

 private:
  int heads_;
  int fused_max_robots_;
  torch::nn::Linear qkv_{nullptr};
  torch::nn::Linear out_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr};
  torch::nn::Sequential ff_{nullptr};
  torch::nn::LayerNorm norm2_{nullptr};
};
TORCH_MODULE(RobotAttention);

/// The multi-robot actor-critic. Parameter names (none depends on a robot count):
/// encoders.<type>.{0,2}, task_encoder.{0,2}, attention.<i>.*, action_mlp.<type>.{0,2,..},
/// action_net.<type>, value_mlp.{0,2,..}, value_net, log_std.<type>.
class MultiRobotPolicyImpl : public ActorCriticImpl {
 public:
  /// ConfigError on an empty layout, a bad type name or sizes, or heads not dividing embed_dim.
  explicit MultiRobotPolicyImpl(const MultiRobotPolicyOptions& options);

  /// obs [B, options().layout.ObsDim()] → mean, log_std [B, act_dim] (env action order), value.
  ActorCriticOutput forward(const torch::Tensor& obs) override;
  torch::Tensor Value(const torch::Tensor& obs) override;
  /// Every action dimension's log_std for options().layout, [act_dim].
  torch::Tensor ActionLogStd() override;

  /// The same network on another layout: the same types (names and per-robot sizes, same order)
  /// with any counts and any task block size. `valid` [B, R] bool marks real robots (R =
  /// layout.NumRobots(), robot order of the observation; undefined = all real): padded robots are
  /// left out of attention and pooling, and their action means are meaningless.
  ActorCriticOutput Evaluate(const torch::Tensor& obs, const MultiRobotLayout& layout,
                             const torch::Tensor& valid = {});

  /// Re-draws every weight: orthogonal with gain √2 (encoders, attention, hidden layers), 0.01
  /// (action_net), 1 (value_net), zero biases, LayerNorm 1/0, log_std = log_std_init.
  void ResetParameters(uint64_t seed);

  const MultiRobotPolicyOptions& options() const { return options_; }

 private:
  /// The global feature [B, 2E] and the robot embeddings [B, R, E] after attention.
  struct Trunk {
    torch::Tensor robots;
    torch::Tensor global;
  };
  Trunk RunTrunk(const torch::Tensor& obs, const MultiRobotLayout& layout,
                 const torch::Tensor& valid);
  torch::Tensor ValueFromGlobal(const torch::Tensor& global);
  torch::Tensor LogStdFor(const MultiRobotLayout& layout);
  void CheckLayout(const MultiRobotLayout& layout) const;

  MultiRobotPolicyOptions options_;
  std::vector<torch::nn::Sequential> encoders_;  // [types]
  torch::nn::Sequential task_encoder_{nullptr};
  std::vector<RobotAttention> attention_;          // [attention_layers]
  std::vector<torch::nn::Sequential> action_mlp_;  // [types]
  std::vector<torch::nn::Linear> action_net_;      // [types]
  torch::nn::Sequential value_mlp_{nullptr};
  torch::nn::Linear value_net_{nullptr};
  std::vector<torch::Tensor> log_std_;  // [types] each [act_dim of the type]
};
TORCH_MODULE(MultiRobotPolicy);

}  // namespace rlpipe::nn
