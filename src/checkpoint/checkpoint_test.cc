#include "checkpoint/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "config/algorithms.h"
#include "config/tree.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "core/zip.h"
#include "nn/mlp_actor_critic.h"
#include "nn/multi_robot_policy.h"

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
    data.agent.on_policy()->n_steps = 1024;
    data.agent.common().gamma = 0.9;
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
  EXPECT_EQ(loaded.data.agent.on_policy()->n_steps, 1024);
  EXPECT_DOUBLE_EQ(loaded.data.agent.common().gamma, 0.9);
  EXPECT_EQ(loaded.data.act_high, std::vector<float>{2});
  EXPECT_EQ(loaded.data.seed, 42u);
  EXPECT_NE(loaded.config_yaml.find("pendulum"), std::string::npos);

  EXPECT_FALSE(loaded.from_sb3);

  // SB3's members and ours; only SB3's end in .pth, and the manifest lists every other member.
  ZipReader zip = ZipReader::FromFile(path);
  EXPECT_EQ(zip.Names(), (std::vector<std::string>{"_stable_baselines3_version", "data",
                                                   "policy.pth", "pytorch_variables.pth",
                                                   "rlpipe_config.yaml", "rlpipe_manifest.json",
                                                   "rlpipe_model.json", "system_info.txt"}));
  const std::string manifest = zip.Get(kManifestMember);
  for (const std::string& name : zip.Names()) {
    if (name != kManifestMember) {
      EXPECT_NE(manifest.find("\"" + name + "\""), std::string::npos) << name;
    }
  }
  EXPECT_NE(manifest.find(Sha256Hex(zip.Get(kPolicyMember))), std::string::npos);

  // Loading into a fresh model reproduces the weights.
  nn::MlpActorCriticOptions other = Options(3);
  other.init_seed = 99;
  nn::MlpActorCritic fresh(other);
  EXPECT_EQ(LoadWeightsInto(*fresh, loaded.state_dict, path.string()), 13);
  torch::Tensor obs = torch::randn({4, 3});
  EXPECT_TRUE(torch::equal(fresh->forward(obs).mean, policy->forward(obs).mean));
}

TEST_F(CheckpointTest, UnboundedObservationBoxesRoundTrip) {
  // Robot tasks observe without bounds; JSON has no infinity, so ±inf is written "inf"/"-inf".
  nn::MlpActorCritic policy(Options(3));
  ModelData data = Data();
  const float inf = std::numeric_limits<float>::infinity();
  data.obs_low = {-inf, -1, -inf};
  data.obs_high = {inf, 1, inf};
  SaveModel(dir_ / "unbounded.zip", *policy, data, Config());
  const LoadedModel loaded = LoadModel(dir_ / "unbounded.zip");
  EXPECT_EQ(loaded.data.obs_low, data.obs_low);
  EXPECT_EQ(loaded.data.obs_high, data.obs_high);

  // Archives written with null for an infinity (before this fix) still read as unbounded.
  std::string text = ModelJson(data);
  for (const std::string word : {"\"-inf\"", "\"inf\""}) {
    for (size_t at = text.find(word); at != std::string::npos; at = text.find(word)) {
      text.replace(at, word.size(), "null");
    }
  }
  const ModelData legacy = ParseModelJson(text, "old.zip");
  EXPECT_EQ(legacy.obs_low, data.obs_low);
  EXPECT_EQ(legacy.obs_high, data.obs_high);
}

TEST_F(CheckpointTest, VerifyArchiveRejectsHalfWrittenFiles) {
  // A complete archive verifies; every cut of it (a write interrupted without atomicity) and a
  // missing file do not.
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveOptions options;
  options.extra_members = {{"rlpipe_state", "x"}};
  SaveModel(path, *policy, Data(), Config(), options);
  EXPECT_TRUE(VerifyArchive(path));
  const std::string bytes = ReadFile(path);
  for (size_t cut : {bytes.size() / 4, bytes.size() / 2, bytes.size() - 1}) {
    const fs::path half = dir_ / ("half_" + std::to_string(cut) + ".zip");
    std::ofstream(half, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(cut));
    EXPECT_FALSE(VerifyArchive(half)) << "cut at " << cut;
  }
  EXPECT_FALSE(VerifyArchive(dir_ / "missing.zip"));
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
}

// Rebuilds `path` with `member` replaced by `bytes` (a valid zip, so only the manifest can tell).
void ReplaceMember(const fs::path& from, const fs::path& to, const std::string& member,
                   const std::string& bytes) {
  ZipReader good = ZipReader::FromFile(from);
  ZipWriter bad;
  for (const std::string& name : good.Names()) {
    if (name == member && bytes.empty()) continue;
    bad.Add(name, name == member ? bytes : good.Get(name));
  }
  WriteFileAtomic(to, bad.Serialize());
}

// Expects `fn` to throw E whose message contains every one of `parts`.
template <typename E, typename Fn>
void ExpectError(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& e) {
    for (const auto& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
    }
  }
}

TEST_F(CheckpointTest, ChecksumMismatchNamesMemberAndDigests) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, Data(), Config());
  std::string policy_bytes = ZipReader::FromFile(path).Get(kPolicyMember);
  policy_bytes[policy_bytes.size() / 2] ^= 0x01;
  const fs::path altered = dir_ / "altered.zip";
  ReplaceMember(path, altered, kPolicyMember, policy_bytes);
  ExpectError<IoError>([&] { LoadModel(altered); },
                       {"altered.zip", "SHA-256 mismatch", "policy.pth"});

  // A missing member and an unlisted one are errors too.
  const fs::path missing = dir_ / "missing.zip";
  ReplaceMember(path, missing, kDataMember, "");
  ExpectError<IoError>([&] { LoadModel(missing); }, {"missing.zip", "'data'", "missing"});
}

TEST_F(CheckpointTest, ExtraMembersRoundTripUnderTheManifest) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveOptions options;
  options.extra_members = {{"rlpipe_resume/state.json", "{\"step\": 7}"},
                           {"rlpipe_obs_norm.bin", std::string("\0\1\2", 3)}};
  SaveModel(path, *policy, Data(), Config(), options);
  LoadedModel loaded = LoadModel(path);
  EXPECT_EQ(loaded.extra_members, options.extra_members);
  EXPECT_NE(ZipReader::FromFile(path).Get(kManifestMember).find("rlpipe_obs_norm.bin"),
            std::string::npos);

  // Tampering with an extra member is caught like any other.
  const fs::path altered = dir_ / "altered.zip";
  ReplaceMember(path, altered, "rlpipe_obs_norm.bin", "xyz");
  ExpectError<IoError>([&] { LoadModel(altered); }, {"rlpipe_obs_norm.bin"});

  // Names SB3 would read (.pth) or that are ours already are refused.
  for (const std::string bad : {"stats.pth", "data", "rlpipe_manifest.json", ""}) {
    SaveOptions wrong;
    wrong.extra_members = {{bad, "x"}};
    EXPECT_THROW(SaveModel(dir_ / "bad.zip", *policy, Data(), Config(), wrong), IoError) << bad;
  }
}

TEST_F(CheckpointTest, AnotherAlgorithmsCheckpointIsRefused) {
  nn::MlpActorCritic policy(Options(3));
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, Data(), Config());
  const LoadedModel loaded = LoadModel(path);
  EXPECT_NO_THROW(RequireAlgorithm(loaded, config::Algorithm::kPpo, "m"));
  ExpectError<ConfigError>([&] { RequireAlgorithm(loaded, config::Algorithm::kA2c, "model.zip"); },
                           {"model.zip", "A2C", "PPO"});
}

// A MultiRobotPolicy model says what it is (data.policy_class and rlpipe_model.json), so neither
// network loads as the other; an MlpPolicy model's SB3 members do not change with the MRP keys.
TEST_F(CheckpointTest, MultiRobotPolicyModelsSayWhatTheyAre) {
  nn::MultiRobotPolicyOptions options;
  options.layout.types = {{.type = "a", .count = 2, .obs_dim = 3, .act_dim = 1}};
  options.layout.task_obs_dim = 2;
  options.embed_dim = 8;
  options.attention_heads = 2;
  options.attention_layers = 1;
  options.policy_layers = {8};
  options.value_layers = {8};
  nn::MultiRobotPolicy mrp(options);
  ModelData data = Data();
  data.obs_dim = 8;
  data.act_dim = 2;
  data.obs_low.assign(8, -1.0f);
  data.obs_high.assign(8, 1.0f);
  data.act_low.assign(2, -1.0f);
  data.act_high.assign(2, 1.0f);
  data.agent.common().policy = config::Policy::kMultiRobot;
  data.network.embed_dim = 8;
  data.network.attention_heads = 2;
  data.network.attention_layers = 1;
  const fs::path mrp_path = dir_ / "mrp.zip";
  SaveModel(mrp_path, *mrp, data, Config());

  // Ours: rlpipe_model.json carries the policy and the attention sizes.
  const LoadedModel mrp_model = LoadModel(mrp_path);
  EXPECT_EQ(mrp_model.data.agent.common().policy, config::Policy::kMultiRobot);
  EXPECT_EQ(mrp_model.data.network.embed_dim, 8);
  EXPECT_EQ(mrp_model.data.network.attention_heads, 2);
  EXPECT_EQ(mrp_model.data.network.attention_layers, 1);
  EXPECT_EQ(Sb3PolicyClass(config::Algorithm::kPpo, config::Policy::kMultiRobot),
            (std::pair<std::string, std::string>{"rlpipe.policies", "MultiRobotPolicy"}));

  // SB3's view: `data` names rlpipe's class, not ActorCriticPolicy.
  const std::string data_json = ZipReader::FromFile(mrp_path).Get(kDataMember);
  EXPECT_EQ(data_json.find("ActorCriticPolicy"), std::string::npos);
  const ModelData as_sb3 = ParseSb3Data(data_json, "mrp.zip");
  EXPECT_EQ(as_sb3.agent.common().policy, config::Policy::kMultiRobot);
  EXPECT_EQ(as_sb3.agent.algorithm(), config::Algorithm::kPpo);

  // Either way round, loading as the other network names both.
  EXPECT_NO_THROW(RequirePolicy(mrp_model, config::Policy::kMultiRobot, "mrp.zip"));
  ExpectError<ConfigError>(
      [&] { RequirePolicy(mrp_model, config::Policy::kMlp, "mrp.zip"); },
      {"checkpoint mrp.zip", "expected a MlpPolicy model", "found a MultiRobotPolicy model"});
  nn::MlpActorCritic mlp(Options(3));
  const fs::path mlp_path = dir_ / "mlp.zip";
  SaveModel(mlp_path, *mlp, Data(), Config());
  const LoadedModel mlp_model = LoadModel(mlp_path);
  EXPECT_EQ(mlp_model.data.agent.common().policy, config::Policy::kMlp);
  EXPECT_NO_THROW(RequirePolicy(mlp_model, config::Policy::kMlp, "mlp.zip"));
  ExpectError<ConfigError>(
      [&] { RequirePolicy(mlp_model, config::Policy::kMultiRobot, "mlp.zip"); },
      {"checkpoint mlp.zip", "expected a MultiRobotPolicy model", "found a MlpPolicy model"});
  EXPECT_EQ(
      ParseSb3Data(ZipReader::FromFile(mlp_path).Get(kDataMember), "mlp.zip").agent.common().policy,
      config::Policy::kMlp);

  // MlpPolicy's data and model description ignore the MultiRobotPolicy-only sizes.
  ModelData other_sizes = Data();
  other_sizes.network.embed_dim = 32;
  other_sizes.network.attention_layers = 5;
  EXPECT_EQ(Sb3DataJson(other_sizes), Sb3DataJson(Data()));
  EXPECT_EQ(ModelJson(other_sizes), ModelJson(Data()));
}

// Robot tasks' observation boxes are unbounded: rlpipe_model.json keeps ±inf (JSON has no number
// for them).
TEST_F(CheckpointTest, UnboundedBoxesRoundTrip) {
  nn::MlpActorCritic policy(Options(3));
  ModelData data = Data();
  const float inf = std::numeric_limits<float>::infinity();
  data.obs_low = {-inf, -1, -8};
  data.obs_high = {inf, 1, 8};
  const fs::path path = dir_ / "model.zip";
  SaveModel(path, *policy, data, Config());
  const LoadedModel loaded = LoadModel(path);
  EXPECT_EQ(loaded.data.obs_low, data.obs_low);
  EXPECT_EQ(loaded.data.obs_high, data.obs_high);
  ExpectError<IoError>(
      [] {
        ParseModelJson(R"({"algorithm": "PPO", "policy": "MlpPolicy",
      "obs_dim": 1, "act_dim": 1, "observation_space": {"low": ["-infinite"], "high": [1]}})",
                       "m.zip");
      },
      {"m.zip", "-infinite"});
}

TEST_F(CheckpointTest, OptimizerStateMembersAreKeptForResume) {
  nn::MlpActorCritic policy(Options(3));
  torch::optim::RMSprop rmsprop(policy->parameters(), torch::optim::RMSpropOptions(7e-4));
  const fs::path path = dir_ / "model.zip";
  SaveOptions options;
  options.optimizers.push_back({kOptimizerMember, &rmsprop});
  SaveModel(path, *policy, Data(), Config(), options);
  const LoadedModel loaded = LoadModel(path);
  ASSERT_EQ(loaded.optimizer_members.count(kOptimizerMember), 1u);
  EXPECT_TRUE(loaded.extra_members.empty());
}

// Our `data` read back as an SB3 file would be: algorithm from the pickled class, numbers plain.
TEST_F(CheckpointTest, Sb3DataParsesBackForEveryAlgorithm) {
  for (const config::AlgorithmInfo& row : config::Algorithms()) {
    const config::Algorithm algorithm = row.algorithm;
    ModelData data = Data();
    data.agent = config::DefaultAgentConfig(algorithm);
    data.agent.common().learning_rate = 1.25e-3;
    const ModelData parsed = ParseSb3Data(Sb3DataJson(data), "x.zip");
    EXPECT_EQ(parsed.agent.algorithm(), algorithm) << config::ToString(algorithm);
    EXPECT_EQ(parsed.num_timesteps, 4096);
    EXPECT_EQ(parsed.seed, 42u);
    EXPECT_DOUBLE_EQ(parsed.agent.common().learning_rate, 1.25e-3);
    // SB3 seeds numpy with it, which takes values below 2^32 only.
    data.seed = 0x1234567890ull;
    EXPECT_EQ(ParseSb3Data(Sb3DataJson(data), "x.zip").seed, 0x34567890ull);
  }
  // A string policy_class (what SB3 cannot load either) is refused, naming the file.
  ExpectError<IoError>([] { ParseSb3Data(R"({"policy_class": "MlpPolicy"})", "s.zip"); },
                       {"s.zip", "policy_class"});
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
  // Debian's python3 with python3-torch (the pyenv one first on PATH has no torch).
  const std::string python = "/usr/bin/python3";
  int probe = 0;
  RunCommand(python + " -c 'import torch' 2>/dev/null", &probe);
  if (probe != 0) GTEST_SKIP() << "no python3-torch (scripts/install-deps.sh --test)";

  nn::MlpActorCritic policy(Options(3));
  torch::optim::Adam adam(policy->parameters(), torch::optim::AdamOptions(1e-3).eps(1e-5));
  // One step so that the optimizer has state to write.
  auto out = policy->forward(torch::ones({2, 3}));
  (out.mean.sum() + out.value.sum() + out.log_std.sum()).backward();
  adam.step();
  const fs::path path = dir_ / "model.zip";
  SaveOptions options;
  options.optimizers.push_back({kOptimizerMember, &adam});
  SaveModel(path, *policy, Data(), Config(), options);

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
