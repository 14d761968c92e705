#include "algos/saved_policy.h"

#include <torch/torch.h>

#include <algorithm>
#include <optional>

#include "algos/off_policy_update.h"
#include "algos/policy_factory.h"
#include "algos/session_start.h"
#include "algos/tensor_copy.h"
#include "algos/train.h"
#include "core/seed.h"
#include "nn/actor_critic.h"
#include "nn/diag_gaussian.h"
#include "nn/threads.h"

namespace rlpipe::algos {

struct SavedPolicy::Impl {
  Impl(const config::ExperimentConfig& config, const envs::EnvSpec& spec)
      : box(spec.action_space),
        normalizer(config.training.normalize, config.agent.common().gamma, 1,
                   spec.observation_space.Dim()),
        generator(nn::MakeGenerator(0)) {}

  // Policy-scale actions in [-1, 1] (SAC/TD3) → the env's box; Gaussian ones clipped to it.
  void Unscale(const std::vector<float>& scaled, std::vector<float>& out) const {
    out.resize(scaled.size());
    for (size_t k = 0; k < scaled.size(); ++k) {
      out[k] = box.low[k] + 0.5f * (scaled[k] + 1.0f) * (box.high[k] - box.low[k]);
    }
  }
  void Clip(const std::vector<float>& raw, std::vector<float>& out) const {
    out.resize(raw.size());
    for (size_t k = 0; k < raw.size(); ++k) out[k] = std::clamp(raw[k], box.low[k], box.high[k]);
  }

  envs::Box box;
  vec::VecNormalizer normalizer;
  torch::Generator generator;
  nn::ActorCritic actor_critic{nullptr};           // PPO, A2C
  std::unique_ptr<OffPolicyAlgorithm> off_policy;  // SAC, TD3
  std::vector<float> raw;
  std::string transfer_summary;
};

SavedPolicy::SavedPolicy(const std::filesystem::path& model_path,
                         const config::ExperimentConfig& config, const envs::EnvSpec& spec)
    : impl_(std::make_unique<Impl>(config, spec)) {
  // The training loops' setup: one intra-op thread (the evaluations they record used one).
  nn::SetIntraOpThreads(kDefaultTorchThreads);
  const uint64_t init_seed = DeriveSeed(config.training.seed.value_or(0), "init");
  torch::nn::Module* module = nullptr;
  // The family decides the networks: an actor-critic, or the off-policy algorithm's.
  if (config.agent.on_policy() != nullptr) {
    impl_->actor_critic = MakeActorCritic(config, spec, init_seed);
    module = impl_->actor_critic.get();
  } else {
    impl_->off_policy =
        MakeOffPolicyAlgorithm(config.agent, config.network,
                               {spec.observation_space.Dim(), spec.action_space.Dim()}, init_seed);
    module = &impl_->off_policy->Policy();
  }

  // The weights (and normaliser statistics) by the session transfer rules; a fresh network
  // initialisation fills only what the model does not have.
  TrainingRequest request;
  request.config = config;
  request.init_checkpoint = model_path;
  request.transfer.reset_optimizer = true;
  request.hooks.on_transfer = [this](const checkpoint::TransferReport& report) {
    impl_->transfer_summary = report.SummaryLine("model");
  };
  TransferInitialWeights(request, spec, *module, nullptr, impl_->normalizer);
}

SavedPolicy::~SavedPolicy() = default;

void SavedPolicy::Act(std::span<const float> obs, std::vector<float>& action) {
  torch::NoGradGuard no_grad;
  const auto obs_dim = static_cast<int64_t>(obs.size());
  if (impl_->actor_critic) {
    CopyOut(impl_->actor_critic->forward(ToTensor(obs, 1, obs_dim)).mean, impl_->raw);
    impl_->Clip(impl_->raw, action);
  } else {
    CopyOut(impl_->off_policy->DeterministicAction(ToTensor(obs, 1, obs_dim)), impl_->raw);
    impl_->Unscale(impl_->raw, action);
  }
}

void SavedPolicy::Sample(std::span<const float> obs, std::vector<float>& action) {
  torch::NoGradGuard no_grad;
  const auto obs_dim = static_cast<int64_t>(obs.size());
  if (impl_->actor_critic) {
    const nn::ActorCriticOutput out = impl_->actor_critic->forward(ToTensor(obs, 1, obs_dim));
    CopyOut(nn::PolicyDistribution(out).Sample(impl_->generator), impl_->raw);
    impl_->Clip(impl_->raw, action);
  } else {
    CopyOut(impl_->off_policy->ExploreAction(ToTensor(obs, 1, obs_dim), impl_->generator),
            impl_->raw);
    impl_->Unscale(impl_->raw, action);
  }
}

void SavedPolicy::Reseed(uint64_t seed) { impl_->generator = nn::MakeGenerator(seed); }

const vec::VecNormalizer& SavedPolicy::normalizer() const { return impl_->normalizer; }

const std::string& SavedPolicy::TransferSummary() const { return impl_->transfer_summary; }

}  // namespace rlpipe::algos
