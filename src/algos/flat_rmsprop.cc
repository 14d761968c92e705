#include "algos/flat_rmsprop.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "algos/optimizer_state.h"
#include "core/error.h"

namespace rlpipe::algos {

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
  ShowFlatState(view_, params_.parameters(), steps_, Moments());
  return view_;
}

std::vector<FlatMoment<torch::optim::RMSpropParamState>> FlatRmsProp::Moments() const {
  using State = torch::optim::RMSpropParamState;
  return {{square_avg_, [](const State& s) -> const torch::Tensor& { return s.square_avg(); },
           [](State& s, const torch::Tensor& t) { s.square_avg(t); }}};
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

void FlatRmsProp::PullFromView() { TakeFlatState(view_, params_.parameters(), steps_, Moments()); }

}  // namespace rlpipe::algos
