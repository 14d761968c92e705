// Transfer learning benchmark: does starting from a trained height_maximize (N = 2) model help
// on crush_resistance (N = 2, another task block) and on height_maximize (N = 3, other robot
// counts, so other observation and action sizes)?
//
// Per seed: train the source (height_maximize N = 2) once; then, for each target task, train
// from scratch and from the source (transfer: defaults, i.e. policy + value, layout-aware
// slices) with the same seed and budget. The reference is the from-scratch run's final mean eval
// return R, measured in this run; the result is the env steps each run needs to reach R (first
// evaluation >= R) and their ratio transfer / scratch (< 1: transfer needs fewer steps). Both
// learning curves are printed.
//
// By default the sessions use the bench's own short settings (below). --source-config and
// --crush-config take training configs instead (e.g. the curriculum's configs/tasks/
// height_maximize_ppo.yaml and crush_resistance_ppo.yaml), read as a session reads them; the
// bench's step budgets, evaluation frequency and episodes replace their `training:` values.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/error.h"

namespace {

namespace fs = std::filesystem;
using rlpipe::algos::TrainingRequest;
using rlpipe::algos::TrainingResult;
using Curve = std::vector<std::pair<int64_t, double>>;  // (env steps, mean eval return)

/// Bench flags.
struct BenchOptions {
  std::vector<uint64_t> seeds{1};
  std::vector<std::string> targets{"crush", "n3"};
  int64_t source_steps = 100000;
  int64_t target_steps = 100000;
  int64_t eval_freq = 5000;
  int eval_episodes = 3;
  int height_episode_steps = 200;  // height_maximize max_episode_steps
  int crush_episode_steps = 400;   // crush_resistance max_episode_steps
  double positioning_s = 2.0;      // crush_resistance positioning_seconds
  double reference_height = 1.5;   // crush_resistance reference_height (m): a short descent
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_transfer";
  fs::path source_config;  // training config of the source session (empty: the bench's own)
  fs::path crush_config;   // training config of the crush target (empty: the bench's own)
};

// A training config file with the bench's budget and evaluation settings.
rlpipe::config::ExperimentConfig ConfigFile(const fs::path& path, int64_t steps,
                                            const BenchOptions& options) {
  rlpipe::config::Tree tree = rlpipe::config::LoadYamlFile(path);
  rlpipe::config::SetPath(tree, "training.total_timesteps", std::to_string(steps));
  rlpipe::config::SetPath(tree, "training.eval_freq", std::to_string(options.eval_freq));
  rlpipe::config::SetPath(tree, "training.eval_episodes", std::to_string(options.eval_episodes));
  return rlpipe::config::ParseExperimentConfig(tree);
}

// PPO with SB3's defaults but shorter rollouts, 64x64 tanh networks, 4 envs. Parsed from YAML
// like a session's config, so checkpoints carry it (the transfer rebuilds the source's layout
// from it).
rlpipe::config::ExperimentConfig Config(const std::string& task, int n, int64_t steps,
                                        const BenchOptions& options) {
  const bool crush = task == "crush_resistance";
  std::string yaml =
      "environment:\n  name: " + task + "\n  num_type_b_robots: " + std::to_string(n) +
      "\n  max_episode_steps: " +
      std::to_string(crush ? options.crush_episode_steps : options.height_episode_steps) + "\n";
  if (crush) {
    yaml += "  positioning_seconds: " + std::to_string(options.positioning_s) +
            "\n  reference_height: " + std::to_string(options.reference_height) + "\n";
  }
  yaml +=
      "agent:\n  algorithm: PPO\n  n_steps: 256\n  batch_size: 64\n  n_epochs: 5\n"
      "  learning_rate: 0.0003\n  gamma: 0.99\n"
      "network:\n  policy_layers: [64, 64]\n  value_layers: [64, 64]\n"
      "training:\n  n_envs: 4\n  total_timesteps: " +
      std::to_string(steps) + "\n  eval_freq: " + std::to_string(options.eval_freq) +
      "\n  eval_episodes: " + std::to_string(options.eval_episodes) + "\n  log_interval: 1000000\n";
  return rlpipe::config::ParseExperimentConfig(rlpipe::config::ParseYaml(yaml, task + ".yaml"));
}

// Trains one session and returns its learning curve (and the result).
std::pair<Curve, TrainingResult> Run(const std::string& label,
                                     const rlpipe::config::ExperimentConfig& config, uint64_t seed,
                                     const fs::path& dir,
                                     std::optional<fs::path> init = std::nullopt) {
  TrainingRequest request;
  request.config = config;
  request.seed = seed;
  request.models_dir = dir;
  request.init_checkpoint = std::move(init);
  Curve curve;
  request.hooks.on_eval = [&](const rlpipe::algos::EvalEvent& e) {
    curve.emplace_back(e.timesteps, e.mean_return);
  };
  request.hooks.on_transfer = [&](const rlpipe::checkpoint::TransferReport& report) {
    std::printf("  %s: %s\n", label.c_str(), report.SummaryLine(report.source).c_str());
  };
  TrainingResult result = rlpipe::algos::Train(request);
  std::printf("  %s: %lld steps in %.0f s, final mean eval return %.2f\n", label.c_str(),
              static_cast<long long>(result.timesteps), result.wall_seconds,
              result.final_mean_return.value_or(0.0));
  std::fflush(stdout);
  return {curve, result};
}

// The first evaluation at or above `reference`, if any.
std::optional<int64_t> StepsToReach(const Curve& curve, double reference) {
  for (const auto& [steps, value] : curve) {
    if (value >= reference) return steps;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"transfer learning: height_maximize N=2 -> crush_resistance N=2 / height N=3"};
  app.add_option("--seeds", options.seeds, "comma-separated seeds")->delimiter(',');
  app.add_option("--targets", options.targets, "crush, n3 (comma-separated)")->delimiter(',');
  app.add_option("--source-steps", options.source_steps, "env steps of the source session");
  app.add_option("--target-steps", options.target_steps, "env steps of each target session");
  app.add_option("--eval-freq", options.eval_freq, "env steps between evaluations");
  app.add_option("--eval-episodes", options.eval_episodes, "episodes per evaluation");
  app.add_option("--height-episode-steps", options.height_episode_steps,
                 "height_maximize max_episode_steps");
  app.add_option("--crush-episode-steps", options.crush_episode_steps,
                 "crush_resistance max_episode_steps");
  app.add_option("--positioning-seconds", options.positioning_s,
                 "crush_resistance positioning_seconds");
  app.add_option("--reference-height", options.reference_height,
                 "crush_resistance reference_height (m)");
  app.add_option("--out", options.out, "folder for the models");
  app.add_option("--source-config", options.source_config,
                 "training config of the source (height_maximize, N = 2) instead of the bench's")
      ->check(CLI::ExistingFile);
  app.add_option("--crush-config", options.crush_config,
                 "training config of the crush target instead of the bench's")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::string> summary;
    for (uint64_t seed : options.seeds) {
      // The source: height_maximize with N = 2.
      const fs::path seed_dir = options.out / ("seed_" + std::to_string(seed));
      std::printf("seed %llu: source height_maximize N=2, %lld steps\n",
                  static_cast<unsigned long long>(seed),
                  static_cast<long long>(options.source_steps));
      const auto [source_curve, source] =
          Run("source",
              options.source_config.empty()
                  ? Config("height_maximize", 2, options.source_steps, options)
                  : ConfigFile(options.source_config, options.source_steps, options),
              seed, seed_dir / "source");
      const fs::path source_model = source.best_model.value_or(*source.final_model);

      for (const std::string& target : options.targets) {
        // Same target config, seed and budget: from scratch, then from the source.
        const bool crush = target == "crush";
        const rlpipe::config::ExperimentConfig config =
            !crush ? Config("height_maximize", 3, options.target_steps, options)
            : options.crush_config.empty()
                ? Config("crush_resistance", 2, options.target_steps, options)
                : ConfigFile(options.crush_config, options.target_steps, options);
        const std::string name = crush ? "height N=2 -> crush N=2" : "height N=2 -> height N=3";
        std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed), name.c_str());
        const auto [scratch, scratch_result] =
            Run("scratch", config, seed + 1000, seed_dir / (target + "_scratch"));
        const auto [transfer, transfer_result] =
            Run("transfer", config, seed + 1000, seed_dir / (target + "_transfer"), source_model);

        // Both curves side by side.
        std::printf("  %10s %12s %12s\n", "steps", "scratch", "transfer");
        for (size_t i = 0; i < std::max(scratch.size(), transfer.size()); ++i) {
          const int64_t steps = i < scratch.size() ? scratch[i].first : transfer[i].first;
          std::printf("  %10lld %12s %12s\n", static_cast<long long>(steps),
                      i < scratch.size() ? std::to_string(scratch[i].second).c_str() : "",
                      i < transfer.size() ? std::to_string(transfer[i].second).c_str() : "");
        }

        // Steps to reach the from-scratch run's final mean eval return.
        const double reference = scratch.back().second;
        const std::optional<int64_t> a = StepsToReach(scratch, reference);
        const std::optional<int64_t> b = StepsToReach(transfer, reference);
        char line[256];
        if (b) {
          std::snprintf(line, sizeof(line),
                        "%s seed %llu: reference %.2f; scratch reaches it at %lld steps, "
                        "transfer at %lld; ratio %.3f",
                        name.c_str(), static_cast<unsigned long long>(seed), reference,
                        static_cast<long long>(*a), static_cast<long long>(*b),
                        static_cast<double>(*b) / static_cast<double>(*a));
        } else {
          std::snprintf(line, sizeof(line),
                        "%s seed %llu: reference %.2f; scratch reaches it at %lld steps, "
                        "transfer not within %lld (ratio > %.3f)",
                        name.c_str(), static_cast<unsigned long long>(seed), reference,
                        static_cast<long long>(*a), static_cast<long long>(options.target_steps),
                        static_cast<double>(options.target_steps) / static_cast<double>(*a));
        }
        std::printf("  %s\n", line);
        std::fflush(stdout);
        summary.emplace_back(line);
      }
    }
    std::printf("summary (steps to reach the from-scratch final mean eval return):\n");
    for (const std::string& line : summary) std::printf("  %s\n", line.c_str());
    return 0;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
