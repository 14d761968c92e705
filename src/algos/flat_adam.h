#pragma once
/// Adam (Kingma & Ba 2015, algorithm 1, in PyTorch's form) on a network's flat parameter buffer:
///   m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
///   θ ← θ − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// as a handful of vector operations over the whole network (torch::optim::Adam runs them per
/// tensor). The same arithmetic as torch.optim.Adam (no weight decay, no AMSGrad). For checkpoints
/// the state is also shown as a torch::optim::Adam over the module's parameters, so SB3's
/// per-parameter optimizer layout and the resume archive stay as they were.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "algos/optimizer_state.h"
#include "nn/flat_parameters.h"
#include "nn/task_pair.h"

namespace rlpipe::algos {

class FlatAdam {
 public:
  /// Adam over `params` (which must outlive it) with β = (0.9, 0.999) and `eps` (SB3: 1e-8 for
  /// SAC/TD3, 1e-5 for PPO).
  FlatAdam(nn::FlatParameters& params, double learning_rate, double eps = 1e-8);

  /// Gradients to zero (one operation).
  void ZeroGrad() { params_.ZeroGrad(); }
  /// One update from the gradients in params.grad().
  void Step();
  /// The same update, the buffer's two halves as the two tasks of `tasks` (the same bits as
  /// Step(): every element gets the same arithmetic, and the halves meet at a multiple of 64
  /// elements, so each element stays on the vectorised or scalar path it takes in one pass).
  void Step(nn::TaskPair& tasks);
  void SetLearningRate(double learning_rate);

  /// The state as a torch::optim::Adam over the module's parameters (per-parameter exp_avg,
  /// exp_avg_sq and step), refreshed on each call: what checkpoints write.
  const torch::optim::Adam& AsTorchAdam() const;
  /// Resume: the state as AsTorchAdam() saves it, and back.
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);
  /// Lets `edit` change the state in its per-parameter form (e.g. install a transferred model's
  /// moments for some parameters), then takes it over. A parameter without state starts afresh
  /// (step 0), as it would in torch::optim::Adam.
  void EditState(const std::function<void(torch::optim::Adam&)>& edit);

 private:
  // Elements [begin, end) of one update with all parameters at step t (after the increment).
  void StepRange(int64_t begin, int64_t end, double t);
  // The per-parameter state of view_ into the flat moments and step counts.
  void PullFromView();
  // The moments and how torch's per-parameter state holds them.
  std::vector<FlatMoment<torch::optim::AdamParamState>> Moments() const;

  nn::FlatParameters& params_;
  double learning_rate_;
  double beta1_ = 0.9;
  double beta2_ = 0.999;
  double eps_;
  std::vector<int64_t> steps_;       // per parameter (equal unless state was transferred)
  torch::Tensor exp_avg_;            // [n]
  torch::Tensor exp_avg_sq_;         // [n]
  mutable torch::optim::Adam view_;  // per-parameter form of the state, for checkpoints
};

}  // namespace rlpipe::algos
