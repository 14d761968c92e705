#include "platform/sagemaker_request.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "core/error.h"
#include "core/files.h"
#include "platform/hyperparameters.h"

namespace rlpipe::platform {
namespace {

namespace fs = std::filesystem;

#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "'" << (part) << "' not in: " << (text)

SageMakerPlanOptions RoleFlag(const std::string& role) {
  SageMakerPlanOptions options;
  options.role_arn = role;
  return options;
}

SageMakerPlanOptions Stamp(const std::string& timestamp) {
  SageMakerPlanOptions options;
  options.timestamp = timestamp;
  return options;
}

/// `text` with the first `from` replaced by `to`.
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

const std::regex kJobNamePattern("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$");

constexpr char kTraining[] =
    "environment:\n  name: pendulum\nagent:\n  algorithm: PPO\ntraining:\n  total_timesteps: "
    "1000\n";
constexpr char kAws[] =
    "aws:\n"
    "  s3_bucket: bucket\n"
    "  s3_prefix: team/exp\n"
    "  region: eu-west-1\n"
    "  sagemaker:\n"
    "    instance_type: ml.c5.2xlarge\n"
    "    role_arn: arn:aws:iam::123456789012:role/SageMakerRole\n"
    "    container_image_uri: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/rlpipe:1\n";

// Each test writes pipelines into its own temp folder.
class SageMakerRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlpipe_smreq_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WriteFileAtomic(dir_ / "train.yaml", kTraining);
    WriteFileAtomic(dir_ / "start.zip", "zip");
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Loads `aws` + two sessions (`second` holds extra keys of the second session).
  config::PipelineConfig Load(const std::string& aws, const std::string& second = "") {
    WriteFileAtomic(dir_ / "p.yaml", "name: robots\n" + aws +
                                         "sessions:\n"
                                         "  - name: basic\n"
                                         "    config: train.yaml\n"
                                         "  - name: refine\n"
                                         "    config: train.yaml\n"
                                         "    use_previous_checkpoint: true\n" +
                                         second);
    return config::LoadPipeline(dir_ / "p.yaml");
  }

  SageMakerPlan Plan(const config::PipelineConfig& pipeline, SageMakerPlanOptions options = {}) {
    std::vector<config::ExperimentConfig> sessions;
    for (const auto& spec : pipeline.sessions) {
      sessions.push_back(config::ResolveSession(pipeline, spec));
    }
    if (options.run_id.empty()) options.run_id = "run-1";
    if (options.timestamp.empty()) options.timestamp = "20260101-000000";
    return PlanSageMakerRun(pipeline, sessions, options);
  }

  /// The ConfigError of planning `aws` (+ second-session keys).
  std::string PlanError(const std::string& aws, const std::string& second = "",
                        SageMakerPlanOptions options = {}) {
    try {
      Plan(Load(aws, second), options);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected ConfigError for:\n" << aws << second;
    return "";
  }

  std::string At(int line, int column) const {
    return (dir_ / "p.yaml").string() + ":" + std::to_string(line) + ":" + std::to_string(column);
  }

  fs::path dir_;
};

TEST(TrainingJobNameTest, KeepsShortNamesAndSanitises) {
  EXPECT_EQ(TrainingJobName("robots", "basic", "20260101-000000"), "robots-basic-20260101-000000");
  EXPECT_EQ(TrainingJobName("robot_training", "session 2 (refine)", "20260101-000000"),
            "robot-training-session-2-refine-20260101-000000");
  EXPECT_EQ(TrainingJobName("__a__", "--b--", "x"), "a-b-x");
  EXPECT_EQ(TrainingJobName("___", "äö", "20260101-000000"), "rlpipe-20260101-000000");
  EXPECT_EQ(TrainingJobName("", "s", "t"), "s-t");
  EXPECT_THROW(TrainingJobName("p", "s", "__"), ConfigError);
  EXPECT_THROW(TrainingJobName("p", "s", std::string(25, '1')), ConfigError);
}

TEST(TrainingJobNameTest, LongNamesStayValidDistinctAndKeepTheTimestamp) {
  const std::string stamp = "20260101-000000";
  const std::string pipeline(80, 'p');
  const std::string a = TrainingJobName(pipeline, std::string(70, 's') + "_stage1", stamp);
  const std::string b = TrainingJobName(pipeline, std::string(70, 's') + "_stage2", stamp);
  for (const std::string& name : {a, b}) {
    EXPECT_LE(name.size(), 63u) << name;
    EXPECT_TRUE(std::regex_match(name, kJobNamePattern)) << name;
    EXPECT_TRUE(name.ends_with("-" + stamp)) << name;
    EXPECT_TRUE(name.starts_with(std::string(12, 'p') + "-sss")) << name;
  }
  EXPECT_NE(a, b);
  // A long pipeline with a short session keeps the whole session name.
  const std::string c = TrainingJobName(pipeline, "refine", stamp);
  EXPECT_EQ(c.size(), 63u);
  EXPECT_TRUE(std::regex_match(c, std::regex("p+-refine-[0-9a-f]{8}-20260101-000000"))) << c;
  // Truncation never leaves a '-' next to another one.
  const std::string d = TrainingJobName(std::string(11, 'p') + "-_-" + std::string(50, 'q'),
                                        "x-" + std::string(60, 'y'), stamp);
  EXPECT_TRUE(std::regex_match(d, kJobNamePattern)) << d;
  EXPECT_EQ(d.find("--"), std::string::npos) << d;
  // Exactly at the limit: no hash.
  const std::string exact(63 - 2 - 1 - stamp.size(), 'e');
  EXPECT_EQ(TrainingJobName(exact, "s", stamp), exact + "-s-" + stamp);
}

TEST(JobTimestampTest, FormatsUtc) { EXPECT_EQ(JobTimestamp(1767225600), "20260101-000000"); }

TEST_F(SageMakerRequestTest, BuildsTheRequestOfEverySession) {
  const SageMakerPlan plan = Plan(Load(kAws));
  ASSERT_EQ(plan.jobs.size(), 2u);
  EXPECT_TRUE(plan.warnings.empty());
  const nlohmann::json& first = plan.jobs[0].request;
  EXPECT_EQ(first["TrainingJobName"], "robots-basic-20260101-000000");
  EXPECT_EQ(first["RoleArn"], "arn:aws:iam::123456789012:role/SageMakerRole");
  EXPECT_EQ(first["AlgorithmSpecification"]["TrainingImage"],
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rlpipe:1");
  EXPECT_EQ(first["AlgorithmSpecification"]["TrainingInputMode"], "File");
  EXPECT_EQ(first["ResourceConfig"],
            nlohmann::json(
                {{"InstanceType", "ml.c5.2xlarge"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 30}}));
  EXPECT_EQ(first["StoppingCondition"], nlohmann::json({{"MaxRuntimeInSeconds", 86400}}));
  EXPECT_EQ(first["EnableManagedSpotTraining"], false);
  EXPECT_EQ(first["CheckpointConfig"],
            nlohmann::json({{"S3Uri", "s3://bucket/team/exp/run-1/sagemaker-checkpoints/basic"},
                            {"LocalPath", "/opt/ml/checkpoints"}}));
  EXPECT_EQ(first["OutputDataConfig"]["S3OutputPath"],
            "s3://bucket/team/exp/run-1/sagemaker-output");
  EXPECT_FALSE(first.contains("VpcConfig"));
  EXPECT_EQ(first["Environment"], nlohmann::json({{"RLPIPE_RUN_URI", "s3://bucket/team/exp/run-1"},
                                                  {"AWS_REGION", "eu-west-1"}}));
  EXPECT_EQ(first["Tags"][2], nlohmann::json({{"Key", "rlpipe:run-id"}, {"Value", "run-1"}}));

  // The hyperparameters carry the session; the second starts from the first's best model.
  const SessionJobInput input1 = DecodeHyperParameters(first["HyperParameters"], "first");
  EXPECT_EQ(input1.session_name, "basic");
  EXPECT_EQ(input1.input_checkpoint_uri, "");
  EXPECT_EQ(input1.run_uri, "s3://bucket/team/exp/run-1");
  EXPECT_CONTAINS(input1.resolved_config_yaml, "total_timesteps: 1000");
  const SessionJobInput input2 =
      DecodeHyperParameters(plan.jobs[1].request["HyperParameters"], "second");
  EXPECT_EQ(input2.session_index, 1);
  EXPECT_EQ(input2.input_checkpoint_uri,
            "s3://bucket/team/exp/run-1/checkpoints/basic/best_model.zip");
  EXPECT_NE(input1.seed, input2.seed);
}

TEST_F(SageMakerRequestTest, SpotWarmPoolVpcKmsTagsAndEnvironment) {
  const std::string aws = std::string(kAws) +
                          "    use_spot_instances: true\n"
                          "    max_run_seconds: 3600\n"
                          "    kms_key_id: alias/rl\n"
                          "    enable_inter_container_traffic_encryption: true\n"
                          "    vpc_config:\n"
                          "      security_group_ids: [sg-1]\n"
                          "      subnets: [subnet-a, subnet-b]\n"
                          "    tags:\n"
                          "      project: robots\n"
                          "    environment:\n"
                          "      OMP_NUM_THREADS: \"4\"\n";
  const nlohmann::json spot = Plan(Load(aws)).jobs[0].request;
  EXPECT_EQ(spot["EnableManagedSpotTraining"], true);
  EXPECT_EQ(spot["StoppingCondition"],
            nlohmann::json({{"MaxRuntimeInSeconds", 3600}, {"MaxWaitTimeInSeconds", 3600}}));
  EXPECT_EQ(spot["ResourceConfig"]["VolumeKmsKeyId"], "alias/rl");
  EXPECT_EQ(spot["OutputDataConfig"]["KmsKeyId"], "alias/rl");
  EXPECT_EQ(spot["EnableInterContainerTrafficEncryption"], true);
  EXPECT_EQ(spot["VpcConfig"], nlohmann::json({{"SecurityGroupIds", {"sg-1"}},
                                               {"Subnets", {"subnet-a", "subnet-b"}}}));
  EXPECT_EQ(spot["Tags"].size(), 4u);
  EXPECT_EQ(spot["Tags"][3], nlohmann::json({{"Key", "project"}, {"Value", "robots"}}));
  EXPECT_EQ(spot["Environment"]["OMP_NUM_THREADS"], "4");

  const nlohmann::json pool =
      Plan(Load(std::string(kAws) + "    warm_pool:\n      enabled: true\n"
                                    "      retention_period_seconds: 600\n"))
          .jobs[0]
          .request;
  EXPECT_EQ(pool["ResourceConfig"]["KeepAlivePeriodInSeconds"], 600);
  EXPECT_FALSE(pool["StoppingCondition"].contains("MaxWaitTimeInSeconds"));
}

TEST_F(SageMakerRequestTest, SessionOverridesMergeOverThePipeline) {
  const auto pipeline = Load(std::string(kAws) + "    warm_pool: {enabled: true}\n",
                             "    aws_overrides:\n"
                             "      sagemaker:\n"
                             "        instance_type: ml.c5.4xlarge\n"
                             "        warm_pool: {retention_period_seconds: 60}\n");
  const config::SageMakerConfig merged = config::ResolveSageMaker(pipeline, pipeline.sessions[1]);
  EXPECT_EQ(merged.instance_type, "ml.c5.4xlarge");
  EXPECT_TRUE(merged.warm_pool);  // kept from the pipeline: maps merge key by key
  EXPECT_EQ(merged.warm_pool_retention_seconds, 60);
  EXPECT_EQ(merged.Source("instance_type").path,
            "sessions[1].aws_overrides.sagemaker.instance_type");
  EXPECT_EQ(merged.Source("role_arn").path, "aws.sagemaker.role_arn");
  EXPECT_EQ(merged.Source("warm_pool.enabled").path, "aws.sagemaker.warm_pool.enabled");

  const SageMakerPlan plan = Plan(pipeline);
  EXPECT_EQ(plan.jobs[1].request["ResourceConfig"]["InstanceType"], "ml.c5.4xlarge");
  EXPECT_EQ(plan.jobs[0].request["ResourceConfig"]["InstanceType"], "ml.c5.2xlarge");
  // The override breaks warm-pool reuse: a warning at the override's line, not an error.
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_EQ(plan.warnings[0], At(19, 24) +
                                  ": sessions[1].aws_overrides.sagemaker.instance_type: warning: "
                                  "session 'refine' cannot reuse the warm pool of session "
                                  "'basic' (different instance_type); it starts a new instance");
}

TEST_F(SageMakerRequestTest, OverridesAreStrict) {
  EXPECT_CONTAINS(
      PlanError(kAws, "    aws_overrides:\n      sagemaker:\n        instnce_type: x\n"),
      At(18, 9) + ": sessions[1].aws_overrides.sagemaker.instnce_type: unknown key");
  EXPECT_CONTAINS(PlanError(kAws, "    aws_overrides:\n      s3_bucket: other\n"),
                  At(17, 7) + ": sessions[1].aws_overrides.s3_bucket: unknown key");
  EXPECT_CONTAINS(
      PlanError(kAws, "    aws_overrides:\n      sagemaker:\n        volume_size_gb: 0\n"),
      At(18, 25) + ": sessions[1].aws_overrides.sagemaker.volume_size_gb: expected");
}

TEST_F(SageMakerRequestTest, ValidationNamesFileLineAndKey) {
  const std::string base = kAws;
  // Spot and warm pool exclude each other.
  EXPECT_EQ(PlanError(base + "    use_spot_instances: true\n    warm_pool: true\n"),
            At(10, 25) +
                ": aws.sagemaker.use_spot_instances: SageMaker does not keep warm pools for "
                "managed spot training: turn off use_spot_instances or warm_pool");
  // The pair may come from a session override, which is then named.
  EXPECT_EQ(PlanError(base + "    warm_pool: true\n",
                      "    aws_overrides:\n      sagemaker:\n        use_spot_instances: true\n"),
            At(19, 29) +
                ": sessions[1].aws_overrides.sagemaker.use_spot_instances: SageMaker does not "
                "keep warm pools for managed spot training: turn off use_spot_instances or "
                "warm_pool");
  EXPECT_EQ(PlanError(base + "    use_spot_instances: true\n    max_wait_seconds: 100\n"),
            At(11, 23) +
                ": aws.sagemaker.max_wait_seconds: with spot instances it must be 0 (= "
                "max_run_seconds) or at least max_run_seconds (86400), found 100");
  EXPECT_CONTAINS(PlanError(Replace(base, "ml.c5.2xlarge", "c5.xlarge")),
                  At(7, 20) +
                      ": aws.sagemaker.instance_type: expected a SageMaker training "
                      "instance type like ml.c5.xlarge, found \"c5.xlarge\"");
  EXPECT_CONTAINS(PlanError(Replace(base, "123456789012:role", "12345:role")),
                  At(8, 15) + ": aws.sagemaker.role_arn: expected an IAM role ARN");
  EXPECT_CONTAINS(
      PlanError(Replace(base, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rlpipe:1", "null")),
      At(9, 5) + ": aws.sagemaker.container_image_uri: missing");
  EXPECT_CONTAINS(PlanError(base + "    vpc_config:\n      security_group_ids: []\n"
                                   "      subnets: [subnet-a]\n"),
                  At(11, 27) +
                      ": aws.sagemaker.vpc_config.security_group_ids: expected 1..5 "
                      "ids, found 0");
  EXPECT_CONTAINS(PlanError(base + "    vpc_config:\n      security_group_ids: [sg-1]\n"
                                   "      subnets: [subnet_a]\n"),
                  At(12, 16) +
                      ": aws.sagemaker.vpc_config.subnets: entry 0 \"subnet_a\" is not "
                      "an id");
  EXPECT_CONTAINS(PlanError(base + "    tags:\n      aws:owner: me\n"),
                  At(11, 18) +
                      ": aws.sagemaker.tags.aws:owner: tag keys starting with aws: or "
                      "rlpipe: are reserved");
  EXPECT_CONTAINS(PlanError(base + "    tags:\n      team: a#b\n"),
                  At(11, 13) + ": aws.sagemaker.tags.team: a tag value must be");
  EXPECT_CONTAINS(PlanError(base + "    environment:\n      AWS_REGION: x\n"),
                  At(11, 19) + ": aws.sagemaker.environment.AWS_REGION: rlpipe sets AWS_REGION");
  EXPECT_CONTAINS(PlanError(base + "    environment:\n      1BAD: x\n"),
                  At(11, 13) + ": aws.sagemaker.environment.1BAD: a variable name must be");
  EXPECT_CONTAINS(PlanError(base + "    environment:\n      LONG: " + std::string(513, 'v') + "\n"),
                  At(11, 13) + ": aws.sagemaker.environment.LONG: value is 513 characters");
  // No bucket: S3 is required for SageMaker.
  std::string no_bucket = base;
  no_bucket.erase(no_bucket.find("  s3_bucket: bucket\n"), 20);
  EXPECT_EQ(PlanError(no_bucket),
            (dir_ / "p.yaml").string() +
                ": aws.s3_bucket: SageMaker jobs exchange models through S3: set aws.s3_bucket "
                "or pass --s3-bucket");
  // No role anywhere, and a bad --role-arn.
  std::string no_role = base;
  no_role.erase(no_role.find("    role_arn:"),
                no_role.find("    container") - no_role.find("    role_arn:"));
  EXPECT_CONTAINS(PlanError(no_role), At(7, 5) + ": aws.sagemaker.role_arn: missing");
  EXPECT_EQ(PlanError(base, "", RoleFlag("arn:aws:iam::1:role/x")),
            "--role-arn: expected an IAM role ARN like "
            "arn:aws:iam::123456789012:role/SageMakerRole, found \"arn:aws:iam::1:role/x\"");
}

TEST_F(SageMakerRequestTest, RoleFlagWinsAndWarningsAreData) {
  const SageMakerPlan plan =
      Plan(Load(std::string(kAws) + "    instance_count: 2\n    max_wait_seconds: 5\n"),
           RoleFlag("arn:aws-cn:iam::210987654321:role/path/Other"));
  EXPECT_EQ(plan.jobs[1].request["RoleArn"], "arn:aws-cn:iam::210987654321:role/path/Other");
  ASSERT_EQ(plan.warnings.size(), 4u);  // two per session
  EXPECT_EQ(plan.warnings[0], At(10, 21) +
                                  ": aws.sagemaker.instance_count: warning: rlpipe trains each "
                                  "session on one instance; the other 1 would idle and be billed");
  EXPECT_EQ(plan.warnings[1], At(11, 23) +
                                  ": aws.sagemaker.max_wait_seconds: warning: ignored without "
                                  "use_spot_instances");
}

TEST_F(SageMakerRequestTest, ExplicitCheckpointIsUploadedFirst) {
  const auto pipeline = Load(kAws, "    checkpoint: start.zip\n");
  const SageMakerPlan plan = Plan(pipeline);
  EXPECT_EQ(plan.jobs[1].upload_from, (dir_ / "start.zip").string());
  EXPECT_EQ(plan.jobs[1].upload_to, "s3://bucket/team/exp/run-1/inputs/refine/start.zip");
  EXPECT_EQ(
      DecodeHyperParameters(plan.jobs[1].request["HyperParameters"], "x").input_checkpoint_uri,
      plan.jobs[1].upload_to);
  EXPECT_EQ(plan.jobs[0].upload_from, "");
}

TEST_F(SageMakerRequestTest, InputCheckpointSkipsSessionsThatDidNotComplete) {
  WriteFileAtomic(dir_ / "three.yaml",
                  "sessions:\n"
                  "  - {name: a, config: train.yaml}\n"
                  "  - {name: b, config: train.yaml}\n"
                  "  - {name: c, config: train.yaml, use_previous_checkpoint: "
                  "true}\n");
  const auto pipeline = config::LoadPipeline(dir_ / "three.yaml");
  EXPECT_EQ(InputCheckpointUri(pipeline, 2, "s3://b/r"), "s3://b/r/checkpoints/b/best_model.zip");
  EXPECT_EQ(InputCheckpointUri(pipeline, 2, "s3://b/r", [](size_t i) { return i == 0; }),
            "s3://b/r/checkpoints/a/best_model.zip");
  EXPECT_EQ(InputCheckpointUri(pipeline, 2, "s3://b/r", [](size_t) { return false; }), "");
  EXPECT_EQ(InputCheckpointUri(pipeline, 1, "s3://b/r"), "");
}

TEST_F(SageMakerRequestTest, RequestIsAPureFunctionOfItsInputs) {
  const auto pipeline = Load(kAws);
  EXPECT_EQ(Plan(pipeline).jobs[1].request, Plan(pipeline).jobs[1].request);
  EXPECT_NE(Plan(pipeline, Stamp("20260101-000001")).jobs[0].request["TrainingJobName"],
            Plan(pipeline).jobs[0].request["TrainingJobName"]);
}

}  // namespace
}  // namespace rlpipe::platform
