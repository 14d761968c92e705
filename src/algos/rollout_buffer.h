#pragma once
/// The on-policy rollout buffer and Generalized Advantage Estimation, shared by PPO and A2C.
///
/// GAE (Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage
/// Estimation", eq. 16), with d_t = 1 when the episode ended at step t:
///   δ_t = r_t + γ (1 − d_t) V(s_{t+1}) − V(s_t)
///   A_t = δ_t + γ λ (1 − d_t) A_{t+1},     R_t = A_t + V(s_t)
/// A truncated (not terminated) step keeps its bootstrap through its reward, as Stable-Baselines3
/// does: r_t ← r_t + γ V(final_obs_t) (AddTruncationBootstrap).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlpipe::algos {

/// r_i += γ · final_values_i for every env i that was truncated but not terminated.
void AddTruncationBootstrap(std::span<float> rewards, std::span<const uint8_t> terminated,
                            std::span<const uint8_t> truncated, std::span<const float> final_values,
                            double gamma);

/// GAE over a [T, N] rollout stored time-major (index t * N + i). dones[t * N + i] = 1 when env i's
/// episode ended at step t; last_values [N] = V(s_T) of the observation after the last step.
/// Writes advantages and returns [T, N].
void ComputeGae(int num_steps, int num_envs, std::span<const float> rewards,
                std::span<const float> values, std::span<const uint8_t> dones,
                std::span<const float> last_values, double gamma, double gae_lambda,
                std::span<float> advantages, std::span<float> returns);

/// One rollout of n_steps × n_envs transitions, time-major ([T, N, ...] row-major).
class RolloutBuffer {
 public:
  RolloutBuffer(int num_steps, int num_envs, int obs_dim, int act_dim);

  /// Starts a new rollout (keeps the allocations).
  void Clear() { pos_ = 0; }
  bool Full() const { return pos_ == num_steps_; }
  /// Appends one batched step: obs [N, obs_dim] seen before acting, actions [N, act_dim] as
  /// sampled (unclipped), rewards [N] (bootstrapped on truncation), dones [N], values [N] and
  /// log_probs [N] of the actions.
  void Add(std::span<const float> obs, std::span<const float> actions,
           std::span<const float> rewards, std::span<const uint8_t> dones,
           std::span<const float> values, std::span<const float> log_probs);
  /// Fills advantages and returns by GAE; last_values [N] = V(obs after the last step).
  void ComputeReturnsAndAdvantage(std::span<const float> last_values, double gamma,
                                  double gae_lambda);

  /// Exact resume mid-rollout: sizes, the steps stored so far and their rows, bit for bit.
  std::string Serialize() const;
  /// Puts back Serialize's bytes; IoError when they were written for other sizes or are cut.
  void Restore(std::string_view bytes);
  /// Steps stored so far in this rollout.
  int Steps() const { return pos_; }

  int Size() const { return num_steps_ * num_envs_; }
  int ObsDim() const { return obs_dim_; }
  int ActDim() const { return act_dim_; }
  const std::vector<float>& obs() const { return obs_; }                // [T, N, obs_dim]
  const std::vector<float>& actions() const { return actions_; }        // [T, N, act_dim]
  const std::vector<float>& rewards() const { return rewards_; }        // [T, N]
  const std::vector<uint8_t>& dones() const { return dones_; }          // [T, N]
  const std::vector<float>& values() const { return values_; }          // [T, N]
  const std::vector<float>& log_probs() const { return log_probs_; }    // [T, N]
  const std::vector<float>& advantages() const { return advantages_; }  // [T, N]
  const std::vector<float>& returns() const { return returns_; }        // [T, N]

 private:
  int num_steps_;
  int num_envs_;
  int obs_dim_;
  int act_dim_;
  int pos_ = 0;
  std::vector<float> obs_, actions_, rewards_, values_, log_probs_, advantages_, returns_;
  std::vector<uint8_t> dones_;
};

/// 1 − Var(returns − values) / Var(returns); NaN when Var(returns) is 0 (SB3's definition).
double ExplainedVariance(std::span<const float> values, std::span<const float> returns);

}  // namespace rlpipe::algos
