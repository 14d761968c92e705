// PPO update stability on the robot tasks with the seed's own configs (issue 15): for each
// config × seed, trains --timesteps env steps and reports, over every PPO update in that budget,
// the mean train/approx_kl, train/clip_fraction and train/explained_variance (and the last
// update's explained variance and the mean of the last third's).
//
// Acceptance: mean approx_kl <= 0.05 and mean clip_fraction <= 0.3 over the first 100k steps on
// height_maximize and crush_resistance, 3 seeds, with the seed's configs unchanged except the env
// name; explained variance above 0.5.
//
// `--set key=value` applies to every config (e.g. `--set environment.scale_observations=0` for
// the raw SI observations as before, or `--set training.normalize=true`).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "algos/on_policy.h"
#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/error.h"
#include "envs/env.h"
#include "envs/observation_scale.h"

namespace {

namespace fs = std::filesystem;

/// Bench flags.
struct BenchOptions {
  std::vector<std::string> configs{RLPIPE_SOURCE_DIR "/bench/configs/seed_training_config.yaml",
                                   RLPIPE_SOURCE_DIR "/bench/configs/seed_session2_config.yaml"};
  std::vector<std::string> envs{"height_maximize", "crush_resistance"};  // one per config
  std::vector<uint64_t> seeds{1, 2, 3};
  int64_t timesteps = 100000;
  std::vector<std::string> sets;
  double obs_gain = 1.0;  // experiments: every observation value times this (1: as presented)
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_ppo_stability";
};

double Mean(const std::vector<double>& x) {
  double sum = 0.0;
  for (double v : x) sum += v;
  return x.empty() ? std::nan("") : sum / static_cast<double>(x.size());
}

double Std(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  const double m = Mean(x);
  double sum = 0.0;
  for (double v : x) sum += (v - m) * (v - m);
  return std::sqrt(sum / static_cast<double>(x.size() - 1));
}

/// One run's means over its updates.
struct RunStats {
  double approx_kl = 0.0;
  double clip_fraction = 0.0;
  double explained_variance = 0.0;       // mean over all updates
  double explained_variance_late = 0.0;  // mean over the last third of the updates
  double explained_variance_last = 0.0;
  int updates = 0;
};

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{
      "PPO update stability (approx_kl, clip_fraction, explained variance) on robot tasks"};
  app.add_option("--configs", options.configs, "training configs (YAML), comma-separated")
      ->delimiter(',');
  app.add_option("--envs", options.envs, "environment.name for each config, comma-separated")
      ->delimiter(',');
  app.add_option("--seeds", options.seeds, "comma-separated seeds")->delimiter(',');
  app.add_option("--timesteps", options.timesteps, "env steps per run");
  app.add_option("--set", options.sets, "key=value applied to every config (repeatable)");
  app.add_option("--obs-gain", options.obs_gain,
                 "experiment: multiply every observation value by this on top of the task's");
  app.add_option("--out", options.out, "folder for the models");
  CLI11_PARSE(app, argc, argv);
  if (options.envs.size() != options.configs.size()) {
    std::fprintf(stderr, "error: --envs needs one name per --configs entry\n");
    return 2;
  }

  try {
    std::printf("%-18s %5s %9s %9s %9s %9s %9s %7s\n", "env", "seed", "kl", "clipfrac", "ev_mean",
                "ev_late", "ev_last", "updates");
    std::map<std::string, std::vector<RunStats>> by_env;
    for (size_t c = 0; c < options.configs.size(); ++c) {
      for (uint64_t seed : options.seeds) {
        // The config as written, then the env name, the budget, the bench's own settings.
        rlpipe::config::Tree tree = rlpipe::config::LoadYamlFile(options.configs[c]);
        rlpipe::config::SetPath(tree, "environment.name", options.envs[c]);
        for (const std::string& set : options.sets) {
          const size_t eq = set.find('=');
          if (eq == std::string::npos) throw rlpipe::ConfigError("--set " + set + ": expected k=v");
          rlpipe::config::SetPath(tree, set.substr(0, eq), set.substr(eq + 1));
        }
        rlpipe::config::SetPath(tree, "training.total_timesteps",
                                std::to_string(options.timesteps));
        rlpipe::config::SetPath(tree, "training.eval_freq", "0");
        rlpipe::config::SetPath(tree, "training.save_freq", "0");
        rlpipe::config::SetPath(tree, "training.log_interval", "1");
        rlpipe::algos::TrainingRequest request;
        request.config = rlpipe::config::ParseExperimentConfig(tree);
        request.seed = seed;
        request.models_dir = options.out / (options.envs[c] + "_" + std::to_string(seed));

        // Every update's diagnostics (log_interval 1: one progress event per rollout).
        std::vector<double> kl, clip, ev;
        int64_t last_timesteps = -1;
        request.hooks.on_progress = [&](const rlpipe::algos::ProgressEvent& e) {
          // The closing event repeats the last update's diagnostics: count each update once.
          if (e.timesteps == last_timesteps) return;
          last_timesteps = e.timesteps;
          const auto get = [&e](const char* key) {
            const auto it = e.losses.find(key);
            return it == e.losses.end() ? std::nan("") : it->second;
          };
          if (e.losses.contains("train/approx_kl")) {
            kl.push_back(get("train/approx_kl"));
            clip.push_back(get("train/clip_fraction"));
            ev.push_back(get("train/explained_variance"));
            std::printf(
                "  %s seed %llu @%lld: kl %.4f clip %.3f ev %.3f std %.4f value_loss %.4g return "
                "%.2f\n",
                options.envs[c].c_str(), static_cast<unsigned long long>(seed),
                static_cast<long long>(e.timesteps), kl.back(), clip.back(), ev.back(),
                get("train/std"), get("train/value_loss"),
                e.mean_episode_return.value_or(std::nan("")));
            std::fflush(stdout);
          }
        };
        const double gain = options.obs_gain;
        rlpipe::algos::TrainOnPolicy(request, [env = request.config.environment, gain] {
          std::unique_ptr<rlpipe::envs::Env> made = rlpipe::envs::MakeEnv(env);
          if (gain == 1.0) return made;
          const auto dim = static_cast<size_t>(made->Spec().observation_space.Dim());
          return std::unique_ptr<rlpipe::envs::Env>(
              std::make_unique<rlpipe::envs::ObservationScale>(
                  std::move(made), std::vector<float>(dim, static_cast<float>(gain))));
        });

        RunStats s;
        s.updates = static_cast<int>(kl.size());
        s.approx_kl = Mean(kl);
        s.clip_fraction = Mean(clip);
        s.explained_variance = Mean(ev);
        const std::vector<double> late(ev.begin() + static_cast<std::ptrdiff_t>(ev.size() * 2 / 3),
                                       ev.end());
        s.explained_variance_late = Mean(late);
        s.explained_variance_last = ev.empty() ? std::nan("") : ev.back();
        std::printf("%-18s %5llu %9.4f %9.3f %9.3f %9.3f %9.3f %7d\n", options.envs[c].c_str(),
                    static_cast<unsigned long long>(seed), s.approx_kl, s.clip_fraction,
                    s.explained_variance, s.explained_variance_late, s.explained_variance_last,
                    s.updates);
        std::fflush(stdout);
        by_env[options.envs[c]].push_back(s);
      }
    }

    // Mean ± std over seeds, and the verdict per env.
    std::printf("summary over seeds (acceptance: kl <= 0.05, clip_fraction <= 0.3, ev > 0.5):\n");
    for (const auto& [env, runs] : by_env) {
      std::vector<double> kl, clip, ev_late;
      for (const RunStats& s : runs) {
        kl.push_back(s.approx_kl);
        clip.push_back(s.clip_fraction);
        ev_late.push_back(s.explained_variance_late);
      }
      const bool pass = *std::max_element(kl.begin(), kl.end()) <= 0.05 &&
                        *std::max_element(clip.begin(), clip.end()) <= 0.3 &&
                        *std::min_element(ev_late.begin(), ev_late.end()) > 0.5;
      std::printf(
          "  %-18s kl %.4f ± %.4f  clip_fraction %.3f ± %.3f  ev(last third) %.3f ± %.3f"
          "  %s\n",
          env.c_str(), Mean(kl), Std(kl), Mean(clip), Std(clip), Mean(ev_late), Std(ev_late),
          pass ? "PASS" : "FAIL");
    }
    return 0;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
