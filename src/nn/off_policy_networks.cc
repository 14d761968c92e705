#include "nn/off_policy_networks.h"

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
