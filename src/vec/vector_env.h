#pragma once
/// A batch of N environments stepped together, with auto-reset (Stable-Baselines3 VecEnv
/// semantics): when an episode ends, the returned observation is already the next episode's first
/// one and the final observation is kept in `final_obs` for bootstrapping on truncation.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "envs/env.h"

namespace rlpipe::vec {

/// A finished episode's statistics.
struct EpisodeStats {
  double episode_return = 0.0;
  int64_t length = 0;
  std::map<std::string, double> last_info;  // the info of the episode's last step
};

/// Buffers of one batched step, [N, dim] row-major.
struct BatchStep {
  std::vector<float> obs;              // [N, obs_dim] next observations (after auto-reset)
  std::vector<float> rewards;          // [N]
  std::vector<uint8_t> terminated;     // [N]
  std::vector<uint8_t> truncated;      // [N]
  std::vector<float> final_obs;        // [N, obs_dim] valid where terminated or truncated
  std::vector<EpisodeStats> finished;  // episodes that ended in this step
};

/// Serial vector env: the obviously-correct reference. ThreadedVectorEnv derives from it and
/// changes only who runs the per-env work, so both give bitwise the same results.
class VectorEnv {
 public:
  using Factory = std::function<std::unique_ptr<envs::Env>()>;
  VectorEnv(int n, const Factory& factory);
  virtual ~VectorEnv() = default;
  VectorEnv(const VectorEnv&) = delete;
  VectorEnv& operator=(const VectorEnv&) = delete;
  int Size() const { return static_cast<int>(envs_.size()); }
  int ObsDim() const { return obs_dim_; }
  int ActDim() const { return act_dim_; }
  const envs::EnvSpec& Spec() const { return envs_.front()->Spec(); }
  /// Seeds env i with DeriveSeed(seed, i) and resets all; returns [N, obs_dim].
  const std::vector<float>& Reset(uint64_t seed);
  /// Steps every env with actions [N, act_dim].
  const BatchStep& Step(const std::vector<float>& actions);
  const std::vector<float>& Observations() const { return step_.obs; }
  /// Exact resume: the current observations, each env's running episode return and length, and
  /// each env's SaveState (a marker where the task has none). Taken between two Step calls.
  std::string SaveState() const;
  /// Restores SaveState's bytes into a vector of the same size and task. An env saved without a
  /// state follows the restart rule: a fresh episode from Reset(DeriveSeed(restart_seed, i)), its
  /// running statistics zeroed. Returns how many envs restarted; IoError on bytes that do not fit.
  int RestoreState(std::string_view state, uint64_t restart_seed);
  /// Env i (e.g. to read a task's statistics).
  envs::Env& At(int i) { return *envs_.at(static_cast<size_t>(i)); }

 protected:
  /// Runs body(begin, end) over env index ranges that together cover [0, Size()) exactly once
  /// and returns when all are done. Serial: one call body(0, Size()).
  virtual void RunSlices(const std::function<void(int, int)>& body);

 private:
  /// Resets env i with `seed` (nullopt: continue its stream) into its row of step_.obs.
  void ResetOne(size_t i, std::optional<uint64_t> seed);
  /// Steps env i; an episode end is kept in ended_[i] for the in-order gather.
  void StepOne(size_t i, const std::vector<float>& actions);

  std::vector<std::unique_ptr<envs::Env>> envs_;
  int obs_dim_ = 0;
  int act_dim_ = 0;
  BatchStep step_;
  std::vector<double> running_return_;
  std::vector<int64_t> running_length_;
  std::vector<std::optional<EpisodeStats>> ended_;  // [N] episodes that ended this step
};

/// The same batch stepped by a fixed pool of threads, thread t owning a contiguous slice of envs
/// (the calling thread runs slice 0). Results equal VectorEnv's bitwise for the same seeds.
class ThreadedVectorEnv : public VectorEnv {
 public:
  /// `threads` is clamped to [1, n]; 1 runs everything on the calling thread.
  ThreadedVectorEnv(int n, int threads, const Factory& factory);
  ~ThreadedVectorEnv() override;
  int Threads() const { return static_cast<int>(slices_.size()); }

 protected:
  void RunSlices(const std::function<void(int, int)>& body) override;

 private:
  /// A worker's loop: wait for a new generation, run its slice, report, repeat.
  void Work(size_t worker);

  std::vector<std::pair<int, int>> slices_;  // [threads] env ranges [begin, end)
  std::vector<std::thread> workers_;         // threads 1..T-1
  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(int, int)>* body_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace rlpipe::vec
