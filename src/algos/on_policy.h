#pragma once
/// The on-policy training loop shared by PPO and A2C (rollout collection with auto-reset,
/// truncation bootstrapping, GAE); evaluation, checkpoints and hooks come from loop_common.h
/// (session_start.h before the first step). An algorithm supplies only its update
/// (on_policy_update.h). Free of torch includes, so callers stay cheap to compile.
#include "algos/train.h"
#include "vec/vector_env.h"

namespace rlpipe::algos {

/// The on-policy loop's options are every loop's.
using OnPolicyOptions = LoopOptions;

/// Trains an on-policy algorithm (PPO, A2C) on envs built by `env_factory` (training envs and the
/// separate evaluation env). Train() calls this with a factory over envs::MakeEnv; tests pass
/// their own. ConfigError for an off-policy algorithm.
TrainingResult TrainOnPolicy(const TrainingRequest& request,
                             const vec::VectorEnv::Factory& env_factory,
                             const LoopOptions& options = {});

}  // namespace rlpipe::algos
