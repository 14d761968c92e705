#include "algos/flat_adam.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "algos/optimizer_state.h"
#include "core/error.h"

namespace rlpipe::algos {
namespace {

std::string StateKey(const torch::Tensor& param) {
  return c10::guts::to_string(param.unsafeGetTensorImpl());
}

}  // namespace

FlatAdam::FlatAdam(nn::FlatParameters& params, double learning_rate)
    : params_(params),
      learning_rate_(learning_rate),
      exp_avg_(torch::zeros_like(params.data())),
      exp_avg_sq_(torch::zeros_like(params.data())),
      view_(params.parameters(), torch::optim::AdamOptions(learning_rate)) {}

void FlatAdam::Step() {
  torch::NoGradGuard no_grad;
  ++step_;
  const double bias_correction1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
  const double bias_correction2 = 1.0 - std::pow(beta2_, static_cast<double>(step_));
  const torch::Tensor& grad = params_.grad();
  // Moments, then the bias-corrected step (torch.optim.Adam's order of operations).
  exp_avg_.mul_(beta1_).add_(grad, 1.0 - beta1_);
  exp_avg_sq_.mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
  torch::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(eps_);
  params_.data().addcdiv_(exp_avg_, denom, -learning_rate_ / bias_correction1);
}

void FlatAdam::SetLearningRate(double learning_rate) {
  learning_rate_ = learning_rate;
  for (auto& group : view_.param_groups()) group.options().set_lr(learning_rate);
}

const torch::optim::Adam& FlatAdam::AsTorchAdam() const {
  // Per-parameter slices of the moments (copies), keyed as torch::optim::Adam keys its state;
  // before the first step torch has no state either.
  auto& state = view_.state();
  state.clear();
  if (step_ == 0) return view_;
  int64_t offset = 0;
  for (const torch::Tensor& p : params_.parameters()) {
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(step_);
    s->exp_avg(exp_avg_.narrow(0, offset, p.numel()).view(p.sizes()).clone());
    s->exp_avg_sq(exp_avg_sq_.narrow(0, offset, p.numel()).view(p.sizes()).clone());
    state[StateKey(p)] = std::move(s);
    offset += p.numel();
  }
  return view_;
}

void FlatAdam::Save(torch::serialize::OutputArchive& archive) const { AsTorchAdam().save(archive); }

void FlatAdam::Load(torch::serialize::InputArchive& archive) {
  LoadOptimizer(view_, archive);
  // Back into the flat moments; every parameter has state, or none has (saved before a step).
  auto& state = view_.state();
  const std::vector<torch::Tensor>& params = params_.parameters();
  torch::NoGradGuard no_grad;
  if (state.empty()) {
    step_ = 0;
    exp_avg_.zero_();
    exp_avg_sq_.zero_();
    return;
  }
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = state.find(StateKey(params[i]));
    if (it == state.end()) {
      throw IoError("optimizer state: expected Adam state for every parameter, found none for #" +
                    std::to_string(i));
    }
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const int64_t n = params[i].numel();
    exp_avg_.narrow(0, offset, n).copy_(s.exp_avg().reshape({n}));
    exp_avg_sq_.narrow(0, offset, n).copy_(s.exp_avg_sq().reshape({n}));
    step_ = s.step();
    offset += n;
  }
  // The learning rate comes from the schedule (SetLearningRate before each update).
  learning_rate_ = view_.param_groups().front().options().get_lr();
}

}  // namespace rlpipe::algos
