#pragma once
/// The off-policy training loop shared by SAC and TD3 (uniform random warm-up, exploration noise,
/// replay, training cadence); evaluation, checkpoints and hooks come from loop_common.h
/// (session_start.h before the first step). An algorithm supplies only its networks and gradient
/// step (off_policy_update.h). Free of torch includes, so callers stay cheap to compile.
#include "algos/train.h"
#include "vec/vector_env.h"

namespace rlpipe::algos {

/// Trains an off-policy algorithm (SAC, TD3) on envs built by `env_factory`. Progress events
/// come every `training.log_interval` finished episodes (SB3's off-policy log_interval).
/// ConfigError for an on-policy algorithm.
TrainingResult TrainOffPolicy(const TrainingRequest& request,
                              const vec::VectorEnv::Factory& env_factory,
                              const LoopOptions& options = {});

}  // namespace rlpipe::algos
