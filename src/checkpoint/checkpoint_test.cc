#include "checkpoint/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "core/zip.h"
#include "nn/mlp_actor_critic.h"

namespace rlpipe::checkpoint {
namespace {

namespace fs = std::filesystem;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rlpipe_checkpoint_test_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static nn::MlpActorCriticOptions Options(int obs_dim) {
    nn::MlpActorCriticOptions options;
    options.obs_dim = obs_dim;
    options.act_dim = 1;
    options.policy_layers = {8, 8};
    options.value_layers = {8, 8};
    options.init_seed = 3;
    return options;
  }

  static ModelData Data() {
    ModelData data;
    data.obs_dim = 3;
    data.act_dim = 1;
    data.obs_low = {-1, -1, -8};
    data.obs_high = {1, 1, 8};
    data.act_low = {-2};
    data.act_high = {2};
    data.num_timesteps = 4096;
    data.episodes = 20;
    data.agent.n_steps = 1024;
    data.agent.gamma = 0.9;
    data.network.policy_layers = {8, 8};
    data.network.value_layers = {8, 8};
    data.seed = 42;
    return data;
  }

  static config::Tree Config() {
    config::Tree root;
    config::Tree env;
    env.Set("name", config::Tree::Scalar("pendulum"));
    root.Set("environment", env);
    return root;
  }

  fs::path dir_;
};

TEST_F(CheckpointTest, ExtraMembersRoundTripAndReservedNamesAreRefused) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "extra.zip";
  SaveModel(path, *policy, Data(), Config(), nullptr,
            {{"rlpipe_normalizer.json", "{\"obs\": true}"}, {"notes.bin", std::string("\0\1", 2)}});
  const LoadedModel loaded = LoadModel(path);
  EXPECT_EQ(loaded.extra_members, (ExtraMembers{{"rlpipe_normalizer.json", "{\"obs\": true}"},
                                                {"notes.bin", std::string("\0\1", 2)}}));
  EXPECT_THROW(SaveModel(path, *policy, Data(), Config(), nullptr, {{"vec.pth", "x"}}),
               std::invalid_argument);
  EXPECT_TRUE(LoadModel(path).extra_members.contains("notes.bin"));  // the old file is intact
}

TEST_F(CheckpointTest, RoundTripGivesEqualTensorsAndData) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, Data(), Config());

  LoadedModel loaded = LoadModel(path);
  StateDict original = ToStateDict(*policy);
  ASSERT_EQ(loaded.state_dict.size(), original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    EXPECT_EQ(loaded.state_dict[i].first, original[i].first);
    EXPECT_TRUE(torch::equal(loaded.state_dict[i].second, original[i].second)) << original[i].first;
  }
  EXPECT_EQ(loaded.data.num_timesteps, 4096);
  EXPECT_EQ(loaded.data.episodes, 20);
  EXPECT_EQ(loaded.data.agent.n_steps, 1024);
  EXPECT_DOUBLE_EQ(loaded.data.agent.gamma, 0.9);
  EXPECT_EQ(loaded.data.act_high, std::vector<float>{2});
  EXPECT_EQ(loaded.data.seed, 42u);
  EXPECT_NE(loaded.config_yaml.find("pendulum"), std::string::npos);

  // Our own members never end in .pth; the manifest lists the others.
  ZipReader zip = ZipReader::FromFile(path);
  for (const std::string& name : zip.Names()) {
    if (name != kPolicyMember && name != kOptimizerMember) {
      EXPECT_FALSE(name.ends_with(".pth")) << name;
    }
  }
  EXPECT_NE(zip.Get(kManifestMember).find("\"policy.pth\""), std::string::npos);

  // Loading into a fresh model reproduces the weights.
  nn::MlpActorCriticOptions other = Options(3);
  other.init_seed = 99;
  nn::MlpActorCritic fresh(other);
  EXPECT_EQ(LoadWeightsInto(*fresh, loaded.state_dict, path.string()), 13);
  torch::Tensor obs = torch::randn({4, 3});
  EXPECT_TRUE(torch::equal(fresh->forward(obs).mean, policy->forward(obs).mean));
}

TEST_F(CheckpointTest, ShapeMismatchNamesTensorAndShapes) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, Data(), Config());
  nn::MlpActorCritic wider(Options(5));
  try {
    LoadWeightsInto(*wider, LoadModel(path).state_dict, path.string());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("mlp_extractor.policy_net.0.weight"), std::string::npos) << what;
    EXPECT_NE(what.find("[8, 3]"), std::string::npos) << what;
    EXPECT_NE(what.find("[8, 5]"), std::string::npos) << what;
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
  }
}

TEST_F(CheckpointTest, TruncatedArchiveIsIoErrorNamingTheFile) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, Data(), Config());
  std::string bytes = ReadFile(path);
  const fs::path cut = dir_ / "cut.zip";
  WriteFileAtomic(cut, std::string_view(bytes).substr(0, bytes.size() / 2));
  try {
    LoadModel(cut);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.zip"), std::string::npos) << e.what();
  }

  // A well-formed archive whose policy.pth is garbage is also an IoError naming the file.
  ZipReader good = ZipReader::FromFile(path);
  ZipWriter bad;
  for (const std::string& name : good.Names()) {
    bad.Add(name, name == kPolicyMember ? std::string("not a pickle") : good.Get(name));
  }
  const fs::path corrupt = dir_ / "corrupt.zip";
  WriteFileAtomic(corrupt, bad.Serialize());
  EXPECT_THROW(
      {
        try {
          LoadModel(corrupt);
        } catch (const IoError& e) {
          EXPECT_NE(std::string(e.what()).find("corrupt.zip"), std::string::npos) << e.what();
          throw;
        }
      },
      IoError);
}

// Runs a command and returns its stdout (empty on failure).
std::string RunCommand(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return out;
  }
  std::array<char, 512> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  *status = pclose(pipe);
  return out;
}

TEST_F(CheckpointTest, PythonTorchLoadSeesSb3NamesAndShapes) {
  // Find a python3 that has torch (the Debian one may not be first on PATH).
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"}) {
    int status = 0;
    RunCommand(std::string(candidate) + " -c 'import torch' 2>/dev/null", &status);
    if (status == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) GTEST_SKIP() << "no python3 with torch";

  nn::MlpActorCritic policy(Options(3));
  torch::optim::Adam adam(policy->parameters(), torch::optim::AdamOptions(1e-3).eps(1e-5));
  // One step so that the optimizer has state to write.
  auto out = policy->forward(torch::ones({2, 3}));
  (out.mean.sum() + out.value.sum() + out.log_std.sum()).backward();
  adam.step();
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, Data(), Config(), &adam);

  const fs::path script = dir_ / "read.py";
  std::ofstream(script) << "import io, sys, zipfile, torch\n"
                           "z = zipfile.ZipFile(sys.argv[1])\n"
                           "sd = torch.load(io.BytesIO(z.read('policy.pth')))\n"
                           "for k, v in sd.items(): print(k, list(v.shape), v.dtype)\n"
                           "opt = torch.load(io.BytesIO(z.read('policy.optimizer.pth')))\n"
                           "print('optimizer', len(opt['state']), opt['param_groups'][0]['eps'])\n"
                           "print('log_std', round(sd['log_std'].item(), 6))\n";
  int status = 0;
  const std::string printed =
      RunCommand(python + " " + script.string() + " " + path.string() + " 2>&1", &status);
  ASSERT_EQ(status, 0) << printed;
  // Same order as SB3's state_dict: the policy's own parameter first, then the submodules'.
  EXPECT_EQ(printed,
            "log_std [1] torch.float32\n"
            "mlp_extractor.policy_net.0.weight [8, 3] torch.float32\n"
            "mlp_extractor.policy_net.0.bias [8] torch.float32\n"
            "mlp_extractor.policy_net.2.weight [8, 8] torch.float32\n"
            "mlp_extractor.policy_net.2.bias [8] torch.float32\n"
            "mlp_extractor.value_net.0.weight [8, 3] torch.float32\n"
            "mlp_extractor.value_net.0.bias [8] torch.float32\n"
            "mlp_extractor.value_net.2.weight [8, 8] torch.float32\n"
            "mlp_extractor.value_net.2.bias [8] torch.float32\n"
            "action_net.weight [1, 8] torch.float32\n"
            "action_net.bias [1] torch.float32\n"
            "value_net.weight [1, 8] torch.float32\n"
            "value_net.bias [1] torch.float32\n"
            "optimizer 13 1e-05\n"
            "log_std -0.001\n");  // one Adam step of lr 1e-3 against a positive gradient
}

}  // namespace
}  // namespace rlpipe::checkpoint
