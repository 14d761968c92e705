#include "algos/gaussian_loss.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace rlpipe::algos {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Element (i, j) of a float32 tensor of up to two dimensions, through its strides (so an expanded
// log std is read without a copy).
class Strided {
 public:
  explicit Strided(const torch::Tensor& t)
      : data_(t.data_ptr<float>()),
        row_(t.dim() >= 1 ? t.stride(0) : 0),
        col_(t.dim() >= 2 ? t.stride(1) : 0) {}
  double operator()(int64_t i, int64_t j = 0) const { return data_[i * row_ + j * col_]; }

 private:
  const float* data_;
  int64_t row_;
  int64_t col_;
};

void Require(const torch::Tensor& t, int64_t rows, const char* what) {
  if (!t.defined() || t.scalar_type() != torch::kFloat32 || t.dim() < 1 || t.size(0) != rows) {
    throw std::invalid_argument(std::string("GaussianLoss: expected ") + what +
                                " as float32 with " + std::to_string(rows) + " rows");
  }
}

// The loss terms and the loss's gradients with respect to mean, log std and value.
struct Computed {
  torch::Tensor grad_mean;     // [B, A]
  torch::Tensor grad_log_std;  // [B, A]
  torch::Tensor grad_value;    // [B]
  GaussianLossResult numbers;
};

Computed Compute(const torch::Tensor& mean, const torch::Tensor& log_std,
                 const torch::Tensor& value, const GaussianLossBatch& batch,
                 const GaussianLossSettings& s) {
  const int64_t rows = mean.size(0);
  const int64_t dims = mean.size(1);
  Require(mean, rows, "mean");
  Require(value, rows, "value");
  Require(batch.actions, rows, "actions");
  Require(batch.advantages, rows, "advantages");
  Require(batch.returns, rows, "returns");
  if (s.ppo) Require(batch.old_log_prob, rows, "old log-probabilities");
  if (s.clip_range_vf) Require(batch.old_values, rows, "old values");
  const torch::Tensor std_broadcast = log_std.expand({rows, dims});
  const Strided mu(mean), ls(std_broadcast), v(value), act(batch.actions), adv(batch.advantages),
      ret(batch.returns);
  const Strided old_lp(s.ppo ? batch.old_log_prob : batch.advantages);
  const Strided old_v(s.clip_range_vf ? batch.old_values : value);

  Computed c;
  c.grad_mean = torch::empty({rows, dims}, torch::kFloat32);
  c.grad_log_std = torch::empty({rows, dims}, torch::kFloat32);
  c.grad_value = torch::empty({rows}, torch::kFloat32);
  float* g_mean = c.grad_mean.data_ptr<float>();
  float* g_log_std = c.grad_log_std.data_ptr<float>();
  float* g_value = c.grad_value.data_ptr<float>();

  // Advantage normalisation over the batch (unbiased std, as torch's default in SB3).
  double adv_shift = 0.0, adv_scale = 1.0;
  if (s.normalize_advantage && rows > 1) {
    double sum = 0.0;
    for (int64_t i = 0; i < rows; ++i) sum += adv(i);
    adv_shift = sum / static_cast<double>(rows);
    double squares = 0.0;
    for (int64_t i = 0; i < rows; ++i) squares += (adv(i) - adv_shift) * (adv(i) - adv_shift);
    adv_scale = 1.0 / (std::sqrt(squares / static_cast<double>(rows - 1)) + 1e-8);
  }

  const double half_log_two_pi = 0.5 * std::log(2.0 * std::numbers::pi);
  const double entropy_constant = 0.5 + half_log_two_pi;
  const double inv_rows = 1.0 / static_cast<double>(rows);
  const double eps = s.clip_range;
  double policy_sum = 0.0, value_sum = 0.0, entropy_sum = 0.0, kl_sum = 0.0, clipped = 0.0;
  for (int64_t i = 0; i < rows; ++i) {
    // log π(a|s) = Σ_j −(a_j − μ_j)²/(2σ_j²) − log σ_j − ½ log 2π, and H = Σ_j ½ + ½ log 2π + log
    // σ_j.
    double log_prob = 0.0;
    for (int64_t j = 0; j < dims; ++j) {
      const double d = act(i, j) - mu(i, j);
      const double variance = std::exp(2.0 * ls(i, j));
      log_prob += -d * d / (2.0 * variance) - ls(i, j) - half_log_two_pi;
      entropy_sum += ls(i, j) + entropy_constant;
    }
    const double a = (adv(i) - adv_shift) * adv_scale;

    // ∂(policy loss)/∂ log π(a|s) for this sample.
    double d_log_prob = 0.0;
    if (s.ppo) {
      const double log_ratio = log_prob - old_lp(i);
      const double ratio = std::exp(log_ratio);
      const double clamped = std::clamp(ratio, 1.0 - eps, 1.0 + eps);
      const double surrogate = a * ratio, clipped_surrogate = a * clamped;
      policy_sum += std::min(surrogate, clipped_surrogate);
      // min: the smaller side gets the gradient, half each on a tie; clamp: inside its range.
      const double w_unclipped =
          surrogate < clipped_surrogate ? 1.0 : (surrogate == clipped_surrogate ? 0.5 : 0.0);
      const double in_range = (ratio >= 1.0 - eps && ratio <= 1.0 + eps) ? 1.0 : 0.0;
      const double d_ratio = a * (w_unclipped + (1.0 - w_unclipped) * in_range);
      d_log_prob = -inv_rows * d_ratio * ratio;
      kl_sum += (ratio - 1.0) - log_ratio;
      if (std::abs(ratio - 1.0) > eps) clipped += 1.0;
    } else {
      policy_sum += a * log_prob;
      d_log_prob = -inv_rows * a;
    }
    for (int64_t j = 0; j < dims; ++j) {
      const double d = act(i, j) - mu(i, j);
      const double inv_variance = std::exp(-2.0 * ls(i, j));
      g_mean[i * dims + j] = static_cast<float>(d_log_prob * d * inv_variance);
      g_log_std[i * dims + j] =
          static_cast<float>(d_log_prob * (d * d * inv_variance - 1.0) - s.ent_coef * inv_rows);
    }

    // Value regression (with clip_range_vf: on V_old + clip(V − V_old, ±ε_v)).
    double prediction = v(i), pass = 1.0;
    if (s.clip_range_vf) {
      const double diff = v(i) - old_v(i);
      const double bound = *s.clip_range_vf;
      prediction = old_v(i) + std::clamp(diff, -bound, bound);
      pass = (diff >= -bound && diff <= bound) ? 1.0 : 0.0;
    }
    const double error = prediction - ret(i);
    value_sum += error * error;
    g_value[i] = static_cast<float>(s.vf_coef * 2.0 * error * inv_rows * pass);
  }

  GaussianLossResult& n = c.numbers;
  n.policy_loss = -policy_sum * inv_rows;
  n.value_loss = value_sum * inv_rows;
  n.entropy_loss = -entropy_sum * inv_rows;
  n.loss_value = n.policy_loss + s.ent_coef * n.entropy_loss + s.vf_coef * n.value_loss;
  if (s.ppo) {
    n.approx_kl = kl_sum * inv_rows;
    n.clip_fraction = clipped * inv_rows;
  }
  return c;
}

// The loss as one autograd node; its backward scales the precomputed gradients.
class LossFunction : public torch::autograd::Function<LossFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& mean,
                               const torch::Tensor& log_std, const torch::Tensor& value,
                               const GaussianLossBatch* batch, const GaussianLossSettings* settings,
                               GaussianLossResult* result) {
    Computed c = Compute(mean, log_std, value, *batch, *settings);
    ctx->saved_data["mean"] = c.grad_mean;
    ctx->saved_data["log_std"] = c.grad_log_std;
    ctx->saved_data["value"] = c.grad_value;
    *result = c.numbers;
    return torch::scalar_tensor(c.numbers.loss_value, torch::kFloat32);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const torch::Tensor& g = grad_outputs[0];
    return {ctx->saved_data["mean"].toTensor() * g,
            ctx->saved_data["log_std"].toTensor() * g,
            ctx->saved_data["value"].toTensor() * g,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

GaussianLossResult GaussianLoss(const nn::DiagGaussian& dist, const torch::Tensor& value,
                                const GaussianLossBatch& batch,
                                const GaussianLossSettings& settings) {
  GaussianLossResult result;
  result.loss = LossFunction::apply(dist.mean(), dist.log_std(), value, &batch, &settings, &result);
  return result;
}

}  // namespace rlpipe::algos
