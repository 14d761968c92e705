#pragma once
/// Sessions as SageMaker training jobs (`rlpipe run --platform sagemaker`): per session, build the
/// CreateTrainingJob request (platform/sagemaker_request.h), submit it, poll DescribeTrainingJob
/// with backoff and an overall timeout, stream the job's CloudWatch log lines prefixed by the
/// session, show secondary-status transitions, and bring the models back from the run's S3
/// folder. Ctrl-C stops the job; `--resume` re-attaches to a job still running; the warm pool is
/// released after the last session; an SNS message goes to aws.sns_topic_arn at each session end.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/session_executor.h"
#include "platform/aws_json_client.h"
#include "storage/aws_credentials.h"
#include "storage/checkpoint_store.h"

namespace rlpipe::platform {

/// How the SageMaker platform talks to AWS and how patiently it waits.
struct SageMakerPlatformOptions {
  std::string role_arn;  ///< --role-arn ("" = aws.sagemaker.role_arn).
  /// First and largest wait between two DescribeTrainingJob calls (doubling while nothing
  /// changes, back to the first after a change). RLPIPE_SM_POLL_MS overrides the first.
  std::chrono::milliseconds poll_min{2000};
  std::chrono::milliseconds poll_max{30000};
  /// Give up on a job after this long (0: its MaxRuntime + MaxWait + 1 hour). The job is stopped.
  std::chrono::seconds timeout{0};
  /// How long to wait for a stopped job to reach Stopped before giving up waiting.
  std::chrono::seconds stop_wait{300};
  AwsEnvironment aws;                                ///< Environment, home, endpoints.
  std::shared_ptr<CredentialsProvider> credentials;  ///< null: the standard chain.
  StorageOptions storage;                            ///< For the run's S3 folder.
};

/// The SageMaker session executor (see the file comment).
class SageMakerExecutor : public pipeline::SessionExecutor {
 public:
  SageMakerExecutor(SageMakerPlatformOptions options, std::FILE* console);
  pipeline::SessionTrainingOutcome Execute(const pipeline::SessionRun& run) override;
  void SessionEnded(const config::PipelineConfig& pipeline,
                    const pipeline::SessionRecord& record) override;
  void Finish() override;
  bool NeedsS3() const override { return true; }
  /// A spot restart resumes inside the job from its checkpoint folder; --resume re-attaches.
  bool ResumesFromLocalCheckpoints() const override { return false; }

 private:
  /// Builds the clients for the pipeline's region (once).
  void SetUp(const config::PipelineConfig& pipeline);
  /// Creates the job, or re-attaches to `run.previous_job` when it is still running.
  std::string StartOrAttach(const pipeline::SessionRun& run);
  /// Polls until the job ends; streams logs; stops it on Ctrl-C. Returns the last Describe.
  nlohmann::json Follow(const pipeline::SessionRun& run, const std::string& job_name,
                        std::chrono::seconds timeout);
  /// Prints new log events of the job's streams.
  void StreamLogs(const std::string& session, const std::string& job_name);
  /// Collects the models and report the container uploaded into run.models_dir.
  bool FetchModels(const pipeline::SessionRun& run, algos::TrainingResult* result);
  void Print(const std::string& line);

  SageMakerPlatformOptions options_;
  std::FILE* console_;
  std::unique_ptr<AwsClient> sagemaker_;
  std::unique_ptr<AwsClient> logs_;
  std::unique_ptr<AwsClient> sns_;
  StorageOptions storage_;  ///< For the run's S3 folder.
  /// Log streams seen so far → their next forward token.
  std::map<std::string, std::string> log_tokens_;
  /// The last job and whether it keeps a warm pool (released by Finish).
  std::string last_job_;
  bool last_job_keeps_pool_ = false;
  std::string sns_topic_arn_;
  std::string last_failure_;  ///< FailureReason of the session that just ended.
  bool timed_out_ = false;    ///< The current job hit the overall timeout.
};

}  // namespace rlpipe::platform
