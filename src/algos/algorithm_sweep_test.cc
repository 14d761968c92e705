// The sweep over every registered algorithm (DESIGN.md, extension point 3): a new row in
// config::Algorithms() and algos::AlgorithmRegistry() is covered here with no edit. Per
// algorithm: its `agent:` settings round-trip through YAML with every key carried, it learns the
// one-step bandit, its model loads back whole, and a stopped and resumed session equals an
// uninterrupted one bit for bit (src/algos/resume_test.cc sweeps the harder resume cases).
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "algos/algorithm_registry.h"
#include "algos/bandit_env_test_util.h"
#include "algos/off_policy.h"
#include "algos/on_policy.h"
#include "algos/saved_policy.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "config/algorithms.h"
#include "config/experiment_config.h"
#include "core/error.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

std::vector<config::Algorithm> RegisteredAlgorithms() {
  std::vector<config::Algorithm> all;
  for (const config::AlgorithmInfo& row : config::Algorithms()) all.push_back(row.algorithm);
  return all;
}

// Both registries hold the same algorithms in the same order, each with its family's factory.
TEST(AlgorithmRegistryTest, ConfigAndCodeRowsAgree) {
  const std::vector<config::AlgorithmInfo>& info = config::Algorithms();
  const std::vector<AlgorithmRow>& rows = AlgorithmRegistry();
  ASSERT_EQ(info.size(), rows.size());
  ASSERT_EQ(info.size(), std::variant_size_v<config::AlgorithmSettings>);
  for (size_t i = 0; i < info.size(); ++i) {
    const std::string& name = info[i].name;
    EXPECT_EQ(static_cast<size_t>(info[i].algorithm), i) << name;
    EXPECT_EQ(rows[i].algorithm, info[i].algorithm) << name;
    EXPECT_EQ(config::ToString(info[i].algorithm), name);
    const bool on_policy = info[i].family == config::AlgorithmFamily::kOnPolicy;
    EXPECT_EQ(rows[i].make_update != nullptr, on_policy) << name;
    EXPECT_EQ(rows[i].make_off_policy != nullptr, !on_policy) << name;
    const config::AgentConfig defaults = config::DefaultAgentConfig(info[i].algorithm);
    EXPECT_EQ(defaults.algorithm(), info[i].algorithm) << name;
    EXPECT_EQ(defaults.on_policy() != nullptr, on_policy) << name;
    EXPECT_EQ(defaults.off_policy() != nullptr, !on_policy) << name;
    EXPECT_FALSE(info[i].sb3_policy_class.empty()) << name;
  }
}

class AlgorithmSweepTest : public ::testing::TestWithParam<config::Algorithm> {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rlpipe_sweep_" + config::ToString(GetParam()) + "_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }

  std::string Name() const { return config::ToString(GetParam()); }

  // A config as users write it: the algorithm's defaults but for settings by family (short
  // rollouts, an early start, a larger step size), small networks.
  config::ExperimentConfig Config(const std::string& environment) const {
    const bool on_policy = config::InfoOf(GetParam()).family == config::AlgorithmFamily::kOnPolicy;
    const std::string family_keys = on_policy ? "  n_steps: 16\n  learning_rate: 0.003\n"
                                              : "  learning_starts: 100\n  batch_size: 64\n"
                                                "  learning_rate: 0.003\n"
                                                "  action_noise: {type: normal, sigma: 0.3}\n";
    const std::string yaml = "environment:\n  name: " + environment +
                             "\nagent:\n  algorithm: " + Name() + "\n" + family_keys +
                             "network:\n  policy_layers: [32, 32]\n  value_layers: [32, 32]\n"
                             "training:\n  n_envs: 4\n  eval_episodes: 2\n  log_interval: 100\n";
    return config::ParseExperimentConfig(config::ParseYaml(yaml, "sweep.yaml"));
  }

  TrainingRequest Request(const std::string& environment, const std::string& name) const {
    TrainingRequest request;
    request.config = Config(environment);
    request.seed = 3;
    request.models_dir = root_ / name;
    return request;
  }

  fs::path root_;
};

// A number as YAML: integers without a fraction (integer keys refuse "5.0").
std::string NumberText(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) return std::to_string(static_cast<int64_t>(v));
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", v);
  return text;
}

// Other values for a written `agent:` value, valid or not for its key.
std::vector<config::Tree> Variations(const config::Tree& value) {
  std::vector<config::Tree> out;
  auto scalar = [&out](const std::string& text) { out.push_back(config::Tree::Scalar(text)); };
  // Anything: a map, words of choices, plain numbers (null reads as the default, which is written).
  config::Tree noise;
  noise.kind = config::Tree::Kind::kMap;
  noise.Set("type", config::Tree::Scalar("ou"));
  noise.Set("sigma", config::Tree::Scalar("0.25"));
  out.push_back(noise);
  for (const char* text :
       {"true", "false", "MlpPolicy", "MultiRobotPolicy", "auto", "cpu", "7", "0.5", "-1.5"}) {
    scalar(text);
  }
  if (value.kind != config::Tree::Kind::kScalar) return out;
  // The written number, also after a `lin_` / `auto_` prefix: halved, plus one or three.
  const std::string& text = value.scalar;
  const size_t underscore = text.find('_');
  const std::string prefix = underscore == std::string::npos ? "" : text.substr(0, underscore + 1);
  const std::string number = text.substr(prefix.size());
  double parsed = 0.0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), parsed);
  if (error == std::errc() && end == number.data() + number.size()) {
    for (double v : {parsed / 2, parsed + 1, parsed + 3}) scalar(prefix + NumberText(v));
    if (!prefix.empty()) scalar(number);  // without the prefix: a constant
  }
  return out;
}

// Read → written → read is the identity, and every key the writer writes carries its value: some
// other valid value of it reads to other settings that round-trip too.
TEST_P(AlgorithmSweepTest, ConfigRoundTripsWithEveryKeyCarried) {
  const config::AgentConfig defaults = Config("pendulum").agent;
  ASSERT_EQ(defaults.algorithm(), GetParam());
  const config::Tree written = config::AgentConfigToTree(defaults);
  EXPECT_EQ(config::ReadAgentConfig(&written), defaults) << written.ToYaml();
  const config::Tree reparsed = config::ParseYaml(written.ToYaml(), "written.yaml");
  EXPECT_EQ(config::ReadAgentConfig(&reparsed), defaults) << written.ToYaml();

  // The writer writes every key the reader reads, but the ones that have no effect.
  std::vector<std::string> keys;
  for (const auto& [key, value] : written.entries) keys.push_back(key);
  keys.push_back("policy_kwargs");
  keys.push_back("verbose");
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, config::AgentKeysOf(GetParam()));

  // A key whose only valid value is the written one (SAC's policy) has nothing to carry.
  for (const auto& [key, value] : written.entries) {
    if (key == "algorithm") continue;
    bool accepted = false;
    bool carried = false;
    for (const config::Tree& other : Variations(value)) {
      if (config::EqualData(other, value)) continue;
      config::Tree changed = written;
      changed.Set(key, other);
      std::optional<config::AgentConfig> read;
      try {
        read = config::ReadAgentConfig(&changed);
      } catch (const ConfigError&) {
        continue;  // not a valid value of this key
      }
      accepted = true;
      if (*read == defaults) continue;
      carried = true;
      const config::Tree again = config::AgentConfigToTree(*read);
      EXPECT_EQ(config::ReadAgentConfig(&again), *read) << Name() << " " << key << ":\n"
                                                        << again.ToYaml();
    }
    EXPECT_EQ(carried, accepted) << Name() << ": no other value of agent." << key
                                 << " changes the settings";
  }
}

// A short run on the one-step bandit (optimum a = 0.5, return 0; uniform random actions in the
// [-2, 2] box average −1.58) learns: its deterministic action ends within 0.32 of the optimum
// (return > −0.1; measured: PPO −0.0001, A2C −0.0007, SAC −0.0007, TD3 −0.047). The final model
// loads back whole with its config.
TEST_P(AlgorithmSweepTest, LearnsTheBanditAndItsModelLoadsBack) {
  TrainingRequest request = Request("bandit", "bandit");
  request.config.training.total_timesteps = 6000;
  request.config.training.eval_freq = 3000;
  const bool on_policy = request.config.agent.on_policy() != nullptr;
  const TrainingResult result = on_policy ? TrainOnPolicy(request, test_util::MakeBandit)
                                          : TrainOffPolicy(request, test_util::MakeBandit);
  ASSERT_TRUE(result.final_model.has_value());
  ASSERT_TRUE(result.final_mean_return.has_value());
  EXPECT_GT(*result.final_mean_return, -0.1) << Name();
  RecordProperty("final_mean_return", std::to_string(*result.final_mean_return));

  // The archive: this algorithm, the session's settings in its config, every tensor loading into
  // a fresh network of the algorithm, which acts as trained.
  const checkpoint::LoadedModel model = checkpoint::LoadModel(*result.final_model);
  EXPECT_EQ(model.data.agent.algorithm(), GetParam());
  const config::ExperimentConfig saved = config::ParseExperimentConfig(
      config::ParseYaml(model.config_yaml, checkpoint::kConfigMember));
  EXPECT_EQ(saved.agent, request.config.agent);
  EXPECT_EQ(saved.network, request.config.network);
  const SavedPolicy policy(*result.final_model, request.config, test_util::MakeBandit()->Spec());
  EXPECT_NE(policy.TransferSummary().find(" copied, 0 sliced, 0 fresh"), std::string::npos)
      << policy.TransferSummary();
}

// Stopped mid-session and resumed from the interrupt checkpoint: the same final weights, bit
// for bit, as without the stop.
TEST_P(AlgorithmSweepTest, StoppedAndResumedEqualsUninterrupted) {
  auto request = [this](const std::string& name) {
    TrainingRequest r = Request("pendulum", name);
    r.config.environment.max_episode_steps = 50;
    r.config.training.n_envs = 2;
    r.config.training.total_timesteps = 320;
    r.config.training.eval_freq = 0;
    return r;
  };
  const TrainingResult straight = Train(request("straight"));
  ASSERT_TRUE(straight.final_model);

  TrainingRequest first = request("stopped");
  int polls = 0;
  first.hooks.stop_requested = [&polls] { return ++polls == 70; };
  const TrainingResult cut = Train(first);
  ASSERT_TRUE(cut.interrupted);
  TrainingRequest second = request("stopped");
  second.resume_checkpoint = cut.interrupt_checkpoint;
  const TrainingResult resumed = Train(second);
  ASSERT_TRUE(resumed.final_model);
  EXPECT_EQ(resumed.resumed_from_timesteps, cut.timesteps);
  EXPECT_EQ(resumed.timesteps, straight.timesteps);

  const checkpoint::StateDict a = checkpoint::LoadModel(*straight.final_model).state_dict;
  const checkpoint::StateDict b = checkpoint::LoadModel(*resumed.final_model).state_dict;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << Name() << " " << a[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(Registered, AlgorithmSweepTest,
                         ::testing::ValuesIn(RegisteredAlgorithms()),
                         [](const auto& info) { return config::ToString(info.param); });

}  // namespace
}  // namespace rlpipe::algos
