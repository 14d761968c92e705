#pragma once
/// The one evaluation loop: whole episodes of a policy from fixed derived seeds, as SB3's
/// evaluate_policy runs them. The training loops' periodic evaluations, `rlpipe evaluate` and
/// session videos all go through it, so their returns agree for the same seed. No torch headers.
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "envs/env.h"
#include "vec/normalizer.h"

namespace rlpipe::algos {

/// One finished evaluation episode.
struct EpisodeOutcome {
  double episode_return = 0.0;
  int64_t length = 0;                  // control steps
  bool truncated = false;              // ended by the time limit, not by the task
  std::map<std::string, double> info;  // task statistics of the last step (e.g. max_height)
};

/// Mean and population standard deviation over episodes (np.mean, np.std).
struct EvaluationSummary {
  double mean_return = 0.0;
  double std_return = 0.0;
  double mean_length = 0.0;
  double std_length = 0.0;
};

/// The action for one observation (already normalised when a normaliser is given).
using PolicyFn = std::function<void(std::span<const float> obs, std::vector<float>& action)>;

/// Sees every evaluation episode as it runs (e.g. to render it); any member may be empty.
struct EpisodeObserver {
  /// After the reset of episode `episode`.
  std::function<void(int episode, const envs::Env& env)> on_reset;
  /// After each step of episode `episode`.
  std::function<void(int episode, const envs::Env& env)> on_step;
};

/// The reset seed of evaluation episode `episode` of a session trained with `session_seed`
/// (DeriveSeed(DeriveSeed(session_seed, "eval"), episode)).
uint64_t EvaluationEpisodeSeed(uint64_t session_seed, int episode);

/// Runs episodes first_episode .. first_episode + count - 1 of `env`, each from Reset with its
/// EvaluationEpisodeSeed, acting with `act` on observations normalised by `normalizer` (frozen
/// statistics; may be null) until the episode terminates or is truncated. TrainingError when an
/// episode runs past a million steps (a task without a time limit).
std::vector<EpisodeOutcome> RunEvaluationEpisodes(envs::Env& env, const PolicyFn& act,
                                                  const vec::VecNormalizer* normalizer,
                                                  uint64_t session_seed, int first_episode,
                                                  int count,
                                                  const EpisodeObserver* observer = nullptr);

/// The same episodes over several envs at once: worker w runs episodes first_episode + w,
/// first_episode + w + W, ... on envs[w] (worker 0 on the calling thread, the others on threads of
/// their own). `act` must be safe to call from several threads at once. An episode depends only
/// on its seed, so the outcomes (in episode order) equal the one-env overload's for any number of
/// envs. The first exception a worker throws is rethrown after all have stopped.
std::vector<EpisodeOutcome> RunEvaluationEpisodes(std::span<envs::Env* const> envs,
                                                  const PolicyFn& act,
                                                  const vec::VecNormalizer* normalizer,
                                                  uint64_t session_seed, int first_episode,
                                                  int count);

/// Mean and spread of the episodes (zeros when there are none).
EvaluationSummary Summarize(const std::vector<EpisodeOutcome>& episodes);

}  // namespace rlpipe::algos
