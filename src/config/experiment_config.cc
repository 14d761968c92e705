#include "config/experiment_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <utility>

namespace rlpipe::config {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Case-insensitive choice of an enum value; the error lists the valid spellings.
template <typename Enum>
Enum ReadChoice(MapReader& reader, const std::string& key, Enum fallback,
                const std::vector<std::pair<std::string, Enum>>& choices) {
  std::string text;
  reader.Get(key, &text);
  if (reader.node() == nullptr || reader.node()->Find(key) == nullptr ||
      reader.node()->Find(key)->IsNull()) {
    return fallback;
  }
  std::string valid;
  for (const auto& [name, value] : choices) {
    if (Lower(name) == Lower(text)) return value;
    valid += (valid.empty() ? "" : ", ") + name;
  }
  reader.Fail(key, "expected one of " + valid + " (any case); found '" + text + "'");
}

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
  std::optional<std::string> render_mode;
  reader.Get("render_mode", &render_mode);
  env.render_mode = render_mode.value_or("");

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

void ReadAgent(const Tree* node, AgentConfig& agent) {
  MapReader reader(node, "agent", "agent settings");

  // Algorithm and policy choices.
  agent.algorithm = ReadChoice<Algorithm>(reader, "algorithm", agent.algorithm,
                                          {{"PPO", Algorithm::kPpo},
                                           {"A2C", Algorithm::kA2c},
                                           {"SAC", Algorithm::kSac},
                                           {"TD3", Algorithm::kTd3}});
  reader.Get("policy", &agent.policy);
  reader.CheckChoice("policy", agent.policy, {"MlpPolicy", "MultiRobotPolicy"});

  // Hyper-parameters with their valid ranges.
  reader.Get("learning_rate", &agent.learning_rate);
  reader.CheckRange("learning_rate", agent.learning_rate, 0, kInf, /*lo_open=*/true);
  reader.Get("n_steps", &agent.n_steps);
  reader.CheckRange("n_steps", agent.n_steps, 1, kInf);
  reader.Get("batch_size", &agent.batch_size);
  reader.CheckRange("batch_size", agent.batch_size, 1, kInf);
  reader.Get("n_epochs", &agent.n_epochs);
  reader.CheckRange("n_epochs", agent.n_epochs, 1, kInf);
  reader.Get("gamma", &agent.gamma);
  reader.CheckRange("gamma", agent.gamma, 0, 1, /*lo_open=*/true);
  reader.Get("gae_lambda", &agent.gae_lambda);
  reader.CheckRange("gae_lambda", agent.gae_lambda, 0, 1);
  reader.Get("clip_range", &agent.clip_range);
  reader.CheckRange("clip_range", agent.clip_range, 0, kInf, /*lo_open=*/true);
  reader.Get("ent_coef", &agent.ent_coef);
  reader.CheckRange("ent_coef", agent.ent_coef, 0, kInf);
  reader.Get("vf_coef", &agent.vf_coef);
  reader.CheckRange("vf_coef", agent.vf_coef, 0, kInf);
  reader.Get("max_grad_norm", &agent.max_grad_norm);
  reader.CheckRange("max_grad_norm", agent.max_grad_norm, 0, kInf, /*lo_open=*/true);
  reader.Get("normalize_advantage", &agent.normalize_advantage);
  reader.Get("log_std_init", &agent.log_std_init);
  reader.CheckRange("log_std_init", agent.log_std_init, -kInf, kInf);
  reader.Get("device", &agent.device);
  agent.device = Lower(agent.device);
  reader.CheckChoice("device", agent.device, {"auto", "cpu", "cuda"});

  // Off-policy and A2C keys, used when those algorithms land.
  for (const char* key :
       {"buffer_size", "learning_starts", "tau", "train_freq", "gradient_steps", "policy_delay",
        "target_policy_noise", "target_noise_clip", "action_noise", "target_entropy",
        "use_rms_prop", "rms_prop_eps", "use_sde", "sde_sample_freq", "clip_range_vf", "target_kl",
        "policy_kwargs", "verbose", "seed"}) {
    reader.Accept(key);
  }
  reader.Finish();
}

void ReadNetwork(const Tree* node, NetworkConfig& network) {
  MapReader reader(node, "network", "network settings");
  ReadLayers(reader, "policy_layers", &network.policy_layers);
  ReadLayers(reader, "value_layers", &network.value_layers);
  network.activation = ReadChoice<Activation>(reader, "activation", network.activation,
                                              {{"tanh", Activation::kTanh},
                                               {"relu", Activation::kRelu},
                                               {"elu", Activation::kElu},
                                               {"leaky_relu", Activation::kLeakyRelu},
                                               {"sigmoid", Activation::kSigmoid}});
  for (const char* key : {"qf_layers", "shared_layers", "ortho_init"}) reader.Accept(key);
  reader.Finish();
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
  reader.Get("seed", &training.seed);
  if (training.seed) reader.CheckRange("seed", static_cast<double>(*training.seed), 0, kInf);
  for (const char* key : {"normalize", "normalize_reward", "clip_obs", "keep_checkpoints",
                          "stop_on_reward", "stop_after_no_improvement", "save_replay_buffer",
                          "deterministic_eval", "n_eval_envs", "threads"}) {
    reader.Accept(key);
  }
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
  for (const char* key :
       {"use_wandb", "wandb_project", "wandb_entity", "tensorboard_log", "log_frequency", "verbose",
        "track_metrics", "save_videos", "video_frequency"}) {
    reader.Accept(key);
  }
  reader.Finish();
}

}  // namespace

std::string ToString(Algorithm a) {
  switch (a) {
    case Algorithm::kPpo:
      return "PPO";
    case Algorithm::kA2c:
      return "A2C";
    case Algorithm::kSac:
      return "SAC";
    case Algorithm::kTd3:
      return "TD3";
  }
  return "unknown";
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
  top.Accept("aws");
  top.Accept("transfer_learning");
  if (top.node() != nullptr) {
    for (const auto& [key, value] : top.node()->entries) {
      if (key.size() > 8 && key.ends_with("_metrics")) top.Accept(key);
    }
  }
  top.Finish();

  // Each section on its own strict reader.
  ReadEnvironment(root, environment, config.environment);
  ReadAgent(agent, config.agent);
  ReadNetwork(network, config.network);
  ReadTraining(training, config.training);
  ReadPaths(paths, config.paths);
  ReadMonitoring(monitoring, config.monitoring);
  return config;
}

}  // namespace rlpipe::config
