#include "tune/early_stopping.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "metrics/sinks.h"

namespace rlpipe::tune {

EvalPoints ReadEvalPoints(const std::filesystem::path& csv) {
  EvalPoints points;
  std::string text;
  try {
    if (!std::filesystem::exists(csv)) return points;
    text = ReadFile(csv);
  } catch (const IoError&) {
    return points;
  }
  // Only lines the run has finished writing: everything up to the last newline.
  const size_t end = text.rfind('\n');
  if (end == std::string::npos) return points;
  std::istringstream in(text.substr(0, end + 1));
  std::string line;
  if (!std::getline(in, line)) return points;
  const std::vector<std::string> columns = metrics::SplitCsvLine(line);
  const auto step_it = std::find(columns.begin(), columns.end(), "timesteps");
  const auto return_it = std::find(columns.begin(), columns.end(), "mean_return");
  if (step_it == columns.end() || return_it == columns.end()) return points;
  const size_t step_col = static_cast<size_t>(step_it - columns.begin());
  const size_t return_col = static_cast<size_t>(return_it - columns.begin());
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = metrics::SplitCsvLine(line);
    if (fields.size() <= std::max(step_col, return_col)) continue;
    char* step_end = nullptr;
    char* return_end = nullptr;
    const double step = std::strtod(fields[step_col].c_str(), &step_end);
    const double value = std::strtod(fields[return_col].c_str(), &return_end);
    if (fields[step_col].empty() || *step_end != '\0' || fields[return_col].empty() ||
        *return_end != '\0') {
      continue;
    }
    points.emplace_back(static_cast<int64_t>(step), value);
  }
  return points;
}

std::map<std::string, TrialCurve> TrialCurves(
    const std::map<std::string, std::vector<EvalPoints>>& runs_by_trial) {
  std::map<std::string, TrialCurve> curves;
  for (const auto& [trial, runs] : runs_by_trial) {
    // Sum and count per step over the seeds that evaluated there.
    std::map<int64_t, std::pair<double, int>> sums;
    for (const EvalPoints& run : runs) {
      for (const auto& [step, value] : run) {
        sums[step].first += value;
        sums[step].second += 1;
      }
    }
    TrialCurve& curve = curves[trial];
    for (const auto& [step, sum] : sums) curve[step] = sum.first / sum.second;
  }
  return curves;
}

std::optional<StopDecision> JudgeMedian(const std::string& trial,
                                        const std::map<std::string, TrialCurve>& curves,
                                        Direction direction, int64_t final_step) {
  const auto self = curves.find(trial);
  if (self == curves.end()) return std::nullopt;
  const bool maximize = direction == Direction::kMaximize;
  // best_T: the trial's best value so far.
  std::optional<double> best;
  for (const auto& [step, value] : self->second) {
    best = !best ? value : maximize ? std::max(*best, value) : std::min(*best, value);
  }
  int evaluations = 0;
  for (const auto& [step, value] : self->second) {
    if (++evaluations < kMedianWarmupEvaluations) continue;
    if (step >= final_step) break;

    // avg_U(s) of every other trial that has evaluated at s or later.
    std::vector<double> averages;
    for (const auto& [other, curve] : curves) {
      if (other == trial || curve.empty() || curve.rbegin()->first < step) continue;
      double sum = 0.0;
      int count = 0;
      for (auto it = curve.begin(); it != curve.end() && it->first <= step; ++it) {
        sum += it->second;
        ++count;
      }
      if (count > 0) averages.push_back(sum / count);
    }
    if (static_cast<int>(averages.size()) < kMedianMinOtherTrials) continue;

    // Their median (the mean of the middle two for an even count).
    std::sort(averages.begin(), averages.end());
    const size_t n = averages.size();
    const double median =
        n % 2 == 1 ? averages[n / 2] : (averages[n / 2 - 1] + averages[n / 2]) / 2.0;
    if (maximize ? *best < median : *best > median) {
      return StopDecision{step, *best, median, static_cast<int>(n)};
    }
  }
  return std::nullopt;
}

}  // namespace rlpipe::tune
