#pragma once
/// The on-policy training loop shared by PPO and A2C (rollout collection with auto-reset,
/// truncation bootstrapping, GAE, evaluation, checkpoints, hooks). An algorithm supplies only its
/// update (on_policy_update.h). Free of torch includes, so callers stay cheap to compile.
#include <string>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "vec/vector_env.h"

namespace rlpipe::algos {

/// Intra-op threads LibTorch uses for the small MLPs (measured with bench/ppo_pendulum_learning:
/// 1 thread is faster than 2 for 64x64 networks; see the bench's --torch-threads flag).
inline constexpr int kDefaultTorchThreads = 1;

/// Knobs of the loop that are not part of the experiment config.
struct OnPolicyOptions {
  int torch_threads = kDefaultTorchThreads;  // torch::set_num_threads for the session, >= 1
};

/// Trains an on-policy algorithm on envs built by `env_factory` (training envs and the separate
/// evaluation env). Train() calls this with a factory over envs::MakeEnv; tests pass their own.
TrainingResult TrainOnPolicy(const TrainingRequest& request,
                             const vec::VectorEnv::Factory& env_factory,
                             const OnPolicyOptions& options = {});

/// ConfigError "agent.algorithm: X is not implemented yet (available: PPO)".
[[noreturn]] void ThrowNotImplemented(config::Algorithm algorithm);

}  // namespace rlpipe::algos
