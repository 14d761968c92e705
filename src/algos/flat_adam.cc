#include "algos/flat_adam.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "algos/optimizer_state.h"
#include "core/error.h"

namespace rlpipe::algos {

FlatAdam::FlatAdam(nn::FlatParameters& params, double learning_rate, double eps)
    : params_(params),
      learning_rate_(learning_rate),
      eps_(eps),
      steps_(params.parameters().size(), 0),
      exp_avg_(torch::zeros_like(params.data())),
      exp_avg_sq_(torch::zeros_like(params.data())),
      view_(params.parameters(), torch::optim::AdamOptions(learning_rate).eps(eps)) {}

void FlatAdam::Step() {
  if (steps_.empty()) return;
  torch::NoGradGuard no_grad;
  const torch::Tensor& grad = params_.grad();
  // Moments, then the bias-corrected step (torch.optim.Adam's order of operations).
  exp_avg_.mul_(beta1_).add_(grad, 1.0 - beta1_);
  exp_avg_sq_.mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
  const bool one_count =
      std::all_of(steps_.begin(), steps_.end(), [&](int64_t s) { return s == steps_.front(); });
  for (int64_t& s : steps_) ++s;
  if (one_count) {
    // Every parameter at the same step: one bias correction for the whole buffer.
    const auto t = static_cast<double>(steps_.front());
    const double bias_correction1 = 1.0 - std::pow(beta1_, t);
    const double bias_correction2 = 1.0 - std::pow(beta2_, t);
    torch::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(eps_);
    params_.data().addcdiv_(exp_avg_, denom, -learning_rate_ / bias_correction1);
    return;
  }
  // Step counts differ (some parameters' state was transferred): per-parameter corrections.
  int64_t offset = 0;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const int64_t n = params_.parameters()[i].numel();
    const auto t = static_cast<double>(steps_[i]);
    const double bias_correction1 = 1.0 - std::pow(beta1_, t);
    const double bias_correction2 = 1.0 - std::pow(beta2_, t);
    torch::Tensor denom =
        (exp_avg_sq_.narrow(0, offset, n).sqrt() / std::sqrt(bias_correction2)).add_(eps_);
    params_.data()
        .narrow(0, offset, n)
        .addcdiv_(exp_avg_.narrow(0, offset, n), denom, -learning_rate_ / bias_correction1);
    offset += n;
  }
}

void FlatAdam::Step(nn::TaskPair& tasks) {
  // Step counts that differ (transferred state) take the per-parameter path on this thread.
  if (steps_.empty() ||
      !std::all_of(steps_.begin(), steps_.end(), [&](int64_t s) { return s == steps_.front(); })) {
    Step();
    return;
  }
  for (int64_t& s : steps_) ++s;
  const auto t = static_cast<double>(steps_.front());
  const int64_t n = params_.data().numel();
  const int64_t half = n / 2 / 64 * 64;
  torch::NoGradGuard no_grad;
  tasks.Run([&] { StepRange(0, half, t); }, [&] { StepRange(half, n, t); });
}

void FlatAdam::StepRange(int64_t begin, int64_t end, double t) {
  // Step()'s operations, in its order, on elements [begin, end).
  const int64_t n = end - begin;
  const torch::Tensor grad = params_.grad().narrow(0, begin, n);
  torch::Tensor exp_avg = exp_avg_.narrow(0, begin, n);
  torch::Tensor exp_avg_sq = exp_avg_sq_.narrow(0, begin, n);
  exp_avg.mul_(beta1_).add_(grad, 1.0 - beta1_);
  exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
  const double bias_correction1 = 1.0 - std::pow(beta1_, t);
  const double bias_correction2 = 1.0 - std::pow(beta2_, t);
  torch::Tensor denom = (exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(eps_);
  params_.data().narrow(0, begin, n).addcdiv_(exp_avg, denom, -learning_rate_ / bias_correction1);
}

void FlatAdam::SetLearningRate(double learning_rate) {
  learning_rate_ = learning_rate;
  for (auto& group : view_.param_groups()) group.options().set_lr(learning_rate);
}

const torch::optim::Adam& FlatAdam::AsTorchAdam() const {
  ShowFlatState(view_, params_.parameters(), steps_, Moments());
  return view_;
}

std::vector<FlatMoment<torch::optim::AdamParamState>> FlatAdam::Moments() const {
  using State = torch::optim::AdamParamState;
  return {{exp_avg_, [](const State& s) -> const torch::Tensor& { return s.exp_avg(); },
           [](State& s, const torch::Tensor& t) { s.exp_avg(t); }},
          {exp_avg_sq_, [](const State& s) -> const torch::Tensor& { return s.exp_avg_sq(); },
           [](State& s, const torch::Tensor& t) { s.exp_avg_sq(t); }}};
}

void FlatAdam::Save(torch::serialize::OutputArchive& archive) const { AsTorchAdam().save(archive); }

void FlatAdam::Load(torch::serialize::InputArchive& archive) {
  LoadOptimizer(view_, archive);
  PullFromView();
  // The learning rate comes from the schedule (SetLearningRate before each update).
  learning_rate_ = view_.param_groups().front().options().get_lr();
}

void FlatAdam::EditState(const std::function<void(torch::optim::Adam&)>& edit) {
  AsTorchAdam();
  edit(view_);
  PullFromView();
}

void FlatAdam::PullFromView() { TakeFlatState(view_, params_.parameters(), steps_, Moments()); }

}  // namespace rlpipe::algos
