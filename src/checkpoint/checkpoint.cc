#include "checkpoint/checkpoint.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "checkpoint/torch_pickle_reader.h"
#include "config/algorithms.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "core/zip.h"

namespace rlpipe::checkpoint {
namespace {

using nlohmann::json;
using Kind = PyValue::Kind;

std::string ToBytes(const std::vector<char>& v) { return std::string(v.begin(), v.end()); }

// Members whose names rlpipe fixes; an extra member may not take one of them.
const std::set<std::string>& FixedMembers() {
  static const std::set<std::string> kNames = {kPolicyMember,
                                               kOptimizerMember,
                                               kActorOptimizerMember,
                                               kCriticOptimizerMember,
                                               kEntCoefOptimizerMember,
                                               kPytorchVariablesMember,
                                               kDataMember,
                                               kSb3VersionMember,
                                               kSystemInfoMember,
                                               kModelMember,
                                               kConfigMember,
                                               kManifestMember};
  return kNames;
}

bool IsOptimizerMember(const std::string& name) {
  return name.ends_with(".optimizer.pth") || name == kEntCoefOptimizerMember;
}

// A {name: tensor} dict pickled the way torch.save's zip format holds it.
std::string StateDictPickle(const StateDict& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : tensors) {
    dict.insert(name, tensor.detach().to(torch::kFloat32).contiguous());
  }
  return ToBytes(torch::pickle_save(dict));
}

// The keys every torch.optim param group carries, beside the optimizer's own.
void AddCommonGroupKeys(c10::impl::GenericDict& group, double lr, double eps, double weight_decay) {
  group.insert("lr", lr);
  group.insert("eps", eps);
  group.insert("weight_decay", weight_decay);
  group.insert("maximize", false);
  group.insert("foreach", c10::IValue());
  group.insert("capturable", false);
  group.insert("differentiable", false);
}

// torch.optim's state_dict layout: {state: {index: {...}}, param_groups: [{..., params: [index]}]},
// indices counting the optimizer's parameters in order (SB3: policy.parameters() order).
std::string OptimizerPickle(const torch::optim::Optimizer& optimizer, const std::string& member) {
  const auto* adam = dynamic_cast<const torch::optim::Adam*>(&optimizer);
  const auto* rmsprop = dynamic_cast<const torch::optim::RMSprop*>(&optimizer);
  if (adam == nullptr && rmsprop == nullptr) {
    throw IoError("checkpoint member " + member + ": only Adam and RMSprop state can be written");
  }
  c10::Dict<int64_t, c10::Dict<std::string, at::Tensor>> state;
  c10::impl::GenericList groups(c10::AnyType::get());
  int64_t index = 0;
  for (const auto& group : optimizer.param_groups()) {
    std::vector<int64_t> param_ids;
    for (const auto& param : group.params()) {
      // Per-parameter state, when the optimizer has stepped.
      auto it = optimizer.state().find(c10::guts::to_string(param.unsafeGetTensorImpl()));
      if (it != optimizer.state().end()) {
        c10::Dict<std::string, at::Tensor> entry;
        if (adam != nullptr) {
          const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
          entry.insert("step", torch::tensor(static_cast<float>(s.step())));
          entry.insert("exp_avg", s.exp_avg().detach().clone());
          entry.insert("exp_avg_sq", s.exp_avg_sq().detach().clone());
          if (s.max_exp_avg_sq().defined()) {
            entry.insert("max_exp_avg_sq", s.max_exp_avg_sq().detach().clone());
          }
        } else {
          const auto& s = static_cast<const torch::optim::RMSpropParamState&>(*it->second);
          entry.insert("step", torch::tensor(static_cast<float>(s.step())));
          entry.insert("square_avg", s.square_avg().detach().clone());
          if (s.momentum_buffer().defined()) {
            entry.insert("momentum_buffer", s.momentum_buffer().detach().clone());
          }
          if (s.grad_avg().defined()) entry.insert("grad_avg", s.grad_avg().detach().clone());
        }
        state.insert(index, entry);
      }
      param_ids.push_back(index++);
    }

    // The group's hyper-parameters under torch.optim's keys.
    c10::impl::GenericDict g(c10::StringType::get(), c10::AnyType::get());
    if (adam != nullptr) {
      const auto& o = static_cast<const torch::optim::AdamOptions&>(group.options());
      AddCommonGroupKeys(g, o.lr(), o.eps(), o.weight_decay());
      g.insert("betas", c10::ivalue::Tuple::create(std::get<0>(o.betas()), std::get<1>(o.betas())));
      g.insert("amsgrad", o.amsgrad());
      g.insert("fused", c10::IValue());
    } else {
      const auto& o = static_cast<const torch::optim::RMSpropOptions&>(group.options());
      AddCommonGroupKeys(g, o.lr(), o.eps(), o.weight_decay());
      g.insert("alpha", o.alpha());
      g.insert("momentum", o.momentum());
      g.insert("centered", o.centered());
    }
    g.insert("params", c10::List<int64_t>(param_ids));
    groups.push_back(c10::IValue(g));
  }
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("state", state);
  root.insert("param_groups", groups);
  return ToBytes(torch::pickle_save(root));
}

// system_info.txt in SB3's "- Key: value" lines.
std::string SystemInfo() {
  return "- OS: Linux (written by rlpipe)\n- Python: none (rlpipe, C++)\n- Stable-Baselines3: " +
         std::string(kSb3LayoutVersion) + " (layout)\n- PyTorch: " + TORCH_VERSION +
         " (LibTorch)\n- GPU Enabled: False\n- Numpy: none\n- Cloudpickle: none\n"
         "- Gymnasium: none\n";
}

// Element sizes and torch dtypes of the storage types torch.save writes.
std::pair<torch::ScalarType, size_t> DtypeInfo(const std::string& dtype) {
  static const std::map<std::string, std::pair<torch::ScalarType, size_t>> kTypes = {
      {"float32", {torch::kFloat32, 4}}, {"float64", {torch::kFloat64, 8}},
      {"float16", {torch::kFloat16, 2}}, {"bfloat16", {torch::kBFloat16, 2}},
      {"int64", {torch::kInt64, 8}},     {"int32", {torch::kInt32, 4}},
      {"int16", {torch::kInt16, 2}},     {"int8", {torch::kInt8, 1}},
      {"uint8", {torch::kUInt8, 1}},     {"bool", {torch::kBool, 1}}};
  return kTypes.at(dtype);
}

// One torch.save file (zip format): its pickle and its storages.
class TorchFile {
 public:
  TorchFile(const std::string& bytes, std::string origin)
      : origin_(std::move(origin)), zip_(CheckedZip(bytes, origin_)) {
    // The pickle is <prefix>/data.pkl; storages sit in <prefix>/data/<key>.
    for (const std::string& name : zip_.Names()) {
      if (name.ends_with("/data.pkl") && name.find('/') == name.size() - 9) {
        prefix_ = name.substr(0, name.size() - 9);
      }
    }
    if (prefix_.empty()) {
      throw IoError(origin_ + ": expected a torch.save zip (<name>/data.pkl), found none");
    }
    root_ = ReadPickle(zip_.Get(prefix_ + "/data.pkl"), origin_);
  }

  const PyRef& root() const { return root_; }

  // A tensor value as a float32 (or its own dtype) torch tensor, copied out of its storage.
  torch::Tensor Tensor(const PyValue& value, const std::string& what) const {
    if (value.kind != Kind::kTensor) {
      throw IoError(origin_ + ": expected " + what + " to be a tensor, found " + value.KindName());
    }
    const std::string& bytes = zip_.Get(prefix_ + "/data/" + value.storage->text);
    const auto [dtype, element] = DtypeInfo(value.storage->dtype);
    const auto numel = static_cast<int64_t>(bytes.size() / element);

    // The view must lie inside the storage.
    int64_t last = value.storage_offset;
    for (size_t i = 0; i < value.sizes.size(); ++i) {
      if (value.sizes[i] == 0) last = -1;
      if (value.sizes[i] < 0 || value.strides[i] < 0) {
        throw IoError(origin_ + ": " + what + " has a negative size or stride");
      }
      if (last >= 0) last += (value.sizes[i] - 1) * value.strides[i];
    }
    if (value.storage_offset < 0 || last >= numel) {
      throw IoError(origin_ + ": " + what + " reaches element " + std::to_string(last) +
                    " of a storage of " + std::to_string(numel) + " (truncated?)");
    }
    torch::Tensor storage =
        torch::from_blob(const_cast<char*>(bytes.data()), {numel}, torch::TensorOptions(dtype));
    return storage.as_strided(value.sizes, value.strides, value.storage_offset).clone();
  }

  // A {str: tensor} dict (dict or OrderedDict) in its stored order.
  StateDict Tensors(const std::string& what) const {
    if (root_->kind != Kind::kDict) {
      throw IoError(origin_ + ": expected " + what + " to hold a dict of tensors, found " +
                    root_->KindName());
    }
    StateDict out;
    for (const auto& [key, value] : root_->entries) {
      if (key->kind != Kind::kString) {
        throw IoError(origin_ + ": expected " + what + " to map names to tensors, found a " +
                      key->KindName() + " key");
      }
      out.emplace_back(key->text, Tensor(*value, key->text));
    }
    return out;
  }

 private:
  static ZipReader CheckedZip(const std::string& bytes, const std::string& origin) {
    if (!bytes.starts_with("PK")) {
      throw IoError(origin + ": expected a torch.save zip file, found " +
                    (bytes.empty()
                         ? std::string("an empty member")
                         : "another format (legacy torch.save? re-save with torch>=1.6)"));
    }
    return ZipReader(bytes, origin);
  }

  std::string origin_;
  ZipReader zip_;
  std::string prefix_;
  PyRef root_;
};

// The manifest: format, algorithm and the size and SHA-256 of every other member.
std::string ManifestJson(const std::vector<std::pair<std::string, std::string>>& members,
                         config::Algorithm algorithm) {
  json listed = json::array();
  for (const auto& [name, bytes] : members) {
    listed.push_back({{"name", name}, {"size", bytes.size()}, {"sha256", Sha256Hex(bytes)}});
  }
  return json{{"format", "rlpipe"},
              {"format_version", kFormatVersion},
              {"algorithm", config::ToString(algorithm)},
              {"members", listed}}
      .dump(2);
}

// Every member listed with its size and digest, and no member unlisted.
void CheckManifest(const ZipReader& zip, const std::string& origin) {
  json manifest;
  try {
    manifest = json::parse(zip.Get(kManifestMember));
    const int version = manifest.at("format_version").get<int>();
    if (version != kFormatVersion) {
      throw IoError(origin + ": expected checkpoint format version " +
                    std::to_string(kFormatVersion) + ", found " + std::to_string(version));
    }
    std::set<std::string> listed;
    for (const json& member : manifest.at("members")) {
      const std::string name = member.at("name").get<std::string>();
      listed.insert(name);
      if (!zip.Has(name)) {
        throw IoError(origin + ": member '" + name + "' listed in the manifest is missing");
      }
      const std::string& bytes = zip.Get(name);
      const auto size = member.at("size").get<uint64_t>();
      const std::string expected = member.at("sha256").get<std::string>();
      if (bytes.size() != size) {
        throw IoError(origin + ": member '" + name + "' has " + std::to_string(bytes.size()) +
                      " bytes, the manifest says " + std::to_string(size));
      }
      const std::string actual = Sha256Hex(bytes);
      if (actual != expected) {
        throw IoError(origin + ": SHA-256 mismatch in member '" + name + "': manifest " + expected +
                      ", found " + actual + " (corrupt or altered checkpoint)");
      }
    }
    for (const std::string& name : zip.Names()) {
      if (name != kManifestMember && !listed.count(name)) {
        throw IoError(origin + ": member '" + name + "' is not in the manifest");
      }
    }
  } catch (const json::exception& e) {
    throw IoError(origin + ": expected a valid rlpipe_manifest.json, found: " + e.what());
  }
}

// The dimensions an SB3 file's tensors imply (its spaces are pickles we do not run).
void DimsFromTensors(const StateDict& tensors, ModelData& data) {
  for (const auto& [name, tensor] : tensors) {
    const bool first_layer = name == "mlp_extractor.policy_net.0.weight" ||
                             name == "actor.latent_pi.0.weight" || name == "actor.mu.0.weight";
    if (first_layer && tensor.dim() == 2) data.obs_dim = static_cast<int>(tensor.size(1));
    if ((name == "action_net.bias" || name == "actor.mu.bias") && tensor.dim() == 1) {
      data.act_dim = static_cast<int>(tensor.size(0));
    }
    if (name.starts_with("actor.mu.") && name.ends_with(".bias") && tensor.dim() == 1) {
      data.act_dim = static_cast<int>(tensor.size(0));  // TD3: the last Linear of actor.mu
    }
  }
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
               const config::Tree& resolved_config, const SaveOptions& options) {
  // Extra members must leave SB3's namespace (.pth) and ours alone.
  for (const auto& [name, bytes] : options.extra_members) {
    if (name.empty() || name.ends_with(".pth") || FixedMembers().count(name)) {
      throw IoError(path.string() + ": extra checkpoint member '" + name +
                    "' must be non-empty, not end in .pth and not reuse a fixed member name");
    }
  }

  // SB3's members: data first (as SB3 writes it), then the state dicts and variables.
  std::vector<std::pair<std::string, std::string>> members;
  members.emplace_back(kDataMember, Sb3DataJson(data));
  members.emplace_back(kPolicyMember, StateDictPickle(ToStateDict(policy)));
  for (const OptimizerMember& optimizer : options.optimizers) {
    members.emplace_back(optimizer.name, OptimizerPickle(*optimizer.optimizer, optimizer.name));
  }
  members.emplace_back(kPytorchVariablesMember, StateDictPickle(options.pytorch_variables));
  members.emplace_back(kSb3VersionMember, kSb3LayoutVersion);
  members.emplace_back(kSystemInfoMember, SystemInfo());

  // rlpipe's own members, then the manifest over all of them, last.
  members.emplace_back(kModelMember, ModelJson(data));
  members.emplace_back(kConfigMember, resolved_config.ToYaml());
  for (const auto& [name, bytes] : options.extra_members) members.emplace_back(name, bytes);
  std::string manifest = ManifestJson(members, data.agent.algorithm());

  ZipWriter zip;
  for (auto& [name, bytes] : members) zip.Add(name, std::move(bytes));
  zip.Add(kManifestMember, std::move(manifest));
  WriteFileAtomic(path, zip.Serialize());
}

LoadedModel LoadModel(const std::filesystem::path& path) {
  const std::string origin = path.string();
  ZipReader zip = ZipReader::FromFile(path);
  LoadedModel model;
  model.from_sb3 = !zip.Has(kManifestMember);

  // Ours: manifest first, then the plain-JSON model description. SB3's: its `data` JSON.
  if (model.from_sb3) {
    model.data = ParseSb3Data(zip.Get(kDataMember), origin);
  } else {
    CheckManifest(zip, origin);
    model.data = ParseModelJson(zip.Get(kModelMember), origin);
    model.config_yaml = zip.Get(kConfigMember);
  }

  // Tensors: policy.pth and pytorch_variables.pth.
  try {
    model.state_dict =
        TorchFile(zip.Get(kPolicyMember), origin + " (policy.pth)").Tensors("policy.pth");
    if (zip.Has(kPytorchVariablesMember)) {
      const TorchFile variables(zip.Get(kPytorchVariablesMember),
                                origin + " (pytorch_variables.pth)");
      model.pytorch_variables = variables.Tensors("pytorch_variables.pth");
    }
  } catch (const c10::Error& e) {
    throw IoError(origin + ": expected a readable policy.pth member, found a corrupt one (" +
                  e.what_without_backtrace() + ")");
  }
  if (model.from_sb3) DimsFromTensors(model.state_dict, model.data);

  // Optimizers kept as stored; everything else that is not SB3's or ours is an extra member.
  for (const std::string& name : zip.Names()) {
    if (IsOptimizerMember(name)) {
      model.optimizer_members.emplace(name, zip.Get(name));
    } else if (!FixedMembers().count(name) && !name.ends_with(".pth")) {
      model.extra_members.emplace(name, zip.Get(name));
    }
  }
  return model;
}

bool VerifyArchive(const std::filesystem::path& path) {
  try {
    return !LoadModel(path).from_sb3;
  } catch (const std::exception&) {
    return false;
  }
}

void RequireAlgorithm(const LoadedModel& model, config::Algorithm expected,
                      const std::string& origin) {
  // SB3 files cannot always tell algorithms that share a policy class (PPO and A2C's
  // ActorCriticPolicy) apart: for them the policy class must match.
  const config::Algorithm found = model.data.agent.algorithm();
  const auto policy_class = [](config::Algorithm a) {
    const config::AlgorithmInfo& info = config::InfoOf(a);
    return info.sb3_policy_module + "." + info.sb3_policy_class;
  };
  const bool same =
      model.from_sb3 ? policy_class(found) == policy_class(expected) : found == expected;
  if (!same) {
    throw ConfigError("checkpoint " + origin + ": expected a model trained with " +
                      config::ToString(expected) + ", found one trained with " +
                      config::ToString(found) +
                      (model.from_sb3 ? " (Stable-Baselines3 file)" : ""));
  }
}

void RequirePolicy(const LoadedModel& model, config::Policy expected, const std::string& origin) {
  const config::Policy found = model.data.agent.common().policy;
  if (found != expected) {
    throw ConfigError("checkpoint " + origin + ": expected a " + config::ToString(expected) +
                      " model (agent.policy), found a " + config::ToString(found) + " model" +
                      (model.from_sb3 ? " (Stable-Baselines3 file)" : ""));
  }
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
    item.value().copy_(it->second.to(item.value().dtype()));
    ++copied;
  }
  return copied;
}

}  // namespace rlpipe::checkpoint
