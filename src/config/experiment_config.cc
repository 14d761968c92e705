#include "config/experiment_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "config/algorithms.h"
#include "config/read_helpers.h"

namespace rlpipe::config {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Layer sizes: a non-empty list of integers >= 1.
void ReadLayers(MapReader& reader, const std::string& key, std::vector<int>* out) {
  reader.Get(key, out);
  const Tree* node = reader.node() == nullptr ? nullptr : reader.node()->Find(key);
  if (node == nullptr || node->IsNull()) return;
  if (out->empty()) reader.Fail(key, "expected a non-empty list of layer sizes, found []");
  for (size_t i = 0; i < out->size(); ++i) {
    if ((*out)[i] < 1) {
      FailAt(node->items[i].loc, reader.PathOf(key) + "[" + std::to_string(i) + "]",
             "expected a layer size >= 1, found " + node->items[i].scalar);
    }
  }
}

void ReadEnvironment(const Tree& root, const Tree* node, EnvironmentConfig& env) {
  if (node == nullptr || node->IsNull()) {
    FailAt(node != nullptr ? node->loc : root.loc, "environment",
           "missing required section (e.g. `environment: {name: pendulum}`)");
  }
  MapReader reader(node, "environment", "task settings");

  // The task name is required; its location is kept for "unknown task" errors.
  reader.Get("name", &env.name);
  if (node->Find("name") == nullptr || node->Find("name")->IsNull()) {
    reader.Fail("name", "missing required key (the task name, e.g. pendulum)");
  }
  if (env.name.empty()) reader.Fail("name", "expected a task name, found an empty string");
  env.name_loc = reader.LocOf("name");

  // Generic keys.
  reader.Get("max_episode_steps", &env.max_episode_steps);
  if (node->Find("max_episode_steps") != nullptr && !node->Find("max_episode_steps")->IsNull()) {
    reader.CheckRange("max_episode_steps", env.max_episode_steps, 1, kInf);
  }
  // render_mode: null or rgb_array; `human` needs a window, which rlpipe never has.
  std::optional<std::string> render_mode;
  reader.Get("render_mode", &render_mode);
  if (render_mode && Lower(*render_mode) == "rgb_array") {
    env.render_mode = "rgb_array";
  } else if (render_mode && Lower(*render_mode) == "human") {
    reader.Fail("render_mode",
                "'human' opens a window and rlpipe runs without a display; use rgb_array to "
                "render the session's best model to <session>/videos/best_model.mp4");
  } else if (render_mode) {
    reader.Fail("render_mode", "expected rgb_array or null, found '" + *render_mode + "'");
  }

  // Every other key is a task parameter, validated later by the env registry.
  env.params = Tree();
  env.params.kind = Tree::Kind::kMap;
  env.params.loc = node->loc;
  env.params.key_loc = node->key_loc;
  for (const auto& [key, value] : node->entries) {
    if (key != "name" && key != "max_episode_steps" && key != "render_mode") {
      env.params.entries.emplace_back(key, value);
    }
  }
}

void ReadNetwork(const Tree* node, NetworkConfig& network, Algorithm algorithm, Policy policy) {
  MapReader reader(node, "network", "network settings");
  network = DefaultNetworkConfig(algorithm);
  // The critics' sizes belong to the off-policy family.
  if (InfoOf(algorithm).family != AlgorithmFamily::kOffPolicy && reader.node() != nullptr &&
      reader.node()->Find("qf_layers") != nullptr) {
    reader.Fail("qf_layers", "not a setting of " + ToString(algorithm) + " (it belongs to " +
                                 AlgorithmNames(AlgorithmFamily::kOffPolicy) + ")");
  }
  ReadLayers(reader, "policy_layers", &network.policy_layers);
  ReadLayers(reader, "value_layers", &network.value_layers);

  // The critics of SAC/TD3 default to value_layers.
  network.qf_layers = network.value_layers;
  ReadLayers(reader, "qf_layers", &network.qf_layers);
  network.activation = ReadChoice<Activation>(reader, "activation", network.activation,
                                              {{"tanh", Activation::kTanh},
                                               {"relu", Activation::kRelu},
                                               {"elu", Activation::kElu},
                                               {"leaky_relu", Activation::kLeakyRelu},
                                               {"sigmoid", Activation::kSigmoid}});
  reader.Get("ortho_init", &network.ortho_init);
  if (policy == Policy::kMultiRobot && !network.ortho_init) {
    reader.Fail("ortho_init", "works with MlpPolicy, not MultiRobotPolicy");
  }
  reader.Ignore("shared_layers", "the policy and value networks never share layers, as in SB3 2.x");

  // The multi-robot network's sizes: only with that policy, heads dividing the embedding.
  for (const char* key : {"embed_dim", "attention_heads", "attention_layers"}) {
    if (policy != Policy::kMultiRobot && reader.node() != nullptr &&
        reader.node()->Find(key) != nullptr) {
      reader.Fail(key, std::string("only used by agent.policy: MultiRobotPolicy (the policy is ") +
                           ToString(policy) + ")");
    }
  }
  reader.Get("embed_dim", &network.embed_dim);
  reader.CheckRange("embed_dim", network.embed_dim, 1, 1024);
  reader.Get("attention_heads", &network.attention_heads);
  reader.CheckRange("attention_heads", network.attention_heads, 1, network.embed_dim);
  if (network.embed_dim % network.attention_heads != 0) {
    reader.Fail("attention_heads", "expected a divisor of network.embed_dim (" +
                                       std::to_string(network.embed_dim) + "), found " +
                                       std::to_string(network.attention_heads));
  }
  reader.Get("attention_layers", &network.attention_layers);
  reader.CheckRange("attention_layers", network.attention_layers, 0, 16);
  reader.Finish();
}

// `normalize: true | false` or `normalize: {obs, reward, clip_obs, clip_reward}`; the flat keys
// `normalize_reward` and `clip_obs` of older configs refine the bool form.
void ReadNormalize(MapReader& reader, NormalizeConfig& normalize) {
  const Tree* node = reader.Child("normalize");
  if (node != nullptr && node->IsMap()) {
    MapReader sub(node, reader.PathOf("normalize"), "normalisation settings");
    normalize.obs = true;
    normalize.reward = true;
    sub.Get("obs", &normalize.obs);
    sub.Get("reward", &normalize.reward);
    sub.Get("clip_obs", &normalize.clip_obs);
    sub.CheckRange("clip_obs", normalize.clip_obs, 0, kInf, /*lo_open=*/true);
    sub.Get("clip_reward", &normalize.clip_reward);
    sub.CheckRange("clip_reward", normalize.clip_reward, 0, kInf, /*lo_open=*/true);
    sub.Finish();
    for (const char* flat : {"normalize_reward", "clip_obs"}) {
      if (reader.node()->Find(flat) != nullptr) {
        reader.Fail(flat, std::string("write it inside the `normalize:` map (as ") +
                              (std::string(flat) == "clip_obs" ? "clip_obs" : "reward") + ")");
      }
    }
    return;
  }
  bool on = false;
  reader.Get("normalize", &on);
  normalize.obs = on;
  normalize.reward = on;
  if (reader.node() != nullptr && reader.node()->Find("normalize_reward") != nullptr) {
    bool reward = true;
    reader.Get("normalize_reward", &reward);
    normalize.reward = on && reward;
  }
  reader.Get("clip_obs", &normalize.clip_obs);
  reader.CheckRange("clip_obs", normalize.clip_obs, 0, kInf, /*lo_open=*/true);
}

void ReadTraining(const Tree* node, TrainingConfig& training) {
  MapReader reader(node, "training", "training settings");
  reader.Get("total_timesteps", &training.total_timesteps);
  reader.CheckRange("total_timesteps", static_cast<double>(training.total_timesteps), 1, kInf);
  reader.Get("eval_freq", &training.eval_freq);
  reader.CheckRange("eval_freq", static_cast<double>(training.eval_freq), 0, kInf);
  reader.Get("eval_episodes", &training.eval_episodes);
  reader.CheckRange("eval_episodes", training.eval_episodes, 1, kInf);
  reader.Get("save_freq", &training.save_freq);
  reader.CheckRange("save_freq", static_cast<double>(training.save_freq), 0, kInf);
  reader.Get("log_interval", &training.log_interval);
  reader.CheckRange("log_interval", training.log_interval, 1, kInf);
  reader.Get("n_envs", &training.n_envs);
  reader.CheckRange("n_envs", training.n_envs, 1, 1024);
  reader.Get("save_replay_buffer", &training.save_replay_buffer);
  reader.Get("seed", &training.seed);
  if (training.seed) reader.CheckRange("seed", static_cast<double>(*training.seed), 0, kInf);
  ReadNormalize(reader, training.normalize);
  reader.Get("keep_checkpoints", &training.keep_checkpoints);
  reader.CheckRange("keep_checkpoints", training.keep_checkpoints, 0, kInf);
  reader.Get("stop_on_reward", &training.stop_on_reward);
  if (training.stop_on_reward) {
    reader.CheckRange("stop_on_reward", *training.stop_on_reward, -kInf, kInf);
  }
  reader.Get("stop_after_no_improvement", &training.stop_after_no_improvement);
  reader.CheckRange("stop_after_no_improvement", training.stop_after_no_improvement, 0, kInf);
  reader.Get("threads", &training.threads);
  reader.CheckRange("threads", training.threads, 0, 1024);
  reader.Ignore("deterministic_eval",
                "evaluations always act deterministically, as SB3's EvalCallback");
  reader.Ignore("n_eval_envs", "evaluation episodes run one after another on one env");
  reader.Finish();
}

void ReadPaths(const Tree* node, PathsConfig& paths) {
  MapReader reader(node, "paths", "output paths");
  reader.Get("models", &paths.models);
  reader.Get("logs", &paths.logs);
  reader.Get("tensorboard", &paths.tensorboard);
  reader.Finish();
}

void ReadMonitoring(const Tree* node, MonitoringConfig& monitoring) {
  MapReader reader(node, "monitoring", "monitoring settings");
  reader.Get("use_tensorboard", &monitoring.use_tensorboard);
  for (const char* key : {"use_wandb", "wandb_project", "wandb_entity"}) {
    reader.Ignore(key, "rlpipe has no Weights & Biases integration; see docs/reports.md");
  }
  reader.Ignore("tensorboard_log", "TensorBoard files go to OUT/<session>/runs/");
  reader.Ignore("log_frequency", "progress is logged every training.log_interval rollouts");
  reader.Ignore("verbose", "rlpipe's console output does not depend on it");
  reader.Ignore("track_metrics", "the pipeline file's monitoring.track_metrics chooses the charts");
  reader.Ignore("save_videos", "videos: environment.render_mode: rgb_array");
  reader.Ignore("video_frequency", "videos: environment.render_mode: rgb_array");
  reader.Finish();
}

}  // namespace

std::string ToString(Policy p) {
  switch (p) {
    case Policy::kMlp:
      return "MlpPolicy";
    case Policy::kMultiRobot:
      return "MultiRobotPolicy";
  }
  return "unknown";
}

std::string ToString(ActionNoiseType t) {
  switch (t) {
    case ActionNoiseType::kNone:
      return "none";
    case ActionNoiseType::kNormal:
      return "normal";
    case ActionNoiseType::kOrnsteinUhlenbeck:
      return "ou";
  }
  return "unknown";
}

NetworkConfig DefaultNetworkConfig(Algorithm algorithm) {
  return InfoOf(algorithm).default_network;
}

std::string ToString(Activation a) {
  switch (a) {
    case Activation::kTanh:
      return "tanh";
    case Activation::kRelu:
      return "relu";
    case Activation::kElu:
      return "elu";
    case Activation::kLeakyRelu:
      return "leaky_relu";
    case Activation::kSigmoid:
      return "sigmoid";
  }
  return "unknown";
}

ExperimentConfig ParseExperimentConfig(const Tree& root) {
  ExperimentConfig config;
  config.resolved = root;

  // Top level: known sections, sections accepted for later features, nothing else.
  MapReader top(&root, "", "training config sections");
  const Tree* environment = top.Child("environment");
  const Tree* agent = top.Child("agent");
  const Tree* network = top.Child("network");
  const Tree* training = top.Child("training");
  const Tree* paths = top.Child("paths");
  const Tree* monitoring = top.Child("monitoring");
  top.Ignore("aws", "the pipeline file's aws: section decides S3 and SageMaker");
  top.Ignore("transfer_learning", "a session's transfer: in the pipeline file sets transfer");
  // <task>_metrics sections: session2_metrics.save_collapse_videos is read with the session's
  // videos (cli/session_video.cc); every other key is a warning.
  if (top.node() != nullptr) {
    for (const auto& [key, value] : top.node()->entries) {
      if (key.size() <= 8 || !key.ends_with("_metrics")) continue;
      if (key != "session2_metrics" || !value.IsMap()) {
        top.Ignore(key, "rlpipe records task statistics from each task's info by itself");
        continue;
      }
      top.Accept(key);
      MapReader metrics(&value, key, "session metrics");
      metrics.Accept("save_collapse_videos");
      for (const auto& [metric, setting] : value.entries) {
        if (metric != "save_collapse_videos") {
          metrics.Ignore(metric, "rlpipe records task statistics from each task's info by itself");
        }
      }
      metrics.Finish();
    }
  }
  top.Finish();

  // Each section on its own strict reader.
  ReadEnvironment(root, environment, config.environment);
  config.agent = ReadAgentConfig(agent);
  ReadNetwork(network, config.network, config.agent.algorithm(), config.agent.common().policy);
  ReadTraining(training, config.training);
  // SB3's agent.seed is the session seed too; two different ones are an error.
  if (const std::optional<int64_t> seed = config.agent.common().seed) {
    if (config.training.seed && *config.training.seed != *seed) {
      MapReader(agent, "agent")
          .Fail("seed", "expected the same value as training.seed (" +
                            std::to_string(*config.training.seed) + "), found " +
                            std::to_string(*seed));
    }
    config.training.seed = seed;
  }
  ReadPaths(paths, config.paths);
  ReadMonitoring(monitoring, config.monitoring);
  return config;
}

}  // namespace rlpipe::config
