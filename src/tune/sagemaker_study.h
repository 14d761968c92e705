#pragma once
/// `rlpipe tune --platform sagemaker`: the study as one SageMaker hyper-parameter tuning job
/// (tune/tuning_job_request.h). --dry-run prints the request; otherwise submit, poll
/// DescribeHyperParameterTuningJob with backoff printing progress (training jobs completed /
/// running / stopped / failed, best so far), stop on Ctrl-C (StopHyperParameterTuningJob), and
/// at the end list the training jobs into results.csv / results.json (grouped by parameters, so
/// a grid's seeds give mean ± std), download the best job's model.tar.gz into D/best_model/ and
/// write D/best_pipeline.yaml.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "platform/aws_json_client.h"
#include "storage/aws_credentials.h"
#include "tune/local_study.h"

namespace rlpipe::tune {

/// Where the tuning job runs and how patiently it is followed.
struct SageMakerTuneOptions {
  TuneOptions tune;       // --config, --space, --trials, --parallel, --seeds, --output-dir, …
  std::string role_arn;   // --role-arn ("" = aws.sagemaker.role_arn)
  std::string run_id;     // --run-id ("" = <pipeline>-<UTC time>)
  std::string timestamp;  // job-name suffix ("" = now)
  /// First and largest wait between two Describe calls (doubling while nothing changes).
  std::chrono::milliseconds poll_min{5000};
  std::chrono::milliseconds poll_max{60000};
  /// How long to wait for a stopped tuning job to reach Stopped.
  std::chrono::seconds stop_wait{600};
  AwsEnvironment aws;                                          ///< Environment, endpoints.
  std::shared_ptr<CredentialsProvider> credentials;            ///< null: the standard chain.
};

/// The D/ file that names the submitted tuning job (so --resume follows it again).
inline constexpr char kTuningJobFile[] = "sagemaker_tuning_job.json";

/// Plans (and with --dry-run prints) the tuning job, or runs it as described above. Returns 0
/// when the tuning job completed, 1 when it failed, 128 + signal when stopped by Ctrl-C.
/// Throws ConfigError before anything is sent for bad input.
int RunSageMakerStudy(const SageMakerTuneOptions& options, std::FILE* out, std::FILE* err);

}  // namespace rlpipe::tune
