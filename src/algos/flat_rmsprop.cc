#include "algos/flat_rmsprop.h"

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

FlatRmsProp::FlatRmsProp(nn::FlatParameters& params, double learning_rate, double alpha, double eps)
    : params_(params),
      learning_rate_(learning_rate),
      alpha_(alpha),
      eps_(eps),
      steps_(params.parameters().size(), 0),
      square_avg_(torch::zeros_like(params.data())),
      view_(params.parameters(),
            torch::optim::RMSpropOptions(learning_rate).alpha(alpha).eps(eps)) {}

void FlatRmsProp::Step() {
  if (steps_.empty()) return;
  torch::NoGradGuard no_grad;
  const torch::Tensor& grad = params_.grad();
  // torch.optim.RMSprop's operations, in its order, over the whole buffer.
  for (int64_t& s : steps_) ++s;
  square_avg_.mul_(alpha_).addcmul_(grad, grad, 1.0 - alpha_);
  const torch::Tensor avg = square_avg_.sqrt().add_(eps_);
  params_.data().addcdiv_(grad, avg, -learning_rate_);
}

void FlatRmsProp::SetLearningRate(double learning_rate) {
  learning_rate_ = learning_rate;
  for (auto& group : view_.param_groups()) group.options().set_lr(learning_rate);
}

const torch::optim::RMSprop& FlatRmsProp::AsTorchRmsProp() const {
  // Per-parameter slices (copies), keyed as torch::optim::RMSprop keys its state; a parameter
  // that has not stepped has no state in torch either.
  auto& state = view_.state();
  state.clear();
  int64_t offset = 0;
  const std::vector<torch::Tensor>& params = params_.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    if (steps_[i] > 0) {
      auto s = std::make_unique<torch::optim::RMSpropParamState>();
      s->step(steps_[i]);
      s->square_avg(square_avg_.narrow(0, offset, p.numel()).view(p.sizes()).clone());
      state[StateKey(p)] = std::move(s);
    }
    offset += p.numel();
  }
  return view_;
}

void FlatRmsProp::Save(torch::serialize::OutputArchive& archive) const {
  AsTorchRmsProp().save(archive);
}

void FlatRmsProp::Load(torch::serialize::InputArchive& archive) {
  LoadOptimizer(view_, archive);
  PullFromView();
  // The learning rate comes from the schedule (SetLearningRate before each update).
  learning_rate_ = view_.param_groups().front().options().get_lr();
}

void FlatRmsProp::EditState(const std::function<void(torch::optim::RMSprop&)>& edit) {
  AsTorchRmsProp();
  edit(view_);
  PullFromView();
}

void FlatRmsProp::PullFromView() {
  const auto& state = view_.state();
  const std::vector<torch::Tensor>& params = params_.parameters();
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    auto it = state.find(StateKey(params[i]));
    if (it == state.end()) {
      square_avg_.narrow(0, offset, n).zero_();
      steps_[i] = 0;
    } else {
      const auto& s = static_cast<const torch::optim::RMSpropParamState&>(*it->second);
      if (s.square_avg().numel() != n) {
        throw IoError("optimizer state: expected an RMSprop square_avg of " + std::to_string(n) +
                      " values for parameter #" + std::to_string(i) + ", found " +
                      std::to_string(s.square_avg().numel()));
      }
      square_avg_.narrow(0, offset, n).copy_(s.square_avg().reshape({n}));
      steps_[i] = s.step();
    }
    offset += n;
  }
}

}  // namespace rlpipe::algos
