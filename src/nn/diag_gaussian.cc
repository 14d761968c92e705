#include "nn/diag_gaussian.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <numbers>
#include <utility>

namespace rlpipe::nn {

DiagGaussian::DiagGaussian(torch::Tensor mean, torch::Tensor log_std)
    : mean_(std::move(mean)), log_std_(log_std.expand_as(mean_)) {}

torch::Tensor DiagGaussian::LogProb(const torch::Tensor& actions) const {
  // Per dimension −(a − μ)²/(2σ²) − log σ − ½ log 2π, summed over the action dimension.
  const double half_log_two_pi = 0.5 * std::log(2.0 * std::numbers::pi);
  torch::Tensor variance = torch::exp(2.0 * log_std_);
  torch::Tensor per_dim = -(actions - mean_).pow(2) / (2.0 * variance) - log_std_ - half_log_two_pi;
  return per_dim.sum(-1);  // [B, act_dim] → [B]
}

torch::Tensor DiagGaussian::Entropy() const {
  // ½ + ½ log 2π + log σ per dimension.
  const double constant = 0.5 + 0.5 * std::log(2.0 * std::numbers::pi);
  return (log_std_ + constant).sum(-1);  // [B, act_dim] → [B]
}

torch::Tensor DiagGaussian::Sample(torch::Generator& generator) const {
  // Reparameterised: μ + σ ε with ε ~ N(0, I) from the caller's generator.
  torch::Tensor noise = at::normal(0.0, 1.0, mean_.sizes(), generator, mean_.options());
  return mean_ + torch::exp(log_std_) * noise;
}

DiagGaussian PolicyDistribution(const ActorCriticOutput& out) {
  if (!out.latent_sde.defined()) return DiagGaussian(out.mean, out.log_std);
  // Var(θᵀ M)_j = Σ_i θ_i² σ_ij² for independent M_ij ~ N(0, σ_ij²); SB3 adds 1e-6.
  constexpr double kEpsilon = 1e-6;
  torch::Tensor variance = torch::mm(out.latent_sde.pow(2), torch::exp(2.0 * out.log_std));
  return DiagGaussian(out.mean, 0.5 * torch::log(variance + kEpsilon));
}

torch::Tensor DrawExploration(const torch::Tensor& log_std, int64_t n, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  const torch::Tensor std = torch::exp(log_std);  // [L, A]
  torch::Tensor noise = at::normal(0.0, 1.0, {n, log_std.size(0), log_std.size(1)}, generator,
                                   log_std.options());
  return noise * std;  // [n, L, A]
}

torch::Tensor ExploreAction(const ActorCriticOutput& out, const torch::Tensor& exploration) {
  // [B, 1, L] bmm [B, L, A] → [B, A]
  torch::Tensor noise = torch::bmm(out.latent_sde.unsqueeze(1), exploration).squeeze(1);
  return out.mean + noise;
}

torch::Generator MakeGenerator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace rlpipe::nn
