#pragma once
/// What a model is and how it was trained: the content of `data` (SB3's view) and
/// `rlpipe_model.json` (ours). No torch headers.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/experiment_config.h"

namespace rlpipe::checkpoint {

/// Everything beside the tensors: spaces, counters, hyper-parameters, network.
struct ModelData {
  int obs_dim = 0;
  int act_dim = 0;
  std::vector<float> obs_low, obs_high;  // observation box
  std::vector<float> act_low, act_high;  // action box
  int64_t num_timesteps = 0;             // env steps trained so far (over all envs)
  int64_t episodes = 0;                  // training episodes finished so far
  int n_envs = 1;                        // parallel envs trained with (SB3's `n_envs`)
  config::AgentConfig agent;             // the algorithm and its hyper-parameters
  config::NetworkConfig network;         // layer sizes and activation
  uint64_t seed = 0;                     // the training request's seed
};

/// The `data` member as SB3 2.x's save_to_zip_file writes it (indented JSON): serialized
/// policy_class, spaces and policy_kwargs (protocol-2 pickles, base64) and plain hyper-parameters.
std::string Sb3DataJson(const ModelData& data);

/// rlpipe_model.json: `data` in plain JSON, for rlpipe (no pickles to decode).
std::string ModelJson(const ModelData& data);

/// Parses rlpipe_model.json; IoError naming `origin` on missing or mistyped keys.
ModelData ParseModelJson(const std::string& text, const std::string& origin);

/// Reads what rlpipe can from an SB3 `data` member: the algorithm and policy (from the policy class
/// of config::Algorithms()' rows; among algorithms sharing a class, as PPO and A2C share
/// ActorCriticPolicy, the one whose `agent:` keys cover the data's, so PPO when `clip_range` is
/// present else A2C), `num_timesteps`, `n_envs`, `seed` and plain-number hyper-parameters (into
/// the algorithm's fields of those names). `:serialized:` entries other than policy_class
/// (closures such as lr_schedule) are skipped, never unpickled. IoError naming `origin` when
/// `data` is not JSON or its policy class is not SB3's PPO/A2C/SAC/TD3 policy.
ModelData ParseSb3Data(const std::string& text, const std::string& origin);

/// The module of rlpipe's own policy classes in `data.policy_class` (no SB3 class; SB3 refuses it).
inline constexpr const char* kRlpipePolicyModule = "rlpipe.policies";

/// The `data.policy_class` of a model as {module, name}: SB3's class for `algorithm` with
/// MlpPolicy (ActorCriticPolicy, SACPolicy, TD3Policy), `rlpipe.policies.MultiRobotPolicy` for the
/// multi-robot network.
std::pair<std::string, std::string> Sb3PolicyClass(config::Algorithm algorithm,
                                                   config::Policy policy = config::Policy::kMlp);

}  // namespace rlpipe::checkpoint
