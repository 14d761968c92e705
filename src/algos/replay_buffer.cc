#include "algos/replay_buffer.h"

#include <algorithm>
#include <string>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::algos {
namespace {

// Rows `indices` of a [capacity, dim] row-major array as a [B, dim] tensor.
torch::Tensor GatherRows(const std::vector<float>& data, int64_t dim, const int64_t* indices,
                         int64_t count) {
  torch::Tensor out = torch::empty({count, dim}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  for (int64_t b = 0; b < count; ++b) {
    std::copy_n(data.begin() + indices[b] * dim, dim, dst + b * dim);
  }
  return out;
}

}  // namespace

ReplayBuffer::ReplayBuffer(int64_t capacity, int obs_dim, int act_dim)
    : capacity_(capacity), obs_dim_(obs_dim), act_dim_(act_dim) {
  if (capacity < 1 || obs_dim < 1 || act_dim < 1) {
    throw ConfigError("ReplayBuffer: expected capacity, obs_dim and act_dim >= 1, found " +
                      std::to_string(capacity) + ", " + std::to_string(obs_dim) + ", " +
                      std::to_string(act_dim));
  }
  const auto rows = static_cast<size_t>(capacity);
  obs_.resize(rows * static_cast<size_t>(obs_dim));
  next_obs_.resize(rows * static_cast<size_t>(obs_dim));
  actions_.resize(rows * static_cast<size_t>(act_dim));
  rewards_.resize(rows);
  dones_.resize(rows);
}

void ReplayBuffer::Add(std::span<const float> obs, std::span<const float> next_obs,
                       std::span<const float> actions, std::span<const float> rewards,
                       std::span<const uint8_t> terminated) {
  // One row per env, wrapping around to overwrite the oldest.
  const size_t n = rewards.size();
  const auto od = static_cast<size_t>(obs_dim_);
  const auto ad = static_cast<size_t>(act_dim_);
  for (size_t i = 0; i < n; ++i) {
    const auto row = static_cast<size_t>(position_);
    std::copy_n(obs.begin() + i * od, od, obs_.begin() + row * od);
    std::copy_n(next_obs.begin() + i * od, od, next_obs_.begin() + row * od);
    std::copy_n(actions.begin() + i * ad, ad, actions_.begin() + row * ad);
    rewards_[row] = rewards[i];
    dones_[row] = terminated[i] != 0 ? 1.0f : 0.0f;
    position_ = (position_ + 1) % capacity_;
    if (position_ == 0) full_ = true;
  }
}

ReplayBatch ReplayBuffer::Sample(int64_t batch_size, torch::Generator& generator) const {
  if (Size() == 0) throw TrainingError("ReplayBuffer: expected transitions to sample, found none");
  return Gather(torch::randint(0, Size(), {batch_size}, generator, torch::kLong));
}

ReplayBatch ReplayBuffer::Gather(const torch::Tensor& indices) const {
  torch::Tensor idx = indices.to(torch::kLong).contiguous();
  const int64_t* rows = idx.data_ptr<int64_t>();
  const int64_t count = idx.numel();
  ReplayBatch batch;
  batch.obs = GatherRows(obs_, obs_dim_, rows, count);              // [B, obs_dim]
  batch.actions = GatherRows(actions_, act_dim_, rows, count);      // [B, act_dim]
  batch.rewards = GatherRows(rewards_, 1, rows, count).squeeze(1);  // [B, 1] → [B]
  batch.next_obs = GatherRows(next_obs_, obs_dim_, rows, count);    // [B, obs_dim]
  batch.dones = GatherRows(dones_, 1, rows, count).squeeze(1);      // [B, 1] → [B]
  return batch;
}

std::string ReplayBuffer::Serialize() const {
  // Sizes and position, then only the rows written so far ([Size(), dim] each).
  ByteWriter writer;
  writer.Put<int64_t>(capacity_);
  writer.Put<int32_t>(obs_dim_);
  writer.Put<int32_t>(act_dim_);
  writer.Put<int64_t>(position_);
  writer.Put<uint8_t>(full_ ? 1 : 0);
  const auto rows = static_cast<size_t>(Size());
  const auto od = static_cast<size_t>(obs_dim_);
  const auto ad = static_cast<size_t>(act_dim_);
  writer.PutVector<float>(std::span(obs_).first(rows * od));
  writer.PutVector<float>(std::span(next_obs_).first(rows * od));
  writer.PutVector<float>(std::span(actions_).first(rows * ad));
  writer.PutVector<float>(std::span(rewards_).first(rows));
  writer.PutVector<float>(std::span(dones_).first(rows));
  return writer.Take();
}

void ReplayBuffer::Restore(std::string_view bytes) {
  const std::string origin = "replay buffer state";
  ByteReader reader(bytes, origin);
  const auto capacity = reader.Get<int64_t>();
  const auto obs_dim = reader.Get<int32_t>();
  const auto act_dim = reader.Get<int32_t>();
  if (capacity != capacity_ || obs_dim != obs_dim_ || act_dim != act_dim_) {
    throw IoError(origin + ": expected capacity " + std::to_string(capacity_) + ", obs_dim " +
                  std::to_string(obs_dim_) + ", act_dim " + std::to_string(act_dim_) + ", found " +
                  std::to_string(capacity) + ", " + std::to_string(obs_dim) + ", " +
                  std::to_string(act_dim));
  }
  const auto position = reader.Get<int64_t>();
  const bool full = reader.Get<uint8_t>() != 0;
  if (position < 0 || position >= capacity_) {
    throw IoError(origin + ": expected a position in [0, " + std::to_string(capacity_) +
                  "), found " + std::to_string(position));
  }

  // Each array must hold exactly the rows the position says.
  const auto rows = static_cast<size_t>(full ? capacity_ : position);
  auto read_rows = [&](std::vector<float>& into, size_t dim) {
    const std::vector<float> values = reader.GetVector<float>();
    if (values.size() != rows * dim) {
      throw IoError(origin + ": expected " + std::to_string(rows * dim) + " values, found " +
                    std::to_string(values.size()));
    }
    std::copy(values.begin(), values.end(), into.begin());
  };
  read_rows(obs_, static_cast<size_t>(obs_dim_));
  read_rows(next_obs_, static_cast<size_t>(obs_dim_));
  read_rows(actions_, static_cast<size_t>(act_dim_));
  read_rows(rewards_, 1);
  read_rows(dones_, 1);
  reader.Finish();
  position_ = position;
  full_ = full;
}

}  // namespace rlpipe::algos
