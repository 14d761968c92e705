#include "algos/replay_buffer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/byte_stream.h"
#include "core/error.h"

namespace rlpipe::algos {
namespace {

// Rows `indices` of a [capacity, dim] row-major array as a [B, dim] tensor.
torch::Tensor GatherRows(const float* data, int64_t dim, const int64_t* indices, int64_t count) {
  torch::Tensor out = torch::empty({count, dim}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  for (int64_t b = 0; b < count; ++b) std::copy_n(data + indices[b] * dim, dim, dst + b * dim);
  return out;
}

// Version of Serialize's layout (its first value; the legacy layout began with the capacity).
constexpr int64_t kSerializeMagic = -2;

}  // namespace

ReplayBuffer::ReplayBuffer(int64_t capacity, int obs_dim, int act_dim)
    : capacity_(capacity), obs_dim_(obs_dim), act_dim_(act_dim) {
  if (capacity < 1 || obs_dim < 1 || act_dim < 1) {
    throw ConfigError("ReplayBuffer: expected capacity, obs_dim and act_dim >= 1, found " +
                      std::to_string(capacity) + ", " + std::to_string(obs_dim) + ", " +
                      std::to_string(act_dim));
  }
  // Default-initialised (not zeroed): the pages become resident only when rows are written.
  const auto rows = static_cast<size_t>(capacity);
  obs_.reset(new float[rows * static_cast<size_t>(obs_dim)]);
  actions_.reset(new float[rows * static_cast<size_t>(act_dim)]);
  rewards_.reset(new float[rows]);
  dones_.reset(new float[rows]);
  next_.reset(new int64_t[rows]);
}

int64_t ReplayBuffer::AllocSide(const float* obs) {
  const auto od = static_cast<size_t>(obs_dim_);
  int64_t slot;
  if (free_side_.empty()) {
    slot = static_cast<int64_t>(side_.size() / od);
    side_.insert(side_.end(), obs, obs + od);
  } else {
    slot = free_side_.back();
    free_side_.pop_back();
    std::copy_n(obs, od, side_.begin() + slot * obs_dim_);
  }
  return slot;
}

void ReplayBuffer::FreeSide(int64_t slot) { free_side_.push_back(slot); }

void ReplayBuffer::Release(int64_t row) {
  if (next_[row] < 0) FreeSide(-next_[row] - 1);
}

const float* ReplayBuffer::NextObs(int64_t row) const {
  const int64_t next = next_[row];
  return next >= 0 ? obs_.get() + next * obs_dim_ : side_.data() + (-next - 1) * obs_dim_;
}

int64_t ReplayBuffer::SerialOf(int64_t row) const {
  const int64_t first = FirstStored();
  return first + (row - first % capacity_ + capacity_) % capacity_;
}

void ReplayBuffer::Add(std::span<const float> obs, std::span<const float> next_obs,
                       std::span<const float> actions, std::span<const float> rewards,
                       std::span<const uint8_t> terminated) {
  // One row per env, wrapping around to overwrite the oldest.
  const size_t n = rewards.size();
  const auto od = static_cast<size_t>(obs_dim_);
  const auto ad = static_cast<size_t>(act_dim_);
  const int64_t previous_begin = added_ - last_add_count_;  // serial of the last Add's column 0
  for (size_t i = 0; i < n; ++i) {
    const int64_t serial = added_;
    const int64_t row = serial % capacity_;
    const float* o = obs.data() + i * od;
    if (serial >= capacity_) Release(row);

    // The same env's previous transition (still stored): its next observation is this row's
    // observation when they are equal bit for bit; else (an episode ended) it stays on the side.
    const int64_t previous = previous_begin + static_cast<int64_t>(i);
    if (static_cast<int64_t>(i) < last_add_count_ && serial - previous < capacity_) {
      const int64_t previous_row = previous % capacity_;
      const int64_t slot = -next_[previous_row] - 1;
      if (slot >= 0 && std::memcmp(side_.data() + slot * obs_dim_, o, od * sizeof(float)) == 0) {
        FreeSide(slot);
        next_[previous_row] = row;
      }
    }

    // The transition, its next observation on the side until the next Add.
    std::copy_n(o, od, obs_.get() + row * obs_dim_);
    std::copy_n(actions.data() + i * ad, ad, actions_.get() + row * act_dim_);
    rewards_[row] = rewards[i];
    dones_[row] = terminated[i] != 0 ? 1.0f : 0.0f;
    next_[row] = -AllocSide(next_obs.data() + i * od) - 1;
    ++added_;
  }
  last_add_count_ = static_cast<int64_t>(n);
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
  batch.obs = GatherRows(obs_.get(), obs_dim_, rows, count);              // [B, obs_dim]
  batch.actions = GatherRows(actions_.get(), act_dim_, rows, count);      // [B, act_dim]
  batch.rewards = GatherRows(rewards_.get(), 1, rows, count).squeeze(1);  // [B, 1] → [B]
  batch.dones = GatherRows(dones_.get(), 1, rows, count).squeeze(1);      // [B, 1] → [B]
  // Next observations: by index, or from the side store.
  batch.next_obs = torch::empty({count, obs_dim_}, torch::kFloat32);  // [B, obs_dim]
  float* dst = batch.next_obs.data_ptr<float>();
  for (int64_t b = 0; b < count; ++b) {
    std::copy_n(NextObs(rows[b]), obs_dim_, dst + b * obs_dim_);
  }
  return batch;
}

void ReplayBuffer::WriteRange(int64_t begin, int64_t end, const Sink& sink) const {
  if (begin < FirstStored() || end > added_ || begin > end) {
    throw TrainingError("ReplayBuffer::WriteRange: expected a range of stored transitions in [" +
                        std::to_string(FirstStored()) + ", " + std::to_string(added_) +
                        "), found [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  // Each column in at most two pieces (the ring wraps once at most).
  auto column = [&](const auto* data, size_t dim) {
    for (int64_t s = begin; s < end;) {
      const int64_t row = s % capacity_;
      const int64_t rows = std::min(end - s, capacity_ - row);
      sink(data + static_cast<size_t>(row) * dim, static_cast<size_t>(rows) * dim * sizeof(*data));
      s += rows;
    }
  };
  column(obs_.get(), static_cast<size_t>(obs_dim_));
  column(actions_.get(), static_cast<size_t>(act_dim_));
  column(rewards_.get(), 1);
  column(dones_.get(), 1);

  // Next observations: the serial holding it, or -1 and the observation after all of them.
  constexpr int64_t kBlock = 4096;
  std::vector<int64_t> serials;
  for (int64_t s = begin; s < end; s += kBlock) {
    serials.clear();
    for (int64_t t = s; t < std::min(end, s + kBlock); ++t) {
      const int64_t next = next_[t % capacity_];
      serials.push_back(next >= 0 ? SerialOf(next) : -1);
    }
    sink(serials.data(), serials.size() * sizeof(int64_t));
  }
  for (int64_t s = begin; s < end; ++s) {
    const int64_t row = s % capacity_;
    if (next_[row] < 0) sink(NextObs(row), static_cast<size_t>(obs_dim_) * sizeof(float));
  }
}

uint64_t ReplayBuffer::RangeBytes(int64_t begin, int64_t end) const {
  uint64_t side = 0;
  for (int64_t s = begin; s < end; ++s) side += next_[s % capacity_] < 0 ? 1 : 0;
  const auto count = static_cast<uint64_t>(end - begin);
  return count *
             (static_cast<uint64_t>(obs_dim_ + act_dim_ + 2) * sizeof(float) + sizeof(int64_t)) +
         side * static_cast<uint64_t>(obs_dim_) * sizeof(float);
}

void ReplayBuffer::CheckLayout(int64_t capacity, int64_t obs_dim, int64_t act_dim,
                               const std::string& origin) const {
  if (capacity != capacity_ || obs_dim != obs_dim_ || act_dim != act_dim_) {
    throw IoError(origin + ": expected capacity " + std::to_string(capacity_) + ", obs_dim " +
                  std::to_string(obs_dim_) + ", act_dim " + std::to_string(act_dim_) + ", found " +
                  std::to_string(capacity) + ", " + std::to_string(obs_dim) + ", " +
                  std::to_string(act_dim));
  }
}

void ReplayBuffer::BeginRestore(int64_t added, int64_t last_add_count, const std::string& origin) {
  if (added < 0 || last_add_count < 0 || last_add_count > added) {
    throw IoError(origin + ": expected counters with 0 <= last Add <= added, found " +
                  std::to_string(last_add_count) + " and " + std::to_string(added));
  }
  added_ = added;
  last_add_count_ = last_add_count;
  side_.clear();
  free_side_.clear();
  restore_next_ = FirstStored();
}

void ReplayBuffer::ReadRange(int64_t begin, int64_t end, const Source& source,
                             const std::string& origin) {
  if (begin < 0 || end < begin || end > added_ || begin > restore_next_) {
    throw IoError(origin + ": expected transitions from serial " + std::to_string(restore_next_) +
                  " up to at most " + std::to_string(added_) + ", found [" + std::to_string(begin) +
                  ", " + std::to_string(end) + ")");
  }
  // Transitions already read or no longer stored are skipped: [begin, from) of each column.
  const int64_t from = std::clamp(restore_next_, begin, end);
  auto column = [&](auto* data, size_t dim) {
    source(nullptr, static_cast<size_t>(from - begin) * dim * sizeof(*data));
    for (int64_t s = from; s < end;) {
      const int64_t row = s % capacity_;
      const int64_t rows = std::min(end - s, capacity_ - row);
      source(data + static_cast<size_t>(row) * dim,
             static_cast<size_t>(rows) * dim * sizeof(*data));
      s += rows;
    }
  };
  column(obs_.get(), static_cast<size_t>(obs_dim_));
  column(actions_.get(), static_cast<size_t>(act_dim_));
  column(rewards_.get(), 1);
  column(dones_.get(), 1);

  // Next observations: a later serial (stored, since this one is), or -1 and a side observation.
  std::vector<int64_t> serials(static_cast<size_t>(end - begin));
  source(serials.data(), serials.size() * sizeof(int64_t));
  std::vector<float> side(static_cast<size_t>(obs_dim_));
  for (int64_t s = begin; s < end; ++s) {
    const int64_t next = serials[static_cast<size_t>(s - begin)];
    if (next >= 0 && (next <= s || next >= added_)) {
      throw IoError(origin + ": transition " + std::to_string(s) + " names next transition " +
                    std::to_string(next) + ", expected one in (" + std::to_string(s) + ", " +
                    std::to_string(added_) + ")");
    }
    if (next < 0) source(side.data(), side.size() * sizeof(float));
    if (s < from) continue;
    next_[s % capacity_] = next >= 0 ? next % capacity_ : -AllocSide(side.data()) - 1;
  }
  restore_next_ = std::max(restore_next_, end);
}

void ReplayBuffer::FinishRestore(const std::string& origin) const {
  if (restore_next_ != added_) {
    throw IoError(origin + ": expected the stored transitions up to serial " +
                  std::to_string(added_) + ", found them up to " + std::to_string(restore_next_));
  }
}

std::string ReplayBuffer::Serialize() const {
  // Layout tag, sizes and counters, then every stored transition.
  ByteWriter writer;
  writer.Put<int64_t>(kSerializeMagic);
  writer.Put<int64_t>(capacity_);
  writer.Put<int32_t>(obs_dim_);
  writer.Put<int32_t>(act_dim_);
  writer.Put<int64_t>(added_);
  writer.Put<int64_t>(last_add_count_);
  std::string rows;
  rows.reserve(RangeBytes(FirstStored(), added_));
  WriteRange(FirstStored(), added_, [&](const void* data, size_t bytes) {
    rows.append(static_cast<const char*>(data), bytes);
  });
  writer.PutString(rows);
  return writer.Take();
}

void ReplayBuffer::Restore(std::string_view bytes) {
  const std::string origin = "replay buffer state";
  ByteReader reader(bytes, origin);
  if (reader.Get<int64_t>() != kSerializeMagic) {
    throw IoError(origin + ": expected layout " + std::to_string(kSerializeMagic) +
                  ", found another");
  }
  const auto capacity = reader.Get<int64_t>();
  const auto obs_dim = reader.Get<int32_t>();
  const auto act_dim = reader.Get<int32_t>();
  CheckLayout(capacity, obs_dim, act_dim, origin);
  const auto added = reader.Get<int64_t>();
  const auto last_add_count = reader.Get<int64_t>();
  const std::string rows = reader.GetString();
  reader.Finish();

  // The rows, read from the string with bounds checks.
  BeginRestore(added, last_add_count, origin);
  size_t pos = 0;
  ReadRange(
      FirstStored(), added,
      [&](void* data, size_t count) {
        if (count > rows.size() - pos) throw IoError(origin + ": transitions cut short");
        if (data != nullptr) std::memcpy(data, rows.data() + pos, count);
        pos += count;
      },
      origin);
  if (pos != rows.size()) throw IoError(origin + ": unexpected bytes after the transitions");
  FinishRestore(origin);
}

void ReplayBuffer::RestoreLegacy(std::string_view bytes) {
  // Sizes, position, fill state, then obs, next_obs, actions, rewards, dones of the stored rows.
  const std::string origin = "replay buffer state";
  ByteReader reader(bytes, origin);
  const auto capacity = reader.Get<int64_t>();
  const auto obs_dim = reader.Get<int32_t>();
  const auto act_dim = reader.Get<int32_t>();
  CheckLayout(capacity, obs_dim, act_dim, origin);
  const auto position = reader.Get<int64_t>();
  const bool full = reader.Get<uint8_t>() != 0;
  if (position < 0 || position >= capacity_) {
    throw IoError(origin + ": expected a position in [0, " + std::to_string(capacity_) +
                  "), found " + std::to_string(position));
  }
  const auto rows = static_cast<size_t>(full ? capacity_ : position);
  auto read_rows = [&](size_t dim) {
    std::vector<float> values = reader.GetVector<float>();
    if (values.size() != rows * dim) {
      throw IoError(origin + ": expected " + std::to_string(rows * dim) + " values, found " +
                    std::to_string(values.size()));
    }
    return values;
  };
  const std::vector<float> obs = read_rows(static_cast<size_t>(obs_dim_));
  const std::vector<float> next_obs = read_rows(static_cast<size_t>(obs_dim_));
  const std::vector<float> actions = read_rows(static_cast<size_t>(act_dim_));
  const std::vector<float> rewards = read_rows(1);
  const std::vector<float> dones = read_rows(1);
  reader.Finish();

  // Same rows; every next observation on the side (nothing says which follow each other).
  BeginRestore(full ? capacity_ + position : position, 0, origin);
  std::copy(obs.begin(), obs.end(), obs_.get());
  std::copy(actions.begin(), actions.end(), actions_.get());
  std::copy(rewards.begin(), rewards.end(), rewards_.get());
  std::copy(dones.begin(), dones.end(), dones_.get());
  for (size_t row = 0; row < rows; ++row) {
    next_[row] = -AllocSide(next_obs.data() + row * static_cast<size_t>(obs_dim_)) - 1;
  }
  restore_next_ = added_;
}

}  // namespace rlpipe::algos
