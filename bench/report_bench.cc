// What seeing a run costs. (1) The reports of a 3-session pipeline of 1M steps each: time to
// build pipeline_report.html/.json and their size, from metrics files of realistic row counts
// (synthetic values; the row counts are what a 1M-step session writes at the given progress
// interval). (2) TensorBoard: a real PPO session on pendulum with an event every `n_steps` env
// steps (the densest setting); every progress and eval event it emitted is replayed into a
// TensorBoard writer and timed, and that time is reported as a share of the session's wall time.
//
//   report_bench [--rows-interval 2048] [--eval-interval 10000] [--repeats 5]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/files.h"
#include "metrics/sinks.h"
#include "metrics/tensorboard.h"
#include "pipeline/report.h"
#include "pipeline/session_training.h"
#include "pipeline/state.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace algos = rlpipe::algos;
namespace config = rlpipe::config;
namespace metrics = rlpipe::metrics;
namespace pipeline = rlpipe::pipeline;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

/// metrics.csv and evaluations.csv of one synthetic 1M-step session, in the real column layout.
void WriteSession(const fs::path& dir, int64_t steps, int64_t row_interval, int64_t eval_interval,
                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  fs::create_directories(dir / "logs");
  metrics::CsvSink progress(dir / "logs" / "metrics.csv");
  double ret = -1500.0;
  for (int64_t t = row_interval; t <= steps; t += row_interval) {
    ret += 0.002 * row_interval * (1.0 + 0.3 * noise(rng)) * (ret < -150 ? 1.0 : 0.0);
    const double elapsed = static_cast<double>(t) / 3000.0;
    progress.Write({{"timesteps", static_cast<double>(t)},
                    {"episodes", static_cast<double>(t / 200)},
                    {"elapsed_s", elapsed},
                    {"steps_per_s", 3000.0},
                    {"mean_episode_return", ret + 20 * noise(rng)},
                    {"mean_episode_length", 200.0},
                    {"collect_s", 0.6 * elapsed},
                    {"update_s", 0.35 * elapsed},
                    {"collect_share", 0.6},
                    {"update_share", 0.35},
                    {"train/approx_kl", std::abs(0.01 + 0.005 * noise(rng))},
                    {"train/clip_fraction", 0.1},
                    {"train/entropy_loss", -1.2},
                    {"train/explained_variance", std::tanh(t / 2e5)},
                    {"train/learning_rate", 3e-4},
                    {"train/loss", 10 * std::abs(noise(rng))},
                    {"train/policy_gradient_loss", -0.01},
                    {"train/value_loss", 20 * std::abs(noise(rng))},
                    {"train/std", 0.8},
                    {"task/max_height", 1.0 + t / 1e6}});
  }
  metrics::CsvSink evals(dir / "logs" / "evaluations.csv");
  for (int64_t t = eval_interval; t <= steps; t += eval_interval) {
    evals.Write({{"timesteps", static_cast<double>(t)},
                 {"mean_return", -1500.0 + 1300.0 * t / steps + 30 * noise(rng)},
                 {"std_return", 40.0},
                 {"mean_length", 200.0},
                 {"new_best", 0.0}});
  }
}

/// A completed session's record.
pipeline::SessionRecord Record(const std::string& name, int64_t steps) {
  pipeline::SessionRecord r;
  r.name = name;
  r.status = pipeline::SessionStatus::kCompleted;
  r.started_at = "2026-12-06T00:00:00Z";
  r.finished_at = "2026-12-06T01:00:00Z";
  r.duration_seconds = 3600;
  r.attempts = 1;
  r.timesteps = steps;
  r.episodes = steps / 200;
  r.best_mean_return = -200.0;
  r.final_mean_return = -210.0;
  r.task_stats["max_height"] = {1.5, 2.0};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Report generation cost and TensorBoard's share of training time."};
  int64_t rows_interval = 2048;
  int64_t eval_interval = 10000;
  int repeats = 5;
  app.add_option("--rows-interval", rows_interval, "env steps between metrics.csv rows");
  app.add_option("--eval-interval", eval_interval, "env steps between evaluations");
  app.add_option("--repeats", repeats, "report builds timed (the median is printed)");
  CLI11_PARSE(app, argc, argv);

  // (1) Reports of 3 sessions x 1M steps.
  const fs::path out =
      fs::temp_directory_path() / ("rlpipe_report_bench_" + std::to_string(getpid()));
  fs::remove_all(out);
  constexpr int64_t kSteps = 1'000'000;
  pipeline::PipelineState state;
  state.pipeline_name = "bench";
  state.started_at = "2026-12-06T00:00:00Z";
  pipeline::ReportSettings settings;
  settings.compare_sessions = true;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "session" + std::to_string(i + 1);
    WriteSession(out / name, kSteps, rows_interval, eval_interval, static_cast<uint64_t>(i));
    state.sessions.push_back(Record(name, kSteps));
  }
  std::vector<double> times;
  std::vector<fs::path> written;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    written = pipeline::WriteReports(out, state, settings);
    times.push_back(Seconds(start));
  }
  std::sort(times.begin(), times.end());
  const auto rows = metrics::ReadCsvTable(out / "session1" / "logs" / "metrics.csv").rows.size();
  std::printf("reports of 3 sessions x 1M steps (%zu metrics rows and %lld evaluations each):\n",
              rows, static_cast<long long>(kSteps / eval_interval));
  std::printf("  build time (median of %d): %.1f ms\n", repeats, 1e3 * times[times.size() / 2]);
  for (const fs::path& p : written) {
    std::printf("  %s: %.1f kB\n", p.filename().c_str(), fs::file_size(p) / 1024.0);
  }
  fs::remove_all(out);

  // (2) TensorBoard's share: a real PPO session on pendulum, an event every 64 steps.
  config::ExperimentConfig experiment = config::ParseExperimentConfig(config::ParseYaml(
      "environment: {name: pendulum}\n"
      "agent: {algorithm: PPO, n_steps: 64, batch_size: 64, n_epochs: 10}\n"
      "network: {policy_layers: [64, 64], value_layers: [64, 64]}\n"
      "training: {total_timesteps: 20480, eval_freq: 2048, eval_episodes: 2, log_interval: 1, "
      "n_envs: 1}\n",
      "report_bench"));
  std::vector<algos::ProgressEvent> progress_events;
  std::vector<algos::EvalEvent> eval_events;
  pipeline::SessionTrainingRequest request;
  request.session_name = "tb";
  request.experiment = experiment;
  request.seed = 1;
  request.models_dir = out / "models";
  request.logs_dir = out / "logs";
  request.console = nullptr;
  request.on_progress = [&](const algos::ProgressEvent& e) { progress_events.push_back(e); };
  request.on_eval = [&](const algos::EvalEvent& e) { eval_events.push_back(e); };
  const auto start = Clock::now();
  const pipeline::SessionTrainingOutcome outcome = pipeline::TrainSession(request);
  const double session_s = Seconds(start);
  if (outcome.error) {
    std::fprintf(stderr, "training failed: %s\n", outcome.error->c_str());
    return 1;
  }
  // Replay the same events through a writer, as TrainSession does with use_tensorboard on.
  const auto write_start = Clock::now();
  {
    metrics::TensorBoardWriter writer(out / "runs");
    for (const auto& e : progress_events) {
      std::vector<std::pair<std::string, double>> scalars = {
          {"rollout/ep_rew_mean", e.mean_episode_return.value_or(0)},
          {"rollout/ep_len_mean", e.mean_episode_length.value_or(0)},
          {"time/fps", e.steps_per_second},
          {"time/time_elapsed", e.elapsed_seconds},
          {"time/episodes", static_cast<double>(e.episodes)}};
      for (const auto& [name, value] : e.losses) scalars.emplace_back(name, value);
      writer.WriteScalars(e.timesteps, scalars);
    }
    for (const auto& e : eval_events) {
      writer.WriteScalars(e.timesteps, {{"eval/mean_reward", e.mean_return},
                                        {"eval/std_reward", e.std_return},
                                        {"eval/mean_ep_length", e.mean_length}});
    }
  }
  const double write_s = Seconds(write_start);
  std::printf("TensorBoard: %zu events of a %lld-step PPO session (an event every %d steps)\n",
              progress_events.size() + eval_events.size(),
              static_cast<long long>(outcome.result.timesteps),
              experiment.agent.on_policy()->n_steps);
  std::printf("  writing them: %.2f ms (%.1f us per event); the session: %.2f s\n", 1e3 * write_s,
              1e6 * write_s / static_cast<double>(progress_events.size() + eval_events.size()),
              session_s);
  std::printf("  share of training time: %.4f%% (target < 1%%)\n", 100.0 * write_s / session_s);
  fs::remove_all(out);
  return 0;
}
