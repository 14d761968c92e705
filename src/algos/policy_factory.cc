#include "algos/policy_factory.h"

#include <string>

#include "core/error.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::algos {

nn::MultiRobotLayout ToNetworkLayout(const envs::EnvSpec& spec) {
  if (!spec.robot_layout) {
    throw ConfigError(
        "agent.policy: MultiRobotPolicy needs a multi-robot task (one with per-robot "
        "observation blocks); task " +
        spec.name + " has none, use MlpPolicy");
  }

  // Robot blocks must tile the observation's head and the whole action, type after type.
  const envs::RobotLayout& layout = *spec.robot_layout;
  nn::MultiRobotLayout out;
  int obs_end = 0;
  int act_end = 0;
  for (const envs::RobotGroupLayout& group : layout.groups) {
    if (group.obs_offset != obs_end || group.act_offset != act_end) {
      throw ConfigError("task " + spec.name + ": robot type " + group.type +
                        " is not contiguous with the previous type's blocks (observation offset " +
                        std::to_string(group.obs_offset) + ", expected " + std::to_string(obs_end) +
                        ")");
    }
    out.types.push_back({.type = group.type,
                         .count = group.count,
                         .obs_dim = group.obs_dim,
                         .act_dim = group.act_dim});
    obs_end += group.count * group.obs_dim;
    act_end += group.count * group.act_dim;
  }
  out.task_obs_dim = layout.task_obs_dim;
  if (layout.task_obs_offset != obs_end || out.ObsDim() != spec.observation_space.Dim() ||
      act_end != spec.action_space.Dim()) {
    throw ConfigError("task " + spec.name + ": its robot layout does not cover the observation (" +
                      std::to_string(out.ObsDim()) + " of " +
                      std::to_string(spec.observation_space.Dim()) + ") and action (" +
                      std::to_string(act_end) + " of " + std::to_string(spec.action_space.Dim()) +
                      ") exactly");
  }
  return out;
}

nn::ActorCritic MakeActorCritic(const config::ExperimentConfig& config, const envs::EnvSpec& spec,
                                uint64_t init_seed) {
  const config::NetworkConfig& network = config.network;
  const config::OnPolicyConfig* agent = config.agent.on_policy();
  if (agent == nullptr) {
    throw ConfigError("agent.algorithm: an actor-critic trains with an on-policy algorithm, not " +
                      config::ToString(config.agent.algorithm()));
  }
  switch (agent->policy) {
    case config::Policy::kMlp: {
      // SB3's MlpPolicy over the flat observation.
      nn::MlpActorCriticOptions options;
      options.obs_dim = spec.observation_space.Dim();
      options.act_dim = spec.action_space.Dim();
      options.policy_layers = network.policy_layers;
      options.value_layers = network.value_layers;
      options.activation = network.activation;
      options.log_std_init = agent->log_std_init;
      options.use_sde = agent->use_sde;
      options.ortho_init = network.ortho_init;
      options.init_seed = init_seed;
      return nn::MlpActorCritic(options);
    }
    case config::Policy::kMultiRobot: {
      // The entity network over the task's robot layout.
      nn::MultiRobotPolicyOptions options;
      options.layout = ToNetworkLayout(spec);
      options.embed_dim = network.embed_dim;
      options.attention_heads = network.attention_heads;
      options.attention_layers = network.attention_layers;
      options.policy_layers = network.policy_layers;
      options.value_layers = network.value_layers;
      options.activation = network.activation;
      options.log_std_init = agent->log_std_init;
      options.init_seed = init_seed;
      return nn::MultiRobotPolicy(options);
    }
  }
  throw ConfigError("agent.policy: unknown value " +
                    std::to_string(static_cast<int>(agent->policy)));
}

}  // namespace rlpipe::algos
