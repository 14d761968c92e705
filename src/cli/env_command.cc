#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "envs/env.h"
#include "envs/registry.h"
#include "envs/time_limit.h"
#include "sim/warning_source.h"
#include "vec/vector_env.h"

namespace rlpipe::cli {
namespace {

/// Options of `rlpipe env rollout`.
struct RolloutOptions {
  std::string task;
  int steps = 1000;  // batched steps
  int n_envs = 1;
  int threads = 1;
  uint64_t seed = 0;
};

/// The registry row of `name` (name or alias); ConfigError listing valid names otherwise.
const envs::TaskRegistration& TaskOrFail(const std::string& name) {
  if (const envs::TaskRegistration* task = envs::FindTask(name)) return *task;
  std::string valid;
  for (const auto& row : envs::TaskRegistry()) valid += (valid.empty() ? "" : ", ") + row.info.name;
  throw ConfigError("unknown task '" + name + "' (valid: " + valid + ")");
}

/// Prints one task: description, horizon, aliases, parameters and space sizes.
int PrintInfo(const std::string& name) {
  const envs::TaskRegistration& task = TaskOrFail(name);
  config::EnvironmentConfig cfg;
  cfg.name = task.info.name;
  const std::unique_ptr<envs::Env> env = envs::MakeEnv(cfg);
  const envs::EnvSpec& spec = env->Spec();
  std::printf("%s\n  %s\n", task.info.name.c_str(), task.info.description.c_str());
  std::string aliases;
  for (const auto& alias : task.aliases) aliases += (aliases.empty() ? "" : ", ") + alias;
  std::printf("  aliases:           %s\n", aliases.empty() ? "-" : aliases.c_str());
  std::printf("  max_episode_steps: %d\n", spec.max_episode_steps);
  std::printf("  observation:       %d values\n", spec.observation_space.Dim());
  std::printf("  action:            %d values in [%g, %g]\n", spec.action_space.Dim(),
              spec.action_space.low.empty() ? 0.0 : spec.action_space.low[0],
              spec.action_space.high.empty() ? 0.0 : spec.action_space.high[0]);
  std::printf("  parameters (environment: keys): name, default, valid values, unit, meaning\n");
  for (const auto& p : task.info.params) {
    std::printf("    %-24s %-10g %-16s %-6s %s\n", p.name.c_str(), p.default_value,
                p.RangeText().c_str(), p.unit.empty() ? "-" : p.unit.c_str(),
                p.description.c_str());
  }
  return 0;
}

/// MuJoCo warnings over every env of the batch (0 for tasks without a simulator).
int64_t WarningsOf(vec::VectorEnv& venv, std::string* summary) {
  int64_t total = 0;
  for (int i = 0; i < venv.Size(); ++i) {
    envs::Env* env = &venv.At(i);
    if (auto* limited = dynamic_cast<envs::TimeLimit*>(env)) env = &limited->inner();
    if (const auto* source = dynamic_cast<const sim::WarningSource*>(env)) {
      total += source->WarningCount();
      if (source->WarningCount() > 0 && summary->empty()) *summary = source->WarningSummary();
    }
  }
  return total;
}

/// Steps M envs K times with uniform random actions and reports throughput and episodes.
int Rollout(const RolloutOptions& options) {
  const envs::TaskRegistration& task = TaskOrFail(options.task);
  if (options.steps < 1 || options.n_envs < 1 || options.threads < 1) {
    throw ConfigError("env rollout: --steps, --n-envs and --threads must be >= 1");
  }
  config::EnvironmentConfig cfg;
  cfg.name = task.info.name;
  const vec::VectorEnv::Factory factory = [&cfg] { return envs::MakeEnv(cfg); };
  std::unique_ptr<vec::VectorEnv> venv =
      options.threads > 1
          ? std::make_unique<vec::ThreadedVectorEnv>(options.n_envs, options.threads, factory)
          : std::make_unique<vec::VectorEnv>(options.n_envs, factory);

  // Random actions drawn up front so the timing measures the envs alone.
  const envs::Box& box = venv->Spec().action_space;
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  constexpr int kActionBank = 64;
  std::vector<std::vector<float>> bank(kActionBank);
  for (auto& actions : bank) {
    for (int i = 0; i < venv->Size(); ++i) {
      for (int j = 0; j < box.Dim(); ++j) {
        actions.push_back(static_cast<float>(box.low[j] + unit(rng) * (box.high[j] - box.low[j])));
      }
    }
  }

  // Step, counting finished episodes and their returns.
  venv->Reset(options.seed);
  int64_t episodes = 0;
  double return_sum = 0.0;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < options.steps; ++t) {
    const vec::BatchStep& step = venv->Step(bank[static_cast<size_t>(t % kActionBank)]);
    for (const auto& episode : step.finished) {
      ++episodes;
      return_sum += episode.episode_return;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double env_steps = static_cast<double>(options.steps) * venv->Size();
  std::string summary;
  const int64_t warnings = WarningsOf(*venv, &summary);
  std::printf("%s: %d steps x %d envs on %d thread(s) in %.3f s = %.0f env-steps/s\n",
              task.info.name.c_str(), options.steps, venv->Size(), options.threads, seconds,
              env_steps / seconds);
  std::printf("episodes finished: %lld", static_cast<long long>(episodes));
  if (episodes > 0) std::printf(", mean return %.4g", return_sum / static_cast<double>(episodes));
  std::printf("\nMuJoCo warnings: %lld%s%s\n", static_cast<long long>(warnings),
              summary.empty() ? "" : " ", summary.c_str());
  return 0;
}

}  // namespace

void AddEnvCommand(CLI::App& app, CommandFn* run) {
  CLI::App* cmd = app.add_subcommand("env", "Inspect the registered training tasks.");
  cmd->require_subcommand(1);

  // env list
  CLI::App* list = cmd->add_subcommand("list", "List tasks with their parameters and defaults.");
  list->callback([run] {
    *run = [] {
      for (const auto& task : envs::RegisteredTasks()) {
        std::printf("%s  (max_episode_steps %d)\n  %s\n", task.name.c_str(),
                    task.default_max_episode_steps, task.description.c_str());
        for (const auto& p : task.params) {
          std::printf("    %-24s %-10g %s\n", p.name.c_str(), p.default_value,
                      p.description.c_str());
        }
      }
      return 0;
    };
  });

  // env info NAME
  auto info_name = std::make_shared<std::string>();
  CLI::App* info = cmd->add_subcommand("info", "Show one task: spaces, horizon, parameters.");
  info->add_option("name", *info_name, "task name or alias")->required();
  info->callback([run, info_name] { *run = [info_name] { return PrintInfo(*info_name); }; });

  // env rollout NAME [--steps K] [--n-envs M] [--threads T] [--seed S]
  auto options = std::make_shared<RolloutOptions>();
  CLI::App* rollout =
      cmd->add_subcommand("rollout", "Step a task with random actions and report env-steps/s.");
  rollout->add_option("name", options->task, "task name or alias")->required();
  rollout->add_option("--steps", options->steps, "batched steps (default 1000)");
  rollout->add_option("--n-envs", options->n_envs, "parallel envs (default 1)");
  rollout->add_option("--threads", options->threads, "threads stepping the envs (default 1)");
  rollout->add_option("--seed", options->seed, "seed of the envs and the actions (default 0)");
  rollout->callback([run, options] { *run = [options] { return Rollout(*options); }; });
}

}  // namespace rlpipe::cli
