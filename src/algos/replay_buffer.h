#pragma once
/// The replay buffer of the off-policy family: a ring of transitions that overwrites the oldest
/// once full, sampled uniformly.
///
/// Each observation is stored once. A transition's next observation is, as in Stable-Baselines3's
/// `optimize_memory_usage`, the observation of the next transition of the same env (the same
/// column of the next Add) — found by index, not copied. Where that is not the next observation
/// (an episode ended and auto-reset replaced it by the first of the next one, or the next Add's
/// observation differs in any other way), the next observation is kept on the side, one per such
/// transition: the final observations, and the next observations of the last Add (whose next
/// transitions are not stored yet). Which one applies is decided by comparing the two observations
/// bit for bit when the next Add arrives, so the buffer returns exactly the (s, a, r, s') it was
/// given whatever the caller's env does.
///
/// Transitions are numbered in the order they were added (their serial); a transition's row is
/// serial % capacity. Rows are allocated up front but only touched when written, so resident
/// memory grows with the number of transitions stored.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
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
  /// Receives `bytes` bytes of a row range's encoding (WriteRange).
  using Sink = std::function<void(const void* data, size_t bytes)>;
  /// Fills `data` with the next `bytes` bytes of an encoding; `data` null: skip them. Throws
  /// IoError when the bytes end early.
  using Source = std::function<void(void* data, size_t bytes)>;

  /// capacity >= 1 transitions (over all envs).
  ReplayBuffer(int64_t capacity, int obs_dim, int act_dim);

  /// Appends N transitions, one per env: obs and next_obs [N, obs_dim], actions [N, act_dim],
  /// rewards and terminated [N]. When full, the oldest rows are overwritten. Row i of one Add and
  /// row i of the next belong to the same env (the vector env's order).
  void Add(std::span<const float> obs, std::span<const float> next_obs,
           std::span<const float> actions, std::span<const float> rewards,
           std::span<const uint8_t> terminated);
  /// `batch_size` rows drawn uniformly with replacement from the stored ones (Size() > 0).
  ReplayBatch Sample(int64_t batch_size, torch::Generator& generator) const;
  /// The rows at `indices` ([B], int64, each < Size()).
  ReplayBatch Gather(const torch::Tensor& indices) const;

  /// Exact resume in one byte string: sizes, counters and every stored transition (with its next
  /// observation), bit for bit. Checkpoints keep the transitions in segment files instead
  /// (replay_segments.h); this form is for tests and small buffers.
  std::string Serialize() const;
  /// Puts back Serialize's bytes; IoError when they were written for other sizes or are cut.
  void Restore(std::string_view bytes);
  /// Puts back the member `rlpipe_replay_buffer` written before observations were stored once
  /// (every transition's next observation explicit); IoError as Restore.
  void RestoreLegacy(std::string_view bytes);

  /// Writes the transitions with serials [begin, end) (all stored: begin >= FirstStored(),
  /// end <= Added()) to `sink`: their observations, actions, rewards, terminations, and for each
  /// its next observation as the serial of the transition holding it or, where none does, the
  /// observation itself.
  void WriteRange(int64_t begin, int64_t end, const Sink& sink) const;
  /// Bytes WriteRange writes for [begin, end).
  uint64_t RangeBytes(int64_t begin, int64_t end) const;
  /// Restoring: empties the buffer and sets its counters as they were after `added` transitions,
  /// the last Add holding `last_add_count`; then ReadRange for consecutive pieces covering
  /// [FirstStored(), Added()), oldest first, and FinishRestore, which throws IoError (naming
  /// `origin`) unless every stored transition was read.
  /// Checks a saved buffer's sizes (IoError naming `origin` unless they are this buffer's).
  void CheckLayout(int64_t capacity, int64_t obs_dim, int64_t act_dim,
                   const std::string& origin) const;
  /// Also checks the counters (0 <= last_add_count <= added; IoError naming `origin`).
  void BeginRestore(int64_t added, int64_t last_add_count, const std::string& origin);
  /// Reads a WriteRange encoding of [begin, end) (end <= Added()); transitions older than
  /// FirstStored() or read before are skipped. IoError naming `origin` when it does not fit or
  /// leaves a gap after the transitions read before.
  void ReadRange(int64_t begin, int64_t end, const Source& source, const std::string& origin);
  void FinishRestore(const std::string& origin) const;

  int64_t Size() const { return std::min(added_, capacity_); }
  int64_t Capacity() const { return capacity_; }
  int obs_dim() const { return obs_dim_; }
  int act_dim() const { return act_dim_; }
  /// The row the next transition goes to.
  int64_t Position() const { return added_ % capacity_; }
  /// Transitions added so far (the serial the next one gets).
  int64_t Added() const { return added_; }
  /// The serial of the oldest stored transition.
  int64_t FirstStored() const { return added_ - Size(); }
  /// Transitions before this serial are settled: their next observation never changes again. The
  /// last Add's wait for the next Add (an observation kept on the side may then be found by index).
  int64_t SettledEnd() const { return std::max(FirstStored(), added_ - last_add_count_); }
  /// Transitions added by the last Add.
  int64_t LastAddCount() const { return last_add_count_; }
  /// Next observations kept on the side (final observations and the last Add's), for the bench.
  int64_t SideObservations() const {
    return static_cast<int64_t>(side_.size()) / obs_dim_ - static_cast<int64_t>(free_side_.size());
  }

 private:
  // The next observation of `row` (a stored row).
  const float* NextObs(int64_t row) const;
  // Side store: a slot holding `obs`, and giving one back.
  int64_t AllocSide(const float* obs);
  void FreeSide(int64_t slot);
  // The row's next observation no longer needed (the row is rewritten).
  void Release(int64_t row);
  // The serial stored in `row` (a stored row).
  int64_t SerialOf(int64_t row) const;

  int64_t capacity_;
  int obs_dim_;
  int act_dim_;
  int64_t added_ = 0;
  int64_t last_add_count_ = 0;
  // Row-major storage: [capacity, dim], untouched until written.
  std::unique_ptr<float[]> obs_, actions_, rewards_, dones_;
  // Per row: >= 0 the row holding the next observation; < 0 side slot -(next_ + 1).
  std::unique_ptr<int64_t[]> next_;
  // Next observations kept on the side: [slots, obs_dim], and the slots free for reuse.
  std::vector<float> side_;
  std::vector<int64_t> free_side_;
  // Restoring: every stored transition before this serial has been read.
  int64_t restore_next_ = 0;
};

}  // namespace rlpipe::algos
