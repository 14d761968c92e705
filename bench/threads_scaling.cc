// `training.threads` end to end: the same session (PPO on height_maximize, 8 envs, periodic
// evaluations) trained through algos::Train with threads 1 and with threads 2, alternating, and
// the ratio of their env-steps/s (issue 18: >= 1.7x). Also checks that the two runs end with the
// same evaluation returns (env stepping and evaluation do not depend on the thread count).
//   threads_scaling [--steps 16384] [--reps 3] [--config configs/examples/height_ppo.yaml]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "algos/train.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/error.h"

namespace {

namespace fs = std::filesystem;

struct Run {
  double steps_per_second = 0.0;
  double eval_return = 0.0;
  double wall = 0.0;
};

Run TrainOnce(const rlpipe::config::ExperimentConfig& config, int threads, const fs::path& dir) {
  rlpipe::algos::TrainingRequest request;
  request.config = config;
  request.config.training.threads = threads;
  request.seed = 1;
  fs::remove_all(dir);
  request.models_dir = dir;
  const rlpipe::algos::TrainingResult r = rlpipe::algos::Train(request);
  fs::remove_all(dir);
  return {static_cast<double>(r.timesteps) / r.wall_seconds, r.final_mean_return.value_or(0.0),
          r.wall_seconds};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("training.threads 2 against 1, end to end");
  int64_t steps = 16384;
  int reps = 3;
  int n_envs = 8;
  int eval_episodes = 4;
  fs::path config_path = fs::path(RLPIPE_SOURCE_DIR) / "configs/examples/height_ppo.yaml";
  app.add_option("--steps", steps, "env steps per training run (over all envs)");
  app.add_option("--reps", reps, "alternating runs per thread count");
  app.add_option("--n-envs", n_envs, "parallel envs");
  app.add_option("--eval-episodes", eval_episodes, "episodes per evaluation");
  app.add_option("--config", config_path, "the training config");
  CLI11_PARSE(app, argc, argv);

  try {
    rlpipe::config::ExperimentConfig config =
        rlpipe::config::ParseExperimentConfig(rlpipe::config::LoadYamlFile(config_path));
    config.training.n_envs = n_envs;
    config.training.total_timesteps = steps;
    config.training.eval_freq = steps / 2;  // one evaluation halfway, one at the end
    config.training.eval_episodes = eval_episodes;
    config.training.save_freq = 0;
    config.training.log_interval = 1000000;
    std::printf("%s on %s: %lld steps, %d envs, evaluations of %d episodes at %lld and the end\n",
                rlpipe::config::ToString(config.agent.algorithm()).c_str(),
                config.environment.name.c_str(), static_cast<long long>(steps), n_envs,
                eval_episodes, static_cast<long long>(steps / 2));

    const fs::path dir = fs::temp_directory_path() / "rlpipe_threads_scaling";
    std::vector<double> one, two;
    double return_one = 0.0, return_two = 0.0;
    for (int r = 0; r < reps; ++r) {
      const Run a = TrainOnce(config, 1, dir);
      const Run b = TrainOnce(config, 2, dir);
      one.push_back(a.steps_per_second);
      two.push_back(b.steps_per_second);
      return_one = a.eval_return;
      return_two = b.eval_return;
      std::printf("  rep %d: threads 1 %.0f env-steps/s (%.1f s), threads 2 %.0f (%.1f s)\n", r,
                  a.steps_per_second, a.wall, b.steps_per_second, b.wall);
      std::fflush(stdout);
    }
    const double ratio = Median(two) / Median(one);
    std::printf(
        "threads 2 / threads 1 = %.2fx (median env-steps/s %.0f / %.0f); final eval "
        "return %.3f vs %.3f (%s)\n",
        ratio, Median(two), Median(one), return_two, return_one,
        return_one == return_two ? "equal" : "DIFFERENT");
    return return_one == return_two ? 0 : 1;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
