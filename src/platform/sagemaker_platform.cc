#include "platform/sagemaker_platform.h"

#include <algorithm>
#include <ctime>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/run_mirror.h"
#include "pipeline/stop_signal.h"
#include "platform/container_entrypoint.h"
#include "platform/sagemaker_request.h"
#include "storage/storage_error.h"
#include "storage/storage_uri.h"

namespace rlpipe::platform {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr char kLogGroup[] = "/aws/sagemaker/TrainingJobs";
constexpr char kSnsVersion[] = "2010-03-31";

bool IsFinal(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Stopped";
}

std::shared_ptr<CredentialsProvider> Credentials(const SageMakerPlatformOptions& options) {
  return options.credentials ? options.credentials
                             : std::make_shared<DefaultCredentialsChain>(options.aws);
}

/// Sleeps up to `wait`, waking early when a stop signal arrives (unless one was handled).
void SleepUnlessStopped(std::chrono::milliseconds wait, bool stop_handled) {
  const auto until = Clock::now() + wait;
  while (Clock::now() < until) {
    if (!stop_handled && pipeline::StopSignal() != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::optional<double> OptionalNumber(const json& doc, const char* key) {
  if (!doc.contains(key) || !doc[key].is_number()) return std::nullopt;
  return doc[key].get<double>();
}

}  // namespace

SageMakerExecutor::SageMakerExecutor(SageMakerPlatformOptions options, std::FILE* console)
    : options_(std::move(options)), console_(console) {}

void SageMakerExecutor::SetUp(const config::PipelineConfig& pipeline) {
  if (sagemaker_) return;
  // One client per service, all with the pipeline's region and the same credentials.
  const auto credentials = Credentials(options_);
  AwsClientConfig config;
  config.region = pipeline.aws.region;
  sagemaker_ = std::make_unique<AwsClient>(SageMakerService(), config, credentials, options_.aws);
  logs_ = std::make_unique<AwsClient>(LogsService(), config, credentials, options_.aws);
  sns_ = std::make_unique<AwsClient>(SnsService(), config, credentials, options_.aws);
  // The run's S3 folder is reached as the runner's mirror reaches it.
  pipeline::S3Location location;
  location.region = pipeline.aws.region;
  location.endpoint_url = pipeline.aws.s3_endpoint_url;
  storage_ = pipeline::MirrorStorageOptions(location);
  storage_.aws = options_.aws;
  storage_.credentials = options_.credentials;
}

void SageMakerExecutor::Print(const std::string& line) {
  std::fprintf(console_, "%s\n", line.c_str());
  std::fflush(console_);
}

std::string SageMakerExecutor::StartOrAttach(const pipeline::SessionRun& run) {
  const config::PipelineConfig& pipeline = *run.pipeline;
  const config::SessionSpec& spec = pipeline.sessions[run.index];

  // A job an earlier invocation started and did not see end: follow it instead of a second one.
  if (run.previous_job) {
    auto described =
        sagemaker_->CallJson("DescribeTrainingJob", {{"TrainingJobName", *run.previous_job}});
    if (described.ok()) {
      const std::string status = described.value().value("TrainingJobStatus", "");
      if (status == "InProgress" || status == "Stopping" || status == "Completed") {
        run.info("[" + spec.name + "] re-attaching to SageMaker job " + *run.previous_job + " (" +
                 status + ")");
        if (run.on_job_started) run.on_job_started(*run.previous_job);
        return *run.previous_job;
      }
      run.warn("[" + spec.name + "] the earlier job " + *run.previous_job + " ended " + status +
               "; starting a new one");
    } else {
      run.warn("[" + spec.name + "] cannot re-attach to " + *run.previous_job + ": " +
               described.failure().message + "; starting a new job");
    }
  }

  // The session's settings and the model it starts from, in S3.
  config::SageMakerConfig sm = config::ResolveSageMaker(pipeline, spec);
  if (!options_.role_arn.empty()) sm.role_arn = options_.role_arn;
  for (const auto& warning : ValidateSageMakerConfig(pipeline, sm)) run.warn(warning);
  const std::string run_uri = *run.run_uri;
  std::string input_uri;
  if (run.init_checkpoint) {
    const std::string file = run.init_checkpoint->filename().string();
    if (run.init_from_session) {
      input_uri =
          JoinUri(JoinUri(run_uri, pipeline::CheckpointsEntry(*run.init_from_session)), file);
    } else {
      // An explicit local `checkpoint:` goes up first.
      input_uri = JoinUri(JoinUri(JoinUri(run_uri, "inputs"), spec.name), file);
      OpenCheckpointStore(input_uri, storage_)->PutFile(input_uri, *run.init_checkpoint);
      run.info("[" + spec.name + "] uploaded " + run.init_checkpoint->string() + " to " +
               input_uri);
    }
  }

  // Create the job.
  JobLocation location;
  location.run_uri = run_uri;
  location.input_checkpoint_uri = input_uri;
  location.timestamp = JobTimestamp(std::time(nullptr));
  const json request =
      BuildCreateTrainingJobRequest(pipeline, run.index, *run.experiment, sm, location);
  const std::string name = request["TrainingJobName"];
  ValueOrThrow(sagemaker_->CallJson("CreateTrainingJob", request));
  if (run.on_job_started) run.on_job_started(name);
  run.info(
      "[" + spec.name + "] SageMaker job " + name + " created (" + sm.instance_type +
      (sm.use_spot_instances ? ", spot" : "") +
      (sm.warm_pool ? ", warm pool " + std::to_string(sm.warm_pool_retention_seconds) + " s" : "") +
      (input_uri.empty() ? "" : ", from " + input_uri) + ")");
  last_job_keeps_pool_ = sm.warm_pool;
  return name;
}

void SageMakerExecutor::StreamLogs(const std::string& session, const std::string& job_name) {
  // Every stream of the job (one per host and start), new events only.
  auto streams = logs_->CallJson(
      "DescribeLogStreams", {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", job_name + "/"}});
  if (!streams.ok()) return;  // the log group appears with the job's first line
  for (const auto& stream : streams.value().value("logStreams", json::array())) {
    const std::string name = stream.value("logStreamName", "");
    for (int page = 0; page < 100; ++page) {
      json input = {{"logGroupName", kLogGroup}, {"logStreamName", name}, {"startFromHead", true}};
      auto token = log_tokens_.find(name);
      if (token != log_tokens_.end()) input["nextToken"] = token->second;
      auto events = logs_->CallJson("GetLogEvents", input);
      if (!events.ok()) break;
      const json& answer = events.value();
      for (const auto& event : answer.value("events", json::array())) {
        Print("[" + session + "] " + event.value("message", ""));
      }
      const std::string next = answer.value("nextForwardToken", "");
      const bool same = token != log_tokens_.end() && token->second == next;
      log_tokens_[name] = next;
      if (same || answer.value("events", json::array()).empty()) break;
    }
  }
}

json SageMakerExecutor::Follow(const pipeline::SessionRun& run, const std::string& job_name,
                               std::chrono::seconds timeout) {
  const std::string& session = run.pipeline->sessions[run.index].name;
  const auto deadline = Clock::now() + timeout;
  std::optional<Clock::time_point> stop_deadline;
  std::chrono::milliseconds delay = options_.poll_min;
  size_t transitions_seen = 0;
  std::string last_status;
  for (;;) {
    // Ctrl-C (or SIGTERM): stop the job, then keep following it until it has stopped.
    if (pipeline::StopSignal() != 0 && !stop_deadline) {
      run.warn("[" + session + "] stopping SageMaker job " + job_name);
      auto stopped = sagemaker_->CallJson("StopTrainingJob", {{"TrainingJobName", job_name}});
      if (!stopped.ok()) run.warn("[" + session + "] " + stopped.failure().message);
      stop_deadline = Clock::now() + options_.stop_wait;
    }
    if (!stop_deadline && Clock::now() > deadline) {
      run.warn("[" + session + "] job " + job_name + " still running after " +
               std::to_string(timeout.count()) + " s: stopping it");
      (void)sagemaker_->CallJson("StopTrainingJob", {{"TrainingJobName", job_name}});
      stop_deadline = Clock::now() + options_.stop_wait;
      timed_out_ = true;
    }

    // Describe: a network failure that outlasts the retries is waited out, not fatal.
    auto described = sagemaker_->CallJson("DescribeTrainingJob", {{"TrainingJobName", job_name}});
    bool changed = false;
    if (!described.ok()) {
      if (!described.retryable()) ThrowFailure(described.failure());
      run.warn("[" + session + "] " + described.failure().message + " (will keep polling)");
    } else {
      const json& job = described.value();
      const json transitions = job.value("SecondaryStatusTransitions", json::array());
      for (; transitions_seen < transitions.size(); ++transitions_seen) {
        const json& t = transitions[transitions_seen];
        run.info("[" + session + "] SageMaker: " + t.value("Status", "") + " - " +
                 t.value("StatusMessage", ""));
        changed = true;
      }
      StreamLogs(session, job_name);
      const std::string status = job.value("TrainingJobStatus", "");
      changed = changed || status != last_status;
      last_status = status;
      if (IsFinal(status)) return job;
    }
    if (stop_deadline && Clock::now() > *stop_deadline) {
      throw Error("SageMaker job " + job_name + " did not stop within " +
                  std::to_string(options_.stop_wait.count()) + " s (status " + last_status + ")");
    }

    // Back off while nothing changes.
    delay = changed ? options_.poll_min : std::min(delay * 2, options_.poll_max);
    SleepUnlessStopped(delay, stop_deadline.has_value());
  }
}

bool SageMakerExecutor::FetchModels(const pipeline::SessionRun& run,
                                    algos::TrainingResult* result) {
  const std::string& session = run.pipeline->sessions[run.index].name;
  pipeline::RunMirror mirror(OpenCheckpointStore(*run.run_uri, storage_), *run.run_uri);
  if (!mirror.HasSessionModels(session)) return false;
  mirror.GetSessionModels(session, run.models_dir, run.tensorboard_dir);
  run.info("[" + session + "] models downloaded from " +
           mirror.Uri(pipeline::CheckpointsEntry(session)));

  // The container's report, and its metrics beside the session's logs.
  const fs::path report_path = run.models_dir / kSessionReportFile;
  if (!fs::exists(report_path)) {
    throw IoError(mirror.Uri(pipeline::CheckpointsEntry(session)) + " has no " +
                  kSessionReportFile);
  }
  const json report = json::parse(ReadFile(report_path));
  result->timesteps = report.value("timesteps", int64_t{0});
  result->episodes = report.value("episodes", int64_t{0});
  result->best_mean_return = OptionalNumber(report, "best_mean_return");
  result->final_mean_return = OptionalNumber(report, "final_mean_return");
  if (fs::exists(run.models_dir / "best_model.zip")) {
    result->best_model = run.models_dir / "best_model.zip";
  }
  result->final_model = run.models_dir / "final_model.zip";
  fs::create_directories(run.logs_dir);
  for (const char* name : {"metrics.csv", "evaluations.csv"}) {
    if (fs::exists(run.models_dir / name)) {
      fs::copy_file(run.models_dir / name, run.logs_dir / name,
                    fs::copy_options::overwrite_existing);
    }
  }
  // The container's transfer report where a local run writes it.
  if (!run.transfer_report.empty() && fs::exists(run.models_dir / kTransferReportFile)) {
    fs::copy_file(run.models_dir / kTransferReportFile, run.transfer_report,
                  fs::copy_options::overwrite_existing);
  }
  return true;
}

pipeline::SessionTrainingOutcome SageMakerExecutor::Execute(const pipeline::SessionRun& run) {
  const std::string& session = run.pipeline->sessions[run.index].name;
  sns_topic_arn_ = run.pipeline->aws.sns_topic_arn;
  SetUp(*run.pipeline);
  last_failure_.clear();
  timed_out_ = false;
  pipeline::SessionTrainingOutcome outcome;
  const auto start = Clock::now();
  try {
    if (!run.run_uri) throw ConfigError("--platform sagemaker needs the run in S3 (aws.s3_bucket)");
    const std::string job_name = StartOrAttach(run);
    last_job_ = job_name;

    // The overall timeout: what SageMaker itself allows the job, plus an hour of queueing.
    std::chrono::seconds timeout = options_.timeout;
    if (timeout.count() == 0) {
      const config::SageMakerConfig sm =
          config::ResolveSageMaker(*run.pipeline, run.pipeline->sessions[run.index]);
      timeout = std::chrono::seconds(sm.max_run_seconds + sm.max_wait_seconds + 3600);
    }
    const json job = Follow(run, job_name, timeout);
    const std::string status = job.value("TrainingJobStatus", "");
    const std::string reason = job.value("FailureReason", "");

    // The end: models back for Completed (and for a miss of the success criteria).
    if (status == "Completed") {
      if (!FetchModels(run, &outcome.result)) {
        throw IoError("job " + job_name + " completed but " + *run.run_uri + "/" +
                      pipeline::CheckpointsEntry(session) + " holds no complete model set");
      }
    } else if (status == "Failed" && reason.find("success criteria not met") != std::string::npos &&
               FetchModels(run, &outcome.result)) {
      // The runner applies the same criteria and records failed_criteria.
    } else if (status == "Stopped" && pipeline::StopSignal() != 0 && !timed_out_) {
      outcome.result.interrupted = true;
      run.warn("[" + session + "] SageMaker job " + job_name + " stopped");
    } else if (status == "Stopped") {
      outcome.error = "SageMaker job " + job_name +
                      (timed_out_ ? " timed out and was stopped" : " was stopped outside rlpipe");
    } else {
      outcome.error = "SageMaker job " + job_name + " failed: " +
                      (reason.empty() ? std::string("no FailureReason given") : reason);
    }
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  if (outcome.error) last_failure_ = *outcome.error;
  outcome.duration_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return outcome;
}

void SageMakerExecutor::SessionEnded(const config::PipelineConfig& pipeline,
                                     const pipeline::SessionRecord& record) {
  if (sns_topic_arn_.empty()) return;
  SetUp(pipeline);
  // One message per session end; a failed publish is a warning, never the pipeline's failure.
  json message = {
      {"pipeline", pipeline.name},
      {"session", record.name},
      {"status", pipeline::ToString(record.status)},
      {"job", record.job ? json(*record.job) : json()},
      {"timesteps", record.timesteps},
      {"best_mean_return", record.best_mean_return ? json(*record.best_mean_return) : json()},
      {"error", record.error ? json(*record.error) : json()}};
  std::string subject =
      "rlpipe " + pipeline.name + "/" + record.name + ": " + pipeline::ToString(record.status);
  if (subject.size() > 99) subject.resize(99);  // SNS: subjects are under 100 characters
  auto published = sns_->CallQuery(
      "Publish", kSnsVersion,
      {{"TopicArn", sns_topic_arn_}, {"Subject", subject}, {"Message", message.dump()}});
  if (!published.ok()) {
    Print("WARN: SNS notification to " + sns_topic_arn_ +
          " failed: " + published.failure().message);
  } else {
    Print("[" + record.name + "] notified " + sns_topic_arn_);
  }
}

void SageMakerExecutor::Finish() {
  if (last_job_.empty() || !last_job_keeps_pool_) return;
  // Nothing else will use the warm pool: release it instead of paying for its retention.
  auto updated = sagemaker_->CallJson(
      "UpdateTrainingJob",
      {{"TrainingJobName", last_job_}, {"ResourceConfig", {{"KeepAlivePeriodInSeconds", 0}}}});
  if (updated.ok()) {
    Print("released the warm pool of SageMaker job " + last_job_);
  } else {
    Print("WARN: could not release the warm pool of " + last_job_ + ": " +
          updated.failure().message);
  }
  last_job_keeps_pool_ = false;
}

}  // namespace rlpipe::platform
