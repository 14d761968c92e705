// The cost of one SAC / TD3 gradient step against its roofline, on one thread, and with
// `--threads N` (training.threads) the same step on N threads against it, in the same run.
//
// The step: batch 256, [256, 256] actor and twin critics, SB3's defaults, replay sampling
// included (the loop's Train() does Sample + TrainStep). The roofline: the matrix products an
// ideal implementation of the same step must do (forward, input gradients where they are needed,
// weight gradients of the trained network only), each run bare with at::addmm_out / at::mm_out on
// preallocated operands of the same shapes, in this process. Reference and candidate alternate in
// blocks; the medians and their ratio are printed (issue 18: target <= 1.35x). With --threads 2
// the step's twin-critic tasks run on two threads (nn::TaskPair; torch and OpenBLAS stay on one
// intra-op thread) in a third block of each round (issue 18: target >= 1.6x the one-thread rate).
//
// Then the end-to-end rate: SAC and TD3 on pendulum (SB3 defaults, one env, 3000 steps, no
// evaluation), env-steps/s of the whole training call.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "algos/off_policy_update.h"
#include "algos/replay_buffer.h"
#include "algos/train.h"
#include "config/experiment_config.h"
#include "core/error.h"
#include "nn/diag_gaussian.h"
#include "nn/flat_parameters.h"
#include "nn/off_policy_networks.h"
#include "nn/task_pair.h"
#include "nn/threads.h"

namespace {

namespace fs = std::filesystem;
using rlpipe::config::Algorithm;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string algorithm = "both";  // sac, td3 or both
  int obs_dim = 3;                 // pendulum
  int act_dim = 1;
  int64_t batch = 256;
  int reps = 7;        // alternating blocks of reference and candidate
  int steps = 100;     // gradient steps (and bare GEMM rounds) per block
  int64_t e2e = 3000;  // end-to-end pendulum steps (0: skip)
  int threads = 1;     // training.threads: the step's tasks (nn::TaskPair), compared with 1
  int intra_op = 1;    // torch and OpenBLAS intra-op threads
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_off_policy_step";
};

/// One product of a Linear(in → out) on a batch of B rows, as autograd runs it.
enum class Op { kForward, kGradInput, kGradWeight };
struct Gemm {
  int in = 0;
  int out = 0;
  Op op = Op::kForward;
};

/// A fully connected network's layer sizes: in → hidden... → out.
std::vector<std::pair<int, int>> Layers(int in, const std::vector<int>& hidden, int out) {
  std::vector<std::pair<int, int>> layers;
  int width = in;
  for (int h : hidden) {
    layers.emplace_back(width, h);
    width = h;
  }
  layers.emplace_back(width, out);
  return layers;
}

void Forward(std::vector<Gemm>& g, const std::vector<std::pair<int, int>>& net) {
  for (auto [in, out] : net) g.push_back({in, out, Op::kForward});
}
// Backward through `net` from its output: weight gradients when `weights`, input gradients of
// every layer but the first unless `to_input`.
void Backward(std::vector<Gemm>& g, const std::vector<std::pair<int, int>>& net, bool weights,
              bool to_input) {
  for (size_t i = net.size(); i-- > 0;) {
    if (weights) g.push_back({net[i].first, net[i].second, Op::kGradWeight});
    if (i > 0 || to_input) g.push_back({net[i].first, net[i].second, Op::kGradInput});
  }
}

/// The products of one ideal gradient step (TD3: two steps, one with the delayed actor step).
std::vector<Gemm> StepGemms(Algorithm algorithm, const BenchOptions& o,
                            const std::vector<int>& hidden, int* steps_covered) {
  std::vector<Gemm> g;
  const auto critic = Layers(o.obs_dim + o.act_dim, hidden, 1);
  if (algorithm == Algorithm::kSac) {
    // The actor's trunk and its two heads (mu, log_std) as separate products, as SB3's.
    const auto trunk = Layers(o.obs_dim, {hidden.begin(), hidden.end() - 1}, hidden.back());
    const std::vector<std::pair<int, int>> head{{hidden.back(), o.act_dim}};
    for (int pass = 0; pass < 2; ++pass) {  // actor(s) with gradients, actor(s') without
      Forward(g, trunk);
      Forward(g, head);
      Forward(g, head);
    }
    for (int k = 0; k < 2; ++k) Forward(g, critic);  // target critics at (s', a')
    for (int k = 0; k < 2; ++k) {                    // critic loss: forward, backward
      Forward(g, critic);
      Backward(g, critic, /*weights=*/true, /*to_input=*/false);
    }
    for (int k = 0; k < 2; ++k) {  // actor loss through the critics to ã (no critic weights)
      Forward(g, critic);
      Backward(g, critic, /*weights=*/false, /*to_input=*/true);
    }
    Backward(g, head, true, true);  // actor: both heads, then the trunk
    Backward(g, head, true, true);
    Backward(g, trunk, true, false);
    *steps_covered = 1;
  } else {
    const auto actor = Layers(o.obs_dim, hidden, o.act_dim);
    for (int step = 0; step < 2; ++step) {
      Forward(g, actor);                               // target actor at s'
      for (int k = 0; k < 2; ++k) Forward(g, critic);  // target critics
      for (int k = 0; k < 2; ++k) {
        Forward(g, critic);
        Backward(g, critic, true, false);
      }
    }
    // The delayed actor step (policy_delay 2): μ(s), Q_0(s, μ(s)), back to the actor's weights.
    Forward(g, actor);
    Forward(g, critic);
    Backward(g, critic, false, true);
    Backward(g, actor, true, false);
    *steps_covered = 2;
  }
  return g;
}

/// The products with their operands preallocated; Run() does them all once.
class BareGemms {
 public:
  BareGemms(const std::vector<Gemm>& gemms, int64_t batch) {
    for (const Gemm& gemm : gemms) {
      Operands o;
      o.op = gemm.op;
      const int64_t in = gemm.in, out = gemm.out;
      switch (gemm.op) {
        case Op::kForward:  // [B, in] · [out, in]ᵀ + b → [B, out]
          o.a = torch::randn({batch, in});
          o.b = torch::randn({out, in});
          o.bias = torch::randn({out});
          o.c = torch::empty({batch, out});
          break;
        case Op::kGradInput:  // [B, out] · [out, in] → [B, in]
          o.a = torch::randn({batch, out});
          o.b = torch::randn({out, in});
          o.c = torch::empty({batch, in});
          break;
        case Op::kGradWeight:  // [B, out]ᵀ · [B, in] → [out, in]
          o.a = torch::randn({batch, out});
          o.b = torch::randn({batch, in});
          o.c = torch::empty({out, in});
          break;
      }
      operands_.push_back(o);
      flops_ += 2.0 * static_cast<double>(batch * in * out);
    }
  }
  void Run() {
    for (Operands& o : operands_) {
      switch (o.op) {
        case Op::kForward:
          at::addmm_out(o.c, o.bias, o.a, o.b.t());
          break;
        case Op::kGradInput:
          at::mm_out(o.c, o.a, o.b);
          break;
        case Op::kGradWeight:
          at::mm_out(o.c, o.a.t(), o.b);
          break;
      }
    }
  }
  double flops() const { return flops_; }
  size_t size() const { return operands_.size(); }

 private:
  struct Operands {
    Op op;
    torch::Tensor a, b, bias, c;
  };
  std::vector<Operands> operands_;
  double flops_ = 0.0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double SecondsPer(int n, F&& f) {
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < n; ++i) f();
  return std::chrono::duration<double>(Clock::now() - start).count() / n;
}

// One algorithm's step against its bare products.
void StepVsRoofline(Algorithm algorithm, const BenchOptions& o) {
  rlpipe::config::AgentConfig agent = rlpipe::config::DefaultAgentConfig(algorithm);
  const rlpipe::config::NetworkConfig network = rlpipe::config::DefaultNetworkConfig(algorithm);
  agent.off_policy()->batch_size = o.batch;
  auto algo = rlpipe::algos::MakeOffPolicyAlgorithm(agent, network, {o.obs_dim, o.act_dim}, 1);

  // A replay buffer of random transitions (the values do not change the cost).
  const int64_t rows = 10000;
  rlpipe::algos::ReplayBuffer buffer(rows, o.obs_dim, o.act_dim);
  torch::Tensor obs = torch::randn({rows, o.obs_dim});
  torch::Tensor next = torch::randn({rows, o.obs_dim});
  torch::Tensor act = torch::rand({rows, o.act_dim}) * 2 - 1;
  torch::Tensor rew = torch::randn({rows});
  std::vector<uint8_t> term(rows, 0);
  buffer.Add({obs.data_ptr<float>(), static_cast<size_t>(obs.numel())},
             {next.data_ptr<float>(), static_cast<size_t>(next.numel())},
             {act.data_ptr<float>(), static_cast<size_t>(act.numel())},
             {rew.data_ptr<float>(), static_cast<size_t>(rew.numel())}, term);
  torch::Generator generator = rlpipe::nn::MakeGenerator(7);

  int steps_covered = 1;
  BareGemms bare(StepGemms(algorithm, o, network.qf_layers, &steps_covered), o.batch);
  int64_t t = 0;
  auto step = [&] {
    rlpipe::algos::ReplayBatch batch = buffer.Sample(o.batch, generator);
    algo->TrainStep(batch, generator, ++t);
  };

  // Warm up all, then alternate blocks: bare products, the step on one thread, on N.
  for (int i = 0; i < 10; ++i) step();
  if (o.threads > 1) {
    algo->SetUpdateThreads(o.threads);
    for (int i = 0; i < 10; ++i) step();
  }
  for (int i = 0; i < 3; ++i) bare.Run();
  std::vector<double> step_s, step_n_s, bare_s;
  const int rounds = std::max(1, o.steps / steps_covered);
  for (int r = 0; r < o.reps; ++r) {
    bare_s.push_back(SecondsPer(rounds, [&] { bare.Run(); }) / steps_covered);
    algo->SetUpdateThreads(1);
    step_s.push_back(SecondsPer(rounds * steps_covered, step));
    if (o.threads > 1) {
      algo->SetUpdateThreads(o.threads);
      step_n_s.push_back(SecondsPer(rounds * steps_covered, step));
    }
  }
  const double sample_s = SecondsPer(o.steps, [&] { buffer.Sample(o.batch, generator); });
  const double s = Median(step_s), b = Median(bare_s);
  const double flops = bare.flops() / steps_covered;
  std::printf(
      "%s: gradient step %.3f ms (%.0f steps/s)  bare GEMMs %.3f ms (%zu products per %d step%s, "
      "%.1f MFLOP/step, %.1f GFLOP/s)  ratio %.2fx\n",
      rlpipe::config::ToString(algorithm).c_str(), 1e3 * s, 1.0 / s, 1e3 * b, bare.size(),
      steps_covered, steps_covered > 1 ? "s" : "", flops / 1e6, flops / b / 1e9, s / b);
  if (o.threads > 1) {
    const double n = Median(step_n_s);
    std::printf(
        "%s: gradient step with training.threads %d: %.3f ms (%.0f steps/s), %.2fx the one-thread "
        "rate (%.2fx the bare GEMMs on one thread)\n",
        rlpipe::config::ToString(algorithm).c_str(), o.threads, 1e3 * n, 1.0 / n, s / n, n / b);
  }
  std::printf("%s: of the step, replay sampling %.1f us (%.1f%%)\n",
              rlpipe::config::ToString(algorithm).c_str(), 1e6 * sample_s, 100.0 * sample_s / s);
  std::fflush(stdout);
}

// Two Q networks as plain MLPs: `in` inputs, ReLU hidden layers, one output each.
std::vector<torch::nn::Sequential> TwoCriticMlps(int64_t in, const std::vector<int>& hidden) {
  std::vector<torch::nn::Sequential> nets;
  for (int k = 0; k < 2; ++k) {
    torch::nn::Sequential net;
    int64_t width = in;
    for (int h : hidden) {
      net->push_back(torch::nn::Linear(width, h));
      net->push_back(torch::nn::ReLU());
      width = h;
    }
    net->push_back(torch::nn::Linear(width, 1));
    nets.push_back(net);
  }
  return nets;
}

// The twin-critic lever measured alone: the critic loss's forward and backward with the two Q
// networks as two MLPs (as rlpipe has them) against one stacked network, weights [2, in, out]
// and torch::baddbmm, on the same batch.
void TwinCriticLever(const BenchOptions& o, const std::vector<int>& hidden) {
  const int64_t in = o.obs_dim + o.act_dim;
  torch::Tensor x = torch::randn({o.batch, in});
  torch::Tensor y = torch::randn({o.batch});
  // Two MLPs.
  std::vector<torch::nn::Sequential> nets = TwoCriticMlps(in, hidden);
  auto separate = [&] {
    torch::Tensor loss = 0.5 * (torch::mse_loss(nets[0]->forward(x).squeeze(-1), y) +
                                torch::mse_loss(nets[1]->forward(x).squeeze(-1), y));
    for (auto& net : nets) net->zero_grad();
    loss.backward();
  };
  // One stacked network.
  std::vector<torch::Tensor> weights, biases;
  int64_t width = in;
  std::vector<int64_t> sizes(hidden.begin(), hidden.end());
  sizes.push_back(1);
  for (int64_t h : sizes) {
    weights.push_back((torch::randn({2, width, h}) * 0.05).requires_grad_());
    biases.push_back(torch::zeros({2, 1, h}).requires_grad_());
    width = h;
  }
  auto stacked = [&] {
    torch::Tensor a = x.unsqueeze(0).expand({2, o.batch, in});  // [2, B, in]
    for (size_t l = 0; l < weights.size(); ++l) {
      a = torch::baddbmm(biases[l], a, weights[l]);  // [2, B, out]
      if (l + 1 < weights.size()) a = torch::relu(a);
    }
    torch::Tensor q = a.squeeze(-1);  // [2, B]
    torch::Tensor loss = 0.5 * 2.0 * torch::mse_loss(q, y.unsqueeze(0).expand({2, o.batch}));
    for (auto& w : weights) w.mutable_grad() = torch::Tensor();
    for (auto& b : biases) b.mutable_grad() = torch::Tensor();
    loss.backward();
  };
  for (int i = 0; i < 10; ++i) {
    separate();
    stacked();
  }
  std::vector<double> a, b;
  for (int r = 0; r < o.reps; ++r) {
    a.push_back(SecondsPer(o.steps, separate));
    b.push_back(SecondsPer(o.steps, stacked));
  }
  std::printf(
      "twin-critic lever: critic loss forward+backward, two MLPs %.3f ms, one stacked network "
      "(baddbmm) %.3f ms: %.2fx\n",
      1e3 * Median(a), 1e3 * Median(b), Median(a) / Median(b));
  std::fflush(stdout);
}

// The task-parallel lever measured alone: the twin critics' work of one SAC step (target Q at
// (s', a'), the critic loss's forward and backward, the actor loss's forward and input gradient
// through frozen critics), critic 0 and critic 1 as the two tasks of an nn::TaskPair, on one
// thread and on two; the gradients must be the same bits.
void TaskParallelLever(const BenchOptions& o, const std::vector<int>& hidden) {
  const int64_t in = o.obs_dim + o.act_dim;
  torch::Tensor x = torch::randn({o.batch, in});
  torch::Tensor y = torch::randn({o.batch});
  std::vector<torch::nn::Sequential> nets = TwoCriticMlps(in, hidden);
  std::vector<torch::Tensor> input_grads(2);
  // One critic's share of a step.
  auto critic = [&](int k) {
    torch::nn::Sequential& net = nets[static_cast<size_t>(k)];
    {
      torch::NoGradGuard no_grad;
      net->forward(x);
    }
    net->zero_grad();
    (0.5 * torch::mse_loss(net->forward(x).squeeze(-1), y)).backward();
    for (auto& p : net->parameters()) p.set_requires_grad(false);
    torch::Tensor xa = x.detach().requires_grad_(true);
    net->forward(xa).sum().backward();
    input_grads[static_cast<size_t>(k)] = xa.grad();
    for (auto& p : net->parameters()) p.set_requires_grad(true);
  };
  rlpipe::nn::TaskPair one(1), two(2);
  auto serial = [&] { one.Run([&] { critic(0); }, [&] { critic(1); }); };
  auto parallel = [&] { two.Run([&] { critic(0); }, [&] { critic(1); }); };
  // Same bits on one thread and two.
  auto snapshot = [&] {
    std::vector<torch::Tensor> v;
    for (auto& net : nets) {
      for (auto& p : net->parameters()) v.push_back(p.grad().clone());
    }
    for (auto& g : input_grads) v.push_back(g.clone());
    return v;
  };
  serial();
  const std::vector<torch::Tensor> a = snapshot();
  parallel();
  const std::vector<torch::Tensor> b = snapshot();
  bool equal = true;
  for (size_t i = 0; i < a.size(); ++i) equal = equal && torch::equal(a[i], b[i]);
  for (int i = 0; i < 10; ++i) {
    serial();
    parallel();
  }
  std::vector<double> s1, s2;
  for (int r = 0; r < o.reps; ++r) {
    s1.push_back(SecondsPer(o.steps, serial));
    s2.push_back(SecondsPer(o.steps, parallel));
  }
  // Bare products alone: one critic's forward + weight and input gradients (256-wide) as a task.
  std::vector<Gemm> one_critic;
  const auto layers = Layers(static_cast<int>(in), hidden, 1);
  Forward(one_critic, layers);
  Backward(one_critic, layers, true, true);
  BareGemms g0(one_critic, o.batch), g1(one_critic, o.batch);
  auto bare_serial = [&] { one.Run([&] { g0.Run(); }, [&] { g1.Run(); }); };
  auto bare_parallel = [&] { two.Run([&] { g0.Run(); }, [&] { g1.Run(); }); };
  std::vector<double> b1, b2;
  for (int r = 0; r < o.reps; ++r) {
    b1.push_back(SecondsPer(o.steps, bare_serial));
    b2.push_back(SecondsPer(o.steps, bare_parallel));
  }
  std::printf(
      "task-parallel lever: bare products of two critics, one thread %.3f ms, two %.3f ms: %.2fx\n",
      1e3 * Median(b1), 1e3 * Median(b2), Median(b1) / Median(b2));
  // The cost of handing an empty task to the worker and waiting for it.
  std::vector<double> handoff;
  for (int r = 0; r < o.reps; ++r)
    handoff.push_back(SecondsPer(1000, [&] { two.Run([] {}, [] {}); }));
  std::printf(
      "task-parallel lever: the twin critics' work of a SAC step, one thread %.3f ms, two threads "
      "%.3f ms: %.2fx (gradients %s); an empty pair of tasks on two threads %.1f us\n",
      1e3 * Median(s1), 1e3 * Median(s2), Median(s1) / Median(s2),
      equal ? "bitwise equal" : "DIFFER", 1e6 * Median(handoff));
  std::fflush(stdout);
}

// The same twin-critic work through nn::TwinQCritic::forward with tasks (flat parameters).
void TwinQCriticLever(const BenchOptions& o, const std::vector<int>& hidden) {
  rlpipe::nn::TwinQCriticOptions options;
  options.obs_dim = o.obs_dim;
  options.act_dim = o.act_dim;
  options.layers = hidden;
  rlpipe::nn::TwinQCritic critic(options);
  rlpipe::nn::FlatParameters params(*critic);
  torch::Tensor obs = torch::randn({o.batch, o.obs_dim});
  torch::Tensor act = torch::rand({o.batch, o.act_dim});
  torch::Tensor y = torch::randn({o.batch});
  auto work = [&](rlpipe::nn::TaskPair& tasks) {
    {
      torch::NoGradGuard no_grad;
      critic->forward(obs, act, tasks);
    }
    rlpipe::nn::TwinQValues q = critic->forward(obs, act, tasks);
    torch::Tensor loss = 0.5 * (torch::mse_loss(q.q0, y) + torch::mse_loss(q.q1, y));
    params.ZeroGrad();
    loss.backward();
    torch::Tensor a = act.clone().requires_grad_(true);
    {
      rlpipe::nn::FrozenParameters frozen(params);
      rlpipe::nn::TwinQValues q_pi = critic->forward(obs, a, tasks);
      q_pi.Min().mean().backward();
    }
  };
  rlpipe::nn::TaskPair one(1), two(2);
  for (int i = 0; i < 10; ++i) {
    work(one);
    work(two);
  }
  std::vector<double> s1, s2;
  for (int r = 0; r < o.reps; ++r) {
    s1.push_back(SecondsPer(o.steps, [&] { work(one); }));
    s2.push_back(SecondsPer(o.steps, [&] { work(two); }));
  }
  std::printf(
      "task-parallel lever: the same through TwinQCritic::forward with tasks, one thread %.3f ms, "
      "two %.3f ms: %.2fx\n",
      1e3 * Median(s1), 1e3 * Median(s2), Median(s1) / Median(s2));
  std::fflush(stdout);
}

// SB3's defaults on pendulum, one env, no evaluation, `threads` training.threads: env-steps/s of
// the whole Train call.
void EndToEnd(Algorithm algorithm, const BenchOptions& o, int threads) {
  rlpipe::algos::TrainingRequest request;
  rlpipe::config::ExperimentConfig& c = request.config;
  c.environment.name = "pendulum";
  c.agent = rlpipe::config::DefaultAgentConfig(algorithm);
  c.network = rlpipe::config::DefaultNetworkConfig(algorithm);
  c.training.total_timesteps = o.e2e;
  c.training.eval_freq = 0;
  c.training.threads = threads;
  c.training.log_interval = 1000000;
  request.seed = 1;
  request.models_dir = o.out / (rlpipe::config::ToString(algorithm) + std::to_string(threads));
  const rlpipe::algos::TrainingResult result = rlpipe::algos::Train(request);
  std::printf(
      "%s pendulum end to end, training.threads %d: %lld steps in %.2f s = %.1f env-steps/s "
      "(update %.0f%%)\n",
      rlpipe::config::ToString(algorithm).c_str(), threads,
      static_cast<long long>(result.timesteps), result.wall_seconds,
      static_cast<double>(result.timesteps) / result.wall_seconds,
      100.0 * result.update_seconds / result.wall_seconds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions o;
  CLI::App app{"SAC / TD3 gradient step against its bare GEMMs, and pendulum steps/s"};
  app.add_option("--algorithm", o.algorithm, "sac, td3 or both");
  app.add_option("--obs-dim", o.obs_dim, "observation size (pendulum: 3)");
  app.add_option("--act-dim", o.act_dim, "action size (pendulum: 1)");
  app.add_option("--batch", o.batch, "batch size");
  app.add_option("--reps", o.reps, "alternating blocks of reference and step");
  app.add_option("--steps", o.steps, "gradient steps per block");
  app.add_option("--e2e-steps", o.e2e, "end-to-end pendulum steps (0: skip)");
  app.add_option("--threads", o.threads,
                 "training.threads of the step (its twin-critic tasks), timed against 1");
  app.add_option("--intra-op-threads", o.intra_op, "torch and OpenBLAS intra-op threads");
  app.add_option("--out", o.out, "folder for the end-to-end runs' models");
  CLI11_PARSE(app, argc, argv);

  try {
    rlpipe::nn::SetIntraOpThreads(o.intra_op);
    std::vector<Algorithm> algorithms;
    if (o.algorithm != "td3") algorithms.push_back(Algorithm::kSac);
    if (o.algorithm != "sac") algorithms.push_back(Algorithm::kTd3);
    std::printf(
        "batch %lld, obs %d, act %d, training.threads %d, %d intra-op thread(s), median of %d "
        "blocks of %d\n",
        static_cast<long long>(o.batch), o.obs_dim, o.act_dim, o.threads, o.intra_op, o.reps,
        o.steps);
    for (Algorithm a : algorithms) StepVsRoofline(a, o);
    TwinCriticLever(o, rlpipe::config::DefaultNetworkConfig(Algorithm::kSac).qf_layers);
    TaskParallelLever(o, rlpipe::config::DefaultNetworkConfig(Algorithm::kSac).qf_layers);
    TwinQCriticLever(o, rlpipe::config::DefaultNetworkConfig(Algorithm::kSac).qf_layers);
    if (o.e2e > 0) {
      for (Algorithm a : algorithms) {
        EndToEnd(a, o, 1);
        if (o.threads > 1) EndToEnd(a, o, o.threads);
      }
    }
    return 0;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
