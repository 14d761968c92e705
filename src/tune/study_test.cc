// The study state's JSON round trip, the ranking (mean ± std over seeds, direction, unfinished
// trials unranked) and the results files.
#include "tune/study.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "tune/local_study.h"

namespace rlpipe::tune {
namespace {

StudyState ThreeTrials(Direction direction) {
  StudyState state;
  state.fingerprint = "abc";
  state.pipeline_file = "/p.yaml";
  state.space_file = "/s.yaml";
  state.metric = "best_mean_return";
  state.metric_session = "s1";
  state.direction = direction;
  state.strategy = "grid";
  state.seeds = 2;
  state.started_at = "2026-12-06T00:00:00Z";
  const std::vector<std::pair<std::string, std::vector<std::optional<double>>>> metrics{
      {"t000", {-300.0, -100.0}}, {"t001", {-150.0, -170.0}}, {"t002", {-50.0, std::nullopt}}};
  for (const auto& [id, values] : metrics) {
    TrialRecord trial;
    trial.id = id;
    trial.params = {{"agent.learning_rate", id == "t000" ? "0.001" : "0.0003"},
                    {"agent.n_epochs", "10"}};
    state.trials.push_back(trial);
    for (int s = 0; s < 2; ++s) {
      RunRecord run;
      run.trial = id;
      run.seed_index = s;
      run.seed = 7 + static_cast<uint64_t>(s);
      run.dir = "trials/" + id + "-s" + std::to_string(s);
      run.metric = values[static_cast<size_t>(s)];
      run.status = run.metric ? RunStatus::kCompleted : RunStatus::kInterrupted;
      run.attempts = 1;
      run.threads = 1;
      state.runs.push_back(run);
    }
  }
  return state;
}

TEST(Study, StateSurvivesItsJson) {
  const StudyState state = ThreeTrials(Direction::kMinimize);
  const StudyState back = StudyFromJson(StudyToJson(state), "study.json");
  EXPECT_EQ(StudyToJson(back), StudyToJson(state));
  EXPECT_EQ(back.direction, Direction::kMinimize);
  ASSERT_EQ(back.runs.size(), 6u);
  EXPECT_EQ(back.runs[5].status, RunStatus::kInterrupted);
  EXPECT_FALSE(back.runs[5].metric.has_value());
  EXPECT_EQ(back.trials[0].params[1].first, "agent.n_epochs");
}

TEST(Study, TrialsRankByTheMeanOverSeedsInTheSpacesDirection) {
  const std::vector<TrialResult> max = RankTrials(ThreeTrials(Direction::kMaximize));
  ASSERT_EQ(max.size(), 3u);
  EXPECT_EQ(max[0].trial, "t001");  // -160 beats -200
  EXPECT_EQ(max[0].rank, 1);
  EXPECT_DOUBLE_EQ(*max[0].mean, -160.0);
  EXPECT_NEAR(*max[0].stddev, std::sqrt(200.0), 1e-9);  // sample std of {-150, -170}
  EXPECT_EQ(max[1].trial, "t000");
  EXPECT_EQ(max[1].rank, 2);
  // An unfinished trial is listed, unranked, whatever its partial mean.
  EXPECT_EQ(max[2].trial, "t002");
  EXPECT_EQ(max[2].rank, 0);
  EXPECT_EQ(max[2].status, "interrupted");
  const std::vector<TrialResult> min = RankTrials(ThreeTrials(Direction::kMinimize));
  EXPECT_EQ(min[0].trial, "t000");
}

TEST(Study, ResultsFilesListEveryTrialAndSeed) {
  const StudyState state = ThreeTrials(Direction::kMaximize);
  const std::vector<TrialResult> results = RankTrials(state);
  const std::string csv = ResultsCsv(state, results);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "rank,trial,agent.learning_rate,agent.n_epochs,best_mean_return_mean,"
            "best_mean_return_std,s0,s1,status");
  EXPECT_NE(csv.find("\n1,t001,0.0003,10,-160,14.1421,-150,-170,completed\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\n,t002,0.0003,10,-50,0,-50,,interrupted\n"), std::string::npos) << csv;
  const nlohmann::json json = nlohmann::json::parse(ResultsJson(state, results));
  EXPECT_EQ(json["best"], "t001");
  EXPECT_EQ(json["trials"][0]["params"]["agent.n_epochs"], 10);  // integers stay integers
  EXPECT_TRUE(json["trials"][0]["params"]["agent.n_epochs"].is_number_integer());
  EXPECT_TRUE(json["trials"][2]["per_seed"][1].is_null());
  const std::string table = ResultsTable(state, results);
  EXPECT_NE(table.find("-160 ± 14.1421"), std::string::npos) << table;
}

TEST(Study, AStoppedTrialKeepsItsPartialResultsUnrankedWithTheReason) {
  StudyState state = ThreeTrials(Direction::kMaximize);
  // t000 was stopped by median early stopping: seed 0 while it ran, seed 1 before it started.
  state.trials[0].early_stop = StopDecision{3072, -1610.5, -1250.25, 3};
  state.trials[0].stopped_at = "2026-12-07T01:00:00Z";
  state.runs[0].status = RunStatus::kStopped;
  state.runs[0].metric = -1610.5;
  state.runs[1].status = RunStatus::kStopped;
  state.runs[1].metric = std::nullopt;
  const StudyState back = StudyFromJson(StudyToJson(state), "study.json");
  EXPECT_EQ(StudyToJson(back), StudyToJson(state));
  EXPECT_EQ(back.runs[1].status, RunStatus::kStopped);
  ASSERT_TRUE(back.trials[0].early_stop.has_value());
  EXPECT_EQ(back.trials[0].early_stop->timesteps, 3072);
  EXPECT_EQ(back.trials[0].early_stop->others, 3);
  EXPECT_FALSE(back.trials[1].early_stop.has_value());

  const std::vector<TrialResult> results = RankTrials(state);
  EXPECT_EQ(results[0].trial, "t001");
  EXPECT_EQ(results[0].rank, 1);
  EXPECT_EQ(results[1].trial, "t000");  // unranked, in trial order, before t002
  EXPECT_EQ(results[1].rank, 0);
  EXPECT_EQ(results[1].status, "stopped");
  EXPECT_DOUBLE_EQ(*results[1].mean, -1610.5);
  const std::string csv = ResultsCsv(state, results);
  EXPECT_NE(csv.find("\n,t000,0.001,10,-1610.5,0,-1610.5,,stopped\n"), std::string::npos) << csv;
  const nlohmann::json json = nlohmann::json::parse(ResultsJson(state, results));
  EXPECT_EQ(json["trials"][1]["status"], "stopped");
  EXPECT_EQ(json["trials"][1]["early_stop"]["timesteps"], 3072);
  EXPECT_TRUE(json["trials"][0]["early_stop"].is_null());
  const std::string table = ResultsTable(state, results);
  EXPECT_NE(table.find("t000 stopped at 3072 steps: best eval return -1610.5 < median -1250.25 "
                       "of 3 other trials"),
            std::string::npos)
      << table;
}

TEST(Study, EachChildGetsItsShareOfTheCores) {
  EXPECT_EQ(ThreadBudget(2, 2), 1);
  EXPECT_EQ(ThreadBudget(2, 1), 2);
  EXPECT_EQ(ThreadBudget(8, 3), 2);
  EXPECT_EQ(ThreadBudget(2, 4), 1);  // never below one
  EXPECT_GE(AvailableCores(), 1);
}

}  // namespace
}  // namespace rlpipe::tune
