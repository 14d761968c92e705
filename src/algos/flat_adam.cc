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
namespace {

std::string StateKey(const torch::Tensor& param) {
  return c10::guts::to_string(param.unsafeGetTensorImpl());
}

}  // namespace

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
  // Per-parameter slices of the moments (copies), keyed as torch::optim::Adam keys its state; a
  // parameter that has not stepped has no state in torch either.
  auto& state = view_.state();
  state.clear();
  int64_t offset = 0;
  const std::vector<torch::Tensor>& params = params_.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    if (steps_[i] > 0) {
      auto s = std::make_unique<torch::optim::AdamParamState>();
      s->step(steps_[i]);
      s->exp_avg(exp_avg_.narrow(0, offset, p.numel()).view(p.sizes()).clone());
      s->exp_avg_sq(exp_avg_sq_.narrow(0, offset, p.numel()).view(p.sizes()).clone());
      state[StateKey(p)] = std::move(s);
    }
    offset += p.numel();
  }
  return view_;
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

void FlatAdam::PullFromView() {
  // Back into the flat moments; a parameter without state starts from zero moments at step 0.
  const auto& state = view_.state();
  const std::vector<torch::Tensor>& params = params_.parameters();
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    auto it = state.find(StateKey(params[i]));
    if (it == state.end()) {
      exp_avg_.narrow(0, offset, n).zero_();
      exp_avg_sq_.narrow(0, offset, n).zero_();
      steps_[i] = 0;
    } else {
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
      if (s.exp_avg().numel() != n || s.exp_avg_sq().numel() != n) {
        throw IoError("optimizer state: expected Adam moments of " + std::to_string(n) +
                      " values for parameter #" + std::to_string(i) + ", found " +
                      std::to_string(s.exp_avg().numel()));
      }
      exp_avg_.narrow(0, offset, n).copy_(s.exp_avg().reshape({n}));
      exp_avg_sq_.narrow(0, offset, n).copy_(s.exp_avg_sq().reshape({n}));
      steps_[i] = s.step();
    }
    offset += n;
  }
}

}  // namespace rlpipe::algos
