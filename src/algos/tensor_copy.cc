#include "algos/tensor_copy.h"

namespace rlpipe::algos {

torch::Tensor ToTensor(std::span<const float> data, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(data.data()), {rows, cols}, torch::kFloat32).clone();
}

void CopyOut(const torch::Tensor& tensor, std::vector<float>& out) {
  torch::Tensor flat = tensor.contiguous().to(torch::kFloat32);
  const float* data = flat.data_ptr<float>();
  out.assign(data, data + flat.numel());
}

}  // namespace rlpipe::algos
