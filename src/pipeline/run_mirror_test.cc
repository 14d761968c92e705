#include "pipeline/run_mirror.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rlpipe::pipeline {
namespace {

TEST(RunMirrorTest, RunIdsAreSafeKeyParts) {
  EXPECT_NO_THROW(ValidateRunId("exp-1_v2.0"));
  for (const char* bad : {"", ".", "..", "a/b", "a b", "r\n"}) {
    EXPECT_THROW(ValidateRunId(bad), ConfigError) << bad;
  }
  EXPECT_THROW(ValidateRunId(std::string(129, 'a')), ConfigError);
  // Generated: the name made safe, a dash, a UTC stamp like 20261124T094512Z.
  const std::string id = GenerateRunId("my pipeline/v2");
  EXPECT_NO_THROW(ValidateRunId(id));
  ASSERT_EQ(id.size(), std::string("my-pipeline-v2-").size() + 16) << id;
  EXPECT_TRUE(id.starts_with("my-pipeline-v2-")) << id;
  EXPECT_EQ(id.back(), 'Z');
}

TEST(RunMirrorTest, FlagsWinOverTheConfigAndABucketIsRequired) {
  config::AwsConfig aws;
  aws.s3_bucket = "cfg-bucket";
  aws.s3_prefix = "/cfg/prefix/";
  aws.s3_endpoint_url = "http://127.0.0.1:1";
  S3Location location = ResolveS3Location(aws, "", "");
  EXPECT_EQ(PrefixUri(location), "s3://cfg-bucket/cfg/prefix");
  EXPECT_EQ(location.endpoint_url, "http://127.0.0.1:1");
  location = ResolveS3Location(aws, "flag-bucket", "p");
  EXPECT_EQ(PrefixUri(location), "s3://flag-bucket/p");
  aws.s3_prefix.clear();
  EXPECT_EQ(PrefixUri(ResolveS3Location(aws, "", "")), "s3://cfg-bucket");
  EXPECT_THROW(ResolveS3Location(config::AwsConfig{}, "", "x"), ConfigError);
}

TEST(RunMirrorTest, RunStatusSummarisesTheSessions) {
  PipelineState state;
  state.sessions.resize(2);
  EXPECT_EQ(RunStatus(state), "incomplete");
  state.sessions[0].status = SessionStatus::kCompleted;
  state.current_session = "b";
  EXPECT_EQ(RunStatus(state), "running");
  state.sessions[1].status = SessionStatus::kInterrupted;
  EXPECT_EQ(RunStatus(state), "interrupted");
  state.current_session.reset();
  state.sessions[1].status = SessionStatus::kFailedCriteria;
  EXPECT_EQ(RunStatus(state), "failed");
  state.sessions[1].status = SessionStatus::kCompleted;
  EXPECT_EQ(RunStatus(state), "completed");
}

}  // namespace
}  // namespace rlpipe::pipeline
