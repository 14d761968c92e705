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
/// `agent.policy`: the network family (docs/networks.md).
enum class Policy { kMlp, kMultiRobot };
/// Exploration noise added to off-policy actions (SB3's NormalActionNoise /
/// OrnsteinUhlenbeckActionNoise).
enum class ActionNoiseType { kNone, kNormal, kOrnsteinUhlenbeck };

std::string ToString(Algorithm a);   // "PPO"
std::string ToString(Activation a);  // "tanh"
std::string ToString(Policy p);      // "MlpPolicy", "MultiRobotPolicy"
std::string ToString(ActionNoiseType t);  // "none", "normal", "ou"

/// `agent.action_noise: {type: normal | ou, sigma: 0.1}` (absent or null = no noise).
struct ActionNoiseConfig {
  ActionNoiseType type = ActionNoiseType::kNone;
  double sigma = 0.1;  // standard deviation, in the policy's [-1, 1] action scale, > 0
};

/// `environment:` — which task and its parameters.
struct EnvironmentConfig {
  std::string name;               // registered task name, e.g. "pendulum" (required)
  int max_episode_steps = 0;      // steps before truncation; 0 = the task's own default
  std::string render_mode;        // accepted for compatibility; rendering is not implemented
  Tree params;                    // every other key: task parameters, validated by the env registry
  SourceLoc name_loc;             // where `name` was written (for "unknown task" errors)
};

/// `agent:` — algorithm and its hyper-parameters (Stable-Baselines3 names). The in-class defaults
/// are PPO's; DefaultAgentConfig(algorithm) holds every algorithm's defaults, and parsing starts
/// from the chosen algorithm's. Which keys belong to which algorithm: docs/algorithms.md.
struct AgentConfig {
  Algorithm algorithm = Algorithm::kPpo;
  Policy policy = Policy::kMlp;     // MlpPolicy (SB3's) or MultiRobotPolicy
  double learning_rate = 3e-4;     // optimizer step size (the initial one when linear)
  bool learning_rate_linear = false;  // `lin_<x>`: decays linearly from x to 0 over the session
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
  bool use_sde = false;            // gSDE exploration (PPO/A2C with MlpPolicy)
  int sde_sample_freq = -1;        // gSDE: steps between new noise matrices (-1: per rollout)
  std::string device = "auto";     // auto | cpu | cuda
  std::optional<int64_t> seed;     // SB3's `seed`: the session seed, as training.seed

  // PPO only.
  std::optional<double> clip_range_vf;  // clip of the value change per update (nullopt: none)
  std::optional<double> target_kl;      // stop the epochs when approx_kl > 1.5 × this

  // A2C only.
  bool use_rms_prop = false;       // RMSprop (alpha 0.99) instead of Adam
  double rms_prop_eps = 1e-5;      // RMSprop epsilon, > 0

  // Off-policy (SAC, TD3).
  int64_t buffer_size = 1'000'000;  // replay buffer capacity in transitions (over all envs), >= 1
  int64_t learning_starts = 100;    // env steps of uniform random actions before learning, >= 0
  double tau = 0.005;               // Polyak coefficient of the target networks, (0, 1]
  int train_freq = 1;               // vector-env steps between training phases, >= 1
  int gradient_steps = 1;           // gradient steps per training phase, >= 1
  ActionNoiseConfig action_noise;   // exploration noise on collected actions
  // TD3 only.
  int policy_delay = 2;              // critic updates per actor (and target) update, >= 1
  double target_policy_noise = 0.2;  // std of the target policy smoothing noise, >= 0
  double target_noise_clip = 0.5;    // clip of that noise, >= 0
  // SAC only (`ent_coef` above is the fixed or the initial entropy coefficient).
  bool ent_coef_auto = false;            // `auto` / `auto_<init>`: tune ent_coef to target_entropy
  std::optional<double> target_entropy;  // nullopt (`auto`) = −dim(action space)
};

/// SB3's defaults for `algorithm` (PPO's are the in-class ones).
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
  int threads = 0;  // threads stepping envs and running evaluation episodes; 0 = the machine's
                    // cores (the CPUs this process may run on), 0..1024
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
