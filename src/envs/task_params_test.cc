// Typed task parameters: every task declares each `environment:` key once (type, default, range,
// unit, doc); values are checked against the declaration where they were written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/error.h"
#include "envs/env.h"
#include "envs/registry.h"
#include "envs/robots/multi_robot_world.h"

namespace rlpipe::envs {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

/// The `environment:` section of a training config written as YAML in "t.yaml".
config::EnvironmentConfig Environment(const std::string& yaml) {
  return config::ParseExperimentConfig(config::ParseYaml("environment:\n" + yaml, "t.yaml"))
      .environment;
}

/// The ConfigError message of ValidateEnvironment, or "" (with a failure) when it passes.
std::string ErrorOf(const std::string& yaml) {
  try {
    ValidateEnvironment(Environment(yaml));
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError for:\n" << yaml;
  return "";
}

TEST(TaskParamsTest, EveryDeclarationIsCompleteAndItsDefaultValid) {
  for (const TaskRegistration& task : TaskRegistry()) {
    std::set<std::string> names;
    for (const ParamSpec& spec : task.info.params) {
      SCOPED_TRACE(task.info.name + "." + spec.name);
      EXPECT_TRUE(names.insert(spec.name).second) << "declared twice";
      EXPECT_FALSE(spec.description.empty());
      EXPECT_LE(spec.min, spec.max);
      EXPECT_EQ(spec.Problem(spec.default_value), std::nullopt);
      // One past each end is refused, with the range in the message.
      if (spec.type == ParamType::kReal) continue;
      EXPECT_THAT(spec.Problem(spec.max + 1).value_or(""), HasSubstr("found"));
      EXPECT_THAT(spec.Problem(spec.min - 1).value_or(""), HasSubstr("found"));
      EXPECT_NE(spec.Problem(spec.default_value + 0.5), std::nullopt) << "a fraction is refused";
    }
  }
}

TEST(TaskParamsTest, RangeTextAndProblemsSayWhatIsValid) {
  const ParamSpec count = IntParam("num_type_b_robots", 2, 1, 64, "N");
  EXPECT_EQ(count.RangeText(), "integer 1-64");
  EXPECT_EQ(count.Problem(500), "expected an integer in [1, 64], found 500");
  EXPECT_EQ(count.Problem(2.5), "expected an integer in [1, 64], found 2.5");
  const ParamSpec step = PositiveParam("timestep", 1.0 / 240, 0.1, "s", "physics step");
  EXPECT_EQ(step.RangeText(), "(0, 0.1]");
  EXPECT_EQ(step.Problem(0), "expected a number in (0, 0.1] s, found 0");
  EXPECT_EQ(step.Problem(0.1), std::nullopt);
  const ParamSpec flag = FlagParam("scale_observations", true, "units");
  EXPECT_EQ(flag.RangeText(), "0 or 1");
  EXPECT_EQ(flag.Problem(2), "expected 0 or 1, found 2");
}

TEST(TaskParamsTest, AValueOutOfRangeIsAnErrorAtItsOwnPosition) {
  EXPECT_EQ(ErrorOf("  name: height_maximize\n  num_type_b_robots: 500\n"),
            "t.yaml:3:22: environment.num_type_b_robots: expected an integer in [1, 64], found "
            "500");
  EXPECT_EQ(ErrorOf("  name: crush_resistance\n  press_descent_speed: -1\n"),
            "t.yaml:3:24: environment.press_descent_speed: expected a number in (0, 100] m/s, "
            "found -1");
  EXPECT_EQ(ErrorOf("  name: terrain_traversal\n  frame_skip: 2.5\n"),
            "t.yaml:3:15: environment.frame_skip: expected an integer in [1, 1000], found 2.5");
  EXPECT_EQ(ErrorOf("  name: pendulum\n  g: 1000\n"),
            "t.yaml:3:6: environment.g: expected a number in [0, 100] m/s^2, found 1000");
}

TEST(TaskParamsTest, ACrossFieldRuleIsAnErrorAtItsFirstKey) {
  // 3 × 40 robots do not fit a 1 m spawn disc: found by building the task, placed at the key.
  EXPECT_THAT(
      ErrorOf("  name: object_displacement\n  spawn_radius: 1.0\n  num_type_b_robots: 40\n"),
      StartsWith("t.yaml:4:3: environment.num_type_b_robots / environment.spawn_radius: "
                 "120 robots"));
  // A rule whose key was not written points at the task's name.
  EXPECT_THAT(ErrorOf("  name: crush_resistance\n  reference_height: 0.2\n"),
              StartsWith("t.yaml:2:9: environment.crush_height: expected below reference_height"));
  EXPECT_THAT(ErrorOf("  name: narrow_passage\n  passage_width: 0.5\n  passage_difficulty: 1\n"),
              StartsWith("t.yaml:3:3: environment.passage_width: passage_width × (1 − 0.6 × "
                         "passage_difficulty)"));
}

TEST(TaskParamsTest, ValidSettingsReturnTheTasksSpaces) {
  const EnvSpec spec = ValidateEnvironment(Environment("  name: height_maximize\n"));
  EXPECT_EQ(spec.name, "height_maximize");
  EXPECT_GT(spec.observation_space.Dim(), 0);
  EXPECT_TRUE(spec.robot_layout.has_value());
}

// docs/environments.md shows every task's parameters as the registry declares them: the world's
// table once, then each robot task's own keys under its section (pendulum: all of its keys).
TEST(TaskParamsTest, TheDocsShowTheDeclaredParameters) {
  std::ifstream file(std::string(RLPIPE_SOURCE_DIR) + "/docs/environments.md");
  const std::string docs((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(docs.empty());
  const std::vector<ParamSpec> world = robots::WorldParamSpecs();
  EXPECT_NE(docs.find(ParamTableMarkdown(world)), std::string::npos)
      << "docs/environments.md should hold the world's parameters as:\n"
      << ParamTableMarkdown(world);
  for (const TaskRegistration& task : TaskRegistry()) {
    std::vector<ParamSpec> own;
    for (const ParamSpec& spec : task.info.params) {
      const bool shared = std::any_of(world.begin(), world.end(),
                                      [&spec](const ParamSpec& w) { return w.name == spec.name; });
      if (!shared) own.push_back(spec);
    }
    if (own.empty()) continue;
    const size_t section = docs.find("\n## " + task.info.name + " ");
    ASSERT_NE(section, std::string::npos) << task.info.name;
    const size_t next = docs.find("\n## ", section + 1);
    const std::string text = docs.substr(section, next - section);
    EXPECT_NE(text.find(ParamTableMarkdown(own)), std::string::npos)
        << "docs/environments.md, section " << task.info.name << ", should hold:\n"
        << ParamTableMarkdown(own);
  }
}

}  // namespace
}  // namespace rlpipe::envs
