// MultiRobotPolicy in the training stack: built from a robot task's layout, transferred between
// tasks and robot counts by plain name + shape loading, trained by PPO and A2C.
#include "nn/multi_robot_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "algos/loop_common.h"
#include "algos/on_policy.h"
#include "algos/policy_factory.h"
#include "algos/session_start.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "core/error.h"
#include "core/seed.h"
#include "envs/env.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

config::EnvironmentConfig Task(const std::string& name, int n, int max_episode_steps = 0) {
  config::EnvironmentConfig env;
  env.name = name;
  env.max_episode_steps = max_episode_steps;
  env.params.kind = config::Tree::Kind::kMap;
  env.params.entries.emplace_back("num_type_b_robots", config::Tree::Scalar(std::to_string(n)));
  return env;
}

envs::EnvSpec SpecOf(const config::EnvironmentConfig& env) { return envs::MakeEnv(env)->Spec(); }

config::ExperimentConfig MrpConfig(const config::EnvironmentConfig& env) {
  config::ExperimentConfig c;
  c.environment = env;
  c.agent.common().policy = config::Policy::kMultiRobot;
  c.network.embed_dim = 16;
  c.network.attention_heads = 2;
  c.network.attention_layers = 1;
  c.network.policy_layers = {16};
  c.network.value_layers = {16};
  return c;
}

class MultiRobotPolicyTrainingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rlpipe_mrp_test_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A short PPO (or A2C) run on height_maximize with N = 1 and 40-step episodes.
  TrainingRequest SmokeRequest(const std::string& name, uint64_t seed) const {
    TrainingRequest request;
    request.config = MrpConfig(Task("height_maximize", 1, 40));
    config::PpoConfig& agent = request.config.agent.Get<config::PpoConfig>();
    agent.n_steps = 32;
    agent.batch_size = 32;
    agent.n_epochs = 2;
    request.config.training.n_envs = 2;
    request.config.training.total_timesteps = 256;
    request.config.training.eval_freq = 0;
    request.config.training.eval_episodes = 1;
    request.seed = seed;
    request.models_dir = root_ / name;
    return request;
  }

  fs::path root_;
};

TEST_F(MultiRobotPolicyTrainingTest, TheLayoutComesFromTheRobotTask) {
  const nn::MultiRobotLayout layout = ToNetworkLayout(SpecOf(Task("crush_resistance", 3)));
  ASSERT_EQ(layout.types.size(), 2u);
  EXPECT_EQ(layout.types[0].type, "bar");
  EXPECT_EQ(layout.types[0].count, 6);
  EXPECT_EQ(layout.types[1].type, "sphere");
  EXPECT_EQ(layout.types[1].count, 3);
  EXPECT_EQ(layout.task_obs_dim, 6);
}

TEST_F(MultiRobotPolicyTrainingTest, AHeightModelLoadsIntoCrushAndIntoMoreRobots) {
  // A height_maximize N = 2 model, saved as a training run saves it.
  const config::ExperimentConfig height2 = MrpConfig(Task("height_maximize", 2));
  const envs::EnvSpec height2_spec = SpecOf(height2.environment);
  nn::ActorCritic source = MakeActorCritic(height2, height2_spec, 11);
  TrainingRequest request;
  request.config = height2;
  const fs::path path = root_ / "height2.zip";
  checkpoint::SaveModel(path, *source, MakeModelData(request, height2_spec, 0, 0),
                        request.config.resolved);
  const checkpoint::LoadedModel model = checkpoint::LoadModel(path);
  const auto source_params = source->named_parameters();

  // Plain name + shape loading into crush N = 2 and height N = 3: every tensor, no mismatch.
  for (const config::EnvironmentConfig& target :
       {Task("crush_resistance", 2), Task("height_maximize", 3)}) {
    const envs::EnvSpec spec = SpecOf(target);
    nn::ActorCritic policy = MakeActorCritic(MrpConfig(target), spec, 12);
    const int copied = checkpoint::LoadWeightsInto(*policy, model.state_dict, path.string());
    EXPECT_EQ(copied, static_cast<int>(source_params.size())) << target.name;
    for (const auto& item : policy->named_parameters()) {
      EXPECT_TRUE(torch::equal(item.value(), source_params[item.key()])) << item.key();
    }

    // It runs on the target's observations and fills its action space.
    const int obs_dim = spec.observation_space.Dim();
    nn::ActorCriticOutput out = policy->forward(torch::zeros({3, obs_dim}));
    EXPECT_EQ(out.mean.size(1), spec.action_space.Dim()) << target.name;
    EXPECT_TRUE(out.value.isfinite().all().item<bool>());
  }
}

TEST_F(MultiRobotPolicyTrainingTest, AHeightRunStartsACrushSessionAndMlpRefusesIt) {
  // A trained height_maximize N = 1 model, as a session writes it.
  TrainingRequest height = SmokeRequest("height", 7);
  const TrainingResult trained = Train(height);
  ASSERT_TRUE(trained.final_model.has_value());

  // The next session: crush_resistance with N = 2 starts from it as it is (no weight surgery).
  TrainingRequest crush = SmokeRequest("crush", 8);
  crush.config.environment = Task("crush_resistance", 2, 40);
  crush.config.training.total_timesteps = 64;
  crush.init_checkpoint = *trained.final_model;
  std::vector<std::string> messages;
  crush.hooks.on_message = [&](const std::string& line) { messages.push_back(line); };
  const TrainingResult continued = Train(crush);
  EXPECT_EQ(continued.timesteps, 64);
  const size_t tensors = checkpoint::LoadModel(*trained.final_model).state_dict.size();
  // Every tensor copied whole: nothing sliced, nothing fresh.
  EXPECT_NE(std::find(messages.begin(), messages.end(),
                      "transfer from " + trained.final_model->string() + ": " +
                          std::to_string(tensors) + " copied, 0 sliced, 0 fresh, 0 frozen"),
            messages.end());

  // An MlpPolicy session refuses the model, naming both policies (and the other way round).
  TrainingRequest mlp = SmokeRequest("mlp", 9);
  mlp.config.agent.common().policy = config::Policy::kMlp;
  mlp.config.network = config::NetworkConfig{};
  mlp.init_checkpoint = *trained.final_model;
  try {
    Train(mlp);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "checkpoint " + trained.final_model->string() +
                  ": expected a MlpPolicy model (agent.policy), found a MultiRobotPolicy model");
  }
  mlp.init_checkpoint.reset();
  mlp.config.training.total_timesteps = 64;
  const TrainingResult mlp_run = Train(mlp);
  crush.init_checkpoint = *mlp_run.final_model;
  try {
    Train(crush);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "checkpoint " + mlp_run.final_model->string() +
                  ": expected a MultiRobotPolicy model (agent.policy), found a MlpPolicy model");
  }
}

TEST_F(MultiRobotPolicyTrainingTest, PendulumWithMultiRobotPolicyIsAConfigError) {
  config::ExperimentConfig c;
  c.environment.name = "pendulum";
  c.agent.common().policy = config::Policy::kMultiRobot;
  try {
    MakeActorCritic(c, SpecOf(c.environment), 1);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "agent.policy: MultiRobotPolicy needs a multi-robot task (one with per-robot "
                 "observation blocks); task pendulum has none, use MlpPolicy");
  }
  c.agent.common().policy = config::Policy::kMlp;
  EXPECT_NO_THROW(MakeActorCritic(c, SpecOf(c.environment), 1));
}

TEST_F(MultiRobotPolicyTrainingTest, OffPolicyAlgorithmsRejectIt) {
  TrainingRequest request = SmokeRequest("sac", 1);
  config::SacConfig sac;
  sac.policy = config::Policy::kMultiRobot;
  request.config.agent.settings = sac;
  try {
    Train(request);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "agent.policy: MultiRobotPolicy trains with PPO and A2C, not SAC (use MlpPolicy)");
  }
}

TEST_F(MultiRobotPolicyTrainingTest, PpoTrainsItDeterministically) {
  // Two runs with one seed, one with another.
  std::vector<std::map<std::string, double>> losses;
  auto run = [&](const std::string& name, uint64_t seed) {
    TrainingRequest request = SmokeRequest(name, seed);
    request.hooks.on_progress = [&](const ProgressEvent& e) { losses.push_back(e.losses); };
    const TrainingResult result =
        TrainOnPolicy(request, [env = request.config.environment] { return envs::MakeEnv(env); });
    EXPECT_EQ(result.timesteps, 256);
    return checkpoint::LoadModel(*result.final_model).state_dict;
  };
  const checkpoint::StateDict a = run("a", 5);
  const checkpoint::StateDict b = run("b", 5);
  const checkpoint::StateDict c = run("c", 6);

  // Every loss finite, and the update moved the weights away from their initial values.
  ASSERT_FALSE(losses.empty());
  for (const auto& event : losses) {
    for (const auto& [name, value] : event) EXPECT_TRUE(std::isfinite(value)) << name;
  }
  TrainingRequest request = SmokeRequest("init", 5);
  nn::ActorCritic initial =
      MakeActorCritic(request.config, SpecOf(request.config.environment), DeriveSeed(5, "init"));
  auto initial_params = initial->named_parameters();
  ASSERT_EQ(a.size(), initial_params.size());
  for (const auto& [name, tensor] : a) {
    EXPECT_FALSE(torch::equal(tensor, initial_params[name])) << name << " did not change";
  }

  // Same seed, same weights; another seed, other weights.
  ASSERT_EQ(a.size(), b.size());
  bool same_as_b = true;
  bool same_as_c = true;
  for (size_t i = 0; i < a.size(); ++i) {
    same_as_b = same_as_b && torch::equal(a[i].second, b[i].second);
    same_as_c = same_as_c && torch::equal(a[i].second, c[i].second);
  }
  EXPECT_TRUE(same_as_b);
  EXPECT_FALSE(same_as_c);
}

TEST_F(MultiRobotPolicyTrainingTest, A2cTrainsIt) {
  TrainingRequest request = SmokeRequest("a2c", 3);
  request.config.agent = config::DefaultAgentConfig(config::Algorithm::kA2c);
  request.config.agent.common().policy = config::Policy::kMultiRobot;
  request.config.agent.on_policy()->n_steps = 8;
  std::map<std::string, double> losses;
  request.hooks.on_progress = [&](const ProgressEvent& e) { losses = e.losses; };
  const TrainingResult result = Train(request);
  EXPECT_EQ(result.timesteps, 256);
  ASSERT_TRUE(losses.contains("train/policy_loss"));
  for (const auto& [name, value] : losses) EXPECT_TRUE(std::isfinite(value)) << name;
  EXPECT_GT(losses.at("train/std"), 0.5);  // from exp(log_std_init = 0) = 1
  EXPECT_LT(losses.at("train/std"), 2.0);
}

}  // namespace
}  // namespace rlpipe::algos
