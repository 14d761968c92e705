// FlatRmsProp and FlatParameters::ClipGradNormAsTorch against torch::optim::RMSprop and
// torch::nn::utils::clip_grad_norm_: the same bits (A2C keeps its per-tensor path's results).
#include "algos/flat_rmsprop.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <iterator>
#include <sstream>
#include <string>

#include "nn/flat_parameters.h"

namespace rlpipe::algos {
namespace {

// Sizes that are no multiple of the vector width, so the flat buffer's vectorised part and scalar
// tail split the elements differently from the per-tensor passes.
torch::nn::Sequential Net() {
  torch::manual_seed(4);
  return torch::nn::Sequential(torch::nn::Linear(3, 37), torch::nn::Tanh(),
                               torch::nn::Linear(37, 29), torch::nn::Tanh(),
                               torch::nn::Linear(29, 1));
}

TEST(FlatRmsPropTest, ClipAndStepGiveTorchsBits) {
  for (double max_norm : {0.05, 1e6}) {  // clipping, and a factor clamped at 1
    torch::nn::Sequential reference = Net();
    torch::nn::Sequential flat_net = Net();
    torch::optim::RMSprop rms_prop(reference->parameters(),
                                   torch::optim::RMSpropOptions(7e-3).alpha(0.99).eps(1e-5));
    nn::FlatParameters params(*flat_net);
    FlatRmsProp flat(params, 7e-3, 0.99, 1e-5);

    torch::manual_seed(5);
    const torch::Tensor x = torch::randn({64, 3});
    for (int step = 0; step < 6; ++step) {
      rms_prop.zero_grad();
      reference->forward(x).pow(2).sum().backward();
      const double norm_a = torch::nn::utils::clip_grad_norm_(reference->parameters(), max_norm);
      rms_prop.step();
      params.ZeroGrad();
      flat_net->forward(x).pow(2).sum().backward();
      const double norm_b = params.ClipGradNormAsTorch(max_norm);
      flat.Step();
      EXPECT_EQ(norm_a, norm_b) << "step " << step;
    }
    const auto a = reference->parameters();
    const auto b = flat_net->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(torch::equal(a[i], b[i])) << "max_norm " << max_norm << " parameter " << i;
    }
    // The per-parameter view holds torch's state: the same step counts and square averages.
    const torch::optim::RMSprop& view = flat.AsTorchRmsProp();
    for (size_t i = 0; i < a.size(); ++i) {
      const auto& sa = static_cast<const torch::optim::RMSpropParamState&>(
          *rms_prop.state().at(c10::guts::to_string(a[i].unsafeGetTensorImpl())));
      const auto& sb = static_cast<const torch::optim::RMSpropParamState&>(
          *view.state().at(c10::guts::to_string(b[i].unsafeGetTensorImpl())));
      EXPECT_EQ(sa.step(), sb.step());
      EXPECT_TRUE(torch::equal(sa.square_avg(), sb.square_avg())) << "parameter " << i;
    }
  }
}

// Save, then Load into a fresh optimizer: the next step is the same as without the round trip;
// EditState installs state for some parameters only.
TEST(FlatRmsPropTest, SaveLoadAndEditState) {
  torch::nn::Sequential net_a = Net();
  torch::nn::Sequential net_b = Net();
  nn::FlatParameters params_a(*net_a);
  nn::FlatParameters params_b(*net_b);
  FlatRmsProp a(params_a, 1e-2, 0.99, 1e-5);
  FlatRmsProp b(params_b, 1e-2, 0.99, 1e-5);
  const torch::Tensor x = torch::randn({16, 3});
  auto step = [&](torch::nn::Sequential& net, nn::FlatParameters& params, FlatRmsProp& opt) {
    params.ZeroGrad();
    net->forward(x).sum().backward();
    opt.Step();
  };
  step(net_a, params_a, a);
  step(net_b, params_b, b);
  torch::serialize::OutputArchive out;
  a.Save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read);
  FlatRmsProp reloaded(params_b, 1e-2, 0.99, 1e-5);
  reloaded.Load(in);
  step(net_a, params_a, a);
  step(net_b, params_b, reloaded);
  EXPECT_TRUE(torch::equal(params_a.data(), params_b.data()));

  // Only the first parameter keeps state; the others start at step 0 again.
  reloaded.EditState([&](torch::optim::RMSprop& view) {
    const std::string keep = c10::guts::to_string(params_b.parameters()[0].unsafeGetTensorImpl());
    for (auto it = view.state().begin(); it != view.state().end();) {
      it = it->first == keep ? std::next(it) : view.state().erase(it);
    }
  });
  const torch::optim::RMSprop& view = reloaded.AsTorchRmsProp();
  EXPECT_EQ(view.state().size(), 1U);
}

}  // namespace
}  // namespace rlpipe::algos
