#include "config/algorithms.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "config/read_helpers.h"
#include "core/error.h"

namespace rlpipe::config {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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

// An algorithm is its settings type's place in AlgorithmSettings.
template <typename Settings>
Algorithm AlgorithmOf() {
  return static_cast<Algorithm>(AlgorithmSettings(Settings{}).index());
}

// The family is the settings type's base.
template <typename Settings>
constexpr AlgorithmFamily FamilyOf() {
  return std::is_base_of_v<OnPolicyConfig, Settings> ? AlgorithmFamily::kOnPolicy
                                                     : AlgorithmFamily::kOffPolicy;
}

// What every algorithm reads (SB3's BaseAlgorithm), in the order errors are reported.
template <typename Settings>
void ReadBase(MapReader& reader, Settings& s) {
  // The policy name is case-sensitive, as in SB3; the multi-robot network is an actor-critic.
  std::string policy = ToString(s.policy);
  reader.Get("policy", &policy);
  reader.CheckChoice("policy", policy, {ToString(Policy::kMlp), ToString(Policy::kMultiRobot)});
  s.policy = policy == ToString(Policy::kMultiRobot) ? Policy::kMultiRobot : Policy::kMlp;
  if (s.policy == Policy::kMultiRobot && FamilyOf<Settings>() != AlgorithmFamily::kOnPolicy) {
    reader.Fail("policy", "MultiRobotPolicy trains with " +
                              AlgorithmNames(AlgorithmFamily::kOnPolicy, " and ") + ", not " +
                              ToString(AlgorithmOf<Settings>()) + " (use MlpPolicy)");
  }

  // Learning rate: a number or a linear schedule `lin_<initial>`.
  if (auto text = WordWithPrefix(reader, "learning_rate", "lin_")) {
    reader.Accept("learning_rate");
    s.learning_rate = NumberAfter(reader, "learning_rate", *text, "lin_", "lin_<x>");
    s.learning_rate_linear = true;
  } else {
    reader.Get("learning_rate", &s.learning_rate);
    reader.CheckRange("learning_rate", s.learning_rate, 0, kInf, /*lo_open=*/true);
  }
  reader.Get("gamma", &s.gamma);
  reader.CheckRange("gamma", s.gamma, 0, 1, /*lo_open=*/true);
  reader.Get("device", &s.device);
  s.device = Lower(s.device);
  if (s.device == "cuda") {
    // Accepted by SB3; rlpipe is built against Debian's CPU-only LibTorch.
    reader.Fail("device", "expected auto or cpu (rlpipe's LibTorch is CPU-only), found 'cuda'");
  }
  reader.CheckChoice("device", s.device, {"auto", "cpu"});
  reader.Get("seed", &s.seed);
  if (s.seed) reader.CheckRange("seed", static_cast<double>(*s.seed), 0, kInf);
  reader.Ignore("policy_kwargs", "rlpipe builds its networks from the network: section");
  reader.Ignore("verbose", "rlpipe's console output does not depend on it");
}

// The on-policy family (SB3's OnPolicyAlgorithm, and the Gaussian policy's keys).
template <typename Settings>
void ReadOnPolicy(MapReader& reader, Settings& s) {
  ReadBase(reader, s);
  reader.Get("n_steps", &s.n_steps);
  reader.CheckRange("n_steps", s.n_steps, 1, kInf);
  reader.Get("gae_lambda", &s.gae_lambda);
  reader.CheckRange("gae_lambda", s.gae_lambda, 0, 1);
  if (auto text = WordWithPrefix(reader, "ent_coef", "auto")) {
    reader.Accept("ent_coef");
    reader.Fail("ent_coef", "expected a number (auto is SAC only), found '" + *text + "'");
  }
  reader.Get("ent_coef", &s.ent_coef);
  reader.CheckRange("ent_coef", s.ent_coef, 0, kInf);
  reader.Get("vf_coef", &s.vf_coef);
  reader.CheckRange("vf_coef", s.vf_coef, 0, kInf);
  reader.Get("max_grad_norm", &s.max_grad_norm);
  reader.CheckRange("max_grad_norm", s.max_grad_norm, 0, kInf, /*lo_open=*/true);
  reader.Get("normalize_advantage", &s.normalize_advantage);
  reader.Get("log_std_init", &s.log_std_init);
  reader.CheckRange("log_std_init", s.log_std_init, -kInf, kInf);
  reader.Get("use_sde", &s.use_sde);
  reader.Get("sde_sample_freq", &s.sde_sample_freq);
  if (s.sde_sample_freq == 0 || s.sde_sample_freq < -1) {
    reader.Fail("sde_sample_freq",
                "expected -1 (new noise each rollout) or a number of steps >= 1, found " +
                    std::to_string(s.sde_sample_freq));
  }
  // MultiRobotPolicy has a per-action-type log_std.
  if (s.policy == Policy::kMultiRobot && s.use_sde) {
    reader.Fail("use_sde", "gSDE works with MlpPolicy here, not MultiRobotPolicy");
  }
}

AlgorithmSettings ReadPpo(MapReader& reader) {
  PpoConfig s;
  ReadOnPolicy(reader, s);
  reader.Get("batch_size", &s.batch_size);
  reader.CheckRange("batch_size", s.batch_size, 1, kInf);
  reader.Get("n_epochs", &s.n_epochs);
  reader.CheckRange("n_epochs", s.n_epochs, 1, kInf);
  reader.Get("clip_range", &s.clip_range);
  reader.CheckRange("clip_range", s.clip_range, 0, kInf, /*lo_open=*/true);
  reader.Get("clip_range_vf", &s.clip_range_vf);
  if (s.clip_range_vf) reader.CheckRange("clip_range_vf", *s.clip_range_vf, 0, kInf, true);
  reader.Get("target_kl", &s.target_kl);
  if (s.target_kl) reader.CheckRange("target_kl", *s.target_kl, 0, kInf, true);
  return s;
}

AlgorithmSettings ReadA2c(MapReader& reader) {
  A2cConfig s;
  ReadOnPolicy(reader, s);
  reader.Get("use_rms_prop", &s.use_rms_prop);
  reader.Get("rms_prop_eps", &s.rms_prop_eps);
  reader.CheckRange("rms_prop_eps", s.rms_prop_eps, 0, kInf, /*lo_open=*/true);
  return s;
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

// The off-policy family (SB3's OffPolicyAlgorithm): replay, cadence, targets, exploration.
template <typename Settings>
void ReadOffPolicy(MapReader& reader, Settings& s) {
  ReadBase(reader, s);
  reader.Get("buffer_size", &s.buffer_size);
  reader.CheckRange("buffer_size", static_cast<double>(s.buffer_size), 1, kInf);
  reader.Get("learning_starts", &s.learning_starts);
  reader.CheckRange("learning_starts", static_cast<double>(s.learning_starts), 0, kInf);
  reader.Get("batch_size", &s.batch_size);
  reader.CheckRange("batch_size", s.batch_size, 1, kInf);
  reader.Get("tau", &s.tau);
  reader.CheckRange("tau", s.tau, 0, 1, /*lo_open=*/true);
  reader.Get("train_freq", &s.train_freq);
  reader.CheckRange("train_freq", s.train_freq, 1, kInf);
  reader.Get("gradient_steps", &s.gradient_steps);
  reader.CheckRange("gradient_steps", s.gradient_steps, 1, kInf);
  ReadActionNoise(reader, s.action_noise);
}

AlgorithmSettings ReadSac(MapReader& reader) {
  SacConfig s;
  ReadOffPolicy(reader, s);
  // Entropy coefficient: `auto` / `auto_<initial>` for automatic tuning, or a fixed number.
  if (auto text = WordWithPrefix(reader, "ent_coef", "auto")) {
    reader.Accept("ent_coef");
    s.ent_coef_auto = true;
    s.ent_coef = *text == "auto"
                     ? 1.0
                     : NumberAfter(reader, "ent_coef", *text, "auto_", "auto or auto_<initial>");
  } else if (reader.node() != nullptr && reader.node()->Find("ent_coef") != nullptr) {
    reader.Get("ent_coef", &s.ent_coef);
    reader.CheckRange("ent_coef", s.ent_coef, 0, kInf);
    s.ent_coef_auto = false;
  } else {
    reader.Accept("ent_coef");
  }
  if (WordWithPrefix(reader, "target_entropy", "auto") == "auto") {
    reader.Accept("target_entropy");
    s.target_entropy.reset();
  } else {
    reader.Get("target_entropy", &s.target_entropy);
  }
  return s;
}

AlgorithmSettings ReadTd3(MapReader& reader) {
  Td3Config s;
  ReadOffPolicy(reader, s);
  reader.Get("policy_delay", &s.policy_delay);
  reader.CheckRange("policy_delay", s.policy_delay, 1, kInf);
  reader.Get("target_policy_noise", &s.target_policy_noise);
  reader.CheckRange("target_policy_noise", s.target_policy_noise, 0, kInf);
  reader.Get("target_noise_clip", &s.target_noise_clip);
  reader.CheckRange("target_noise_clip", s.target_noise_clip, 0, kInf);
  return s;
}

// SB3's network defaults: tanh [64, 64] on-policy; ReLU [256, 256] SAC, [400, 300] TD3.
NetworkConfig OffPolicyNetwork(std::vector<int> layers) {
  NetworkConfig network;
  network.policy_layers = layers;
  network.value_layers = layers;
  network.qf_layers = layers;
  network.activation = Activation::kRelu;
  return network;
}

// One row: the algorithm is the settings type's place in AlgorithmSettings, the family its base.
template <typename Settings>
AlgorithmInfo Row(std::string name, AlgorithmSettings (*read)(MapReader&), NetworkConfig network,
                  std::string sb3_module, std::string sb3_class) {
  AlgorithmInfo row;
  row.algorithm = AlgorithmOf<Settings>();
  row.name = std::move(name);
  row.family = FamilyOf<Settings>();
  row.read = read;
  row.default_network = std::move(network);
  row.sb3_policy_module = std::move(sb3_module);
  row.sb3_policy_class = std::move(sb3_class);
  return row;
}

// Text that reads back as exactly `value`.
std::string NumberText(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

Tree Map() {
  Tree map;
  map.kind = Tree::Kind::kMap;
  return map;
}

Tree Null() { return Tree(); }

// Writers: every key each reader reads, so that reading the tree back gives the same settings.
void Put(Tree& map, const std::string& key, double value) {
  map.Set(key, Tree::Scalar(NumberText(value)));
}
void Put(Tree& map, const std::string& key, int64_t value) {
  map.Set(key, Tree::Scalar(std::to_string(value)));
}
void Put(Tree& map, const std::string& key, int value) {
  Put(map, key, static_cast<int64_t>(value));
}
void Put(Tree& map, const std::string& key, bool value) {
  map.Set(key, Tree::Scalar(value ? "true" : "false"));
}
template <typename T>
void Put(Tree& map, const std::string& key, const std::optional<T>& value) {
  if (value) {
    Put(map, key, *value);
  } else {
    map.Set(key, Null());
  }
}

void WriteBase(Tree& map, const BaseAlgorithmConfig& s) {
  map.Set("policy", Tree::Scalar(ToString(s.policy)));
  map.Set("learning_rate",
          Tree::Scalar((s.learning_rate_linear ? "lin_" : "") + NumberText(s.learning_rate)));
  Put(map, "gamma", s.gamma);
  map.Set("device", Tree::Scalar(s.device));
  Put(map, "seed", s.seed);
}

void WriteOnPolicy(Tree& map, const OnPolicyConfig& s) {
  WriteBase(map, s);
  Put(map, "n_steps", s.n_steps);
  Put(map, "gae_lambda", s.gae_lambda);
  Put(map, "ent_coef", s.ent_coef);
  Put(map, "vf_coef", s.vf_coef);
  Put(map, "max_grad_norm", s.max_grad_norm);
  Put(map, "normalize_advantage", s.normalize_advantage);
  Put(map, "log_std_init", s.log_std_init);
  Put(map, "use_sde", s.use_sde);
  Put(map, "sde_sample_freq", s.sde_sample_freq);
}

void WriteOffPolicy(Tree& map, const OffPolicyConfig& s) {
  WriteBase(map, s);
  Put(map, "buffer_size", s.buffer_size);
  Put(map, "learning_starts", s.learning_starts);
  Put(map, "batch_size", s.batch_size);
  Put(map, "tau", s.tau);
  Put(map, "train_freq", s.train_freq);
  Put(map, "gradient_steps", s.gradient_steps);
  if (s.action_noise.type == ActionNoiseType::kNone) {
    map.Set("action_noise", Null());
  } else {
    Tree noise = Map();
    noise.Set("type", Tree::Scalar(ToString(s.action_noise.type)));
    Put(noise, "sigma", s.action_noise.sigma);
    map.Set("action_noise", std::move(noise));
  }
}

void Write(Tree& map, const PpoConfig& s) {
  WriteOnPolicy(map, s);
  Put(map, "batch_size", s.batch_size);
  Put(map, "n_epochs", s.n_epochs);
  Put(map, "clip_range", s.clip_range);
  Put(map, "clip_range_vf", s.clip_range_vf);
  Put(map, "target_kl", s.target_kl);
}

void Write(Tree& map, const A2cConfig& s) {
  WriteOnPolicy(map, s);
  Put(map, "use_rms_prop", s.use_rms_prop);
  Put(map, "rms_prop_eps", s.rms_prop_eps);
}

void Write(Tree& map, const SacConfig& s) {
  WriteOffPolicy(map, s);
  map.Set("ent_coef", Tree::Scalar(s.ent_coef_auto ? "auto_" + NumberText(s.ent_coef)
                                                   : NumberText(s.ent_coef)));
  if (s.target_entropy) {
    Put(map, "target_entropy", *s.target_entropy);
  } else {
    map.Set("target_entropy", Tree::Scalar("auto"));
  }
}

void Write(Tree& map, const Td3Config& s) {
  WriteOffPolicy(map, s);
  Put(map, "policy_delay", s.policy_delay);
  Put(map, "target_policy_noise", s.target_policy_noise);
  Put(map, "target_noise_clip", s.target_noise_clip);
}

}  // namespace

const std::vector<AlgorithmInfo>& Algorithms() {
  // The registry: one row per algorithm, in the order of `Algorithm` / AlgorithmSettings.
  static const std::vector<AlgorithmInfo> rows = {
      Row<PpoConfig>("PPO", ReadPpo, NetworkConfig{}, "stable_baselines3.common.policies",
                     "ActorCriticPolicy"),
      Row<A2cConfig>("A2C", ReadA2c, NetworkConfig{}, "stable_baselines3.common.policies",
                     "ActorCriticPolicy"),
      Row<SacConfig>("SAC", ReadSac, OffPolicyNetwork({256, 256}), "stable_baselines3.sac.policies",
                     "SACPolicy"),
      Row<Td3Config>("TD3", ReadTd3, OffPolicyNetwork({400, 300}), "stable_baselines3.td3.policies",
                     "TD3Policy"),
  };
  return rows;
}

const AlgorithmInfo& InfoOf(Algorithm algorithm) {
  const auto& rows = Algorithms();
  const auto index = static_cast<size_t>(algorithm);
  if (index >= rows.size() || rows[index].algorithm != algorithm) {
    throw ConfigError("agent.algorithm: no registered algorithm with index " +
                      std::to_string(index));
  }
  return rows[index];
}

std::string ToString(Algorithm a) {
  const auto index = static_cast<size_t>(a);
  return index < Algorithms().size() ? Algorithms()[index].name : "unknown";
}

std::string ToString(AlgorithmFamily f) {
  return f == AlgorithmFamily::kOnPolicy ? "on-policy" : "off-policy";
}

std::string AlgorithmNames(AlgorithmFamily family, const std::string& last_separator) {
  std::vector<std::string> names;
  for (const AlgorithmInfo& row : Algorithms()) {
    if (row.family == family) names.push_back(row.name);
  }
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? last_separator : ", ";
    text += names[i];
  }
  return text;
}

std::vector<std::string> AgentKeysOf(Algorithm algorithm) {
  // The reader on an empty section asks for every key it knows and keeps every default.
  MapReader reader(nullptr, "agent");
  reader.Accept("algorithm");
  InfoOf(algorithm).read(reader);
  std::vector<std::string> keys = reader.known_keys();
  std::sort(keys.begin(), keys.end());
  return keys;
}

AgentConfig DefaultAgentConfig(Algorithm algorithm) {
  MapReader reader(nullptr, "agent");
  return AgentConfig{InfoOf(algorithm).read(reader)};
}

AgentConfig ReadAgentConfig(const Tree* node) {
  MapReader reader(node, "agent", "agent settings");

  // The algorithm first: its reader and its defaults apply to every key.
  std::vector<std::pair<std::string, Algorithm>> choices;
  for (const AlgorithmInfo& row : Algorithms()) choices.emplace_back(row.name, row.algorithm);
  const Algorithm algorithm = ReadChoice<Algorithm>(reader, "algorithm", Algorithm::kPpo, choices);

  // A key of another algorithm is an error naming the ones it belongs to.
  if (reader.node() != nullptr) {
    const std::vector<std::string> own = AgentKeysOf(algorithm);
    for (const auto& [key, value] : reader.node()->entries) {
      if (std::binary_search(own.begin(), own.end(), key)) continue;
      std::string owners;
      for (const AlgorithmInfo& row : Algorithms()) {
        const std::vector<std::string> keys = AgentKeysOf(row.algorithm);
        if (std::binary_search(keys.begin(), keys.end(), key)) {
          owners += (owners.empty() ? "" : ", ") + row.name;
        }
      }
      if (!owners.empty()) {
        reader.Fail(key,
                    "not a setting of " + ToString(algorithm) + " (it belongs to " + owners + ")");
      }
    }
  }
  AgentConfig agent{InfoOf(algorithm).read(reader)};
  reader.Finish();
  return agent;
}

Tree AgentConfigToTree(const AgentConfig& agent) {
  Tree map = Map();
  map.Set("algorithm", Tree::Scalar(ToString(agent.algorithm())));
  std::visit([&map](const auto& s) { Write(map, s); }, agent.settings);
  return map;
}

}  // namespace rlpipe::config
