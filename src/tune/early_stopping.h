#pragma once
/// Median early stopping of a local study's trials (`early_stopping: median`, docs/tune.md):
/// the median stopping rule of Google Vizier (Golovin et al., "Google Vizier: A Service for
/// Black-Box Optimization", KDD 2017, section 3.2.1), which SageMaker's Auto early stopping
/// follows. At an evaluation step s of the metric's session, a trial is stopped when its best
/// evaluation so far is worse than the median of the other trials' running averages up to s:
///
///   v_T(s)   = mean eval return of trial T at step s, over T's seeds that evaluated at s
///   best_T   = max (minimize: min) of v_T over T's evaluations so far
///   avg_U(s) = mean of v_U(s') over U's evaluation steps s' <= s   (U has evaluated at >= s)
///   stop T at s  when  best_T < median{avg_U(s) : U != T}           (minimize: >)
///
/// judged at T's evaluation steps from its kMedianWarmupEvaluations-th on, each once at least
/// kMedianMinOtherTrials other trials have reached it. Vizier takes the best up to s; the best
/// so far is the same when the study judges a trial as it reports, and more lenient when the
/// others reach s later (parallel runs): a trial is never stopped for an early step its later
/// evaluations have made up for. Pure functions: the study feeds them the curves it reads from
/// the runs' logs/evaluations.csv.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tune/space.h"

namespace rlpipe::tune {

/// A trial is not judged at its first evaluation steps (all policies start alike; RL
/// evaluations are noisy): the first step judged is its kMedianWarmupEvaluations-th.
inline constexpr int kMedianWarmupEvaluations = 3;
/// Other trials that must have reached a step before a trial is judged there (with fewer, the
/// "median" is one trial or a pair's midpoint).
inline constexpr int kMedianMinOtherTrials = 3;

/// One run's evaluations: (timesteps, mean eval return), in file order.
using EvalPoints = std::vector<std::pair<int64_t, double>>;

/// A run's logs/evaluations.csv, complete lines only (the file is read while the run appends to
/// it); an absent or unreadable file gives no points.
EvalPoints ReadEvalPoints(const std::filesystem::path& csv);

/// A trial's curve: step → mean eval return over the trial's seeds that evaluated at that step.
using TrialCurve = std::map<int64_t, double>;

/// Every trial's curve from its runs' points (trial id → that trial's runs' points).
std::map<std::string, TrialCurve> TrialCurves(
    const std::map<std::string, std::vector<EvalPoints>>& runs_by_trial);

/// Why a trial was stopped.
struct StopDecision {
  int64_t timesteps = 0;  // the evaluation step s it was judged at
  double best = 0.0;      // best_T when it was judged
  double median = 0.0;    // the median of the other trials' running averages at s
  int others = 0;         // how many other trials had reached s
};

/// The first evaluation step at which `trial` fails the median rule against the other curves,
/// or nullopt. `direction` says which returns are better.
/// Steps at or after `final_step` (the trial's total_timesteps) are not judged: its runs are
/// ending there, stopping them saves nothing, and whether the study saw that evaluation before the
/// run exited would decide between "completed" and "stopped".
std::optional<StopDecision> JudgeMedian(const std::string& trial,
                                        const std::map<std::string, TrialCurve>& curves,
                                        Direction direction,
                                        int64_t final_step = std::numeric_limits<int64_t>::max());

}  // namespace rlpipe::tune
