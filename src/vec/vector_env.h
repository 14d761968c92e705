#pragma once
/// A batch of N environments stepped together, with auto-reset (Stable-Baselines3 VecEnv
/// semantics): when an episode ends, the returned observation is already the next episode's first
/// one and the final observation is kept in `final_obs` for bootstrapping on truncation.
#include <cstdint>
#include <functional>
#include <memory>
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
  std::vector<float> obs;          // [N, obs_dim] next observations (after auto-reset)
  std::vector<float> rewards;      // [N]
  std::vector<uint8_t> terminated; // [N]
  std::vector<uint8_t> truncated;  // [N]
  std::vector<float> final_obs;    // [N, obs_dim] valid where terminated or truncated
  std::vector<EpisodeStats> finished;  // episodes that ended in this step
};

/// Serial vector env: the obviously-correct reference.
class VectorEnv {
 public:
  using Factory = std::function<std::unique_ptr<envs::Env>()>;
  VectorEnv(int n, const Factory& factory);
  int Size() const { return static_cast<int>(envs_.size()); }
  int ObsDim() const { return obs_dim_; }
  int ActDim() const { return act_dim_; }
  const envs::EnvSpec& Spec() const { return envs_.front()->Spec(); }
  /// Seeds env i with DeriveSeed(seed, i) and resets all; returns [N, obs_dim].
  const std::vector<float>& Reset(uint64_t seed);
  /// Steps every env with actions [N, act_dim].
  const BatchStep& Step(const std::vector<float>& actions);
  const std::vector<float>& Observations() const { return step_.obs; }

 private:
  std::vector<std::unique_ptr<envs::Env>> envs_;
  int obs_dim_ = 0;
  int act_dim_ = 0;
  BatchStep step_;
  std::vector<double> running_return_;
  std::vector<int64_t> running_length_;
};

}  // namespace rlpipe::vec
