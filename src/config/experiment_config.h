#pragma once
/// The typed training config of one session (`environment`, `agent`, `network`, `training`,
/// `paths`, `monitoring` sections), loaded strictly from YAML.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/agent_config.h"
#include "config/tree.h"

namespace rlpipe::config {

enum class Activation { kTanh, kRelu, kElu, kLeakyRelu, kSigmoid };

std::string ToString(Activation a);  // "tanh"

/// `environment:` — which task and its parameters.
struct EnvironmentConfig {
  std::string name;               // registered task name, e.g. "pendulum" (required)
  int max_episode_steps = 0;      // steps before truncation; 0 = the task's own default
  std::string render_mode;        // accepted for compatibility; rendering is not implemented
  Tree params;                    // every other key: task parameters, validated by the env registry
  SourceLoc name_loc;             // where `name` was written (for "unknown task" errors)
};

/// SB3's defaults for `algorithm` (its settings struct's in-class values).
AgentConfig DefaultAgentConfig(Algorithm algorithm);

/// `network:` — MLP sizes, and the multi-robot network's attention sizes.
struct NetworkConfig {
  std::vector<int> policy_layers{64, 64};  // MLP actor; MultiRobotPolicy: each action head
  std::vector<int> value_layers{64, 64};   // MLP critic; MultiRobotPolicy: the value head
  std::vector<int> qf_layers{64, 64};  // SAC/TD3 critic hidden sizes (default: value_layers)
  Activation activation = Activation::kTanh;
  bool ortho_init = true;  // SB3's orthogonal init; false: torch.nn.Linear's default (MlpPolicy)
  // MultiRobotPolicy only (writing them with MlpPolicy is an error).
  int embed_dim = 64;         // per-robot embedding width, 1-1024, a multiple of attention_heads
  int attention_heads = 4;    // heads of each self-attention layer, >= 1
  int attention_layers = 2;   // self-attention layers across robots, 0-16 (0 = deep sets)
  bool operator==(const NetworkConfig&) const = default;
};

/// SB3's network defaults for `algorithm` (SAC [256, 256] relu, TD3 [400, 300] relu).
NetworkConfig DefaultNetworkConfig(Algorithm algorithm);

/// `training.normalize`: SB3 VecNormalize settings. `true` turns on both parts with the clips
/// below; a map {obs, reward, clip_obs, clip_reward} sets each.
struct NormalizeConfig {
  bool obs = false;           // normalise observations by their running mean and variance
  bool reward = false;        // scale rewards by the running std of the discounted return
  double clip_obs = 10.0;     // normalised observations are clipped to ±clip_obs, > 0
  double clip_reward = 10.0;  // normalised rewards are clipped to ±clip_reward, > 0
};

/// `training:` — run length, evaluation and saving cadence.
struct TrainingConfig {
  int64_t total_timesteps = 100000;  // env steps over all envs, > 0
  int64_t eval_freq = 10000;         // env steps (over all envs) between evaluations; 0 = never
  int eval_episodes = 5;             // deterministic episodes per evaluation, >= 1
  int64_t save_freq = 0;             // env steps between periodic checkpoints; 0 = never
  int log_interval = 1;              // rollouts between console/CSV lines, >= 1
  int n_envs = 1;                    // parallel environments, >= 1
  bool save_replay_buffer = true;    // SAC/TD3: periodic checkpoints hold the replay buffer
  std::optional<int64_t> seed;       // overrides the seed derived from the pipeline seed
  NormalizeConfig normalize;         // observation / reward normalisation (off by default)
  int keep_checkpoints = 3;          // newest periodic checkpoints kept; 0 = keep all, >= 0
  std::optional<double> stop_on_reward;  // stop once a mean eval return reaches this
  int stop_after_no_improvement = 0;     // stop after this many evaluations without a new best;
                                         // 0 = never, >= 0
  int threads = 0;  // threads stepping envs, running evaluation episodes and SAC/TD3's twin-
                    // critic tasks (2 at most); 0 = the machine's cores (the CPUs this process
                    // may run on), 0..1024
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
