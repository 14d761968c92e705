#pragma once
/// The model archive (.zip): SB3-compatible `policy.pth` (+ `policy.optimizer.pth`) beside
/// rlpipe's own members `data` (JSON), `rlpipe_config.yaml` and `rlpipe_manifest.json`.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/experiment_config.h"
#include "config/tree.h"

namespace rlpipe::checkpoint {

/// Version of the archive layout, written into rlpipe_manifest.json.
inline constexpr int kFormatVersion = 1;

/// Member names inside the archive. SB3's own members end in `.pth`; ours never do.
inline constexpr const char* kPolicyMember = "policy.pth";
inline constexpr const char* kOptimizerMember = "policy.optimizer.pth";
inline constexpr const char* kDataMember = "data";
inline constexpr const char* kConfigMember = "rlpipe_config.yaml";
inline constexpr const char* kManifestMember = "rlpipe_manifest.json";

/// Named float32 tensors in module order, with SB3's names (e.g. "action_net.weight").
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// Everything in the `data` member: what the model is and how it was trained.
struct ModelData {
  config::Algorithm algorithm = config::Algorithm::kPpo;
  int obs_dim = 0;
  int act_dim = 0;
  std::vector<float> obs_low, obs_high;  // observation box
  std::vector<float> act_low, act_high;  // action box
  int64_t num_timesteps = 0;             // env steps trained so far (over all envs)
  int64_t episodes = 0;                  // training episodes finished so far
  config::AgentConfig agent;             // hyper-parameters (learning_rate, n_steps, ...)
  config::NetworkConfig network;         // layer sizes and activation
  uint64_t seed = 0;                     // the training request's seed
};

/// rlpipe's own extra members by name (never ending in `.pth`), e.g. "rlpipe_normalizer.json".
using ExtraMembers = std::map<std::string, std::string>;

/// A model read back from an archive.
struct LoadedModel {
  StateDict state_dict;
  ModelData data;
  std::string config_yaml;  // the resolved config the model was trained with
  ExtraMembers extra_members;  // every member listed in the manifest that is none of the above
};

/// Copies `module`'s parameters (detached, float32, contiguous) in registration order.
StateDict ToStateDict(torch::nn::Module& module);

/// Writes the archive atomically (a reader never sees half a file). `optimizer` may be null; when
/// given, its Adam state is written as `policy.optimizer.pth` in torch.optim's state_dict layout.
/// `extra` members are written as given (names must not end in `.pth`; std::invalid_argument).
void SaveModel(const std::filesystem::path& path, torch::nn::Module& policy, const ModelData& data,
               const config::Tree& resolved_config, const torch::optim::Adam* optimizer = nullptr,
               const ExtraMembers& extra = {});

/// Reads an archive; throws IoError naming the file when it is missing, truncated or corrupt.
LoadedModel LoadModel(const std::filesystem::path& path);

/// Copies `weights` into `module`'s parameters by name. Every parameter must be present with the
/// same shape, and every tensor must name a parameter, else ConfigError naming `origin`, the
/// tensor and both shapes. Returns the number of tensors copied.
int LoadWeightsInto(torch::nn::Module& module, const StateDict& weights, const std::string& origin);

/// "[64, 3]"
std::string ShapeString(const torch::Tensor& tensor);

}  // namespace rlpipe::checkpoint
