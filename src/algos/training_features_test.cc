// Training features shared by both loop families: checkpoint retention, normaliser statistics in
// saved models (and taken over by the next session), frozen statistics at evaluation, early
// stopping and task statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "algos/evaluation.h"
#include "algos/loop_common.h"
#include "algos/normalizer_members.h"
#include "algos/off_policy.h"
#include "algos/on_policy.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "envs/env.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

/// Observation x ~ the step count mod 4 (so statistics are non-trivial), reward −(a − x/4)²,
/// episodes of 4 steps ending by truncation, info {"progress": x}.
class CountingEnv : public envs::Env {
 public:
  CountingEnv() {
    spec_.name = "counting";
    spec_.observation_space = {{0.0f}, {10.0f}};
    spec_.action_space = {{-2.0f}, {2.0f}};
  }
  const envs::EnvSpec& Spec() const override { return spec_; }
  void Reset(std::optional<uint64_t>, std::span<float> obs) override {
    t_ = 0;
    obs[0] = 0.0f;
  }
  envs::StepResult Step(std::span<const float> action, std::span<float> obs) override {
    ++t_;
    obs[0] = static_cast<float>(t_ % 4) + 5.0f;
    envs::StepResult result;
    const double error = static_cast<double>(action[0]) - t_ / 4.0;
    result.reward = -error * error;
    result.truncated = t_ == 4;
    result.info = {{"progress", static_cast<double>(t_)}};
    return result;
  }

 private:
  envs::EnvSpec spec_;
  int t_ = 0;
};

std::unique_ptr<envs::Env> MakeCounting() { return std::make_unique<CountingEnv>(); }

class TrainingFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rlpipe_training_features_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(root_);
  }

  TrainingRequest Request(const std::string& name) const {
    TrainingRequest request;
    config::ExperimentConfig& c = request.config;
    c.environment.name = "counting";
    config::PpoConfig& ppo = c.agent.Get<config::PpoConfig>();
    ppo.n_steps = 8;
    ppo.batch_size = 16;
    ppo.n_epochs = 1;
    c.network.policy_layers = {8};
    c.network.value_layers = {8};
    c.training.n_envs = 2;
    c.training.total_timesteps = 256;
    c.training.eval_freq = 0;
    c.training.eval_episodes = 1;
    request.seed = 1;
    request.models_dir = root_ / name;
    return request;
  }

  std::set<std::string> Checkpoints(const TrainingRequest& request) const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(request.models_dir / "checkpoints")) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  fs::path root_;
};

TEST_F(TrainingFeaturesTest, KeepCheckpointsKeepsExactlyTheNewestK) {
  // save_freq 32 over 256 steps: checkpoints at 32, 64, ..., 256; keep the newest 3.
  TrainingRequest request = Request("keep3");
  request.config.training.save_freq = 32;
  request.config.training.keep_checkpoints = 3;
  TrainOnPolicy(request, MakeCounting);
  EXPECT_EQ(Checkpoints(request),
            (std::set<std::string>{"rl_model_192_steps.zip", "rl_model_224_steps.zip",
                                   "rl_model_256_steps.zip"}));
  EXPECT_TRUE(fs::exists(request.models_dir / "best_model.zip"));
  EXPECT_TRUE(fs::exists(request.models_dir / "final_model.zip"));

  // 0 keeps every one.
  TrainingRequest all = Request("keep_all");
  all.config.training.save_freq = 32;
  all.config.training.keep_checkpoints = 0;
  TrainOnPolicy(all, MakeCounting);
  EXPECT_EQ(Checkpoints(all).size(), 8u);
}

TEST_F(TrainingFeaturesTest, KeepCheckpointsDeletesOnlyFilesItWroteAndNeverTheNewest) {
  // Files already in the checkpoints folder (a user's, or an earlier run's) are not this run's.
  TrainingRequest request = Request("foreign");
  request.config.training.save_freq = 32;
  request.config.training.keep_checkpoints = 1;
  fs::create_directories(request.models_dir / "checkpoints");
  for (const char* name : {"rl_model_8_steps.zip", "rl_model_100000_steps.zip", "notes.txt"}) {
    std::ofstream(request.models_dir / "checkpoints" / name) << "not ours";
  }
  // Each checkpoint exists when the hook hears of it (a resume may continue from it).
  std::vector<fs::path> announced;
  request.hooks.on_checkpoint = [&](const fs::path& path, int64_t) {
    EXPECT_TRUE(fs::exists(path)) << path;
    announced.push_back(path);
  };
  TrainOnPolicy(request, MakeCounting);
  EXPECT_EQ(announced.size(), 8u);
  EXPECT_EQ(Checkpoints(request),
            (std::set<std::string>{"rl_model_8_steps.zip", "rl_model_100000_steps.zip", "notes.txt",
                                   "rl_model_256_steps.zip"}));
}

TEST_F(TrainingFeaturesTest, KeepCheckpointsGoesOnPruningAfterAResume) {
  // Stopped at 98 steps (checkpoints 32, 64, 96, then the interrupt one at 98), resumed to 256:
  // the resumed run also prunes what the first attempt wrote, and keeps the newest two.
  TrainingRequest first = Request("resumed");
  first.config.training.save_freq = 32;
  first.config.training.keep_checkpoints = 2;
  int polls = 0;
  first.hooks.stop_requested = [&polls] { return ++polls == 50; };
  const TrainingResult cut = TrainOnPolicy(first, MakeCounting);
  ASSERT_TRUE(cut.interrupted);
  EXPECT_EQ(Checkpoints(first),
            (std::set<std::string>{"rl_model_96_steps.zip", "rl_model_98_steps.zip"}));

  TrainingRequest second = Request("resumed");
  second.config.training.save_freq = 32;
  second.config.training.keep_checkpoints = 2;
  second.resume_checkpoint = cut.interrupt_checkpoint;
  const TrainingResult resumed = TrainOnPolicy(second, MakeCounting);
  ASSERT_FALSE(resumed.interrupted);
  EXPECT_EQ(Checkpoints(second),
            (std::set<std::string>{"rl_model_224_steps.zip", "rl_model_256_steps.zip"}));
}

TEST_F(TrainingFeaturesTest, NormalizerStatisticsAreSavedAndTakenOverByTheNextSession) {
  // Session 1: 2 reset rows + 256 step rows merged into the observation statistics.
  TrainingRequest first = Request("first");
  first.config.training.normalize.obs = true;
  first.config.training.normalize.reward = true;
  const TrainingResult one = TrainOnPolicy(first, MakeCounting);
  const fs::path model = *one.final_model;
  const auto saved = SavedNormalizerState(checkpoint::LoadModel(model), model.string());
  ASSERT_TRUE(saved.has_value());
  EXPECT_NEAR(saved->obs.count, 1e-4 + 2 + 256, 1e-9);
  // Step observations cycle 6, 7, 8, 5 and resets give 0: the mean sits between.
  EXPECT_GT(saved->obs.mean[0], 5.0);
  EXPECT_LT(saved->obs.mean[0], 7.0);
  EXPECT_GT(saved->ret.count, 256.0 / 2);

  // Session 2 starts from it: its statistics continue from session 1's.
  TrainingRequest second = Request("second");
  second.config.training.normalize = first.config.training.normalize;
  second.config.training.total_timesteps = 64;
  second.init_checkpoint = model;
  std::vector<std::string> messages;
  second.hooks.on_message = [&](const std::string& line) { messages.push_back(line); };
  const TrainingResult two = TrainOnPolicy(second, MakeCounting);
  const auto continued =
      SavedNormalizerState(checkpoint::LoadModel(*two.final_model), model.string());
  ASSERT_TRUE(continued.has_value());
  EXPECT_NEAR(continued->obs.count, saved->obs.count + 2 + 64, 1e-9);
  EXPECT_NE(std::find(messages.begin(), messages.end(),
                      "normaliser statistics taken from " + model.string()),
            messages.end());

  // The same for the off-policy family.
  TrainingRequest sac = Request("sac");
  sac.config.agent = config::DefaultAgentConfig(config::Algorithm::kSac);
  sac.config.agent.off_policy()->learning_starts = 16;
  sac.config.agent.off_policy()->batch_size = 8;
  sac.config.network.qf_layers = {8};
  sac.config.training.total_timesteps = 64;
  sac.config.training.normalize = first.config.training.normalize;
  sac.init_checkpoint = std::nullopt;
  const TrainingResult off = TrainOffPolicy(sac, MakeCounting);
  const auto off_saved =
      SavedNormalizerState(checkpoint::LoadModel(*off.final_model), "sac final model");
  ASSERT_TRUE(off_saved.has_value());
  EXPECT_NEAR(off_saved->obs.count, 1e-4 + 2 + 64, 1e-9);

  // Without normalisation, no member is written.
  TrainingRequest plain = Request("plain");
  plain.config.training.total_timesteps = 32;
  const TrainingResult p = TrainOnPolicy(plain, MakeCounting);
  EXPECT_FALSE(SavedNormalizerState(checkpoint::LoadModel(*p.final_model), "plain").has_value());
}

TEST_F(TrainingFeaturesTest, EvaluationSeesObservationsNormalisedWithFrozenStatistics) {
  // Statistics mean 1, variance 4: the first eval observation 0 reaches the policy as −0.5.
  config::NormalizeConfig both;
  both.obs = true;
  both.reward = true;
  vec::VecNormalizer normalizer(both, 0.99, 1, 1);
  vec::NormalizerState state = normalizer.State();
  state.obs = {{1.0}, {4.0}, 10.0};
  normalizer.Restore(state);

  TrainingRequest request = Request("eval");
  request.config.training.eval_freq = 1;
  request.config.training.eval_episodes = 2;
  std::vector<float> seen;
  LoopCommon common(
      request, [] { return MakeCounting(); }, /*eval_threads=*/1,
      [&](std::span<const float> obs, std::vector<float>& action) {
        seen.push_back(obs[0]);
        action.assign(1, 0.0f);
      },
      [](const fs::path&, bool) {}, &normalizer);
  common.AfterStep(1, {});

  // Two episodes of 4 steps: raw 0, 6, 7, 8 → (x − 1) / 2.
  ASSERT_EQ(seen.size(), 8u);
  const float scale = static_cast<float>(std::sqrt(4.0 + 1e-8));
  EXPECT_FLOAT_EQ(seen[0], -1.0f / scale);
  EXPECT_FLOAT_EQ(seen[1], 5.0f / scale);
  EXPECT_FLOAT_EQ(seen[4], -1.0f / scale);
  const vec::NormalizerState after = normalizer.State();
  EXPECT_EQ(after.obs.mean, state.obs.mean);
  EXPECT_EQ(after.obs.var, state.obs.var);
  EXPECT_EQ(after.obs.count, state.obs.count);
}

TEST_F(TrainingFeaturesTest, EarlyStoppingEndsTheRunAndTaskStatisticsAreReported) {
  // Any return reaches −1e9: the first evaluation (at 64 steps) stops the session.
  TrainingRequest request = Request("stop");
  request.config.training.eval_freq = 64;
  request.config.training.stop_on_reward = -1e9;
  const TrainingResult result = TrainOnPolicy(request, MakeCounting);
  EXPECT_EQ(result.timesteps, 64);
  ASSERT_TRUE(result.stop_reason.has_value());
  EXPECT_EQ(result.stop_reason->rfind("stop_on_reward: mean eval return", 0), 0u)
      << *result.stop_reason;
  EXPECT_TRUE(result.final_model.has_value());

  // Every episode ends at its 4th step: info progress 4.
  ASSERT_TRUE(result.task_stats.contains("progress"));
  EXPECT_DOUBLE_EQ(result.task_stats.at("progress").mean, 4.0);
  EXPECT_DOUBLE_EQ(result.task_stats.at("progress").max, 4.0);

  // Off-policy: stop_after_no_improvement 1 with a frozen policy (learning starts after the end).
  TrainingRequest sac = Request("sac_stop");
  sac.config.agent = config::DefaultAgentConfig(config::Algorithm::kSac);
  sac.config.agent.off_policy()->learning_starts = 100000;
  sac.config.network.qf_layers = {8};
  sac.config.training.eval_freq = 16;
  sac.config.training.stop_after_no_improvement = 1;
  const TrainingResult off = TrainOffPolicy(sac, MakeCounting);
  EXPECT_EQ(off.timesteps, 32);
  ASSERT_TRUE(off.stop_reason.has_value());
  EXPECT_EQ(off.stop_reason->rfind("stop_after_no_improvement: 1 evaluations", 0), 0u)
      << *off.stop_reason;
}

// training.threads changes where envs, evaluations and the twin critics run, never the result: a
// pendulum session (3 envs, evaluations) ends with bitwise the same weights and evaluations with 1
// and 2 threads.
TEST_F(TrainingFeaturesTest, ThreadCountDoesNotChangeTheResult) {
  for (config::Algorithm algorithm :
       {config::Algorithm::kPpo, config::Algorithm::kSac, config::Algorithm::kTd3}) {
    std::vector<TrainingResult> results;
    std::vector<checkpoint::StateDict> weights;
    for (int threads : {1, 2}) {
      TrainingRequest request;
      config::ExperimentConfig& c = request.config;
      c.environment.name = "pendulum";
      c.environment.max_episode_steps = 40;
      c.agent = config::DefaultAgentConfig(algorithm);
      c.network = config::DefaultNetworkConfig(algorithm);
      c.network.policy_layers = {16};
      c.network.value_layers = {16};
      c.network.qf_layers = {16};
      if (auto* ppo = std::get_if<config::PpoConfig>(&c.agent.settings)) {
        ppo->n_steps = 16;
        ppo->batch_size = 16;
      }
      if (config::OffPolicyConfig* off_policy = c.agent.off_policy()) {
        off_policy->batch_size = 16;
        off_policy->learning_starts = 30;
      }
      c.training.n_envs = 3;
      c.training.total_timesteps = 150;
      c.training.eval_freq = 60;
      c.training.eval_episodes = 3;
      c.training.threads = threads;
      request.seed = 5;
      request.models_dir = root_ / (config::ToString(algorithm) + std::to_string(threads));
      results.push_back(Train(request));
      ASSERT_TRUE(results.back().final_model.has_value());
      weights.push_back(checkpoint::LoadModel(*results.back().final_model).state_dict);
    }
    EXPECT_EQ(results[0].best_mean_return, results[1].best_mean_return);
    EXPECT_EQ(results[0].final_mean_return, results[1].final_mean_return);
    ASSERT_EQ(weights[0].size(), weights[1].size());
    for (size_t i = 0; i < weights[0].size(); ++i) {
      EXPECT_TRUE(torch::equal(weights[0][i].second, weights[1][i].second))
          << config::ToString(algorithm) << " " << weights[0][i].first;
    }
  }
}

// Evaluation episodes spread over several envs and threads give the one-env outcomes, in order.
TEST(ParallelEvaluationTest, EqualsOneEnvForAnyNumberOfEnvs) {
  config::EnvironmentConfig env_config;
  env_config.name = "pendulum";
  const PolicyFn act = [](std::span<const float> obs, std::vector<float>& action) {
    action.assign(1, std::clamp(-2.0f * obs[2], -2.0f, 2.0f));
  };
  auto one = envs::MakeEnv(env_config);
  const std::vector<EpisodeOutcome> serial = RunEvaluationEpisodes(*one, act, nullptr, 11, 3, 7);
  for (int n : {1, 2, 3, 8}) {
    std::vector<std::unique_ptr<envs::Env>> owned;
    std::vector<envs::Env*> envs;
    for (int i = 0; i < n; ++i) {
      owned.push_back(envs::MakeEnv(env_config));
      envs.push_back(owned.back().get());
    }
    const std::vector<EpisodeOutcome> parallel =
        RunEvaluationEpisodes(std::span<envs::Env* const>(envs), act, nullptr, 11, 3, 7);
    ASSERT_EQ(parallel.size(), serial.size()) << n;
    for (size_t e = 0; e < serial.size(); ++e) {
      EXPECT_EQ(parallel[e].episode_return, serial[e].episode_return)
          << n << " envs, episode " << e;
      EXPECT_EQ(parallel[e].length, serial[e].length);
    }
  }
}

}  // namespace
}  // namespace rlpipe::algos
