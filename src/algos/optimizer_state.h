// Reading back an optimizer saved with torch::optim::Optimizer::save, whole.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlpipe::algos {

/// Loads `optimizer`'s state (moments, step counts) and each parameter group's options (learning
/// rate, betas, eps, ...) from an archive its save() wrote. LibTorch 1.13's load() restores only
/// the state: a resumed run then held the constructed learning rate instead of the scheduled one
/// until its first update, and any model saved before that update differed from the
/// uninterrupted run's. Adam and RMSprop (the optimizers rlpipe builds); others throw.
void LoadOptimizer(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& archive);

/// The key torch::optim keeps a parameter's state under.
inline std::string StateKey(const torch::Tensor& param) {
  return c10::guts::to_string(param.unsafeGetTensorImpl());
}

/// One per-parameter state tensor of a flat optimizer (FlatAdam's exp_avg, FlatRmsProp's
/// square_avg, ...): the flat buffer [n] over all parameters, and how a torch `State` reads and
/// sets it.
template <typename State>
struct FlatMoment {
  torch::Tensor flat;
  std::function<const torch::Tensor&(const State&)> get;
  std::function<void(State&, const torch::Tensor&)> set;
};

/// Shows a flat optimizer's state as `view`'s per-parameter state, as torch::optim keeps it: one
/// `State` (step count, each moment's slice copied in the parameter's shape) per parameter that
/// has stepped; a parameter that has not has no state in torch either.
template <typename State>
void ShowFlatState(torch::optim::Optimizer& view, const std::vector<torch::Tensor>& params,
                   const std::vector<int64_t>& steps,
                   const std::vector<FlatMoment<State>>& moments) {
  auto& state = view.state();
  state.clear();
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    if (steps[i] > 0) {
      auto s = std::make_unique<State>();
      s->step(steps[i]);
      for (const FlatMoment<State>& m : moments) {
        m.set(*s, m.flat.narrow(0, offset, p.numel()).view(p.sizes()).clone());
      }
      state[StateKey(p)] = std::move(s);
    }
    offset += p.numel();
  }
}

/// And back: each parameter's state from `view` into the flat moments and `steps`; a parameter
/// without state starts afresh (zero moments, step 0). IoError when a moment has another size.
template <typename State>
void TakeFlatState(const torch::optim::Optimizer& view, const std::vector<torch::Tensor>& params,
                   std::vector<int64_t>& steps, const std::vector<FlatMoment<State>>& moments) {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].numel();
    auto it = view.state().find(StateKey(params[i]));
    if (it == view.state().end()) {
      for (const FlatMoment<State>& m : moments) m.flat.narrow(0, offset, n).zero_();
      steps[i] = 0;
    } else {
      const auto& s = static_cast<const State&>(*it->second);
      for (const FlatMoment<State>& m : moments) {
        const torch::Tensor& value = m.get(s);
        if (value.numel() != n) {
          throw IoError("optimizer state: expected " + std::to_string(n) +
                        " values per moment for parameter #" + std::to_string(i) + ", found " +
                        std::to_string(value.numel()));
        }
        m.flat.narrow(0, offset, n).copy_(value.reshape({n}));
      }
      steps[i] = s.step();
    }
    offset += n;
  }
}

}  // namespace rlpipe::algos
