#include "checkpoint/transfer.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace rlpipe::checkpoint {
namespace {

std::vector<int64_t> Shape(const torch::Tensor& tensor) {
  return std::vector<int64_t>(tensor.sizes().begin(), tensor.sizes().end());
}

std::vector<std::string> SplitName(const std::string& name) {
  std::vector<std::string> parts;
  std::stringstream in(name);
  for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
  return parts;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool IsLogStd(const std::string& name) {
  const std::vector<std::string> parts = SplitName(name);
  return std::find(parts.begin(), parts.end(), "log_std") != parts.end();
}

// Identity when sizes match, else the overlapping prefix.
std::vector<int64_t> PrefixMap(int64_t source_size, int64_t target_size) {
  std::vector<int64_t> map(static_cast<size_t>(target_size), -1);
  for (int64_t i = 0; i < std::min(source_size, target_size); ++i) map[static_cast<size_t>(i)] = i;
  return map;
}

// Target index → source index by block name: a block present on both sides is copied (its
// common prefix when sizes differ); a block only in the target stays fresh. Unknown or
// inconsistent layouts fall back to the overlapping prefix of the whole dimension.
std::vector<int64_t> LayoutMap(const SpaceLayout& source, const SpaceLayout& target,
                               int64_t source_size, int64_t target_size, bool* used_layout) {
  *used_layout = !source.empty() && !target.empty() && LayoutSize(source) == source_size &&
                 LayoutSize(target) == target_size;
  if (!*used_layout) return PrefixMap(source_size, target_size);
  std::map<std::string, std::pair<int64_t, int64_t>> source_blocks;  // name → (offset, size)
  int64_t offset = 0;
  for (const SpaceBlock& block : source) {
    source_blocks.emplace(block.name, std::make_pair(offset, int64_t{block.size}));
    offset += block.size;
  }
  std::vector<int64_t> map(static_cast<size_t>(target_size), -1);
  offset = 0;
  for (const SpaceBlock& block : target) {
    auto it = source_blocks.find(block.name);
    if (it != source_blocks.end()) {
      const auto [source_offset, source_block_size] = it->second;
      for (int64_t k = 0; k < std::min<int64_t>(block.size, source_block_size); ++k) {
        map[static_cast<size_t>(offset + k)] = source_offset + k;
      }
    }
    offset += block.size;
  }
  return map;
}

// The observation layout followed by the action layout (a critic's input, concat(obs, action)).
SpaceLayout ObsActLayout(const ModelLayout& layout) {
  if (layout.observation.empty() || layout.action.empty()) return {};
  SpaceLayout joined = layout.observation;
  for (const SpaceBlock& block : layout.action)
    joined.push_back({"action:" + block.name, block.size});
  return joined;
}

bool IsIdentity(const std::vector<int64_t>& map, int64_t source_size) {
  if (static_cast<int64_t>(map.size()) != source_size) return false;
  for (size_t i = 0; i < map.size(); ++i) {
    if (map[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// Consecutive source and target indices merged into runs, for the report.
std::vector<CopyRun> Runs(const std::vector<int64_t>& map) {
  std::vector<CopyRun> runs;
  for (size_t i = 0; i < map.size(); ++i) {
    if (map[i] < 0) continue;
    const auto target = static_cast<int64_t>(i);
    if (!runs.empty() && runs.back().target_begin + runs.back().length == target &&
        runs.back().source_begin + runs.back().length == map[i]) {
      ++runs.back().length;
    } else {
      runs.push_back({map[i], target, 1});
    }
  }
  return runs;
}

// One dimension's index map and the rule that chose it.
std::pair<std::vector<int64_t>, std::string> DimMap(int dim, int rank, int64_t source_size,
                                                    int64_t target_size, const ModelLayout& src,
                                                    const ModelLayout& tgt) {
  bool used_layout = false;
  // Input columns of a layer reading the observation (or a critic's concat(obs, action)).
  if (rank == 2 && dim == 1 && source_size == src.obs_dim && target_size == tgt.obs_dim) {
    auto map = LayoutMap(src.observation, tgt.observation, source_size, target_size, &used_layout);
    return {std::move(map), used_layout ? "observation" : "prefix"};
  }
  if (rank == 2 && dim == 1 && source_size == src.obs_dim + src.act_dim &&
      target_size == tgt.obs_dim + tgt.act_dim) {
    auto map =
        LayoutMap(ObsActLayout(src), ObsActLayout(tgt), source_size, target_size, &used_layout);
    return {std::move(map), used_layout ? "observation+action" : "prefix"};
  }
  // Output rows of an action head (weights, biases, a state-independent log_std).
  if (dim == 0 && source_size == src.act_dim && target_size == tgt.act_dim) {
    auto map = LayoutMap(src.action, tgt.action, source_size, target_size, &used_layout);
    return {std::move(map), used_layout ? "action" : "prefix"};
  }
  // Anything else (hidden widths): the overlapping prefix.
  return {PrefixMap(source_size, target_size), "prefix"};
}

bool GroupLoaded(const std::string& group, const config::TransferConfig& options) {
  using config::TransferPart;
  if (group == "policy") return options.Loads(TransferPart::kPolicy);
  if (group == "value") return options.Loads(TransferPart::kValue);
  if (group == "normaliser") return options.Loads(TransferPart::kNormaliser);
  return options.Loads(TransferPart::kPolicy) || options.Loads(TransferPart::kValue);
}

std::string NameList(const std::vector<std::string>& names, size_t limit) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > limit) text += ", ...";
  return text;
}

// Layers of a sequential container by its path: "mlp_extractor.policy_net.2.weight" is layer 2
// of "mlp_extractor.policy_net". Maps container → layer index → the weight's shape.
using LayerShapes = std::map<std::string, std::map<int64_t, std::vector<int64_t>>>;
void AddLayer(LayerShapes& layers, const std::string& name, const std::vector<int64_t>& shape) {
  const std::vector<std::string> parts = SplitName(name);
  if (parts.size() < 3 || parts.back() != "weight") return;
  const std::string& index = parts[parts.size() - 2];
  if (index.empty() || !std::all_of(index.begin(), index.end(),
                                    [](unsigned char c) { return std::isdigit(c) != 0; }))
    return;
  std::string container = parts[0];
  for (size_t i = 1; i + 2 < parts.size(); ++i) container += "." + parts[i];
  layers[container][std::stoll(index)] = shape;
}

std::string LayerList(const std::map<int64_t, std::vector<int64_t>>& layers) {
  std::string text;
  for (const auto& [index, shape] : layers) {
    text += (text.empty() ? "" : ", ") + std::to_string(index) + ": [";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    text += "]";
  }
  return text;
}

// ConfigError when a layer stack holds other layers on the two sides (another hidden depth):
// slices only make sense between networks of the same structure.
void RequireSameDepth(const StateDict& source, torch::nn::Module& target,
                      const config::TransferConfig& options, const std::string& origin) {
  LayerShapes source_layers, target_layers;
  for (const auto& [name, tensor] : source) AddLayer(source_layers, name, Shape(tensor));
  for (const auto& item : target.named_parameters()) {
    AddLayer(target_layers, item.key(), Shape(item.value()));
  }
  for (const auto& [container, layers] : target_layers) {
    auto it = source_layers.find(container);
    if (it == source_layers.end() || !GroupLoaded(ParameterGroup(container), options)) continue;
    bool same = it->second.size() == layers.size();
    for (const auto& [index, shape] : layers) same = same && it->second.count(index) > 0;
    if (same) continue;
    throw ConfigError("transfer from " + origin + ": " + container + " has " +
                      std::to_string(it->second.size()) + " layers in the checkpoint (" +
                      LayerList(it->second) + ") and " + std::to_string(layers.size()) +
                      " in the model (" + LayerList(layers) +
                      "); weights move only between networks of the same depth (widths and "
                      "observation/action sizes may differ)");
  }
}

}  // namespace

std::vector<int64_t> ObservationIndexMap(const ModelLayout& source, const ModelLayout& target) {
  bool used_layout = false;
  return LayoutMap(source.observation, target.observation, source.obs_dim, target.obs_dim,
                   &used_layout);
}

std::string ParameterGroup(const std::string& name) {
  for (const std::string& part : SplitName(name)) {
    if (part == "log_std") return "policy";
    for (const char* prefix : {"policy", "pi", "actor", "action", "mu"}) {
      if (StartsWith(part, prefix)) return "policy";
    }
    for (const char* prefix : {"value", "vf", "critic", "qf"}) {
      if (StartsWith(part, prefix)) return "value";
    }
    for (const char* prefix : {"obs_rms", "normaliser", "normalizer"}) {
      if (StartsWith(part, prefix)) return "normaliser";
    }
  }
  return "shared";
}

bool GlobMatch(const std::string& glob, const std::string& name) {
  // Iterative wildcard match with backtracking to the last '*'.
  size_t g = 0, n = 0, star = std::string::npos, resume = 0;
  while (n < name.size()) {
    if (g < glob.size() && (glob[g] == '?' || glob[g] == name[n])) {
      ++g;
      ++n;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      resume = n;
    } else if (star != std::string::npos) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

namespace {

// The parameter names matched by `patterns`; a pattern that matches none is an error naming where
// it was written (`key`: the option, for patterns without a path).
std::set<std::string> MatchEach(const std::vector<config::ParameterPattern>& patterns,
                                const torch::OrderedDict<std::string, torch::Tensor>& params,
                                const std::string& key) {
  std::set<std::string> matched_names;
  for (const config::ParameterPattern& pattern : patterns) {
    bool matched = false;
    for (const auto& item : params) {
      if (GlobMatch(pattern.glob, item.key())) {
        matched_names.insert(item.key());
        matched = true;
      }
    }
    if (!matched) {
      std::vector<std::string> names;
      for (const auto& item : params) names.push_back(item.key());
      const std::string where = pattern.loc.line > 0 ? pattern.loc.ToString() + ": " : "";
      throw ConfigError(where + (pattern.path.empty() ? key : pattern.path) + ": pattern '" +
                        pattern.glob + "' matches no parameter of the model (" +
                        NameList(names, 12) + ")");
    }
  }
  return matched_names;
}

}  // namespace

TransferPlan PlanTransfer(const StateDict& source, const ModelLayout& source_layout,
                          torch::nn::Module& target, const ModelLayout& target_layout,
                          const config::TransferConfig& options, const std::string& origin) {
  TransferPlan plan;
  TransferReport& report = plan.report;
  report.source = origin;
  for (config::TransferPart part : options.load) report.load.push_back(config::ToString(part));
  for (const config::ParameterPattern& pattern : options.freeze)
    report.freeze.push_back(pattern.glob);
  for (const config::ParameterPattern& pattern : options.reset)
    report.reset.push_back(pattern.glob);
  report.reset_optimizer = options.reset_optimizer;
  report.reset_log_std = options.reset_log_std;
  report.optimizer = options.reset_optimizer ? "reset (reset_optimizer: true)" : "reset";

  // Another hidden depth is not a transfer.
  RequireSameDepth(source, target, options, origin);
  std::map<std::string, torch::Tensor> by_name(source.begin(), source.end());
  const auto params = target.named_parameters();
  const std::set<std::string> reset = MatchEach(options.reset, params, "transfer.reset");

  // Every target parameter: copied, sliced, fresh or skipped.
  for (const auto& item : params) {
    const std::string& name = item.key();
    const torch::Tensor& param = item.value();
    TensorTransfer entry;
    entry.name = name;
    entry.group = ParameterGroup(name);
    entry.target_shape = Shape(param);
    auto it = by_name.find(name);
    if (it != by_name.end()) entry.source_shape = Shape(it->second);

    // Tensors the options leave fresh, and tensors the source lacks.
    if (it == by_name.end()) {
      entry.action = TensorAction::kFresh;
      entry.reason = "not in the source";
    } else if (!GroupLoaded(entry.group, options)) {
      entry.action = TensorAction::kSkipped;
      entry.reason = "transfer.load leaves " + entry.group + " out";
    } else if (options.reset_log_std && IsLogStd(name)) {
      entry.action = TensorAction::kSkipped;
      entry.reason = "reset_log_std";
    } else if (reset.count(name)) {
      entry.action = TensorAction::kSkipped;
      entry.reason = "transfer.reset";
    } else if (it->second.dim() != param.dim()) {
      entry.action = TensorAction::kFresh;
      entry.reason = "rank differs";
    } else {
      // Same rank: one index map per dimension; identity everywhere means a whole copy.
      const int rank = static_cast<int>(param.dim());
      std::vector<std::vector<int64_t>> maps;
      bool whole = true;
      bool any_overlap = true;
      for (int d = 0; d < rank; ++d) {
        auto [map, rule] =
            DimMap(d, rank, it->second.size(d), param.size(d), source_layout, target_layout);
        const bool identity = IsIdentity(map, it->second.size(d));
        if (!identity) {
          whole = false;
          entry.slices.push_back({d, rule, Runs(map)});
          any_overlap = any_overlap && !entry.slices.back().runs.empty();
        }
        maps.push_back(std::move(map));
      }
      if (whole) {
        entry.action = TensorAction::kCopied;
        plan.copies.push_back({report.tensors.size(), it->second, {}});
      } else if (!any_overlap) {
        entry.action = TensorAction::kFresh;
        entry.reason = "no overlapping slice";
        entry.slices.clear();
      } else {
        entry.action = TensorAction::kSliced;
        plan.copies.push_back({report.tensors.size(), it->second, std::move(maps)});
      }
    }
    report.tensors.push_back(std::move(entry));
  }

  // Source tensors with no parameter of that name.
  for (const auto& [name, tensor] : source) {
    if (params.contains(name)) continue;
    TensorTransfer entry;
    entry.name = name;
    entry.group = ParameterGroup(name);
    entry.action = TensorAction::kUnused;
    entry.source_shape = Shape(tensor);
    entry.reason = "the model has no parameter of that name";
    report.tensors.push_back(std::move(entry));
  }

  // A transfer that moves nothing is a mistake (another algorithm or network).
  if ((options.Loads(config::TransferPart::kPolicy) ||
       options.Loads(config::TransferPart::kValue)) &&
      plan.copies.empty()) {
    std::vector<std::string> source_names, target_names;
    for (const auto& [name, tensor] : source) source_names.push_back(name);
    for (const auto& item : params) target_names.push_back(item.key());
    throw ConfigError("transfer from " + origin +
                      ": no tensor of the checkpoint fits the model (checkpoint: " +
                      NameList(source_names, 6) + "; model: " + NameList(target_names, 6) +
                      "); was it trained with another algorithm or network?");
  }

  // Freeze: every pattern must match something, and something must stay trainable.
  const std::set<std::string> frozen = MatchEach(options.freeze, params, "transfer.freeze");
  if (!frozen.empty() && frozen.size() == params.size()) {
    throw ConfigError("transfer.freeze: the patterns freeze every parameter; nothing would train");
  }
  for (TensorTransfer& entry : report.tensors) {
    if (frozen.count(entry.name)) {
      entry.frozen = true;
      plan.frozen.push_back(entry.name);
    }
  }
  return plan;
}

int ApplyTransfer(const TransferPlan& plan, torch::nn::Module& target) {
  torch::NoGradGuard no_grad;
  auto params = target.named_parameters();
  int written = 0;
  for (const PlannedCopy& copy : plan.copies) {
    torch::Tensor param = params[plan.report.tensors[copy.report_index].name];
    const torch::Tensor source = copy.source.to(param.dtype());
    if (copy.index_maps.empty()) {
      param.copy_(source);
    } else {
      // Per dimension: the target indices that have a source, and those source indices; the
      // copied block is their cartesian product (indices shaped to broadcast against each other).
      torch::Tensor block = source;
      std::vector<at::indexing::TensorIndex> target_index;
      const auto rank = static_cast<int64_t>(copy.index_maps.size());
      for (int64_t d = 0; d < rank; ++d) {
        std::vector<int64_t> from, to;
        const auto& map = copy.index_maps[static_cast<size_t>(d)];
        for (size_t i = 0; i < map.size(); ++i) {
          if (map[i] >= 0) {
            to.push_back(static_cast<int64_t>(i));
            from.push_back(map[i]);
          }
        }
        block = block.index_select(d, torch::tensor(from, torch::kLong));
        std::vector<int64_t> view(static_cast<size_t>(rank), 1);
        view[static_cast<size_t>(d)] = -1;
        target_index.emplace_back(torch::tensor(to, torch::kLong).view(view));
      }
      param.index_put_(target_index, block);
    }
    ++written;
  }

  // Frozen parameters never receive gradients (the optimizers skip them).
  for (const std::string& name : plan.frozen) params[name].set_requires_grad(false);
  return written;
}

std::optional<AdamStateByName> LoadAdamState(const LoadedModel& model, std::string* why) {
  const StateDict& source = model.state_dict;
  auto member = model.optimizer_members.find(kOptimizerMember);
  if (member == model.optimizer_members.end()) {
    *why = "the checkpoint holds no optimizer state";
    return std::nullopt;
  }
  try {
    // {state: {i: {step, exp_avg, exp_avg_sq}}, param_groups: [{params: [i, ...]}, ...]}.
    const std::string& bytes = member->second;
    c10::IValue root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
    const auto dict = root.toGenericDict();
    std::vector<int64_t> ids;
    for (const c10::IValue& group : dict.at("param_groups").toList()) {
      for (const c10::IValue& id : group.toGenericDict().at("params").toList()) {
        ids.push_back(id.toInt());
      }
    }
    if (ids.size() != source.size()) {
      *why = "the optimizer numbers " + std::to_string(ids.size()) + " parameters, the weights " +
             std::to_string(source.size());
      return std::nullopt;
    }

    // The k-th numbered parameter is the k-th tensor of the weights.
    AdamStateByName state;
    const auto entries = dict.at("state").toGenericDict();
    for (size_t k = 0; k < ids.size(); ++k) {
      auto it = entries.find(ids[k]);
      if (it == entries.end()) continue;
      const auto entry = it->value().toGenericDict();
      if (!entry.contains("exp_avg") || !entry.contains("exp_avg_sq")) {
        *why = "the checkpoint's optimizer state is not Adam's";
        return std::nullopt;
      }
      AdamTensorState s;
      s.step = static_cast<int64_t>(entry.at("step").toTensor().item<double>());
      s.exp_avg = entry.at("exp_avg").toTensor();
      s.exp_avg_sq = entry.at("exp_avg_sq").toTensor();
      state[source[k].first] = s;
    }
    return state;
  } catch (const c10::Error& e) {
    *why = std::string("unreadable optimizer state (") + e.what_without_backtrace() + ")";
    return std::nullopt;
  }
}

int CarryOptimizerState(TransferPlan& plan, const AdamStateByName& state, torch::nn::Module& target,
                        torch::optim::Adam& optimizer) {
  auto params = target.named_parameters();
  int carried = 0;
  for (const PlannedCopy& copy : plan.copies) {
    TensorTransfer& entry = plan.report.tensors[copy.report_index];
    auto it = state.find(entry.name);
    if (!copy.index_maps.empty() || entry.frozen || it == state.end()) continue;
    const torch::Tensor& param = params[entry.name];
    if (!it->second.exp_avg.sizes().equals(param.sizes())) continue;

    // Adam keys its state by the parameter's TensorImpl.
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(it->second.step);
    s->exp_avg(it->second.exp_avg.to(param.dtype()).clone());
    s->exp_avg_sq(it->second.exp_avg_sq.to(param.dtype()).clone());
    optimizer.state()[c10::guts::to_string(param.unsafeGetTensorImpl())] = std::move(s);
    entry.optimizer_state_carried = true;
    ++carried;
  }
  plan.report.optimizer = "carried for " + std::to_string(carried) + " tensors copied whole";
  return carried;
}

}  // namespace rlpipe::checkpoint
