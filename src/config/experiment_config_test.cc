#include "config/experiment_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/error.h"

namespace rlpipe::config {
namespace {

const std::string kFixtures = std::string(RLPIPE_SOURCE_DIR) + "/tests/fixtures/config/";

// The ConfigError message from parsing `yaml`, or "" (with a test failure) when it parses.
std::string ErrorOf(const std::string& yaml) {
  try {
    ParseExperimentConfig(ParseYaml(yaml, "t.yaml"));
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ConfigError for:\n" << yaml;
  return "";
}

// A minimal valid config with `extra` appended (which may add or repeat sections).
std::string With(const std::string& extra) { return "environment:\n  name: pendulum\n" + extra; }

// One algorithm's settings of a parsed config.
const PpoConfig& Ppo(const ExperimentConfig& c) { return c.agent.Get<PpoConfig>(); }
const A2cConfig& A2c(const ExperimentConfig& c) { return c.agent.Get<A2cConfig>(); }
const SacConfig& Sac(const ExperimentConfig& c) { return c.agent.Get<SacConfig>(); }
const Td3Config& Td3(const ExperimentConfig& c) { return c.agent.Get<Td3Config>(); }

bool WasAccepted(const std::string& path) {
  const auto& accepted = NoEffectKeys();
  return std::find(accepted.begin(), accepted.end(), path) != accepted.end();
}

TEST(ExperimentConfigTest, ParsesUsersTrainingConfig) {
  const ExperimentConfig config =
      ParseExperimentConfig(LoadYamlFile(kFixtures + "training_config.yaml"));

  // Environment: generic keys typed, every other key kept as a task parameter.
  EXPECT_EQ(config.environment.name, "pendulum");
  EXPECT_EQ(config.environment.name_loc.line, 3);
  EXPECT_EQ(config.environment.name_loc.column, 9);
  EXPECT_EQ(config.environment.max_episode_steps, 200);
  EXPECT_EQ(config.environment.render_mode, "");
  ASSERT_EQ(config.environment.params.entries.size(), 1u);
  EXPECT_EQ(config.environment.params.entries[0].first, "g");
  EXPECT_EQ(config.environment.params.entries[0].second.loc.line, 6);

  // Agent, network and training values, including case-insensitive choices and 1e6.
  EXPECT_EQ(config.agent.algorithm(), Algorithm::kPpo);
  EXPECT_DOUBLE_EQ(Ppo(config).learning_rate, 3e-4);
  EXPECT_EQ(Ppo(config).n_steps, 512);
  EXPECT_DOUBLE_EQ(config.agent.common().gamma, 0.99);
  EXPECT_EQ(config.agent.common().device, "auto");
  EXPECT_EQ(config.network.policy_layers, (std::vector<int>{256, 256}));
  EXPECT_EQ(config.network.value_layers, (std::vector<int>{256, 128}));
  EXPECT_EQ(config.network.activation, Activation::kRelu);
  EXPECT_EQ(config.training.total_timesteps, 1000000);
  EXPECT_EQ(config.training.save_freq, 50000);
  EXPECT_EQ(config.training.n_envs, 4);
  EXPECT_EQ(config.training.seed, 42);  // agent.seed: 42 (SB3's seed) is the session seed
  EXPECT_EQ(config.paths.tensorboard, "./tensorboard");
  EXPECT_TRUE(config.monitoring.use_tensorboard);
  EXPECT_TRUE(config.resolved.IsMap());
  EXPECT_NE(config.resolved.Find("session2_metrics"), nullptr);

  // Sections and keys with no effect in rlpipe load, each with one warning naming its line.
  for (const char* path : {"aws", "transfer_learning", "session2_metrics.track_contact_forces",
                           "agent.verbose", "monitoring.use_wandb"}) {
    EXPECT_TRUE(WasAccepted(path)) << path;
  }
  const std::vector<std::string> warnings = TakeNoEffectWarnings();
  EXPECT_NE(std::find_if(warnings.begin(), warnings.end(),
                         [](const std::string& w) {
                           return w.find(
                                      "training_config.yaml:54:3: monitoring.use_wandb: "
                                      "warning: has no effect (rlpipe has no Weights & "
                                      "Biases integration") != std::string::npos;
                         }),
            warnings.end())
      << ::testing::PrintToString(warnings);
  // `normalize: true` turns on both observation and reward normalisation.
  EXPECT_TRUE(config.training.normalize.obs);
  EXPECT_TRUE(config.training.normalize.reward);
}

TEST(ExperimentConfigTest, ParsesTrainingFeatureKeys) {
  // Defaults: no normalisation, keep 3 checkpoints, no early stopping.
  const ExperimentConfig defaults = ParseExperimentConfig(ParseYaml(With(""), "t.yaml"));
  EXPECT_FALSE(defaults.training.normalize.obs);
  EXPECT_FALSE(defaults.training.normalize.reward);
  EXPECT_EQ(defaults.training.keep_checkpoints, 3);
  EXPECT_FALSE(defaults.training.stop_on_reward.has_value());
  EXPECT_EQ(defaults.training.stop_after_no_improvement, 0);

  // The map form sets each part; unwritten parts of the map are on.
  const ExperimentConfig map = ParseExperimentConfig(
      ParseYaml(With("training:\n  normalize: {reward: false, clip_obs: 5}\n  keep_checkpoints: 0\n"
                     "  stop_on_reward: -200\n  stop_after_no_improvement: 4\n"),
                "t.yaml"));
  EXPECT_TRUE(map.training.normalize.obs);
  EXPECT_FALSE(map.training.normalize.reward);
  EXPECT_EQ(map.training.normalize.clip_obs, 5.0);
  EXPECT_EQ(map.training.normalize.clip_reward, 10.0);
  EXPECT_EQ(map.training.keep_checkpoints, 0);
  EXPECT_EQ(map.training.stop_on_reward, -200.0);
  EXPECT_EQ(map.training.stop_after_no_improvement, 4);

  // The flat keys of older configs refine the bool form.
  const ExperimentConfig flat = ParseExperimentConfig(ParseYaml(
      With("training:\n  normalize: true\n  normalize_reward: false\n  clip_obs: 3\n"), "t.yaml"));
  EXPECT_TRUE(flat.training.normalize.obs);
  EXPECT_FALSE(flat.training.normalize.reward);
  EXPECT_EQ(flat.training.normalize.clip_obs, 3.0);

  // Strict: unknown keys in the map, bad values, bad types.
  EXPECT_NE(ErrorOf(With("training:\n  normalize: {obs: true, clip: 3}\n"))
                .find("training.normalize.clip: unknown key"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(With("training:\n  normalize: {clip_reward: 0}\n")),
            "t.yaml:4:28: training.normalize.clip_reward: expected a number > 0, found 0");
  EXPECT_EQ(ErrorOf(With("training:\n  keep_checkpoints: -1\n")),
            "t.yaml:4:21: training.keep_checkpoints: expected an integer >= 0, found -1");
  EXPECT_EQ(ErrorOf(With("training:\n  stop_after_no_improvement: -2\n")),
            "t.yaml:4:30: training.stop_after_no_improvement: expected an integer >= 0, found -2");
  // training.threads: 0 (the machine's cores) by default, read, checked.
  EXPECT_EQ(defaults.training.threads, 0);
  EXPECT_EQ(ParseExperimentConfig(ParseYaml(With("training:\n  threads: 2\n"), "t.yaml"))
                .training.threads,
            2);
  EXPECT_EQ(ErrorOf(With("training:\n  threads: -1\n")),
            "t.yaml:4:12: training.threads: expected an integer in 0..1024, found -1");
  EXPECT_NE(ErrorOf(With("training:\n  normalize: maybe\n")).find("training.normalize"),
            std::string::npos);
  EXPECT_NE(ErrorOf(With("training:\n  stop_on_reward: high\n")).find("training.stop_on_reward"),
            std::string::npos);
  EXPECT_NE(ErrorOf(With("training:\n  normalize: {obs: true}\n  clip_obs: 3\n"))
                .find("training.clip_obs: write it inside the `normalize:` map"),
            std::string::npos);
}

TEST(ExperimentConfigTest, DefaultsApplyWhenSectionsAreAbsent) {
  const ExperimentConfig config = ParseExperimentConfig(ParseYaml(With(""), "t.yaml"));
  const PpoConfig agent_defaults;
  EXPECT_EQ(Ppo(config).n_steps, agent_defaults.n_steps);
  EXPECT_EQ(config.training.total_timesteps, TrainingConfig().total_timesteps);
  EXPECT_EQ(config.network.policy_layers, (std::vector<int>{64, 64}));
  EXPECT_EQ(config.environment.max_episode_steps, 0);
  EXPECT_TRUE(config.environment.params.entries.empty());
}

TEST(ExperimentConfigTest, ParsesEveryChoice) {
  const ExperimentConfig config = ParseExperimentConfig(
      ParseYaml(With("agent:\n  algorithm: a2c\n  policy: MultiRobotPolicy\n  device: CPU\n"
                     "network:\n  activation: Leaky_ReLU\ntraining:\n  seed: 5\n"),
                "t.yaml"));
  EXPECT_EQ(config.agent.algorithm(), Algorithm::kA2c);
  EXPECT_EQ(config.agent.common().policy, Policy::kMultiRobot);
  EXPECT_EQ(config.agent.common().device, "cpu");
  EXPECT_EQ(config.network.activation, Activation::kLeakyRelu);
  EXPECT_EQ(config.training.seed, 5);
}

TEST(ExperimentConfigTest, ToStringNamesEnums) {
  EXPECT_EQ(ToString(Algorithm::kPpo), "PPO");
  EXPECT_EQ(ToString(Algorithm::kA2c), "A2C");
  EXPECT_EQ(ToString(Algorithm::kSac), "SAC");
  EXPECT_EQ(ToString(Algorithm::kTd3), "TD3");
  EXPECT_EQ(ToString(Activation::kTanh), "tanh");
  EXPECT_EQ(ToString(Activation::kLeakyRelu), "leaky_relu");
  EXPECT_EQ(ToString(Activation::kSigmoid), "sigmoid");
}

TEST(ExperimentConfigTest, MissingEnvironmentOrNameIsAnError) {
  EXPECT_EQ(ErrorOf("agent:\n  gamma: 0.9\n"),
            "t.yaml:1:1: environment: missing required section (e.g. `environment: {name: "
            "pendulum}`)");
  EXPECT_EQ(ErrorOf("environment:\n  max_episode_steps: 10\n"),
            "t.yaml:2:3: environment.name: missing required key (the task name, e.g. pendulum)");
}

TEST(ExperimentConfigTest, UnknownKeysAreErrorsWithSuggestions) {
  EXPECT_EQ(ErrorOf(With("trainig:\n  n_envs: 2\n")),
            "t.yaml:3:1: trainig: unknown key, did you mean 'training'? (valid keys: agent, aws, "
            "environment, monitoring, network, paths, training, transfer_learning)");
  const std::string agent = ErrorOf(With("agent:\n  gamma: 0.9\n  gama: 0.8\n"));
  // The valid keys are the chosen algorithm's (PPO's here), not every algorithm's.
  EXPECT_TRUE(
      agent.starts_with("t.yaml:5:3: agent.gama: unknown key, did you mean 'gamma'? "
                        "(valid keys: algorithm, batch_size, clip_range,"))
      << agent;
  EXPECT_EQ(agent.find("buffer_size"), std::string::npos) << agent;
  const std::string sac = ErrorOf(With("agent:\n  algorithm: SAC\n  taux: 0.1\n"));
  EXPECT_TRUE(
      sac.starts_with("t.yaml:5:3: agent.taux: unknown key, did you mean 'tau'? "
                      "(valid keys: action_noise, algorithm, batch_size, buffer_size,"))
      << sac;
  EXPECT_TRUE(
      ErrorOf(With("network:\n  policy_layer: [1]\n"))
          .starts_with(
              "t.yaml:4:3: network.policy_layer: unknown key, did you mean 'policy_layers'?"));
  EXPECT_TRUE(ErrorOf(With("monitoring:\n  use_tensorbord: true\n"))
                  .starts_with("t.yaml:4:3: monitoring.use_tensorbord: unknown key, did you mean "
                               "'use_tensorboard'?"));
  EXPECT_TRUE(ErrorOf(With("paths:\n  model: x\n")).starts_with("t.yaml:4:3: paths.model:"));
}

TEST(ExperimentConfigTest, WrongTypesAreErrors) {
  EXPECT_EQ(ErrorOf(With("agent:\n  gamma: \"0.9\"\n")),
            "t.yaml:4:10: agent.gamma: expected a number, found \"0.9\" (a quoted string)");
  EXPECT_EQ(ErrorOf(With("agent:\n  n_steps: 2048.5\n")),
            "t.yaml:4:12: agent.n_steps: expected an integer, found 2048.5");
  EXPECT_EQ(ErrorOf(With("monitoring:\n  use_tensorboard: yes\n")),
            "t.yaml:4:20: monitoring.use_tensorboard: expected true or false, found yes");
  EXPECT_EQ(ErrorOf(With("training: [1]\n")),
            "t.yaml:3:11: training: expected a mapping of training settings, found a list");
  EXPECT_EQ(ErrorOf(With("network:\n  value_layers: 64\n")),
            "t.yaml:4:17: network.value_layers: expected a list of integers, found 64");
}

TEST(ExperimentConfigTest, OutOfRangeValuesAreErrors) {
  EXPECT_EQ(ErrorOf(With("agent:\n  gamma: 1.5\n")),
            "t.yaml:4:10: agent.gamma: expected a number in (0, 1], found 1.5");
  EXPECT_EQ(ErrorOf(With("agent:\n  learning_rate: 0\n")),
            "t.yaml:4:18: agent.learning_rate: expected a number > 0, found 0");
  EXPECT_EQ(ErrorOf(With("training:\n  n_envs: 2000\n")),
            "t.yaml:4:11: training.n_envs: expected an integer in 1..1024, found 2000");
  EXPECT_EQ(ErrorOf(With("training:\n  total_timesteps: 0\n")),
            "t.yaml:4:20: training.total_timesteps: expected an integer >= 1, found 0");
  EXPECT_EQ(ErrorOf(With("training:\n  seed: -1\n")),
            "t.yaml:4:9: training.seed: expected an integer >= 0, found -1");
  EXPECT_EQ(ErrorOf(With("network:\n  policy_layers: [64, 0]\n")),
            "t.yaml:4:23: network.policy_layers[1]: expected a layer size >= 1, found 0");
  EXPECT_EQ(ErrorOf(With("network:\n  policy_layers: []\n")),
            "t.yaml:4:18: network.policy_layers: expected a non-empty list of layer sizes, found "
            "[]");
  EXPECT_EQ(ErrorOf("environment:\n  name: pendulum\n  max_episode_steps: 0\n"),
            "t.yaml:3:22: environment.max_episode_steps: expected an integer >= 1, found 0");
}

TEST(ExperimentConfigTest, MultiRobotNetworkKeys) {
  // Defaults, and written values, with MultiRobotPolicy.
  const ExperimentConfig defaults =
      ParseExperimentConfig(ParseYaml(With("agent:\n  policy: MultiRobotPolicy\n"), "t.yaml"));
  EXPECT_EQ(defaults.network.embed_dim, 64);
  EXPECT_EQ(defaults.network.attention_heads, 4);
  EXPECT_EQ(defaults.network.attention_layers, 2);
  const ExperimentConfig written = ParseExperimentConfig(ParseYaml(
      With("agent:\n  policy: MultiRobotPolicy\nnetwork:\n  embed_dim: 32\n  attention_heads: 8\n"
           "  attention_layers: 0\n"),
      "t.yaml"));
  EXPECT_EQ(written.agent.common().policy, Policy::kMultiRobot);
  EXPECT_EQ(written.network.embed_dim, 32);
  EXPECT_EQ(written.network.attention_heads, 8);
  EXPECT_EQ(written.network.attention_layers, 0);
  EXPECT_EQ(ToString(Policy::kMlp), "MlpPolicy");
  EXPECT_EQ(ToString(Policy::kMultiRobot), "MultiRobotPolicy");

  // Strict: only with MultiRobotPolicy, in range, heads dividing the embedding.
  EXPECT_EQ(ErrorOf(With("network:\n  embed_dim: 32\n")),
            "t.yaml:4:14: network.embed_dim: only used by agent.policy: MultiRobotPolicy (the "
            "policy is MlpPolicy)");
  const std::string mrp = "agent:\n  policy: MultiRobotPolicy\nnetwork:\n";
  EXPECT_EQ(ErrorOf(With(mrp + "  embed_dim: 0\n")),
            "t.yaml:6:14: network.embed_dim: expected an integer in 1..1024, found 0");
  EXPECT_EQ(ErrorOf(With(mrp + "  embed_dim: 30\n  attention_heads: 4\n")),
            "t.yaml:7:20: network.attention_heads: expected a divisor of network.embed_dim (30), "
            "found 4");
  EXPECT_EQ(ErrorOf(With(mrp + "  attention_layers: 17\n")),
            "t.yaml:6:21: network.attention_layers: expected an integer in 0..16, found 17");
  EXPECT_TRUE(ErrorOf(With(mrp + "  embed_dims: 32\n"))
                  .starts_with("t.yaml:6:3: network.embed_dims: unknown key"));

  // The off-policy algorithms have no actor-critic to give it.
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: SAC\n  policy: MultiRobotPolicy\n")),
            "t.yaml:5:11: agent.policy: MultiRobotPolicy trains with PPO and A2C, not SAC (use "
            "MlpPolicy)");
  EXPECT_EQ(ErrorOf(With("agent:\n  policy: MultiRobotPolicy\n  algorithm: td3\n")),
            "t.yaml:4:11: agent.policy: MultiRobotPolicy trains with PPO and A2C, not TD3 (use "
            "MlpPolicy)");
}

TEST(ExperimentConfigTest, InvalidChoicesListTheValidOnes) {
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: DQN\n")),
            "t.yaml:4:14: agent.algorithm: expected one of PPO, A2C, SAC, TD3 (any case); found "
            "'DQN'");
  EXPECT_EQ(ErrorOf(With("agent:\n  policy: CnnPolicy\n")),
            "t.yaml:4:11: agent.policy: expected one of MlpPolicy, MultiRobotPolicy; found "
            "'CnnPolicy'");
  EXPECT_EQ(ErrorOf(With("network:\n  activation: swish\n")),
            "t.yaml:4:15: network.activation: expected one of tanh, relu, elu, leaky_relu, "
            "sigmoid (any case); found 'swish'");
  EXPECT_EQ(ErrorOf(With("agent:\n  device: tpu\n")),
            "t.yaml:4:11: agent.device: expected one of auto, cpu; found 'tpu'");
  EXPECT_EQ(ErrorOf(With("agent:\n  device: CUDA\n")),
            "t.yaml:4:11: agent.device: expected auto or cpu (rlpipe's LibTorch is CPU-only), "
            "found 'cuda'");
}

TEST(ExperimentConfigTest, RenderModeNullOrRgbArrayHumanIsAnError) {
  const ExperimentConfig config = ParseExperimentConfig(
      ParseYaml("environment:\n  name: pendulum\n  render_mode: RGB_Array\n", "t.yaml"));
  EXPECT_EQ(config.environment.render_mode, "rgb_array");
  EXPECT_TRUE(config.environment.params.entries.empty());
  EXPECT_EQ(ParseExperimentConfig(
                ParseYaml("environment:\n  name: pendulum\n  render_mode: null\n", "t.yaml"))
                .environment.render_mode,
            "");
  try {
    ParseExperimentConfig(
        ParseYaml("environment:\n  name: pendulum\n  render_mode: human\n", "t.yaml"));
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("environment.render_mode"), std::string::npos) << message;
    EXPECT_NE(message.find("use rgb_array"), std::string::npos) << message;
  }
}

TEST(ExperimentConfigTest, AlgorithmDefaultsApplyToUnwrittenKeys) {
  // A2C: SB3's A2C defaults, not PPO's, wherever the user wrote nothing.
  const ExperimentConfig a2c =
      ParseExperimentConfig(ParseYaml(With("agent:\n  algorithm: A2C\n  gamma: 0.9\n"), "t.yaml"));
  EXPECT_EQ(A2c(a2c).n_steps, 5);
  EXPECT_DOUBLE_EQ(A2c(a2c).learning_rate, 7e-4);
  EXPECT_DOUBLE_EQ(A2c(a2c).gae_lambda, 1.0);
  EXPECT_TRUE(A2c(a2c).use_rms_prop);
  EXPECT_DOUBLE_EQ(A2c(a2c).rms_prop_eps, 1e-5);
  EXPECT_FALSE(A2c(a2c).normalize_advantage);
  EXPECT_DOUBLE_EQ(A2c(a2c).gamma, 0.9);

  // SAC: replay defaults, automatic entropy, [256, 256] ReLU networks with qf_layers =
  // value_layers.
  const ExperimentConfig sac =
      ParseExperimentConfig(ParseYaml(With("agent:\n  algorithm: sac\n"), "t.yaml"));
  EXPECT_DOUBLE_EQ(Sac(sac).learning_rate, 3e-4);
  EXPECT_EQ(Sac(sac).buffer_size, 1000000);
  EXPECT_EQ(Sac(sac).learning_starts, 100);
  EXPECT_EQ(Sac(sac).batch_size, 256);
  EXPECT_DOUBLE_EQ(Sac(sac).tau, 0.005);
  EXPECT_EQ(Sac(sac).train_freq, 1);
  EXPECT_EQ(Sac(sac).gradient_steps, 1);
  EXPECT_TRUE(Sac(sac).ent_coef_auto);
  EXPECT_DOUBLE_EQ(Sac(sac).ent_coef, 1.0);
  EXPECT_FALSE(Sac(sac).target_entropy.has_value());
  EXPECT_EQ(sac.network.policy_layers, (std::vector<int>{256, 256}));
  EXPECT_EQ(sac.network.qf_layers, (std::vector<int>{256, 256}));
  EXPECT_EQ(sac.network.activation, Activation::kRelu);

  // TD3: lr 1e-3, [400, 300], delayed smoothed targets, no action noise unless written.
  const ExperimentConfig td3 = ParseExperimentConfig(
      ParseYaml(With("agent:\n  algorithm: td3\nnetwork:\n  value_layers: [64, 32]\n"), "t.yaml"));
  EXPECT_DOUBLE_EQ(Td3(td3).learning_rate, 1e-3);
  EXPECT_EQ(Td3(td3).policy_delay, 2);
  EXPECT_DOUBLE_EQ(Td3(td3).target_policy_noise, 0.2);
  EXPECT_DOUBLE_EQ(Td3(td3).target_noise_clip, 0.5);
  EXPECT_EQ(Td3(td3).action_noise.type, ActionNoiseType::kNone);
  EXPECT_EQ(td3.network.policy_layers, (std::vector<int>{400, 300}));
  EXPECT_EQ(td3.network.qf_layers, (std::vector<int>{64, 32}));
}

TEST(ExperimentConfigTest, ParsesOffPolicyKeys) {
  const ExperimentConfig sac = ParseExperimentConfig(ParseYaml(
      With("agent:\n  algorithm: SAC\n  learning_rate: lin_0.001\n  ent_coef: auto_0.1\n"
           "  target_entropy: -3\n  buffer_size: 5000\n  learning_starts: 0\n  tau: 0.02\n"
           "  train_freq: 4\n  gradient_steps: 2\n"
           "  action_noise: {type: ou, sigma: 0.3}\nnetwork:\n  qf_layers: [32]\n"),
      "t.yaml"));
  EXPECT_TRUE(Sac(sac).learning_rate_linear);
  EXPECT_DOUBLE_EQ(Sac(sac).learning_rate, 0.001);
  EXPECT_TRUE(Sac(sac).ent_coef_auto);
  EXPECT_DOUBLE_EQ(Sac(sac).ent_coef, 0.1);
  EXPECT_EQ(Sac(sac).target_entropy, -3.0);
  EXPECT_EQ(Sac(sac).buffer_size, 5000);
  EXPECT_EQ(Sac(sac).learning_starts, 0);
  EXPECT_DOUBLE_EQ(Sac(sac).tau, 0.02);
  EXPECT_EQ(Sac(sac).train_freq, 4);
  EXPECT_EQ(Sac(sac).gradient_steps, 2);
  EXPECT_EQ(Sac(sac).action_noise.type, ActionNoiseType::kOrnsteinUhlenbeck);
  EXPECT_DOUBLE_EQ(Sac(sac).action_noise.sigma, 0.3);
  EXPECT_EQ(sac.network.qf_layers, (std::vector<int>{32}));

  // A fixed entropy coefficient and an explicit `auto` target entropy.
  const ExperimentConfig fixed = ParseExperimentConfig(ParseYaml(
      With("agent:\n  algorithm: SAC\n  ent_coef: 0.05\n  target_entropy: auto\n"), "t.yaml"));
  EXPECT_FALSE(Sac(fixed).ent_coef_auto);
  EXPECT_DOUBLE_EQ(Sac(fixed).ent_coef, 0.05);
  EXPECT_FALSE(Sac(fixed).target_entropy.has_value());
}

TEST(ExperimentConfigTest, ParsesGsdePpoValueClipAndTargetKl) {
  const ExperimentConfig ppo = ParseExperimentConfig(
      ParseYaml(With("agent:\n  use_sde: true\n  sde_sample_freq: 4\n  clip_range_vf: 0.3\n"
                     "  target_kl: 0.02\nnetwork:\n  ortho_init: false\n"),
                "t.yaml"));
  EXPECT_TRUE(Ppo(ppo).use_sde);
  EXPECT_EQ(Ppo(ppo).sde_sample_freq, 4);
  EXPECT_EQ(Ppo(ppo).clip_range_vf, 0.3);
  EXPECT_EQ(Ppo(ppo).target_kl, 0.02);
  EXPECT_FALSE(ppo.network.ortho_init);
  EXPECT_FALSE(WasAccepted("agent.use_sde"));
  const ExperimentConfig a2c = ParseExperimentConfig(
      ParseYaml(With("agent:\n  algorithm: A2C\n  use_sde: true\n"), "t.yaml"));
  EXPECT_TRUE(A2c(a2c).use_sde);
  EXPECT_EQ(A2c(a2c).sde_sample_freq, -1);
  EXPECT_FALSE(ParseExperimentConfig(ParseYaml(With("agent:\n  target_kl: null\n"), "t.yaml"))
                   .agent.Get<PpoConfig>()
                   .target_kl.has_value());

  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: SAC\n  use_sde: true\n")),
            "t.yaml:5:12: agent.use_sde: not a setting of SAC (it belongs to PPO, A2C)");
  EXPECT_EQ(ErrorOf(With("agent:\n  use_sde: true\n  sde_sample_freq: 0\n")),
            "t.yaml:5:20: agent.sde_sample_freq: expected -1 (new noise each rollout) or a number "
            "of steps >= 1, found 0");
  EXPECT_EQ(ErrorOf(With("agent:\n  policy: MultiRobotPolicy\n  use_sde: true\n")),
            "t.yaml:5:12: agent.use_sde: gSDE works with MlpPolicy here, not MultiRobotPolicy");
  EXPECT_EQ(ErrorOf(With("agent:\n  seed: 3\ntraining:\n  seed: 4\n")),
            "t.yaml:4:9: agent.seed: expected the same value as training.seed (4), found 3");
  EXPECT_EQ(ErrorOf(With("agent:\n  target_kl: 0\n")).substr(0, 28),
            "t.yaml:4:14: agent.target_kl");
}

TEST(ExperimentConfigTest, KeysOfAnotherAlgorithmAreErrors) {
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: PPO\n  buffer_size: 10\n")),
            "t.yaml:5:16: agent.buffer_size: not a setting of PPO (it belongs to SAC, TD3)");
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: SAC\n  policy_delay: 2\n")),
            "t.yaml:5:17: agent.policy_delay: not a setting of SAC (it belongs to TD3)");
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: TD3\n  n_steps: 5\n")),
            "t.yaml:5:12: agent.n_steps: not a setting of TD3 (it belongs to PPO, A2C)");
  EXPECT_EQ(ErrorOf(With("agent:\n  use_rms_prop: true\n")),
            "t.yaml:4:17: agent.use_rms_prop: not a setting of PPO (it belongs to A2C)");
  EXPECT_EQ(ErrorOf(With("network:\n  qf_layers: [8]\n")),
            "t.yaml:4:14: network.qf_layers: not a setting of PPO (it belongs to SAC, TD3)");
  EXPECT_EQ(ErrorOf(With("agent:\n  ent_coef: auto\n")),
            "t.yaml:4:13: agent.ent_coef: expected a number (auto is SAC only), found 'auto'");
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: SAC\n  ent_coef: auto_x\n")),
            "t.yaml:5:13: agent.ent_coef: expected auto or auto_<initial> with a number > 0, "
            "found 'auto_x'");
  EXPECT_EQ(ErrorOf(With("agent:\n  learning_rate: lin_-1\n")),
            "t.yaml:4:18: agent.learning_rate: expected lin_<x> with a number > 0, found 'lin_-1'");
  EXPECT_EQ(ErrorOf(With("agent:\n  algorithm: TD3\n  action_noise: {type: uniform}\n")),
            "t.yaml:5:24: agent.action_noise.type: expected one of normal, ou (any case); found "
            "'uniform'");
  EXPECT_NE(ErrorOf(With("agent:\n  algorithm: TD3\n  action_noise: {sigma: 0.1}\n"))
                .find("agent.action_noise.type: missing required key (normal or ou)"),
            std::string::npos);
}

}  // namespace
}  // namespace rlpipe::config
