#include "algos/evaluation.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <tuple>
#include <utility>

#include "core/error.h"
#include "core/seed.h"

namespace rlpipe::algos {
namespace {

// An evaluation episode longer than this means the env has no time limit.
constexpr int64_t kMaxEvalEpisodeSteps = 1'000'000;

// Mean and population standard deviation.
std::pair<double, double> MeanStd(const std::vector<double>& values) {
  if (values.empty()) return {0.0, 0.0};
  const auto count = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / count;
  double sq = 0.0;
  for (double v : values) sq += (v - mean) * (v - mean);
  return {mean, std::sqrt(sq / count)};
}

}  // namespace

uint64_t EvaluationEpisodeSeed(uint64_t session_seed, int episode) {
  return DeriveSeed(DeriveSeed(session_seed, "eval"), static_cast<uint64_t>(episode));
}

std::vector<EpisodeOutcome> RunEvaluationEpisodes(envs::Env& env, const PolicyFn& act,
                                                  const vec::VecNormalizer* normalizer,
                                                  uint64_t session_seed, int first_episode,
                                                  int count, const EpisodeObserver* observer) {
  const envs::EnvSpec& spec = env.Spec();
  std::vector<float> obs(static_cast<size_t>(spec.observation_space.Dim()));
  std::vector<float> policy_obs(obs.size());
  std::vector<float> action;
  std::vector<EpisodeOutcome> outcomes;
  for (int e = first_episode; e < first_episode + count; ++e) {
    // Each episode from its own derived seed, so any subset of episodes can be rerun alone.
    env.Reset(EvaluationEpisodeSeed(session_seed, e), obs);
    if (observer != nullptr && observer->on_reset) observer->on_reset(e, env);
    EpisodeOutcome outcome;
    for (bool done = false; !done;) {
      // The policy sees observations normalised with the frozen training statistics.
      std::copy(obs.begin(), obs.end(), policy_obs.begin());
      if (normalizer != nullptr) normalizer->NormalizeObs(policy_obs);
      act(policy_obs, action);
      envs::StepResult step = env.Step(action, obs);
      outcome.episode_return += step.reward;
      ++outcome.length;
      if (observer != nullptr && observer->on_step) observer->on_step(e, env);
      done = step.terminated || step.truncated;
      if (done) {
        outcome.truncated = step.truncated && !step.terminated;
        outcome.info = std::move(step.info);
      }
      if (outcome.length >= kMaxEvalEpisodeSteps && !done) {
        throw TrainingError("evaluation: expected episodes of task " + spec.name +
                            " to end, found none after " + std::to_string(outcome.length) +
                            " steps (no time limit?)");
      }
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

std::vector<EpisodeOutcome> RunEvaluationEpisodes(std::span<envs::Env* const> envs,
                                                  const PolicyFn& act,
                                                  const vec::VecNormalizer* normalizer,
                                                  uint64_t session_seed, int first_episode,
                                                  int count) {
  const int workers = std::min(static_cast<int>(envs.size()), count);
  if (workers <= 1) {
    return envs.empty() ? std::vector<EpisodeOutcome>{}
                        : RunEvaluationEpisodes(*envs[0], act, normalizer, session_seed,
                                                first_episode, count);
  }
  // Episode i (0-based) goes to worker i mod W; each writes only its own outcomes.
  std::vector<EpisodeOutcome> outcomes(static_cast<size_t>(count));
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&](int w) {
    try {
      for (int i = w; i < count; i += workers) {
        outcomes[static_cast<size_t>(i)] =
            std::move(RunEvaluationEpisodes(*envs[static_cast<size_t>(w)], act, normalizer,
                                            session_seed, first_episode + i, 1)
                          .front());
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return outcomes;
}

EvaluationSummary Summarize(const std::vector<EpisodeOutcome>& episodes) {
  std::vector<double> returns, lengths;
  for (const EpisodeOutcome& e : episodes) {
    returns.push_back(e.episode_return);
    lengths.push_back(static_cast<double>(e.length));
  }
  EvaluationSummary summary;
  std::tie(summary.mean_return, summary.std_return) = MeanStd(returns);
  std::tie(summary.mean_length, summary.std_length) = MeanStd(lengths);
  return summary;
}

}  // namespace rlpipe::algos
