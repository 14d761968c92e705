#pragma once
/// The model archive (.zip), laid out like Stable-Baselines3 2.x's so Python users open it with
/// `PPO.load(path, env=...)` / `model.set_parameters(path)`, plus rlpipe's own members.
///
/// On disk (docs/checkpoints.md has the full table):
///   data                      JSON as SB3's save_to_zip_file writes it: `policy_class`,
///                             `observation_space`, `action_space` (and `policy_kwargs` when it
///                             holds `activation_fn`) as {":type:", ":serialized:" base64 of a
///                             protocol-2 pickle}; hyper-parameters and `num_timesteps` as plain
///                             JSON numbers.
///   policy.pth                torch.load-able {name: float32 tensor} with SB3's names.
///   <net>.optimizer.pth       torch.optim state dicts (Adam; RMSprop for A2C by default):
///                             policy.optimizer.pth (PPO/A2C); actor./critic.optimizer.pth
///                             (SAC/TD3) and ent_coef_optimizer.pth (SAC, automatic entropy).
///   pytorch_variables.pth     {} (PPO/A2C/TD3) or {"log_ent_coef": tensor} (SAC, auto entropy).
///   _stable_baselines3_version, system_info.txt   text, as SB3 writes them.
///   rlpipe_model.json         what SB3's pickles cannot tell C++: algorithm, spaces, network,
///                             seed, episodes (rlpipe's own; never read by SB3).
///   rlpipe_config.yaml        the resolved config the model was trained with.
///   <extra members>           rlpipe's own (resume state, normaliser statistics, ...); names
///                             never end in `.pth` (SB3 refuses unknown .pth members).
///   rlpipe_manifest.json      written last: format version, algorithm, and the size and SHA-256
///                             of every other member; checked on load.
/// An archive without rlpipe_manifest.json is read as one saved by SB3 in Python (import).
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/model_data.h"
#include "config/experiment_config.h"
#include "config/tree.h"

namespace rlpipe::checkpoint {

/// Version of the archive layout, written into rlpipe_manifest.json. 2: SB3 2.x layout.
inline constexpr int kFormatVersion = 2;

/// Member names inside the archive. SB3's own members end in `.pth`; ours never do.
inline constexpr const char* kPolicyMember = "policy.pth";
inline constexpr const char* kOptimizerMember = "policy.optimizer.pth";
inline constexpr const char* kActorOptimizerMember = "actor.optimizer.pth";
inline constexpr const char* kCriticOptimizerMember = "critic.optimizer.pth";
inline constexpr const char* kEntCoefOptimizerMember = "ent_coef_optimizer.pth";
inline constexpr const char* kPytorchVariablesMember = "pytorch_variables.pth";
inline constexpr const char* kDataMember = "data";
inline constexpr const char* kSb3VersionMember = "_stable_baselines3_version";
inline constexpr const char* kSystemInfoMember = "system_info.txt";
inline constexpr const char* kModelMember = "rlpipe_model.json";
inline constexpr const char* kConfigMember = "rlpipe_config.yaml";
inline constexpr const char* kManifestMember = "rlpipe_manifest.json";
/// The SB3 version whose layout the archive follows (written to _stable_baselines3_version).
inline constexpr const char* kSb3LayoutVersion = "2.3.2";

/// Named float32 tensors in module order, with SB3's names (e.g. "action_net.weight").
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// One optimizer written as an SB3 optimizer member (a torch.optim state_dict).
struct OptimizerMember {
  std::string name;                                    // e.g. kOptimizerMember
  const torch::optim::Optimizer* optimizer = nullptr;  // Adam or RMSprop
};

/// What a save carries beside the policy, `data` and the config.
struct SaveOptions {
  /// SB3 optimizer members. SB3's load requires them (PPO.load fails without).
  std::vector<OptimizerMember> optimizers;
  /// pytorch_variables.pth entries (SAC: {"log_ent_coef", [1]}); `{}` when empty.
  StateDict pytorch_variables;
  /// rlpipe's own members (training state for exact resume, normaliser statistics, ...), covered
  /// by the manifest. Names must not end in `.pth` nor equal a fixed member name (IoError).
  std::map<std::string, std::string> extra_members;
};

/// A model read back from an archive.
struct LoadedModel {
  StateDict state_dict;
  ModelData data;
  std::string config_yaml;  // the resolved config the model was trained with ("" for SB3 files)
  /// Every member that is neither SB3's nor a fixed rlpipe one, by name (the extra_members saved).
  std::map<std::string, std::string> extra_members;
  /// Optimizer members (`*.optimizer.pth`, `ent_coef_optimizer.pth`) by name, as stored (the
  /// torch.save bytes of a torch.optim state_dict).
  std::map<std::string, std::string> optimizer_members;
  /// pytorch_variables.pth entries.
  StateDict pytorch_variables;
  /// True when the archive was written by SB3 in Python (no rlpipe manifest): `data` then holds
  /// only what SB3's plain-JSON entries say (spaces come from the tensors' shapes).
  bool from_sb3 = false;
};

/// Copies `module`'s parameters (detached, float32, contiguous) in registration order.
StateDict ToStateDict(torch::nn::Module& module);

/// Writes the archive atomically (a reader never sees half a file).
void SaveModel(const std::filesystem::path& path, torch::nn::Module& policy, const ModelData& data,
               const config::Tree& resolved_config, const SaveOptions& options = {});

/// Reads an archive, ours or SB3's. Throws IoError naming the file when it is missing, truncated
/// or corrupt, or a member's size or SHA-256 differs from the manifest.
LoadedModel LoadModel(const std::filesystem::path& path);

/// True when `path` is a complete rlpipe archive: LoadModel reads it and every member matches the
/// manifest's size and SHA-256. Never throws (a half-written or foreign file is simply false).
bool VerifyArchive(const std::filesystem::path& path);

/// ConfigError naming `origin` and both algorithms when `model` was trained with another
/// algorithm than `expected` (for SB3 files: another policy family or algorithm).
void RequireAlgorithm(const LoadedModel& model, config::Algorithm expected,
                      const std::string& origin);

/// Copies `weights` into `module`'s parameters by name. Every parameter must be present with the
/// same shape, and every tensor must name a parameter, else ConfigError naming `origin`, the
/// tensor and both shapes. Returns the number of tensors copied.
int LoadWeightsInto(torch::nn::Module& module, const StateDict& weights, const std::string& origin);

/// "[64, 3]"
std::string ShapeString(const torch::Tensor& tensor);

}  // namespace rlpipe::checkpoint
