#include "nn/multi_robot_policy.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "core/error.h"
#include "nn/diag_gaussian.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::nn {
namespace {

// Sinusoidal features of a task value's index: sin and cos of k / 2^j for j = 0..3.
constexpr int kIndexFrequencies = 4;
constexpr int kTaskTokenDim = 1 + 2 * kIndexFrequencies;

std::string Describe(const MultiRobotLayout& layout) {
  std::string text;
  for (const RobotTypeBlocks& t : layout.types) {
    text += (text.empty() ? "" : ", ") + t.type + " x" + std::to_string(t.count) + " (obs " +
            std::to_string(t.obs_dim) + ", act " + std::to_string(t.act_dim) + ")";
  }
  return text + ", task " + std::to_string(layout.task_obs_dim);
}

bool IsIdentifier(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return true;
}

int LastWidth(int in_dim, const std::vector<int>& layers) {
  return layers.empty() ? in_dim : layers.back();
}

torch::Tensor RunMlp(torch::nn::Sequential& mlp, const torch::Tensor& x) {
  return mlp->is_empty() ? x : mlp->forward(x);
}

// Task tokens [B, d_task, 1 + 2F]: each value beside the sinusoidal features of its index.
torch::Tensor TaskTokens(const torch::Tensor& task) {
  const int64_t batch = task.size(0);
  const int64_t dim = task.size(1);
  torch::Tensor index = torch::arange(dim, task.options()).unsqueeze(1);  // [d_task, 1]
  torch::Tensor freq = torch::pow(2.0, -torch::arange(kIndexFrequencies, task.options()));
  torch::Tensor angle = index * freq.unsqueeze(0);                                 // [d_task, F]
  torch::Tensor features = torch::cat({torch::sin(angle), torch::cos(angle)}, 1);  // [d_task, 2F]
  return torch::cat({task.unsqueeze(2), features.unsqueeze(0).expand({batch, dim, -1})},
                    2);  // [B, d_task, 1 + 2F]
}

}  // namespace

int MultiRobotLayout::ObsDim() const {
  int dim = task_obs_dim;
  for (const RobotTypeBlocks& t : types) dim += t.count * t.obs_dim;
  return dim;
}

int MultiRobotLayout::ActDim() const {
  int dim = 0;
  for (const RobotTypeBlocks& t : types) dim += t.count * t.act_dim;
  return dim;
}

int MultiRobotLayout::NumRobots() const {
  int robots = 0;
  for (const RobotTypeBlocks& t : types) robots += t.count;
  return robots;
}

RobotAttentionImpl::RobotAttentionImpl(int embed_dim, int heads, config::Activation activation)
    : heads_(heads) {
  qkv_ = register_module("qkv", torch::nn::Linear(embed_dim, 3 * embed_dim));
  out_ = register_module("out", torch::nn::Linear(embed_dim, embed_dim));
  norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({embed_dim})));
  ff_ = register_module("ff", torch::nn::Sequential(torch::nn::Linear(embed_dim, embed_dim),
                                                    MakeActivation(activation),
                                                    torch::nn::Linear(embed_dim, embed_dim)));
  norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({embed_dim})));
}

torch::Tensor RobotAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& valid) {
  const int64_t batch = x.size(0);
  const int64_t robots = x.size(1);
  const int64_t embed = x.size(2);
  const int64_t head_dim = embed / heads_;

  // Queries, keys and values per head: [B, R, 3E] → 3 × [B, H, R, E/H].
  std::vector<torch::Tensor> qkv = qkv_->forward(x)
                                       .view({batch, robots, 3, heads_, head_dim})
                                       .permute({2, 0, 3, 1, 4})
                                       .unbind(0);

  // Scaled dot-product scores [B, H, R, R]; padded robots are never keys.
  torch::Tensor scores =
      torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
  if (valid.defined()) {
    scores = scores.masked_fill(valid.logical_not().view({batch, 1, 1, robots}),
                                -std::numeric_limits<float>::infinity());
  }
  torch::Tensor attention = torch::softmax(scores, -1);

  // Heads joined back: [B, H, R, E/H] → [B, R, E]; residual + norm, feed-forward + norm.
  torch::Tensor context =
      torch::matmul(attention, qkv[2]).permute({0, 2, 1, 3}).reshape({batch, robots, embed});
  torch::Tensor h = norm1_->forward(x + out_->forward(context));
  return norm2_->forward(h + ff_->forward(h));
}

MultiRobotPolicyImpl::MultiRobotPolicyImpl(const MultiRobotPolicyOptions& options)
    : options_(options) {
  // Sizes first: every later shape depends on them.
  const int embed = options.embed_dim;
  if (embed < 1 || options.attention_heads < 1 || embed % options.attention_heads != 0 ||
      options.attention_layers < 0) {
    throw ConfigError(
        "MultiRobotPolicy: expected embed_dim >= 1 divisible by attention_heads >= "
        "1 and attention_layers >= 0, found " +
        std::to_string(embed) + ", " + std::to_string(options.attention_heads) + ", " +
        std::to_string(options.attention_layers));
  }
  if (options.layout.types.empty()) {
    throw ConfigError("MultiRobotPolicy: expected a layout with at least one robot type");
  }
  CheckLayout(options.layout);

  // Per-type encoders [obs_dim → E → E], and the task-value encoder [1 + 2F → E → E].
  const std::vector<int> encoder_layers{embed, embed};
  auto encoders = register_module("encoders", std::make_shared<torch::nn::Module>());
  for (const RobotTypeBlocks& t : options.layout.types) {
    encoders_.push_back(
        encoders->register_module(t.type, MakeMlp(t.obs_dim, encoder_layers, options.activation)));
  }
  task_encoder_ =
      register_module("task_encoder", MakeMlp(kTaskTokenDim, encoder_layers, options.activation));

  // Self-attention blocks across robots.
  auto attention = register_module("attention", std::make_shared<torch::nn::Module>());
  for (int i = 0; i < options.attention_layers; ++i) {
    attention_.push_back(attention->register_module(
        std::to_string(i), RobotAttention(embed, options.attention_heads, options.activation)));
  }

  // Per-type action heads on [robot embedding ‖ global feature] = 3E, and per-type log_std.
  auto action_mlp = register_module("action_mlp", std::make_shared<torch::nn::Module>());
  auto action_net = register_module("action_net", std::make_shared<torch::nn::Module>());
  auto log_std = register_module("log_std", std::make_shared<torch::nn::Module>());
  for (const RobotTypeBlocks& t : options.layout.types) {
    action_mlp_.push_back(action_mlp->register_module(
        t.type, MakeMlp(3 * embed, options.policy_layers, options.activation)));
    action_net_.push_back(action_net->register_module(
        t.type, torch::nn::Linear(LastWidth(3 * embed, options.policy_layers), t.act_dim)));
    log_std_.push_back(log_std->register_parameter(t.type, torch::zeros({t.act_dim})));
  }

  // The value head on the global feature [pooled robots ‖ task] = 2E.
  value_mlp_ =
      register_module("value_mlp", MakeMlp(2 * embed, options.value_layers, options.activation));
  value_net_ = register_module("value_net",
                               torch::nn::Linear(LastWidth(2 * embed, options.value_layers), 1));

  ResetParameters(options.init_seed);
}

void MultiRobotPolicyImpl::CheckLayout(const MultiRobotLayout& layout) const {
  // The same types, names and per-robot sizes as the layout the network was built for.
  const MultiRobotLayout& own = options_.layout;
  bool same = layout.types.size() == own.types.size() && layout.task_obs_dim >= 0;
  for (size_t i = 0; same && i < layout.types.size(); ++i) {
    const RobotTypeBlocks& a = layout.types[i];
    const RobotTypeBlocks& b = own.types[i];
    same = a.type == b.type && a.obs_dim == b.obs_dim && a.act_dim == b.act_dim && a.count >= 1;
  }
  for (const RobotTypeBlocks& t : own.types) {
    same = same && IsIdentifier(t.type) && t.count >= 1 && t.obs_dim >= 1 && t.act_dim >= 1;
  }
  if (!same) {
    throw ConfigError("MultiRobotPolicy: expected robot types " + Describe(own) +
                      " (any counts >= 1, any task size), found " + Describe(layout));
  }
}

MultiRobotPolicyImpl::Trunk MultiRobotPolicyImpl::RunTrunk(const torch::Tensor& obs,
                                                           const MultiRobotLayout& layout,
                                                           const torch::Tensor& valid) {
  CheckLayout(layout);
  const int64_t batch = obs.size(0);
  if (obs.dim() != 2 || obs.size(1) != layout.ObsDim()) {
    throw ConfigError("MultiRobotPolicy: expected observations [B, " +
                      std::to_string(layout.ObsDim()) + "] for " + Describe(layout) + ", found " +
                      std::to_string(obs.dim()) + "-d with " + std::to_string(obs.size(-1)) +
                      " values");
  }

  // Each type's blocks through its shared encoder: [B, N_t·d_t] → [B, N_t, d_t] → [B, N_t, E].
  std::vector<torch::Tensor> embedded;
  int64_t offset = 0;
  for (size_t i = 0; i < layout.types.size(); ++i) {
    const RobotTypeBlocks& t = layout.types[i];
    torch::Tensor blocks =
        obs.narrow(1, offset, int64_t{t.count} * t.obs_dim).reshape({batch, t.count, t.obs_dim});
    embedded.push_back(encoders_[i]->forward(blocks));
    offset += int64_t{t.count} * t.obs_dim;
  }
  torch::Tensor robots = torch::cat(embedded, 1);  // [B, R, E]

  // Attention across all robots, padded ones masked out as keys.
  for (RobotAttention& block : attention_) robots = block->forward(robots, valid);

  // Masked mean pool over real robots: [B, R, E] → [B, E].
  torch::Tensor pooled;
  if (valid.defined()) {
    torch::Tensor weight = valid.to(robots.scalar_type()).unsqueeze(2);  // [B, R, 1]
    pooled = (robots * weight).sum(1) / weight.sum(1).clamp_min(1.0);
  } else {
    pooled = robots.mean(1);
  }

  // The task block as a set of (value, index features) tokens, mean-pooled: [B, d_task] → [B, E].
  torch::Tensor task_feature;
  if (layout.task_obs_dim > 0) {
    torch::Tensor task = obs.narrow(1, offset, layout.task_obs_dim);  // [B, d_task]
    task_feature = task_encoder_->forward(TaskTokens(task)).mean(1);
  } else {
    task_feature = torch::zeros({batch, options_.embed_dim}, obs.options());
  }
  return {robots, torch::cat({pooled, task_feature}, 1)};  // global [B, 2E]
}

torch::Tensor MultiRobotPolicyImpl::ValueFromGlobal(const torch::Tensor& global) {
  return value_net_->forward(RunMlp(value_mlp_, global)).squeeze(-1);  // [B, 1] → [B]
}

torch::Tensor MultiRobotPolicyImpl::LogStdFor(const MultiRobotLayout& layout) {
  // Each type's log_std repeated over its robots, in action order: [act_dim].
  std::vector<torch::Tensor> parts;
  for (size_t i = 0; i < layout.types.size(); ++i) {
    parts.push_back(log_std_[i].repeat({layout.types[i].count}));
  }
  return torch::cat(parts);
}

ActorCriticOutput MultiRobotPolicyImpl::Evaluate(const torch::Tensor& obs,
                                                 const MultiRobotLayout& layout,
                                                 const torch::Tensor& valid) {
  Trunk trunk = RunTrunk(obs, layout, valid);
  const int64_t batch = obs.size(0);
  const int64_t embed = options_.embed_dim;

  // Per-type heads on [robot ‖ global]: [B, N_t, 3E] → [B, N_t, a_t] → [B, N_t·a_t].
  std::vector<torch::Tensor> means;
  int64_t robot = 0;
  for (size_t i = 0; i < layout.types.size(); ++i) {
    const RobotTypeBlocks& t = layout.types[i];
    torch::Tensor own = trunk.robots.narrow(1, robot, t.count);  // [B, N_t, E]
    torch::Tensor global = trunk.global.unsqueeze(1).expand({batch, t.count, 2 * embed});
    torch::Tensor head_in = torch::cat({own, global}, 2);  // [B, N_t, 3E]
    torch::Tensor mean = action_net_[i]->forward(RunMlp(action_mlp_[i], head_in));
    means.push_back(mean.reshape({batch, int64_t{t.count} * t.act_dim}));
    robot += t.count;
  }

  ActorCriticOutput out;
  out.mean = torch::cat(means, 1);                                   // [B, act_dim]
  out.log_std = LogStdFor(layout).unsqueeze(0).expand_as(out.mean);  // [B, act_dim]
  out.value = ValueFromGlobal(trunk.global);                         // [B]
  return out;
}

ActorCriticOutput MultiRobotPolicyImpl::forward(const torch::Tensor& obs) {
  return Evaluate(obs, options_.layout);
}

torch::Tensor MultiRobotPolicyImpl::Value(const torch::Tensor& obs) {
  return ValueFromGlobal(RunTrunk(obs, options_.layout, {}).global);
}

torch::Tensor MultiRobotPolicyImpl::ActionLogStd() { return LogStdFor(options_.layout); }

void MultiRobotPolicyImpl::ResetParameters(uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = MakeGenerator(seed);

  // Every Linear (in registration order): orthogonal, gain √2, zero bias; LayerNorm 1 / 0.
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      OrthogonalInit(linear->weight, std::sqrt(2.0), generator);
      linear->bias.zero_();
    } else if (auto* norm = module->as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }

  // The output layers as SB3 draws them: 0.01 for action means, 1 for the value.
  for (torch::nn::Linear& head : action_net_) OrthogonalInit(head->weight, 0.01, generator);
  OrthogonalInit(value_net_->weight, 1.0, generator);
  for (torch::Tensor& log_std : log_std_) log_std.fill_(options_.log_std_init);
}

}  // namespace rlpipe::nn
