// PPO on Pendulum-v1 with RL Zoo's hyper-parameters: the learning acceptance benchmark.
//
// For each seed: the learning curve (timesteps, mean eval return), the final and best mean eval
// return, env-steps/s and the share of wall time in collection vs updates; then how many seeds
// reached a mean eval return >= -250 (the acceptance criterion: at least 2 of 3 within 100k steps).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "algos/on_policy.h"
#include "algos/train.h"
#include "config/experiment_config.h"
#include "core/error.h"
#include "envs/env.h"

namespace {

namespace fs = std::filesystem;
using rlpipe::algos::TrainingRequest;
using rlpipe::algos::TrainingResult;

constexpr double kTargetReturn = -250.0;

/// Bench flags.
struct BenchOptions {
  std::vector<uint64_t> seeds{1, 2, 3};
  int64_t timesteps = 100000;
  int64_t eval_freq = 10000;
  int eval_episodes = 10;
  int torch_threads = 0;  // 0 = algos::Train's default
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_ppo_pendulum";
};

// RL Zoo's PPO Pendulum-v1 settings (without gSDE), SB3's default 64x64 tanh network.
rlpipe::config::ExperimentConfig PendulumConfig(const BenchOptions& options) {
  rlpipe::config::ExperimentConfig c;
  c.environment.name = "pendulum";
  rlpipe::config::PpoConfig ppo;
  ppo.n_steps = 1024;
  ppo.batch_size = 64;
  ppo.gae_lambda = 0.95;
  ppo.gamma = 0.9;
  ppo.n_epochs = 10;
  ppo.learning_rate = 1e-3;
  ppo.clip_range = 0.2;
  ppo.ent_coef = 0.0;
  c.agent.settings = ppo;
  c.network.policy_layers = {64, 64};
  c.network.value_layers = {64, 64};
  c.network.activation = rlpipe::config::Activation::kTanh;
  c.training.n_envs = 4;
  c.training.total_timesteps = options.timesteps;
  c.training.eval_freq = options.eval_freq;
  c.training.eval_episodes = options.eval_episodes;
  c.training.log_interval = 1000000;  // progress only at the end
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"PPO on pendulum (RL Zoo Pendulum-v1 hyper-parameters)"};
  app.add_option("--seeds", options.seeds, "comma-separated seeds")->delimiter(',');
  app.add_option("--timesteps", options.timesteps, "env steps per seed");
  app.add_option("--eval-freq", options.eval_freq, "env steps between evaluations");
  app.add_option("--eval-episodes", options.eval_episodes, "episodes per evaluation");
  app.add_option("--torch-threads", options.torch_threads,
                 "LibTorch intra-op threads (0 = the default of algos::Train)");
  app.add_option("--out", options.out, "folder for the models");
  CLI11_PARSE(app, argc, argv);

  try {
    int reached = 0;
    double total_steps_per_s = 0.0;
    for (uint64_t seed : options.seeds) {
      // One training run; the eval hook records the learning curve.
      TrainingRequest request;
      request.config = PendulumConfig(options);
      request.seed = seed;
      request.models_dir = options.out / ("seed_" + std::to_string(seed));
      std::vector<std::pair<int64_t, double>> curve;
      request.hooks.on_eval = [&](const rlpipe::algos::EvalEvent& e) {
        curve.emplace_back(e.timesteps, e.mean_return);
        std::printf("  seed %llu  %7lld steps  mean eval return %8.1f%s\n",
                    static_cast<unsigned long long>(seed), static_cast<long long>(e.timesteps),
                    e.mean_return, e.new_best ? "  (best)" : "");
        std::fflush(stdout);
      };
      const TrainingResult result =
          options.torch_threads > 0
              ? rlpipe::algos::TrainOnPolicy(
                    request,
                    [env = request.config.environment] { return rlpipe::envs::MakeEnv(env); },
                    {.torch_threads = options.torch_threads})
              : rlpipe::algos::Train(request);

      // Per-seed summary.
      const double steps_per_s = static_cast<double>(result.timesteps) / result.wall_seconds;
      total_steps_per_s += steps_per_s;
      const double best = result.best_mean_return.value_or(-1e9);
      if (best >= kTargetReturn) ++reached;
      std::printf(
          "seed %llu: final %.1f  best %.1f  %lld steps in %.1f s = %.0f env-steps/s  "
          "collect %.0f%%  update %.0f%%\n",
          static_cast<unsigned long long>(seed), result.final_mean_return.value_or(0.0), best,
          static_cast<long long>(result.timesteps), result.wall_seconds, steps_per_s,
          100.0 * result.collect_seconds / result.wall_seconds,
          100.0 * result.update_seconds / result.wall_seconds);
      std::fflush(stdout);
    }
    std::printf(
        "mean throughput %.0f env-steps/s (torch threads: %s)\n",
        total_steps_per_s / static_cast<double>(options.seeds.size()),
        options.torch_threads > 0 ? std::to_string(options.torch_threads).c_str() : "default");
    std::printf("%d of %zu seeds reached >= %.0f\n", reached, options.seeds.size(), kTargetReturn);
    return reached * 3 >= static_cast<int>(options.seeds.size()) * 2 ? 0 : 1;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
