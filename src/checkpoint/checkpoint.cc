#include "checkpoint/checkpoint.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/zip.h"

namespace rlpipe::checkpoint {
namespace {

using nlohmann::json;

// Enum ↔ name through config's ToString, so the names live in one place.
config::Algorithm AlgorithmFromName(const std::string& name, const std::string& origin) {
  for (auto a : {config::Algorithm::kPpo, config::Algorithm::kA2c, config::Algorithm::kSac,
                 config::Algorithm::kTd3}) {
    if (config::ToString(a) == name) return a;
  }
  throw IoError(origin + ": expected an algorithm name (PPO, A2C, SAC, TD3) in `data`, found '" +
                name + "'");
}

config::Activation ActivationFromName(const std::string& name, const std::string& origin) {
  for (auto a : {config::Activation::kTanh, config::Activation::kRelu, config::Activation::kElu,
                 config::Activation::kLeakyRelu, config::Activation::kSigmoid}) {
    if (config::ToString(a) == name) return a;
  }
  throw IoError(origin + ": expected an activation name in `data`, found '" + name + "'");
}

json BoxJson(const std::vector<float>& low, const std::vector<float>& high) {
  return json{{"shape", {low.size()}}, {"low", low}, {"high", high}, {"dtype", "float32"}};
}

// The `data` member: SB3-like top-level keys for what SB3 also stores.
std::string DataJson(const ModelData& d) {
  const config::AgentConfig& a = d.agent;
  json j = {
      {"format", "rlpipe"},
      {"format_version", kFormatVersion},
      {"algorithm", config::ToString(d.algorithm)},
      {"policy", a.policy},
      {"observation_space", BoxJson(d.obs_low, d.obs_high)},
      {"action_space", BoxJson(d.act_low, d.act_high)},
      {"obs_dim", d.obs_dim},
      {"act_dim", d.act_dim},
      {"num_timesteps", d.num_timesteps},
      {"episodes", d.episodes},
      {"learning_rate", a.learning_rate},
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
      {"seed", d.seed},
      {"policy_kwargs",
       {{"net_arch", {{"pi", d.network.policy_layers}, {"vf", d.network.value_layers}}},
        {"activation_fn", config::ToString(d.network.activation)},
        {"log_std_init", a.log_std_init}}},
  };
  return j.dump(2);
}

ModelData ParseData(const std::string& text, const std::string& origin) {
  try {
    json j = json::parse(text);
    ModelData d;
    d.algorithm = AlgorithmFromName(j.at("algorithm").get<std::string>(), origin);
    d.agent.algorithm = d.algorithm;
    d.agent.policy = j.at("policy").get<std::string>();
    d.obs_dim = j.at("obs_dim").get<int>();
    d.act_dim = j.at("act_dim").get<int>();
    d.obs_low = j.at("observation_space").at("low").get<std::vector<float>>();
    d.obs_high = j.at("observation_space").at("high").get<std::vector<float>>();
    d.act_low = j.at("action_space").at("low").get<std::vector<float>>();
    d.act_high = j.at("action_space").at("high").get<std::vector<float>>();
    d.num_timesteps = j.at("num_timesteps").get<int64_t>();
    d.episodes = j.at("episodes").get<int64_t>();
    d.agent.learning_rate = j.at("learning_rate").get<double>();
    d.agent.n_steps = j.at("n_steps").get<int>();
    d.agent.gamma = j.at("gamma").get<double>();
    d.agent.gae_lambda = j.at("gae_lambda").get<double>();
    d.agent.clip_range = j.at("clip_range").get<double>();
    d.agent.ent_coef = j.at("ent_coef").get<double>();
    d.agent.vf_coef = j.at("vf_coef").get<double>();
    d.agent.max_grad_norm = j.at("max_grad_norm").get<double>();
    d.agent.batch_size = j.at("batch_size").get<int>();
    d.agent.n_epochs = j.at("n_epochs").get<int>();
    d.agent.normalize_advantage = j.at("normalize_advantage").get<bool>();
    d.seed = j.at("seed").get<uint64_t>();
    const json& kwargs = j.at("policy_kwargs");
    d.network.policy_layers = kwargs.at("net_arch").at("pi").get<std::vector<int>>();
    d.network.value_layers = kwargs.at("net_arch").at("vf").get<std::vector<int>>();
    d.network.activation =
        ActivationFromName(kwargs.at("activation_fn").get<std::string>(), origin);
    d.agent.log_std_init = kwargs.at("log_std_init").get<double>();
    return d;
  } catch (const json::exception& e) {
    throw IoError(origin + ": expected a valid `data` JSON member, found: " + e.what());
  }
}

std::string ToBytes(const std::vector<char>& v) { return std::string(v.begin(), v.end()); }

// torch.optim.Adam.state_dict() layout: {state: {i: {step, exp_avg, exp_avg_sq}}, param_groups}.
std::string OptimizerPickle(const torch::optim::Adam& optimizer) {
  c10::Dict<int64_t, c10::Dict<std::string, at::Tensor>> state;
  c10::impl::GenericList groups(c10::AnyType::get());
  int64_t index = 0;
  for (const auto& group : optimizer.param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
    std::vector<int64_t> param_ids;
    for (const auto& param : group.params()) {
      auto it = optimizer.state().find(c10::guts::to_string(param.unsafeGetTensorImpl()));
      if (it != optimizer.state().end()) {
        const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
        c10::Dict<std::string, at::Tensor> entry;
        entry.insert("step", torch::tensor(static_cast<float>(s.step())));
        entry.insert("exp_avg", s.exp_avg().detach().clone());
        entry.insert("exp_avg_sq", s.exp_avg_sq().detach().clone());
        state.insert(index, entry);
      }
      param_ids.push_back(index++);
    }
    c10::impl::GenericDict g(c10::StringType::get(), c10::AnyType::get());
    g.insert("lr", options.lr());
    g.insert("betas", c10::ivalue::Tuple::create(std::get<0>(options.betas()),
                                                 std::get<1>(options.betas())));
    g.insert("eps", options.eps());
    g.insert("weight_decay", options.weight_decay());
    g.insert("amsgrad", options.amsgrad());
    g.insert("maximize", false);
    g.insert("foreach", c10::IValue());
    g.insert("capturable", false);
    g.insert("differentiable", false);
    g.insert("fused", false);
    g.insert("params", c10::List<int64_t>(param_ids));
    groups.push_back(c10::IValue(g));
  }
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("state", state);
  root.insert("param_groups", groups);
  return ToBytes(torch::pickle_save(root));
}

}  // namespace

std::string ShapeString(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) out << (i ? ", " : "") << tensor.size(i);
  out << "]";
  return out.str();
}

StateDict ToStateDict(torch::nn::Module& module) {
  StateDict dict;
  for (const auto& item : module.named_parameters()) {
    dict.emplace_back(item.key(), item.value().detach().to(torch::kFloat32).contiguous().clone());
  }
  return dict;
}

void SaveModel(const std::filesystem::path& path, torch::nn::Module& policy, const ModelData& data,
               const config::Tree& resolved_config, const torch::optim::Adam* optimizer,
               const ExtraMembers& extra) {
  // policy.pth: a pickled {name: tensor} dict, readable by Python's torch.load.
  c10::Dict<std::string, at::Tensor> state;
  for (auto& [name, tensor] : ToStateDict(policy)) state.insert(name, tensor);
  std::vector<std::pair<std::string, std::string>> members;
  members.emplace_back(kPolicyMember, ToBytes(torch::pickle_save(state)));
  if (optimizer != nullptr) members.emplace_back(kOptimizerMember, OptimizerPickle(*optimizer));
  members.emplace_back(kDataMember, DataJson(data));
  members.emplace_back(kConfigMember, resolved_config.ToYaml());
  for (const auto& [name, bytes] : extra) {
    if (name.ends_with(".pth") || name == kManifestMember || name == kDataMember ||
        name == kConfigMember) {
      throw std::invalid_argument("SaveModel: extra member name '" + name +
                                  "' is reserved (SB3's .pth members and rlpipe's own)");
    }
    members.emplace_back(name, bytes);
  }

  // The manifest lists every other member and comes last.
  json manifest = {{"format", "rlpipe"}, {"format_version", kFormatVersion}};
  json listed = json::array();
  for (const auto& [name, bytes] : members)
    listed.push_back({{"name", name}, {"size", bytes.size()}});
  manifest["members"] = listed;

  ZipWriter zip;
  for (auto& [name, bytes] : members) zip.Add(name, std::move(bytes));
  zip.Add(kManifestMember, manifest.dump(2));
  WriteFileAtomic(path, zip.Serialize());
}

LoadedModel LoadModel(const std::filesystem::path& path) {
  const std::string origin = path.string();
  ZipReader zip = ZipReader::FromFile(path);
  LoadedModel model;

  // Our members first: cheap checks before unpickling tensors.
  model.data = ParseData(zip.Get(kDataMember), origin);
  model.config_yaml = zip.Has(kConfigMember) ? zip.Get(kConfigMember) : std::string();
  if (zip.Has(kManifestMember)) {
    try {
      const json manifest = json::parse(zip.Get(kManifestMember));
      for (const json& member : manifest.at("members")) {
        const std::string name = member.at("name").get<std::string>();
        if (name.ends_with(".pth") || name == kDataMember || name == kConfigMember) continue;
        if (zip.Has(name)) model.extra_members[name] = zip.Get(name);
      }
    } catch (const json::exception& e) {
      throw IoError(origin + ": expected a valid rlpipe_manifest.json member, found: " + e.what());
    }
  }

  // policy.pth: a {name: tensor} dict.
  const std::string& bytes = zip.Get(kPolicyMember);
  try {
    c10::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    if (!value.isGenericDict()) {
      throw IoError(origin + ": expected policy.pth to hold a dict of tensors, found " +
                    value.tagKind());
    }
    for (const auto& entry : value.toGenericDict()) {
      if (!entry.key().isString() || !entry.value().isTensor()) {
        throw IoError(origin + ": expected policy.pth to map names to tensors, found " +
                      entry.key().tagKind() + " -> " + entry.value().tagKind());
      }
      model.state_dict.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
    }
  } catch (const c10::Error& e) {
    throw IoError(origin + ": expected a readable policy.pth member, found a corrupt one (" +
                  e.what_without_backtrace() + ")");
  }
  return model;
}

int LoadWeightsInto(torch::nn::Module& module, const StateDict& weights,
                    const std::string& origin) {
  std::map<std::string, torch::Tensor> by_name(weights.begin(), weights.end());
  auto params = module.named_parameters();

  // Every tensor in the file must name one of the module's parameters.
  for (const auto& [name, tensor] : weights) {
    if (!params.contains(name)) {
      throw ConfigError("checkpoint " + origin + ": tensor " + name + " " + ShapeString(tensor) +
                        " has no parameter of that name in the model");
    }
  }

  // Every parameter must be present with the same shape.
  torch::NoGradGuard no_grad;
  int copied = 0;
  for (auto& item : params) {
    auto it = by_name.find(item.key());
    if (it == by_name.end()) {
      throw ConfigError("checkpoint " + origin + ": expected tensor " + item.key() + " " +
                        ShapeString(item.value()) + ", found none");
    }
    if (!it->second.sizes().equals(item.value().sizes())) {
      throw ConfigError("checkpoint " + origin + ": tensor " + item.key() + " has shape " +
                        ShapeString(it->second) + ", the model expects " +
                        ShapeString(item.value()));
    }
    item.value().copy_(it->second);
    ++copied;
  }
  return copied;
}

}  // namespace rlpipe::checkpoint
