#pragma once
/// RMSprop (Tieleman & Hinton 2012, in PyTorch's form, as SB3's A2C uses it) on a network's flat
/// parameter buffer:
///   v ← α v + (1 − α) g²,   θ ← θ − lr · g / (√v + ε)
/// as four vector operations over the whole network (torch::optim::RMSprop runs them per tensor):
/// the same operations, so the same bits as torch's. No momentum, not centred, no weight decay
/// (what A2C builds). For checkpoints the state is also shown as a torch::optim::RMSprop over the
/// module's parameters, so SB3's per-parameter optimizer layout and the resume archive stay as
/// they were.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "algos/optimizer_state.h"
#include "nn/flat_parameters.h"

namespace rlpipe::algos {

class FlatRmsProp {
 public:
  /// RMSprop over `params` (which must outlive it) with smoothing `alpha` and `eps`.
  FlatRmsProp(nn::FlatParameters& params, double learning_rate, double alpha, double eps);

  /// One update from the gradients in params.grad().
  void Step();
  void SetLearningRate(double learning_rate);

  /// The state as a torch::optim::RMSprop over the module's parameters (per-parameter step and
  /// square_avg), refreshed on each call: what checkpoints write.
  const torch::optim::RMSprop& AsTorchRmsProp() const;
  /// Resume: the state as AsTorchRmsProp() saves it, and back.
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);
  /// Lets `edit` change the state in its per-parameter form, then takes it over. A parameter
  /// without state starts afresh (step 0, square_avg 0), as it would in torch::optim::RMSprop.
  void EditState(const std::function<void(torch::optim::RMSprop&)>& edit);

 private:
  void PullFromView();
  // The moment and how torch's per-parameter state holds it.
  std::vector<FlatMoment<torch::optim::RMSpropParamState>> Moments() const;

  nn::FlatParameters& params_;
  double learning_rate_;
  double alpha_;
  double eps_;
  std::vector<int64_t> steps_;          // per parameter (the count torch keeps; not in the rule)
  torch::Tensor square_avg_;            // [n]
  mutable torch::optim::RMSprop view_;  // per-parameter form of the state, for checkpoints
};

}  // namespace rlpipe::algos
