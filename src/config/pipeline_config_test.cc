#include "config/pipeline_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe::config {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = RLPIPE_SOURCE_DIR;
const fs::path kFixtures = kSource / "tests/fixtures/config";

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (part) << "' not in: " << (text)

// Runs a test body in a temp folder (also the working folder), restoring the old one afterwards.
class PipelineConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_cwd_ = fs::current_path();
    dir_ = fs::temp_directory_path() /
           ("rlpipe_pipeline_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy_file(kFixtures / "training_config.yaml", dir_ / "training_config.yaml");
    fs::current_path(dir_);
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(dir_);
  }

  // Writes a pipeline file into the temp folder and returns its path.
  fs::path Write(const std::string& name, const std::string& yaml) {
    WriteFileAtomic(dir_ / name, yaml);
    return dir_ / name;
  }

  // The ConfigError message from loading `yaml` as p.yaml, or "" (with a failure).
  std::string ErrorOf(const std::string& yaml) {
    const fs::path file = Write("p.yaml", yaml);
    try {
      LoadPipeline(file);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected ConfigError for:\n" << yaml;
    return "";
  }

  // Where a message about p.yaml line `line` starts.
  std::string At(int line, int column) const {
    return (dir_ / "p.yaml").string() + ":" + std::to_string(line) + ":" + std::to_string(column);
  }

  fs::path old_cwd_;
  fs::path dir_;
};

TEST_F(PipelineConfigTest, LoadsUsersPipeline) {
  const PipelineConfig pipeline = LoadPipeline(kFixtures / "pipeline.yaml");
  EXPECT_EQ(pipeline.file, kFixtures / "pipeline.yaml");
  EXPECT_EQ(pipeline.name, "robot_training");
  EXPECT_EQ(pipeline.seed, 123u);
  EXPECT_TRUE(pipeline.save_all_checkpoints);

  // aws and its SageMaker block.
  EXPECT_TRUE(pipeline.aws.use_s3);
  EXPECT_EQ(pipeline.aws.s3_bucket, "rl-robotics-models");
  EXPECT_EQ(pipeline.aws.region, "us-east-1");
  const SageMakerConfig& sm = pipeline.aws.sagemaker;
  EXPECT_EQ(sm.instance_type, "ml.c5.2xlarge");
  EXPECT_EQ(sm.volume_size_gb, 50);
  EXPECT_EQ(sm.max_run_seconds, 172800);
  EXPECT_TRUE(sm.warm_pool);
  EXPECT_EQ(sm.warm_pool_retention_seconds, 1800);
  EXPECT_TRUE(sm.use_spot_instances);
  EXPECT_EQ(sm.max_wait_seconds, 259200);
  EXPECT_EQ(sm.container_image_uri, "");
  EXPECT_EQ(sm.role_arn, "arn:aws:iam::123456789012:role/SageMakerRole");
  ASSERT_TRUE(sm.vpc_config.IsMap());
  EXPECT_EQ(sm.vpc_config.Find("subnets")->items.size(), 2u);
  EXPECT_EQ(sm.subnets, (std::vector<std::string>{"subnet-aaaa", "subnet-bbbb"}));
  EXPECT_EQ(sm.security_group_ids, std::vector<std::string>{"sg-0123456789abcdef0"});
  EXPECT_EQ(sm.tags, (std::vector<std::pair<std::string, std::string>>{{"project", "robots"}}));
  EXPECT_EQ(pipeline.aws.sns_topic_arn, "arn:aws:sns:us-east-1:123456789012:training");
  EXPECT_EQ(sm.Source("instance_type").path, "aws.sagemaker.instance_type");
  EXPECT_EQ(sm.Source("instance_type").loc.line, 17);

  // Reporting settings, typed; a key rlpipe has no use for is a warning naming its line.
  EXPECT_EQ(pipeline.monitoring.track_metrics,
            (std::vector<std::string>{"episode_reward_mean", "episode_length_mean"}));
  EXPECT_TRUE(pipeline.monitoring.save_report);
  EXPECT_EQ(pipeline.monitoring.report_format, ReportFormat::kBoth);
  EXPECT_TRUE(pipeline.post_pipeline.compare_sessions);
  EXPECT_FALSE(pipeline.post_pipeline.evaluate_final_models);
  // The seed's keys rlpipe has no use for: one warning each, with file:line:col.
  const std::string at = (kFixtures / "pipeline.yaml").string();
  EXPECT_THAT(pipeline.warnings,
              ::testing::UnorderedElementsAre(
                  ::testing::StartsWith(at + ":16:5: aws.sagemaker.enabled: warning: has no "
                                             "effect (sessions run on SageMaker with"),
                  ::testing::StartsWith(at + ":23:7: aws.sagemaker.warm_pool.max_instances: "
                                             "warning: has no effect"),
                  ::testing::StartsWith(at + ":41:3: post_pipeline.export_best_model: warning: "
                                             "has no effect (known keys: evaluate_final_models"),
                  ::testing::StartsWith(at + ":43:1: cost_optimization: warning: has no effect")));

  // Sessions.
  ASSERT_EQ(pipeline.sessions.size(), 2u);
  const SessionSpec& first = pipeline.sessions[0];
  EXPECT_EQ(first.name, "session1_basic");
  EXPECT_EQ(first.config, kFixtures / "training_config.yaml");
  EXPECT_EQ(first.timesteps, 50000);
  EXPECT_FALSE(first.use_previous_checkpoint);
  EXPECT_FALSE(first.checkpoint.has_value());
  EXPECT_EQ(first.success_criteria.min_reward, -200.5);
  EXPECT_EQ(first.success_criteria.min_episodes, 10);
  EXPECT_EQ(first.loc.line, 47);
  const SessionSpec& second = pipeline.sessions[1];
  EXPECT_FALSE(second.timesteps.has_value());
  EXPECT_TRUE(second.use_previous_checkpoint);
  EXPECT_TRUE(second.overrides.IsMap());
  EXPECT_EQ(second.aws_overrides.Find("sagemaker")->Find("instance_type")->scalar, "ml.c5.4xlarge");
  EXPECT_FALSE(second.success_criteria.min_reward.has_value());

  // A session's SageMaker settings: its override over the pipeline's, sources kept.
  const SageMakerConfig merged = ResolveSageMaker(pipeline, second);
  EXPECT_EQ(merged.instance_type, "ml.c5.4xlarge");
  EXPECT_EQ(merged.volume_size_gb, 50);
  EXPECT_EQ(merged.Source("instance_type").path,
            "sessions[1].aws_overrides.sagemaker.instance_type");
  EXPECT_EQ(merged.Source("instance_type").loc.line, 71);
  EXPECT_EQ(ResolveSageMaker(pipeline, first).instance_type, "ml.c5.2xlarge");
}

TEST_F(PipelineConfigTest, ResolveSessionAppliesTimestepsAndDeepMergesOverrides) {
  const PipelineConfig pipeline = LoadPipeline(kFixtures / "pipeline.yaml");

  // Session 1: `timesteps` replaces the config's 1e6 and shows in the resolved YAML.
  const ExperimentConfig first = ResolveSession(pipeline, pipeline.sessions[0]);
  EXPECT_EQ(first.training.total_timesteps, 50000);
  EXPECT_EQ(first.resolved.Find("training")->Find("total_timesteps")->scalar, "50000");
  EXPECT_DOUBLE_EQ(first.agent.Get<PpoConfig>().learning_rate, 3e-4);

  // Session 2: timesteps null keeps the config's value; nested keys replace only themselves.
  const ExperimentConfig second = ResolveSession(pipeline, pipeline.sessions[1]);
  EXPECT_EQ(second.training.total_timesteps, 1000000);
  EXPECT_DOUBLE_EQ(second.agent.Get<PpoConfig>().learning_rate, 1e-4);
  EXPECT_EQ(second.agent.Get<PpoConfig>().n_steps, 512);
  EXPECT_EQ(second.network.policy_layers, (std::vector<int>{64}));
  EXPECT_EQ(second.network.value_layers, (std::vector<int>{256, 128}));
  EXPECT_EQ(second.environment.name, "pendulum");
  EXPECT_EQ(second.environment.params.Find("g")->scalar, "12.0");
  EXPECT_EQ(second.environment.max_episode_steps, 200);
}

TEST_F(PipelineConfigTest, ErrorInsideOverridePointsAtPipelineLine) {
  const fs::path file = Write("p.yaml",
                              "sessions:\n"
                              "  - name: a\n"
                              "    config: training_config.yaml\n"
                              "    overrides:\n"
                              "      agent:\n"
                              "        gamma: 1.5\n");
  const PipelineConfig pipeline = LoadPipeline(file);
  try {
    ResolveSession(pipeline, pipeline.sessions[0]);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              At(6, 16) + ": agent.gamma: expected a number in (0, 1], found 1.5");
  }
}

TEST_F(PipelineConfigTest, NameDefaultsToFileStemAndTransferCanBeDisabled) {
  const PipelineConfig pipeline = LoadPipeline(Write("my_pipe.yaml",
                                                     "enable_transfer_learning: false\n"
                                                     "sessions:\n"
                                                     "  - name: a\n"
                                                     "    config: training_config.yaml\n"
                                                     "  - name: b\n"
                                                     "    config: training_config.yaml\n"
                                                     "    use_previous_checkpoint: true\n"));
  EXPECT_EQ(pipeline.name, "my_pipe");
  EXPECT_EQ(pipeline.seed, 0u);
  EXPECT_FALSE(pipeline.enable_transfer_learning);
  EXPECT_FALSE(pipeline.sessions[1].use_previous_checkpoint);
}

TEST_F(PipelineConfigTest, ReportSettingsAreTypedAndChecked) {
  const std::string session = "sessions:\n  - name: a\n    config: training_config.yaml\n";
  const PipelineConfig pipeline =
      LoadPipeline(Write("ok.yaml",
                         "monitoring:\n  track_metrics: [approx_kl, task/max_height]\n"
                         "  report_format: html\n  generate_plots: false\n"
                         "post_pipeline:\n  evaluate_final_models: true\n  eval_episodes: 3\n"
                         "  archive_results: true\n  archive_location: archives\n" +
                             session));
  EXPECT_EQ(pipeline.monitoring.track_metrics,
            (std::vector<std::string>{"approx_kl", "task/max_height"}));
  EXPECT_EQ(pipeline.monitoring.report_format, ReportFormat::kHtml);
  EXPECT_FALSE(pipeline.monitoring.generate_plots);
  EXPECT_TRUE(pipeline.post_pipeline.evaluate_final_models);
  EXPECT_EQ(pipeline.post_pipeline.eval_episodes, 3);
  EXPECT_EQ(pipeline.post_pipeline.archive_location, "archives");
  EXPECT_TRUE(pipeline.warnings.empty());

  // An unknown metric names the valid ones; a bad format or count is an error with its line.
  const std::string unknown =
      ErrorOf("monitoring:\n  track_metrics: [episode_reward_mean, aproxkl]\n" + session);
  EXPECT_TRUE(unknown.starts_with(At(2, 40) + ": monitoring.track_metrics[1]: unknown metric "
                                              "'aproxkl' (valid: episode_reward_mean, "))
      << unknown;
  EXPECT_NE(unknown.find("approx_kl"), std::string::npos);
  EXPECT_TRUE(ErrorOf("monitoring:\n  report_format: pdf\n" + session).starts_with(At(2, 18)));
  EXPECT_TRUE(ErrorOf("post_pipeline:\n  eval_episodes: 0\n" + session).starts_with(At(2, 18)));
}

TEST_F(PipelineConfigTest, DuplicateSessionNamesNameBothLines) {
  EXPECT_EQ(ErrorOf("sessions:\n"
                    "  - name: a\n"
                    "    config: training_config.yaml\n"
                    "  - name: a\n"
                    "    config: training_config.yaml\n"),
            At(4, 11) +
                ": sessions[1].name: duplicate session name 'a' (first at line 2, again "
                "at line 4)");
}

TEST_F(PipelineConfigTest, UnsafeSessionNamesAreRejected) {
  for (const char* name : {"\"a/b\"", "\"..\"", "\"\"", "\"x\\ty\"", "\".\"", "\"a\\\\b\""}) {
    const std::string message = ErrorOf(std::string("sessions:\n  - name: ") + name +
                                        "\n    config: training_config.yaml\n");
    EXPECT_CONTAINS(message, At(2, 11) + ": sessions[0].name: expected a plain file name");
  }
  EXPECT_TRUE(IsSafeSessionName("session1_basic"));
  EXPECT_TRUE(IsSafeSessionName("stage 2.v1"));
  EXPECT_FALSE(IsSafeSessionName(std::string(256, 'a')));
}

TEST_F(PipelineConfigTest, TimestepsMustBePositiveOrNull) {
  for (const char* value : {"0", "-5"}) {
    EXPECT_EQ(ErrorOf(std::string("sessions:\n  - name: a\n    config: training_config.yaml\n"
                                  "    timesteps: ") +
                      value + "\n"),
              At(4, 16) +
                  ": sessions[0].timesteps: must be a positive integer (omit it or use "
                  "null for the config's value), found " +
                  value);
  }
  EXPECT_CONTAINS(ErrorOf("sessions:\n  - name: a\n    config: training_config.yaml\n"
                          "    timesteps: 1.5\n"),
                  "sessions[0].timesteps: expected an integer, found 1.5");
  const PipelineConfig pipeline = LoadPipeline(Write(
      "ok.yaml", "sessions:\n  - name: a\n    config: training_config.yaml\n    timesteps: 2e4\n"));
  EXPECT_EQ(pipeline.sessions[0].timesteps, 20000);
}

TEST_F(PipelineConfigTest, UnknownAndWrongKeysAreErrors) {
  EXPECT_EQ(ErrorOf("sessions:\n  - name: a\n    config: training_config.yaml\n    timestep: 5\n")
                .substr(0, At(4, 5).size() + 60),
            (At(4, 5) + ": sessions[0].timestep: unknown key, did you mean 'timesteps'? (valid")
                .substr(0, At(4, 5).size() + 60));
  EXPECT_CONTAINS(ErrorOf("sesions: []\n"), At(1, 1) +
                                                ": sesions: unknown key, did you mean "
                                                "'sessions'?");
  EXPECT_EQ(ErrorOf("seed: -1\nsessions:\n  - name: a\n    config: training_config.yaml\n"),
            At(1, 7) + ": seed: expected an integer >= 0, found -1");
  EXPECT_EQ(ErrorOf("sessions: []\n"),
            At(1, 11) + ": sessions: expected a non-empty list of sessions");
  EXPECT_EQ(ErrorOf("name: x\n"), At(1, 1) + ": sessions: missing required list of sessions");
  EXPECT_EQ(ErrorOf("sessions:\n  - name: a\n    config: training_config.yaml\n"
                    "    overrides: [1]\n"),
            At(4, 16) + ": sessions[0].overrides: expected a mapping or null, found a list");
  EXPECT_EQ(ErrorOf("sessions:\n  - name: a\n    config: training_config.yaml\n"
                    "    success_criteria:\n      min_episodes: -1\n"),
            At(5, 21) +
                ": sessions[0].success_criteria.min_episodes: expected an integer >= 0, "
                "found -1");
  EXPECT_EQ(ErrorOf("sessions:\n  - name: a\n"),
            At(2, 5) +
                ": sessions[0].config: missing required key (the session's training "
                "config file)");
}

TEST_F(PipelineConfigTest, AwsSectionIsValidated) {
  const std::string session = "sessions:\n  - name: a\n    config: training_config.yaml\n";
  EXPECT_EQ(ErrorOf("aws:\n  use_s3: true\n" + session),
            At(2, 3) + ": aws.s3_bucket: a bucket name is required when use_s3 is true");
  EXPECT_EQ(ErrorOf("aws:\n  sagemaker:\n    volume_size_gb: 0\n" + session),
            At(3, 21) + ": aws.sagemaker.volume_size_gb: expected an integer in 1..16384, found 0");
  EXPECT_EQ(ErrorOf("aws:\n  sagemaker:\n    max_run_seconds: 2419201\n" + session),
            At(3, 22) +
                ": aws.sagemaker.max_run_seconds: expected an integer in 1..2419200, "
                "found 2419201");
  EXPECT_EQ(ErrorOf("aws:\n  sagemaker:\n    warm_pool:\n      retention_period_seconds: 4000\n" +
                    session),
            At(4, 33) +
                ": aws.sagemaker.warm_pool.retention_period_seconds: expected an integer "
                "in 0..3600, found 4000");
  EXPECT_EQ(ErrorOf("aws:\n  sagemaker:\n    instance_count: 0\n" + session),
            At(3, 21) + ": aws.sagemaker.instance_count: expected an integer >= 1, found 0");
  EXPECT_EQ(ErrorOf("aws:\n  sagemaker:\n    vpc_config:\n      subnets: subnet-1\n" + session),
            At(4, 16) + ": aws.sagemaker.vpc_config.subnets: expected a list of strings");
  EXPECT_EQ(ErrorOf("aws:\n  sns_topic_arn: arn:aws:sqs:us-east-1:123456789012:q\n" + session),
            At(2, 18) +
                ": aws.sns_topic_arn: expected an SNS topic ARN like "
                "arn:aws:sns:us-east-1:123456789012:topic, found "
                "\"arn:aws:sqs:us-east-1:123456789012:q\"");
  EXPECT_EQ(ErrorOf("aws:\n  sagemaker:\n    tags:\n      a: [1]\n" + session),
            At(4, 10) + ": aws.sagemaker.tags.a: expected a string value");
  EXPECT_CONTAINS(ErrorOf(session + "    aws_overrides:\n      sagemaker:\n        spot: true\n"),
                  At(6, 9) + ": sessions[0].aws_overrides.sagemaker.spot: unknown key");
  EXPECT_CONTAINS(ErrorOf(session + "    aws_overrides:\n      region: eu-west-1\n"),
                  At(5, 7) + ": sessions[0].aws_overrides.region: unknown key");
  EXPECT_CONTAINS(ErrorOf("aws:\n  regoin: x\n" + session),
                  At(2, 3) + ": aws.regoin: unknown key, did you mean 'region'?");
  const PipelineConfig pipeline =
      LoadPipeline(Write("ok.yaml", "aws:\n  sagemaker:\n    warm_pool: true\n" + session));
  EXPECT_TRUE(pipeline.aws.sagemaker.warm_pool);
}

TEST_F(PipelineConfigTest, MissingFilesAreConfigErrors) {
  EXPECT_CONTAINS(ErrorOf("sessions:\n  - name: a\n    config: nope.yaml\n"),
                  At(3, 13) + ": sessions[0].config: file not found: tried " +
                      (dir_ / "nope.yaml").string() + " (relative to the pipeline file) and " +
                      (dir_ / "nope.yaml").string() + " (relative to the working directory)");
  EXPECT_CONTAINS(ErrorOf("sessions:\n  - name: a\n    config: training_config.yaml\n"
                          "    checkpoint: models/best.zip\n"),
                  At(4, 17) + ": sessions[0].checkpoint: file not found: tried");
  try {
    LoadPipeline(dir_ / "absent.yaml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_CONTAINS(e.what(), (dir_ / "absent.yaml").string());
  }
}

TEST_F(PipelineConfigTest, PathsResolveBesidePipelineFirstThenWorkingFolder) {
  // From the working folder tests/fixtures/config, `training_config.yaml` exists in both places:
  // the copy beside the pipeline file (nested/) wins.
  fs::current_path(kFixtures);
  const PipelineConfig beside = LoadPipeline("nested/beside_first.yaml");
  EXPECT_EQ(beside.file, kFixtures / "nested/beside_first.yaml");
  EXPECT_EQ(beside.sessions[0].config, kFixtures / "nested/training_config.yaml");
  EXPECT_EQ(ResolveSession(beside, beside.sessions[0]).training.total_timesteps, 777);

  // Python-tool style: paths relative to the project root (the working folder).
  fs::current_path(kSource);
  const PipelineConfig from_root = LoadPipeline(kFixtures / "nested/cwd_relative.yaml");
  EXPECT_EQ(from_root.sessions[0].config, kFixtures / "training_config.yaml");
  EXPECT_EQ(from_root.sessions[0].checkpoint, kFixtures / "pipeline.yaml");
  EXPECT_TRUE(from_root.sessions[0].config.is_absolute());
}

TEST_F(PipelineConfigTest, TransferOptionsLoadWithDefaults) {
  const PipelineConfig pipeline =
      LoadPipeline(Write("t.yaml",
                         "sessions:\n"
                         "  - name: a\n"
                         "    config: training_config.yaml\n"
                         "  - name: b\n"
                         "    config: training_config.yaml\n"
                         "    use_previous_checkpoint: true\n"
                         "    transfer:\n"
                         "      load: [value, policy]\n"
                         "      freeze: [\"mlp_extractor.*\", log_std]\n"
                         "      reset: [\"action_net.*\"]\n"
                         "      reset_optimizer: false\n"
                         "      reset_log_std: true\n"));
  // Defaults: every part, nothing frozen, optimizer reset, log_std kept.
  const TransferConfig& defaults = pipeline.sessions[0].transfer;
  EXPECT_TRUE(defaults.Loads(TransferPart::kPolicy));
  EXPECT_TRUE(defaults.Loads(TransferPart::kValue));
  EXPECT_TRUE(defaults.Loads(TransferPart::kNormaliser));
  EXPECT_TRUE(defaults.freeze.empty());
  EXPECT_TRUE(defaults.reset.empty());
  EXPECT_TRUE(defaults.reset_optimizer);
  EXPECT_FALSE(defaults.reset_log_std);

  // Written values, with each pattern's location kept for later errors.
  const TransferConfig& t = pipeline.sessions[1].transfer;
  EXPECT_EQ(t.load, (std::vector<TransferPart>{TransferPart::kValue, TransferPart::kPolicy}));
  EXPECT_FALSE(t.Loads(TransferPart::kNormaliser));
  ASSERT_EQ(t.freeze.size(), 2u);
  EXPECT_EQ(t.freeze[0].glob, "mlp_extractor.*");
  EXPECT_EQ(t.freeze[1].glob, "log_std");
  EXPECT_EQ(t.freeze[1].path, "sessions[1].transfer.freeze[1]");
  EXPECT_EQ(t.freeze[1].loc.line, 9);
  EXPECT_EQ(t.freeze[1].loc.column, 35);
  ASSERT_EQ(t.reset.size(), 1u);
  EXPECT_EQ(t.reset[0].glob, "action_net.*");
  EXPECT_EQ(t.reset[0].path, "sessions[1].transfer.reset[0]");
  EXPECT_EQ(t.reset[0].loc.line, 10);
  EXPECT_FALSE(t.reset_optimizer);
  EXPECT_TRUE(t.reset_log_std);
}

TEST_F(PipelineConfigTest, TransferOptionsRoundTripThroughJson) {
  // What the SageMaker container receives (rlpipe_transfer) reads back to the same settings.
  TransferConfig t;
  EXPECT_TRUE(t.IsDefault());
  t.load = {TransferPart::kPolicy};
  for (const char* glob : {"*.0.weight", "log_std"}) {
    ParameterPattern pattern;
    pattern.glob = glob;
    t.freeze.push_back(pattern);
  }
  ParameterPattern head;
  head.glob = "value_net.*";
  t.reset.push_back(head);
  t.reset_optimizer = false;
  t.reset_log_std = true;
  EXPECT_FALSE(t.IsDefault());
  const std::string json = ToJson(t);
  EXPECT_EQ(json, R"({"load": ["policy"], "freeze": ["*.0.weight", "log_std"], )"
                  R"("reset": ["value_net.*"], "reset_optimizer": false, "reset_log_std": true})");
  const Tree tree = ParseYaml(json, "rlpipe_transfer");
  const TransferConfig back = ParseTransferConfig(&tree, "transfer");
  EXPECT_EQ(back.load, t.load);
  ASSERT_EQ(back.freeze.size(), 2u);
  EXPECT_EQ(back.freeze[0].glob, "*.0.weight");
  EXPECT_EQ(back.freeze[1].path, "transfer.freeze[1]");
  ASSERT_EQ(back.reset.size(), 1u);
  EXPECT_EQ(back.reset[0].glob, "value_net.*");
  EXPECT_FALSE(back.reset_optimizer);
  EXPECT_TRUE(back.reset_log_std);
  EXPECT_TRUE(ParseTransferConfig(nullptr, "transfer").IsDefault());
  const Tree defaults = ParseYaml(ToJson(TransferConfig{}), "rlpipe_transfer");
  EXPECT_TRUE(ParseTransferConfig(&defaults, "transfer").IsDefault());
}

TEST_F(PipelineConfigTest, TransferErrorsNameLineAndKeyPath) {
  const std::string head =
      "sessions:\n  - name: a\n    config: training_config.yaml\n"
      "    use_previous_checkpoint: true\n    transfer:\n";
  EXPECT_EQ(ErrorOf(head + "      load: [policy, critic]\n"),
            At(6, 22) +
                ": sessions[0].transfer.load[1]: expected one of policy, value, normaliser, "
                "found 'critic'");
  EXPECT_EQ(ErrorOf(head + "      load: [value, value]\n"),
            At(6, 21) + ": sessions[0].transfer.load[1]: part 'value' is listed twice");
  EXPECT_EQ(ErrorOf(head + "      load: []\n"),
            At(6, 13) +
                ": sessions[0].transfer.load: expected a non-empty list of parts (policy, value, "
                "normaliser)");
  EXPECT_EQ(ErrorOf(head + "      freeze: [\"policy_net.+\"]\n"),
            At(6, 16) +
                ": sessions[0].transfer.freeze[0]: expected a parameter name pattern (letters, "
                "digits, '_', '.', wildcards '*' and '?'), found 'policy_net.+'");
  EXPECT_EQ(ErrorOf(head + "      reset: action_net.weight\n"),
            At(6, 14) + ": sessions[0].transfer.reset: expected a list of parameter name patterns");
  EXPECT_EQ(ErrorOf(head + "      reset: [\"action_net[0]\"]\n"),
            At(6, 15) +
                ": sessions[0].transfer.reset[0]: expected a parameter name pattern (letters, "
                "digits, '_', '.', wildcards '*' and '?'), found 'action_net[0]'");
  EXPECT_CONTAINS(ErrorOf(head + "      reset_log_sd: true\n"),
                  At(6, 7) + ": sessions[0].transfer.reset_log_sd: unknown key");
  EXPECT_CONTAINS(ErrorOf(head + "      reset_optimizer: maybe\n"),
                  At(6, 24) + ": sessions[0].transfer.reset_optimizer: expected");

  // transfer: on a session that starts from no model.
  EXPECT_EQ(ErrorOf("sessions:\n  - name: a\n    config: training_config.yaml\n"
                    "    transfer:\n      reset_log_std: true\n"),
            At(5, 7) +
                ": sessions[0].transfer: the session starts from no model; set "
                "use_previous_checkpoint: true or checkpoint:");
}

}  // namespace
}  // namespace rlpipe::config
