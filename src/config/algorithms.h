#pragma once
/// The config side of the algorithm registry: one row per algorithm with its name, family,
/// `agent:` reader, default network and SB3 policy class. No torch: the YAML loader, `rlpipe
/// config` and the fuzz targets use it. The code side (updates, loops) is
/// algos/algorithm_registry.h, one row per algorithm keyed by the same `Algorithm`.
#include <string>
#include <vector>

#include "config/agent_config.h"
#include "config/experiment_config.h"
#include "config/tree.h"

namespace rlpipe::config {

/// Which shared training loop an algorithm runs in.
enum class AlgorithmFamily { kOnPolicy, kOffPolicy };

std::string ToString(AlgorithmFamily f);  // "on-policy", "off-policy"

/// One registered algorithm, as the config layer knows it.
struct AlgorithmInfo {
  Algorithm algorithm = Algorithm::kPpo;
  std::string name;                                     // SB3's class name, e.g. "PPO"
  AlgorithmFamily family = AlgorithmFamily::kOnPolicy;  // from the settings type's base
  /// Reads every key of `agent:` except `algorithm` (strictly: MapReader::Finish is the caller's)
  /// into this algorithm's settings, starting from its defaults.
  AlgorithmSettings (*read)(MapReader& agent) = nullptr;
  /// SB3's network defaults for this algorithm (e.g. SAC [256, 256] relu).
  NetworkConfig default_network;
  /// SB3's policy class stored in `data.policy_class` for MlpPolicy: {module, name}.
  std::string sb3_policy_module;
  std::string sb3_policy_class;
};

/// Every registered algorithm, in the order of `Algorithm`.
const std::vector<AlgorithmInfo>& Algorithms();

/// The row of `algorithm`.
const AlgorithmInfo& InfoOf(Algorithm algorithm);

/// The names of `family`'s algorithms: "PPO, A2C" (`last_separator` before the last one).
std::string AlgorithmNames(AlgorithmFamily family, const std::string& last_separator = ", ");

/// The `agent:` keys `algorithm` reads (derived from its reader), sorted.
std::vector<std::string> AgentKeysOf(Algorithm algorithm);

/// Reads the `agent:` section (null: every default) strictly: the algorithm first, then its
/// reader; a key of another algorithm is an error naming the algorithms it belongs to.
AgentConfig ReadAgentConfig(const Tree* agent);

/// Writes `agent` back as an `agent:` map that ReadAgentConfig reads to an equal AgentConfig
/// (every key, defaults included).
Tree AgentConfigToTree(const AgentConfig& agent);

}  // namespace rlpipe::config
