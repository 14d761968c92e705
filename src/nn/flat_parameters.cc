#include "nn/flat_parameters.h"

#include <string>
#include <vector>

#include "core/error.h"

namespace rlpipe::nn {
namespace {

// Elements [offset, offset + numel) of `flat` shaped like `like`: a plain tensor sharing the
// buffer's memory (made below autograd, so it carries no view bookkeeping of its own).
torch::Tensor Slice(const torch::Tensor& flat, int64_t offset, const torch::Tensor& like) {
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return flat.narrow(0, offset, like.numel()).view(like.sizes());
}

}  // namespace

FlatParameters::FlatParameters(torch::nn::Module& module) : parameters_(module.parameters()) {
  // One buffer for the values and one for the gradients, laid out in parameters() order.
  int64_t total = 0;
  for (const torch::Tensor& p : parameters_) {
    if (p.scalar_type() != torch::kFloat32 || !p.is_contiguous()) {
      throw ConfigError("FlatParameters: expected contiguous float32 parameters");
    }
    total += p.numel();
  }
  data_ = torch::empty({total}, torch::kFloat32);
  grad_ = torch::zeros({total}, torch::kFloat32);

  // Each parameter's values move into its slice; the parameter then aliases the slice (same
  // tensor object, new memory) and its gradient is the matching slice of grad_.
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (torch::Tensor& p : parameters_) {
    torch::Tensor values = Slice(data_, offset, p);
    values.copy_(p);
    p.set_data(values);
    p.mutable_grad() = Slice(grad_, offset, p);
    offset += p.numel();
  }
}

double FlatParameters::ClipGradNorm(double max_norm) {
  torch::NoGradGuard no_grad;
  const double norm = grad_.norm().item<double>();
  const double factor = max_norm / (norm + 1e-6);
  if (factor < 1.0) grad_.mul_(factor);
  return norm;
}

double FlatParameters::ClipGradNormAsTorch(double max_norm) {
  if (parameters_.empty()) return 0.0;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  norms.reserve(parameters_.size());
  for (const torch::Tensor& p : parameters_) norms.push_back(p.grad().norm());
  const torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm();
  const torch::Tensor factor = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
  grad_.mul_(factor);
  return total.item<double>();
}

void FlatParameters::SetRequiresGrad(bool requires_grad) {
  for (torch::Tensor& p : parameters_) p.set_requires_grad(requires_grad);
}

}  // namespace rlpipe::nn
