#include "algos/a2c.h"

#include <cmath>
#include <string>

#include "algos/gaussian_loss.h"
#include "core/error.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::algos {
namespace {

// SB3's A2C RMSprop smoothing constant.
constexpr double kRmsPropAlpha = 0.99;

}  // namespace

A2cLossTerms ComputeA2cLoss(const A2cLossInputs& in, const config::A2cConfig& agent) {
  A2cLossTerms terms;

  // Optional advantage normalisation over the whole rollout (unbiased std, as SB3).
  torch::Tensor advantages = in.advantages;
  if (agent.normalize_advantage && advantages.numel() > 1) {
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
  }

  // Policy gradient, value regression and entropy bonus.
  terms.policy_loss = -(advantages * in.log_prob).mean();
  terms.value_loss = torch::mse_loss(in.values, in.returns);
  terms.entropy_loss = -in.entropy.mean();
  terms.loss =
      terms.policy_loss + agent.ent_coef * terms.entropy_loss + agent.vf_coef * terms.value_loss;
  return terms;
}

A2cUpdate::A2cUpdate(const config::A2cConfig& agent, nn::ActorCritic policy)
    : agent_(agent), policy_(std::move(policy)), params_(*policy_) {
  settings_.ppo = false;
  settings_.ent_coef = agent_.ent_coef;
  settings_.vf_coef = agent_.vf_coef;
  settings_.normalize_advantage = agent_.normalize_advantage;
  // SB3: RMSprop(alpha 0.99, eps rms_prop_eps, no weight decay) by default, else Adam.
  if (agent_.use_rms_prop) {
    rms_prop_.emplace(params_, agent_.learning_rate, kRmsPropAlpha, agent_.rms_prop_eps);
  } else {
    adam_.emplace(params_, agent_.learning_rate, 1e-5);
  }
}

void A2cUpdate::SetLearningRate(double learning_rate) {
  if (rms_prop_) rms_prop_->SetLearningRate(learning_rate);
  if (adam_) adam_->SetLearningRate(learning_rate);
}

const torch::optim::Adam* A2cUpdate::AdamOptimizer() const {
  return adam_ ? &adam_->AsTorchAdam() : nullptr;
}

const torch::optim::Optimizer& A2cUpdate::Optimizer() const {
  if (adam_) return adam_->AsTorchAdam();
  return rms_prop_->AsTorchRmsProp();
}

void A2cUpdate::EditOptimizerState(const std::function<void(torch::optim::Optimizer&)>& edit) {
  if (adam_) {
    adam_->EditState([&](torch::optim::Adam& adam) { edit(adam); });
  } else {
    rms_prop_->EditState([&](torch::optim::RMSprop& rms_prop) { edit(rms_prop); });
  }
}

void A2cUpdate::SaveState(torch::serialize::OutputArchive& archive) const {
  if (adam_) {
    adam_->Save(archive);
  } else {
    rms_prop_->Save(archive);
  }
}

void A2cUpdate::LoadState(torch::serialize::InputArchive& archive) {
  if (adam_) {
    adam_->Load(archive);
  } else {
    rms_prop_->Load(archive);
  }
}

std::map<std::string, double> A2cUpdate::Update(const RolloutTensors& rollout,
                                                torch::Generator& /*generator*/,
                                                int64_t timesteps) {
  // Re-evaluate the whole rollout under the current parameters; the loss is one node.
  nn::ActorCriticOutput out = policy_->forward(rollout.obs);
  const GaussianLossBatch batch{rollout.actions, rollout.log_probs, rollout.advantages,
                                rollout.values, rollout.returns};
  const GaussianLossResult terms =
      GaussianLoss(nn::PolicyDistribution(out), out.value, batch, settings_);
  const double loss = terms.loss_value, policy_loss = terms.policy_loss,
               value_loss = terms.value_loss, entropy_loss = terms.entropy_loss;

  // A non-finite loss aborts the session with the step and every term.
  if (!std::isfinite(loss)) {
    throw TrainingError("A2C update at timestep " + std::to_string(timesteps) +
                        ": expected a finite loss, found train/loss=" + std::to_string(loss) +
                        " (policy_loss=" + std::to_string(policy_loss) +
                        ", value_loss=" + std::to_string(value_loss) +
                        ", entropy_loss=" + std::to_string(entropy_loss) + ")");
  }

  // One gradient step with the global norm clipped.
  params_.ZeroGrad();
  terms.loss.backward();
  params_.ClipGradNormAsTorch(agent_.max_grad_norm);
  if (rms_prop_) {
    rms_prop_->Step();
  } else {
    adam_->Step();
  }
  return {{"train/policy_loss", policy_loss},
          {"train/value_loss", value_loss},
          {"train/entropy_loss", entropy_loss},
          {"train/loss", loss}};
}

}  // namespace rlpipe::algos
