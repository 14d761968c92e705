#include "algos/td3.h"

#include <algorithm>
#include <string>

#include "algos/training_state.h"
#include "core/error.h"

namespace rlpipe::algos {

torch::Tensor SmoothedTargetAction(const torch::Tensor& target_actions, const torch::Tensor& noise,
                                   double noise_clip) {
  return torch::clamp(target_actions + torch::clamp(noise, -noise_clip, noise_clip), -1.0, 1.0);
}

torch::Tensor Td3Target(const torch::Tensor& rewards, const torch::Tensor& dones,
                        const nn::TwinQValues& next_q, double gamma) {
  return rewards + (1.0 - dones) * gamma * next_q.Min();
}

torch::Tensor Td3ActorLoss(const torch::Tensor& q0) { return -q0.mean(); }

Td3::Td3(const config::Td3Config& agent, const nn::OffPolicyPolicyOptions& options)
    : agent_(agent),
      policy_(options),
      actor_params_(*policy_->actor),
      actor_target_params_(*policy_->actor_target),
      critic_params_(*policy_->critic),
      critic_target_params_(*policy_->critic_target),
      actor_optimizer_(actor_params_, agent.learning_rate),
      critic_optimizer_(critic_params_, agent.learning_rate) {}

checkpoint::SaveOptions Td3::CheckpointOptions() const {
  checkpoint::SaveOptions options;
  options.optimizers = {{checkpoint::kActorOptimizerMember, &actor_optimizer_.AsTorchAdam()},
                        {checkpoint::kCriticOptimizerMember, &critic_optimizer_.AsTorchAdam()}};
  return options;
}

torch::Tensor Td3::ExploreAction(const torch::Tensor& obs, torch::Generator& /*generator*/) {
  return DeterministicAction(obs);
}

torch::Tensor Td3::DeterministicAction(const torch::Tensor& obs) {
  c10::InferenceMode inference;
  return policy_->actor->forward(obs);
}

void Td3::SetLearningRate(double learning_rate) {
  actor_optimizer_.SetLearningRate(learning_rate);
  critic_optimizer_.SetLearningRate(learning_rate);
}

void Td3::SetUpdateThreads(int threads) {
  if (std::min(threads, 2) != tasks_->Threads()) tasks_ = std::make_unique<nn::TaskPair>(threads);
}

void Td3::SaveState(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive actor, critic;
  actor_optimizer_.Save(actor);
  critic_optimizer_.Save(critic);
  archive.write("actor_optimizer", actor);
  archive.write("critic_optimizer", critic);
  WriteScalar(archive, "n_updates", static_cast<double>(n_updates_));
  WriteScalar(archive, "last_actor_loss", last_actor_loss_);
}

void Td3::LoadState(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive actor, critic;
  archive.read("actor_optimizer", actor);
  archive.read("critic_optimizer", critic);
  actor_optimizer_.Load(actor);
  critic_optimizer_.Load(critic);
  n_updates_ = static_cast<int64_t>(ReadScalar(archive, "n_updates"));
  last_actor_loss_ = ReadScalar(archive, "last_actor_loss");
}

std::map<std::string, double> Td3::TrainStep(const ReplayBatch& batch, torch::Generator& generator,
                                             int64_t timesteps) {
  ++n_updates_;
  const bool actor_step = n_updates_ % agent_.policy_delay == 0;
  std::map<std::string, double> losses;

  // The target actor at s' and, when the actor steps, μ(s) (with gradients), as two tasks.
  torch::Tensor next_actions, actions;  // [B, act_dim]
  auto target_actor = [&] {
    torch::NoGradGuard no_grad;
    next_actions = policy_->actor_target->forward(batch.next_obs);
  };
  if (actor_step) {
    tasks_->Run(target_actor, [&] { actions = policy_->actor->forward(batch.obs); });
  } else {
    target_actor();
  }

  // Target with policy smoothing: clipped noise on the target actor's action; each target critic
  // one task.
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor noise = at::normal(0.0, agent_.target_policy_noise, next_actions.sizes(),
                                     generator, next_actions.options());
    torch::Tensor smoothed = SmoothedTargetAction(next_actions, noise, agent_.target_noise_clip);
    target =
        Td3Target(batch.rewards, batch.dones,
                  policy_->critic_target->forward(batch.next_obs, smoothed, *tasks_), agent_.gamma);
  }

  // Critic step on both Q networks (each network's forward and backward one task).
  torch::Tensor critic_loss =
      TwinCriticLoss(policy_->critic->forward(batch.obs, batch.actions, *tasks_), target, 1.0);
  critic_optimizer_.ZeroGrad();
  critic_loss.backward();
  critic_optimizer_.Step(*tasks_);
  losses["train/critic_loss"] = critic_loss.item<double>();

  // Delayed actor step, then both targets follow by Polyak averaging.
  if (actor_step) {
    // Differentiated through Q_0 to the action only (the critics' weights are frozen).
    torch::Tensor actor_loss;
    {
      nn::FrozenParameters frozen(critic_params_);
      actor_loss = Td3ActorLoss(policy_->critic->Q0(batch.obs, actions));
      actor_optimizer_.ZeroGrad();
      actor_loss.backward();
    }
    last_actor_loss_ = actor_loss.item<double>();
    // The actor's Adam step then its target's Polyak averaging, and the target critics', as two
    // tasks.
    tasks_->Run(
        [&] {
          actor_optimizer_.Step();
          PolyakUpdate(actor_params_, actor_target_params_, agent_.tau);
        },
        [&] { PolyakUpdate(critic_params_, critic_target_params_, agent_.tau); });
  }
  losses["train/actor_loss"] = last_actor_loss_;
  CheckFinite("TD3", timesteps, losses);
  return losses;
}

}  // namespace rlpipe::algos
