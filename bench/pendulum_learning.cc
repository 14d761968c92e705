// SAC, TD3 or A2C on Pendulum-v1 with RL Zoo's hyper-parameters: the learning acceptance
// benchmark of the issue-4 algorithms (PPO has its own, ppo_pendulum_learning).
//
// For each seed: the learning curve (timesteps, mean eval return), the final and best mean eval
// return, env-steps/s and the share of wall time in collection vs updates; then the mean ± std of
// the final mean eval return over seeds and how many seeds reached the target (SAC/TD3 >= -250
// within 20k steps, A2C >= -400 within 500k steps).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "core/error.h"

namespace {

namespace fs = std::filesystem;
using rlpipe::algos::TrainingRequest;
using rlpipe::algos::TrainingResult;
using rlpipe::config::Algorithm;

/// Bench flags (0 = the algorithm's default from the table below).
struct BenchOptions {
  std::string algorithm = "sac";
  std::vector<uint64_t> seeds{1, 2, 3};
  int64_t timesteps = 0;
  int64_t eval_freq = 0;
  int eval_episodes = 10;
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_pendulum";
  bool no_sde = false;  // A2C: plain Gaussian exploration instead of the zoo's gSDE
};

/// One row of the table: the config and what counts as learned.
struct BenchSetting {
  rlpipe::config::ExperimentConfig config;
  double target_return = -250.0;
};

// RL Zoo's Pendulum-v1 settings on top of SB3's defaults for each algorithm.
BenchSetting PendulumSetting(const std::string& name) {
  const std::map<std::string, Algorithm> algorithms = {
      {"sac", Algorithm::kSac}, {"td3", Algorithm::kTd3}, {"a2c", Algorithm::kA2c}};
  if (!algorithms.contains(name))
    throw rlpipe::ConfigError("--algorithm: expected sac, td3 or a2c");
  const Algorithm algorithm = algorithms.at(name);
  BenchSetting s;
  rlpipe::config::ExperimentConfig& c = s.config;
  c.environment.name = "pendulum";
  c.agent = rlpipe::config::DefaultAgentConfig(algorithm);
  c.network = rlpipe::config::DefaultNetworkConfig(algorithm);
  c.training.log_interval = 1000000;  // progress only at the end
  switch (algorithm) {
    case Algorithm::kSac:
      // rl-zoo sac.yml: learning_rate 1e-3, 20k steps.
      c.agent.common().learning_rate = 1e-3;
      c.training.total_timesteps = 20000;
      c.training.eval_freq = 2000;
      break;
    case Algorithm::kTd3:
      // rl-zoo td3.yml: gamma 0.98, buffer 200k, learning_starts 10k, normal noise 0.1, 20k steps.
      c.agent.common().gamma = 0.98;
      c.agent.off_policy()->buffer_size = 200000;
      c.agent.off_policy()->learning_starts = 10000;
      c.agent.off_policy()->action_noise = {rlpipe::config::ActionNoiseType::kNormal, 0.1};
      c.training.total_timesteps = 20000;
      c.training.eval_freq = 2000;
      break;
    case Algorithm::kA2c:
      // rl-zoo a2c.yml: gSDE, VecNormalize (observations and rewards), 8 envs, n_steps 8,
      // gamma 0.9, gae_lambda 0.9, vf_coef 0.4, lin_7e-4, log_std_init -2, ortho_init False,
      // RMSprop (SB3's A2C default); 500k steps (the zoo trains 1M). --no-sde for the reference.
      {
        rlpipe::config::OnPolicyConfig& a2c = *c.agent.on_policy();
        a2c.n_steps = 8;
        a2c.gamma = 0.9;
        a2c.gae_lambda = 0.9;
        a2c.vf_coef = 0.4;
        a2c.learning_rate = 7e-4;
        a2c.learning_rate_linear = true;
        a2c.log_std_init = -2.0;
        a2c.use_sde = true;
      }
      c.network.ortho_init = false;
      c.training.n_envs = 8;
      c.training.normalize.obs = true;
      c.training.normalize.reward = true;
      c.training.total_timesteps = 500000;
      c.training.eval_freq = 25000;
      s.target_return = -400.0;
      break;
    case Algorithm::kPpo:
      break;
  }
  c.network.qf_layers = c.network.value_layers;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"SAC / TD3 / A2C on pendulum (RL Zoo Pendulum-v1 hyper-parameters)"};
  app.add_option("--algorithm", options.algorithm, "sac, td3 or a2c");
  app.add_option("--seeds", options.seeds, "comma-separated seeds")->delimiter(',');
  app.add_option("--timesteps", options.timesteps, "env steps per seed (0 = the algorithm's)");
  app.add_option("--eval-freq", options.eval_freq, "env steps between evaluations (0 = default)");
  app.add_option("--eval-episodes", options.eval_episodes, "episodes per evaluation");
  app.add_option("--out", options.out, "folder for the models");
  app.add_flag("--no-sde", options.no_sde, "A2C without gSDE (the reference for its effect)");
  CLI11_PARSE(app, argc, argv);

  try {
    BenchSetting setting = PendulumSetting(options.algorithm);
    rlpipe::config::TrainingConfig& training = setting.config.training;
    if (options.timesteps > 0) training.total_timesteps = options.timesteps;
    if (options.eval_freq > 0) training.eval_freq = options.eval_freq;
    if (options.no_sde && setting.config.agent.on_policy() != nullptr) {
      setting.config.agent.on_policy()->use_sde = false;
    }
    training.eval_episodes = options.eval_episodes;

    std::vector<double> finals;
    int reached = 0;
    for (uint64_t seed : options.seeds) {
      // One training run; the eval hook prints the learning curve.
      TrainingRequest request;
      request.config = setting.config;
      request.seed = seed;
      request.models_dir = options.out / options.algorithm / ("seed_" + std::to_string(seed));
      request.hooks.on_eval = [&](const rlpipe::algos::EvalEvent& e) {
        std::printf("  seed %llu  %7lld steps  mean eval return %8.1f%s\n",
                    static_cast<unsigned long long>(seed), static_cast<long long>(e.timesteps),
                    e.mean_return, e.new_best ? "  (best)" : "");
        std::fflush(stdout);
      };
      const TrainingResult result = rlpipe::algos::Train(request);

      // Per-seed summary.
      const double final_return = result.final_mean_return.value_or(-1e9);
      finals.push_back(final_return);
      if (final_return >= setting.target_return) ++reached;
      std::printf(
          "seed %llu: final %.1f  best %.1f  %lld steps in %.1f s = %.0f env-steps/s  "
          "collect %.0f%%  update %.0f%%\n",
          static_cast<unsigned long long>(seed), final_return,
          result.best_mean_return.value_or(-1e9), static_cast<long long>(result.timesteps),
          result.wall_seconds, static_cast<double>(result.timesteps) / result.wall_seconds,
          100.0 * result.collect_seconds / result.wall_seconds,
          100.0 * result.update_seconds / result.wall_seconds);
      std::fflush(stdout);
    }

    // Mean ± population std of the final evaluation over seeds.
    double mean = 0.0;
    for (double f : finals) mean += f / static_cast<double>(finals.size());
    double var = 0.0;
    for (double f : finals) var += (f - mean) * (f - mean) / static_cast<double>(finals.size());
    std::printf("%s: final mean eval return %.1f ± %.1f over %zu seeds; %d reached >= %.0f\n",
                options.algorithm.c_str(), mean, std::sqrt(var), finals.size(), reached,
                setting.target_return);
    return reached * 3 >= static_cast<int>(finals.size()) * 2 ? 0 : 1;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
