#pragma once
/// A network's parameters and their gradients each in one contiguous buffer, so that whole-network
/// updates (Adam, Polyak averaging, zeroing gradients) are a few vector operations instead of a
/// loop of small ones over every tensor.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace rlpipe::nn {

/// Moves every parameter of a module into one float32 buffer `data()` [n] (in parameters() order)
/// and points every parameter's gradient into `grad()` [n]. The module keeps its parameters: same
/// names, shapes and tensor identities (optimizers and checkpoints see nothing different), each
/// now sharing the buffer's memory, so writing into a parameter writes into `data()` and the
/// other way round. Autograd accumulates into `grad()` in place; never set a gradient to none.
/// The module must outlive this object, and must not gain or lose parameters afterwards.
class FlatParameters {
 public:
  explicit FlatParameters(torch::nn::Module& module);
  FlatParameters(const FlatParameters&) = delete;
  FlatParameters& operator=(const FlatParameters&) = delete;

  /// The parameters' values, [n]; in-place updates change the module's parameters.
  const torch::Tensor& data() const { return data_; }
  /// The parameters' gradients, [n] (zeros until a backward pass reaches them).
  const torch::Tensor& grad() const { return grad_; }
  /// The module's parameters, in the buffer's order.
  const std::vector<torch::Tensor>& parameters() const { return parameters_; }
  /// Gradients to zero, in place (one operation).
  void ZeroGrad() { grad_.zero_(); }
  /// Scales the gradients so that their global L2 norm is at most `max_norm` (torch's
  /// clip_grad_norm_: factor max_norm / (norm + 1e-6) when that is below 1); returns the norm
  /// before clipping. One norm over the buffer instead of one per tensor.
  double ClipGradNorm(double max_norm);
  /// The same clip with torch::nn::utils::clip_grad_norm_'s arithmetic, bit for bit: the norm of
  /// the per-parameter norms, the factor max_norm / (norm + 1e-6) as a float tensor clamped at 1,
  /// one multiply of the buffer (torch: one per parameter). For updates that keep a torch::optim
  /// path's bits (A2C).
  double ClipGradNormAsTorch(double max_norm);
  /// Turns gradient tracking of every parameter on or off (off: backward passes that reach the
  /// module compute no weight gradients for it).
  void SetRequiresGrad(bool requires_grad);

 private:
  std::vector<torch::Tensor> parameters_;
  torch::Tensor data_;
  torch::Tensor grad_;
};

/// Turns off gradient tracking of `params` for a scope (e.g. the critics while the actor loss is
/// differentiated through them: only ∂Q/∂a is needed, not the critics' weight gradients).
class FrozenParameters {
 public:
  explicit FrozenParameters(FlatParameters& params) : params_(params) {
    params_.SetRequiresGrad(false);
  }
  ~FrozenParameters() { params_.SetRequiresGrad(true); }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  FlatParameters& params_;
};

}  // namespace rlpipe::nn
