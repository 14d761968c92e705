// tune_report.html from a synthetic study: the ranked table, one scatter per parameter with every
// run and every trial mean, and one evaluation curve per run folder that has one.
#include "tune/tune_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace rlpipe::tune {
namespace {

namespace fs = std::filesystem;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(TuneReport, ShowsTheMetricPerParameterAndEveryRunsCurve) {
  const fs::path dir = fs::temp_directory_path() / ("tune_report_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  StudyState state;
  state.pipeline_file = "/p/pipeline.yaml";
  state.space_file = "/p/space.yaml";
  state.metric = "best_mean_return";
  state.metric_session = "only";
  state.strategy = "grid";
  state.seeds = 2;
  const std::vector<std::pair<std::string, std::string>> values{{"0.001", "tanh"}, {"0.1", "relu"}};
  for (size_t t = 0; t < values.size(); ++t) {
    const std::string id = "t00" + std::to_string(t);
    TrialRecord trial;
    trial.id = id;
    trial.params = {{"agent.learning_rate", values[t].first},
                    {"network.activation", values[t].second}};
    state.trials.push_back(trial);
    for (int s = 0; s < 2; ++s) {
      RunRecord run;
      run.trial = id;
      run.seed_index = s;
      run.dir = "trials/" + id + "-s" + std::to_string(s);
      run.status = RunStatus::kCompleted;
      run.metric = -100.0 * static_cast<double>(t + 1) - s;
      state.runs.push_back(run);
      // Three runs have an evaluation curve.
      if (t == 1 && s == 1) continue;
      fs::create_directories(dir / run.dir / "only/logs");
      std::ofstream(dir / run.dir / "only/logs/evaluations.csv")
          << "timesteps,mean_return,std_return\n1024,-900,10\n2048,-400,12\n";
    }
  }
  const std::string html = RenderTuneReport(state, dir);
  fs::remove_all(dir);
  // The table: both trials ranked, best first.
  EXPECT_LT(html.find("<td>t000</td>"), html.find("<td>t001</td>"));
  EXPECT_EQ(Count(html, "class=\"status s-completed\""), 2u);
  // A scatter per parameter: 4 runs and 2 means each; the learning rate spans two decades.
  EXPECT_EQ(Count(html, "data-chart=\"param/"), 2u);
  EXPECT_EQ(Count(html, "class=\"markers\" data-series=\"runs (one per seed)\" data-points=\"4\""),
            2u);
  EXPECT_EQ(Count(html, "data-series=\"trial mean over seeds\" data-points=\"2\""), 2u);
  EXPECT_NE(html.find("log10(agent.learning_rate)"), std::string::npos);
  EXPECT_NE(html.find("0 = tanh, 1 = relu"), std::string::npos);
  // The curves: one per run folder with evaluations.
  EXPECT_NE(html.find("data-chart=\"eval-curves\""), std::string::npos);
  EXPECT_EQ(Count(html, "<path class=\"series\" data-series=\"t0"), 3u);
}

}  // namespace
}  // namespace rlpipe::tune
