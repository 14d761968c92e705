// The median stopping rule on hand-made curves: the mean over the seeds that reached a step, the
// best value so far against the median of the other trials' running averages, the warm-up and
// the minimum number of other trials, the direction; and reading evaluations.csv while a run is
// still writing it.
#include "tune/early_stopping.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace rlpipe::tune {
namespace {

// A curve with evaluations every 1000 steps: values[i] at step 1000 * (i + 1).
EvalPoints Curve(const std::vector<double>& values) {
  EvalPoints points;
  for (size_t i = 0; i < values.size(); ++i) {
    points.emplace_back(static_cast<int64_t>(1000 * (i + 1)), values[i]);
  }
  return points;
}

TEST(MedianStopping, ATrialsValueIsTheMeanOverTheSeedsThatReachedTheStep) {
  const auto curves = TrialCurves({{"t000", {Curve({-100, -200, -300}), Curve({-300, -400})}}});
  const TrialCurve& c = curves.at("t000");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c.at(1000), -200.0);
  EXPECT_DOUBLE_EQ(c.at(2000), -300.0);
  EXPECT_DOUBLE_EQ(c.at(3000), -300.0);  // only seed 0 got there
}

TEST(MedianStopping, AClearlyWorseTrialStopsAtItsFirstJudgedStep) {
  const auto curves = TrialCurves({{"good1", {Curve({-1200, -1100, -1000, -900})}},
                                   {"good2", {Curve({-1300, -1150, -1050, -950})}},
                                   {"good3", {Curve({-1250, -1200, -1100, -1000})}},
                                   {"bad", {Curve({-1600, -1610, -1620, -1630})}}});
  const std::optional<StopDecision> stop = JudgeMedian("bad", curves, Direction::kMaximize);
  ASSERT_TRUE(stop.has_value());
  // Judged first at its 3rd evaluation: best -1600 against the median of the running averages
  // (-1100, -1166.67, -1183.33) of the three others.
  EXPECT_EQ(stop->timesteps, 3000);
  EXPECT_DOUBLE_EQ(stop->best, -1600.0);
  EXPECT_NEAR(stop->median, -3500.0 / 3.0, 1e-9);
  EXPECT_EQ(stop->others, 3);
  for (const char* good : {"good1", "good2", "good3"}) {
    EXPECT_FALSE(JudgeMedian(good, curves, Direction::kMaximize).has_value()) << good;
  }
}

TEST(MedianStopping, ATrialIsNotJudgedAtItsLastStep) {
  // The others jump at their 4th evaluation, so "late" falls below the median only there. When
  // that is the run's last step (its total_timesteps) the run is ending anyway: not stopped; in a
  // longer run it would be.
  const auto curves = TrialCurves({{"a", {Curve({-1000, -1000, -1000, 3000})}},
                                   {"b", {Curve({-1000, -1000, -1000, 3000})}},
                                   {"c", {Curve({-1000, -1000, -1000, 3000})}},
                                   {"late", {Curve({-1000, -1000, -1000, -1000})}}});
  const int64_t last = curves.at("late").rbegin()->first;
  const std::optional<StopDecision> longer =
      JudgeMedian("late", curves, Direction::kMaximize, last + 1);
  ASSERT_TRUE(longer.has_value());
  EXPECT_EQ(longer->timesteps, last);
  EXPECT_FALSE(JudgeMedian("late", curves, Direction::kMaximize, last).has_value());
}

TEST(MedianStopping, NothingIsJudgedBeforeTheWarmUpOrWithFewerThanThreeOtherTrials) {
  // Two evaluations only: still warming up.
  auto curves = TrialCurves({{"a", {Curve({-100, -100, -100})}},
                             {"b", {Curve({-100, -100, -100})}},
                             {"c", {Curve({-100, -100, -100})}},
                             {"bad", {Curve({-900, -900})}}});
  EXPECT_FALSE(JudgeMedian("bad", curves, Direction::kMaximize).has_value());
  // Three evaluations, but only two other trials have reached step 3000.
  curves = TrialCurves({{"a", {Curve({-100, -100, -100})}},
                        {"b", {Curve({-100, -100, -100})}},
                        {"c", {Curve({-100, -100})}},
                        {"bad", {Curve({-900, -900, -900})}}});
  EXPECT_FALSE(JudgeMedian("bad", curves, Direction::kMaximize).has_value());
  // Once the third has, it is.
  curves["c"][3000] = -100;
  const auto stop = JudgeMedian("bad", curves, Direction::kMaximize);
  ASSERT_TRUE(stop.has_value());
  EXPECT_EQ(stop->timesteps, 3000);
  EXPECT_EQ(stop->others, 3);
}

TEST(MedianStopping, OneBadEvaluationAfterAGoodOneDoesNotStopATrial) {
  const auto curves = TrialCurves({{"a", {Curve({-500, -500, -500, -500})}},
                                   {"b", {Curve({-500, -500, -500, -500})}},
                                   {"c", {Curve({-500, -500, -500, -500})}},
                                   {"noisy", {Curve({-900, -300, -900, -900})}}});
  // Its best so far (-300) stays above the others' median (-500).
  EXPECT_FALSE(JudgeMedian("noisy", curves, Direction::kMaximize).has_value());
}

TEST(MedianStopping, MinimizeStopsTheTrialsAboveTheMedian) {
  const auto curves = TrialCurves({{"a", {Curve({10, 10, 10})}},
                                   {"b", {Curve({12, 12, 12})}},
                                   {"c", {Curve({11, 11, 11})}},
                                   {"high", {Curve({20, 20, 20})}}});
  EXPECT_FALSE(JudgeMedian("high", curves, Direction::kMaximize).has_value());
  const auto stop = JudgeMedian("high", curves, Direction::kMinimize);
  ASSERT_TRUE(stop.has_value());
  EXPECT_DOUBLE_EQ(stop->median, 11.0);
  EXPECT_FALSE(JudgeMedian("a", curves, Direction::kMinimize).has_value());
}

TEST(MedianStopping, EvaluationsAreReadUpToTheLastCompleteLine) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("early_stopping_test_" + std::to_string(::getpid()) + ".csv");
  // The run is in the middle of writing its third row.
  std::ofstream(path) << "timesteps,mean_return,std_return\n1000,-1200.5,3\n2000,-1100,2\n3000,-9";
  const EvalPoints points = ReadEvalPoints(path);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[1].first, 2000);
  EXPECT_DOUBLE_EQ(points[0].second, -1200.5);
  std::filesystem::remove(path);
  EXPECT_TRUE(ReadEvalPoints(path).empty());
}

}  // namespace
}  // namespace rlpipe::tune
