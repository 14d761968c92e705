#include "algos/ppo.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "algos/gaussian_loss.h"
#include "core/error.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::algos {
namespace {

double Mean(const std::vector<double>& x) {
  double sum = 0.0;
  for (double v : x) sum += v;
  return x.empty() ? 0.0 : sum / static_cast<double>(x.size());
}

}  // namespace

PpoLossTerms ComputePpoLoss(const PpoLossInputs& in, const config::PpoConfig& agent) {
  PpoLossTerms terms;

  // Per-minibatch advantage normalisation (unbiased std, as torch's default in SB3).
  torch::Tensor advantages = in.advantages;
  if (agent.normalize_advantage && advantages.numel() > 1) {
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
  }

  // Clipped surrogate objective.
  torch::Tensor log_ratio = in.log_prob - in.old_log_prob;
  torch::Tensor ratio = torch::exp(log_ratio);
  const double eps = agent.clip_range;
  torch::Tensor surrogate = advantages * ratio;
  torch::Tensor clipped = advantages * torch::clamp(ratio, 1.0 - eps, 1.0 + eps);
  terms.policy_loss = -torch::min(surrogate, clipped).mean();

  // Value regression on the GAE returns, and the entropy bonus.
  torch::Tensor values = in.values;
  if (agent.clip_range_vf) {
    const double clip_vf = *agent.clip_range_vf;
    values = in.old_values + torch::clamp(in.values - in.old_values, -clip_vf, clip_vf);
  }
  terms.value_loss = torch::mse_loss(values, in.returns);
  terms.entropy_loss = -in.entropy.mean();
  terms.loss =
      terms.policy_loss + agent.ent_coef * terms.entropy_loss + agent.vf_coef * terms.value_loss;

  // Diagnostics: k3 KL estimate and the share of clipped ratios.
  torch::NoGradGuard no_grad;
  terms.approx_kl = ((ratio - 1.0) - log_ratio).mean();
  terms.clip_fraction = ((ratio - 1.0).abs() > eps).to(torch::kFloat32).mean();
  return terms;
}

PpoUpdate::PpoUpdate(const config::PpoConfig& agent, nn::ActorCritic policy)
    : agent_(agent),
      policy_(std::move(policy)),
      params_(*policy_),
      optimizer_(params_, agent.learning_rate, 1e-5) {
  settings_.ppo = true;
  settings_.clip_range = agent.clip_range;
  settings_.clip_range_vf = agent.clip_range_vf;
  settings_.ent_coef = agent.ent_coef;
  settings_.vf_coef = agent.vf_coef;
  settings_.normalize_advantage = agent.normalize_advantage;
}

void PpoUpdate::SetLearningRate(double learning_rate) { optimizer_.SetLearningRate(learning_rate); }

std::map<std::string, double> PpoUpdate::Update(const RolloutTensors& rollout,
                                                torch::Generator& generator, int64_t timesteps) {
  const int64_t size = rollout.obs.size(0);
  const int64_t batch = agent_.batch_size;
  std::vector<double> policy_losses, value_losses, entropy_losses, approx_kls, clip_fractions;
  double last_loss = 0.0;

  bool keep_training = true;
  for (int epoch = 0; epoch < agent_.n_epochs && keep_training; ++epoch) {
    // A fresh permutation per epoch; the last minibatch may be shorter (as in SB3). The rollout
    // is put in that order once per epoch, so each minibatch is a run of consecutive rows.
    const torch::Tensor order = torch::randperm(size, generator, torch::kLong);
    const torch::Tensor obs = rollout.obs.index_select(0, order);                  // [S, obs_dim]
    const torch::Tensor actions = rollout.actions.index_select(0, order);          // [S, act_dim]
    const torch::Tensor old_log_probs = rollout.log_probs.index_select(0, order);  // [S]
    const torch::Tensor advantages = rollout.advantages.index_select(0, order);    // [S]
    const torch::Tensor old_values = rollout.values.index_select(0, order);        // [S]
    const torch::Tensor returns = rollout.returns.index_select(0, order);          // [S]
    for (int64_t start = 0; start < size; start += batch) {
      const int64_t rows = std::min(batch, size - start);

      // Re-evaluate the stored actions under the current parameters; the loss is one node.
      nn::ActorCriticOutput out = policy_->forward(obs.narrow(0, start, rows));
      const GaussianLossBatch minibatch{
          actions.narrow(0, start, rows), old_log_probs.narrow(0, start, rows),
          advantages.narrow(0, start, rows), old_values.narrow(0, start, rows),
          returns.narrow(0, start, rows)};
      const GaussianLossResult terms =
          GaussianLoss(nn::PolicyDistribution(out), out.value, minibatch, settings_);
      const double loss = terms.loss_value, policy_loss = terms.policy_loss,
                   value_loss = terms.value_loss, entropy_loss = terms.entropy_loss,
                   approx_kl = terms.approx_kl, clip_fraction = terms.clip_fraction;

      // A non-finite loss aborts the session with the step and every term.
      if (!std::isfinite(loss)) {
        throw TrainingError("PPO update at timestep " + std::to_string(timesteps) +
                            ": expected a finite loss, found train/loss=" + std::to_string(loss) +
                            " (policy_gradient_loss=" + std::to_string(policy_loss) +
                            ", value_loss=" + std::to_string(value_loss) +
                            ", entropy_loss=" + std::to_string(entropy_loss) + ")");
      }
      policy_losses.push_back(policy_loss);
      value_losses.push_back(value_loss);
      entropy_losses.push_back(entropy_loss);
      approx_kls.push_back(approx_kl);
      clip_fractions.push_back(clip_fraction);
      last_loss = loss;

      // target_kl: the policy moved too far from the one that collected; no step, no more epochs.
      if (agent_.target_kl && approx_kl > 1.5 * *agent_.target_kl) {
        keep_training = false;
        break;
      }

      // Gradient step with the global norm clipped, on the flat buffers.
      params_.ZeroGrad();
      terms.loss.backward();
      params_.ClipGradNorm(agent_.max_grad_norm);
      optimizer_.Step();
    }
  }

  // Means over every minibatch, as SB3 logs them (train/loss is the last minibatch's).
  return {
      {"train/policy_gradient_loss", Mean(policy_losses)}, {"train/value_loss", Mean(value_losses)},
      {"train/entropy_loss", Mean(entropy_losses)},        {"train/approx_kl", Mean(approx_kls)},
      {"train/clip_fraction", Mean(clip_fractions)},       {"train/loss", last_loss}};
}

}  // namespace rlpipe::algos
