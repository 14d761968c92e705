#include "nn/off_policy_networks.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <utility>

#include "core/error.h"
#include "nn/diag_gaussian.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::nn {
namespace {

int LastWidth(int in_dim, const std::vector<int>& layers) {
  return layers.empty() ? in_dim : layers.back();
}

void CheckDims(const char* what, int obs_dim, int act_dim) {
  if (obs_dim < 1 || act_dim < 1) {
    throw ConfigError(std::string(what) + ": expected obs_dim >= 1 and act_dim >= 1, found " +
                      std::to_string(obs_dim) + " and " + std::to_string(act_dim));
  }
}

// One Q network: hidden MLP on concat(obs, action), then a scalar head (SB3's create_mlp(.., 1)).
torch::nn::Sequential MakeQNetwork(const TwinQCriticOptions& options) {
  torch::nn::Sequential q =
      MakeMlp(options.obs_dim + options.act_dim, options.layers, options.activation);
  q->push_back(torch::nn::Linear(LastWidth(options.obs_dim + options.act_dim, options.layers), 1));
  return q;
}

}  // namespace

TwinQCriticImpl::TwinQCriticImpl(const TwinQCriticOptions& options) {
  CheckDims("TwinQCritic", options.obs_dim, options.act_dim);
  qf0_ = register_module("qf0", MakeQNetwork(options));
  qf1_ = register_module("qf1", MakeQNetwork(options));
}

TwinQValues TwinQCriticImpl::forward(const torch::Tensor& obs, const torch::Tensor& actions) {
  // [B, obs_dim] ++ [B, act_dim] → [B, obs_dim + act_dim] → [B, 1] → [B]
  torch::Tensor input = torch::cat({obs, actions}, 1);
  return {qf0_->forward(input).squeeze(-1), qf1_->forward(input).squeeze(-1)};
}

/// Both Q networks as one autograd node whose forward and backward run each network as one task.
/// The forward builds each network's own graph from a detached copy of the input (its own leaf);
/// the backward runs each graph's backward from its Q value's gradient (weight gradients
/// accumulate there, as they would in the caller's graph) and returns the sum of the two input
/// gradients, the sum autograd forms where both networks read the same input.
class TwinQTasks : public torch::autograd::Function<TwinQTasks> {
 public:
  // `input` [B, in] tracks gradients (a stand-in leaf when only the weights need them);
  // `input_grad`: whether the caller's input needs its gradient.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                const torch::Tensor& input, bool input_grad,
                                                TwinQCriticImpl* critic, TaskPair* tasks) {
    std::array<torch::Tensor, 2> leaf, q;
    auto run = [&](size_t k) {
      // apply() runs forward without gradient tracking: each network's graph is built here.
      const torch::AutoGradMode grad(true);
      leaf[k] = input.detach().requires_grad_(input_grad);
      q[k] = (k == 0 ? critic->qf0_ : critic->qf1_)->forward(leaf[k]).squeeze(-1);  // [B]
    };
    tasks->Run([&] { run(0); }, [&] { run(1); });
    for (size_t k = 0; k < 2; ++k) {
      ctx->saved_data["leaf" + std::to_string(k)] = leaf[k];
      ctx->saved_data["q" + std::to_string(k)] = q[k];
    }
    // The task pair by address (saved_data holds IValues); it outlives the backward pass.
    ctx->saved_data["tasks"] = reinterpret_cast<int64_t>(tasks);
    return {q[0].detach(), q[1].detach()};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 const torch::autograd::variable_list& grads) {
    auto* tasks = reinterpret_cast<TaskPair*>(ctx->saved_data["tasks"].toInt());
    std::array<torch::Tensor, 2> input_grad;
    auto run = [&](size_t k) {
      torch::Tensor leaf = ctx->saved_data["leaf" + std::to_string(k)].toTensor();
      torch::Tensor q = ctx->saved_data["q" + std::to_string(k)].toTensor();
      torch::autograd::backward({q}, {grads[k]});
      if (leaf.requires_grad()) input_grad[k] = leaf.grad();
    };
    tasks->Run([&] { run(0); }, [&] { run(1); });
    torch::Tensor input = input_grad[0].defined() ? input_grad[0] + input_grad[1] : torch::Tensor();
    return {input, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

TwinQValues TwinQCriticImpl::forward(const torch::Tensor& obs, const torch::Tensor& actions,
                                     TaskPair& tasks) {
  // One thread: the plain forward (the node below would only add a detour; same bits).
  if (tasks.Threads() == 1) return forward(obs, actions);
  // [B, obs_dim] ++ [B, act_dim] → [B, obs_dim + act_dim] → [B, 1] → [B], each network a task.
  torch::Tensor input = torch::cat({obs, actions}, 1);
  const std::vector<torch::Tensor> weights = parameters();
  const bool weight_grad = torch::GradMode::is_enabled() &&
                           std::any_of(weights.begin(), weights.end(),
                                       [](const torch::Tensor& p) { return p.requires_grad(); });
  const bool input_grad = torch::GradMode::is_enabled() && input.requires_grad();
  // Nothing to differentiate: just both forwards.
  if (!weight_grad && !input_grad) {
    TwinQValues q;
    tasks.Run([&] { q.q0 = qf0_->forward(input).squeeze(-1); },
              [&] { q.q1 = qf1_->forward(input).squeeze(-1); });
    return q;
  }
  // Weights only: a stand-in leaf carries the gradient to the node (its own gradient unused).
  torch::autograd::variable_list q = TwinQTasks::apply(
      input_grad ? input : input.detach().requires_grad_(true), input_grad, this, &tasks);
  return {q[0], q[1]};
}

torch::Tensor TwinQCriticImpl::Q0(const torch::Tensor& obs, const torch::Tensor& actions) {
  return qf0_->forward(torch::cat({obs, actions}, 1)).squeeze(-1);  // [B, 1] → [B]
}

SacActorImpl::SacActorImpl(const ActorOptions& options) {
  CheckDims("SacActor", options.obs_dim, options.act_dim);
  const int last = LastWidth(options.obs_dim, options.layers);
  latent_pi_ =
      register_module("latent_pi", MakeMlp(options.obs_dim, options.layers, options.activation));
  mu_ = register_module("mu", torch::nn::Linear(last, options.act_dim));
  log_std_ = register_module("log_std", torch::nn::Linear(last, options.act_dim));
}

SacActorOutput SacActorImpl::forward(const torch::Tensor& obs) {
  // An empty latent_pi is the identity (SB3 with net_arch=[]).
  torch::Tensor latent = latent_pi_->is_empty() ? obs : latent_pi_->forward(obs);
  return {mu_->forward(latent), torch::clamp(log_std_->forward(latent), kLogStdMin, kLogStdMax)};
}

Td3ActorImpl::Td3ActorImpl(const ActorOptions& options) {
  CheckDims("Td3Actor", options.obs_dim, options.act_dim);
  torch::nn::Sequential mu = MakeMlp(options.obs_dim, options.layers, options.activation);
  mu->push_back(torch::nn::Linear(LastWidth(options.obs_dim, options.layers), options.act_dim));
  mu->push_back(torch::nn::Tanh());
  mu_ = register_module("mu", mu);
}

torch::Tensor Td3ActorImpl::forward(const torch::Tensor& obs) { return mu_->forward(obs); }

SquashedGaussian::SquashedGaussian(torch::Tensor mean, torch::Tensor log_std)
    : mean_(std::move(mean)), log_std_(std::move(log_std)) {}

SquashedSample SquashedGaussian::Sample(torch::Generator& generator) const {
  // u = μ + σ ε (reparameterised), a = tanh(u).
  torch::Tensor noise = at::normal(0.0, 1.0, mean_.sizes(), generator, mean_.options());
  torch::Tensor u = mean_ + torch::exp(log_std_) * noise;  // [B, act_dim]
  return {torch::tanh(u), LogProbFromPreTanh(u)};
}

torch::Tensor SquashedGaussian::LogProbFromPreTanh(const torch::Tensor& u) const {
  // Gaussian log-density of u minus the log-Jacobian of tanh, summed over dimensions.
  torch::Tensor gaussian = DiagGaussian(mean_, log_std_).LogProb(u);                    // [B]
  torch::Tensor jacobian = torch::log(1.0 - torch::tanh(u).pow(2) + kEpsilon).sum(-1);  // [B]
  return gaussian - jacobian;
}

SacPolicyImpl::SacPolicyImpl(const OffPolicyPolicyOptions& options) {
  // Actor and critic from one generator; the target starts as an exact copy.
  ActorOptions actor_options{options.obs_dim, options.act_dim, options.actor_layers,
                             options.activation};
  TwinQCriticOptions critic_options{options.obs_dim, options.act_dim, options.critic_layers,
                                    options.activation};
  actor = register_module("actor", SacActor(actor_options));
  critic = register_module("critic", TwinQCritic(critic_options));
  critic_target = register_module("critic_target", TwinQCritic(critic_options));
  torch::Generator generator = MakeGenerator(options.init_seed);
  DefaultLinearInit(*actor, generator);
  DefaultLinearInit(*critic, generator);
  HardCopy(*critic, *critic_target);
  for (torch::Tensor& p : critic_target->parameters()) p.set_requires_grad(false);
}

Td3PolicyImpl::Td3PolicyImpl(const OffPolicyPolicyOptions& options) {
  // Actor and critic from one generator; both targets start as exact copies.
  ActorOptions actor_options{options.obs_dim, options.act_dim, options.actor_layers,
                             options.activation};
  TwinQCriticOptions critic_options{options.obs_dim, options.act_dim, options.critic_layers,
                                    options.activation};
  actor = register_module("actor", Td3Actor(actor_options));
  actor_target = register_module("actor_target", Td3Actor(actor_options));
  critic = register_module("critic", TwinQCritic(critic_options));
  critic_target = register_module("critic_target", TwinQCritic(critic_options));
  torch::Generator generator = MakeGenerator(options.init_seed);
  DefaultLinearInit(*actor, generator);
  DefaultLinearInit(*critic, generator);
  HardCopy(*actor, *actor_target);
  HardCopy(*critic, *critic_target);
  for (torch::Tensor& p : actor_target->parameters()) p.set_requires_grad(false);
  for (torch::Tensor& p : critic_target->parameters()) p.set_requires_grad(false);
}

void DefaultLinearInit(torch::nn::Module& module, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  for (const auto& child : module.modules(/*include_self=*/true)) {
    if (auto* linear = child->as<torch::nn::Linear>()) {
      // kaiming_uniform(a=√5) on the weight and the bias rule both give U(−1/√fan_in, 1/√fan_in).
      const double bound = 1.0 / std::sqrt(static_cast<double>(linear->weight.size(1)));
      linear->weight.uniform_(-bound, bound, generator);
      linear->bias.uniform_(-bound, bound, generator);
    }
  }
}

void HardCopy(torch::nn::Module& source, torch::nn::Module& target) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> from = source.parameters();
  std::vector<torch::Tensor> to = target.parameters();
  if (from.size() != to.size()) {
    throw ConfigError("HardCopy: expected modules of the same structure, found " +
                      std::to_string(from.size()) + " and " + std::to_string(to.size()) +
                      " parameters");
  }
  for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
}

}  // namespace rlpipe::nn
