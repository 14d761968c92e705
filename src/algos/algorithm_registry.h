#pragma once
/// The code side of the algorithm registry (DESIGN.md, extension point 3): one row per algorithm
/// with what its family's shared loop calls. The config side (name, family, `agent:` reader,
/// default network, SB3 policy class) is config/algorithms.h, keyed by the same config::Algorithm;
/// it lives in `config` because the YAML loader, `rlpipe config` and the fuzz targets read configs
/// without LibTorch. algorithm_sweep_test checks both tables hold the same algorithms.
#include <cstdint>
#include <memory>
#include <vector>

#include "algos/off_policy_update.h"
#include "algos/on_policy_update.h"
#include "config/agent_config.h"
#include "nn/actor_critic.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::algos {

/// One algorithm's code: exactly one factory is set, the one of its family.
struct AlgorithmRow {
  config::Algorithm algorithm = config::Algorithm::kPpo;
  /// On-policy: the update the on-policy loop runs on each rollout (`agent` holds this
  /// algorithm's settings).
  std::unique_ptr<OnPolicyUpdate> (*make_update)(const config::AgentConfig& agent,
                                                 nn::ActorCritic policy) = nullptr;
  /// Off-policy: the networks, acting and gradient step the off-policy loop runs; checkpoint
  /// members beyond the policy come from OffPolicyAlgorithm::CheckpointOptions.
  std::unique_ptr<OffPolicyAlgorithm> (*make_off_policy)(
      const config::AgentConfig& agent, const nn::OffPolicyPolicyOptions& options) = nullptr;
};

/// Every algorithm's row, in the order of config::Algorithms().
const std::vector<AlgorithmRow>& AlgorithmRegistry();

/// The row of `algorithm`; ConfigError when it has none.
const AlgorithmRow& RowOf(config::Algorithm algorithm);

}  // namespace rlpipe::algos
