#include "algos/on_policy.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "algos/on_policy_update.h"
#include "algos/ppo.h"
#include "algos/rollout_buffer.h"
#include "checkpoint/checkpoint.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/diag_gaussian.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Episodes averaged for ProgressEvent's mean return and length (SB3's ep_info_buffer).
constexpr size_t kRecentEpisodes = 100;
// An evaluation episode longer than this means the env has no time limit.
constexpr int64_t kMaxEvalEpisodeSteps = 1'000'000;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// True when a counter moving from `before` to `after` passes a multiple of `every`.
bool Crossed(int64_t before, int64_t after, int64_t every) {
  return every > 0 && before / every != after / every;
}

// A copy of row-major floats as a [rows, cols] tensor.
torch::Tensor ToTensor(std::span<const float> data, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(data.data()), {rows, cols}, torch::kFloat32).clone();
}

void CopyOut(const torch::Tensor& tensor, std::vector<float>& out) {
  torch::Tensor flat = tensor.contiguous().to(torch::kFloat32);
  const float* data = flat.data_ptr<float>();
  out.assign(data, data + flat.numel());
}

// Clips actions [N, act_dim] into the action box (what the env receives).
void ClipToBox(const std::vector<float>& actions, const envs::Box& box, std::vector<float>& out) {
  const size_t dim = box.low.size();
  out.resize(actions.size());
  for (size_t k = 0; k < actions.size(); ++k) {
    out[k] = std::clamp(actions[k], box.low[k % dim], box.high[k % dim]);
  }
}

// Setup-time checks of what ParseExperimentConfig cannot know (or a config built in code).
void ValidateRequest(const TrainingRequest& request) {
  const config::AgentConfig& agent = request.config.agent;
  const config::TrainingConfig& training = request.config.training;
  if (agent.policy != "MlpPolicy") {
    throw ConfigError("agent.policy: expected MlpPolicy (the only policy implemented yet), found " +
                      agent.policy);
  }
  if (agent.device != "auto" && agent.device != "cpu") {
    throw ConfigError(
        "agent.device: expected auto or cpu (this build has CPU-only LibTorch), found " +
        agent.device);
  }
  auto require = [](bool ok, const std::string& what, int64_t found) {
    if (!ok) throw ConfigError(what + ", found " + std::to_string(found));
  };
  require(agent.n_steps >= 1, "agent.n_steps: expected >= 1", agent.n_steps);
  require(agent.batch_size >= 1, "agent.batch_size: expected >= 1", agent.batch_size);
  require(agent.n_epochs >= 1, "agent.n_epochs: expected >= 1", agent.n_epochs);
  require(training.n_envs >= 1, "training.n_envs: expected >= 1", training.n_envs);
  require(training.total_timesteps >= 1, "training.total_timesteps: expected >= 1",
          training.total_timesteps);
  require(training.eval_episodes >= 1, "training.eval_episodes: expected >= 1",
          training.eval_episodes);
  require(training.log_interval >= 1, "training.log_interval: expected >= 1",
          training.log_interval);
}

/// Mean and spread of one evaluation.
struct Evaluation {
  double mean_return = 0.0;
  double std_return = 0.0;
  double mean_length = 0.0;
};

/// The state of one on-policy session.
class OnPolicyRun {
 public:
  OnPolicyRun(const TrainingRequest& request, const vec::VectorEnv::Factory& env_factory)
      : request_(request),
        agent_(request.config.agent),
        training_(request.config.training),
        envs_(training_.n_envs, env_factory),
        eval_env_(env_factory()),
        spec_(envs_.Spec()),
        generator_(nn::MakeGenerator(DeriveSeed(request.seed, "sampler"))),
        buffer_(agent_.n_steps, training_.n_envs, envs_.ObsDim(), envs_.ActDim()) {
    // The policy, initialised from the request seed, then optionally from a checkpoint.
    nn::MlpActorCriticOptions options;
    options.obs_dim = envs_.ObsDim();
    options.act_dim = envs_.ActDim();
    options.policy_layers = request.config.network.policy_layers;
    options.value_layers = request.config.network.value_layers;
    options.activation = request.config.network.activation;
    options.log_std_init = agent_.log_std_init;
    options.init_seed = DeriveSeed(request.seed, "init");
    policy_ = nn::MlpActorCritic(options);
    if (request.init_checkpoint) LoadInitialWeights(*request.init_checkpoint);
    if (request.resume_checkpoint) ResumeFrom(*request.resume_checkpoint);
    update_ = MakeOnPolicyUpdate(agent_, policy_);
  }

  TrainingResult Run();

 private:
  void LoadInitialWeights(const fs::path& path);
  void ResumeFrom(const fs::path& path);
  // One batched env step with acting, bootstrapping and storage.
  void CollectStep();
  Evaluation Evaluate();
  void RunEvaluation();
  void Update();
  void EmitProgress();
  checkpoint::ModelData Data() const;
  fs::path Save(const fs::path& path);
  fs::path StepCheckpointPath() const {
    const fs::path dir = request_.checkpoints_dir.empty() ? request_.models_dir / "checkpoints"
                                                          : request_.checkpoints_dir;
    return dir / ("rl_model_" + std::to_string(timesteps_) + "_steps.zip");
  }
  /// Saves a periodic or interrupt checkpoint and tells the hook.
  fs::path SaveCheckpoint() {
    const fs::path path = Save(StepCheckpointPath());
    if (request_.hooks.on_checkpoint) request_.hooks.on_checkpoint(path);
    return path;
  }
  void Message(const std::string& line) const {
    if (request_.hooks.on_message) request_.hooks.on_message(line);
  }

  const TrainingRequest& request_;
  const config::AgentConfig& agent_;
  const config::TrainingConfig& training_;
  vec::VectorEnv envs_;
  std::unique_ptr<envs::Env> eval_env_;
  envs::EnvSpec spec_;
  torch::Generator generator_;
  RolloutBuffer buffer_;
  nn::MlpActorCritic policy_{nullptr};
  std::unique_ptr<OnPolicyUpdate> update_;

  // Counters, statistics and timing.
  int64_t timesteps_ = 0;
  int64_t episodes_ = 0;
  int64_t rollouts_ = 0;
  std::deque<vec::EpisodeStats> recent_;
  std::map<std::string, double> losses_;
  std::optional<int64_t> last_eval_timesteps_;
  Clock::time_point start_ = Clock::now();
  double collect_seconds_ = 0.0;
  double update_seconds_ = 0.0;
  TrainingResult result_;

  // Per-step scratch buffers, [N, dim] row-major.
  std::vector<float> last_obs_, actions_, clipped_, values_, log_probs_, rewards_, final_values_;
  std::vector<uint8_t> dones_;
};

void OnPolicyRun::LoadInitialWeights(const fs::path& path) {
  checkpoint::LoadedModel model = checkpoint::LoadModel(path);
  const int copied = checkpoint::LoadWeightsInto(*policy_, model.state_dict, path.string());
  Message("loaded " + std::to_string(copied) + " tensors from " + path.string());
}

void OnPolicyRun::ResumeFrom(const fs::path& path) {
  // Weights and counters; the optimizer and sampler state are not restored yet.
  checkpoint::LoadedModel model = checkpoint::LoadModel(path);
  checkpoint::LoadWeightsInto(*policy_, model.state_dict, path.string());
  timesteps_ = model.data.num_timesteps;
  episodes_ = model.data.episodes;
  Message("resumed from " + path.string() + " at " + std::to_string(timesteps_) + " steps");
}

TrainingResult OnPolicyRun::Run() {
  envs_.Reset(DeriveSeed(request_.seed, "envs"));
  while (timesteps_ < training_.total_timesteps) {
    // Collect one rollout of n_steps per env, stopping between steps when asked.
    buffer_.Clear();
    while (!buffer_.Full()) {
      if (request_.hooks.stop_requested && request_.hooks.stop_requested()) {
        result_.interrupt_checkpoint = SaveCheckpoint();
        result_.interrupted = true;
        Message("stopped at " + std::to_string(timesteps_) + " steps; checkpoint " +
                result_.interrupt_checkpoint->string());
        break;
      }
      const int64_t before = timesteps_;
      CollectStep();
      if (Crossed(before, timesteps_, training_.eval_freq)) RunEvaluation();
      if (Crossed(before, timesteps_, training_.save_freq)) SaveCheckpoint();
    }
    if (result_.interrupted) break;

    // Learn from it.
    Update();
    ++rollouts_;
    if (rollouts_ % training_.log_interval == 0) EmitProgress();
  }

  // A final evaluation (unless one just ran at this step count), then the final model.
  if (!result_.interrupted) {
    if (last_eval_timesteps_ != timesteps_) RunEvaluation();
    result_.final_model = Save(request_.models_dir / "final_model.zip");
    EmitProgress();
  }
  result_.timesteps = timesteps_;
  result_.episodes = episodes_;
  result_.wall_seconds = SecondsSince(start_);
  result_.collect_seconds = collect_seconds_;
  result_.update_seconds = update_seconds_;
  return result_;
}

void OnPolicyRun::CollectStep() {
  const Clock::time_point start = Clock::now();
  const int64_t n = envs_.Size();
  const auto& obs = envs_.Observations();
  last_obs_.assign(obs.begin(), obs.end());

  // Act: sample from the current policy (stored unclipped), clip only what the env sees.
  {
    torch::NoGradGuard no_grad;
    nn::ActorCriticOutput out = policy_->forward(ToTensor(last_obs_, n, envs_.ObsDim()));
    nn::DiagGaussian dist(out.mean, out.log_std);
    torch::Tensor actions = dist.Sample(generator_);  // [N, act_dim]
    CopyOut(actions, actions_);
    CopyOut(dist.LogProb(actions), log_probs_);
    CopyOut(out.value, values_);
  }
  ClipToBox(actions_, spec_.action_space, clipped_);
  const vec::BatchStep& step = envs_.Step(clipped_);
  timesteps_ += n;

  // Truncated episodes keep their future through γ V(final_obs) in the reward (SB3).
  rewards_.assign(step.rewards.begin(), step.rewards.end());
  dones_.resize(static_cast<size_t>(n));
  bool any_truncated = false;
  for (size_t i = 0; i < dones_.size(); ++i) {
    dones_[i] = step.terminated[i] || step.truncated[i];
    any_truncated = any_truncated || (step.truncated[i] && !step.terminated[i]);
  }
  if (any_truncated) {
    torch::NoGradGuard no_grad;
    CopyOut(policy_->Value(ToTensor(step.final_obs, n, envs_.ObsDim())), final_values_);
    AddTruncationBootstrap(rewards_, step.terminated, step.truncated, final_values_, agent_.gamma);
  }
  buffer_.Add(last_obs_, actions_, rewards_, dones_, values_, log_probs_);

  // Episode statistics.
  for (const vec::EpisodeStats& episode : step.finished) {
    ++episodes_;
    recent_.push_back(episode);
    if (recent_.size() > kRecentEpisodes) recent_.pop_front();
  }
  collect_seconds_ += SecondsSince(start);
}

void OnPolicyRun::Update() {
  const Clock::time_point start = Clock::now();

  // Bootstrap the rollout's tail from the current observation, then GAE.
  std::vector<float> last_values;
  {
    torch::NoGradGuard no_grad;
    CopyOut(policy_->Value(ToTensor(envs_.Observations(), envs_.Size(), envs_.ObsDim())),
            last_values);
  }
  buffer_.ComputeReturnsAndAdvantage(last_values, agent_.gamma, agent_.gae_lambda);

  // The rollout as flat tensors: [T, N, dim] → [T·N, dim].
  const int64_t size = buffer_.Size();
  RolloutTensors rollout;
  rollout.obs = ToTensor(buffer_.obs(), size, buffer_.ObsDim());            // [S, obs_dim]
  rollout.actions = ToTensor(buffer_.actions(), size, buffer_.ActDim());    // [S, act_dim]
  rollout.values = ToTensor(buffer_.values(), size, 1).squeeze(1);          // [S]
  rollout.log_probs = ToTensor(buffer_.log_probs(), size, 1).squeeze(1);    // [S]
  rollout.advantages = ToTensor(buffer_.advantages(), size, 1).squeeze(1);  // [S]
  rollout.returns = ToTensor(buffer_.returns(), size, 1).squeeze(1);        // [S]
  losses_ = update_->Update(rollout, generator_, timesteps_);

  // Diagnostics every on-policy algorithm reports.
  losses_["train/explained_variance"] = ExplainedVariance(buffer_.values(), buffer_.returns());
  losses_["train/std"] = policy_->named_parameters()["log_std"].exp().mean().item<double>();
  update_seconds_ += SecondsSince(start);
}

Evaluation OnPolicyRun::Evaluate() {
  // Deterministic (mean-action) episodes with the same derived seeds every time.
  const uint64_t eval_seed = DeriveSeed(request_.seed, "eval");
  const int obs_dim = spec_.observation_space.Dim();
  std::vector<float> obs(static_cast<size_t>(obs_dim));
  std::vector<float> action, clipped;
  std::vector<double> returns, lengths;
  torch::NoGradGuard no_grad;
  for (int e = 0; e < training_.eval_episodes; ++e) {
    eval_env_->Reset(DeriveSeed(eval_seed, static_cast<uint64_t>(e)), obs);
    double episode_return = 0.0;
    int64_t length = 0;
    for (bool done = false; !done;) {
      CopyOut(policy_->forward(ToTensor(obs, 1, obs_dim)).mean, action);
      ClipToBox(action, spec_.action_space, clipped);
      envs::StepResult step = eval_env_->Step(clipped, obs);
      episode_return += step.reward;
      ++length;
      done = step.terminated || step.truncated;
      if (length >= kMaxEvalEpisodeSteps && !done) {
        throw TrainingError("evaluation: expected episodes of task " + spec_.name +
                            " to end, found none after " + std::to_string(length) +
                            " steps (no time limit?)");
      }
    }
    returns.push_back(episode_return);
    lengths.push_back(static_cast<double>(length));
  }

  // Population statistics, as SB3's evaluate_policy (np.mean, np.std).
  Evaluation ev;
  const auto count = static_cast<double>(returns.size());
  ev.mean_return = std::accumulate(returns.begin(), returns.end(), 0.0) / count;
  ev.mean_length = std::accumulate(lengths.begin(), lengths.end(), 0.0) / count;
  double sq = 0.0;
  for (double r : returns) sq += (r - ev.mean_return) * (r - ev.mean_return);
  ev.std_return = std::sqrt(sq / count);
  return ev;
}

void OnPolicyRun::RunEvaluation() {
  Evaluation ev = Evaluate();
  last_eval_timesteps_ = timesteps_;
  result_.final_mean_return = ev.mean_return;

  // A new best mean return replaces best_model.zip.
  EvalEvent event;
  event.timesteps = timesteps_;
  event.mean_return = ev.mean_return;
  event.std_return = ev.std_return;
  event.mean_length = ev.mean_length;
  event.new_best = !result_.best_mean_return || ev.mean_return > *result_.best_mean_return;
  if (event.new_best) {
    result_.best_mean_return = ev.mean_return;
    result_.best_model = Save(request_.models_dir / "best_model.zip");
  }
  if (request_.hooks.on_eval) request_.hooks.on_eval(event);
}

void OnPolicyRun::EmitProgress() {
  if (!request_.hooks.on_progress) return;
  ProgressEvent event;
  event.timesteps = timesteps_;
  event.total_timesteps = training_.total_timesteps;
  event.episodes = episodes_;
  event.elapsed_seconds = SecondsSince(start_);
  event.steps_per_second =
      event.elapsed_seconds > 0.0 ? static_cast<double>(timesteps_) / event.elapsed_seconds : 0.0;
  if (!recent_.empty()) {
    double sum_return = 0.0;
    double sum_length = 0.0;
    for (const vec::EpisodeStats& episode : recent_) {
      sum_return += episode.episode_return;
      sum_length += static_cast<double>(episode.length);
    }
    event.mean_episode_return = sum_return / static_cast<double>(recent_.size());
    event.mean_episode_length = sum_length / static_cast<double>(recent_.size());
  }
  event.collect_seconds = collect_seconds_;
  event.update_seconds = update_seconds_;
  event.losses = losses_;
  request_.hooks.on_progress(event);
}

checkpoint::ModelData OnPolicyRun::Data() const {
  checkpoint::ModelData data;
  data.algorithm = agent_.algorithm;
  data.obs_dim = envs_.ObsDim();
  data.act_dim = envs_.ActDim();
  data.obs_low = spec_.observation_space.low;
  data.obs_high = spec_.observation_space.high;
  data.act_low = spec_.action_space.low;
  data.act_high = spec_.action_space.high;
  data.num_timesteps = timesteps_;
  data.episodes = episodes_;
  data.agent = agent_;
  data.network = request_.config.network;
  data.seed = request_.seed;
  return data;
}

fs::path OnPolicyRun::Save(const fs::path& path) {
  checkpoint::SaveModel(path, *policy_, Data(), request_.config.resolved, &update_->Optimizer());
  return path;
}

}  // namespace

std::unique_ptr<OnPolicyUpdate> MakeOnPolicyUpdate(const config::AgentConfig& agent,
                                                   nn::MlpActorCritic policy) {
  switch (agent.algorithm) {
    case config::Algorithm::kPpo:
      return std::make_unique<PpoUpdate>(agent, std::move(policy));
    case config::Algorithm::kA2c:
    case config::Algorithm::kSac:
    case config::Algorithm::kTd3:
      break;
  }
  ThrowNotImplemented(agent.algorithm);
}

void ThrowNotImplemented(config::Algorithm algorithm) {
  throw ConfigError("agent.algorithm: " + config::ToString(algorithm) +
                    " is not implemented yet (available: PPO)");
}

TrainingResult TrainOnPolicy(const TrainingRequest& request,
                             const vec::VectorEnv::Factory& env_factory,
                             const OnPolicyOptions& options) {
  // Choices are checked before any env or network is built.
  ValidateRequest(request);
  if (request.config.agent.algorithm != config::Algorithm::kPpo) {
    ThrowNotImplemented(request.config.agent.algorithm);
  }
  if (options.torch_threads < 1) {
    throw ConfigError("torch threads: expected >= 1, found " +
                      std::to_string(options.torch_threads));
  }
  torch::set_num_threads(options.torch_threads);
  OnPolicyRun run(request, env_factory);
  return run.Run();
}

}  // namespace rlpipe::algos
