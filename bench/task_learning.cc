// Does a robot task learn with its shipped config (issue 15)? One task, one config, N seeds:
//  1. a random policy (uniform actions in [-1, 1]) on E evaluation episodes: the task's own
//     statistic (below), the reference;
//  2. PPO training with the config; every --eval-every steps the deterministic policy of that
//     checkpoint runs the same E episodes (same seeds): its mean statistic and the ratio (or, for
//     statistics that can be <= 0 at random, the difference) to the random policy's.
// Long: hours of CPU per task. Run it in the background, niced, and quote its log.
//
// The statistic of each task (an `info` key at the episode's last step, or summed over steps):
//   height_maximize      best_height (m)                   target: >= 2 x random
//   crush_resistance     survival_seconds (s)              target: >= 1.5 x random
//   object_displacement  best_displacement (m)             target: >= 2 x random
//   object_manipulation  sum of progress (m closer)        target: > random
//   obstacle_navigation  targets_reached                   target: >= 2 x random
//   terrain_traversal    progress (m)                      target: >= 2 x random
//   narrow_passage       checkpoints_passed                target: >= 2 x random
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "algos/on_policy.h"
#include "algos/policy_factory.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "config/experiment_config.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/seed.h"
#include "envs/env.h"
#include "nn/threads.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// How a task's statistic is read and judged.
struct TaskStatistic {
  std::string task;
  std::string key;      // info key
  bool sum = false;     // summed over the episode's steps (else the last step's value)
  double target = 2.0;  // required ratio trained / random (1.0: strictly better)
};

const std::vector<TaskStatistic>& Statistics() {
  static const std::vector<TaskStatistic> kStatistics = {
      {"height_maximize", "best_height", false, 2.0},
      {"crush_resistance", "survival_seconds", false, 1.5},
      {"object_displacement", "best_displacement", false, 2.0},
      {"object_manipulation", "progress", true, 1.0},
      {"obstacle_navigation", "targets_reached", false, 2.0},
      {"terrain_traversal", "progress", false, 2.0},
      {"narrow_passage", "checkpoints_passed", false, 2.0},
  };
  return kStatistics;
}

/// Bench flags.
struct BenchOptions {
  std::string config;
  std::vector<uint64_t> seeds{1, 2, 3};
  int64_t timesteps = 2'000'000;
  int64_t eval_every = 100'000;
  int eval_episodes = 10;
  std::vector<std::string> sets;
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_task_learning";
  fs::path models;  // when set: no training, evaluate the checkpoints a run left there
};

/// Mean statistic and return over the evaluation episodes.
struct Evaluation {
  std::vector<double> stats;  // per episode
  double mean_stat = 0.0;
  double mean_return = 0.0;
  double mean_length = 0.0;
};

/// Runs the evaluation episodes (seeds derived from `seed`) with `act(obs, action)`.
template <typename ActFn>
Evaluation Evaluate(const rlpipe::config::EnvironmentConfig& env_config,
                    const TaskStatistic& statistic, uint64_t seed, int episodes, ActFn act) {
  auto env = rlpipe::envs::MakeEnv(env_config);
  const rlpipe::envs::EnvSpec& spec = env->Spec();
  std::vector<float> obs(static_cast<size_t>(spec.observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(spec.action_space.Dim()));
  Evaluation result;
  const uint64_t eval_seed = rlpipe::DeriveSeed(seed, "task_eval");
  for (int e = 0; e < episodes; ++e) {
    env->Reset(rlpipe::DeriveSeed(eval_seed, static_cast<uint64_t>(e)), obs);
    double stat = 0.0;
    for (bool done = false; !done;) {
      act(obs, action);
      const rlpipe::envs::StepResult step = env->Step(action, obs);
      const auto it = step.info.find(statistic.key);
      const double value = it == step.info.end() ? 0.0 : it->second;
      stat = statistic.sum ? stat + value : value;
      result.mean_return += step.reward;
      result.mean_length += 1.0;
      done = step.terminated || step.truncated;
    }
    result.mean_stat += stat;
    result.stats.push_back(stat);
  }
  result.mean_stat /= episodes;
  result.mean_return /= episodes;
  result.mean_length /= episodes;
  return result;
}

/// The deterministic policy of a saved model (observations as the env gives them: the shipped
/// configs do not normalise).
Evaluation EvaluateModel(const rlpipe::config::ExperimentConfig& c,
                         const rlpipe::envs::EnvSpec& spec, const TaskStatistic& statistic,
                         uint64_t seed, int episodes, const fs::path& path) {
  rlpipe::nn::ActorCritic policy = rlpipe::algos::MakeActorCritic(c, spec, 0);
  rlpipe::checkpoint::LoadWeightsInto(*policy, rlpipe::checkpoint::LoadModel(path).state_dict,
                                      path.string());
  const auto obs_dim = static_cast<int64_t>(spec.observation_space.Dim());
  return Evaluate(c.environment, statistic, seed, episodes,
                  [&](const std::vector<float>& obs, std::vector<float>& action) {
                    torch::NoGradGuard no_grad;
                    torch::Tensor x = torch::from_blob(const_cast<float*>(obs.data()), {1, obs_dim},
                                                       torch::kFloat32);
                    torch::Tensor mean = policy->forward(x).mean.clamp(-1.0, 1.0).contiguous();
                    std::copy_n(mean.data_ptr<float>(), action.size(), action.begin());
                  });
}

double Mean(const std::vector<double>& x) {
  double s = 0.0;
  for (double v : x) s += v;
  return x.empty() ? 0.0 : s / static_cast<double>(x.size());
}

double Std(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  const double m = Mean(x);
  double s = 0.0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"a robot task's learning with its shipped config against a random policy"};
  app.add_option("--config", options.config, "training config (YAML), e.g. configs/height_ppo.yaml")
      ->required();
  app.add_option("--seeds", options.seeds, "comma-separated seeds")->delimiter(',');
  app.add_option("--timesteps", options.timesteps, "env steps of training per seed");
  app.add_option("--eval-every", options.eval_every, "env steps between evaluations");
  app.add_option("--eval-episodes", options.eval_episodes, "episodes per evaluation");
  app.add_option("--set", options.sets, "key=value applied to the config (repeatable)");
  app.add_option("--out", options.out, "folder for the models");
  app.add_option("--models", options.models,
                 "no training: evaluate the checkpoints of an earlier run (its <task>_seed<seed> "
                 "folder) on --eval-episodes episodes of --seeds' first seed, with each episode's "
                 "statistic");
  CLI11_PARSE(app, argc, argv);

  try {
    rlpipe::nn::SetIntraOpThreads(1);
    rlpipe::config::Tree tree = rlpipe::config::LoadYamlFile(options.config);
    for (const std::string& set : options.sets) {
      const size_t eq = set.find('=');
      if (eq == std::string::npos) throw rlpipe::ConfigError("--set " + set + ": expected k=v");
      rlpipe::config::SetPath(tree, set.substr(0, eq), set.substr(eq + 1));
    }
    rlpipe::config::SetPath(tree, "training.total_timesteps", std::to_string(options.timesteps));
    rlpipe::config::SetPath(tree, "training.save_freq", std::to_string(options.eval_every));
    rlpipe::config::SetPath(tree, "training.keep_checkpoints", "0");
    const rlpipe::config::ExperimentConfig config = rlpipe::config::ParseExperimentConfig(tree);
    const std::string task = rlpipe::envs::MakeEnv(config.environment)->Spec().name;
    const auto found = std::find_if(Statistics().begin(), Statistics().end(),
                                    [&](const TaskStatistic& s) { return s.task == task; });
    if (found == Statistics().end()) throw rlpipe::ConfigError("no statistic for task " + task);
    const TaskStatistic& statistic = *found;
    if (config.training.normalize.obs) {
      throw rlpipe::ConfigError("training.normalize: the bench evaluates raw observations");
    }
    const rlpipe::envs::EnvSpec spec = rlpipe::envs::MakeEnv(config.environment)->Spec();
    std::printf("task %s, config %s, statistic %s%s, %lld steps per seed\n", task.c_str(),
                options.config.c_str(), statistic.sum ? "sum of " : "", statistic.key.c_str(),
                static_cast<long long>(options.timesteps));

    if (!options.models.empty()) {
      // Re-evaluation of an earlier run's checkpoints (e.g. on more episodes), in step order.
      const uint64_t seed = options.seeds.front();
      std::vector<std::pair<int64_t, fs::path>> models;
      for (const auto& entry : fs::directory_iterator(options.models / "checkpoints")) {
        const std::string name = entry.path().filename().string();  // rl_model_<n>_steps.zip
        if (name.starts_with("rl_model_")) models.emplace_back(std::stoll(name.substr(9)), entry);
      }
      std::sort(models.begin(), models.end());
      if (fs::exists(options.models / "final_model.zip")) {
        models.emplace_back(-1, options.models / "final_model.zip");
      }
      for (const auto& [steps, path] : models) {
        const Evaluation e =
            EvaluateModel(config, spec, statistic, seed, options.eval_episodes, path);
        std::printf("%-28s %s %.3f, return %.1f, per episode:", path.filename().c_str(),
                    statistic.key.c_str(), e.mean_stat, e.mean_return);
        for (double v : e.stats) std::printf(" %.2f", v);
        std::printf("\n");
        std::fflush(stdout);
      }
      return 0;
    }

    std::vector<double> random_stats, best_stats, final_stats, best_ratios;
    for (uint64_t seed : options.seeds) {
      // 1. The random policy on this seed's evaluation episodes.
      std::mt19937_64 rng(rlpipe::DeriveSeed(seed, "random_policy"));
      std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
      const Evaluation random =
          Evaluate(config.environment, statistic, seed, options.eval_episodes,
                   [&](const std::vector<float>&, std::vector<float>& action) {
                     for (float& a : action) a = uniform(rng);
                   });
      std::printf("seed %llu: random policy %s %.3f, return %.1f, length %.0f (%d episodes)\n",
                  static_cast<unsigned long long>(seed), statistic.key.c_str(), random.mean_stat,
                  random.mean_return, random.mean_length, options.eval_episodes);
      std::fflush(stdout);

      // 2. Training; each periodic checkpoint is evaluated as soon as it appears.
      const fs::path out = options.out / (task + "_seed" + std::to_string(seed));
      fs::remove_all(out);
      rlpipe::algos::TrainingRequest request;
      request.config = config;
      request.seed = seed;
      request.models_dir = out;
      std::set<fs::path> evaluated;
      double best = -1e300;
      const Clock::time_point start = Clock::now();
      std::printf("%9s %8s %12s %12s %10s %8s %8s\n", "steps", "wall s", "stat", "return", "length",
                  "ratio", "diff");
      const auto evaluate_new = [&] {
        const fs::path dir = out / "checkpoints";
        if (!fs::exists(dir)) return;
        std::vector<std::pair<int64_t, fs::path>> fresh;
        for (const auto& entry : fs::directory_iterator(dir)) {
          const std::string name = entry.path().filename().string();  // rl_model_<n>_steps.zip
          if (evaluated.contains(entry.path()) || !name.starts_with("rl_model_")) continue;
          fresh.emplace_back(std::stoll(name.substr(9)), entry.path());
        }
        std::sort(fresh.begin(), fresh.end());
        for (const auto& [steps, path] : fresh) {
          evaluated.insert(path);
          const Evaluation e =
              EvaluateModel(config, spec, statistic, seed, options.eval_episodes, path);
          best = std::max(best, e.mean_stat);
          std::printf("%9lld %8.0f %12.3f %12.1f %10.0f %8.2f %8.3f\n",
                      static_cast<long long>(steps),
                      std::chrono::duration<double>(Clock::now() - start).count(), e.mean_stat,
                      e.mean_return, e.mean_length,
                      random.mean_stat > 0 ? e.mean_stat / random.mean_stat : std::nan(""),
                      e.mean_stat - random.mean_stat);
          std::fflush(stdout);
        }
      };
      request.hooks.on_progress = [&](const rlpipe::algos::ProgressEvent&) { evaluate_new(); };
      const rlpipe::algos::TrainingResult result = rlpipe::algos::TrainOnPolicy(
          request, [env = config.environment] { return rlpipe::envs::MakeEnv(env); });
      evaluate_new();
      const Evaluation final_eval =
          EvaluateModel(config, spec, statistic, seed, options.eval_episodes, *result.final_model);
      best = std::max(best, final_eval.mean_stat);
      const double ratio = random.mean_stat > 0 ? best / random.mean_stat : std::nan("");
      std::printf(
          "seed %llu: final %s %.3f, best %.3f, random %.3f, best ratio %.2f (target %s %.1f); "
          "%lld steps in %.0f s\n",
          static_cast<unsigned long long>(seed), statistic.key.c_str(), final_eval.mean_stat, best,
          random.mean_stat, ratio, statistic.target > 1.0 ? ">=" : ">", statistic.target,
          static_cast<long long>(result.timesteps), result.wall_seconds);
      std::fflush(stdout);
      random_stats.push_back(random.mean_stat);
      best_stats.push_back(best);
      final_stats.push_back(final_eval.mean_stat);
      best_ratios.push_back(ratio);
    }
    std::printf(
        "summary %s over %zu seeds: random %.3f ± %.3f, best %.3f ± %.3f, final %.3f ± %.3f, "
        "best ratio %.2f ± %.2f\n",
        task.c_str(), options.seeds.size(), Mean(random_stats), Std(random_stats), Mean(best_stats),
        Std(best_stats), Mean(final_stats), Std(final_stats), Mean(best_ratios), Std(best_ratios));
    return 0;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
