#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "checkpoint/model_data.h"
#include "checkpoint/sb3_pickle.h"
#include "checkpoint/torch_pickle_reader.h"
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

// Enum ↔ name through config's ToString, so the names live in one place.
Algorithm AlgorithmFromName(const std::string& name, const std::string& origin) {
  for (auto a : {Algorithm::kPpo, Algorithm::kA2c, Algorithm::kSac, Algorithm::kTd3}) {
    if (config::ToString(a) == name) return a;
  }
  throw IoError(origin + ": expected an algorithm name (PPO, A2C, SAC, TD3), found '" + name + "'");
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

// policy_kwargs: net_arch and activation_fn always; log_std_init for PPO/A2C; RMSprop for A2C.
std::string PolicyKwargsPickle(const ModelData& d) {
  const bool on_policy = d.algorithm == Algorithm::kPpo || d.algorithm == Algorithm::kA2c;
  PickleWriter pickle;
  pickle.Mark();
  pickle.String("net_arch").Mark().String("pi");
  PickleIntList(pickle, d.network.policy_layers);
  pickle.String(on_policy ? "vf" : "qf");
  PickleIntList(pickle, on_policy ? d.network.value_layers : d.network.qf_layers);
  pickle.Dict();
  pickle.String("activation_fn")
      .Global("torch.nn.modules.activation", TorchActivationClass(d.network.activation));
  if (on_policy) pickle.String("log_std_init").Float(d.agent.log_std_init);
  if (d.agent.policy == config::Policy::kMultiRobot) {
    // The attention sizes only rlpipe's MultiRobotPolicy takes.
    pickle.String("embed_dim").Int(d.network.embed_dim);
    pickle.String("attention_heads").Int(d.network.attention_heads);
    pickle.String("attention_layers").Int(d.network.attention_layers);
  }
  if (d.algorithm == Algorithm::kA2c && d.agent.use_rms_prop) {
    // What SB3's A2C puts there itself: RMSprop(alpha=0.99, eps=rms_prop_eps, weight_decay=0).
    pickle.String("optimizer_class").Global("torch.optim.rmsprop", "RMSprop");
    pickle.String("optimizer_kwargs").Mark();
    pickle.String("alpha").Float(0.99).String("eps").Float(d.agent.rms_prop_eps);
    pickle.String("weight_decay").Int(0).Dict();
  }
  pickle.Dict();
  return pickle.Finish();
}

}  // namespace

std::pair<std::string, std::string> Sb3PolicyClass(Algorithm algorithm, config::Policy policy) {
  // rlpipe's own network is no SB3 class: its marker makes SB3 refuse the file instead of
  // building an MLP the weights do not fit.
  if (policy == config::Policy::kMultiRobot) return {kRlpipePolicyModule, "MultiRobotPolicy"};
  switch (algorithm) {
    case Algorithm::kPpo:
    case Algorithm::kA2c:
      return {"stable_baselines3.common.policies", "ActorCriticPolicy"};
    case Algorithm::kSac:
      return {"stable_baselines3.sac.policies", "SACPolicy"};
    case Algorithm::kTd3:
      return {"stable_baselines3.td3.policies", "TD3Policy"};
  }
  return {"", ""};
}

std::string Sb3DataJson(const ModelData& d) {
  const config::AgentConfig& a = d.agent;
  const auto [module, name] = Sb3PolicyClass(d.algorithm, a.policy);

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
      {"use_sde", a.use_sde},
      {"sde_sample_freq", a.sde_sample_freq},
  };

  // Each algorithm's own hyper-parameters, under SB3's attribute names.
  switch (d.algorithm) {
    case Algorithm::kPpo:
      j["batch_size"] = a.batch_size;
      j["n_epochs"] = a.n_epochs;
      j["clip_range"] = a.clip_range;
      j["clip_range_vf"] = a.clip_range_vf ? json(*a.clip_range_vf) : json(nullptr);
      j["target_kl"] = a.target_kl ? json(*a.target_kl) : json(nullptr);
      [[fallthrough]];
    case Algorithm::kA2c:
      j["n_steps"] = a.n_steps;
      j["gae_lambda"] = a.gae_lambda;
      j["ent_coef"] = a.ent_coef;
      j["vf_coef"] = a.vf_coef;
      j["max_grad_norm"] = a.max_grad_norm;
      j["normalize_advantage"] = a.normalize_advantage;
      break;
    case Algorithm::kSac:
    case Algorithm::kTd3:
      j["buffer_size"] = a.buffer_size;
      j["learning_starts"] = a.learning_starts;
      j["batch_size"] = a.batch_size;
      j["tau"] = a.tau;
      j["train_freq"] = a.train_freq;  // a plain int: SB3 turns it into (n, "step")
      j["gradient_steps"] = a.gradient_steps;
      j["action_noise"] = nullptr;
      if (d.algorithm == Algorithm::kSac) {
        j["ent_coef"] =
            a.ent_coef_auto ? json("auto_" + std::to_string(a.ent_coef)) : json(a.ent_coef);
        j["target_entropy"] =
            a.target_entropy ? *a.target_entropy : -static_cast<double>(d.act_dim);
        j["target_update_interval"] = 1;
      } else {
        j["policy_delay"] = a.policy_delay;
        j["target_policy_noise"] = a.target_policy_noise;
        j["target_noise_clip"] = a.target_noise_clip;
      }
      break;
  }
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

}  // namespace

std::string ModelJson(const ModelData& d) {
  const config::AgentConfig& a = d.agent;
  json j = {
      {"algorithm", config::ToString(d.algorithm)},
      {"policy", config::ToString(a.policy)},
      {"obs_dim", d.obs_dim},
      {"act_dim", d.act_dim},
      {"observation_space", {{"low", BoundsJson(d.obs_low)}, {"high", BoundsJson(d.obs_high)}}},
      {"action_space", {{"low", BoundsJson(d.act_low)}, {"high", BoundsJson(d.act_high)}}},
      {"num_timesteps", d.num_timesteps},
      {"episodes", d.episodes},
      {"n_envs", d.n_envs},
      {"seed", d.seed},
      {"agent",
       {{"learning_rate", a.learning_rate},
        {"n_steps", a.n_steps},
        {"gamma", a.gamma},
        {"gae_lambda", a.gae_lambda},
        {"clip_range", a.clip_range},
        {"ent_coef", a.ent_coef},
        {"vf_coef", a.vf_coef},
        {"max_grad_norm", a.max_grad_norm},
        {"batch_size", a.batch_size},
        {"n_epochs", a.n_epochs},
        {"normalize_advantage", a.normalize_advantage},
        {"log_std_init", a.log_std_init}}},
      {"network",
       {{"policy_layers", d.network.policy_layers},
        {"value_layers", d.network.value_layers},
        {"qf_layers", d.network.qf_layers},
        {"activation", config::ToString(d.network.activation)}}},
  };
  if (a.use_sde) j["agent"]["use_sde"] = true;  // only when on: MlpPolicy archives stay as before
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
    d.algorithm = AlgorithmFromName(j.at("algorithm").get<std::string>(), origin);
    d.agent.algorithm = d.algorithm;
    d.agent.policy = PolicyFromName(j.at("policy").get<std::string>(), origin);
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
    const json& a = j.at("agent");
    d.agent.learning_rate = a.at("learning_rate").get<double>();
    d.agent.n_steps = IntegerFromJson<int>(a.at("n_steps"), "agent.n_steps", origin);
    d.agent.gamma = a.at("gamma").get<double>();
    d.agent.gae_lambda = a.at("gae_lambda").get<double>();
    d.agent.clip_range = a.at("clip_range").get<double>();
    d.agent.ent_coef = a.at("ent_coef").get<double>();
    d.agent.vf_coef = a.at("vf_coef").get<double>();
    d.agent.max_grad_norm = a.at("max_grad_norm").get<double>();
    d.agent.batch_size = IntegerFromJson<int>(a.at("batch_size"), "agent.batch_size", origin);
    d.agent.n_epochs = IntegerFromJson<int>(a.at("n_epochs"), "agent.n_epochs", origin);
    d.agent.normalize_advantage = a.at("normalize_advantage").get<bool>();
    d.agent.log_std_init = a.at("log_std_init").get<double>();
    d.agent.use_sde = a.value("use_sde", false);
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

  ModelData d;
  const std::string multi_robot_class = std::string(kRlpipePolicyModule) + ".MultiRobotPolicy";
  if (policy_class == "stable_baselines3.common.policies.ActorCriticPolicy" ||
      policy_class == multi_robot_class) {
    d.algorithm = j.contains("clip_range") ? Algorithm::kPpo : Algorithm::kA2c;
    if (policy_class == multi_robot_class) d.agent.policy = config::Policy::kMultiRobot;
  } else if (policy_class == "stable_baselines3.sac.policies.SACPolicy") {
    d.algorithm = Algorithm::kSac;
  } else if (policy_class == "stable_baselines3.td3.policies.TD3Policy") {
    d.algorithm = Algorithm::kTd3;
  } else {
    throw IoError(origin +
                  ": expected an SB3 MlpPolicy of PPO, A2C, SAC or TD3 (or rlpipe's "
                  "MultiRobotPolicy), found policy class '" +
                  (policy_class.empty() ? cls->KindName() : policy_class) + "'");
  }
  const config::Policy policy = d.agent.policy;
  d.agent = config::DefaultAgentConfig(d.algorithm);
  d.agent.policy = policy;
  d.network = config::DefaultNetworkConfig(d.algorithm);

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
  number("learning_rate", d.agent.learning_rate);
  number("gamma", d.agent.gamma);
  number("n_steps", d.agent.n_steps);
  number("gae_lambda", d.agent.gae_lambda);
  number("clip_range", d.agent.clip_range);
  number("vf_coef", d.agent.vf_coef);
  number("max_grad_norm", d.agent.max_grad_norm);
  number("batch_size", d.agent.batch_size);
  number("n_epochs", d.agent.n_epochs);
  number("tau", d.agent.tau);
  number("buffer_size", d.agent.buffer_size);
  number("learning_starts", d.agent.learning_starts);
  if (j.contains("ent_coef") && j["ent_coef"].is_number()) number("ent_coef", d.agent.ent_coef);
  d.agent.algorithm = d.algorithm;
  return d;
}

}  // namespace rlpipe::checkpoint
