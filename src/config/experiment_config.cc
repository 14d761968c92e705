#include "config/experiment_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <string>
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

// Which algorithms a key of `agent:` (or `network:`) belongs to, as a bit mask.
constexpr unsigned Bit(Algorithm a) { return 1u << static_cast<unsigned>(a); }
constexpr unsigned kPpoBit = Bit(Algorithm::kPpo);
constexpr unsigned kA2cBit = Bit(Algorithm::kA2c);
constexpr unsigned kSacBit = Bit(Algorithm::kSac);
constexpr unsigned kTd3Bit = Bit(Algorithm::kTd3);
constexpr unsigned kOnPolicyBits = kPpoBit | kA2cBit;
constexpr unsigned kOffPolicyBits = kSacBit | kTd3Bit;
constexpr unsigned kAllBits = kOnPolicyBits | kOffPolicyBits;

struct KeyOwners {
  const char* key;
  unsigned algorithms;
};

// The one table of agent keys and the algorithms they belong to (docs/algorithms.md).
constexpr KeyOwners kAgentKeys[] = {
    {"algorithm", kAllBits},
    {"policy", kAllBits},
    {"learning_rate", kAllBits},
    {"gamma", kAllBits},
    {"device", kAllBits},
    {"verbose", kAllBits},
    {"seed", kAllBits},
    {"policy_kwargs", kAllBits},
    {"n_steps", kOnPolicyBits},
    {"gae_lambda", kOnPolicyBits},
    {"vf_coef", kOnPolicyBits},
    {"max_grad_norm", kOnPolicyBits},
    {"normalize_advantage", kOnPolicyBits},
    {"log_std_init", kOnPolicyBits},
    {"use_sde", kOnPolicyBits},
    {"sde_sample_freq", kOnPolicyBits},
    {"ent_coef", kOnPolicyBits | kSacBit},
    {"batch_size", kPpoBit | kOffPolicyBits},
    {"n_epochs", kPpoBit},
    {"clip_range", kPpoBit},
    {"clip_range_vf", kPpoBit},
    {"target_kl", kPpoBit},
    {"use_rms_prop", kA2cBit},
    {"rms_prop_eps", kA2cBit},
    {"buffer_size", kOffPolicyBits},
    {"learning_starts", kOffPolicyBits},
    {"tau", kOffPolicyBits},
    {"train_freq", kOffPolicyBits},
    {"gradient_steps", kOffPolicyBits},
    {"action_noise", kOffPolicyBits},
    {"target_entropy", kSacBit},
    {"policy_delay", kTd3Bit},
    {"target_policy_noise", kTd3Bit},
    {"target_noise_clip", kTd3Bit},
};

std::string OwnersText(unsigned algorithms) {
  std::string text;
  for (Algorithm a : {Algorithm::kPpo, Algorithm::kA2c, Algorithm::kSac, Algorithm::kTd3}) {
    if ((algorithms & Bit(a)) != 0) text += (text.empty() ? "" : ", ") + ToString(a);
  }
  return text;
}

// A key written for an algorithm it does not belong to is an error naming both.
void CheckOwner(const MapReader& reader, const std::string& key, unsigned owners,
                Algorithm algorithm) {
  const Tree* value = reader.node() == nullptr ? nullptr : reader.node()->Find(key);
  if (value == nullptr || (owners & Bit(algorithm)) != 0) return;
  reader.Fail(key, "not a setting of " + ToString(algorithm) + " (it belongs to " +
                       OwnersText(owners) + ")");
}

// The unquoted scalar text of `key` when it starts with `prefix` (case-insensitive).
std::optional<std::string> WordWithPrefix(const MapReader& reader, const std::string& key,
                                          const std::string& prefix) {
  const Tree* value = reader.node() == nullptr ? nullptr : reader.node()->Find(key);
  if (value == nullptr || value->kind != Tree::Kind::kScalar) return std::nullopt;
  const std::string text = Lower(value->scalar);
  if (!text.starts_with(prefix)) return std::nullopt;
  return text;
}

// The number after `prefix` in `text` (e.g. lin_0.001), > 0, else an error showing `form`.
double NumberAfter(const MapReader& reader, const std::string& key, const std::string& text,
                   const std::string& prefix, const std::string& form) {
  const std::string rest = text.substr(prefix.size());
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(rest, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (rest.empty() || used != rest.size() || !(value > 0.0) || !std::isfinite(value)) {
    reader.Fail(key, "expected " + form + " with a number > 0, found '" + text + "'");
  }
  return value;
}

// `action_noise: {type: normal | ou, sigma: x}`; null means no noise.
void ReadActionNoise(MapReader& reader, ActionNoiseConfig& noise) {
  const Tree* node = reader.Child("action_noise");
  if (node == nullptr || node->IsNull()) return;
  if (!node->IsMap()) {
    reader.Fail("action_noise", "expected a map like {type: normal, sigma: 0.1}");
  }
  MapReader sub(node, reader.PathOf("action_noise"), "action noise settings");
  if (node->Find("type") == nullptr || node->Find("type")->IsNull()) {
    sub.Fail("type", "missing required key (normal or ou)");
  }
  noise.type = ReadChoice<ActionNoiseType>(
      sub, "type", noise.type,
      {{"normal", ActionNoiseType::kNormal}, {"ou", ActionNoiseType::kOrnsteinUhlenbeck}});
  sub.Get("sigma", &noise.sigma);
  sub.CheckRange("sigma", noise.sigma, 0, kInf, /*lo_open=*/true);
  sub.Finish();
}

void ReadAgent(const Tree* node, AgentConfig& agent) {
  MapReader reader(node, "agent", "agent settings");

  // The algorithm first: its defaults apply to every key the user did not write.
  const Algorithm algorithm = ReadChoice<Algorithm>(reader, "algorithm", agent.algorithm,
                                                    {{"PPO", Algorithm::kPpo},
                                                     {"A2C", Algorithm::kA2c},
                                                     {"SAC", Algorithm::kSac},
                                                     {"TD3", Algorithm::kTd3}});
  agent = DefaultAgentConfig(algorithm);
  for (const KeyOwners& entry : kAgentKeys) {
    CheckOwner(reader, entry.key, entry.algorithms, algorithm);
  }
  // The policy name is case-sensitive, as in SB3.
  std::string policy = ToString(agent.policy);
  reader.Get("policy", &policy);
  reader.CheckChoice("policy", policy, {ToString(Policy::kMlp), ToString(Policy::kMultiRobot)});
  agent.policy = policy == ToString(Policy::kMultiRobot) ? Policy::kMultiRobot : Policy::kMlp;
  // The multi-robot network is an actor-critic: the on-policy family only.
  if (agent.policy == Policy::kMultiRobot &&
      (algorithm == Algorithm::kSac || algorithm == Algorithm::kTd3)) {
    reader.Fail("policy", "MultiRobotPolicy trains with PPO and A2C, not " + ToString(algorithm) +
                              " (use MlpPolicy)");
  }

  // Learning rate: a number or a linear schedule `lin_<initial>`.
  if (auto text = WordWithPrefix(reader, "learning_rate", "lin_")) {
    reader.Accept("learning_rate");
    agent.learning_rate = NumberAfter(reader, "learning_rate", *text, "lin_", "lin_<x>");
    agent.learning_rate_linear = true;
  } else {
    reader.Get("learning_rate", &agent.learning_rate);
    reader.CheckRange("learning_rate", agent.learning_rate, 0, kInf, /*lo_open=*/true);
  }

  // Hyper-parameters shared by several algorithms, with their valid ranges.
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
  reader.Get("vf_coef", &agent.vf_coef);
  reader.CheckRange("vf_coef", agent.vf_coef, 0, kInf);
  reader.Get("max_grad_norm", &agent.max_grad_norm);
  reader.CheckRange("max_grad_norm", agent.max_grad_norm, 0, kInf, /*lo_open=*/true);
  reader.Get("normalize_advantage", &agent.normalize_advantage);
  reader.Get("log_std_init", &agent.log_std_init);
  reader.CheckRange("log_std_init", agent.log_std_init, -kInf, kInf);
  reader.Get("use_sde", &agent.use_sde);
  reader.Get("sde_sample_freq", &agent.sde_sample_freq);
  if (agent.sde_sample_freq == 0 || agent.sde_sample_freq < -1) {
    reader.Fail("sde_sample_freq",
                "expected -1 (new noise each rollout) or a number of steps >= 1, "
                "found " +
                    std::to_string(agent.sde_sample_freq));
  }
  // MultiRobotPolicy has a per-action-type log_std.
  if (agent.policy == Policy::kMultiRobot && agent.use_sde) {
    reader.Fail("use_sde", "gSDE works with MlpPolicy here, not MultiRobotPolicy");
  }
  reader.Get("clip_range_vf", &agent.clip_range_vf);
  if (agent.clip_range_vf) reader.CheckRange("clip_range_vf", *agent.clip_range_vf, 0, kInf, true);
  reader.Get("target_kl", &agent.target_kl);
  if (agent.target_kl) reader.CheckRange("target_kl", *agent.target_kl, 0, kInf, true);
  reader.Get("device", &agent.device);
  agent.device = Lower(agent.device);
  reader.CheckChoice("device", agent.device, {"auto", "cpu", "cuda"});

  // Entropy coefficient: a number, or (SAC) `auto` / `auto_<initial>` for automatic tuning.
  if (auto text = WordWithPrefix(reader, "ent_coef", "auto")) {
    reader.Accept("ent_coef");
    if (algorithm != Algorithm::kSac) {
      reader.Fail("ent_coef", "expected a number (auto is SAC only), found '" + *text + "'");
    }
    agent.ent_coef_auto = true;
    agent.ent_coef =
        *text == "auto" ? 1.0
                        : NumberAfter(reader, "ent_coef", *text, "auto_", "auto or auto_<initial>");
  } else {
    reader.Get("ent_coef", &agent.ent_coef);
    reader.CheckRange("ent_coef", agent.ent_coef, 0, kInf);
    if (reader.node() != nullptr && reader.node()->Find("ent_coef") != nullptr) {
      agent.ent_coef_auto = false;
    }
  }
  if (WordWithPrefix(reader, "target_entropy", "auto") == "auto") {
    reader.Accept("target_entropy");
    agent.target_entropy.reset();
  } else {
    reader.Get("target_entropy", &agent.target_entropy);
  }

  // A2C's optimizer.
  reader.Get("use_rms_prop", &agent.use_rms_prop);
  reader.Get("rms_prop_eps", &agent.rms_prop_eps);
  reader.CheckRange("rms_prop_eps", agent.rms_prop_eps, 0, kInf, /*lo_open=*/true);

  // Off-policy replay, training cadence, targets and exploration.
  reader.Get("buffer_size", &agent.buffer_size);
  reader.CheckRange("buffer_size", static_cast<double>(agent.buffer_size), 1, kInf);
  reader.Get("learning_starts", &agent.learning_starts);
  reader.CheckRange("learning_starts", static_cast<double>(agent.learning_starts), 0, kInf);
  reader.Get("tau", &agent.tau);
  reader.CheckRange("tau", agent.tau, 0, 1, /*lo_open=*/true);
  reader.Get("train_freq", &agent.train_freq);
  reader.CheckRange("train_freq", agent.train_freq, 1, kInf);
  reader.Get("gradient_steps", &agent.gradient_steps);
  reader.CheckRange("gradient_steps", agent.gradient_steps, 1, kInf);
  ReadActionNoise(reader, agent.action_noise);
  reader.Get("policy_delay", &agent.policy_delay);
  reader.CheckRange("policy_delay", agent.policy_delay, 1, kInf);
  reader.Get("target_policy_noise", &agent.target_policy_noise);
  reader.CheckRange("target_policy_noise", agent.target_policy_noise, 0, kInf);
  reader.Get("target_noise_clip", &agent.target_noise_clip);
  reader.CheckRange("target_noise_clip", agent.target_noise_clip, 0, kInf);

  // Keys accepted from SB3 configs for later features.
  reader.Get("seed", &agent.seed);
  if (agent.seed) reader.CheckRange("seed", static_cast<double>(*agent.seed), 0, kInf);
  reader.Ignore("policy_kwargs", "rlpipe builds its networks from the network: section");
  reader.Ignore("verbose", "rlpipe's console output does not depend on it");
  reader.Finish();
}

void ReadNetwork(const Tree* node, NetworkConfig& network, Algorithm algorithm, Policy policy) {
  MapReader reader(node, "network", "network settings");
  network = DefaultNetworkConfig(algorithm);
  CheckOwner(reader, "qf_layers", kOffPolicyBits, algorithm);
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

AgentConfig DefaultAgentConfig(Algorithm algorithm) {
  // One column of SB3's defaults per algorithm; PPO's are AgentConfig's in-class values.
  AgentConfig agent;
  agent.algorithm = algorithm;
  switch (algorithm) {
    case Algorithm::kPpo:
      break;
    case Algorithm::kA2c:
      agent.learning_rate = 7e-4;
      agent.n_steps = 5;
      agent.gae_lambda = 1.0;
      agent.ent_coef = 0.0;
      agent.vf_coef = 0.5;
      agent.max_grad_norm = 0.5;
      agent.use_rms_prop = true;
      agent.rms_prop_eps = 1e-5;
      agent.normalize_advantage = false;
      break;
    case Algorithm::kSac:
      agent.learning_rate = 3e-4;
      agent.batch_size = 256;
      agent.ent_coef = 1.0;
      agent.ent_coef_auto = true;
      break;
    case Algorithm::kTd3:
      agent.learning_rate = 1e-3;
      agent.batch_size = 256;
      break;
  }
  return agent;
}

NetworkConfig DefaultNetworkConfig(Algorithm algorithm) {
  // SB3's off-policy MlpPolicy: ReLU, [256, 256] for SAC and [400, 300] for TD3.
  NetworkConfig network;
  switch (algorithm) {
    case Algorithm::kPpo:
    case Algorithm::kA2c:
      break;
    case Algorithm::kSac:
      network.policy_layers = {256, 256};
      network.value_layers = {256, 256};
      network.activation = Activation::kRelu;
      break;
    case Algorithm::kTd3:
      network.policy_layers = {400, 300};
      network.value_layers = {400, 300};
      network.activation = Activation::kRelu;
      break;
  }
  network.qf_layers = network.value_layers;
  return network;
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
  ReadAgent(agent, config.agent);
  ReadNetwork(network, config.network, config.agent.algorithm, config.agent.policy);
  ReadTraining(training, config.training);
  // SB3's agent.seed is the session seed too; two different ones are an error.
  if (config.agent.seed) {
    if (config.training.seed && *config.training.seed != *config.agent.seed) {
      MapReader(agent, "agent")
          .Fail("seed", "expected the same value as training.seed (" +
                            std::to_string(*config.training.seed) + "), found " +
                            std::to_string(*config.agent.seed));
    }
    config.training.seed = config.agent.seed;
  }
  ReadPaths(paths, config.paths);
  ReadMonitoring(monitoring, config.monitoring);
  return config;
}

}  // namespace rlpipe::config
