#include "nn/task_pair.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "nn/diag_gaussian.h"
#include "nn/off_policy_networks.h"

namespace rlpipe::nn {
namespace {

// Two threads run the second task on the worker with the caller's grad mode; one runs both on
// the caller, in order.
TEST(TaskPairTest, RunsBothTasksOnOneOrTwoThreads) {
  for (int threads : {1, 2, 3}) {
    TaskPair tasks(threads);
    EXPECT_EQ(tasks.Threads(), threads == 1 ? 1 : 2);
    std::vector<int> order;
    std::thread::id first_id, second_id;
    bool second_grad = true;
    torch::NoGradGuard no_grad;
    tasks.Run(
        [&] {
          first_id = std::this_thread::get_id();
          if (threads == 1) order.push_back(0);
        },
        [&] {
          second_id = std::this_thread::get_id();
          second_grad = torch::GradMode::is_enabled();
          if (threads == 1) order.push_back(1);
        });
    EXPECT_EQ(first_id, std::this_thread::get_id());
    EXPECT_EQ(second_id == first_id, threads == 1);
    EXPECT_FALSE(second_grad);
    if (threads == 1) {
      EXPECT_EQ(order, (std::vector<int>{0, 1}));
    }
  }
}

// An exception in either task reaches the caller after both have finished; the pair still works.
TEST(TaskPairTest, RethrowsAndKeepsWorking) {
  TaskPair tasks(2);
  bool second_ran = false;
  EXPECT_THROW(tasks.Run([] { throw std::runtime_error("first"); }, [&] { second_ran = true; }),
               std::runtime_error);
  EXPECT_TRUE(second_ran);
  EXPECT_THROW(tasks.Run([] {}, [] { throw std::logic_error("second"); }), std::logic_error);
  // Pairs after the worker was told to rest (it sleeps) run as before.
  // One counter per task: the two run at the same time on two threads.
  int first_runs = 0;
  int second_runs = 0;
  for (int i = 0; i < 100; ++i) {
    tasks.Run([&] { ++first_runs; }, [&] { ++second_runs; });
    if (i % 3 == 0) tasks.Rest();
  }
  EXPECT_EQ(first_runs, 100);
  EXPECT_EQ(second_runs, 100);
}

// A pair run from inside a task runs on that task's thread, in order (no deadlock).
TEST(TaskPairTest, NestedPairsRunOnTheirTasksThread) {
  TaskPair tasks(2);
  std::vector<int> first_order, second_order;
  tasks.Run(
      [&] { tasks.Run([&] { first_order.push_back(0); }, [&] { first_order.push_back(1); }); },
      [&] { tasks.Run([&] { second_order.push_back(0); }, [&] { second_order.push_back(1); }); });
  EXPECT_EQ(first_order, (std::vector<int>{0, 1}));
  EXPECT_EQ(second_order, (std::vector<int>{0, 1}));
}

// The twin critics with each Q network as a task give the same bits as the plain forward: values,
// weight gradients of a regression loss, and the input gradient of an actor-style loss through
// frozen critics, on one thread and on two.
TEST(TwinQCriticTasksTest, SameValuesAndGradientsAsThePlainForward) {
  TwinQCriticOptions options;
  options.obs_dim = 5;
  options.act_dim = 2;
  options.layers = {64, 64};
  TwinQCritic critic(options);
  torch::Generator generator = MakeGenerator(3);
  const torch::Tensor obs = at::normal(0.0, 1.0, {32, 5}, generator, torch::kFloat32);
  const torch::Tensor actions = at::normal(0.0, 0.5, {32, 2}, generator, torch::kFloat32);
  const torch::Tensor target = at::normal(0.0, 1.0, {32}, generator, torch::kFloat32);
  const torch::Tensor action_source = at::normal(0.0, 1.0, {32, 2}, generator, torch::kFloat32);

  // Returns Q values (no gradients), weight gradients, and the gradient to an action input.
  auto run = [&](TaskPair* tasks) {
    auto forward = [&](const torch::Tensor& a) {
      return tasks != nullptr ? critic->forward(obs, a, *tasks) : critic->forward(obs, a);
    };
    std::vector<torch::Tensor> out;
    {
      torch::NoGradGuard no_grad;
      TwinQValues q = forward(actions);
      out.push_back(q.q0.clone());
      out.push_back(q.q1.clone());
    }
    critic->zero_grad();
    TwinQValues q = forward(actions);
    (0.5 * (torch::mse_loss(q.q0, target) + torch::mse_loss(q.q1, target))).backward();
    for (const torch::Tensor& p : critic->parameters()) out.push_back(p.grad().clone());
    for (torch::Tensor& p : critic->parameters()) p.set_requires_grad(false);
    torch::Tensor source = action_source.clone().requires_grad_(true);
    TwinQValues q_pi = forward(torch::tanh(source));
    (torch::min(q_pi.q0, q_pi.q1).mean() + q_pi.q0.sum()).backward();
    out.push_back(source.grad().clone());
    for (torch::Tensor& p : critic->parameters()) p.set_requires_grad(true);
    return out;
  };
  const std::vector<torch::Tensor> plain = run(nullptr);
  for (int threads : {1, 2}) {
    TaskPair tasks(threads);
    const std::vector<torch::Tensor> with_tasks = run(&tasks);
    ASSERT_EQ(with_tasks.size(), plain.size());
    for (size_t i = 0; i < plain.size(); ++i) {
      EXPECT_TRUE(torch::equal(with_tasks[i], plain[i])) << "threads " << threads << " #" << i;
    }
  }
}

}  // namespace
}  // namespace rlpipe::nn
