#include "algos/evaluate_model.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "algos/saved_policy.h"
#include "checkpoint/checkpoint.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/seed.h"
#include "envs/env.h"

namespace rlpipe::algos {
namespace {

/// One evaluating env and the model acting in it.
struct Worker {
  Worker(const EvaluateModelRequest& request, const config::ExperimentConfig& config)
      : env(envs::MakeEnv(config.environment)), policy(request.model, config, env->Spec()) {}

  // Runs episode `e` (sampling from its own derived generator seed when stochastic).
  EpisodeOutcome Run(int e, uint64_t seed, bool deterministic, const EpisodeObserver* observer) {
    policy.Reseed(DeriveSeed(DeriveSeed(seed, "eval-sample"), static_cast<uint64_t>(e)));
    const PolicyFn act = [this, deterministic](std::span<const float> obs,
                                               std::vector<float>& action) {
      if (deterministic) {
        policy.Act(obs, action);
      } else {
        policy.Sample(obs, action);
      }
    };
    return RunEvaluationEpisodes(*env, act, &policy.normalizer(), seed, e, 1, observer).front();
  }

  std::unique_ptr<envs::Env> env;
  SavedPolicy policy;
};

}  // namespace

config::ExperimentConfig StoredConfig(const std::filesystem::path& model) {
  const checkpoint::LoadedModel loaded = checkpoint::LoadModel(model);
  if (loaded.config_yaml.empty()) {
    throw ConfigError(model.string() +
                      " holds no rlpipe config (a model saved by Stable-Baselines3); pass "
                      "--config TRAINING.yaml naming the task to run it in");
  }
  return config::ParseExperimentConfig(
      config::ParseYaml(loaded.config_yaml, model.string() + ":" + checkpoint::kConfigMember));
}

EvaluateModelResult EvaluateModel(const EvaluateModelRequest& request) {
  if (request.episodes < 1) {
    throw ConfigError("--episodes: expected at least 1, found " + std::to_string(request.episodes));
  }
  if (request.first_episode < 0) {
    throw ConfigError("evaluate: expected a first episode >= 0, found " +
                      std::to_string(request.first_episode));
  }
  if (request.n_envs < 1) {
    throw ConfigError("--n-envs: expected at least 1, found " + std::to_string(request.n_envs));
  }
  // The experiment: the model's own, or the one asked for (checked like a session's).
  EvaluateModelResult result;
  const checkpoint::LoadedModel model = checkpoint::LoadModel(request.model);
  result.config = request.config ? *request.config : StoredConfig(request.model);
  envs::ValidateEnvironment(result.config.environment);
  result.seed = request.seed.value_or(model.data.seed);

  // The observed episodes first, on this thread (a renderer's GL context lives here).
  const auto start = std::chrono::steady_clock::now();
  result.episodes.resize(static_cast<size_t>(request.episodes));
  Worker first(request, result.config);
  result.transfer_summary = request.config ? first.policy.TransferSummary() : "";
  const int observed = std::min(request.observed_episodes, request.episodes);
  const int offset = request.first_episode;
  for (int i = 0; i < observed; ++i) {
    result.episodes[static_cast<size_t>(i)] =
        first.Run(offset + i, result.seed, request.deterministic, request.observer);
  }

  // The rest round-robin over n_envs workers; each episode's seeds are its own, so the results do
  // not depend on the split.
  const int workers = std::min(request.n_envs, request.episodes - observed);
  std::vector<std::thread> threads;
  std::exception_ptr error;
  std::mutex error_mutex;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        std::unique_ptr<Worker> own;
        Worker* worker = &first;
        if (w > 0) {
          own = std::make_unique<Worker>(request, result.config);
          worker = own.get();
        }
        for (int i = observed + w; i < request.episodes; i += workers) {
          result.episodes[static_cast<size_t>(i)] =
              worker->Run(offset + i, result.seed, request.deterministic, nullptr);
        }
      } catch (...) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.summary = Summarize(result.episodes);
  return result;
}

}  // namespace rlpipe::algos
