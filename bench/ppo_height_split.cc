// Where PPO's wall time goes on height_maximize: n_envs 8 stepped by 2 threads, a fixed number of
// steps. Two PPO settings in the same run: the shipped configs/examples/height_ppo.yaml (few large
// minibatches) and, as the reference, SB3's defaults (n_steps 2048, batch 64, 10 epochs). Prints
// the split (env stepping, policy inference, buffer/GAE, update, other) and the share of wall time
// outside env stepping (goal <= 30%). A third reference: the same envs stepped alone with random
// actions for the same number of steps, so "env inside training / env alone" shows whether
// training slows the envs down (cache, threads).
//   ppo_height_split [--steps 65536] [--n-envs 8] [--env-threads 2] [--torch-threads 1]
//                    [--config configs/examples/height_ppo.yaml]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "algos/on_policy.h"
#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/error.h"
#include "envs/env.h"
#include "vec/vector_env.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// Seconds to step `n_envs` envs on `threads` threads for `steps` env steps with random actions.
double EnvOnlySeconds(const rlpipe::config::EnvironmentConfig& env_config, int n_envs, int threads,
                      int64_t steps) {
  rlpipe::vec::ThreadedVectorEnv venv(n_envs, threads,
                                      [env_config] { return rlpipe::envs::MakeEnv(env_config); });
  venv.Reset(7);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<std::vector<float>> bank(
      16, std::vector<float>(static_cast<size_t>(venv.ActDim() * n_envs)));
  for (auto& row : bank) {
    for (float& a : row) a = unit(rng);
  }
  const auto start = Clock::now();
  for (int64_t t = 0; t < steps / n_envs; ++t) venv.Step(bank[static_cast<size_t>(t) % 16]);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Split {
  double wall, env, inference, buffer, update, other;
};

Split TrainOnce(const rlpipe::config::ExperimentConfig& config, int64_t steps, int n_envs,
                int env_threads, int torch_threads, const fs::path& dir) {
  rlpipe::algos::TrainingRequest request;
  request.config = config;
  rlpipe::config::ExperimentConfig& c = request.config;
  c.training.n_envs = n_envs;
  c.training.total_timesteps = steps;
  c.training.eval_freq = 0;
  c.training.eval_episodes = 1;
  request.seed = 1;
  request.models_dir = dir;
  rlpipe::algos::LoopOptions options;
  options.env_threads = env_threads;
  options.torch_threads = torch_threads;
  const auto env_config = c.environment;
  const rlpipe::algos::TrainingResult r = rlpipe::algos::TrainOnPolicy(
      request, [env_config] { return rlpipe::envs::MakeEnv(env_config); }, options);
  const rlpipe::algos::TimeSplit& s = r.time_split;
  const double accounted =
      s.env_step_seconds + s.inference_seconds + s.buffer_seconds + s.update_seconds;
  return {r.wall_seconds,   s.env_step_seconds, s.inference_seconds,
          s.buffer_seconds, s.update_seconds,   r.wall_seconds - accounted};
}

void Print(const char* label, const Split& s) {
  auto pct = [&](double x) { return 100.0 * x / s.wall; };
  std::printf(
      "%-16s wall %7.2f s | env %5.1f%% | inference %5.1f%% | buffer/GAE %5.1f%% | update %5.1f%% "
      "| other %5.1f%% | outside env %5.1f%% (goal <= 30%%)\n",
      label, s.wall, pct(s.env), pct(s.inference), pct(s.buffer), pct(s.update), pct(s.other),
      100.0 - pct(s.env));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("PPO on height_maximize: where the wall time goes");
  int64_t steps = 65536;
  int n_envs = 8;
  int env_threads = 2;
  std::vector<int> torch_threads = {1};  // rlpipe's default (issue 2: 1 beats 2 on these MLPs)
  fs::path config_path = fs::path(RLPIPE_SOURCE_DIR) / "configs/examples/height_ppo.yaml";
  app.add_option("--steps", steps, "env steps per training run (over all envs)");
  app.add_option("--n-envs", n_envs, "parallel envs");
  app.add_option("--env-threads", env_threads, "threads stepping the envs");
  app.add_option("--torch-threads", torch_threads, "LibTorch intra-op threads, one run each")
      ->delimiter(',');
  app.add_option("--config", config_path, "the PPO training config measured beside SB3's defaults");
  CLI11_PARSE(app, argc, argv);

  // The shipped config, and SB3's PPO defaults on the same task as the reference.
  rlpipe::config::ExperimentConfig shipped;
  try {
    shipped = rlpipe::config::ParseExperimentConfig(rlpipe::config::LoadYamlFile(config_path));
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  rlpipe::config::ExperimentConfig defaults;
  defaults.environment = shipped.environment;
  const rlpipe::config::PpoConfig& ppo = shipped.agent.Get<rlpipe::config::PpoConfig>();
  const rlpipe::config::PpoConfig& sb3 = defaults.agent.Get<rlpipe::config::PpoConfig>();
  std::printf("%s: n_steps %d, batch_size %d, n_epochs %d; SB3 defaults: %d, %d, %d\n",
              config_path.filename().string().c_str(), ppo.n_steps, ppo.batch_size, ppo.n_epochs,
              sb3.n_steps, sb3.batch_size, sb3.n_epochs);

  const fs::path dir = fs::temp_directory_path() / "rlpipe_ppo_height_split";
  std::printf("PPO height_maximize: %lld steps, %d envs on %d threads (shared machine: noisy)\n",
              static_cast<long long>(steps), n_envs, env_threads);

  // The reference: the envs alone, same steps, same threads.
  const double env_only = EnvOnlySeconds(shipped.environment, n_envs, env_threads, steps);
  std::printf("env alone        %.2f s (%.0f env-steps/s)\n", env_only,
              static_cast<double>(steps) / env_only);

  // One training run per setting and torch thread count.
  for (int threads : torch_threads) {
    for (const auto& [name, config] :
         {std::pair{"shipped", &shipped}, {"sb3-defaults", &defaults}}) {
      fs::remove_all(dir);
      const Split split = TrainOnce(*config, steps, n_envs, env_threads, threads, dir);
      const std::string label = std::string(name) + " t" + std::to_string(threads);
      Print(label.c_str(), split);
      std::printf(
          "%-16s env inside training / env alone = %.3f; training wall / env alone = %.3f\n", "",
          split.env / env_only, split.wall / env_only);
    }
  }
  fs::remove_all(dir);
  return 0;
}
