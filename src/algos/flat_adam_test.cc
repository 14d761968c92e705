// FlatAdam against torch::optim::Adam, including state installed for some parameters only (a
// transfer): per-parameter step counts then differ.
#include "algos/flat_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "nn/flat_parameters.h"
#include "nn/task_pair.h"

namespace rlpipe::algos {
namespace {

torch::nn::Sequential Net() {
  torch::manual_seed(1);
  return torch::nn::Sequential(torch::nn::Linear(3, 4), torch::nn::Tanh(), torch::nn::Linear(4, 1));
}

// Moments at step 5 for the first two parameters only (the first Linear), as a transfer leaves.
void InstallPartialState(torch::optim::Adam& adam, const std::vector<torch::Tensor>& params) {
  torch::manual_seed(2);
  for (size_t i = 0; i < 2; ++i) {
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(5);
    s->exp_avg(torch::randn(params[i].sizes()) * 0.1);
    s->exp_avg_sq(torch::rand(params[i].sizes()) * 0.01);
    adam.state()[c10::guts::to_string(params[i].unsafeGetTensorImpl())] = std::move(s);
  }
}

TEST(FlatAdamTest, MatchesTorchAdamWithPartlyTransferredState) {
  torch::nn::Sequential reference = Net();
  torch::nn::Sequential flat_net = Net();
  torch::optim::Adam adam(reference->parameters(), torch::optim::AdamOptions(1e-2).eps(1e-5));
  InstallPartialState(adam, reference->parameters());
  nn::FlatParameters params(*flat_net);
  FlatAdam flat(params, 1e-2, 1e-5);
  flat.EditState([&](torch::optim::Adam& view) { InstallPartialState(view, params.parameters()); });

  const torch::Tensor x = torch::randn({8, 3});
  for (int step = 0; step < 4; ++step) {
    adam.zero_grad();
    reference->forward(x).pow(2).sum().backward();
    adam.step();
    flat.ZeroGrad();
    flat_net->forward(x).pow(2).sum().backward();
    flat.Step();
  }
  const auto a = reference->parameters();
  const auto b = flat_net->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-5, 1e-7)) << "parameter " << i;
  }
  // The per-parameter view carries each parameter's own step count: 5 + 4 and 0 + 4.
  const torch::optim::Adam& view = flat.AsTorchAdam();
  const auto& first = static_cast<const torch::optim::AdamParamState&>(
      *view.state().at(c10::guts::to_string(b[0].unsafeGetTensorImpl())));
  const auto& last = static_cast<const torch::optim::AdamParamState&>(
      *view.state().at(c10::guts::to_string(b[3].unsafeGetTensorImpl())));
  EXPECT_EQ(first.step(), 9);
  EXPECT_EQ(last.step(), 4);
}

// The update as two halves on a task pair (one thread or two) gives Step()'s bits, on a buffer
// of 37·29 + 29 + 29 + 1 = 1103 values (no multiple of the vector width; halves of 512 and 591).
TEST(FlatAdamTest, TwoHalvesOnTasksGiveTheOnePassBits) {
  auto make = [] {
    torch::manual_seed(3);
    return torch::nn::Sequential(torch::nn::Linear(37, 29), torch::nn::ReLU(),
                                 torch::nn::Linear(29, 1));
  };
  const torch::Tensor x = torch::randn({16, 37});
  std::vector<torch::Tensor> results;
  for (int threads : {0, 1, 2}) {  // 0: Step() on this thread
    torch::nn::Sequential net = make();
    nn::FlatParameters params(*net);
    FlatAdam adam(params, 1e-3);
    nn::TaskPair tasks(threads);
    for (int step = 0; step < 5; ++step) {
      adam.ZeroGrad();
      net->forward(x).pow(2).sum().backward();
      if (threads == 0) {
        adam.Step();
      } else {
        adam.Step(tasks);
      }
    }
    results.push_back(params.data().clone());
  }
  EXPECT_TRUE(torch::equal(results[0], results[1]));
  EXPECT_TRUE(torch::equal(results[0], results[2]));
}

}  // namespace
}  // namespace rlpipe::algos
