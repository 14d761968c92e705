#pragma once
/// `agent:` — each algorithm's settings as its own struct, with Stable-Baselines3's names and
/// defaults. The structs follow SB3's classes: BaseAlgorithm → OnPolicyAlgorithm → PPO, A2C and
/// BaseAlgorithm → OffPolicyAlgorithm → SAC, TD3. Which keys each reads: config/algorithms.h.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>

namespace rlpipe::config {

/// The registered algorithms, in the order of AlgorithmSettings' alternatives.
enum class Algorithm { kPpo, kA2c, kSac, kTd3 };
/// `agent.policy`: the network family (docs/networks.md).
enum class Policy { kMlp, kMultiRobot };
/// Exploration noise added to off-policy actions (SB3's NormalActionNoise /
/// OrnsteinUhlenbeckActionNoise).
enum class ActionNoiseType { kNone, kNormal, kOrnsteinUhlenbeck };

std::string ToString(Algorithm a);        // "PPO"
std::string ToString(Policy p);           // "MlpPolicy", "MultiRobotPolicy"
std::string ToString(ActionNoiseType t);  // "none", "normal", "ou"

/// `agent.action_noise: {type: normal | ou, sigma: 0.1}` (absent or null = no noise).
struct ActionNoiseConfig {
  ActionNoiseType type = ActionNoiseType::kNone;
  double sigma = 0.1;  // standard deviation, in the policy's [-1, 1] action scale, > 0
  bool operator==(const ActionNoiseConfig&) const = default;
};

/// What every algorithm has (SB3's BaseAlgorithm).
struct BaseAlgorithmConfig {
  Policy policy = Policy::kMlp;       // MlpPolicy (SB3's) or MultiRobotPolicy (on-policy only)
  double learning_rate = 3e-4;        // optimizer step size (the initial one when linear), > 0
  bool learning_rate_linear = false;  // `lin_<x>`: decays linearly from x to 0 over the session
  double gamma = 0.99;                // discount, (0, 1]
  std::string device = "auto";        // auto | cpu (LibTorch is CPU-only here)
  std::optional<int64_t> seed;        // SB3's `seed`: the session seed, as training.seed
  bool operator==(const BaseAlgorithmConfig&) const = default;
};

/// The on-policy family (SB3's OnPolicyAlgorithm): rollouts of n_steps per env, GAE.
struct OnPolicyConfig : BaseAlgorithmConfig {
  int n_steps = 2048;               // rollout length per env, >= 1
  double gae_lambda = 0.95;         // GAE lambda, [0, 1]
  double ent_coef = 0.0;            // entropy bonus weight, >= 0
  double vf_coef = 0.5;             // value loss weight, >= 0
  double max_grad_norm = 0.5;       // global gradient-norm clip, > 0
  bool normalize_advantage = true;  // advantage normalisation (PPO: per minibatch)
  double log_std_init = 0.0;        // initial log standard deviation of the Gaussian policy
  bool use_sde = false;             // gSDE exploration (MlpPolicy only)
  int sde_sample_freq = -1;         // gSDE: steps between new noise matrices (-1: per rollout)
  bool operator==(const OnPolicyConfig&) const = default;
};

/// PPO (Schulman et al. 2017), SB3's defaults.
struct PpoConfig : OnPolicyConfig {
  int batch_size = 64;                  // minibatch size, >= 1
  int n_epochs = 10;                    // passes over each rollout, >= 1
  double clip_range = 0.2;              // ratio clip, > 0
  std::optional<double> clip_range_vf;  // clip of the value change per update (nullopt: none)
  std::optional<double> target_kl;      // stop the epochs when approx_kl > 1.5 × this
  bool operator==(const PpoConfig&) const = default;
};

/// A2C (Mnih et al. 2016), SB3's defaults: one gradient step per 5-step rollout, RMSprop.
struct A2cConfig : OnPolicyConfig {
  A2cConfig() {
    learning_rate = 7e-4;
    n_steps = 5;
    gae_lambda = 1.0;
    normalize_advantage = false;
  }
  bool use_rms_prop = true;    // RMSprop (alpha 0.99) instead of Adam
  double rms_prop_eps = 1e-5;  // RMSprop epsilon, > 0
  bool operator==(const A2cConfig&) const = default;
};

/// The off-policy family (SB3's OffPolicyAlgorithm): a replay buffer and target networks.
struct OffPolicyConfig : BaseAlgorithmConfig {
  int64_t buffer_size = 1'000'000;  // replay buffer capacity in transitions (over all envs), >= 1
  int64_t learning_starts = 100;    // env steps of uniform random actions before learning, >= 0
  int batch_size = 256;             // replay samples per gradient step, >= 1
  double tau = 0.005;               // Polyak coefficient of the target networks, (0, 1]
  int train_freq = 1;               // vector-env steps between training phases, >= 1
  int gradient_steps = 1;           // gradient steps per training phase, >= 1
  ActionNoiseConfig action_noise;   // exploration noise on collected actions
  bool operator==(const OffPolicyConfig&) const = default;
};

/// SAC (Haarnoja et al. 2018), SB3's defaults: α tuned from 1 towards −dim(A).
struct SacConfig : OffPolicyConfig {
  double ent_coef = 1.0;                 // the fixed α, or the initial one when tuned, > 0
  bool ent_coef_auto = true;             // `auto` / `auto_<init>`: tune α to target_entropy
  std::optional<double> target_entropy;  // nullopt (`auto`) = −dim(action space)
  bool operator==(const SacConfig&) const = default;
};

/// TD3 (Fujimoto et al. 2018), SB3's defaults.
struct Td3Config : OffPolicyConfig {
  Td3Config() { learning_rate = 1e-3; }
  int policy_delay = 2;              // critic updates per actor (and target) update, >= 1
  double target_policy_noise = 0.2;  // std of the target policy smoothing noise, >= 0
  double target_noise_clip = 0.5;    // clip of that noise, >= 0
  bool operator==(const Td3Config&) const = default;
};

/// One alternative per registered algorithm, in the order of `Algorithm`.
using AlgorithmSettings = std::variant<PpoConfig, A2cConfig, SacConfig, Td3Config>;

/// `agent:` — the algorithm (the alternative held) and its settings. Code that runs one algorithm
/// takes its struct (`Get<PpoConfig>()`); the loops take their family's (`on_policy()`).
struct AgentConfig {
  AlgorithmSettings settings;  // PPO's defaults unless set

  Algorithm algorithm() const { return static_cast<Algorithm>(settings.index()); }
  /// The keys every algorithm has.
  const BaseAlgorithmConfig& common() const {
    return std::visit([](const auto& s) -> const BaseAlgorithmConfig& { return s; }, settings);
  }
  BaseAlgorithmConfig& common() {
    return std::visit([](auto& s) -> BaseAlgorithmConfig& { return s; }, settings);
  }
  /// The on-policy family's settings; nullptr for an off-policy algorithm.
  const OnPolicyConfig* on_policy() const { return Family<const OnPolicyConfig>(settings); }
  OnPolicyConfig* on_policy() { return Family<OnPolicyConfig>(settings); }
  /// The off-policy family's settings; nullptr for an on-policy algorithm.
  const OffPolicyConfig* off_policy() const { return Family<const OffPolicyConfig>(settings); }
  OffPolicyConfig* off_policy() { return Family<OffPolicyConfig>(settings); }
  /// One algorithm's settings; std::bad_variant_access when another algorithm is chosen.
  template <typename T>
  const T& Get() const {
    return std::get<T>(settings);
  }
  template <typename T>
  T& Get() {
    return std::get<T>(settings);
  }
  bool operator==(const AgentConfig&) const = default;

 private:
  template <typename F, typename V>
  static F* Family(V& settings) {
    return std::visit(
        [](auto& s) -> F* {
          if constexpr (std::is_convertible_v<decltype(&s), F*>) {
            return &s;
          } else {
            return nullptr;
          }
        },
        settings);
  }
};

}  // namespace rlpipe::config
