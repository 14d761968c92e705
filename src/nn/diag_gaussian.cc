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

torch::Generator MakeGenerator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

}  // namespace rlpipe::nn
