#pragma once
/// Transfer learning between sessions whose tasks differ (docs/transfer.md). Weights move by name
/// and shape: a tensor of the same name and shape is copied whole; where a dimension differs (or
/// the observation/action layout moved) the overlapping slice is copied and the rest keeps the
/// target's own initialisation, which is exactly what a fresh layer of that network would hold.
/// PlanTransfer is pure; ApplyTransfer and CarryOptimizerState execute a plan.
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "checkpoint/transfer_report.h"
#include "config/pipeline_config.h"
#include "core/space_layout.h"

namespace rlpipe::checkpoint {

/// Sizes and named parts of one side's observation and action vectors.
struct ModelLayout {
  int obs_dim = 0;
  int act_dim = 0;
  SpaceLayout observation;  // empty = unknown: the overlapping prefix is copied instead
  SpaceLayout action;
};

/// One planned copy: report line `report_index` gets `source`, whole (no index maps) or through
/// one index map per dimension (target index → source index, -1 = keep the fresh value).
struct PlannedCopy {
  size_t report_index = 0;
  torch::Tensor source;
  std::vector<std::vector<int64_t>> index_maps;
};

/// What ApplyTransfer will do.
struct TransferPlan {
  TransferReport report;            // every target tensor in module order, then unused ones
  std::vector<PlannedCopy> copies;  // copied and sliced tensors
  std::vector<std::string> frozen;  // target parameter names to freeze
};

/// The part of the model a parameter belongs to, from its name's components: the first
/// component starting with policy/pi/actor/action/mu or named log_std → "policy"; value/vf/
/// critic/qf → "value"; obs_rms/normaliser/normalizer → "normaliser"; none → "shared".
std::string ParameterGroup(const std::string& name);

/// Glob match over a whole name: `*` any run of characters (dots included), `?` one character.
bool GlobMatch(const std::string& glob, const std::string& name);

/// Plans moving `source` (trained with `source_layout`) into `target` (built for
/// `target_layout` and freshly initialised from the session seed). `origin` names the source in
/// errors and in the report. ConfigError when a freeze pattern matches no parameter (naming its
/// file:line:col), when the patterns freeze every parameter, or when no tensor can be copied
/// although policy or value was asked for.
TransferPlan PlanTransfer(const StateDict& source, const ModelLayout& source_layout,
                          torch::nn::Module& target, const ModelLayout& target_layout,
                          const config::TransferConfig& options, const std::string& origin);

/// Target observation index → source index (-1 = a column the source did not have): by block
/// name when both layouts are known, else the overlapping prefix. The map the weights' input
/// columns follow, for anything else indexed by observation column (normaliser statistics).
std::vector<int64_t> ObservationIndexMap(const ModelLayout& source, const ModelLayout& target);

/// Copies the planned tensors and slices into `target` and turns requires_grad off for the
/// frozen parameters. Returns the number of tensors written.
int ApplyTransfer(const TransferPlan& plan, torch::nn::Module& target);

/// Adam's per-tensor state (torch.optim.Adam layout), by the source's parameter name.
struct AdamTensorState {
  int64_t step = 0;
  torch::Tensor exp_avg;
  torch::Tensor exp_avg_sq;
};
using AdamStateByName = std::map<std::string, AdamTensorState>;

/// Reads the model's policy.optimizer.pth (as rlpipe writes it) and names its entries after the
/// model's tensors (torch's state_dict numbers parameters in module order). nullopt with `why`
/// set when the archive has none, it is not Adam's, or its numbering does not line up.
std::optional<AdamStateByName> LoadAdamState(const LoadedModel& model, std::string* why);

/// Installs the source's Adam state in `optimizer` for every tensor the plan copied whole with an
/// unchanged shape (not frozen ones), marks them in plan.report and returns how many.
int CarryOptimizerState(TransferPlan& plan, const AdamStateByName& state, torch::nn::Module& target,
                        torch::optim::Adam& optimizer);

}  // namespace rlpipe::checkpoint
