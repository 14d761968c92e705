#pragma once
/// The typed training config of one session (`environment`, `agent`, `network`, `training`,
/// `paths`, `monitoring` sections), loaded strictly from YAML.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/tree.h"

namespace rlpipe::config {

enum class Algorithm { kPpo, kA2c, kSac, kTd3 };
enum class Activation { kTanh, kRelu, kElu, kLeakyRelu, kSigmoid };

std::string ToString(Algorithm a);   // "PPO"
std::string ToString(Activation a);  // "tanh"

/// `environment:` — which task and its parameters.
struct EnvironmentConfig {
  std::string name;               // registered task name, e.g. "pendulum" (required)
  int max_episode_steps = 0;      // steps before truncation; 0 = the task's own default
  std::string render_mode;        // accepted for compatibility; rendering is not implemented
  Tree params;                    // every other key: task parameters, validated by the env registry
  SourceLoc name_loc;             // where `name` was written (for "unknown task" errors)
};

/// `agent:` — algorithm and its hyper-parameters (Stable-Baselines3 names and defaults).
struct AgentConfig {
  Algorithm algorithm = Algorithm::kPpo;
  std::string policy = "MlpPolicy";
  double learning_rate = 3e-4;     // Adam step size
  int n_steps = 2048;              // rollout length per env
  int batch_size = 64;             // minibatch size (PPO)
  int n_epochs = 10;               // passes over each rollout (PPO)
  double gamma = 0.99;             // discount, (0, 1]
  double gae_lambda = 0.95;        // GAE lambda, [0, 1]
  double clip_range = 0.2;         // PPO ratio clip, > 0
  double ent_coef = 0.0;           // entropy bonus weight, >= 0
  double vf_coef = 0.5;            // value loss weight, >= 0
  double max_grad_norm = 0.5;      // global gradient-norm clip, > 0
  bool normalize_advantage = true; // per-minibatch advantage normalisation
  double log_std_init = 0.0;       // initial log standard deviation of the Gaussian policy
  std::string device = "auto";     // auto | cpu | cuda
};

/// `network:` — MLP sizes.
struct NetworkConfig {
  std::vector<int> policy_layers{64, 64};
  std::vector<int> value_layers{64, 64};
  Activation activation = Activation::kTanh;
};

/// `training:` — run length, evaluation and saving cadence.
struct TrainingConfig {
  int64_t total_timesteps = 100000;  // env steps over all envs, > 0
  int64_t eval_freq = 10000;         // env steps (over all envs) between evaluations; 0 = never
  int eval_episodes = 5;             // deterministic episodes per evaluation, >= 1
  int64_t save_freq = 0;             // env steps between periodic checkpoints; 0 = never
  int log_interval = 1;              // rollouts between console/CSV lines, >= 1
  int n_envs = 1;                    // parallel environments, >= 1
  std::optional<int64_t> seed;       // overrides the seed derived from the pipeline seed
};

/// `paths:` — accepted from existing configs; inside a pipeline the output layout decides.
struct PathsConfig {
  std::string models;
  std::string logs;
  std::string tensorboard;
};

/// `monitoring:` — accepted; TensorBoard output is a later feature.
struct MonitoringConfig {
  bool use_tensorboard = false;
};

/// The fully resolved config of one session.
struct ExperimentConfig {
  EnvironmentConfig environment;
  AgentConfig agent;
  NetworkConfig network;
  TrainingConfig training;
  PathsConfig paths;
  MonitoringConfig monitoring;
  /// The merged YAML this was read from (written beside outputs as training_config.yaml).
  Tree resolved;
};

/// Reads a merged training-config tree strictly. Throws ConfigError (file:line:col + key path)
/// on unknown keys, wrong types and out-of-range values.
ExperimentConfig ParseExperimentConfig(const Tree& root);

}  // namespace rlpipe::config
