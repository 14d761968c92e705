// Save + load time of a 256×256 PPO checkpoint (policy, Adam state, SB3 `data`, manifest with
// SHA-256), against writing and reading the same number of bytes with plain std::ofstream /
// std::ifstream in the same run. Target: save + load ≤ 100 ms.
//
//   build/bench/checkpoint_bench [--repeats N] [--dir D]
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "config/tree.h"
#include "nn/mlp_actor_critic.h"
#include "nn/threads.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"checkpoint save + load time against plain file I/O of the same bytes"};
  int repeats = 21;
  std::string dir = (fs::temp_directory_path() / "rlpipe_checkpoint_bench").string();
  app.add_option("--repeats", repeats, "timed repetitions (median reported)")
      ->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "scratch folder");
  CLI11_PARSE(app, argc, argv);
  rlpipe::nn::SetIntraOpThreads(1);
  fs::create_directories(dir);

  // A PPO MlpPolicy with [256, 256] policy and value networks, after one Adam step.
  rlpipe::nn::MlpActorCriticOptions options;
  options.obs_dim = 32;
  options.act_dim = 8;
  options.policy_layers = {256, 256};
  options.value_layers = {256, 256};
  rlpipe::nn::MlpActorCritic policy(options);
  torch::optim::Adam adam(policy->parameters(), torch::optim::AdamOptions(3e-4).eps(1e-5));
  auto out = policy->forward(torch::randn({64, 32}));
  (out.mean.square().sum() + out.value.square().sum()).backward();
  adam.step();

  rlpipe::checkpoint::ModelData data;
  data.obs_dim = 32;
  data.act_dim = 8;
  data.obs_low.assign(32, -10.0f);
  data.obs_high.assign(32, 10.0f);
  data.act_low.assign(8, -1.0f);
  data.act_high.assign(8, 1.0f);
  data.network.policy_layers = {256, 256};
  data.network.value_layers = {256, 256};
  rlpipe::config::Tree config;
  config.Set("note", rlpipe::config::Tree::Scalar("checkpoint bench"));
  rlpipe::checkpoint::SaveOptions save_options;
  save_options.optimizers.push_back({rlpipe::checkpoint::kOptimizerMember, &adam});

  const fs::path model_path = fs::path(dir) / "model.zip";
  const fs::path plain_path = fs::path(dir) / "plain.bin";
  rlpipe::nn::MlpActorCritic target(options);
  std::vector<double> checkpoint_ms, plain_ms;
  for (int i = 0; i < repeats + 1; ++i) {
    // rlpipe: SaveModel, then LoadModel and copy the weights into a model.
    Clock::time_point start = Clock::now();
    rlpipe::checkpoint::SaveModel(model_path, *policy, data, config, save_options);
    const rlpipe::checkpoint::LoadedModel loaded = rlpipe::checkpoint::LoadModel(model_path);
    rlpipe::checkpoint::LoadWeightsInto(*target, loaded.state_dict, model_path.string());
    const double checkpoint = MillisecondsSince(start);

    // Reference: the same number of bytes through std::ofstream and back through std::ifstream.
    const std::string bytes(fs::file_size(model_path), 'x');
    start = Clock::now();
    {
      std::ofstream file(plain_path, std::ios::binary | std::ios::trunc);
      file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    std::ifstream file(plain_path, std::ios::binary);
    const std::string back((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    const double plain = MillisecondsSince(start);
    if (back.size() != bytes.size()) return 1;

    // The first round warms caches and allocators; it is not counted.
    if (i > 0) {
      checkpoint_ms.push_back(checkpoint);
      plain_ms.push_back(plain);
    }
  }

  const double checkpoint = Median(checkpoint_ms);
  const double plain = Median(plain_ms);
  std::printf("checkpoint: 256x256 PPO, %ju bytes, %d repeats (medians)\n",
              static_cast<uintmax_t>(fs::file_size(model_path)), repeats);
  std::printf("save+load (SaveModel, LoadModel, LoadWeightsInto): %.2f ms\n", checkpoint);
  std::printf("plain ofstream write + ifstream read of the same bytes: %.2f ms\n", plain);
  std::printf("ratio checkpoint / plain: %.1fx\n", checkpoint / plain);
  std::printf("target save+load <= 100 ms: %s\n", checkpoint <= 100.0 ? "met" : "MISSED");
  fs::remove_all(dir);
  return checkpoint <= 100.0 ? 0 : 1;
}
