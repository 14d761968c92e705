#include "algos/ppo.h"

#include <cmath>
#include <string>
#include <vector>

#include "algos/loop_common.h"
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
      optimizer_(policy_->parameters(), torch::optim::AdamOptions(agent.learning_rate).eps(1e-5)) {}

void PpoUpdate::SetLearningRate(double learning_rate) {
  algos::SetLearningRate(optimizer_, learning_rate);
}

std::map<std::string, double> PpoUpdate::Update(const RolloutTensors& rollout,
                                                torch::Generator& generator, int64_t timesteps) {
  const int64_t size = rollout.obs.size(0);
  const int64_t batch = agent_.batch_size;
  std::vector<double> policy_losses, value_losses, entropy_losses, approx_kls, clip_fractions;
  double last_loss = 0.0;

  bool keep_training = true;
  for (int epoch = 0; epoch < agent_.n_epochs && keep_training; ++epoch) {
    // A fresh permutation per epoch; the last minibatch may be shorter (as in SB3).
    torch::Tensor order = torch::randperm(size, generator, torch::kLong);
    for (int64_t start = 0; start < size; start += batch) {
      torch::Tensor idx = order.slice(0, start, std::min(start + batch, size));  // [B]

      // Re-evaluate the stored actions under the current parameters.
      nn::ActorCriticOutput out = policy_->forward(rollout.obs.index_select(0, idx));
      const nn::DiagGaussian dist = nn::PolicyDistribution(out);
      torch::Tensor actions = rollout.actions.index_select(0, idx);  // [B, act_dim]
      PpoLossInputs in{dist.LogProb(actions),
                       rollout.log_probs.index_select(0, idx),
                       rollout.advantages.index_select(0, idx),
                       out.value,
                       rollout.values.index_select(0, idx),
                       rollout.returns.index_select(0, idx),
                       dist.Entropy()};
      PpoLossTerms terms = ComputePpoLoss(in, agent_);

      // A non-finite loss aborts the session with the step and every term.
      const double loss = terms.loss.item<double>();
      const double policy_loss = terms.policy_loss.item<double>();
      const double value_loss = terms.value_loss.item<double>();
      const double entropy_loss = terms.entropy_loss.item<double>();
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
      approx_kls.push_back(terms.approx_kl.item<double>());
      clip_fractions.push_back(terms.clip_fraction.item<double>());
      last_loss = loss;

      // target_kl: the policy moved too far from the one that collected; no step, no more epochs.
      if (agent_.target_kl && approx_kls.back() > 1.5 * *agent_.target_kl) {
        keep_training = false;
        break;
      }

      // Gradient step with the global norm clipped.
      optimizer_.zero_grad();
      terms.loss.backward();
      torch::nn::utils::clip_grad_norm_(policy_->parameters(), agent_.max_grad_norm);
      optimizer_.step();
    }
  }

  // Means over every minibatch, as SB3 logs them (train/loss is the last minibatch's).
  return {
      {"train/policy_gradient_loss", Mean(policy_losses)}, {"train/value_loss", Mean(value_losses)},
      {"train/entropy_loss", Mean(entropy_losses)},        {"train/approx_kl", Mean(approx_kls)},
      {"train/clip_fraction", Mean(clip_fractions)},       {"train/loss", last_loss}};
}

}  // namespace rlpipe::algos
