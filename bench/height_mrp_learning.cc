// PPO with MultiRobotPolicy on height_maximize (N = 2): the multi-robot network's learning
// acceptance benchmark, and its forward + backward cost against the MLP policy.
//
// All in one run, so every number has its reference measured beside it:
//  1. cost: PPO's minibatch forward + backward (Gaussian log-prob + value loss) of the MLP policy
//     and of MultiRobotPolicy on the same observations, interleaved; medians and their ratio;
//  2. the random policy (uniform actions in [-1, 1]): the best height of each evaluation episode;
//  3. training, evaluating every --eval-every steps the deterministic policy on the same episode
//     seeds: mean eval return and the mean best height, and its ratio to the random policy's.
// Acceptance: the trained policy's best mean best height >= 2 x the random policy's.
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "algos/on_policy.h"
#include "algos/policy_factory.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "config/experiment_config.h"
#include "core/error.h"
#include "core/seed.h"
#include "envs/env.h"
#include "nn/diag_gaussian.h"
#include "nn/multi_robot_policy.h"
#include "nn/threads.h"

namespace {

namespace fs = std::filesystem;
using rlpipe::algos::TrainingRequest;
using Clock = std::chrono::steady_clock;

constexpr double kTargetRatio = 2.0;

/// Bench flags.
struct BenchOptions {
  uint64_t seed = 1;
  int64_t timesteps = 1'000'000;
  int64_t eval_every = 50'000;
  int eval_episodes = 5;
  int n_envs = 8;
  int torch_threads = 1;  // rlpipe's default
  // PPO as in configs/examples/height_mrp_ppo.yaml.
  int n_steps = 256;
  int batch_size = 512;
  int n_epochs = 5;
  double learning_rate = 3e-4;
  int embed_dim = 64;
  int cost_batch = 256;
  int cost_iterations = 30;
  int keep_checkpoints = 3;  // training.keep_checkpoints; 0 keeps every evaluation's checkpoint
  bool cost_only = false;
  std::string profile;  // chrome-trace file of a few MultiRobotPolicy steps (empty: none)
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_height_mrp";
};

rlpipe::config::EnvironmentConfig HeightTask() {
  rlpipe::config::EnvironmentConfig env;
  env.name = "height_maximize";
  env.params.kind = rlpipe::config::Tree::Kind::kMap;
  env.params.entries.emplace_back("num_type_b_robots", rlpipe::config::Tree::Scalar("2"));
  return env;
}

rlpipe::config::ExperimentConfig BenchConfig(const BenchOptions& options) {
  rlpipe::config::ExperimentConfig c;
  c.environment = HeightTask();
  rlpipe::config::PpoConfig ppo;
  ppo.policy = rlpipe::config::Policy::kMultiRobot;
  ppo.n_steps = options.n_steps;
  ppo.batch_size = options.batch_size;
  ppo.n_epochs = options.n_epochs;
  ppo.learning_rate = options.learning_rate;
  c.agent.settings = ppo;
  c.network.embed_dim = options.embed_dim;
  c.training.n_envs = options.n_envs;
  c.training.total_timesteps = options.timesteps;
  c.training.eval_freq = options.eval_every;
  c.training.save_freq = options.eval_every;
  c.training.keep_checkpoints = options.keep_checkpoints;
  c.training.eval_episodes = options.eval_episodes;
  c.training.log_interval = 1;
  return c;
}

/// Best heights of the evaluation episodes (same seeds for every policy).
struct HeightEval {
  double mean_best = 0.0;
  double max_best = 0.0;
  double mean_return = 0.0;
};

/// Runs `episodes` episodes with `act(obs, action)` choosing actions in [-1, 1].
template <typename ActFn>
HeightEval EvaluateHeights(const BenchOptions& options, ActFn act) {
  auto env = rlpipe::envs::MakeEnv(HeightTask());
  const rlpipe::envs::EnvSpec& spec = env->Spec();
  std::vector<float> obs(static_cast<size_t>(spec.observation_space.Dim()));
  std::vector<float> action(static_cast<size_t>(spec.action_space.Dim()));
  HeightEval result;
  const uint64_t eval_seed = rlpipe::DeriveSeed(options.seed, "height_eval");
  for (int e = 0; e < options.eval_episodes; ++e) {
    env->Reset(rlpipe::DeriveSeed(eval_seed, static_cast<uint64_t>(e)), obs);
    double best = 0.0;
    for (bool done = false; !done;) {
      act(obs, action);
      const rlpipe::envs::StepResult step = env->Step(action, obs);
      best = step.info.at("best_height");
      result.mean_return += step.reward;
      done = step.terminated || step.truncated;
    }
    result.mean_best += best;
    result.max_best = std::max(result.max_best, best);
  }
  result.mean_best /= options.eval_episodes;
  result.mean_return /= options.eval_episodes;
  return result;
}

/// The deterministic policy of a saved model.
HeightEval EvaluateModel(const BenchOptions& options, const rlpipe::config::ExperimentConfig& c,
                         const rlpipe::envs::EnvSpec& spec, const fs::path& path) {
  rlpipe::nn::ActorCritic policy = rlpipe::algos::MakeActorCritic(c, spec, 0);
  rlpipe::checkpoint::LoadWeightsInto(*policy, rlpipe::checkpoint::LoadModel(path).state_dict,
                                      path.string());
  const auto obs_dim = static_cast<int64_t>(spec.observation_space.Dim());
  return EvaluateHeights(options, [&](const std::vector<float>& obs, std::vector<float>& action) {
    torch::NoGradGuard no_grad;
    torch::Tensor x =
        torch::from_blob(const_cast<float*>(obs.data()), {1, obs_dim}, torch::kFloat32);
    torch::Tensor mean = policy->forward(x).mean.clamp(-1.0, 1.0).contiguous();
    std::copy_n(mean.data_ptr<float>(), action.size(), action.begin());
  });
}

/// Median milliseconds of one PPO-style forward + backward of `policy` on `obs`.
double StepMilliseconds(rlpipe::nn::ActorCritic& policy, const torch::Tensor& obs,
                        const torch::Tensor& actions, const torch::Tensor& returns) {
  const Clock::time_point start = Clock::now();
  rlpipe::nn::ActorCriticOutput out = policy->forward(obs);
  rlpipe::nn::DiagGaussian dist(out.mean, out.log_std);
  torch::Tensor loss = -dist.LogProb(actions).mean() + torch::mse_loss(out.value, returns);
  policy->zero_grad();
  loss.backward();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

// Multiply-adds of an MLP in → layers... → out on one sample.
double MlpMacs(double in, const std::vector<int>& layers, double out) {
  double macs = 0.0;
  for (int h : layers) {
    macs += in * h;
    in = h;
  }
  return macs + in * out;
}

/// Multiply-adds of one MultiRobotPolicy forward pass on one sample (rlpipe's architecture:
/// per-type encoders [d → E → E], task tokens [9 → E → E], attention layers (QKV, scores,
/// context, out, feed-forward), per-robot action heads on 3E, the value head on 2E).
double MrpForwardMacs(const rlpipe::nn::MultiRobotLayout& layout,
                      const rlpipe::config::NetworkConfig& n) {
  const double e = n.embed_dim;
  double macs = 0.0;
  double robots = 0.0;
  for (const auto& t : layout.types) {
    macs += t.count * MlpMacs(t.obs_dim, {n.embed_dim}, e);
    macs += t.count * MlpMacs(3 * e, n.policy_layers, t.act_dim);
    robots += t.count;
  }
  macs += layout.task_obs_dim * MlpMacs(9, {n.embed_dim}, e);
  macs += n.attention_layers * (robots * (3 * e * e + e * e + 2 * e * e) + 2 * robots * robots * e);
  return macs + MlpMacs(2 * e, n.value_layers, 1);
}

/// FLOP/s of a bare 256x256x256 sgemm on this thread count (the roofline's rate).
double GemmFlopsPerSecond() {
  torch::Tensor a = torch::randn({256, 256}), b = torch::randn({256, 256});
  torch::Tensor c = torch::empty({256, 256});
  for (int i = 0; i < 5; ++i) at::mm_out(c, a, b);
  std::vector<double> seconds;
  for (int r = 0; r < 7; ++r) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < 20; ++i) at::mm_out(c, a, b);
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count() / 20);
  }
  std::sort(seconds.begin(), seconds.end());
  return 2.0 * 256 * 256 * 256 / seconds[seconds.size() / 2];
}

void MeasureCost(const BenchOptions& options, const rlpipe::config::ExperimentConfig& mrp_config,
                 const rlpipe::envs::EnvSpec& spec) {
  // Both networks on the same batch, interleaved so machine load hits both alike.
  rlpipe::config::ExperimentConfig mlp_config = mrp_config;
  mlp_config.agent.common().policy = rlpipe::config::Policy::kMlp;
  rlpipe::nn::ActorCritic mlp = rlpipe::algos::MakeActorCritic(mlp_config, spec, 1);
  rlpipe::nn::ActorCritic mrp = rlpipe::algos::MakeActorCritic(mrp_config, spec, 1);
  torch::Generator generator = rlpipe::nn::MakeGenerator(options.seed);
  const int64_t batch = options.cost_batch;
  torch::Tensor obs = at::normal(0.0, 1.0, {batch, spec.observation_space.Dim()}, generator,
                                 torch::TensorOptions(torch::kFloat32));
  torch::Tensor actions = at::normal(0.0, 1.0, {batch, spec.action_space.Dim()}, generator,
                                     torch::TensorOptions(torch::kFloat32));
  torch::Tensor returns =
      at::normal(0.0, 1.0, {batch}, generator, torch::TensorOptions(torch::kFloat32));
  // The same network (same weights) with attention's products as batched matmuls, the code path
  // before fused attention: the reference for that change.
  rlpipe::nn::MultiRobotPolicyOptions matmul_options =
      dynamic_cast<rlpipe::nn::MultiRobotPolicyImpl&>(*mrp).options();
  matmul_options.fused_attention_max_robots = 0;
  rlpipe::nn::ActorCritic mrp_matmul = rlpipe::nn::MultiRobotPolicy(matmul_options);
  std::vector<double> mlp_ms, mrp_ms, matmul_ms;
  for (int i = 0; i < options.cost_iterations + 3; ++i) {
    const double a = StepMilliseconds(mlp, obs, actions, returns);
    const double b = StepMilliseconds(mrp, obs, actions, returns);
    const double c = StepMilliseconds(mrp_matmul, obs, actions, returns);
    if (i >= 3) {  // warm-up
      mlp_ms.push_back(a);
      mrp_ms.push_back(b);
      matmul_ms.push_back(c);
    }
  }
  if (!options.profile.empty()) {
    torch::autograd::profiler::RecordProfile profile(options.profile);
    for (int i = 0; i < 5; ++i) StepMilliseconds(mrp, obs, actions, returns);
  }
  const double mlp_median = Median(mlp_ms);
  const double mrp_median = Median(mrp_ms);
  // Forward + backward ≈ 3 forward passes of multiply-adds (2 FLOP each).
  const double flops = 6.0 * static_cast<double>(batch) *
                       MrpForwardMacs(rlpipe::algos::ToNetworkLayout(spec), mrp_config.network);
  const double rate = GemmFlopsPerSecond();
  std::printf(
      "cost: forward+backward on a batch of %lld (torch threads %d, median of %d): MlpPolicy "
      "[64, 64] %.3f ms, MultiRobotPolicy (embed %d, %d heads, %d layers) %.3f ms, ratio %.1fx\n",
      static_cast<long long>(batch), options.torch_threads, options.cost_iterations, mlp_median,
      mrp_config.network.embed_dim, mrp_config.network.attention_heads,
      mrp_config.network.attention_layers, mrp_median, mrp_median / mlp_median);
  std::printf(
      "cost: MultiRobotPolicy with attention as batched matmuls (the previous code path) %.3f ms: "
      "fused attention is %.2fx faster\n",
      Median(matmul_ms), Median(matmul_ms) / mrp_median);
  std::printf(
      "cost: MultiRobotPolicy forward+backward %.1f MFLOP; at the bare 256^3 sgemm rate of %.1f "
      "GFLOP/s (same run) that is %.3f ms: measured / roofline %.1fx (target <= 15 ms)\n",
      flops / 1e6, rate / 1e9, 1e3 * flops / rate, mrp_median / (1e3 * flops / rate));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"PPO + MultiRobotPolicy on height_maximize (N = 2) against a random policy"};
  app.add_option("--seed", options.seed, "training seed");
  app.add_option("--timesteps", options.timesteps, "env steps of training");
  app.add_option("--eval-every", options.eval_every, "env steps between evaluations");
  app.add_option("--eval-episodes", options.eval_episodes, "episodes per evaluation");
  app.add_option("--n-envs", options.n_envs, "parallel training envs");
  app.add_option("--torch-threads", options.torch_threads, "LibTorch intra-op threads");
  app.add_option("--n-steps", options.n_steps, "PPO rollout length per env");
  app.add_option("--batch-size", options.batch_size, "PPO minibatch size");
  app.add_option("--n-epochs", options.n_epochs, "PPO epochs per rollout");
  app.add_option("--learning-rate", options.learning_rate, "Adam step size");
  app.add_option("--embed-dim", options.embed_dim, "network.embed_dim");
  app.add_option("--cost-batch", options.cost_batch, "batch of the cost measurement");
  app.add_option("--cost-iterations", options.cost_iterations, "timed cost iterations");
  app.add_option("--keep-checkpoints", options.keep_checkpoints,
                 "periodic checkpoints kept (0 = all, to replay any evaluation)");
  app.add_flag("--cost-only", options.cost_only, "only measure the network cost");
  app.add_option("--profile", options.profile,
                 "write a chrome trace (LibTorch's profiler) of 5 MultiRobotPolicy steps here");
  app.add_option("--out", options.out, "folder for the models");
  CLI11_PARSE(app, argc, argv);

  try {
    rlpipe::nn::SetIntraOpThreads(options.torch_threads);
    const rlpipe::config::ExperimentConfig config = BenchConfig(options);
    const rlpipe::envs::EnvSpec spec = rlpipe::envs::MakeEnv(config.environment)->Spec();

    // 1. Network cost against the MLP policy.
    MeasureCost(options, config, spec);
    if (options.cost_only) return 0;

    // 2. The random policy on the evaluation episodes.
    std::mt19937_64 rng(rlpipe::DeriveSeed(options.seed, "random_policy"));
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const HeightEval random =
        EvaluateHeights(options, [&](const std::vector<float>&, std::vector<float>& action) {
          for (float& a : action) a = uniform(rng);
        });
    std::printf(
        "random policy: mean best height %.3f m (max %.3f m), mean return %.1f over %d "
        "episodes\n",
        random.mean_best, random.max_best, random.mean_return, options.eval_episodes);
    std::fflush(stdout);

    // 3. Training; every periodic checkpoint is evaluated as soon as it appears.
    fs::remove_all(options.out);
    TrainingRequest request;
    request.config = config;
    request.seed = options.seed;
    request.models_dir = options.out;
    double best_ratio = 0.0;
    double last_return = 0.0;
    std::set<fs::path> evaluated;
    const Clock::time_point start = Clock::now();
    std::printf("%9s %10s %12s %16s %8s %8s\n", "steps", "wall s", "eval return", "mean best h (m)",
                "max (m)", "ratio");
    auto evaluate_new_checkpoints = [&] {
      const fs::path dir = options.out / "checkpoints";
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
        const HeightEval h = EvaluateModel(options, config, spec, path);
        const double ratio = h.mean_best / random.mean_best;
        best_ratio = std::max(best_ratio, ratio);
        std::printf("%9lld %10.0f %12.1f %16.3f %8.3f %8.2f\n", static_cast<long long>(steps),
                    std::chrono::duration<double>(Clock::now() - start).count(), h.mean_return,
                    h.mean_best, h.max_best, ratio);
        std::fflush(stdout);
      }
    };
    request.hooks.on_eval = [&](const rlpipe::algos::EvalEvent& e) { last_return = e.mean_return; };
    request.hooks.on_progress = [&](const rlpipe::algos::ProgressEvent&) {
      evaluate_new_checkpoints();
    };
    const rlpipe::algos::TrainingResult result = rlpipe::algos::TrainOnPolicy(
        request, [env = config.environment] { return rlpipe::envs::MakeEnv(env); },
        {.torch_threads = options.torch_threads});
    evaluate_new_checkpoints();
    const HeightEval final_eval = EvaluateModel(options, config, spec, *result.final_model);
    best_ratio = std::max(best_ratio, final_eval.mean_best / random.mean_best);
    std::printf(
        "final model: mean best height %.3f m (max %.3f m), ratio %.2f; training eval "
        "return %.1f; %lld steps in %.0f s (collect %.0f%%, update %.0f%%)\n",
        final_eval.mean_best, final_eval.max_best, final_eval.mean_best / random.mean_best,
        last_return, static_cast<long long>(result.timesteps), result.wall_seconds,
        100.0 * result.collect_seconds / result.wall_seconds,
        100.0 * result.update_seconds / result.wall_seconds);
    std::printf("best ratio to the random policy %.2f (target >= %.1f): %s\n", best_ratio,
                kTargetRatio, best_ratio >= kTargetRatio ? "PASS" : "FAIL");
    return best_ratio >= kTargetRatio ? 0 : 1;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
