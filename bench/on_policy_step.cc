// Where the time of a PPO / A2C update goes at Pendulum's RL-Zoo sizes, on one thread.
//
// The update: algos::MakeOnPolicyUpdate's Update() over a synthetic rollout (PPO: 4 envs x 1024
// steps, minibatches of 64, 10 epochs; A2C: 8 envs x 8 steps, gSDE), the [64, 64] tanh MlpPolicy
// of obs 3 / act 1. Against it, in the same process, alternating in blocks (medians):
//   - the previous code path (rlpipe up to f42f42f), kept here as the reference: per-tensor
//     torch::optim::Adam / RMSprop, torch::nn::utils::clip_grad_norm_, seven index_selects and
//     five .item() per minibatch;
//   - the matrix products of the same minibatch run bare (at::addmm_out / at::mm_out on
//     preallocated operands): the roofline;
//   - the cost of one small dispatched operation (an add of two [64] tensors), and how many
//     operations (ATen calls, nested ones included, autograd's backward ones too) each update
//     dispatches: at ~µs per operation, at 64 x 64 the operations are the time, not the FLOPs.
// Then end to end: PPO and A2C on pendulum with the RL-Zoo settings, no evaluation, env-steps/s.
#include <ATen/ops/addmm_cpu_dispatch.h>
#include <ATen/ops/tanh_cpu_dispatch.h>
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "algos/on_policy_update.h"
#include "algos/train.h"
#include "config/experiment_config.h"
#include "core/error.h"
#include "nn/diag_gaussian.h"
#include "nn/mlp_actor_critic.h"
#include "nn/threads.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using rlpipe::algos::RolloutTensors;

struct BenchOptions {
  int reps = 5;         // alternating blocks of reference and candidate
  int64_t e2e = 40960;  // end-to-end pendulum steps per algorithm (0: skip)
  std::string algorithm = "both";
  bool ops_by_name = false;  // print the candidate PPO update's operations by name
  fs::path out = fs::temp_directory_path() / "rlpipe_bench_on_policy_step";
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

// Counts every ATen operation dispatched on this thread while a Counter lives.
std::atomic<int64_t> g_ops{0};
std::map<std::string, int64_t>* g_by_name = nullptr;
thread_local std::vector<std::string> g_stack;
class OpCounter {
 public:
  explicit OpCounter(std::map<std::string, int64_t>* by_name = nullptr) {
    g_ops = 0;
    g_by_name = by_name;
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(
        [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
          ++g_ops;
          const std::string name(fn.name());
          if (g_by_name != nullptr) {
            ++(*g_by_name)[g_stack.empty() ? name : g_stack.front() + ">" + name];
          }
          g_stack.push_back(name);
          return nullptr;
        },
        [](const at::RecordFunction&, at::ObserverContext*) { g_stack.pop_back(); }));
  }
  ~OpCounter() { at::removeCallback(handle_); }
  int64_t count() const { return g_ops; }

 private:
  at::CallbackHandle handle_;
};

// The network and algorithm settings of the RL-Zoo pendulum runs (bench/ppo_pendulum_learning,
// bench/pendulum_learning --algorithm a2c).
rlpipe::config::ExperimentConfig PendulumConfig(rlpipe::config::Algorithm algorithm) {
  rlpipe::config::ExperimentConfig c;
  c.environment.name = "pendulum";
  c.network.policy_layers = {64, 64};
  c.network.value_layers = {64, 64};
  c.network.activation = rlpipe::config::Activation::kTanh;
  if (algorithm == rlpipe::config::Algorithm::kPpo) {
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
    c.training.n_envs = 4;
  } else {
    c.agent = rlpipe::config::DefaultAgentConfig(algorithm);
    rlpipe::config::OnPolicyConfig& a2c = *c.agent.on_policy();
    a2c.n_steps = 8;
    a2c.gamma = 0.9;
    a2c.gae_lambda = 0.9;
    a2c.vf_coef = 0.4;
    a2c.learning_rate = 7e-4;
    a2c.learning_rate_linear = true;
    a2c.log_std_init = -2.0;
    a2c.use_sde = true;
    c.training.n_envs = 8;
    c.training.normalize.obs = true;
    c.training.normalize.reward = true;
  }
  return c;
}

rlpipe::nn::ActorCritic MakePolicy(const rlpipe::config::ExperimentConfig& c) {
  rlpipe::nn::MlpActorCriticOptions o;
  o.obs_dim = 3;
  o.act_dim = 1;
  o.log_std_init = c.agent.on_policy()->log_std_init;
  o.use_sde = c.agent.on_policy()->use_sde;
  o.init_seed = 11;
  return rlpipe::nn::MlpActorCritic(o);
}

RolloutTensors RandomRollout(int64_t size) {
  torch::manual_seed(3);
  RolloutTensors r;
  r.obs = torch::randn({size, 3});
  r.actions = torch::randn({size, 1}) * 0.5;
  r.values = torch::randn({size});
  r.log_probs = torch::randn({size}) * 0.1 - 1.0;
  r.advantages = torch::randn({size});
  r.returns = r.advantages + r.values;
  return r;
}

// ---- The previous code path (f42f42f's PpoUpdate::Update / A2cUpdate::Update), for reference.

void LegacyPpoUpdate(const rlpipe::config::PpoConfig& agent, rlpipe::nn::ActorCritic& policy,
                     torch::optim::Adam& optimizer, const RolloutTensors& rollout,
                     torch::Generator& generator, double* sink) {
  const int64_t size = rollout.obs.size(0);
  for (int epoch = 0; epoch < agent.n_epochs; ++epoch) {
    torch::Tensor order = torch::randperm(size, generator, torch::kLong);
    for (int64_t start = 0; start < size; start += agent.batch_size) {
      torch::Tensor idx = order.slice(0, start, std::min(start + agent.batch_size, size));
      rlpipe::nn::ActorCriticOutput out = policy->forward(rollout.obs.index_select(0, idx));
      const rlpipe::nn::DiagGaussian dist = rlpipe::nn::PolicyDistribution(out);
      torch::Tensor actions = rollout.actions.index_select(0, idx);
      torch::Tensor log_prob = dist.LogProb(actions);
      torch::Tensor old_log_prob = rollout.log_probs.index_select(0, idx);
      torch::Tensor advantages = rollout.advantages.index_select(0, idx);
      torch::Tensor old_values = rollout.values.index_select(0, idx);
      torch::Tensor returns = rollout.returns.index_select(0, idx);
      torch::Tensor entropy = dist.Entropy();
      (void)old_values;
      advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8);
      torch::Tensor log_ratio = log_prob - old_log_prob;
      torch::Tensor ratio = torch::exp(log_ratio);
      const double eps = agent.clip_range;
      torch::Tensor policy_loss =
          -torch::min(advantages * ratio, advantages * torch::clamp(ratio, 1 - eps, 1 + eps))
               .mean();
      torch::Tensor value_loss = torch::mse_loss(out.value, returns);
      torch::Tensor entropy_loss = -entropy.mean();
      torch::Tensor loss = policy_loss + agent.ent_coef * entropy_loss + agent.vf_coef * value_loss;
      torch::Tensor approx_kl, clip_fraction;
      {
        torch::NoGradGuard no_grad;
        approx_kl = ((ratio - 1.0) - log_ratio).mean();
        clip_fraction = ((ratio - 1.0).abs() > eps).to(torch::kFloat32).mean();
      }
      *sink += loss.item<double>() + policy_loss.item<double>() + value_loss.item<double>() +
               entropy_loss.item<double>() + approx_kl.item<double>() +
               clip_fraction.item<double>();
      optimizer.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(policy->parameters(), agent.max_grad_norm);
      optimizer.step();
    }
  }
}

void LegacyA2cUpdate(const rlpipe::config::A2cConfig& agent, rlpipe::nn::ActorCritic& policy,
                     torch::optim::Optimizer& optimizer, const RolloutTensors& rollout,
                     double* sink) {
  rlpipe::nn::ActorCriticOutput out = policy->forward(rollout.obs);
  const rlpipe::nn::DiagGaussian dist = rlpipe::nn::PolicyDistribution(out);
  torch::Tensor policy_loss = -(rollout.advantages * dist.LogProb(rollout.actions)).mean();
  torch::Tensor value_loss = torch::mse_loss(out.value, rollout.returns);
  torch::Tensor entropy_loss = -dist.Entropy().mean();
  torch::Tensor loss = policy_loss + agent.ent_coef * entropy_loss + agent.vf_coef * value_loss;
  *sink += loss.item<double>() + policy_loss.item<double>() + value_loss.item<double>() +
           entropy_loss.item<double>();
  optimizer.zero_grad();
  loss.backward();
  torch::nn::utils::clip_grad_norm_(policy->parameters(), agent.max_grad_norm);
  optimizer.step();
}

// ---- The roofline: one minibatch's products of the [64, 64] actor-critic, bare.

class BareGemms {
 public:
  // Forward of both towers and heads, weight gradients of every layer, input gradients of every
  // layer but the first, for a batch of `batch` rows.
  explicit BareGemms(int64_t batch) {
    const std::vector<std::pair<int64_t, int64_t>> tower{{3, 64}, {64, 64}, {64, 1}};
    for (int t = 0; t < 2; ++t) {
      for (size_t l = 0; l < tower.size(); ++l) {
        const auto [in, out] = tower[l];
        Add(batch, in, out, true);              // y = x Wᵀ + b
        Add(out, batch, in, false);             // dW = dyᵀ x
        if (l > 0) Add(batch, out, in, false);  // dx = dy W
        flops_ += 2.0 * batch * in * out * (l > 0 ? 3 : 2);
      }
    }
  }
  void Run() {
    for (Operands& o : operands_) {
      if (o.bias.defined()) {
        at::addmm_out(o.c, o.bias, o.a, o.b);
      } else {
        at::mm_out(o.c, o.a, o.b);
      }
    }
  }
  double flops() const { return flops_; }
  size_t size() const { return operands_.size(); }

 private:
  struct Operands {
    torch::Tensor a, b, bias, c;
  };
  void Add(int64_t m, int64_t k, int64_t n, bool bias) {
    Operands o{torch::randn({m, k}), torch::randn({k, n}),
               bias ? torch::randn({n}) : torch::Tensor(), torch::empty({m, n})};
    operands_.push_back(o);
  }
  std::vector<Operands> operands_;
  double flops_ = 0.0;
};

// The largest difference between two networks' parameters (relative to the largest value).
double ParameterDifference(rlpipe::nn::ActorCritic& a, rlpipe::nn::ActorCritic& b) {
  torch::NoGradGuard no_grad;
  double diff = 0.0, scale = 0.0;
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    diff = std::max(diff, (pa[i] - pb[i]).abs().max().item<double>());
    scale = std::max(scale, pa[i].abs().max().item<double>());
  }
  return diff / scale;
}

// One small dispatched operation (no autograd): the per-operation overhead.
double SecondsPerOp() {
  torch::Tensor a = torch::randn({64}), b = torch::randn({64}), c = torch::empty({64});
  for (int i = 0; i < 1000; ++i) at::add_out(c, a, b);
  std::vector<double> s;
  for (int r = 0; r < 5; ++r) s.push_back(SecondsPer(20000, [&] { at::add_out(c, a, b); }));
  return Median(s);
}

void PpoUpdateVsReference(const BenchOptions& o, double op_s) {
  const rlpipe::config::ExperimentConfig c = PendulumConfig(rlpipe::config::Algorithm::kPpo);
  const auto& ppo = std::get<rlpipe::config::PpoConfig>(c.agent.settings);
  const int64_t size = int64_t{ppo.n_steps} * c.training.n_envs;
  const int64_t minibatches = ppo.n_epochs * ((size + ppo.batch_size - 1) / ppo.batch_size);
  const RolloutTensors rollout = RandomRollout(size);

  rlpipe::nn::ActorCritic reference_policy = MakePolicy(c);
  torch::optim::Adam reference_adam(reference_policy->parameters(),
                                    torch::optim::AdamOptions(ppo.learning_rate).eps(1e-5));
  rlpipe::nn::ActorCritic policy = MakePolicy(c);
  auto update = rlpipe::algos::MakeOnPolicyUpdate(c.agent, policy);
  torch::Generator g1 = rlpipe::nn::MakeGenerator(5), g2 = rlpipe::nn::MakeGenerator(5);
  BareGemms bare(ppo.batch_size);
  double sink = 0.0;
  auto reference = [&] {
    LegacyPpoUpdate(ppo, reference_policy, reference_adam, rollout, g1, &sink);
  };
  auto candidate = [&] { update->Update(rollout, g2, 0); };

  // Both paths from the same weights and shuffles: the same update up to rounding.
  reference();
  candidate();
  std::printf(
      "ppo: after one update (%lld minibatches) from the same start, max |weight difference| "
      "/ max |weight| = %.2e\n",
      static_cast<long long>(minibatches), ParameterDifference(reference_policy, policy));

  // Operation counts of one update, then warm-up and alternating blocks.
  int64_t reference_ops = 0, candidate_ops = 0;
  {
    OpCounter counter;
    reference();
    reference_ops = counter.count();
  }
  std::map<std::string, int64_t> by_name;
  {
    OpCounter counter(o.ops_by_name ? &by_name : nullptr);
    candidate();
    candidate_ops = counter.count();
  }
  if (o.ops_by_name) {
    std::vector<std::pair<int64_t, std::string>> sorted;
    for (const auto& [name, n] : by_name) sorted.emplace_back(n, name);
    std::sort(sorted.rbegin(), sorted.rend());
    std::printf("ppo: operations per minibatch now, by name:");
    for (const auto& [n, name] : sorted) {
      std::printf(" %s %.1f", name.c_str(), static_cast<double>(n) / minibatches);
    }
    std::printf("\n");
  }
  std::vector<double> ref_s, cand_s, bare_s;
  for (int r = 0; r < o.reps; ++r) {
    ref_s.push_back(SecondsPer(1, reference) / minibatches);
    cand_s.push_back(SecondsPer(1, candidate) / minibatches);
    bare_s.push_back(SecondsPer(static_cast<int>(minibatches), [&] { bare.Run(); }));
  }
  const double ref = Median(ref_s), cand = Median(cand_s), gemm = Median(bare_s);
  const double ref_ops = static_cast<double>(reference_ops) / minibatches;
  const double cand_ops = static_cast<double>(candidate_ops) / minibatches;
  std::printf(
      "ppo: per minibatch of %d (%lld per update): previous path %.1f us (%.0f ops), now %.1f us "
      "(%.0f ops): %.2fx faster\n",
      ppo.batch_size, static_cast<long long>(minibatches), 1e6 * ref, ref_ops, 1e6 * cand, cand_ops,
      ref / cand);
  std::printf(
      "ppo: bare GEMMs %.1f us (%zu products, %.2f MFLOP, %.1f GFLOP/s): previous %.1fx, now %.1fx "
      "the roofline; ops x %.2f us/op = %.0f%% (previous) and %.0f%% (now) of the minibatch\n",
      1e6 * gemm, bare.size(), bare.flops() / 1e6, bare.flops() / gemm / 1e9, ref / gemm,
      cand / gemm, 1e6 * op_s, 100.0 * ref_ops * op_s / ref, 100.0 * cand_ops * op_s / cand);
  std::fflush(stdout);
  if (!std::isfinite(sink)) std::printf("(non-finite reference losses)\n");
}

void A2cUpdateVsReference(const BenchOptions& o, double op_s) {
  const rlpipe::config::ExperimentConfig c = PendulumConfig(rlpipe::config::Algorithm::kA2c);
  const auto& a2c = std::get<rlpipe::config::A2cConfig>(c.agent.settings);
  const int64_t size = int64_t{a2c.n_steps} * c.training.n_envs;
  const RolloutTensors rollout = RandomRollout(size);

  rlpipe::nn::ActorCritic reference_policy = MakePolicy(c);
  torch::optim::RMSprop reference_rmsprop(
      reference_policy->parameters(),
      torch::optim::RMSpropOptions(a2c.learning_rate).alpha(0.99).eps(a2c.rms_prop_eps));
  rlpipe::nn::ActorCritic policy = MakePolicy(c);
  auto update = rlpipe::algos::MakeOnPolicyUpdate(c.agent, policy);
  torch::Generator g = rlpipe::nn::MakeGenerator(5);
  BareGemms bare(size);
  double sink = 0.0;
  auto reference = [&] {
    LegacyA2cUpdate(a2c, reference_policy, reference_rmsprop, rollout, &sink);
  };
  auto candidate = [&] { update->Update(rollout, g, 0); };

  // Both paths from the same weights: the same updates up to rounding.
  for (int i = 0; i < 20; ++i) {
    reference();
    candidate();
  }
  std::printf(
      "a2c: after 20 updates from the same start, max |weight difference| / max |weight| "
      "= %.2e\n",
      ParameterDifference(reference_policy, policy));

  int64_t reference_ops = 0, candidate_ops = 0;
  {
    OpCounter counter;
    reference();
    reference_ops = counter.count();
  }
  {
    OpCounter counter;
    candidate();
    candidate_ops = counter.count();
  }
  const int n = 500;
  std::vector<double> ref_s, cand_s, bare_s;
  for (int r = 0; r < o.reps; ++r) {
    ref_s.push_back(SecondsPer(n, reference));
    cand_s.push_back(SecondsPer(n, candidate));
    bare_s.push_back(SecondsPer(n, [&] { bare.Run(); }));
  }
  const double ref = Median(ref_s), cand = Median(cand_s), gemm = Median(bare_s);
  std::printf(
      "a2c: per update of %lld samples (gSDE): previous path %.1f us (%lld ops), now %.1f us "
      "(%lld ops): %.2fx faster\n",
      static_cast<long long>(size), 1e6 * ref, static_cast<long long>(reference_ops), 1e6 * cand,
      static_cast<long long>(candidate_ops), ref / cand);
  std::printf(
      "a2c: bare GEMMs %.1f us: previous %.1fx, now %.1fx the roofline; ops x %.2f us/op = %.0f%% "
      "(previous) and %.0f%% (now) of the update\n",
      1e6 * gemm, ref / gemm, cand / gemm, 1e6 * op_s,
      100.0 * static_cast<double>(reference_ops) * op_s / ref,
      100.0 * static_cast<double>(candidate_ops) * op_s / cand);
  std::fflush(stdout);
}

// Acting: one forward pass of the A2C pendulum network (gSDE, [64, 64] tanh) on a batch of 8
// observations, three ways: the module's forward (what the loop runs), the same kernels called
// without the dispatcher (at::cpu::addmm_out / tanh_out into preallocated outputs: the same bits),
// and plain C++ loops (other rounding). Prints each one's time and whether it matches the first.
void ActingForward(const BenchOptions& o) {
  const rlpipe::config::ExperimentConfig c = PendulumConfig(rlpipe::config::Algorithm::kA2c);
  rlpipe::nn::ActorCritic policy = MakePolicy(c);
  std::map<std::string, torch::Tensor> p;
  for (const auto& item : policy->named_parameters()) p[item.key()] = item.value();
  const int64_t batch = 8;
  torch::Generator gen = rlpipe::nn::MakeGenerator(5);
  const torch::Tensor obs = torch::randn({batch, 3}, gen);
  c10::InferenceMode inference;
  const std::vector<std::string> pi = {"mlp_extractor.policy_net.0", "mlp_extractor.policy_net.2",
                                       "action_net"};
  const std::vector<std::string> vf = {"mlp_extractor.value_net.0", "mlp_extractor.value_net.2",
                                       "value_net"};
  // The dispatcher-free path: outputs and transposed weights prepared once.
  struct Layer {
    torch::Tensor w_t, b, out;
    bool tanh;
  };
  auto make = [&](const std::vector<std::string>& names) {
    std::vector<Layer> layers;
    for (size_t i = 0; i < names.size(); ++i) {
      const torch::Tensor w = p.at(names[i] + ".weight"), b = p.at(names[i] + ".bias");
      layers.push_back({w.t(), b, torch::empty({batch, w.size(0)}), i + 1 < names.size()});
    }
    return layers;
  };
  std::vector<Layer> pi_layers = make(pi), vf_layers = make(vf);
  auto run_cpu = [&](std::vector<Layer>& layers) -> const torch::Tensor& {
    const torch::Tensor* x = &obs;
    for (Layer& l : layers) {
      at::cpu::addmm_out(l.out, l.b, *x, l.w_t);
      if (l.tanh) at::cpu::tanh_out(l.out, l.out);
      x = &l.out;
    }
    return *x;
  };
  // Plain loops over the weights' memory.
  std::vector<float> h1(batch * 64), h2(batch * 64), mean(batch), value(batch), v1(batch * 64),
      v2(batch * 64);
  auto dense = [&](const float* x, int64_t in, const std::string& name, int64_t outs, float* y,
                   bool act) {
    const float* w = p.at(name + ".weight").data_ptr<float>();
    const float* b = p.at(name + ".bias").data_ptr<float>();
    for (int64_t r = 0; r < batch; ++r) {
      for (int64_t j = 0; j < outs; ++j) {
        float sum = 0.0f;
        for (int64_t k = 0; k < in; ++k) sum += x[r * in + k] * w[j * in + k];
        sum += b[j];
        y[r * outs + j] = act ? std::tanh(sum) : sum;
      }
    }
  };
  const float* x0 = obs.data_ptr<float>();
  auto run_loops = [&] {
    dense(x0, 3, pi[0], 64, h1.data(), true);
    dense(h1.data(), 64, pi[1], 64, h2.data(), true);
    dense(h2.data(), 64, pi[2], 1, mean.data(), false);
    dense(x0, 3, vf[0], 64, v1.data(), true);
    dense(v1.data(), 64, vf[1], 64, v2.data(), true);
    dense(v2.data(), 64, vf[2], 1, value.data(), false);
  };
  rlpipe::nn::ActorCriticOutput ref = policy->forward(obs);
  const torch::Tensor cpu_mean = run_cpu(pi_layers).clone(), cpu_value = run_cpu(vf_layers).clone();
  run_loops();
  const bool same =
      torch::equal(cpu_mean, ref.mean) && torch::equal(cpu_value.squeeze(1), ref.value);
  double loop_diff = 0.0;
  for (int64_t r = 0; r < batch; ++r) {
    loop_diff =
        std::max(loop_diff, std::abs(static_cast<double>(mean[r]) - ref.mean[r][0].item<double>()));
    loop_diff =
        std::max(loop_diff, std::abs(static_cast<double>(value[r]) - ref.value[r].item<double>()));
  }
  int64_t module_ops = 0, cpu_ops = 0;
  {
    OpCounter counter;
    policy->forward(obs);
    module_ops = counter.count();
  }
  {
    OpCounter counter;
    run_cpu(pi_layers);
    run_cpu(vf_layers);
    cpu_ops = counter.count();
  }
  std::printf("acting forward: dispatched operations: module %lld, at::cpu kernels %lld\n",
              static_cast<long long>(module_ops), static_cast<long long>(cpu_ops));
  const int n = 2000;
  std::vector<double> module_s, cpu_s, loops_s;
  for (int r = 0; r < std::max(o.reps, 3); ++r) {
    module_s.push_back(SecondsPer(n, [&] { policy->forward(obs); }));
    cpu_s.push_back(SecondsPer(n, [&] {
      run_cpu(pi_layers);
      run_cpu(vf_layers);
    }));
    loops_s.push_back(SecondsPer(n, run_loops));
  }
  std::printf(
      "acting forward, batch %lld (policy + value, [64, 64] tanh): module %.1f us; "
      "at::cpu kernels without the dispatcher %.1f us (%s); plain loops %.1f us (max |diff| "
      "%.1e)\n",
      static_cast<long long>(batch), 1e6 * Median(module_s), 1e6 * Median(cpu_s),
      same ? "bitwise equal" : "NOT bitwise equal", 1e6 * Median(loops_s), loop_diff);
  std::fflush(stdout);
}

// RL-Zoo settings on pendulum, no evaluation: env-steps/s of the whole Train call.
void EndToEnd(rlpipe::config::Algorithm algorithm, const BenchOptions& o) {
  rlpipe::algos::TrainingRequest request;
  request.config = PendulumConfig(algorithm);
  request.config.training.total_timesteps = o.e2e;
  request.config.training.eval_freq = 0;
  request.config.training.log_interval = 1000000;
  request.config.training.threads = 1;
  request.seed = 1;
  request.models_dir = o.out / rlpipe::config::ToString(algorithm);

  // Dispatched operations per batched env step, everything included (acting, env, buffer, the
  // update's share), counted in a short run of its own (the counting slows what it counts).
  double ops_per_step = 0.0;
  {
    rlpipe::algos::TrainingRequest counted = request;
    counted.config.training.total_timesteps = 8192;
    counted.models_dir = o.out / (rlpipe::config::ToString(algorithm) + "_counted");
    std::map<std::string, int64_t> by_name;
    OpCounter counter(o.ops_by_name ? &by_name : nullptr);
    const rlpipe::algos::TrainingResult r = rlpipe::algos::Train(counted);
    const double batched =
        static_cast<double>(r.timesteps) / static_cast<double>(counted.config.training.n_envs);
    ops_per_step = static_cast<double>(counter.count()) / batched;
    // --ops-by-name: the outermost operations of the whole run, per batched env step.
    // --ops-by-name: per batched env step, each outermost operation and (after it) the nested
    // operations it dispatched.
    std::map<std::string, std::pair<double, double>> top;  // name -> (own, nested)
    for (const auto& [name, count] : by_name) {
      const size_t gt = name.find('>');
      auto& entry = top[name.substr(0, gt)];
      (gt == std::string::npos ? entry.first : entry.second) += count / batched;
    }
    std::vector<std::pair<std::pair<double, double>, std::string>> sorted;
    for (const auto& [name, counts] : top) sorted.emplace_back(counts, name);
    std::sort(sorted.rbegin(), sorted.rend());
    for (const auto& [counts, name] : sorted) {
      if (counts.first >= 0.1) {
        std::printf("  e2e %-36s %7.2f per batched step (+ %.2f nested)\n", name.c_str(),
                    counts.first, counts.second);
      }
    }
  }
  const rlpipe::algos::TrainingResult result = rlpipe::algos::Train(request);
  std::printf(
      "%s pendulum end to end (RL-Zoo settings, no evaluation, threads 1): %lld steps in %.2f s = "
      "%.0f env-steps/s (collect %.0f%%, update %.0f%%)\n",
      rlpipe::config::ToString(algorithm).c_str(), static_cast<long long>(result.timesteps),
      result.wall_seconds, static_cast<double>(result.timesteps) / result.wall_seconds,
      100.0 * result.collect_seconds / result.wall_seconds,
      100.0 * result.update_seconds / result.wall_seconds);
  // Where the collection's time goes, per batched env step (all n_envs at once).
  const rlpipe::algos::TimeSplit& split = result.time_split;
  const double batched_steps =
      static_cast<double>(result.timesteps) / static_cast<double>(request.config.training.n_envs);
  std::printf(
      "  per batched env step of %d envs: acting %.1f us, env step %.1f us, buffer and "
      "normalisation %.1f us; update %.1f us per step's share; %.0f dispatched operations in "
      "all\n",
      request.config.training.n_envs, 1e6 * split.inference_seconds / batched_steps,
      1e6 * split.env_step_seconds / batched_steps, 1e6 * split.buffer_seconds / batched_steps,
      1e6 * split.update_seconds / batched_steps, ops_per_step);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions o;
  CLI::App app{"PPO / A2C update cost against the previous code path and the bare GEMMs"};
  app.add_option("--algorithm", o.algorithm, "ppo, a2c or both")
      ->check(CLI::IsMember({"ppo", "a2c", "both"}));
  app.add_option("--reps", o.reps, "alternating blocks");
  app.add_flag("--ops-by-name", o.ops_by_name, "list the PPO update's operations by name");
  app.add_option("--e2e-steps", o.e2e, "end-to-end pendulum steps per algorithm (0: skip)");
  app.add_option("--out", o.out, "folder for the end-to-end runs' models");
  CLI11_PARSE(app, argc, argv);
  try {
    rlpipe::nn::SetIntraOpThreads(1);
    const double op_s = SecondsPerOp();
    std::printf("one small dispatched operation (add of two [64] tensors): %.2f us\n", 1e6 * op_s);
    const bool ppo = o.algorithm != "a2c", a2c = o.algorithm != "ppo";
    if (ppo) PpoUpdateVsReference(o, op_s);
    if (a2c) A2cUpdateVsReference(o, op_s);
    if (a2c) ActingForward(o);
    if (o.e2e > 0) {
      if (ppo) EndToEnd(rlpipe::config::Algorithm::kPpo, o);
      if (a2c) EndToEnd(rlpipe::config::Algorithm::kA2c, o);
    }
    return 0;
  } catch (const rlpipe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
