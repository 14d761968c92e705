#include "nn/mlp_actor_critic.h"

#include <ATen/ops/addmm_cpu_dispatch.h>
#include <ATen/ops/elu_cpu_dispatch.h>
#include <ATen/ops/leaky_relu_cpu_dispatch.h>
#include <ATen/ops/relu_cpu_dispatch.h>
#include <ATen/ops/sigmoid_cpu_dispatch.h>
#include <ATen/ops/tanh_cpu_dispatch.h>

#include <cmath>
#include <memory>
#include <string>

#include "core/error.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::nn {

torch::nn::AnyModule MakeActivation(config::Activation activation) {
  switch (activation) {
    case config::Activation::kTanh:
      return torch::nn::AnyModule(torch::nn::Tanh());
    case config::Activation::kRelu:
      return torch::nn::AnyModule(torch::nn::ReLU());
    case config::Activation::kElu:
      return torch::nn::AnyModule(torch::nn::ELU());
    case config::Activation::kLeakyRelu:
      return torch::nn::AnyModule(torch::nn::LeakyReLU());
    case config::Activation::kSigmoid:
      return torch::nn::AnyModule(torch::nn::Sigmoid());
  }
  throw ConfigError("network.activation: unknown activation value " +
                    std::to_string(static_cast<int>(activation)));
}

namespace {

// An empty extractor is the identity (SB3 with net_arch=[]).
torch::Tensor RunMlp(torch::nn::Sequential& mlp, const torch::Tensor& x) {
  return mlp->is_empty() ? x : mlp->forward(x);
}

int LastWidth(int in_dim, const std::vector<int>& layers) {
  return layers.empty() ? in_dim : layers.back();
}

}  // namespace

torch::nn::Sequential MakeMlp(int in_dim, const std::vector<int>& layers,
                              config::Activation activation) {
  torch::nn::Sequential mlp;
  int last = in_dim;
  for (int width : layers) {
    if (width < 1) {
      throw ConfigError("network: expected hidden layer sizes >= 1, found " +
                        std::to_string(width));
    }
    mlp->push_back(torch::nn::Linear(last, width));
    mlp->push_back(MakeActivation(activation));
    last = width;
  }
  return mlp;
}

MlpActorCriticImpl::MlpActorCriticImpl(const MlpActorCriticOptions& options) : options_(options) {
  if (options.obs_dim < 1 || options.act_dim < 1) {
    throw ConfigError("MlpActorCritic: expected obs_dim >= 1 and act_dim >= 1, found " +
                      std::to_string(options.obs_dim) + " and " + std::to_string(options.act_dim));
  }

  // mlp_extractor holds the two separate hidden stacks.
  auto extractor = register_module("mlp_extractor", std::make_shared<torch::nn::Module>());
  policy_net_ = extractor->register_module(
      "policy_net", MakeMlp(options.obs_dim, options.policy_layers, options.activation));
  value_net_ = extractor->register_module(
      "value_net", MakeMlp(options.obs_dim, options.value_layers, options.activation));

  // Heads and the state-independent log standard deviation.
  action_net_ = register_module(
      "action_net",
      torch::nn::Linear(LastWidth(options.obs_dim, options.policy_layers), options.act_dim));
  value_head_ = register_module(
      "value_net", torch::nn::Linear(LastWidth(options.obs_dim, options.value_layers), 1));
  const int latent = LastWidth(options.obs_dim, options.policy_layers);
  log_std_ = register_parameter("log_std", options.use_sde ? torch::zeros({latent, options.act_dim})
                                                           : torch::zeros({options.act_dim}));

  ResetParameters(options.init_seed);
}

ActorCriticOutput MlpActorCriticImpl::forward(const torch::Tensor& obs) {
  ActorCriticOutput out;
  torch::Tensor latent = RunMlp(policy_net_, obs);  // [B, latent]
  out.mean = action_net_->forward(latent);          // [B, act_dim]
  if (options_.use_sde) {
    out.log_std = log_std_;            // [latent, act_dim]
    out.latent_sde = latent.detach();  // SB3's learn_features=False
  } else {
    out.log_std = log_std_.expand_as(out.mean);  // [B, act_dim]
  }
  out.value = Value(obs);  // [B]
  return out;
}

torch::Tensor MlpActorCriticImpl::Value(const torch::Tensor& obs) {
  // [B, 1] → [B]
  return value_head_->forward(RunMlp(value_net_, obs)).squeeze(-1);
}

std::vector<MlpActorCriticImpl::ActLayer>& MlpActorCriticImpl::ActLayers(bool policy,
                                                                         int64_t batch) {
  std::vector<ActLayer>& layers = policy ? act_policy_ : act_value_;
  if (layers.empty()) {
    // The stack's Linear layers and the head, found once (the module never changes shape).
    for (const auto& module : (policy ? policy_net_ : value_net_)->children()) {
      if (auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(module)) {
        layers.push_back({torch::nn::Linear(linear), {}, {}, true});
      }
    }
    layers.push_back({policy ? action_net_ : value_head_, {}, {}, false});
  }
  // Views and buffers follow the weights' memory and the batch size.
  for (ActLayer& layer : layers) {
    if (!layer.weight_t.defined() || layer.weight_t.data_ptr() != layer.linear->weight.data_ptr()) {
      layer.weight_t = layer.linear->weight.t();
    }
    if (!layer.out.defined() || layer.out.size(0) != batch) {
      layer.out = torch::empty({batch, layer.linear->weight.size(0)});
    }
  }
  return layers;
}

const torch::Tensor& MlpActorCriticImpl::RunActLayers(std::vector<ActLayer>& layers,
                                                      const torch::Tensor& obs) {
  // What Linear::forward (addmm(bias, x, weightᵀ)) and the activation module compute, through
  // their CPU kernels.
  const torch::Tensor* x = &obs;
  for (ActLayer& layer : layers) {
    at::cpu::addmm_out(layer.out, layer.linear->bias, *x, layer.weight_t);
    if (layer.activation) {
      switch (options_.activation) {
        case config::Activation::kTanh:
          at::cpu::tanh_out(layer.out, layer.out);
          break;
        case config::Activation::kRelu:
          at::cpu::relu_(layer.out);
          break;
        case config::Activation::kElu:
          at::cpu::elu_out(layer.out, layer.out);
          break;
        case config::Activation::kLeakyRelu:
          at::cpu::leaky_relu_out(layer.out, layer.out);
          break;
        case config::Activation::kSigmoid:
          at::cpu::sigmoid_out(layer.out, layer.out);
          break;
      }
    }
    x = &layer.out;
  }
  return *x;
}

ActorCriticOutput MlpActorCriticImpl::ActForward(const torch::Tensor& obs) {
  if (!obs.is_cpu() || obs.scalar_type() != torch::kFloat32 || obs.dim() != 2) return forward(obs);
  ActorCriticOutput out;
  std::vector<ActLayer>& layers = ActLayers(true, obs.size(0));
  out.mean = RunActLayers(layers, obs);
  const torch::Tensor& latent = layers.size() > 1 ? layers[layers.size() - 2].out : obs;
  if (options_.use_sde) {
    out.log_std = log_std_;
    out.latent_sde = latent;
  } else {
    out.log_std = log_std_.expand_as(out.mean);
  }
  out.value = ActValue(obs);
  return out;
}

torch::Tensor MlpActorCriticImpl::ActValue(const torch::Tensor& obs) {
  if (!obs.is_cpu() || obs.scalar_type() != torch::kFloat32 || obs.dim() != 2) return Value(obs);
  return RunActLayers(ActLayers(false, obs.size(0)), obs).squeeze(-1);
}

void MlpActorCriticImpl::ResetParameters(uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::Generator generator = MakeGenerator(seed);

  if (!options_.ortho_init) {
    // torch.nn.Linear's own initialisation, layer by layer in module order.
    for (auto* mlp : {&policy_net_, &value_net_}) {
      for (const auto& child : (*mlp)->children()) {
        if (auto impl = std::dynamic_pointer_cast<torch::nn::LinearImpl>(child)) {
          torch::nn::Linear linear(impl);
          DefaultLinearInit(linear, generator);
        }
      }
    }
    DefaultLinearInit(action_net_, generator);
    DefaultLinearInit(value_head_, generator);
    log_std_.fill_(options_.log_std_init);
    return;
  }

  // Orthogonal weights and zero biases, in SB3's gains: √2 for the extractor layers.
  const double extractor_gain = std::sqrt(2.0);
  for (auto* mlp : {&policy_net_, &value_net_}) {
    for (const auto& child : (*mlp)->children()) {
      if (auto* linear = child->as<torch::nn::Linear>()) {
        OrthogonalInit(linear->weight, extractor_gain, generator);
        linear->bias.zero_();
      }
    }
  }

  // 0.01 for the action head (near-zero initial mean), 1 for the value head.
  OrthogonalInit(action_net_->weight, 0.01, generator);
  action_net_->bias.zero_();
  OrthogonalInit(value_head_->weight, 1.0, generator);
  value_head_->bias.zero_();
  log_std_.fill_(options_.log_std_init);
}

void OrthogonalInit(torch::Tensor weight, double gain, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const int64_t rows = weight.size(0);
  const int64_t cols = weight.numel() / rows;

  // QR of a standard normal matrix, taller than wide: flat [max(r, c), min(r, c)].
  torch::Tensor flat = at::normal(0.0, 1.0, {rows, cols}, generator, weight.options());
  if (rows < cols) flat = flat.t();
  auto [q, r] = at::linalg_qr(flat);

  // Make the decomposition unique (sign of R's diagonal), as torch.nn.init.orthogonal_ does.
  q = q * torch::diag(r, 0).sign();
  if (rows < cols) q = q.t();
  weight.copy_(q.reshape(weight.sizes())).mul_(gain);  // [rows, cols] → weight's shape
}

void DefaultLinearInit(torch::nn::Linear& linear, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(linear->weight.size(1)));
  linear->weight.copy_(at::empty(linear->weight.sizes(), linear->weight.options())
                           .uniform_(-bound, bound, generator));
  if (linear->bias.defined()) {
    linear->bias.copy_(
        at::empty(linear->bias.sizes(), linear->bias.options()).uniform_(-bound, bound, generator));
  }
}

}  // namespace rlpipe::nn
