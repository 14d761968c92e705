#include "tune/local_study.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "pipeline/stop_signal.h"
#include "tune/tune_report.h"
#include "tune/variant.h"

namespace rlpipe::tune {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kStudyLockFile[] = ".tune.lock";
/// The lock file `rlpipe run` holds on its output folder (pipeline/runner.cc).
constexpr char kRunLockFile[] = ".rlpipe.lock";
/// How long a run's folder may stay locked by a previous child that is still shutting down.
constexpr double kRunLockWaitSeconds = 60.0;

std::string RunDirName(const std::string& trial, int seed_index) {
  return std::string(kTrialsDir) + "/" + trial + "-s" + std::to_string(seed_index);
}

// The study's identity: a change to any of these makes the recorded runs mean something else.
std::string StudyFingerprint(const TuneOptions& options, const SearchSpace& space,
                             const config::PipelineConfig& pipeline, size_t trial_count) {
  std::string text = "space:\n" + space.tree.ToYaml();
  text += "pipeline:\n" + ReadFile(pipeline.file);
  for (const auto& s : pipeline.sessions) text += "session-config:\n" + ReadFile(s.config);
  text += "seeds: " + std::to_string(options.seeds) + "\n";
  text += "trials: " + std::to_string(trial_count) + "\n";
  return Sha256Hex(text).substr(0, 16);
}

// The space's figure for `session` from a run's pipeline_report.json (nullopt when absent).
std::optional<double> ReadRunMetric(const fs::path& run_dir, const std::string& session,
                                    const std::string& metric) {
  const fs::path report = run_dir / "pipeline_report.json";
  if (!fs::exists(report)) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(ReadFile(report), nullptr, false);
  if (j.is_discarded() || !j.contains("sessions")) return std::nullopt;
  for (const auto& s : j["sessions"]) {
    if (s.value("name", "") != session) continue;
    if (s.contains(metric) && s[metric].is_number()) return s[metric].get<double>();
  }
  return std::nullopt;
}

RunStatus StatusOfExit(int exit_code) {
  if (exit_code == 0) return RunStatus::kCompleted;
  // SIGINT / SIGTERM (checkpointed) or killed outright: resumable.
  if (exit_code == 128 + SIGINT || exit_code == 128 + SIGTERM || exit_code == 128 + SIGKILL) {
    return RunStatus::kInterrupted;
  }
  return RunStatus::kFailed;
}

int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits until no process holds the run folder's lock (a child of a killed study may still be
// writing its interrupt checkpoint after its parent died).
void WaitForRunLock(const fs::path& run_dir) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(kRunLockWaitSeconds);
  while (true) {
    {
      FileLock lock;
      if (!fs::exists(run_dir / kRunLockFile) || lock.TryLock(run_dir / kRunLockFile)) return;
    }
    if (Clock::now() > deadline) {
      throw IoError("another process still holds " + (run_dir / kRunLockFile).string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Starts `binary run …` for one run in its own process group (so a terminal's Ctrl-C reaches
// only the study, which forwards it once), dying with the study (PDEATHSIG: SIGTERM makes it
// checkpoint), with its console in the run folder and the thread budget in its environment.
pid_t SpawnRun(const fs::path& binary, const fs::path& run_dir, bool resume, int threads) {
  std::vector<std::string> args{binary.string(), "run", "--config",
                                (run_dir / kRunPipelineFile).string(), "--output-dir",
                                run_dir.string()};
  if (resume) args.push_back("--resume");
  const std::string log = (run_dir / kRunConsoleFile).string();
  const std::string budget = std::to_string(threads);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw IoError("fork failed for " + run_dir.string());
  if (pid > 0) return pid;
  // Child: only async-signal-safe calls from here to exec.
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(128 + SIGTERM);
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
  }
  // The children's math libraries get the budget too (LibTorch's intra-op threads are set by the
  // training loop, 1 by default).
  for (const char* name : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                           "RLPIPE_TUNE_THREADS"}) {
    setenv(name, budget.c_str(), 1);
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

const Trial& FindTrial(const std::vector<Trial>& trials, const std::string& id) {
  for (const Trial& t : trials) {
    if (t.id == id) return t;
  }
  throw IoError("study.json names an unknown trial '" + id + "'");
}

std::vector<std::pair<std::string, std::string>> ParamsText(const Trial& trial) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [key, value] : trial.values) params.emplace_back(key, ValueText(value));
  return params;
}

// A fresh state for the plan: every trial × seed pending.
StudyState NewStudy(const TuneOptions& options, const StudyPlan& plan) {
  StudyState state;
  state.fingerprint = plan.fingerprint;
  state.pipeline_file = plan.pipeline.file.string();
  state.space_file = fs::absolute(options.space_file).string();
  state.metric = plan.space.metric;
  state.metric_session = plan.metric_session;
  state.direction = plan.space.direction;
  state.strategy = ToString(plan.space.strategy);
  state.seeds = options.seeds;
  state.started_at = NowIso8601();
  for (const Trial& trial : plan.trials) {
    state.trials.push_back({trial.id, ParamsText(trial)});
    for (int s = 0; s < options.seeds; ++s) {
      RunRecord run;
      run.trial = trial.id;
      run.seed_index = s;
      run.seed = plan.pipeline.seed + static_cast<uint64_t>(s);
      run.dir = RunDirName(trial.id, s);
      state.runs.push_back(std::move(run));
    }
  }
  return state;
}

// --resume --force over a changed study: runs whose trial values and seed are unchanged are kept;
// the folders of the others are moved aside (never deleted).
StudyState MergeChangedStudy(const StudyState& old, StudyState fresh, const fs::path& out_dir) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> old_params;
  for (const TrialRecord& t : old.trials) old_params[t.id] = t.params;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> new_params;
  for (const TrialRecord& t : fresh.trials) new_params[t.id] = t.params;
  std::vector<std::string> kept;
  for (RunRecord& run : fresh.runs) {
    for (const RunRecord& previous : old.runs) {
      if (previous.dir == run.dir && previous.seed == run.seed &&
          old_params[previous.trial] == new_params[run.trial]) {
        run = previous;
        kept.push_back(run.dir);
      }
    }
  }
  for (const RunRecord& previous : old.runs) {
    const fs::path dir = out_dir / previous.dir;
    if (std::find(kept.begin(), kept.end(), previous.dir) == kept.end() && fs::exists(dir)) {
      fs::path aside = dir;
      aside += ".replaced-" + std::to_string(std::time(nullptr));
      fs::rename(dir, aside);
    }
  }
  fresh.started_at = old.started_at;
  return fresh;
}

}  // namespace

int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int ThreadBudget(int cores, int parallel) { return std::max(1, cores / std::max(1, parallel)); }

StudyPlan PlanStudy(const TuneOptions& options) {
  // Flags first: each a one-line error.
  if (options.parallel < 1) {
    throw ConfigError("--parallel " + std::to_string(options.parallel) + ": expected >= 1");
  }
  if (options.seeds < 1) {
    throw ConfigError("--seeds " + std::to_string(options.seeds) + ": expected >= 1");
  }
  if (options.trials && *options.trials < 1) {
    throw ConfigError("--trials " + std::to_string(*options.trials) + ": expected >= 1");
  }
  StudyPlan plan;
  plan.space = LoadSearchSpace(options.space_file);
  plan.pipeline = config::LoadPipeline(options.config_file);
  const config::SourceLoc strategy_loc = config::MapReader(&plan.space.tree, "").LocOf("strategy");

  // The trials the strategy asks for.
  switch (plan.space.strategy) {
    case Strategy::kGrid:
      plan.trials = ExpandGrid(plan.space);
      if (options.trials && static_cast<size_t>(*options.trials) < plan.trials.size()) {
        plan.trials.resize(static_cast<size_t>(*options.trials));
      }
      break;
    case Strategy::kRandom:
      if (!options.trials) {
        config::FailAt(strategy_loc, "strategy", "random needs --trials N");
      }
      plan.trials = SampleRandom(plan.space, *options.trials,
                                 plan.space.seed.value_or(plan.pipeline.seed));
      break;
    case Strategy::kBayesian:
      config::FailAt(strategy_loc, "strategy",
                     "bayesian runs only as a SageMaker tuning job (--platform sagemaker); "
                     "use grid or random here");
  }
  if (plan.space.early_stopping != EarlyStopping::kOff) {
    config::FailAt(config::MapReader(&plan.space.tree, "").LocOf("early_stopping"),
                   "early_stopping",
                   "median early stopping runs only as a SageMaker tuning job for now "
                   "(--platform sagemaker); remove it for a local study");
  }
  CheckReportMetric(plan.space);
  ValidateStudy(plan.pipeline, plan.space, plan.trials);
  plan.metric_session = MetricSession(plan.pipeline, plan.space);
  plan.fingerprint = StudyFingerprint(options, plan.space, plan.pipeline, plan.trials.size());
  return plan;
}

void WriteResults(const StudyPlan& plan, const StudyState& state, const fs::path& output_dir,
                  std::FILE* out) {
  const std::vector<TrialResult> results = RankTrials(state);
  WriteFileAtomic(output_dir / kResultsCsvFile, ResultsCsv(state, results));
  WriteFileAtomic(output_dir / kResultsJsonFile, ResultsJson(state, results));
  std::fprintf(out, "\n%s", ResultsTable(state, results).c_str());
  if (!results.empty() && results.front().rank == 1) {
    const Trial& best = FindTrial(plan.trials, results.front().trial);
    const config::Tree variant = VariantPipeline(plan.pipeline, plan.space, best,
                                                 plan.pipeline.seed);
    WriteFileAtomic(output_dir / kBestPipelineFile,
                    "# rlpipe tune: the best trial (" + best.id + ") of " +
                        state.pipeline_file + "\n" + variant.ToYaml());
    std::fprintf(out, "best: %s (%s %s = %g); its pipeline: %s\n", best.id.c_str(),
                 state.metric_session.c_str(), state.metric.c_str(), *results.front().mean,
                 (output_dir / kBestPipelineFile).c_str());
  }
  const fs::path report = WriteTuneReport(state, output_dir);
  std::fprintf(out, "results: %s, %s, %s\n", (output_dir / kResultsCsvFile).c_str(),
               (output_dir / kResultsJsonFile).c_str(), report.c_str());
}

int RunLocalStudy(const TuneOptions& options, std::FILE* out) {
  const StudyPlan plan = PlanStudy(options);
  const fs::path dir = options.output_dir;
  const fs::path study_path = dir / kStudyFile;
  const int cores = options.cores > 0 ? options.cores : AvailableCores();
  const int threads = ThreadBudget(cores, options.parallel);
  const int runs_total = static_cast<int>(plan.trials.size()) * options.seeds;

  if (options.dry_run) {
    std::fprintf(out, "study: %zu trials x %d seeds = %d runs, %d at once, %d thread(s) each\n",
                 plan.trials.size(), options.seeds, runs_total, options.parallel, threads);
    for (const Trial& trial : plan.trials) {
      std::string params;
      for (const auto& [key, value] : trial.values) {
        params += (params.empty() ? "" : " ") + key + "=" + ValueText(value);
      }
      std::fprintf(out, "  %s  %s\n", trial.id.c_str(), params.c_str());
    }
    return 0;
  }

  // The study folder: one study, one process.
  StudyState state = NewStudy(options, plan);
  if (fs::exists(study_path)) {
    if (!options.resume) {
      throw ConfigError(dir.string() + " already holds a study (" + study_path.string() +
                        "); use --resume to continue it, or another --output-dir");
    }
    const StudyState old = LoadStudy(study_path);
    if (old.fingerprint != plan.fingerprint) {
      if (!options.force) {
        throw ConfigError(study_path.string() +
                          " was made for another space, pipeline, --seeds or --trials; "
                          "use --force to keep the runs that still match, or another "
                          "--output-dir");
      }
      state = MergeChangedStudy(old, std::move(state), dir);
    } else {
      state = old;
    }
  }
  fs::create_directories(dir / kTrialsDir);
  FileLock study_lock;
  if (!study_lock.TryLock(dir / kStudyLockFile)) {
    throw ConfigError("another rlpipe tune is running on " + dir.string());
  }
  if (options.parallel > cores) {
    std::fprintf(out,
                 "warning: --parallel %d is more than the %d core(s) here: the runs will share "
                 "cores\n",
                 options.parallel, cores);
  }
  SaveStudy(study_path, state);
  const fs::path binary =
      options.rlpipe_binary.empty() ? fs::read_symlink("/proc/self/exe") : options.rlpipe_binary;

  // What is left: everything not finished (completed or failed) in study order.
  std::vector<size_t> queue;
  int finished = 0;
  for (size_t i = 0; i < state.runs.size(); ++i) {
    const RunStatus s = state.runs[i].status;
    if (s == RunStatus::kCompleted || s == RunStatus::kFailed) {
      ++finished;
    } else {
      queue.push_back(i);
    }
  }
  std::fprintf(out,
               "tune: %zu trials x %d seeds = %d runs (%d already finished), %d at once, %d "
               "thread(s) each, in %s\n",
               plan.trials.size(), options.seeds, runs_total, finished, options.parallel,
               threads, dir.c_str());
  std::fflush(out);

  // The scheduler: keep `parallel` children running, collect them as they end.
  pipeline::InstallStopHandlers();
  struct Child {
    size_t run;
    Clock::time_point started;
  };
  std::map<pid_t, Child> children;
  size_t next = 0;
  int forwarded = 0;
  bool any_failed = false;
  while (next < queue.size() || !children.empty()) {
    const int stop = pipeline::StopSignal();
    if (stop != 0 && forwarded == 0) {
      // Ctrl-C / SIGTERM: each child checkpoints and stops; no new child starts.
      forwarded = stop;
      std::fprintf(out, "tune: stopping %zu run(s) (signal %d); resume with --resume\n",
                   children.size(), stop);
      std::fflush(out);
      for (const auto& [pid, child] : children) kill(pid, stop);
    }
    // Start runs while there is room.
    while (forwarded == 0 && next < queue.size() &&
           static_cast<int>(children.size()) < options.parallel) {
      RunRecord& run = state.runs[queue[next++]];
      const fs::path run_dir = dir / run.dir;
      fs::create_directories(run_dir);
      WaitForRunLock(run_dir);
      const Trial& trial = FindTrial(plan.trials, run.trial);
      WriteFileAtomic(run_dir / kRunPipelineFile,
                      VariantPipeline(plan.pipeline, plan.space, trial, run.seed).ToYaml());
      const bool resume = fs::exists(run_dir / "pipeline_state.json");
      const pid_t pid = SpawnRun(binary, run_dir, resume, threads);
      children[pid] = {static_cast<size_t>(&run - state.runs.data()), Clock::now()};
      run.status = RunStatus::kRunning;
      run.attempts++;
      run.threads = threads;
      if (!run.started_at) run.started_at = NowIso8601();
      SaveStudy(study_path, state);
      std::fprintf(out, "tune: start  %s%s (pid %d)\n", run.dir.c_str(),
                   resume ? " --resume" : "", static_cast<int>(pid));
      std::fflush(out);
    }
    // Collect ended children; poll so a signal is seen promptly.
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = children.find(pid);
    if (it == children.end()) continue;
    RunRecord& run = state.runs[it->second.run];
    const int code = ExitCodeOf(status);
    run.exit_code = code;
    run.status = StatusOfExit(code);
    run.duration_seconds +=
        std::chrono::duration<double>(Clock::now() - it->second.started).count();
    run.metric = ReadRunMetric(dir / run.dir, plan.metric_session, plan.space.metric);
    if (run.status == RunStatus::kCompleted || run.status == RunStatus::kFailed) {
      run.finished_at = NowIso8601();
      ++finished;
    }
    any_failed = any_failed || run.status == RunStatus::kFailed;
    children.erase(it);
    SaveStudy(study_path, state);
    const std::string metric =
        run.metric ? plan.space.metric + "=" + std::to_string(*run.metric) : "no metric";
    std::fprintf(out, "tune: %-11s %s (exit %d, %s, %.1f s) [%d/%d finished]\n",
                 ToString(run.status).c_str(), run.dir.c_str(), code, metric.c_str(),
                 run.duration_seconds, finished, runs_total);
    std::fflush(out);
  }

  WriteResults(plan, state, dir, out);
  if (forwarded != 0) return 128 + forwarded;
  return any_failed ? kExitRunFailed : 0;
}

}  // namespace rlpipe::tune
