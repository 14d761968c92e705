#include "platform/container_entrypoint.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <nlohmann/json.hpp>

#include "algos/replay_segments.h"
#include "config/experiment_config.h"
#include "config/pipeline_config.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "envs/env.h"
#include "pipeline/run_mirror.h"
#include "pipeline/session_training.h"
#include "pipeline/stop_signal.h"
#include "platform/hyperparameters.h"
#include "platform/sagemaker_metrics.h"

namespace rlpipe::platform {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kSageMakerRoot[] = "/opt/ml";

/// One log line to the console (CloudWatch inside SageMaker).
void Log(std::FILE* out, const std::string& line) {
  std::fprintf(out, "%s %s\n", NowIso8601().c_str(), line.c_str());
  std::fflush(out);
}

/// One `[rlpipe-metric] name=value` line, skipping values SageMaker cannot store.
void Metric(std::FILE* out, std::string_view name, double value) {
  if (!std::isfinite(value)) return;
  std::fprintf(out, "%s\n", FormatMetricLine(name, value).c_str());
  std::fflush(out);
}

json ReadJsonFile(const fs::path& path) {
  if (!fs::exists(path)) {
    throw ConfigError(path.string() + ": missing (SageMaker writes it before starting `train`)");
  }
  try {
    return json::parse(ReadFile(path));
  } catch (const json::parse_error& e) {
    throw ConfigError(path.string() + ": not valid JSON: " + e.what());
  }
}

/// resourceconfig.json: one host, naming itself.
void CheckResourceConfig(const fs::path& path, std::FILE* out) {
  const json doc = ReadJsonFile(path);
  if (!doc.is_object() || !doc.contains("current_host") || !doc["current_host"].is_string()) {
    throw ConfigError(path.string() + ": current_host: expected a string");
  }
  if (!doc.contains("hosts") || !doc["hosts"].is_array() || doc["hosts"].empty()) {
    throw ConfigError(path.string() + ": hosts: expected a non-empty list of host names");
  }
  const std::string current = doc["current_host"];
  if (doc["hosts"].size() > 1) {
    throw ConfigError(path.string() + ": hosts: " + std::to_string(doc["hosts"].size()) +
                      " hosts, but a session trains on one instance (set instance_count: 1)");
  }
  if (doc["hosts"][0] != current) {
    throw ConfigError(path.string() + ": current_host '" + current + "' is not in hosts");
  }
  Log(out, "host " + current);
}

/// checkpointconfig.json's LocalPath (rebased under `root` when it names /opt/ml/...), or
/// root/checkpoints when the job has no CheckpointConfig.
fs::path CheckpointsDir(const ContainerPaths& paths, std::FILE* out) {
  const fs::path file = paths.checkpoint_config();
  if (!fs::exists(file)) {
    Log(out, "no " + file.string() + ": checkpoints stay local (the job has no CheckpointConfig)");
    return paths.root / "checkpoints";
  }
  const json doc = ReadJsonFile(file);
  if (!doc.is_object() || !doc.contains("LocalPath") || !doc["LocalPath"].is_string() ||
      doc["LocalPath"].get<std::string>().empty()) {
    throw ConfigError(file.string() + ": LocalPath: expected a non-empty string");
  }
  const fs::path local = doc["LocalPath"].get<std::string>();
  if (!local.is_absolute()) {
    throw ConfigError(file.string() + ": LocalPath: expected an absolute path, found '" +
                      local.string() + "'");
  }
  const fs::path rel = local.lexically_relative(kSageMakerRoot);
  if (!rel.empty() && *rel.begin() != "..") return paths.root / rel;
  return local;
}

/// Number of steps in "rl_model_<n>_steps.zip", or -1.
int64_t StepsOf(const std::string& name) {
  constexpr std::string_view kPrefix = "rl_model_", kSuffix = "_steps.zip";
  if (name.size() <= kPrefix.size() + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return -1;
  }
  const std::string digits =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoll(digits);
}

/// model/report.json: what the orchestrator records in the pipeline state.
std::string ReportJson(const SessionJobInput& input, const std::string& status,
                       const pipeline::SessionTrainingOutcome& outcome,
                       const std::optional<fs::path>& resumed_from, const std::string& error) {
  const algos::TrainingResult& r = outcome.result;
  auto number = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json doc = {{"format", "rlpipe.session-report.v1"},
              {"pipeline", input.pipeline_name},
              {"session", input.session_name},
              {"status", status},
              {"timesteps", r.timesteps},
              {"episodes", r.episodes},
              {"best_mean_return", number(r.best_mean_return)},
              {"final_mean_return", number(r.final_mean_return)},
              {"duration_seconds", outcome.duration_seconds},
              {"model", r.best_model ? "best_model.zip" : "final_model.zip"},
              {"input_checkpoint", input.input_checkpoint_uri},
              {"resumed_from", resumed_from ? json(resumed_from->filename().string()) : json()},
              {"finished_at", NowIso8601()}};
  if (!error.empty()) doc["error"] = error;
  return doc.dump(2) + "\n";
}

/// Downloads the model to start from. A session without evaluations has no best_model.zip: then
/// the final_model.zip beside it is the one handed on (as locally).
void DownloadInputModel(const std::string& uri, const fs::path& local,
                        const StorageOptions& storage, std::FILE* out) {
  Log(out, "downloading the input model " + uri);
  auto store = OpenCheckpointStore(uri, storage);
  constexpr std::string_view kBest = "best_model.zip";
  if (uri.ends_with(kBest) && !store->Exists(uri)) {
    const std::string final_uri = uri.substr(0, uri.size() - kBest.size()) + "final_model.zip";
    if (store->Exists(final_uri)) {
      Log(out, "no best model (no evaluation ran): using " + final_uri);
      store->GetFile(final_uri, local);
      return;
    }
  }
  store->GetFile(uri, local);
}

/// The body of `train` once the root is known; throws for any failure.
int Train(const ContainerPaths& paths, const ContainerOptions& options) {
  std::FILE* out = options.out;

  // The three files SageMaker writes.
  const SessionJobInput input = DecodeHyperParameters(ReadJsonFile(paths.hyperparameters()),
                                                      paths.hyperparameters().string());
  CheckResourceConfig(paths.resource_config(), out);
  const fs::path checkpoints_dir = CheckpointsDir(paths, out);
  Log(out, "session '" + input.session_name + "' of pipeline '" + input.pipeline_name + "', seed " +
               std::to_string(input.seed) + ", checkpoints in " + checkpoints_dir.string());

  // The session's config, checked as strictly as on a workstation.
  // A tuning job's values (rlpipe_set_<key path>) go over it as `--set` would.
  config::Tree tree = config::ParseYaml(input.resolved_config_yaml,
                                        paths.hyperparameters().string() + " (rlpipe_config)");
  for (const auto& [key, value] : input.overrides) {
    config::SetPath(tree, key, value);
    Log(out, "override " + key + " = " + value);
  }
  config::ExperimentConfig experiment = config::ParseExperimentConfig(tree);
  envs::ValidateEnvironment(experiment.environment);
  fs::create_directories(paths.model_dir());
  fs::create_directories(checkpoints_dir);
  WriteFileAtomic(paths.model_dir() / "training_config.yaml",
                  input.overrides.empty() ? input.resolved_config_yaml : tree.ToYaml());

  // A checkpoint already here is a restart (spot): continue from it. Else start from the input
  // model, if any.
  const std::optional<fs::path> resume = FindResumeCheckpoint(checkpoints_dir);
  std::optional<fs::path> init;
  if (resume) {
    Log(out, "restart: resuming from " + resume->string());
  } else if (!input.input_checkpoint_uri.empty()) {
    init = paths.work_dir() / "input_model.zip";
    DownloadInputModel(input.input_checkpoint_uri, *init, options.storage, out);
  }

  // Train, with metric lines for SageMaker and a `latest` pointer after each checkpoint.
  std::optional<double> best;
  pipeline::SessionTrainingRequest request;
  request.session_name = input.session_name;
  request.experiment = experiment;
  request.seed = input.seed;
  request.init_checkpoint = init;
  if (init) {
    // The session's `transfer:` settings, and its report beside the models (fetched back).
    if (!input.transfer_json.empty()) {
      const config::Tree transfer = config::ParseYaml(
          input.transfer_json, paths.hyperparameters().string() + " (rlpipe_transfer)");
      request.transfer = config::ParseTransferConfig(&transfer, "transfer");
    }
    request.transfer_report = paths.model_dir() / kTransferReportFile;
  }
  request.resume_checkpoint = resume;
  request.models_dir = paths.model_dir();
  request.checkpoints_dir = checkpoints_dir;
  request.keep_all_checkpoints = input.save_all_checkpoints;
  request.logs_dir = paths.model_dir();
  request.tensorboard_dir = paths.model_dir() / "runs";
  request.console = out;
  request.stop_requested = [] { return pipeline::StopSignal() != 0; };
  request.on_message = [&](const std::string& m) { Log(out, "[" + input.session_name + "] " + m); };
  request.on_checkpoint = [&](const fs::path& path, int64_t) {
    WriteFileAtomic(checkpoints_dir / kLatestPointer, path.filename().string() + "\n");
  };
  request.on_progress = [&](const algos::ProgressEvent& e) {
    Metric(out, "timesteps", static_cast<double>(e.timesteps));
    Metric(out, "episodes", static_cast<double>(e.episodes));
    Metric(out, "fps", e.steps_per_second);
    if (e.mean_episode_return) Metric(out, "episode_reward_mean", *e.mean_episode_return);
    if (e.mean_episode_length) Metric(out, "episode_length_mean", *e.mean_episode_length);
    for (const auto& [name, value] : e.losses) {
      if (IsSageMakerMetric(name)) Metric(out, name, value);
    }
  };
  request.on_eval = [&](const algos::EvalEvent& e) {
    if (!best || e.mean_return > *best) best = e.mean_return;
    Metric(out, "eval_mean_reward", e.mean_return);
    Metric(out, "eval_std_reward", e.std_return);
    Metric(out, "eval_mean_length", e.mean_length);
    Metric(out, "best_mean_reward", *best);
  };
  const pipeline::SessionTrainingOutcome outcome = pipeline::TrainSession(request);
  if (outcome.error) throw TrainingError(*outcome.error);

  // SIGTERM (spot interruption or StopTrainingJob): the checkpoint is saved; exit at once.
  if (outcome.result.interrupted) {
    const int signal_number = pipeline::StopSignal() != 0 ? pipeline::StopSignal() : SIGTERM;
    Log(out,
        "stopped by signal " + std::to_string(signal_number) + " at " +
            std::to_string(outcome.result.timesteps) + " steps; checkpoint " +
            (outcome.result.interrupt_checkpoint ? outcome.result.interrupt_checkpoint->string()
                                                 : std::string("none")));
    return 128 + signal_number;
  }

  // Success criteria, the report, then the models to the run's S3 folder.
  config::SuccessCriteria criteria;
  criteria.min_reward = input.min_reward;
  criteria.min_episodes = input.min_episodes;
  const std::vector<std::string> unmet = pipeline::UnmetCriteria(criteria, outcome.result);
  std::string why;
  for (const auto& u : unmet) why += (why.empty() ? "" : "; ") + u;
  if (!why.empty()) why = "success criteria not met: " + why;
  WriteFileAtomic(
      paths.model_dir() / kSessionReportFile,
      ReportJson(input, unmet.empty() ? "completed" : "failed_criteria", outcome, resume, why));
  if (!input.run_uri.empty()) {
    pipeline::RunMirror mirror(OpenCheckpointStore(input.run_uri, options.storage), input.run_uri);
    mirror.PutSessionModels(input.session_name, paths.model_dir(), paths.model_dir() / "runs");
    Log(out, "models uploaded to " + mirror.Uri(pipeline::CheckpointsEntry(input.session_name)));
  }
  if (!unmet.empty()) throw TrainingError(why);
  Log(out, "session '" + input.session_name + "' completed: " +
               std::to_string(outcome.result.timesteps) + " steps, best mean eval return " +
               pipeline::FormatReturn(outcome.result.best_mean_return));
  return kTrainExitOk;
}

}  // namespace

fs::path ResolveContainerRoot(const EnvLookup& env) {
  const std::optional<std::string> root = env("RLPIPE_SM_ROOT");
  return root && !root->empty() ? fs::path(*root) : fs::path(kDefaultContainerRoot);
}

std::string FailureReason(std::string_view message) {
  std::string line(message);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (line.size() <= kMaxFailureReasonBytes) return line;
  // Cut on a character boundary (never inside a UTF-8 sequence), leaving room for "...".
  size_t cut = kMaxFailureReasonBytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  return line.substr(0, cut) + "...";
}

std::optional<fs::path> FindResumeCheckpoint(const fs::path& checkpoints_dir) {
  if (!fs::is_directory(checkpoints_dir)) return std::nullopt;
  // The pointer, written after its checkpoint was complete.
  const fs::path pointer = checkpoints_dir / kLatestPointer;
  if (fs::exists(pointer)) {
    std::string name = ReadFile(pointer);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    const fs::path path = checkpoints_dir / name;
    if (StepsOf(name) < 0 || !fs::exists(path)) {
      throw IoError(pointer.string() + " names '" + name +
                    "', which is not a checkpoint in that folder");
    }
    // Its replay segments (SAC/TD3) may not all have been synced: then an older one.
    if (algos::CheckpointSegmentsPresent(path)) return path;
  }
  // No pointer (an older sync), or its checkpoint incomplete: the complete checkpoint with the
  // most steps.
  std::optional<fs::path> newest;
  int64_t newest_steps = -1;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    const int64_t steps = StepsOf(entry.path().filename().string());
    if (entry.is_regular_file() && steps > newest_steps &&
        algos::CheckpointSegmentsPresent(entry.path())) {
      newest_steps = steps;
      newest = entry.path();
    }
  }
  return newest;
}

int RunContainerTraining(const ContainerOptions& options) {
  ContainerPaths paths;
  paths.root = options.root.empty() ? ResolveContainerRoot(ProcessEnvironment()) : options.root;
  pipeline::InstallStopHandlers();
  try {
    return Train(paths, options);
  } catch (const std::exception& e) {
    // The reason SageMaker shows as FailureReason; the full message goes to the log.
    std::fprintf(stderr, "rlpipe train: error: %s\n", e.what());
    try {
      WriteFileAtomic(paths.failure_file(), FailureReason(e.what()));
    } catch (const std::exception& write_error) {
      std::fprintf(stderr, "rlpipe train: cannot write %s: %s\n", paths.failure_file().c_str(),
                   write_error.what());
    }
    return kTrainExitFailed;
  }
}

}  // namespace rlpipe::platform
