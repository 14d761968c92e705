#pragma once
/// Policy selection for the on-policy loop: `agent.policy` and `network:` → the actor-critic
/// network for an env (the SB3 MLP, or the multi-robot network over the env's robot layout).
#include <cstdint>

#include "config/experiment_config.h"
#include "envs/env.h"
#include "nn/actor_critic.h"
#include "nn/multi_robot_policy.h"

namespace rlpipe::algos {

/// The network of `config.agent.policy` for envs with `spec`, initialised from `init_seed`.
/// ConfigError when MultiRobotPolicy meets a task without a robot layout (pendulum).
nn::ActorCritic MakeActorCritic(const config::ExperimentConfig& config, const envs::EnvSpec& spec,
                                uint64_t init_seed);

/// The network's view of an env's robot layout. ConfigError naming `task` when the layout is
/// absent or its blocks are not contiguous in observation and action order.
nn::MultiRobotLayout ToNetworkLayout(const envs::EnvSpec& spec);

}  // namespace rlpipe::algos
