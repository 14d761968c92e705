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
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "pipeline/stop_signal.h"
#include "tune/early_stopping.h"
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
  std::vector<std::string> args{binary.string(), "run",
                                "--config",      (run_dir / kRunPipelineFile).string(),
                                "--output-dir",  run_dir.string()};
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
  for (const char* name :
       {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RLPIPE_TUNE_THREADS"}) {
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

/// How often the study reads the running children's evaluations for median early stopping (and
/// at once whenever a child ends, before the next run starts).
constexpr int kJudgeIntervalMs = 200;

// Completed, failed and stopped runs are final: --resume does not run them again.
bool IsFinal(RunStatus status) {
  return status == RunStatus::kCompleted || status == RunStatus::kFailed ||
         status == RunStatus::kStopped;
}

// The evaluations of every run of the study (its metric session's logs/evaluations.csv), read
// once for runs that are not running and again for running ones, for median early stopping.
class EvalWatch {
 public:
  EvalWatch(fs::path dir, std::string session, const StudyState& state)
      : dir_(std::move(dir)),
        session_(std::move(session)),
        points_(state.runs.size()),
        final_steps_(state.runs.size(), kUnknownSteps) {
    for (size_t i = 0; i < state.runs.size(); ++i) Refresh(state, i);
  }

  // Re-reads run `index`'s evaluations.
  void Refresh(const StudyState& state, size_t index) {
    const fs::path session_dir = dir_ / state.runs[index].dir / session_;
    points_[index] = ReadEvalPoints(session_dir / "logs" / "evaluations.csv");
    // The run's length, from the config its session wrote when it started.
    if (final_steps_[index] == kUnknownSteps && fs::exists(session_dir / "training_config.yaml")) {
      try {
        const config::Tree config = config::LoadYamlFile(session_dir / "training_config.yaml");
        const config::Tree* training = config.Find("training");
        const config::Tree* total = training ? training->Find("total_timesteps") : nullptr;
        if (total) final_steps_[index] = std::stoll(total->scalar);
      } catch (const std::exception&) {
        // Not readable yet: the next refresh tries again.
      }
    }
  }

  // The trials not stopped yet, with a run still to finish, that fail the median rule now.
  std::vector<std::pair<std::string, StopDecision>> Judge(const StudyState& state,
                                                          Direction direction) const {
    std::map<std::string, std::vector<EvalPoints>> runs_by_trial;
    for (size_t i = 0; i < state.runs.size(); ++i) {
      runs_by_trial[state.runs[i].trial].push_back(points_[i]);
    }
    const std::map<std::string, TrialCurve> curves = TrialCurves(runs_by_trial);
    std::vector<std::pair<std::string, StopDecision>> stops;
    for (const TrialRecord& trial : state.trials) {
      if (trial.early_stop) continue;
      const bool unfinished = std::any_of(state.runs.begin(), state.runs.end(), [&](const auto& r) {
        return r.trial == trial.id && !IsFinal(r.status);
      });
      if (!unfinished) continue;
      int64_t final_step = kUnknownSteps;  // the trial's length: its runs' shortest
      for (size_t i = 0; i < state.runs.size(); ++i) {
        if (state.runs[i].trial == trial.id) final_step = std::min(final_step, final_steps_[i]);
      }
      if (auto decision = JudgeMedian(trial.id, curves, direction, final_step)) {
        stops.emplace_back(trial.id, *decision);
      }
    }
    return stops;
  }

 private:
  fs::path dir_;
  std::string session_;
  static constexpr int64_t kUnknownSteps = std::numeric_limits<int64_t>::max();
  std::vector<EvalPoints> points_;    // by run index
  std::vector<int64_t> final_steps_;  // by run index: training.total_timesteps
};

// A trial early stopping decided to stop, whose runs all completed or failed before the signal
// reached them, was not stopped after all: its decision is dropped.
void ClearUnusedStop(StudyState& state, const std::string& trial_id) {
  TrialRecord* trial = state.FindTrial(trial_id);
  if (trial == nullptr || !trial->early_stop) return;
  for (const RunRecord& run : state.runs) {
    if (run.trial == trial_id && (run.status == RunStatus::kStopped || !IsFinal(run.status))) {
      return;
    }
  }
  trial->early_stop.reset();
  trial->stopped_at.reset();
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
    TrialRecord record;
    record.id = trial.id;
    record.params = ParamsText(trial);
    state.trials.push_back(std::move(record));
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
// the folders of the others are moved aside (never deleted). A kept trial that early stopping
// stopped stays stopped while the space still asks for it; without it, its stopped runs continue
// (through `rlpipe run --resume` when they had started).
StudyState MergeChangedStudy(const StudyState& old, StudyState fresh, const fs::path& out_dir,
                             bool early_stopping) {
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
  for (TrialRecord& trial : fresh.trials) {
    for (const TrialRecord& previous : old.trials) {
      if (previous.id == trial.id && previous.params == trial.params && early_stopping) {
        trial.early_stop = previous.early_stop;
        trial.stopped_at = previous.stopped_at;
      }
    }
  }
  for (RunRecord& run : fresh.runs) {
    if (run.status != RunStatus::kStopped || fresh.FindTrial(run.trial)->early_stop) continue;
    run.status = fs::exists(out_dir / run.dir / "pipeline_state.json") ? RunStatus::kInterrupted
                                                                       : RunStatus::kPending;
    run.finished_at.reset();
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
      plan.trials =
          SampleRandom(plan.space, *options.trials, plan.space.seed.value_or(plan.pipeline.seed));
      break;
    case Strategy::kBayesian:
      config::FailAt(strategy_loc, "strategy",
                     "bayesian runs only as a SageMaker tuning job (--platform sagemaker); "
                     "use grid or random here");
  }
  CheckReportMetric(plan.space);
  ValidateStudy(plan.pipeline, plan.space, plan.trials);
  CheckLocalEarlyStopping(plan.pipeline, plan.space, plan.trials);
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
    const config::Tree variant =
        VariantPipeline(plan.pipeline, plan.space, best, plan.pipeline.seed);
    WriteFileAtomic(output_dir / kBestPipelineFile, "# rlpipe tune: the best trial (" + best.id +
                                                        ") of " + state.pipeline_file + "\n" +
                                                        variant.ToYaml());
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
      state = MergeChangedStudy(old, std::move(state), dir,
                                plan.space.early_stopping == EarlyStopping::kMedian);
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
  // Median early stopping: a trial stopped by an earlier invocation stays stopped (its runs
  // that had not finished then are final now, even if the study was killed before they ended).
  const bool early_stopping = plan.space.early_stopping == EarlyStopping::kMedian;
  for (RunRecord& run : state.runs) {
    const TrialRecord* trial = state.FindTrial(run.trial);
    if (trial != nullptr && trial->early_stop && !IsFinal(run.status)) {
      run.status = RunStatus::kStopped;
      if (!run.finished_at) run.finished_at = NowIso8601();
    }
  }
  SaveStudy(study_path, state);
  const fs::path binary =
      options.rlpipe_binary.empty() ? fs::read_symlink("/proc/self/exe") : options.rlpipe_binary;

  // What is left: everything not final (completed, failed or stopped) in study order.
  std::vector<size_t> queue;
  int finished = 0;
  for (size_t i = 0; i < state.runs.size(); ++i) {
    if (IsFinal(state.runs[i].status)) {
      ++finished;
    } else {
      queue.push_back(i);
    }
  }
  std::fprintf(out,
               "tune: %zu trials x %d seeds = %d runs (%d already finished), %d at once, %d "
               "thread(s) each%s, in %s\n",
               plan.trials.size(), options.seeds, runs_total, finished, options.parallel, threads,
               early_stopping ? ", median early stopping" : "", dir.c_str());
  std::fflush(out);

  // The scheduler: keep `parallel` children running, collect them as they end.
  pipeline::InstallStopHandlers();
  struct Child {
    size_t run;
    Clock::time_point started;
    bool stopping = false;  // early stopping sent it SIGTERM (a second signal would kill it)
  };
  std::map<pid_t, Child> children;
  std::optional<EvalWatch> watch;
  if (early_stopping) watch.emplace(dir, plan.metric_session, state);
  auto next_judgement = Clock::now();
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
      for (const auto& [pid, child] : children) {
        if (!child.stopping) kill(pid, stop);
      }
    }
    // Median early stopping: judge the unfinished trials on the evaluations so far; a stopped
    // trial's running children checkpoint and end as on Ctrl-C, its pending runs never start.
    if (watch && forwarded == 0 && Clock::now() >= next_judgement) {
      next_judgement = Clock::now() + std::chrono::milliseconds(kJudgeIntervalMs);
      for (const auto& [pid, child] : children) watch->Refresh(state, child.run);
      for (const auto& [trial_id, decision] : watch->Judge(state, plan.space.direction)) {
        TrialRecord& trial = *state.FindTrial(trial_id);
        trial.early_stop = decision;
        trial.stopped_at = NowIso8601();
        int signalled = 0;
        for (auto& [pid, child] : children) {
          if (state.runs[child.run].trial != trial_id || child.stopping) continue;
          child.stopping = true;
          kill(pid, SIGTERM);
          ++signalled;
        }
        std::set<size_t> child_runs;
        for (const auto& [pid, child] : children) child_runs.insert(child.run);
        for (size_t i = 0; i < state.runs.size(); ++i) {
          RunRecord& run = state.runs[i];
          if (run.trial != trial_id || child_runs.contains(i) || IsFinal(run.status)) continue;
          run.status = RunStatus::kStopped;
          run.finished_at = trial.stopped_at;
          ++finished;
        }
        SaveStudy(study_path, state);
        std::fprintf(out,
                     "tune: stop   %s at %lld steps: best eval return %g %s median %g of %d "
                     "other trials (early_stopping: median); %d run(s) stopping\n",
                     trial_id.c_str(), static_cast<long long>(decision.timesteps), decision.best,
                     plan.space.direction == Direction::kMaximize ? "<" : ">", decision.median,
                     decision.others, signalled);
        std::fflush(out);
      }
    }
    // Start runs while there is room (skipping runs early stopping has ended).
    while (forwarded == 0 && next < queue.size() &&
           static_cast<int>(children.size()) < options.parallel) {
      RunRecord& run = state.runs[queue[next++]];
      if (run.status == RunStatus::kStopped) continue;
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
      std::fprintf(out, "tune: start  %s%s (pid %d)\n", run.dir.c_str(), resume ? " --resume" : "",
                   static_cast<int>(pid));
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
    // A run early stopping ended is stopped, not interrupted: it is not run again.
    if (it->second.stopping && run.status == RunStatus::kInterrupted) {
      run.status = RunStatus::kStopped;
    }
    run.duration_seconds +=
        std::chrono::duration<double>(Clock::now() - it->second.started).count();
    run.metric = ReadRunMetric(dir / run.dir, plan.metric_session, plan.space.metric);
    if (IsFinal(run.status)) {
      run.finished_at = NowIso8601();
      ++finished;
    }
    any_failed = any_failed || run.status == RunStatus::kFailed;
    if (watch) {
      watch->Refresh(state, it->second.run);
      next_judgement = Clock::now();
    }
    children.erase(it);
    // A trial whose runs all completed before early stopping reached them was not stopped.
    ClearUnusedStop(state, run.trial);
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
