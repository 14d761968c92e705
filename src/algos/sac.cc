#include "algos/sac.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "algos/learning_rate.h"
#include "algos/optimizer_state.h"
#include "algos/training_state.h"
#include "core/error.h"

namespace rlpipe::algos {

torch::Tensor SacTarget(const torch::Tensor& rewards, const torch::Tensor& dones,
                        const nn::TwinQValues& next_q, const torch::Tensor& next_log_prob,
                        double ent_coef, double gamma) {
  // Soft value of s' from the smaller target critic, zero past a termination.
  torch::Tensor soft_value = next_q.Min() - ent_coef * next_log_prob;
  return rewards + (1.0 - dones) * gamma * soft_value;
}

torch::Tensor SacActorLoss(const torch::Tensor& log_prob, const nn::TwinQValues& q_pi,
                           double ent_coef) {
  return (ent_coef * log_prob - q_pi.Min()).mean();
}

torch::Tensor EntCoefLoss(const torch::Tensor& log_ent_coef, const torch::Tensor& log_prob,
                          double target_entropy) {
  return -(log_ent_coef * (log_prob + target_entropy).detach()).mean();
}

Sac::Sac(const config::SacConfig& agent, const nn::OffPolicyPolicyOptions& options)
    : agent_(agent),
      policy_(options),
      target_entropy_(agent.target_entropy.value_or(-static_cast<double>(options.act_dim))),
      log_ent_coef_(torch::full({1}, std::log(agent.ent_coef), torch::kFloat32)),
      actor_params_(*policy_->actor),
      critic_params_(*policy_->critic),
      critic_target_params_(*policy_->critic_target),
      actor_optimizer_(actor_params_, agent.learning_rate),
      critic_optimizer_(critic_params_, agent.learning_rate) {
  // log α is learned only with ent_coef auto (initial value ent_coef, 1 for plain `auto`).
  if (agent_.ent_coef_auto) {
    log_ent_coef_.set_requires_grad(true);
    ent_coef_optimizer_.emplace(std::vector<torch::Tensor>{log_ent_coef_},
                                torch::optim::AdamOptions(agent.learning_rate));
  }
}

checkpoint::SaveOptions Sac::CheckpointOptions() const {
  // SB3's SAC: actor and critic optimizers; with automatic α also its optimizer and log α.
  checkpoint::SaveOptions options;
  options.optimizers = {{checkpoint::kActorOptimizerMember, &actor_optimizer_.AsTorchAdam()},
                        {checkpoint::kCriticOptimizerMember, &critic_optimizer_.AsTorchAdam()}};
  if (ent_coef_optimizer_) {
    options.optimizers.push_back({checkpoint::kEntCoefOptimizerMember, &*ent_coef_optimizer_});
    options.pytorch_variables = {{"log_ent_coef", log_ent_coef_.detach().clone()}};
  } else {
    options.pytorch_variables = {{"ent_coef_tensor", torch::tensor(agent_.ent_coef)}};
  }
  return options;
}

double Sac::EntCoef() const { return std::exp(log_ent_coef_.item<double>()); }

torch::Tensor Sac::ExploreAction(const torch::Tensor& obs, torch::Generator& generator) {
  c10::InferenceMode inference;
  nn::SacActorOutput out = policy_->actor->forward(obs);
  return nn::SquashedGaussian(out.mean, out.log_std).Sample(generator).action;
}

torch::Tensor Sac::DeterministicAction(const torch::Tensor& obs) {
  c10::InferenceMode inference;
  nn::SacActorOutput out = policy_->actor->forward(obs);
  return nn::SquashedGaussian(out.mean, out.log_std).Mode();
}

void Sac::SetLearningRate(double learning_rate) {
  actor_optimizer_.SetLearningRate(learning_rate);
  critic_optimizer_.SetLearningRate(learning_rate);
  if (ent_coef_optimizer_) algos::SetLearningRate(*ent_coef_optimizer_, learning_rate);
}

void Sac::SetUpdateThreads(int threads) {
  if (std::min(threads, 2) != tasks_->Threads()) tasks_ = std::make_unique<nn::TaskPair>(threads);
}

void Sac::SaveState(torch::serialize::OutputArchive& archive) const {
  // Each optimizer in its own nested archive, then log α.
  torch::serialize::OutputArchive actor, critic, ent_coef;
  actor_optimizer_.Save(actor);
  critic_optimizer_.Save(critic);
  archive.write("actor_optimizer", actor);
  archive.write("critic_optimizer", critic);
  if (ent_coef_optimizer_) {
    ent_coef_optimizer_->save(ent_coef);
    archive.write("ent_coef_optimizer", ent_coef);
  }
  archive.write("log_ent_coef", log_ent_coef_.detach());
}

void Sac::LoadState(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive actor, critic, ent_coef;
  archive.read("actor_optimizer", actor);
  archive.read("critic_optimizer", critic);
  actor_optimizer_.Load(actor);
  critic_optimizer_.Load(critic);
  if (ent_coef_optimizer_) {
    archive.read("ent_coef_optimizer", ent_coef);
    LoadOptimizer(*ent_coef_optimizer_, ent_coef);
  }
  // log α in place: the optimizer keeps pointing at the same tensor.
  torch::Tensor log_ent_coef;
  archive.read("log_ent_coef", log_ent_coef);
  torch::NoGradGuard no_grad;
  log_ent_coef_.copy_(log_ent_coef);
}

std::map<std::string, double> Sac::TrainStep(const ReplayBatch& batch, torch::Generator& generator,
                                             int64_t timesteps) {
  std::map<std::string, double> losses;

  // The actor at s (with gradients, for the actor and temperature losses) and at s' (for the
  // target), as two tasks.
  nn::SacActorOutput out, next;
  tasks_->Run([&] { out = policy_->actor->forward(batch.obs); },
              [&] {
                torch::NoGradGuard no_grad;
                next = policy_->actor->forward(batch.next_obs);
              });

  // Fresh actions ã ~ π(·|s) (reparameterised).
  nn::SquashedSample pi = nn::SquashedGaussian(out.mean, out.log_std).Sample(generator);

  // Temperature: one Adam step on log α towards the target entropy, using α before the step.
  const double ent_coef = EntCoef();
  if (ent_coef_optimizer_) {
    torch::Tensor ent_coef_loss = EntCoefLoss(log_ent_coef_, pi.log_prob, target_entropy_);
    ent_coef_optimizer_->zero_grad();
    ent_coef_loss.backward();
    ent_coef_optimizer_->step();
    losses["train/ent_coef_loss"] = ent_coef_loss.item<double>();
  }
  losses["train/ent_coef"] = ent_coef;

  // Soft TD target from the target critics (each one task) at a' ~ π(·|s').
  torch::Tensor target;
  {
    torch::NoGradGuard no_grad;
    nn::SquashedSample next_pi = nn::SquashedGaussian(next.mean, next.log_std).Sample(generator);
    nn::TwinQValues next_q =
        policy_->critic_target->forward(batch.next_obs, next_pi.action, *tasks_);
    target =
        SacTarget(batch.rewards, batch.dones, next_q, next_pi.log_prob, ent_coef, agent_.gamma);
  }

  // Critic step on both Q networks (each network's forward and backward one task).
  torch::Tensor critic_loss =
      TwinCriticLoss(policy_->critic->forward(batch.obs, batch.actions, *tasks_), target, 0.5);
  critic_optimizer_.ZeroGrad();
  critic_loss.backward();
  critic_optimizer_.Step(*tasks_);
  losses["train/critic_loss"] = critic_loss.item<double>();

  // Actor step against the updated critics, differentiated through them to ã only (the critics'
  // weights are frozen: no weight gradients that nothing would use); each critic one task.
  torch::Tensor actor_loss;
  {
    nn::FrozenParameters frozen(critic_params_);
    actor_loss = SacActorLoss(pi.log_prob, policy_->critic->forward(batch.obs, pi.action, *tasks_),
                              ent_coef);
    actor_optimizer_.ZeroGrad();
    actor_loss.backward();
  }
  losses["train/actor_loss"] = actor_loss.item<double>();

  // The actor's Adam step, and the target critics following by Polyak averaging, as two tasks.
  tasks_->Run([&] { actor_optimizer_.Step(); },
              [&] { PolyakUpdate(critic_params_, critic_target_params_, agent_.tau); });
  CheckFinite("SAC", timesteps, losses);
  return losses;
}

}  // namespace rlpipe::algos
