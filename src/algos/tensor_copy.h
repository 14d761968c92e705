#pragma once
/// Copies between the loops' float vectors and torch tensors.
#include <torch/torch.h>

#include <cstdint>
#include <span>
#include <vector>

namespace rlpipe::algos {

/// Copies row-major floats into a new [rows, cols] tensor.
torch::Tensor ToTensor(std::span<const float> data, int64_t rows, int64_t cols);
/// Copies a tensor's values out as floats.
void CopyOut(const torch::Tensor& tensor, std::vector<float>& out);

}  // namespace rlpipe::algos
