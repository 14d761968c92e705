// Exact mid-session resume inside one process: a session stopped (interrupt checkpoint) or cut
// back to a periodic checkpoint and resumed ends with bitwise the same weights as the session run
// straight through, for every algorithm, and with the multi-robot network. The pipeline-level
// test with kill -9 is tests/resume_e2e_test.cc.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "algos/replay_buffer.h"
#include "algos/replay_segments.h"
#include "algos/rollout_buffer.h"
#include "algos/train.h"
#include "algos/training_state.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/model_data.h"
#include "config/algorithms.h"
#include "core/error.h"
#include "nn/diag_gaussian.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

class ResumeTest : public ::testing::TestWithParam<config::Algorithm> {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("rlpipe_resume_test_" + config::ToString(GetParam()) +
                                         "_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A short pendulum session: checkpoints every 100 steps (mid-rollout for PPO and A2C), an
  // evaluation every 200, a SAC/TD3 buffer that wraps around, OU noise for TD3.
  TrainingRequest Request(const std::string& name) const {
    const config::Algorithm algorithm = GetParam();
    TrainingRequest request;
    config::ExperimentConfig& c = request.config;
    c.environment.name = "pendulum";
    c.environment.max_episode_steps = 60;
    c.agent = config::DefaultAgentConfig(algorithm);
    c.network = config::DefaultNetworkConfig(algorithm);
    c.network.policy_layers = {16, 16};
    c.network.value_layers = {16, 16};
    c.network.qf_layers = {16, 16};
    c.agent.common().learning_rate_linear = true;
    if (config::OnPolicyConfig* on_policy = c.agent.on_policy()) on_policy->n_steps = 48;
    if (auto* ppo = std::get_if<config::PpoConfig>(&c.agent.settings)) {
      ppo->batch_size = 32;
      ppo->n_epochs = 2;
    }
    if (config::OffPolicyConfig* off_policy = c.agent.off_policy()) {
      off_policy->batch_size = 32;
      off_policy->buffer_size = 250;
      off_policy->learning_starts = 60;
    }
    if (algorithm == config::Algorithm::kTd3) {
      c.agent.off_policy()->action_noise = {config::ActionNoiseType::kOrnsteinUhlenbeck, 0.3};
    }
    c.training.n_envs = 2;
    c.training.total_timesteps = 480;
    c.training.save_freq = 100;
    c.training.eval_freq = 200;
    c.training.eval_episodes = 2;
    request.seed = 17;
    request.models_dir = root_ / name;
    return request;
  }

  // Weights of a model archive.
  static checkpoint::StateDict Weights(const fs::path& path) {
    return checkpoint::LoadModel(path).state_dict;
  }

  static void ExpectBitwiseEqual(const checkpoint::StateDict& a, const checkpoint::StateDict& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
    }
  }

  fs::path root_;
};

TEST_P(ResumeTest, StoppedAndResumedEqualsUninterrupted) {
  // Straight through.
  const TrainingResult straight = Train(Request("straight"));
  ASSERT_TRUE(straight.final_model);

  // Stopped at the 7th poll (mid-rollout, before learning starts for SAC/TD3), resumed, stopped
  // again at the 150th poll of the resumed attempt, resumed again to the end.
  TrainingRequest first = Request("stopped");
  int polls = 0;
  first.hooks.stop_requested = [&polls] { return ++polls == 7; };
  const TrainingResult cut = Train(first);
  ASSERT_TRUE(cut.interrupted);
  ASSERT_TRUE(cut.interrupt_checkpoint);

  TrainingRequest second = Request("stopped");
  second.resume_checkpoint = cut.interrupt_checkpoint;
  polls = 0;
  second.hooks.stop_requested = [&polls] { return ++polls == 150; };
  const TrainingResult cut_again = Train(second);
  ASSERT_TRUE(cut_again.interrupted);
  EXPECT_EQ(cut_again.resumed_from_timesteps, cut.timesteps);
  EXPECT_GT(cut_again.timesteps, cut.timesteps);

  TrainingRequest third = Request("stopped");
  third.resume_checkpoint = cut_again.interrupt_checkpoint;
  const TrainingResult resumed = Train(third);
  ASSERT_TRUE(resumed.final_model);
  EXPECT_EQ(resumed.timesteps, straight.timesteps);
  EXPECT_EQ(resumed.episodes, straight.episodes);
  EXPECT_EQ(resumed.best_mean_return, straight.best_mean_return);
  EXPECT_EQ(resumed.final_mean_return, straight.final_mean_return);
  ExpectBitwiseEqual(Weights(*resumed.final_model), Weights(*straight.final_model));
}

TEST_P(ResumeTest, ResumedFromAPeriodicCheckpointEqualsUninterrupted) {
  const TrainingResult straight = Train(Request("straight"));
  const checkpoint::StateDict straight_weights = Weights(*straight.final_model);

  // The same folder resumed from its periodic checkpoint at 300 steps (after an evaluation wrote
  // best_model.zip, which the resumed run finds there), as the pipeline does after a kill.
  const fs::path periodic = root_ / "straight" / "checkpoints" / "rl_model_300_steps.zip";
  ASSERT_TRUE(checkpoint::VerifyArchive(periodic));
  TrainingRequest request = Request("straight");
  request.resume_checkpoint = periodic;
  const TrainingResult resumed = Train(request);
  EXPECT_EQ(resumed.resumed_from_timesteps, 300);
  EXPECT_EQ(resumed.best_mean_return, straight.best_mean_return);
  ExpectBitwiseEqual(Weights(*resumed.final_model), straight_weights);

  // Best and final models carry no training state; resuming from one is an error naming it.
  EXPECT_FALSE(
      checkpoint::LoadModel(*straight.final_model).extra_members.contains(kTrainingStateMember));
  TrainingRequest wrong = Request("wrong");
  wrong.resume_checkpoint = *straight.final_model;
  EXPECT_THROW(Train(wrong), IoError);
}

TEST_P(ResumeTest, EveryModelWrittenAfterAResumeEqualsTheUninterruptedOnes) {
  // Checkpoints every 50 steps: for PPO and A2C (rollouts of 96 steps) the checkpoint at 250 is
  // written after the resume from 200 and before the resumed run's first update.
  auto request = [this](const std::string& name) {
    TrainingRequest r = Request(name);
    r.config.training.save_freq = 50;
    r.config.training.keep_checkpoints = 0;  // all of them
    return r;
  };
  const TrainingResult straight = Train(request("straight"));
  ASSERT_TRUE(straight.final_model);

  // The folder as a kill at ~230 steps leaves it, resumed from its checkpoint at 200.
  const fs::path straight_dir = root_ / "straight";
  const fs::path resumed_dir = root_ / "resumed";
  fs::copy(straight_dir, resumed_dir, fs::copy_options::recursive);
  for (const fs::directory_entry& entry : fs::directory_iterator(resumed_dir / "checkpoints")) {
    if (!entry.path().filename().string().starts_with(kReplaySegmentPrefix) &&
        entry.path().filename() != "rl_model_50_steps.zip" &&
        entry.path().filename() != "rl_model_100_steps.zip" &&
        entry.path().filename() != "rl_model_150_steps.zip" &&
        entry.path().filename() != "rl_model_200_steps.zip") {
      fs::remove(entry.path());
    }
  }
  // Replay segments (SAC/TD3) only the removed checkpoints named go too, as on --resume.
  PruneReplaySegments(resumed_dir / "checkpoints");
  fs::remove(resumed_dir / "final_model.zip");
  TrainingRequest resume = request("resumed");
  resume.resume_checkpoint = resumed_dir / "checkpoints" / "rl_model_200_steps.zip";
  const TrainingResult resumed = Train(resume);
  ASSERT_TRUE(resumed.final_model);

  // Every member a user or SB3 reads (weights, optimizer states with their learning rates, data)
  // of every archive the resumed run wrote. The training state holds wall-clock seconds.
  std::vector<fs::path> written = {"best_model.zip", "final_model.zip"};
  for (int64_t steps = 250; steps <= 450; steps += 50) {
    written.push_back(fs::path("checkpoints") /
                      ("rl_model_" + std::to_string(steps) + "_steps.zip"));
  }
  for (const fs::path& name : written) {
    const checkpoint::LoadedModel a = checkpoint::LoadModel(straight_dir / name);
    const checkpoint::LoadedModel b = checkpoint::LoadModel(resumed_dir / name);
    ExpectBitwiseEqual(a.state_dict, b.state_dict);
    ASSERT_EQ(a.optimizer_members.size(), b.optimizer_members.size()) << name;
    for (const auto& [member, bytes] : a.optimizer_members) {
      EXPECT_TRUE(b.optimizer_members.contains(member) && b.optimizer_members.at(member) == bytes)
          << name << ": " << member << " differs";
    }
    EXPECT_EQ(checkpoint::Sb3DataJson(a.data), checkpoint::Sb3DataJson(b.data)) << name;
  }
}

TEST_P(ResumeTest, NormalizedStoppedAndResumedEqualsUninterrupted) {
  // training.normalize: the normaliser's running statistics (and per-env discounted returns) are
  // part of the training state, so the resumed run normalises exactly as the straight one.
  auto normalized = [this](const std::string& name) {
    TrainingRequest request = Request(name);
    request.config.training.normalize = {true, true, 5.0, 8.0};
    return request;
  };
  const TrainingResult straight = Train(normalized("straight"));
  ASSERT_TRUE(straight.final_model);

  TrainingRequest first = normalized("stopped");
  int polls = 0;
  first.hooks.stop_requested = [&polls] { return ++polls == 90; };
  const TrainingResult cut = Train(first);
  ASSERT_TRUE(cut.interrupted);
  TrainingRequest second = normalized("stopped");
  second.resume_checkpoint = cut.interrupt_checkpoint;
  const TrainingResult resumed = Train(second);
  ASSERT_TRUE(resumed.final_model);
  EXPECT_EQ(resumed.timesteps, straight.timesteps);
  EXPECT_EQ(resumed.best_mean_return, straight.best_mean_return);
  EXPECT_EQ(resumed.final_mean_return, straight.final_mean_return);
  ExpectBitwiseEqual(Weights(*resumed.final_model), Weights(*straight.final_model));
  // The saved statistics are the same bytes (hex floats) too.
  const auto members = [](const fs::path& path) {
    return checkpoint::LoadModel(path).extra_members.at("rlpipe_normalizer.json");
  };
  EXPECT_EQ(members(*resumed.final_model), members(*straight.final_model));
}

// Every registered algorithm (config::Algorithms()).
std::vector<config::Algorithm> RegisteredAlgorithms() {
  std::vector<config::Algorithm> all;
  for (const config::AlgorithmInfo& row : config::Algorithms()) all.push_back(row.algorithm);
  return all;
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, ResumeTest, ::testing::ValuesIn(RegisteredAlgorithms()),
                         [](const auto& info) { return config::ToString(info.param); });

// gSDE (PPO, A2C): the noise matrices of the current period are part of the training state, so a
// session stopped mid-period explores on with the same matrices.
class GsdeResumeTest : public ResumeTest {};

TEST_P(GsdeResumeTest, StoppedMidNoisePeriodAndResumedEqualsUninterrupted) {
  auto gsde = [this](const std::string& name) {
    TrainingRequest request = Request(name);
    config::OnPolicyConfig& agent = *request.config.agent.on_policy();
    agent.use_sde = true;
    agent.sde_sample_freq = 20;
    agent.log_std_init = -1.0;
    return request;
  };
  const TrainingResult straight = Train(gsde("straight"));
  ASSERT_TRUE(straight.final_model);
  const checkpoint::StateDict straight_weights = Weights(*straight.final_model);
  for (const auto& [name, tensor] : straight_weights) {
    if (name == "log_std") {
      EXPECT_EQ(tensor.sizes().vec(), (std::vector<int64_t>{16, 1}));
    }
  }

  // Stopped at the 13th poll: step 12 of a rollout, inside the first 20-step noise period.
  TrainingRequest first = gsde("stopped");
  int polls = 0;
  first.hooks.stop_requested = [&polls] { return ++polls == 13; };
  const TrainingResult cut = Train(first);
  ASSERT_TRUE(cut.interrupted);
  TrainingRequest second = gsde("stopped");
  second.resume_checkpoint = cut.interrupt_checkpoint;
  const TrainingResult resumed = Train(second);
  ASSERT_TRUE(resumed.final_model);
  EXPECT_EQ(resumed.timesteps, straight.timesteps);
  EXPECT_EQ(resumed.final_mean_return, straight.final_mean_return);
  ExpectBitwiseEqual(Weights(*resumed.final_model), straight_weights);
}

INSTANTIATE_TEST_SUITE_P(OnPolicy, GsdeResumeTest,
                         ::testing::Values(config::Algorithm::kPpo, config::Algorithm::kA2c),
                         [](const auto& info) { return config::ToString(info.param); });

// MultiRobotPolicy through the actor-critic interface: weights and Adam state of the entity
// network, env states of a robot task. A tiny network on height_maximize N = 1.
TEST(ResumeMultiRobotTest, PpoStoppedAndResumedEqualsUninterrupted) {
  const fs::path root =
      fs::temp_directory_path() / ("rlpipe_resume_test_mrp_" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto request = [&root](const std::string& name) {
    TrainingRequest r;
    config::ExperimentConfig& c = r.config;
    c.environment.name = "height_maximize";
    c.environment.max_episode_steps = 40;
    c.environment.params.kind = config::Tree::Kind::kMap;
    c.environment.params.entries.emplace_back("num_type_b_robots", config::Tree::Scalar("1"));
    config::PpoConfig& ppo = c.agent.Get<config::PpoConfig>();
    ppo.policy = config::Policy::kMultiRobot;
    ppo.n_steps = 32;
    ppo.batch_size = 32;
    ppo.n_epochs = 2;
    c.network.embed_dim = 8;
    c.network.attention_heads = 2;
    c.network.attention_layers = 1;
    c.network.policy_layers = {8};
    c.network.value_layers = {8};
    c.training.n_envs = 2;
    c.training.total_timesteps = 256;
    c.training.save_freq = 100;
    c.training.eval_freq = 0;
    c.training.eval_episodes = 1;
    r.seed = 23;
    r.models_dir = root / name;
    return r;
  };
  const TrainingResult straight = Train(request("straight"));
  ASSERT_TRUE(straight.final_model);

  // Stopped mid-rollout of the second update, then resumed to the end.
  TrainingRequest first = request("stopped");
  int polls = 0;
  first.hooks.stop_requested = [&polls] { return ++polls == 45; };
  const TrainingResult cut = Train(first);
  ASSERT_TRUE(cut.interrupted);
  TrainingRequest second = request("stopped");
  second.resume_checkpoint = cut.interrupt_checkpoint;
  const TrainingResult resumed = Train(second);
  ASSERT_TRUE(resumed.final_model);
  EXPECT_EQ(resumed.resumed_from_timesteps, cut.timesteps);
  EXPECT_EQ(resumed.restarted_envs, 0);  // the robot world captures its state
  EXPECT_EQ(resumed.timesteps, straight.timesteps);
  const checkpoint::StateDict a = checkpoint::LoadModel(*resumed.final_model).state_dict;
  const checkpoint::StateDict b = checkpoint::LoadModel(*straight.final_model).state_dict;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  }
  fs::remove_all(root);
}

TEST(TrainingStateTest, ReplayBufferRoundTripAfterWrapAround) {
  // 7 rows into a ring of 5: rows 0 and 1 were overwritten, position 2.
  ReplayBuffer buffer(5, 2, 1);
  for (int t = 0; t < 7; ++t) {
    const float v = static_cast<float>(t);
    const std::vector<float> obs = {v, -v}, next = {v + 0.5f, v}, action = {v / 10};
    const std::vector<float> reward = {v * 2};
    const std::vector<uint8_t> done = {static_cast<uint8_t>(t % 2)};
    buffer.Add(obs, next, action, reward, done);
  }
  ReplayBuffer copy(5, 2, 1);
  copy.Restore(buffer.Serialize());
  EXPECT_EQ(copy.Size(), 5);
  EXPECT_EQ(copy.Position(), 2);
  const torch::Tensor all = torch::arange(5, torch::kLong);
  const ReplayBatch a = buffer.Gather(all), b = copy.Gather(all);
  for (const auto& [x, y] : {std::pair{a.obs, b.obs},
                             {a.next_obs, b.next_obs},
                             {a.actions, b.actions},
                             {a.rewards, b.rewards},
                             {a.dones, b.dones}}) {
    EXPECT_TRUE(torch::equal(x, y));
  }
  EXPECT_EQ(b.rewards[0].item<float>(), 10.0f);  // row 0 holds transition 5

  // Sampling with equal generators then draws the same batch.
  torch::Generator g1 = nn::MakeGenerator(4), g2 = nn::MakeGenerator(4);
  EXPECT_TRUE(torch::equal(buffer.Sample(8, g1).obs, copy.Sample(8, g2).obs));

  // A buffer of another capacity, or cut bytes, are refused.
  ReplayBuffer other(6, 2, 1);
  EXPECT_THROW(other.Restore(buffer.Serialize()), IoError);
  const std::string bytes = buffer.Serialize();
  EXPECT_THROW(copy.Restore(std::string_view(bytes).substr(0, bytes.size() - 3)), IoError);
}

TEST(TrainingStateTest, PartialRolloutRoundTrip) {
  RolloutBuffer buffer(4, 2, 3, 1);
  for (int t = 0; t < 3; ++t) {
    const float v = static_cast<float>(t);
    buffer.Add(std::vector<float>(6, v), std::vector<float>(2, -v), std::vector<float>(2, v * 3),
               std::vector<uint8_t>{1, 0}, std::vector<float>(2, v / 2),
               std::vector<float>(2, -v / 4));
  }
  RolloutBuffer copy(4, 2, 3, 1);
  copy.Restore(buffer.Serialize());
  EXPECT_EQ(copy.Steps(), 3);
  EXPECT_FALSE(copy.Full());
  for (int k = 0; k < 3 * 2 * 3; ++k) EXPECT_EQ(copy.obs()[k], buffer.obs()[k]);
  for (int k = 0; k < 3 * 2; ++k) {
    EXPECT_EQ(copy.rewards()[k], buffer.rewards()[k]);
    EXPECT_EQ(copy.dones()[k], buffer.dones()[k]);
    EXPECT_EQ(copy.log_probs()[k], buffer.log_probs()[k]);
  }
  RolloutBuffer other(5, 2, 3, 1);
  EXPECT_THROW(other.Restore(buffer.Serialize()), IoError);
}

TEST(TrainingStateTest, GeneratorStateContinuesTheStream) {
  // A generator advanced, saved, advanced further; the restored copy repeats the continuation.
  torch::Generator original = nn::MakeGenerator(9);
  torch::randn({5}, original);
  const std::string state = GeneratorState(original);
  const torch::Tensor next = torch::randn({7}, original);
  torch::Generator restored = nn::MakeGenerator(1234);
  SetGeneratorState(restored, state, "test");
  EXPECT_TRUE(torch::equal(torch::randn({7}, restored), next));
  EXPECT_THROW(SetGeneratorState(restored, "short", "test"), IoError);
}

}  // namespace
}  // namespace rlpipe::algos
