#include "nn/multi_robot_policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

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

// Scaled dot-product attention over small sets as one autograd node, in plain loops: q, k, v
// [B, H, R, D] (contiguous float32), valid [B, R] bool (undefined: all valid) → context
// [B, H, R, D] (valid is a pointer: autograd takes no undefined tensor argument). softmax(q kᵀ /
// √D, keys masked by valid) v per (sample, head); the backward pass is the textbook one (dA = dC
// vᵀ, dV = Aᵀ dC, dS = A ⊙ (dA − rowsum(A ⊙ dA)), dQ = dS k / √D, dK = dSᵀ q / √D). With a few
// robots this replaces B·H tiny matrix products (LibTorch's CPU bmm runs them one by one, forward
// and backward) and a dozen broadcast operations.
class SmallSetAttention : public torch::autograd::Function<SmallSetAttention> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& query,
                               const torch::Tensor& key, const torch::Tensor& value,
                               const torch::Tensor* valid) {
    const torch::Tensor q = query.contiguous(), k = key.contiguous(), v = value.contiguous();
    const int64_t batch = q.size(0), heads = q.size(1), robots = q.size(2), dim = q.size(3);
    const double scale = 1.0 / std::sqrt(static_cast<double>(dim));
    torch::Tensor weights = torch::empty({batch, heads, robots, robots}, q.options());
    torch::Tensor context = torch::empty_like(q);
    const torch::Tensor mask =
        valid->defined() ? valid->to(torch::kBool).contiguous() : torch::Tensor();
    const bool* is_valid = mask.defined() ? mask.data_ptr<bool>() : nullptr;
    const float* qp = q.data_ptr<float>();
    const float* kp = k.data_ptr<float>();
    const float* vp = v.data_ptr<float>();
    float* ap = weights.data_ptr<float>();
    float* cp = context.data_ptr<float>();
    std::vector<double> scores(static_cast<size_t>(robots));
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t base = (b * heads + h) * robots;
        for (int64_t i = 0; i < robots; ++i) {
          // Scores of query i, then their softmax over the valid keys.
          double max_score = -std::numeric_limits<double>::infinity();
          for (int64_t j = 0; j < robots; ++j) {
            if (is_valid != nullptr && !is_valid[b * robots + j]) {
              scores[j] = -std::numeric_limits<double>::infinity();
              continue;
            }
            const float* qi = qp + (base + i) * dim;
            const float* kj = kp + (base + j) * dim;
            float dot = 0.0F;
            for (int64_t d = 0; d < dim; ++d) dot += qi[d] * kj[d];
            scores[j] = dot * scale;
            max_score = std::max(max_score, scores[j]);
          }
          double sum = 0.0;
          for (int64_t j = 0; j < robots; ++j) {
            scores[j] = std::exp(scores[j] - max_score);
            sum += scores[j];
          }
          float* ai = ap + (base + i) * robots;
          float* ci = cp + (base + i) * dim;
          for (int64_t d = 0; d < dim; ++d) ci[d] = 0.0F;
          for (int64_t j = 0; j < robots; ++j) {
            ai[j] = static_cast<float>(scores[j] / sum);
            const float* vj = vp + (base + j) * dim;
            for (int64_t d = 0; d < dim; ++d) ci[d] += ai[j] * vj[d];
          }
        }
      }
    }
    ctx->save_for_backward({q, k, v, weights});
    return context;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const torch::Tensor& q = saved[0];
    const torch::Tensor& k = saved[1];
    const torch::Tensor& v = saved[2];
    const torch::Tensor& weights = saved[3];
    const torch::Tensor grad = grad_outputs[0].contiguous();
    const int64_t batch = q.size(0), heads = q.size(1), robots = q.size(2), dim = q.size(3);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dim)));
    torch::Tensor grad_q = torch::zeros_like(q), grad_k = torch::zeros_like(k),
                  grad_v = torch::zeros_like(v);
    const float* qp = q.data_ptr<float>();
    const float* kp = k.data_ptr<float>();
    const float* vp = v.data_ptr<float>();
    const float* ap = weights.data_ptr<float>();
    const float* gp = grad.data_ptr<float>();
    float* gq = grad_q.data_ptr<float>();
    float* gk = grad_k.data_ptr<float>();
    float* gv = grad_v.data_ptr<float>();
    std::vector<float> grad_weights(static_cast<size_t>(robots));
    for (int64_t bh = 0; bh < batch * heads; ++bh) {
      const int64_t base = bh * robots;
      for (int64_t i = 0; i < robots; ++i) {
        const float* ai = ap + (base + i) * robots;
        const float* gi = gp + (base + i) * dim;
        // dA_ij = dC_i · v_j and dV_j += A_ij dC_i; then the softmax's Jacobian.
        float weighted = 0.0F;
        for (int64_t j = 0; j < robots; ++j) {
          const float* vj = vp + (base + j) * dim;
          float* gvj = gv + (base + j) * dim;
          float dot = 0.0F;
          for (int64_t d = 0; d < dim; ++d) {
            dot += gi[d] * vj[d];
            gvj[d] += ai[j] * gi[d];
          }
          grad_weights[j] = dot;
          weighted += ai[j] * dot;
        }
        // dS_ij = A_ij (dA_ij − Σ_l A_il dA_il); dQ_i += dS_ij k_j / √D, dK_j += dS_ij q_i / √D.
        const float* qi = qp + (base + i) * dim;
        float* gqi = gq + (base + i) * dim;
        for (int64_t j = 0; j < robots; ++j) {
          const float grad_score = ai[j] * (grad_weights[j] - weighted) * scale;
          if (grad_score == 0.0F) continue;
          const float* kj = kp + (base + j) * dim;
          float* gkj = gk + (base + j) * dim;
          for (int64_t d = 0; d < dim; ++d) {
            gqi[d] += grad_score * kj[d];
            gkj[d] += grad_score * qi[d];
          }
        }
      }
    }
    return {grad_q, grad_k, grad_v, torch::Tensor()};
  }
};

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

RobotAttentionImpl::RobotAttentionImpl(int embed_dim, int heads, config::Activation activation,
                                       int fused_max_robots)
    : heads_(heads), fused_max_robots_(fused_max_robots) {
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

  // Queries, keys and values per head: [B, R, 3E] → 3 × [B, H, R, E/H] (contiguous).
  std::vector<torch::Tensor> qkv = qkv_->forward(x)
                                       .view({batch, robots, 3, heads_, head_dim})
                                       .permute({2, 0, 3, 1, 4})
                                       .contiguous()
                                       .unbind(0);

  // Heads joined back after attention: [B, H, R, E/H] → [B, R, E]. With a few robots one fused
  // node (SmallSetAttention); else scaled dot-product scores [B, H, R, R] as batched matmuls,
  // padded robots never keys.
  torch::Tensor context;
  if (robots <= fused_max_robots_) {
    context = SmallSetAttention::apply(qkv[0], qkv[1], qkv[2], &valid);
  } else {
    torch::Tensor scores =
        torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
    if (valid.defined()) {
      scores = scores.masked_fill(valid.logical_not().view({batch, 1, 1, robots}),
                                  -std::numeric_limits<float>::infinity());
    }
    context = torch::matmul(torch::softmax(scores, -1), qkv[2]);
  }
  context = context.permute({0, 2, 1, 3}).reshape({batch, robots, embed});

  // Residual + norm, feed-forward + norm.
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
        std::to_string(i), RobotAttention(embed, options.attention_heads, options.activation,
                                          options.fused_attention_max_robots)));
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
