#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "checkpoint/model_data.h"
#include "checkpoint/sb3_pickle.h"
#include "checkpoint/torch_pickle_reader.h"
#include "config/algorithms.h"
#include "core/error.h"

namespace rlpipe::checkpoint {
namespace {

using config::Algorithm;
using nlohmann::json;

// An integer member as T. A float or a value outside T's range is an IoError naming `origin` and
// `key` (converting it would be undefined behaviour; our writers and SB3 write integers).
template <typename T>
T IntegerFromJson(const json& value, const std::string& key, const std::string& origin) {
  if (value.is_number_unsigned() && std::in_range<T>(value.get<uint64_t>())) {
    return static_cast<T>(value.get<uint64_t>());
  }
  if (value.is_number_integer() && !value.is_number_unsigned() &&
      std::in_range<T>(value.get<int64_t>())) {
    return static_cast<T>(value.get<int64_t>());
  }
  throw IoError(origin + ": expected `" + key + "` to be an integer in [" +
                std::to_string(std::numeric_limits<T>::min()) + ", " +
                std::to_string(std::numeric_limits<T>::max()) + "], found " + value.dump());
}

// A list of ints (layer sizes), each checked as IntegerFromJson does.
std::vector<int> IntListFromJson(const json& value, const std::string& key,
                                 const std::string& origin) {
  if (!value.is_array()) {
    throw IoError(origin + ": expected `" + key + "` to be a list of integers, found " +
                  value.dump());
  }
  std::vector<int> out;
  for (const json& item : value) out.push_back(IntegerFromJson<int>(item, key, origin));
  return out;
}

// Enum ↔ name through config's algorithm registry, so the names live in one place.
Algorithm AlgorithmFromName(const std::string& name, const std::string& origin) {
  std::string names;
  for (const config::AlgorithmInfo& row : config::Algorithms()) {
    if (row.name == name) return row.algorithm;
    names += (names.empty() ? "" : ", ") + row.name;
  }
  throw IoError(origin + ": expected an algorithm name (" + names + "), found '" + name + "'");
}

config::Policy PolicyFromName(const std::string& name, const std::string& origin) {
  for (auto p : {config::Policy::kMlp, config::Policy::kMultiRobot}) {
    if (config::ToString(p) == name) return p;
  }
  throw IoError(origin +
                ": expected a policy name (MlpPolicy, MultiRobotPolicy) in `data`, found '" + name +
                "'");
}

config::Activation ActivationFromName(const std::string& name, const std::string& origin) {
  for (auto a : {config::Activation::kTanh, config::Activation::kRelu, config::Activation::kElu,
                 config::Activation::kLeakyRelu, config::Activation::kSigmoid}) {
    if (config::ToString(a) == name) return a;
  }
  throw IoError(origin + ": expected an activation name, found '" + name + "'");
}

// torch.nn's class for an activation (SB3 stores the class in policy_kwargs.activation_fn).
std::string TorchActivationClass(config::Activation activation) {
  switch (activation) {
    case config::Activation::kTanh:
      return "Tanh";
    case config::Activation::kRelu:
      return "ReLU";
    case config::Activation::kElu:
      return "ELU";
    case config::Activation::kLeakyRelu:
      return "LeakyReLU";
    case config::Activation::kSigmoid:
      return "Sigmoid";
  }
  return "Tanh";
}

// SB3's serialized entry: the type string it would print, and the base64 pickle.
json Serialized(const std::string& type, const std::string& pickle) {
  return json{{":type:", type}, {":serialized:", Base64Encode(pickle)}};
}

void PickleIntList(PickleWriter& pickle, const std::vector<int>& values) {
  pickle.Mark();
  for (const int v : values) pickle.Int(v);
  pickle.List();
}

// policy_kwargs: net_arch and activation_fn always; log_std_init for the on-policy family;
// RMSprop for algorithms that use it (A2C).
std::string PolicyKwargsPickle(const ModelData& d) {
  const config::OnPolicyConfig* on_policy = d.agent.on_policy();
  PickleWriter pickle;
  pickle.Mark();
  pickle.String("net_arch").Mark().String("pi");
  PickleIntList(pickle, d.network.policy_layers);
  pickle.String(on_policy ? "vf" : "qf");
  PickleIntList(pickle, on_policy ? d.network.value_layers : d.network.qf_layers);
  pickle.Dict();
  pickle.String("activation_fn")
      .Global("torch.nn.modules.activation", TorchActivationClass(d.network.activation));
  if (on_policy != nullptr) pickle.String("log_std_init").Float(on_policy->log_std_init);
  if (d.agent.common().policy == config::Policy::kMultiRobot) {
    // The attention sizes only rlpipe's MultiRobotPolicy takes.
    pickle.String("embed_dim").Int(d.network.embed_dim);
    pickle.String("attention_heads").Int(d.network.attention_heads);
    pickle.String("attention_layers").Int(d.network.attention_layers);
  }
  std::visit(
      [&pickle](const auto& s) {
        if constexpr (requires { s.use_rms_prop; }) {
          if (!s.use_rms_prop) return;
          // What SB3's A2C puts there itself: RMSprop(alpha=0.99, eps=rms_prop_eps,
          // weight_decay=0).
          pickle.String("optimizer_class").Global("torch.optim.rmsprop", "RMSprop");
          pickle.String("optimizer_kwargs").Mark();
          pickle.String("alpha").Float(0.99).String("eps").Float(s.rms_prop_eps);
          pickle.String("weight_decay").Int(0).Dict();
        }
      },
      d.agent.settings);
  pickle.Dict();
  return pickle.Finish();
}

}  // namespace

std::pair<std::string, std::string> Sb3PolicyClass(Algorithm algorithm, config::Policy policy) {
  // rlpipe's own network is no SB3 class: its marker makes SB3 refuse the file instead of
  // building an MLP the weights do not fit.
  if (policy == config::Policy::kMultiRobot) return {kRlpipePolicyModule, "MultiRobotPolicy"};
  const config::AlgorithmInfo& info = config::InfoOf(algorithm);
  return {info.sb3_policy_module, info.sb3_policy_class};
}

std::string Sb3DataJson(const ModelData& d) {
  const config::BaseAlgorithmConfig& a = d.agent.common();
  const config::OnPolicyConfig* on_policy = d.agent.on_policy();
  const auto [module, name] = Sb3PolicyClass(d.agent.algorithm(), a.policy);

  // What every algorithm stores: classes and spaces as pickles, counters as numbers.
  json j = {
      {"policy_class", Serialized("<class 'abc.ABCMeta'>", ClassPickle(module, name))},
      {"observation_space",
       Serialized("<class 'gymnasium.spaces.box.Box'>", BoxPickle(d.obs_low, d.obs_high))},
      {"action_space",
       Serialized("<class 'gymnasium.spaces.box.Box'>", BoxPickle(d.act_low, d.act_high))},
      {"policy_kwargs", Serialized("<class 'dict'>", PolicyKwargsPickle(d))},
      {"verbose", 0},
      {"n_envs", d.n_envs},
      {"num_timesteps", d.num_timesteps},
      {"_total_timesteps", d.num_timesteps},
      {"_episode_num", d.episodes},
      {"seed", d.seed & 0xffffffffu},  // numpy seeds stop at 2^32; the full one is in ours
      {"learning_rate", a.learning_rate},
      {"gamma", a.gamma},
      {"use_sde", on_policy != nullptr && on_policy->use_sde},
      {"sde_sample_freq", on_policy != nullptr ? on_policy->sde_sample_freq : -1},
  };

  // Each family's and algorithm's own hyper-parameters, under SB3's attribute names: whatever
  // fields the settings struct has.
  std::visit(
      [&j, &d](const auto& s) {
        using Settings = std::decay_t<decltype(s)>;
        if constexpr (std::is_base_of_v<config::OnPolicyConfig, Settings>) {
          j["n_steps"] = s.n_steps;
          j["gae_lambda"] = s.gae_lambda;
          j["ent_coef"] = s.ent_coef;
          j["vf_coef"] = s.vf_coef;
          j["max_grad_norm"] = s.max_grad_norm;
          j["normalize_advantage"] = s.normalize_advantage;
        }
        if constexpr (std::is_base_of_v<config::OffPolicyConfig, Settings>) {
          j["buffer_size"] = s.buffer_size;
          j["learning_starts"] = s.learning_starts;
          j["tau"] = s.tau;
          j["train_freq"] = s.train_freq;  // a plain int: SB3 turns it into (n, "step")
          j["gradient_steps"] = s.gradient_steps;
          j["action_noise"] = nullptr;
        }
        if constexpr (requires { s.batch_size; }) j["batch_size"] = s.batch_size;
        if constexpr (requires { s.n_epochs; }) j["n_epochs"] = s.n_epochs;
        if constexpr (requires { s.clip_range; }) j["clip_range"] = s.clip_range;
        if constexpr (requires { s.clip_range_vf; }) {
          j["clip_range_vf"] = s.clip_range_vf ? json(*s.clip_range_vf) : json(nullptr);
        }
        if constexpr (requires { s.target_kl; }) {
          j["target_kl"] = s.target_kl ? json(*s.target_kl) : json(nullptr);
        }
        if constexpr (requires { s.ent_coef_auto; }) {
          j["ent_coef"] =
              s.ent_coef_auto ? json("auto_" + std::to_string(s.ent_coef)) : json(s.ent_coef);
        }
        if constexpr (requires { s.target_entropy; }) {
          j["target_entropy"] =
              s.target_entropy ? *s.target_entropy : -static_cast<double>(d.act_dim);
          j["target_update_interval"] = 1;
        }
        if constexpr (requires { s.policy_delay; }) j["policy_delay"] = s.policy_delay;
        if constexpr (requires { s.target_policy_noise; }) {
          j["target_policy_noise"] = s.target_policy_noise;
        }
        if constexpr (requires { s.target_noise_clip; }) {
          j["target_noise_clip"] = s.target_noise_clip;
        }
      },
      d.agent.settings);
  return j.dump(4);
}

namespace {

// Box bounds as JSON: finite values as numbers, infinities as "inf" / "-inf" (JSON has no
// infinity; nlohmann would write null, which no reader can tell from -inf or +inf).
json BoundsJson(const std::vector<float>& values) {
  json out = json::array();
  for (float v : values) {
    if (std::isinf(v)) {
      out.push_back(v > 0 ? "inf" : "-inf");
    } else {
      out.push_back(v);
    }
  }
  return out;
}

// Inverse of BoundsJson; null (written before the fix) is -inf for a low and +inf for a high.
std::vector<float> BoundsFromJson(const json& values, bool high) {
  std::vector<float> out;
  for (const json& v : values) {
    if (v.is_null()) {
      out.push_back(high ? std::numeric_limits<float>::infinity()
                         : -std::numeric_limits<float>::infinity());
    } else if (v.is_string()) {
      const std::string text = v.get<std::string>();
      if (text != "inf" && text != "-inf") {
        throw json::other_error::create(
            501, "expected a number, \"inf\" or \"-inf\", found \"" + text + "\"", &v);
      }
      out.push_back(text == "inf" ? std::numeric_limits<float>::infinity()
                                  : -std::numeric_limits<float>::infinity());
    } else {
      out.push_back(v.get<float>());
    }
  }
  return out;
}

// rlpipe_model.json's `agent` keys: they predate the per-algorithm settings, so every model
// writes all of them, with PPO's defaults for those its algorithm does not have (archives stay
// byte-identical to those written before).
json LegacyAgentJson(const config::AgentConfig& agent) {
  config::PpoConfig flat;
  std::visit(
      [&flat](const auto& s) {
        static_cast<config::BaseAlgorithmConfig&>(flat) = s;
        if constexpr (requires { s.n_steps; }) flat.n_steps = s.n_steps;
        if constexpr (requires { s.gae_lambda; }) flat.gae_lambda = s.gae_lambda;
        if constexpr (requires { s.clip_range; }) flat.clip_range = s.clip_range;
        if constexpr (requires { s.ent_coef; }) flat.ent_coef = s.ent_coef;
        if constexpr (requires { s.vf_coef; }) flat.vf_coef = s.vf_coef;
        if constexpr (requires { s.max_grad_norm; }) flat.max_grad_norm = s.max_grad_norm;
        if constexpr (requires { s.batch_size; }) flat.batch_size = s.batch_size;
        if constexpr (requires { s.n_epochs; }) flat.n_epochs = s.n_epochs;
        if constexpr (requires { s.normalize_advantage; }) {
          flat.normalize_advantage = s.normalize_advantage;
        }
        if constexpr (requires { s.log_std_init; }) flat.log_std_init = s.log_std_init;
        if constexpr (requires { s.use_sde; }) flat.use_sde = s.use_sde;
      },
      agent.settings);
  json j = {{"learning_rate", flat.learning_rate},
            {"n_steps", flat.n_steps},
            {"gamma", flat.gamma},
            {"gae_lambda", flat.gae_lambda},
            {"clip_range", flat.clip_range},
            {"ent_coef", flat.ent_coef},
            {"vf_coef", flat.vf_coef},
            {"max_grad_norm", flat.max_grad_norm},
            {"batch_size", flat.batch_size},
            {"n_epochs", flat.n_epochs},
            {"normalize_advantage", flat.normalize_advantage},
            {"log_std_init", flat.log_std_init}};
  if (flat.use_sde) j["use_sde"] = true;  // only when on: MlpPolicy archives stay as before
  return j;
}

}  // namespace

std::string ModelJson(const ModelData& d) {
  const config::BaseAlgorithmConfig& a = d.agent.common();
  json j = {
      {"algorithm", config::ToString(d.agent.algorithm())},
      {"policy", config::ToString(a.policy)},
      {"obs_dim", d.obs_dim},
      {"act_dim", d.act_dim},
      {"observation_space", {{"low", BoundsJson(d.obs_low)}, {"high", BoundsJson(d.obs_high)}}},
      {"action_space", {{"low", BoundsJson(d.act_low)}, {"high", BoundsJson(d.act_high)}}},
      {"num_timesteps", d.num_timesteps},
      {"episodes", d.episodes},
      {"n_envs", d.n_envs},
      {"seed", d.seed},
      {"agent", LegacyAgentJson(d.agent)},
      {"network",
       {{"policy_layers", d.network.policy_layers},
        {"value_layers", d.network.value_layers},
        {"qf_layers", d.network.qf_layers},
        {"activation", config::ToString(d.network.activation)}}},
  };
  if (a.policy == config::Policy::kMultiRobot) {
    j["network"]["embed_dim"] = d.network.embed_dim;
    j["network"]["attention_heads"] = d.network.attention_heads;
    j["network"]["attention_layers"] = d.network.attention_layers;
  }
  return j.dump(2);
}

ModelData ParseModelJson(const std::string& text, const std::string& origin) {
  try {
    const json j = json::parse(text);
    ModelData d;
    d.agent =
        config::DefaultAgentConfig(AlgorithmFromName(j.at("algorithm").get<std::string>(), origin));
    d.agent.common().policy = PolicyFromName(j.at("policy").get<std::string>(), origin);
    d.obs_dim = IntegerFromJson<int>(j.at("obs_dim"), "obs_dim", origin);
    d.act_dim = IntegerFromJson<int>(j.at("act_dim"), "act_dim", origin);
    d.obs_low = BoundsFromJson(j.at("observation_space").at("low"), false);
    d.obs_high = BoundsFromJson(j.at("observation_space").at("high"), true);
    d.act_low = BoundsFromJson(j.at("action_space").at("low"), false);
    d.act_high = BoundsFromJson(j.at("action_space").at("high"), true);
    d.num_timesteps = IntegerFromJson<int64_t>(j.at("num_timesteps"), "num_timesteps", origin);
    d.episodes = IntegerFromJson<int64_t>(j.at("episodes"), "episodes", origin);
    d.n_envs = IntegerFromJson<int>(j.at("n_envs"), "n_envs", origin);
    d.seed = IntegerFromJson<uint64_t>(j.at("seed"), "seed", origin);
    // The legacy `agent` keys: all are required and type-checked; each goes to the algorithm's
    // field of that name where it has one.
    const json& a = j.at("agent");
    config::PpoConfig flat;
    flat.learning_rate = a.at("learning_rate").get<double>();
    flat.n_steps = IntegerFromJson<int>(a.at("n_steps"), "agent.n_steps", origin);
    flat.gamma = a.at("gamma").get<double>();
    flat.gae_lambda = a.at("gae_lambda").get<double>();
    flat.clip_range = a.at("clip_range").get<double>();
    flat.ent_coef = a.at("ent_coef").get<double>();
    flat.vf_coef = a.at("vf_coef").get<double>();
    flat.max_grad_norm = a.at("max_grad_norm").get<double>();
    flat.batch_size = IntegerFromJson<int>(a.at("batch_size"), "agent.batch_size", origin);
    flat.n_epochs = IntegerFromJson<int>(a.at("n_epochs"), "agent.n_epochs", origin);
    flat.normalize_advantage = a.at("normalize_advantage").get<bool>();
    flat.log_std_init = a.at("log_std_init").get<double>();
    flat.use_sde = a.value("use_sde", false);
    std::visit(
        [&flat](auto& s) {
          s.learning_rate = flat.learning_rate;
          s.gamma = flat.gamma;
          if constexpr (requires { s.n_steps; }) s.n_steps = flat.n_steps;
          if constexpr (requires { s.gae_lambda; }) s.gae_lambda = flat.gae_lambda;
          if constexpr (requires { s.clip_range; }) s.clip_range = flat.clip_range;
          if constexpr (requires { s.ent_coef; }) s.ent_coef = flat.ent_coef;
          if constexpr (requires { s.vf_coef; }) s.vf_coef = flat.vf_coef;
          if constexpr (requires { s.max_grad_norm; }) s.max_grad_norm = flat.max_grad_norm;
          if constexpr (requires { s.batch_size; }) s.batch_size = flat.batch_size;
          if constexpr (requires { s.n_epochs; }) s.n_epochs = flat.n_epochs;
          if constexpr (requires { s.normalize_advantage; }) {
            s.normalize_advantage = flat.normalize_advantage;
          }
          if constexpr (requires { s.log_std_init; }) s.log_std_init = flat.log_std_init;
          if constexpr (requires { s.use_sde; }) s.use_sde = flat.use_sde;
        },
        d.agent.settings);
    const json& n = j.at("network");
    d.network.policy_layers =
        IntListFromJson(n.at("policy_layers"), "network.policy_layers", origin);
    d.network.value_layers = IntListFromJson(n.at("value_layers"), "network.value_layers", origin);
    d.network.qf_layers = IntListFromJson(n.at("qf_layers"), "network.qf_layers", origin);
    d.network.activation = ActivationFromName(n.at("activation").get<std::string>(), origin);
    for (const auto& [key, out] : {std::pair{"embed_dim", &d.network.embed_dim},
                                   std::pair{"attention_heads", &d.network.attention_heads},
                                   std::pair{"attention_layers", &d.network.attention_layers}}) {
      if (n.contains(key)) {
        *out = IntegerFromJson<int>(n.at(key), "network." + std::string(key), origin);
      }
    }
    return d;
  } catch (const json::exception& e) {
    throw IoError(origin + ": expected a valid rlpipe_model.json member, found: " + e.what());
  }
}

ModelData ParseSb3Data(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw IoError(origin + ": expected the `data` member to be JSON, found: " + e.what());
  }
  if (!j.is_object()) throw IoError(origin + ": expected the `data` member to be a JSON object");

  // The policy class: a pickled class reference (the one serialized entry we read).
  std::string policy_class;
  const json* entry = j.contains("policy_class") ? &j["policy_class"] : nullptr;
  std::string pickle;
  if (entry == nullptr || !entry->is_object() || !entry->contains(":serialized:") ||
      !(*entry)[":serialized:"].is_string() ||
      !Base64Decode((*entry)[":serialized:"].get<std::string>(), pickle)) {
    throw IoError(origin + ": expected `policy_class` in `data` as SB3's serialized entry");
  }
  const PyRef cls = ReadPickle(pickle, origin + " (data.policy_class)");
  if (cls->kind == PyValue::Kind::kGlobal) policy_class = cls->text;

  // The algorithm: the registered ones whose policy class this is (rlpipe's MultiRobotPolicy:
  // the on-policy family's), then among those sharing a class (PPO and A2C) the one whose
  // `agent:` keys cover every such key `data` holds, the one with the fewest keys first (PPO's
  // data holds clip_range, which A2C does not have).
  const std::string multi_robot_class = std::string(kRlpipePolicyModule) + ".MultiRobotPolicy";
  const config::Policy policy =
      policy_class == multi_robot_class ? config::Policy::kMultiRobot : config::Policy::kMlp;
  std::vector<Algorithm> candidates;
  std::string names;
  for (const config::AlgorithmInfo& row : config::Algorithms()) {
    const std::string sb3_class = row.sb3_policy_module + "." + row.sb3_policy_class;
    names += (names.empty() ? "" : ", ") + row.name;
    const bool multi_robot =
        policy == config::Policy::kMultiRobot && row.family == config::AlgorithmFamily::kOnPolicy;
    if (sb3_class == policy_class || multi_robot) candidates.push_back(row.algorithm);
  }
  if (candidates.empty()) {
    throw IoError(origin + ": expected an SB3 MlpPolicy of " + names +
                  " (or rlpipe's MultiRobotPolicy), found policy class '" +
                  (policy_class.empty() ? cls->KindName() : policy_class) + "'");
  }
  std::vector<std::string> candidate_keys;  // keys some candidate reads
  for (const Algorithm a : candidates) {
    for (const std::string& key : config::AgentKeysOf(a)) candidate_keys.push_back(key);
  }
  std::optional<Algorithm> algorithm;
  size_t fewest = std::numeric_limits<size_t>::max();
  for (const Algorithm a : candidates) {
    const std::vector<std::string> keys = config::AgentKeysOf(a);
    const bool covers = std::all_of(j.items().begin(), j.items().end(), [&](const auto& item) {
      const bool candidate_key = std::find(candidate_keys.begin(), candidate_keys.end(),
                                           item.key()) != candidate_keys.end();
      return !candidate_key || std::binary_search(keys.begin(), keys.end(), item.key());
    });
    if (covers && keys.size() < fewest) {
      algorithm = a;
      fewest = keys.size();
    }
  }
  ModelData d;
  d.agent = config::DefaultAgentConfig(algorithm.value_or(candidates.front()));
  d.agent.common().policy = policy;
  d.network = config::DefaultNetworkConfig(d.agent.algorithm());

  // Plain numbers only; anything serialized (schedules are pickled closures) is skipped.
  auto number = [&](const char* key, auto& out) {
    using T = std::decay_t<decltype(out)>;
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return;
    if constexpr (std::is_integral_v<T>) {
      out = IntegerFromJson<T>(*it, key, origin);
    } else {
      out = it->get<T>();
    }
  };
  number("num_timesteps", d.num_timesteps);
  number("_episode_num", d.episodes);
  number("n_envs", d.n_envs);
  number("seed", d.seed);
  // Each hyper-parameter into the algorithm's field of that name where it has one.
  std::visit(
      [&number](auto& s) {
        number("learning_rate", s.learning_rate);
        number("gamma", s.gamma);
        if constexpr (requires { s.n_steps; }) number("n_steps", s.n_steps);
        if constexpr (requires { s.gae_lambda; }) number("gae_lambda", s.gae_lambda);
        if constexpr (requires { s.clip_range; }) number("clip_range", s.clip_range);
        if constexpr (requires { s.vf_coef; }) number("vf_coef", s.vf_coef);
        if constexpr (requires { s.max_grad_norm; }) number("max_grad_norm", s.max_grad_norm);
        if constexpr (requires { s.batch_size; }) number("batch_size", s.batch_size);
        if constexpr (requires { s.n_epochs; }) number("n_epochs", s.n_epochs);
        if constexpr (requires { s.tau; }) number("tau", s.tau);
        if constexpr (requires { s.buffer_size; }) number("buffer_size", s.buffer_size);
        if constexpr (requires { s.learning_starts; }) {
          number("learning_starts", s.learning_starts);
        }
        if constexpr (requires { s.ent_coef; }) number("ent_coef", s.ent_coef);
      },
      d.agent.settings);
  return d;
}

}  // namespace rlpipe::checkpoint
