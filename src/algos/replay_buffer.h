#pragma once
/// The replay buffer of the off-policy family: a ring of transitions that overwrites the oldest
/// once full, sampled uniformly.
#include <torch/torch.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlpipe::algos {

/// A sampled minibatch of B transitions.
struct ReplayBatch {
  torch::Tensor obs;       // [B, obs_dim]
  torch::Tensor actions;   // [B, act_dim] in the policy's [-1, 1] scale
  torch::Tensor rewards;   // [B]
  torch::Tensor next_obs;  // [B, obs_dim] (the final observation where an episode ended)
  torch::Tensor dones;     // [B] 1 where the episode terminated; truncation is not terminal
};

/// Transitions (s, a, r, s', terminated) in a ring of `capacity` rows.
class ReplayBuffer {
 public:
  /// capacity >= 1 transitions (over all envs).
  ReplayBuffer(int64_t capacity, int obs_dim, int act_dim);

  /// Appends N transitions, one per env: obs and next_obs [N, obs_dim], actions [N, act_dim],
  /// rewards and terminated [N]. When full, the oldest rows are overwritten.
  void Add(std::span<const float> obs, std::span<const float> next_obs,
           std::span<const float> actions, std::span<const float> rewards,
           std::span<const uint8_t> terminated);
  /// `batch_size` rows drawn uniformly with replacement from the stored ones (Size() > 0).
  ReplayBatch Sample(int64_t batch_size, torch::Generator& generator) const;
  /// The rows at `indices` ([B], int64, each < Size()).
  ReplayBatch Gather(const torch::Tensor& indices) const;

  /// Exact resume: sizes, the write position and the stored rows, bit for bit (the member
  /// `rlpipe_replay_buffer` of a checkpoint).
  std::string Serialize() const;
  /// Puts back Serialize's bytes; IoError when they were written for other sizes or are cut.
  void Restore(std::string_view bytes);

  int64_t Size() const { return full_ ? capacity_ : position_; }
  int64_t Capacity() const { return capacity_; }
  /// The row the next transition goes to.
  int64_t Position() const { return position_; }

 private:
  int64_t capacity_;
  int obs_dim_;
  int act_dim_;
  int64_t position_ = 0;
  bool full_ = false;
  // Row-major storage: [capacity, dim].
  std::vector<float> obs_, next_obs_, actions_, rewards_, dones_;
};

}  // namespace rlpipe::algos
