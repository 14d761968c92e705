#include "algos/algorithm_registry.h"

#include <string>
#include <utility>

#include "algos/a2c.h"
#include "algos/ppo.h"
#include "algos/sac.h"
#include "algos/td3.h"
#include "config/algorithms.h"
#include "core/error.h"

namespace rlpipe::algos {
namespace {

// An on-policy row: `Update` is built from its settings struct `Settings` and the policy.
template <typename Settings, typename Update>
AlgorithmRow OnPolicyRow() {
  AlgorithmRow row;
  row.algorithm = config::AgentConfig{Settings{}}.algorithm();
  row.make_update = [](const config::AgentConfig& agent,
                       nn::ActorCritic policy) -> std::unique_ptr<OnPolicyUpdate> {
    return std::make_unique<Update>(agent.Get<Settings>(), std::move(policy));
  };
  return row;
}

// An off-policy row: `Algorithm` is built from `Settings` and the network options.
template <typename Settings, typename Algorithm>
AlgorithmRow OffPolicyRow() {
  AlgorithmRow row;
  row.algorithm = config::AgentConfig{Settings{}}.algorithm();
  row.make_off_policy =
      [](const config::AgentConfig& agent,
         const nn::OffPolicyPolicyOptions& options) -> std::unique_ptr<OffPolicyAlgorithm> {
    return std::make_unique<Algorithm>(agent.Get<Settings>(), options);
  };
  return row;
}

}  // namespace

const std::vector<AlgorithmRow>& AlgorithmRegistry() {
  static const std::vector<AlgorithmRow> rows = {
      OnPolicyRow<config::PpoConfig, PpoUpdate>(),
      OnPolicyRow<config::A2cConfig, A2cUpdate>(),
      OffPolicyRow<config::SacConfig, Sac>(),
      OffPolicyRow<config::Td3Config, Td3>(),
  };
  return rows;
}

const AlgorithmRow& RowOf(config::Algorithm algorithm) {
  for (const AlgorithmRow& row : AlgorithmRegistry()) {
    if (row.algorithm == algorithm) return row;
  }
  throw ConfigError("agent.algorithm: " + config::ToString(algorithm) +
                    " has no entry in algos::AlgorithmRegistry()");
}

}  // namespace rlpipe::algos
