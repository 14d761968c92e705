#include "algos/on_policy.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "algos/algorithm_registry.h"
#include "algos/learning_rate.h"
#include "algos/loop_common.h"
#include "algos/normalizer_members.h"
#include "algos/on_policy_update.h"
#include "algos/policy_factory.h"
#include "algos/rollout_buffer.h"
#include "algos/session_start.h"
#include "algos/tensor_copy.h"
#include "algos/training_state.h"
#include "checkpoint/checkpoint.h"
#include "config/algorithms.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/actor_critic.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Clips actions [N, act_dim] into the action box (what the env receives).
void ClipToBox(const std::vector<float>& actions, const envs::Box& box, std::vector<float>& out) {
  const size_t dim = box.low.size();
  out.resize(actions.size());
  for (size_t k = 0; k < actions.size(); ++k) {
    out[k] = std::clamp(actions[k], box.low[k % dim], box.high[k % dim]);
  }
}

/// The state of one on-policy session.
class OnPolicyRun {
 public:
  OnPolicyRun(const TrainingRequest& request, const vec::VectorEnv::Factory& env_factory,
              const LoopOptions& loop_options)
      : request_(request),
        agent_(*request.config.agent.on_policy()),
        training_(request.config.training),
        envs_(training_.n_envs, loop_options.env_threads, env_factory),
        spec_(envs_.Spec()),
        generator_(nn::MakeGenerator(DeriveSeed(request.seed, "sampler"))),
        buffer_(agent_.n_steps, training_.n_envs, envs_.ObsDim(), envs_.ActDim()),
        normalizer_(training_.normalize, agent_.gamma, training_.n_envs, envs_.ObsDim()),
        common_(
            request, env_factory, loop_options.eval_threads,
            [this](std::span<const float> obs, std::vector<float>& action) { Act(obs, action); },
            [this](const fs::path& path, bool state) { Save(path, state); }, &normalizer_) {
    // The policy (agent.policy), initialised from the request seed, then optionally from a
    // checkpoint (a resumed session takes its weights from the resume checkpoint instead).
    policy_ = MakeActorCritic(request.config, spec_, DeriveSeed(request.seed, "init"));
    update_ = MakeOnPolicyUpdate(request.config.agent, policy_);
    if (request.resume_checkpoint) {
      Resume(*request.resume_checkpoint);
    } else if (request.init_checkpoint) {
      update_->EditOptimizerState([&](torch::optim::Optimizer& optimizer) {
        TransferInitialWeights(request, spec_, *policy_, &optimizer, normalizer_);
      });
    }
  }

  TrainingResult Run();

 private:
  // Exact resume: weights, then the rlpipe_training_state member.
  void Resume(const fs::path& path);
  // One batched env step with acting, bootstrapping and storage.
  void CollectStep();
  void Update();
  // The deterministic (mean) action for one observation, clipped to the box.
  void Act(std::span<const float> obs, std::vector<float>& action);
  void Save(const fs::path& path, bool training_state);

  const TrainingRequest& request_;
  const config::OnPolicyConfig& agent_;
  const config::TrainingConfig& training_;
  vec::ThreadedVectorEnv envs_;
  envs::EnvSpec spec_;
  torch::Generator generator_;
  RolloutBuffer buffer_;
  vec::VecNormalizer normalizer_;
  nn::ActorCritic policy_{nullptr};
  std::unique_ptr<OnPolicyUpdate> update_;
  LoopCommon common_;
  int64_t rollouts_ = 0;
  bool resumed_ = false;
  int restarted_envs_ = 0;
  std::map<std::string, double> losses_;

  // Per-step scratch buffers, [N, dim] row-major; obs_ is the policy's (normalised) view.
  std::vector<float> obs_, next_obs_, final_obs_;
  std::vector<float> actions_, clipped_, values_, log_probs_, rewards_, final_values_;
  std::vector<uint8_t> dones_;
  torch::Tensor exploration_;  // gSDE: [N, latent, act_dim] noise matrices of the current period
};

void OnPolicyRun::Resume(const fs::path& path) {
  // Weights from policy.pth, everything else from the training-state member.
  const std::string origin = path.string();
  const checkpoint::LoadedModel model = checkpoint::LoadModel(path);
  checkpoint::RequirePolicy(model, agent_.policy, origin);
  checkpoint::LoadWeightsInto(*policy_, model.state_dict, origin);
  // The order Save wrote: the shared head, rollout, optimizer.
  ByteReader reader =
      common_.RestoreSharedState(model, origin, generator_, normalizer_, envs_, restarted_envs_);
  rollouts_ = reader.Get<int64_t>();
  buffer_.Restore(reader.GetString());
  if (agent_.use_sde) {
    const std::vector<float> exploration = reader.GetVector<float>();
    const torch::Tensor log_std = policy_->ActionLogStd();
    const int64_t expected = envs_.Size() * log_std.numel();
    if (!exploration.empty() && static_cast<int64_t>(exploration.size()) != expected) {
      throw IoError(origin + ": expected " + std::to_string(expected) +
                    " gSDE noise values, found " + std::to_string(exploration.size()));
    }
    if (!exploration.empty()) {
      exploration_ = ToTensor(exploration, envs_.Size(), log_std.numel())
                         .reshape({envs_.Size(), log_std.size(0), log_std.size(1)});
    }
  }
  torch::serialize::InputArchive archive;
  LoadArchiveBytes(archive, reader.GetString(), origin + " optimizer state");
  update_->LoadState(archive);
  reader.Finish();
  resumed_ = true;
  common_.Message("resumed from " + origin + " at " + std::to_string(common_.timesteps()) +
                  " steps" +
                  (restarted_envs_ > 0 ? " (" + std::to_string(restarted_envs_) +
                                             " envs restarted their episode: no state capture)"
                                       : ""));
}

TrainingResult OnPolicyRun::Run() {
  // First observations, merged into the normaliser's statistics (a resumed run has its envs and
  // statistics back), then the policy's normalised view of them.
  if (!resumed_) normalizer_.ObserveReset(envs_.Reset(DeriveSeed(request_.seed, "envs")));
  const std::vector<float>& current = envs_.Observations();
  obs_.assign(current.begin(), current.end());
  normalizer_.NormalizeObs(obs_);
  const int64_t resumed_from = common_.timesteps();
  if (request_.hooks.on_start) request_.hooks.on_start(resumed_from);
  while (!common_.Done()) {
    // Collect one rollout of n_steps per env (a resumed one may be part-filled or full), stopping
    // between steps when asked (or when an early-stopping rule fired; the partial rollout is not
    // learned from, as in SB3).
    while (!buffer_.Full() && !common_.Done() && !common_.CheckStop()) CollectStep();
    if (common_.Done()) break;

    // Learn from it, then start the next rollout until the step budget is spent.
    Update();
    buffer_.Clear();
    ++rollouts_;
    if (rollouts_ % training_.log_interval == 0) common_.EmitProgress(losses_);
    if (common_.timesteps() >= training_.total_timesteps) break;
  }
  TrainingResult result = common_.Finish(losses_);
  result.resumed_from_timesteps = resumed_ ? resumed_from : 0;
  result.restarted_envs = restarted_envs_;
  return result;
}

void OnPolicyRun::CollectStep() {
  const Clock::time_point start = Clock::now();
  const int64_t n = envs_.Size();
  const int64_t obs_dim = envs_.ObsDim();
  TimeSplit& split = common_.time_split();

  // Act: sample from the current policy (stored unclipped), clip only what the env sees.
  {
    c10::InferenceMode inference;
    nn::ActorCriticOutput out = policy_->ActForward(ToTensor(obs_, n, obs_dim));
    // The distribution only where it is used: sampling without gSDE, the stored log-probability.
    std::optional<nn::DiagGaussian> dist;
    const auto distribution = [&]() -> const nn::DiagGaussian& {
      if (!dist) dist.emplace(nn::PolicyDistribution(out));
      return *dist;
    };
    torch::Tensor actions;  // [N, act_dim]
    if (agent_.use_sde) {
      // gSDE: new noise matrices at each rollout's start and every sde_sample_freq steps.
      const int step_in_rollout = buffer_.Steps();
      if (step_in_rollout == 0 ||
          (agent_.sde_sample_freq > 0 && step_in_rollout % agent_.sde_sample_freq == 0)) {
        exploration_ = nn::DrawExploration(out.log_std, n, generator_);
      }
      actions = nn::ExploreAction(out, exploration_);
    } else {
      actions = distribution().Sample(generator_);
    }
    CopyOut(actions, actions_);
    if (update_->UsesCollectionLogProbs()) {
      CopyOut(distribution().LogProb(actions), log_probs_);
    } else {
      log_probs_.assign(static_cast<size_t>(n), 0.0f);  // stored, never read (A2C)
    }
    CopyOut(out.value, values_);
  }
  ClipToBox(actions_, spec_.action_space, clipped_);
  const Clock::time_point env_start = Clock::now();
  split.inference_seconds += std::chrono::duration<double>(env_start - start).count();
  const vec::BatchStep& step = envs_.Step(clipped_);
  const Clock::time_point env_end = Clock::now();
  split.env_step_seconds += std::chrono::duration<double>(env_end - env_start).count();

  // Statistics from the raw step, then the policy's view: normalised obs, final obs, rewards.
  dones_.resize(static_cast<size_t>(n));
  bool any_truncated = false;
  for (size_t i = 0; i < dones_.size(); ++i) {
    dones_[i] = step.terminated[i] || step.truncated[i];
    any_truncated = any_truncated || (step.truncated[i] && !step.terminated[i]);
  }
  normalizer_.ObserveStep(step.obs, step.rewards, dones_);
  next_obs_.assign(step.obs.begin(), step.obs.end());
  normalizer_.NormalizeObs(next_obs_);
  rewards_.assign(step.rewards.begin(), step.rewards.end());
  normalizer_.NormalizeRewards(rewards_);

  split.buffer_seconds += SecondsSince(env_end);

  // Truncated episodes keep their future through γ V(final_obs) in the reward (SB3).
  if (any_truncated) {
    const Clock::time_point bootstrap_start = Clock::now();
    final_obs_.assign(step.final_obs.begin(), step.final_obs.end());
    normalizer_.NormalizeObs(final_obs_);
    c10::InferenceMode inference;
    CopyOut(policy_->ActValue(ToTensor(final_obs_, n, obs_dim)), final_values_);
    AddTruncationBootstrap(rewards_, step.terminated, step.truncated, final_values_, agent_.gamma);
    split.inference_seconds += SecondsSince(bootstrap_start);
  }
  const Clock::time_point add_start = Clock::now();
  buffer_.Add(obs_, actions_, rewards_, dones_, values_, log_probs_);
  obs_.swap(next_obs_);
  split.buffer_seconds += SecondsSince(add_start);
  common_.AddCollectSeconds(SecondsSince(start));

  // Counters, episode statistics, evaluation; then the periodic checkpoint (a restart point).
  common_.AfterStep(n, step.finished);
  common_.SaveDueCheckpoint();
}

void OnPolicyRun::Update() {
  const Clock::time_point start = Clock::now();

  // Bootstrap the rollout's tail from the current observation, then GAE.
  std::vector<float> last_values;
  {
    c10::InferenceMode inference;
    CopyOut(policy_->ActValue(ToTensor(obs_, envs_.Size(), envs_.ObsDim())), last_values);
  }
  buffer_.ComputeReturnsAndAdvantage(last_values, agent_.gamma, agent_.gae_lambda);
  const Clock::time_point update_start = Clock::now();
  common_.time_split().buffer_seconds +=
      std::chrono::duration<double>(update_start - start).count();

  // The rollout as flat tensors: [T, N, dim] → [T·N, dim].
  const int64_t size = buffer_.Size();
  RolloutTensors rollout;
  rollout.obs = ToTensor(buffer_.obs(), size, buffer_.ObsDim());            // [S, obs_dim]
  rollout.actions = ToTensor(buffer_.actions(), size, buffer_.ActDim());    // [S, act_dim]
  rollout.values = ToTensor(buffer_.values(), size, 1).squeeze(1);          // [S]
  rollout.log_probs = ToTensor(buffer_.log_probs(), size, 1).squeeze(1);    // [S]
  rollout.advantages = ToTensor(buffer_.advantages(), size, 1).squeeze(1);  // [S]
  rollout.returns = ToTensor(buffer_.returns(), size, 1).squeeze(1);        // [S]

  // The scheduled learning rate, then the algorithm's update.
  const double learning_rate =
      ScheduledLearningRate(agent_, common_.timesteps(), training_.total_timesteps);
  update_->SetLearningRate(learning_rate);
  losses_ = update_->Update(rollout, generator_, common_.timesteps());

  // Diagnostics every on-policy algorithm reports.
  losses_["train/learning_rate"] = learning_rate;
  losses_["train/explained_variance"] = ExplainedVariance(buffer_.values(), buffer_.returns());
  losses_["train/std"] = policy_->ActionLogStd().exp().mean().item<double>();
  common_.time_split().update_seconds += SecondsSince(update_start);
  common_.AddUpdateSeconds(SecondsSince(start));
}

void OnPolicyRun::Act(std::span<const float> obs, std::vector<float>& action) {
  // Called by several evaluation threads at once: no shared scratch.
  c10::InferenceMode inference;
  const auto obs_dim = static_cast<int64_t>(obs.size());
  std::vector<float> mean;
  CopyOut(policy_->forward(ToTensor(obs, 1, obs_dim)).mean, mean);
  ClipToBox(mean, spec_.action_space, action);
}

void OnPolicyRun::Save(const fs::path& path, bool training_state) {
  checkpoint::SaveOptions options;
  options.optimizers = {{checkpoint::kOptimizerMember, &update_->Optimizer()}};
  options.extra_members = NormalizerMembers(normalizer_);
  if (training_state) {
    // Resume reads these back in the same order.
    ByteWriter writer;
    common_.SaveSharedState(writer, generator_, normalizer_, envs_);
    writer.Put<int64_t>(rollouts_);
    writer.PutString(buffer_.Serialize());
    if (agent_.use_sde) {
      // The noise matrices of the current period (a resume mid-rollout keeps them).
      std::vector<float> exploration;
      if (exploration_.defined()) CopyOut(exploration_, exploration);
      writer.PutVector<float>(exploration);
    }
    torch::serialize::OutputArchive archive;
    update_->SaveState(archive);
    writer.PutString(ArchiveBytes(archive));
    options.extra_members[kTrainingStateMember] = writer.Take();
  }
  checkpoint::SaveModel(path, *policy_,
                        MakeModelData(request_, spec_, common_.timesteps(), common_.episodes()),
                        request_.config.resolved, options);
}

}  // namespace

std::unique_ptr<OnPolicyUpdate> MakeOnPolicyUpdate(const config::AgentConfig& agent,
                                                   nn::ActorCritic policy) {
  const AlgorithmRow& row = RowOf(agent.algorithm());
  if (row.make_update == nullptr) {
    throw ConfigError("agent.algorithm: expected an on-policy algorithm (" +
                      config::AlgorithmNames(config::AlgorithmFamily::kOnPolicy) + "), found " +
                      config::ToString(agent.algorithm()));
  }
  return row.make_update(agent, std::move(policy));
}

TrainingResult TrainOnPolicy(const TrainingRequest& request,
                             const vec::VectorEnv::Factory& env_factory,
                             const LoopOptions& options) {
  // Choices are checked before any env or network is built.
  if (request.config.agent.on_policy() == nullptr) {
    throw ConfigError("agent.algorithm: expected an on-policy algorithm (" +
                      config::AlgorithmNames(config::AlgorithmFamily::kOnPolicy) + "), found " +
                      config::ToString(request.config.agent.algorithm()));
  }
  PrepareSession(request, options);
  OnPolicyRun run(request, env_factory, options);
  return run.Run();
}

}  // namespace rlpipe::algos
