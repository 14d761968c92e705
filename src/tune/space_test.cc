// SPACE.yaml loading, grid expansion, seeded random sampling, validation against the pipeline's
// config schema (errors at SPACE.yaml's line:col) and the pipeline variants.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "config/pipeline_config.h"
#include "core/error.h"
#include "tune/space.h"
#include "tune/variant.h"

namespace rlpipe::tune {
namespace {

namespace fs = std::filesystem;

// The ConfigError message `fn` throws ("" when it does not throw).
template <typename Fn>
std::string ErrorOf(Fn fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr char kGrid[] = R"(metric: best_mean_return
direction: maximize
strategy: grid
parameters:
  agent.learning_rate: {values: [0.001, 0.0003]}
  agent.n_epochs: {values: [10, 2, 4]}
)";

TEST(SearchSpace, GridListsEveryCombinationWithTheLastParameterFastest) {
  const SearchSpace space = ParseSearchSpace(kGrid, "SPACE.yaml");
  const std::vector<Trial> trials = ExpandGrid(space);
  ASSERT_EQ(trials.size(), 6u);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"0.001", "10"},  {"0.001", "2"},  {"0.001", "4"},
      {"0.0003", "10"}, {"0.0003", "2"}, {"0.0003", "4"}};
  for (size_t i = 0; i < trials.size(); ++i) {
    ASSERT_EQ(trials[i].values.size(), 2u);
    EXPECT_EQ(trials[i].values[0].first, "agent.learning_rate");
    EXPECT_EQ(ValueText(trials[i].values[0].second), expected[i].first) << i;
    EXPECT_EQ(ValueText(trials[i].values[1].second), expected[i].second) << i;
  }
  EXPECT_EQ(trials[0].id, "t000");
  EXPECT_EQ(trials[5].id, "t005");
}

TEST(SearchSpace, RandomSamplingIsSeededAndStaysInItsRanges) {
  const SearchSpace space = ParseSearchSpace(R"(metric: best_mean_return
strategy: random
parameters:
  agent.learning_rate: {min: 1e-5, max: 1e-2, scale: log}
  agent.n_epochs: {min: 1, max: 4}
  agent.gamma: {min: 0.9, max: 0.99}
  agent.batch_size: {values: [32, 64]}
)",
                                             "SPACE.yaml");
  const std::vector<Trial> a = SampleRandom(space, 2000, 42);
  const std::vector<Trial> b = SampleRandom(space, 2000, 42);
  const std::vector<Trial> c = SampleRandom(space, 2000, 43);
  ASSERT_EQ(a.size(), 2000u);
  int differs = 0;
  int below_geometric_mean = 0;
  std::set<std::string> epochs;
  std::set<std::string> batches;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t p = 0; p < 4; ++p) {
      EXPECT_EQ(ValueText(a[i].values[p].second), ValueText(b[i].values[p].second));
    }
    differs += ValueText(a[i].values[0].second) != ValueText(c[i].values[0].second);
    const double lr = std::stod(ValueText(a[i].values[0].second));
    EXPECT_GE(lr, 1e-5);
    EXPECT_LE(lr, 1e-2);
    below_geometric_mean += lr < std::sqrt(1e-5 * 1e-2);
    epochs.insert(ValueText(a[i].values[1].second));
    const double gamma = std::stod(ValueText(a[i].values[2].second));
    EXPECT_GE(gamma, 0.9);
    EXPECT_LE(gamma, 0.99);
    batches.insert(ValueText(a[i].values[3].second));
  }
  EXPECT_GT(differs, 1990);
  // Log-uniform: half the draws below the geometric mean of the ends (±5 standard errors).
  EXPECT_NEAR(below_geometric_mean, 1000, 115);
  // Integer ranges give integers, ends included.
  EXPECT_EQ(epochs, (std::set<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(batches, (std::set<std::string>{"32", "64"}));
}

TEST(SearchSpace, BadSpacesAreOneLineErrorsAtTheirLine) {
  // An empty grid.
  const std::string empty = ErrorOf([] {
    ParseSearchSpace("metric: best_mean_return\nparameters:\n  agent.gamma: {values: []}\n",
                     "SPACE.yaml");
  });
  EXPECT_TRUE(empty.starts_with("SPACE.yaml:3:")) << empty;
  EXPECT_NE(empty.find("empty list"), std::string::npos) << empty;
  // A range in a grid.
  EXPECT_NE(ErrorOf([] {
              ParseSearchSpace("metric: m\nparameters:\n  agent.gamma: {min: 0.9, max: 0.99}\n",
                               "SPACE.yaml");
            }).find("SPACE.yaml:3:3: parameters.agent.gamma: strategy grid needs `values:`"),
            std::string::npos);
  // No parameters, an unknown key, min > max, a log range through zero.
  EXPECT_NE(ErrorOf([] { ParseSearchSpace("metric: m\n", "S.yaml"); }).find("parameters"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseSearchSpace("metric: m\nstrategy: grid\nparamters: {}\n", "S.yaml");
            }).find("S.yaml:3:1: paramters: unknown key, did you mean 'parameters'?"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseSearchSpace("metric: m\nstrategy: random\nparameters:\n  a.b: {min: 2, max: 1}\n",
                               "S.yaml");
            }).find("S.yaml:4:"),
            std::string::npos);
  EXPECT_NE(ErrorOf([] {
              ParseSearchSpace(
                  "metric: m\nstrategy: random\nparameters:\n  a.b: {min: 0, max: 1, scale: log}\n",
                  "S.yaml");
            }).find("log range needs min > 0"),
            std::string::npos);
}

// A pipeline of two sessions on the tiny pendulum config, in a temp folder.
class StudyValidation : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tune_space_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(fs::path(RLPIPE_SOURCE_DIR) / "tests/fixtures/pipelines/pendulum_tiny.yaml",
                  dir_ / "tiny.yaml");
    std::ofstream(dir_ / "pipeline.yaml") << R"(name: study
seed: 7
sessions:
  - name: s1
    config: tiny.yaml
  - name: s2
    config: tiny.yaml
    use_previous_checkpoint: true
)";
    pipeline_ = config::LoadPipeline(dir_ / "pipeline.yaml");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Validate(const std::string& space_text) {
    return ErrorOf([&] {
      const SearchSpace space = ParseSearchSpace(space_text, "SPACE.yaml");
      CheckReportMetric(space);
      ValidateStudy(pipeline_, space,
                    space.strategy == Strategy::kGrid ? ExpandGrid(space)
                                                      : SampleRandom(space, 5, 1));
    });
  }

  fs::path dir_;
  config::PipelineConfig pipeline_;
};

TEST_F(StudyValidation, AGoodSpaceValidates) {
  EXPECT_EQ(Validate(kGrid), "");
}

TEST_F(StudyValidation, AnUnknownKeyPathNamesItsLineInTheSpace) {
  const std::string error = Validate(R"(metric: best_mean_return
parameters:
  agent.learning_rate: {values: [0.001]}
  agent.learnig_rate: {values: [0.001]}
)");
  EXPECT_EQ(error.substr(0, error.find(' ')), "SPACE.yaml:4:3:") << error;
  EXPECT_NE(error.find("did you mean 'learning_rate'"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST_F(StudyValidation, AValueOutOfRangeNamesTheValue) {
  const std::string error = Validate(R"(metric: best_mean_return
parameters:
  agent.gamma: {values: [0.99,
                         1.5]}
)");
  EXPECT_EQ(error.substr(0, error.find(' ')), "SPACE.yaml:4:26:") << error;
  EXPECT_NE(error.find("agent.gamma"), std::string::npos) << error;
  // A range is checked at both ends.
  const std::string range = Validate(R"(metric: best_mean_return
strategy: random
parameters:
  agent.n_epochs: {min: 0, max: 5}
)");
  EXPECT_EQ(range.substr(0, range.find(' ')), "SPACE.yaml:4:3:") << range;
}

TEST_F(StudyValidation, MetricAndSessionsMustExist) {
  const std::string metric = Validate("metric: best_return\nparameters:\n  agent.gamma: {values: [0.9]}\n");
  EXPECT_NE(metric.find("SPACE.yaml:1:9: metric: pipeline_report.json has no per-session figure "
                        "'best_return' (valid: best_mean_return"),
            std::string::npos)
      << metric;
  const std::string session =
      Validate("metric: best_mean_return\nsession: s3\nparameters:\n  agent.gamma: {values: [0.9]}\n");
  EXPECT_NE(session.find("SPACE.yaml:2:10: session: no session 's3'"), std::string::npos)
      << session;
  const std::string sessions = Validate(
      "metric: best_mean_return\nsessions: [s1, x]\nparameters:\n  agent.gamma: {values: [0.9]}\n");
  EXPECT_NE(sessions.find("sessions: no session 'x'"), std::string::npos) << sessions;
}

TEST_F(StudyValidation, AVariantIsTheOriginalPipelineWithTheTrialFoldedIn) {
  const SearchSpace space = ParseSearchSpace(
      "metric: best_mean_return\nsessions: [s2]\nparameters:\n"
      "  agent.learning_rate: {values: [0.0003]}\n  agent.n_epochs: {values: [3]}\n",
      "SPACE.yaml");
  const std::vector<Trial> trials = ExpandGrid(space);
  const config::Tree variant = VariantPipeline(pipeline_, space, trials[0], 9);
  // Written elsewhere, it loads and resolves as is.
  fs::create_directories(dir_ / "elsewhere");
  std::ofstream(dir_ / "elsewhere/variant.yaml") << variant.ToYaml();
  const config::PipelineConfig loaded = config::LoadPipeline(dir_ / "elsewhere/variant.yaml");
  EXPECT_EQ(loaded.seed, 9u);
  ASSERT_EQ(loaded.sessions.size(), 2u);
  const config::ExperimentConfig s1 = config::ResolveSession(loaded, loaded.sessions[0]);
  const config::ExperimentConfig s2 = config::ResolveSession(loaded, loaded.sessions[1]);
  // The tiny config's own learning rate, then the variant's.
  EXPECT_DOUBLE_EQ(s1.agent.Get<config::PpoConfig>().learning_rate, 0.001);
  EXPECT_EQ(s1.agent.Get<config::PpoConfig>().n_epochs, 2);
  EXPECT_DOUBLE_EQ(s2.agent.Get<config::PpoConfig>().learning_rate, 0.0003);
  EXPECT_EQ(s2.agent.Get<config::PpoConfig>().n_epochs, 3);
  EXPECT_TRUE(loaded.sessions[1].use_previous_checkpoint);
}

}  // namespace
}  // namespace rlpipe::tune
