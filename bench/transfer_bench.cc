// Transfer learning benchmark: does starting from a trained height_maximize (N = 2) model help
// on crush_resistance (N = 2, another task block) and on height_maximize (N = 3, other robot
// counts, so other observation and action sizes)?
//
// Per seed: train the source (height_maximize N = 2) once; then, for each target task, train
// from scratch and from the source (transfer: defaults, i.e. policy + value, layout-aware
// slices, or each --variant's `transfer:` settings) with the same seed and budget. The reference
// is measured in this run from the from-scratch curve, two ways:
//   - final: its last mean eval return R; a run reaches R at its first evaluation >= R;
//   - window K (--reference-window, default 3): R = the mean of its last K evaluations; a run
//     reaches R at the first evaluation where the mean of its last K evaluations (fewer at the
//     start) is >= R. One lucky or unlucky evaluation moves neither R nor the step much.
// The result is the env steps each run needs and their ratio transfer / scratch (< 1: transfer
// needs fewer steps; the bar is <= 0.5). All learning curves are printed.
//
// --scratch-curve FILE takes the from-scratch curve of an earlier run of the same command instead
// of training it again (the runs are deterministic for a seed and thread count: a repeated source
// run reproduces its evaluations exactly), and --transfer-steps stops the transfer runs earlier
// than the from-scratch budget (e.g. at the 50%): a transfer run's curve is only needed up
// to the steps it is judged at.
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
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/pipeline_config.h"
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
  fs::path source_model;   // start from this model instead of training the source (one seed)
  std::vector<std::string> variants;  // NAME=YAML of `transfer:` settings (empty: the defaults)
  int reference_window = 3;           // evaluations averaged for the windowed reference
  fs::path scratch_curve;             // the from-scratch curve of an earlier run (one seed)
  int64_t transfer_steps = 0;         // env steps of each transfer run (0: --target-steps)
};

/// A transfer run's settings: a name for the tables and the session's `transfer:` mapping.
struct Variant {
  std::string name;
  rlpipe::config::TransferConfig transfer;
};

// "NAME=YAML" -> Variant; the YAML is read like a session's `transfer:` mapping (strictly).
Variant ParseVariant(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == 0 || eq == std::string::npos) {
    throw rlpipe::ConfigError("--variant " + text +
                              ": expected NAME=YAML, e.g. 'policy={load: [policy]}'");
  }
  const rlpipe::config::Tree tree =
      rlpipe::config::ParseYaml(text.substr(eq + 1), "--variant " + text.substr(0, eq));
  return {text.substr(0, eq), rlpipe::config::ParseTransferConfig(&tree, "transfer")};
}

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
                                     std::optional<fs::path> init = std::nullopt,
                                     const rlpipe::config::TransferConfig& transfer = {}) {
  TrainingRequest request;
  request.config = config;
  request.seed = seed;
  request.models_dir = dir;
  request.init_checkpoint = std::move(init);
  request.transfer = transfer;
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
  // The curve at once, so a bench stopped before its last run keeps what it measured.
  std::printf("  %s curve (steps: mean eval return):", label.c_str());
  for (const auto& [steps, value] : curve) {
    std::printf(" %lld: %.2f", static_cast<long long>(steps), value);
  }
  std::printf("\n");
  std::fflush(stdout);
  return {curve, result};
}

// A curve file: one evaluation per line, "STEPS MEAN_RETURN" ('#' starts a comment).
Curve ReadCurve(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw rlpipe::ConfigError(path.string() + ": cannot open");
  Curve curve;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    int64_t steps = 0;
    double value = 0.0;
    if (!(fields >> steps)) continue;  // blank or comment
    std::string rest;
    if (!(fields >> value) || (fields >> rest) || (!curve.empty() && steps <= curve.back().first)) {
      throw rlpipe::ConfigError(path.string() + ":" + std::to_string(number) +
                                ": expected \"STEPS MEAN_RETURN\" with increasing steps");
    }
    curve.emplace_back(steps, value);
  }
  if (curve.empty()) throw rlpipe::ConfigError(path.string() + ": no evaluations");
  return curve;
}

// The mean of the evaluations [begin, end) of `curve`.
double MeanOf(const Curve& curve, size_t begin, size_t end) {
  double sum = 0.0;
  for (size_t i = begin; i < end; ++i) sum += curve[i].second;
  return sum / static_cast<double>(end - begin);
}

// The windowed reference: the mean of the last `window` evaluations.
double Reference(const Curve& curve, int window) {
  const size_t k = std::min(curve.size(), static_cast<size_t>(window));
  return MeanOf(curve, curve.size() - k, curve.size());
}

// The steps of the first evaluation where the mean of the last `window` evaluations (fewer at
// the start) is at or above `reference`, if any. window 1: the first evaluation >= reference.
std::optional<int64_t> StepsToReach(const Curve& curve, double reference, int window) {
  for (size_t i = 0; i < curve.size(); ++i) {
    const size_t begin = i + 1 >= static_cast<size_t>(window) ? i + 1 - window : 0;
    if (MeanOf(curve, begin, i + 1) >= reference) return curve[i].first;
  }
  return std::nullopt;
}

// One summary line: steps of both runs to reach `reference` and their ratio.
std::string ReachLine(const std::string& what, double reference, const Curve& scratch,
                      const Curve& transfer, int window, int64_t budget) {
  const std::optional<int64_t> a = StepsToReach(scratch, reference, window);
  const std::optional<int64_t> b = StepsToReach(transfer, reference, window);
  char line[320];
  if (b) {
    std::snprintf(line, sizeof(line),
                  "%s %.2f: scratch reaches it at %lld steps, transfer at %lld; ratio %.3f",
                  what.c_str(), reference, static_cast<long long>(*a), static_cast<long long>(*b),
                  static_cast<double>(*b) / static_cast<double>(*a));
  } else {
    std::snprintf(line, sizeof(line),
                  "%s %.2f: scratch reaches it at %lld steps, transfer not within %lld "
                  "(ratio > %.3f)",
                  what.c_str(), reference, static_cast<long long>(*a),
                  static_cast<long long>(budget),
                  static_cast<double>(budget) / static_cast<double>(*a));
  }
  return line;
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
  app.add_option("--source-model", options.source_model,
                 "start the transfers from this model instead of training the source (one seed)")
      ->check(CLI::ExistingFile);
  app.add_option("--variant", options.variants,
                 "NAME=YAML: a transfer run with these `transfer:` settings, e.g. "
                 "'policy={load: [policy]}' (repeatable; default: one run with the defaults)");
  app.add_option("--reference-window", options.reference_window,
                 "evaluations averaged for the windowed reference")
      ->check(CLI::PositiveNumber);
  app.add_option("--scratch-curve", options.scratch_curve,
                 "the from-scratch curve of an earlier run of the same command (\"STEPS "
                 "MEAN_RETURN\" per line) instead of training it (one seed, one target)")
      ->check(CLI::ExistingFile);
  app.add_option("--transfer-steps", options.transfer_steps,
                 "env steps of each transfer run (default: --target-steps)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (!options.source_model.empty() && options.seeds.size() != 1) {
    std::fprintf(stderr, "error: --source-model takes one seed, got %zu\n", options.seeds.size());
    return 2;
  }
  if (!options.scratch_curve.empty() &&
      (options.seeds.size() != 1 || options.targets.size() != 1)) {
    std::fprintf(stderr, "error: --scratch-curve takes one seed and one target\n");
    return 2;
  }
  if (options.transfer_steps == 0) options.transfer_steps = options.target_steps;

  try {
    std::vector<Variant> variants;
    for (const std::string& text : options.variants) variants.push_back(ParseVariant(text));
    if (variants.empty()) variants.push_back({"transfer", {}});

    std::vector<std::string> summary;
    for (uint64_t seed : options.seeds) {
      // The source: height_maximize with N = 2 (or the model given).
      const fs::path seed_dir = options.out / ("seed_" + std::to_string(seed));
      fs::path source_model = options.source_model;
      if (source_model.empty()) {
        std::printf("seed %llu: source height_maximize N=2, %lld steps\n",
                    static_cast<unsigned long long>(seed),
                    static_cast<long long>(options.source_steps));
        const auto [source_curve, source] =
            Run("source",
                options.source_config.empty()
                    ? Config("height_maximize", 2, options.source_steps, options)
                    : ConfigFile(options.source_config, options.source_steps, options),
                seed, seed_dir / "source");
        source_model = source.best_model.value_or(*source.final_model);
      }
      std::printf("seed %llu: source model %s\n", static_cast<unsigned long long>(seed),
                  source_model.string().c_str());

      for (const std::string& target : options.targets) {
        // Same target config, seed and budget: from scratch, then from the source per variant.
        const bool crush = target == "crush";
        // The target's config with a budget (the transfer runs may stop earlier: with a constant
        // learning rate, checked below, the budget changes nothing before it).
        const auto target_config = [&](int64_t steps) {
          return !crush                         ? Config("height_maximize", 3, steps, options)
                 : options.crush_config.empty() ? Config("crush_resistance", 2, steps, options)
                                                : ConfigFile(options.crush_config, steps, options);
        };
        const rlpipe::config::ExperimentConfig config = target_config(options.target_steps);
        if (options.transfer_steps != options.target_steps &&
            config.agent.common().learning_rate_linear) {
          throw rlpipe::ConfigError(
              "--transfer-steps: the target config's learning rate decays over the session "
              "(lin_...), so a shorter transfer run would not follow the from-scratch run's "
              "schedule");
        }
        const std::string name = crush ? "height N=2 -> crush N=2" : "height N=2 -> height N=3";
        std::printf("seed %llu: %s\n", static_cast<unsigned long long>(seed), name.c_str());
        Curve scratch;
        if (options.scratch_curve.empty()) {
          scratch = Run("scratch", config, seed + 1000, seed_dir / (target + "_scratch")).first;
        } else {
          scratch = ReadCurve(options.scratch_curve);
          std::printf("  scratch: %zu evaluations read from %s, last %.2f at %lld steps\n",
                      scratch.size(), options.scratch_curve.string().c_str(), scratch.back().second,
                      static_cast<long long>(scratch.back().first));
        }
        const rlpipe::config::ExperimentConfig transfer_config =
            target_config(options.transfer_steps);
        std::vector<Curve> transfers;
        for (const Variant& variant : variants) {
          transfers.push_back(Run(variant.name, transfer_config, seed + 1000,
                                  seed_dir / (target + "_" + variant.name), source_model,
                                  variant.transfer)
                                  .first);
        }

        // The curves side by side, one row per evaluation step of any run.
        std::vector<int64_t> rows;
        for (const auto& point : scratch) rows.push_back(point.first);
        for (const Curve& curve : transfers) {
          for (const auto& point : curve) rows.push_back(point.first);
        }
        std::sort(rows.begin(), rows.end());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
        const auto cell = [](const Curve& curve, int64_t steps) {
          char text[32] = "-";
          for (const auto& [at, value] : curve) {
            if (at == steps) std::snprintf(text, sizeof(text), "%.2f", value);
          }
          return std::string(text);
        };
        std::printf("  %10s %12s", "steps", "scratch");
        for (const Variant& variant : variants) std::printf(" %12s", variant.name.c_str());
        std::printf("\n");
        for (int64_t steps : rows) {
          std::printf("  %10lld %12s", static_cast<long long>(steps), cell(scratch, steps).c_str());
          for (const Curve& curve : transfers) std::printf(" %12s", cell(curve, steps).c_str());
          std::printf("\n");
        }

        // Steps to reach the from-scratch run's final return, and its windowed mean.
        const double final_reference = scratch.back().second;
        const double window_reference = Reference(scratch, options.reference_window);
        for (size_t v = 0; v < variants.size(); ++v) {
          const std::string head =
              name + " seed " + std::to_string(seed) + " " + variants[v].name + ": ";
          const std::string window_what =
              "mean of the last " + std::to_string(options.reference_window) + " evaluations";
          for (const std::string& line :
               {head + ReachLine("final", final_reference, scratch, transfers[v], 1,
                                 options.transfer_steps),
                head + ReachLine(window_what, window_reference, scratch, transfers[v],
                                 options.reference_window, options.transfer_steps)}) {
            std::printf("  %s\n", line.c_str());
            summary.push_back(line);
          }
        }
        std::fflush(stdout);
      }
    }
    std::printf("summary (steps to reach the from-scratch reference):\n");
    for (const std::string& line : summary) std::printf("  %s\n", line.c_str());
    return 0;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
