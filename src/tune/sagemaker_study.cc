#include "tune/sagemaker_study.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/run_mirror.h"
#include "pipeline/stop_signal.h"
#include "platform/hyperparameters.h"
#include "platform/sagemaker_request.h"
#include "storage/checkpoint_store.h"
#include "tune/tuning_job_request.h"
#include "tune/variant.h"

namespace rlpipe::tune {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace {

bool IsFinal(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Stopped";
}

// Sleeps up to `wait`, waking early when a stop signal arrives (unless one was handled).
void SleepUnlessStopped(std::chrono::milliseconds wait, bool stop_handled) {
  const auto until = Clock::now() + wait;
  while (Clock::now() < until) {
    if (!stop_handled && pipeline::StopSignal() != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int Counter(const json& counters, const char* key) {
  return counters.contains(key) && counters[key].is_number_integer() ? counters[key].get<int>() : 0;
}

// "completed 3, running 2, stopped 0, failed 1; best so far: <job> <metric>=<value>".
std::string Progress(const json& tuning) {
  const json counters = tuning.value("TrainingJobStatusCounters", json::object());
  std::string line =
      "completed " + std::to_string(Counter(counters, "Completed")) + ", running " +
      std::to_string(Counter(counters, "InProgress")) + ", stopped " +
      std::to_string(Counter(counters, "Stopped")) + ", failed " +
      std::to_string(Counter(counters, "NonRetryableError") + Counter(counters, "RetryableError"));
  if (tuning.contains("BestTrainingJob")) {
    const json& best = tuning["BestTrainingJob"];
    const json metric = best.value("FinalHyperParameterTuningJobObjectiveMetric", json::object());
    char value[64] = "n/a";
    if (metric.contains("Value") && metric["Value"].is_number()) {
      std::snprintf(value, sizeof(value), "%g", metric["Value"].get<double>());
    }
    line += "; best so far: " + best.value("TrainingJobName", "?") + " " +
            metric.value("MetricName", "") + "=" + value;
  }
  return line;
}

// A trial from a training job's tuned values (rlpipe_set_<key> → key; the seed apart).
Trial TrialOf(const SearchSpace& space, const json& tuned, const std::string& id) {
  Trial trial;
  trial.id = id;
  for (const Parameter& p : space.parameters) {
    const std::string name = platform::kOverrideHyperParameterPrefix + p.key;
    std::string text = tuned.contains(name) ? tuned[name].get<std::string>() : "";
    trial.values.emplace_back(p.key, config::Tree::Scalar(text, p.loc));
  }
  return trial;
}

// Extracts a .tar.gz with the tar program into `dir`; false when it is not available or fails.
bool ExtractTarGz(const fs::path& archive, const fs::path& dir) {
  const pid_t pid = fork();
  if (pid == 0) {
    execlp("tar", "tar", "-xzf", archive.c_str(), "-C", dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int RunSageMakerStudy(const SageMakerTuneOptions& options, std::FILE* out, std::FILE* err) {
  const TuneOptions& tune = options.tune;
  // Everything checked before anything is sent.
  if (tune.parallel < 1) {
    throw ConfigError("--parallel " + std::to_string(tune.parallel) + ": expected >= 1");
  }
  if (tune.seeds < 1)
    throw ConfigError("--seeds " + std::to_string(tune.seeds) + ": expected >= 1");
  if (tune.trials && *tune.trials < 1) {
    throw ConfigError("--trials " + std::to_string(*tune.trials) + ": expected >= 1");
  }
  const SearchSpace space = LoadSearchSpace(tune.space_file);
  const config::PipelineConfig pipeline = config::LoadPipeline(tune.config_file);
  ObjectiveMetric(space);
  const size_t index = TunedSession(pipeline, space);
  // The values are checked against the schema locally: grid points, or a range's two ends.
  ValidateStudy(pipeline, space,
                space.strategy == Strategy::kGrid ? ExpandGrid(space) : std::vector<Trial>{});
  const config::ExperimentConfig resolved =
      config::ResolveSession(pipeline, pipeline.sessions[index]);
  TuningJobOptions job_options;
  job_options.run_id =
      options.run_id.empty() ? pipeline::GenerateRunId(pipeline.name) : options.run_id;
  job_options.role_arn = options.role_arn;
  job_options.timestamp =
      options.timestamp.empty() ? platform::JobTimestamp(std::time(nullptr)) : options.timestamp;
  job_options.trials = tune.trials;
  job_options.parallel = tune.parallel;
  job_options.seeds = tune.seeds;
  const TuningJobPlan plan = PlanTuningJob(pipeline, space, index, resolved, job_options);
  for (const std::string& warning : plan.warnings) {
    std::fprintf(err, "rlpipe: %s\n", warning.c_str());
  }
  if (tune.dry_run) {
    std::fprintf(out, "%s\n", plan.request.dump(2).c_str());
    return 0;
  }

  // The clients, as `rlpipe run --platform sagemaker` builds them.
  const auto credentials = options.credentials
                               ? options.credentials
                               : std::make_shared<DefaultCredentialsChain>(options.aws);
  platform::AwsClientConfig client_config;
  client_config.region = pipeline.aws.region;
  platform::AwsClient sagemaker(platform::SageMakerService(), client_config, credentials,
                                options.aws);
  pipeline::S3Location location;
  location.region = pipeline.aws.region;
  location.endpoint_url = pipeline.aws.s3_endpoint_url;
  StorageOptions storage = pipeline::MirrorStorageOptions(location);
  storage.aws = options.aws;
  storage.credentials = options.credentials;

  // Submit, or follow the job an earlier invocation submitted (--resume).
  const fs::path dir = tune.output_dir;
  fs::create_directories(dir);
  const fs::path job_file = dir / kTuningJobFile;
  std::string name = plan.request["HyperParameterTuningJobName"].get<std::string>();
  if (fs::exists(job_file)) {
    if (!tune.resume) {
      throw ConfigError(dir.string() + " already holds a tuning job (" + job_file.string() +
                        "); use --resume to follow it, or another --output-dir");
    }
    name = json::parse(ReadFile(job_file)).at("HyperParameterTuningJobName").get<std::string>();
    std::fprintf(out, "tune: following SageMaker tuning job %s\n", name.c_str());
  } else {
    const config::SessionSpec& session = pipeline.sessions[index];
    if (session.checkpoint) {
      // An explicit local `checkpoint:` goes up first, where the request points.
      const std::string uri = platform::InputCheckpointUri(
          pipeline, index,
          platform::SageMakerRunUri(pipeline.aws.s3_bucket, pipeline.aws.s3_prefix,
                                    job_options.run_id, pipeline));
      OpenCheckpointStore(uri, storage)->PutFile(uri, *session.checkpoint);
    }
    platform::ValueOrThrow(sagemaker.CallJson("CreateHyperParameterTuningJob", plan.request));
    WriteFileAtomic(
        job_file,
        json({{"HyperParameterTuningJobName", name}, {"request", plan.request}}).dump(2) + "\n");
    std::fprintf(out, "tune: submitted SageMaker tuning job %s (session '%s')\n", name.c_str(),
                 plan.session.c_str());
  }
  std::fflush(out);

  // Follow it: progress when something changes, backoff while nothing does, stop on Ctrl-C.
  pipeline::InstallStopHandlers();
  std::optional<Clock::time_point> stop_deadline;
  std::chrono::milliseconds delay = options.poll_min;
  std::string last_line;
  json tuning;
  for (;;) {
    if (pipeline::StopSignal() != 0 && !stop_deadline) {
      std::fprintf(out, "tune: stopping SageMaker tuning job %s\n", name.c_str());
      auto stopped = sagemaker.CallJson("StopHyperParameterTuningJob",
                                        {{"HyperParameterTuningJobName", name}});
      if (!stopped.ok()) std::fprintf(err, "rlpipe: %s\n", stopped.failure().message.c_str());
      stop_deadline = Clock::now() + options.stop_wait;
    }
    auto described = sagemaker.CallJson("DescribeHyperParameterTuningJob",
                                        {{"HyperParameterTuningJobName", name}});
    bool changed = false;
    if (!described.ok()) {
      if (!described.retryable()) platform::ValueOrThrow(std::move(described));
      std::fprintf(err, "rlpipe: %s (will keep polling)\n", described.failure().message.c_str());
    } else {
      tuning = described.value();
      const std::string status = tuning.value("HyperParameterTuningJobStatus", "");
      const std::string line = status + ": " + Progress(tuning);
      if (line != last_line) {
        std::fprintf(out, "tune: %s %s\n", name.c_str(), line.c_str());
        std::fflush(out);
        last_line = line;
        changed = true;
      }
      if (IsFinal(status)) break;
    }
    if (stop_deadline && Clock::now() > *stop_deadline) {
      throw Error("SageMaker tuning job " + name + " did not stop within " +
                  std::to_string(options.stop_wait.count()) + " s");
    }
    delay = changed ? options.poll_min : std::min(delay * 2, options.poll_max);
    SleepUnlessStopped(delay, stop_deadline.has_value());
  }

  // Results: every training job, grouped by its tuned values (a grid's seeds become one trial).
  std::vector<json> summaries;
  for (std::string token;;) {
    json input = {{"HyperParameterTuningJobName", name}, {"MaxResults", 100}};
    if (!token.empty()) input["NextToken"] = token;
    const json page = platform::ValueOrThrow(
        sagemaker.CallJson("ListTrainingJobsForHyperParameterTuningJob", input));
    for (const json& s : page.value("TrainingJobSummaries", json::array())) summaries.push_back(s);
    token = page.value("NextToken", "");
    if (token.empty()) break;
  }
  StudyState state;
  state.pipeline_file = pipeline.file.string();
  state.space_file = fs::absolute(tune.space_file).string();
  state.metric = space.metric;
  state.metric_session = plan.session;
  state.direction = space.direction;
  state.strategy = ToString(space.strategy);
  state.seeds = tune.seeds;
  std::vector<Trial> trials;
  std::map<std::string, std::string> trial_of_values;  // tuned values → trial id
  std::map<std::string, int> seeds_used;               // trial id → runs so far
  std::stable_sort(summaries.begin(), summaries.end(), [](const json& a, const json& b) {
    return a.value("TrainingJobName", "") < b.value("TrainingJobName", "");
  });
  for (const json& s : summaries) {
    const json tuned = s.value("TunedHyperParameters", json::object());
    json key = tuned;
    key.erase("rlpipe_seed");
    const std::string values = key.dump();
    if (!trial_of_values.contains(values)) {
      char id[32];
      std::snprintf(id, sizeof(id), "t%03zu", trials.size());
      trial_of_values[values] = id;
      trials.push_back(TrialOf(space, tuned, id));
      TrialRecord record;
      record.id = id;
      for (const auto& [k, v] : trials.back().values) record.params.emplace_back(k, ValueText(v));
      state.trials.push_back(record);
    }
    RunRecord run;
    run.trial = trial_of_values[values];
    run.seed_index = seeds_used[run.trial]++;
    run.dir = s.value("TrainingJobName", "");
    const std::string job_status = s.value("TrainingJobStatus", "");
    run.status = job_status == "Completed" ? RunStatus::kCompleted
                 : job_status == "Failed"  ? RunStatus::kFailed
                 : job_status == "Stopped" ? RunStatus::kInterrupted
                                           : RunStatus::kRunning;
    const json metric = s.value("FinalHyperParameterTuningJobObjectiveMetric", json::object());
    if (metric.contains("Value") && metric["Value"].is_number()) {
      run.metric = metric["Value"].get<double>();
    }
    state.runs.push_back(run);
  }
  state.seeds = std::max(1, state.seeds);
  for (const auto& [trial, count] : seeds_used) state.seeds = std::max(state.seeds, count);
  StudyPlan study_plan;
  study_plan.pipeline = pipeline;
  study_plan.space = space;
  study_plan.trials = trials;
  study_plan.metric_session = plan.session;
  SaveStudy(dir / kStudyFile, state);
  WriteResults(study_plan, state, dir, out);

  // The best training job's model.
  if (tuning.contains("BestTrainingJob")) {
    const std::string best = tuning["BestTrainingJob"].value("TrainingJobName", "");
    const json job = platform::ValueOrThrow(
        sagemaker.CallJson("DescribeTrainingJob", {{"TrainingJobName", best}}));
    const std::string artifacts =
        job.value("ModelArtifacts", json::object()).value("S3ModelArtifacts", "");
    if (!artifacts.empty()) {
      const fs::path model_dir = dir / "best_model";
      fs::create_directories(model_dir);
      OpenCheckpointStore(artifacts, storage)->GetFile(artifacts, model_dir / "model.tar.gz");
      const bool extracted = ExtractTarGz(model_dir / "model.tar.gz", model_dir);
      std::fprintf(out, "best training job %s: model %s %s\n", best.c_str(),
                   extracted ? "extracted into" : "downloaded to (tar failed, not extracted)",
                   model_dir.c_str());
    }
  }
  const std::string status = tuning.value("HyperParameterTuningJobStatus", "");
  if (pipeline::StopSignal() != 0) return 128 + pipeline::StopSignal();
  return status == "Completed" ? 0 : 1;
}

}  // namespace rlpipe::tune
