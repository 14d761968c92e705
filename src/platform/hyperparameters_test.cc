#include "platform/hyperparameters.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rlpipe::platform {
namespace {

SessionJobInput Sample(std::string yaml) {
  SessionJobInput input;
  input.pipeline_name = "robot_training";
  input.session_name = "session2_refine";
  input.session_index = 1;
  input.resolved_config_yaml = std::move(yaml);
  input.input_checkpoint_uri = "s3://b/p/run-1/checkpoints/session1_basic/best_model.zip";
  input.transfer_json =
      R"({"load": ["policy"], "freeze": ["*.0.weight"], "reset_optimizer": false, )"
      R"("reset_log_std": true})";
  input.run_uri = "s3://b/p/run-1";
  input.seed = 18446744073709551615ull;
  input.save_all_checkpoints = true;
  input.min_reward = -200.5;
  input.min_episodes = 10;
  return input;
}

/// A config of `bytes` bytes with newlines, quotes and non-ASCII text.
std::string LongYaml(size_t bytes) {
  std::string yaml;
  while (yaml.size() < bytes) yaml += "agent:\n  note: \"grüße \\ tab\t\"\n";
  yaml.resize(bytes);
  return yaml;
}

std::string DecodeError(const nlohmann::json& json) {
  try {
    DecodeHyperParameters(json, "hyperparameters.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

nlohmann::json AsJson(const std::map<std::string, std::string>& map) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [key, value] : map) json[key] = value;
  return json;
}

TEST(HyperParametersTest, RoundTripsThroughJsonText) {
  for (const size_t bytes : {size_t{0}, size_t{1}, kConfigChunkBytes - 1, kConfigChunkBytes,
                             kConfigChunkBytes + 1, size_t{10000}}) {
    const SessionJobInput input = Sample(LongYaml(bytes));
    const auto encoded = EncodeHyperParameters(input);
    // What SageMaker writes to hyperparameters.json: a JSON object of strings.
    const nlohmann::json parsed = nlohmann::json::parse(AsJson(encoded).dump());
    EXPECT_EQ(DecodeHyperParameters(parsed, "hp.json"), input) << bytes << " bytes";
  }
}

TEST(HyperParametersTest, RespectsAwsLimitsAndUsesNoNewlines) {
  const auto encoded = EncodeHyperParameters(Sample(LongYaml(100000)));
  EXPECT_LE(encoded.size(), kMaxHyperParameters);
  EXPECT_EQ(encoded.at("rlpipe_config_chunks"), "54");  // ceil(100000 / 1872)
  for (const auto& [key, value] : encoded) {
    EXPECT_LE(key.size(), kMaxHyperParameterKey);
    EXPECT_LE(value.size(), kMaxHyperParameterValue) << key;
    EXPECT_EQ(value.find('\n'), std::string::npos) << key;
  }
}

TEST(HyperParametersTest, OptionalFieldsAreOmitted) {
  SessionJobInput input = Sample("a: 1\n");
  input.input_checkpoint_uri.clear();
  input.transfer_json.clear();
  input.min_reward.reset();
  input.min_episodes.reset();
  const auto encoded = EncodeHyperParameters(input);
  EXPECT_EQ(encoded.count("rlpipe_input_checkpoint"), 0u);
  EXPECT_EQ(encoded.count("rlpipe_transfer"), 0u);
  EXPECT_EQ(encoded.count("rlpipe_min_reward"), 0u);
  EXPECT_EQ(DecodeHyperParameters(AsJson(encoded), "hp.json"), input);
}

TEST(HyperParametersTest, TooLargeConfigIsAClearError) {
  try {
    EncodeHyperParameters(Sample(LongYaml(200000)));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("session 'session2_refine': its resolved config "
                                         "(200000 bytes) does not fit"),
              std::string::npos)
        << e.what();
  }
}

TEST(HyperParametersTest, DecodeErrorsNameTheKey) {
  const nlohmann::json good = AsJson(EncodeHyperParameters(Sample(LongYaml(5000))));
  nlohmann::json json = good;
  json.erase("rlpipe_session");
  EXPECT_EQ(DecodeError(json),
            "hyperparameters.json: rlpipe_session: missing (written by rlpipe when it submits "
            "the job)");
  json = good;
  json["rlpipe_seed"] = 5;
  EXPECT_EQ(DecodeError(json), "hyperparameters.json: rlpipe_seed: expected a string, found 5");
  json = good;
  json["rlpipe_seed"] = "-1";
  EXPECT_EQ(DecodeError(json),
            "hyperparameters.json: rlpipe_seed: expected an integer in 0..18446744073709551615, "
            "found \"-1\"");
  json = good;
  json.erase("rlpipe_config_2");
  EXPECT_EQ(DecodeError(json),
            "hyperparameters.json: rlpipe_config_2: missing (written by rlpipe "
            "when it submits the job)");
  json = good;
  json["rlpipe_config_chunks"] = "2";
  EXPECT_EQ(DecodeError(json),
            "hyperparameters.json: rlpipe_config_bytes: the 2 config chunks hold 3744 bytes, "
            "expected 5000 (a chunk is missing or truncated)");
  json = good;
  std::string chunk = json["rlpipe_config_1"];
  chunk[0] = chunk[0] == 'A' ? 'B' : 'A';
  json["rlpipe_config_1"] = chunk;
  EXPECT_EQ(DecodeError(json),
            "hyperparameters.json: rlpipe_config_sha256: the reassembled config does not match "
            "its SHA-256 (chunks corrupted)");
  json = good;
  json["rlpipe_config_0"] = "not base64!";
  EXPECT_EQ(DecodeError(json), "hyperparameters.json: rlpipe_config_0: not valid base64");
  json = good;
  json["rlpipe_format"] = "2";
  EXPECT_NE(DecodeError(json).find("rlpipe_format: this rlpipe reads format 1, found \"2\""),
            std::string::npos);
  json = good;
  json["rlpipe_sede"] = "1";
  EXPECT_EQ(DecodeError(json), "hyperparameters.json: rlpipe_sede: unknown rlpipe hyperparameter");
  json = good;
  json["rlpipe_save_all_checkpoints"] = "yes";
  EXPECT_EQ(DecodeError(json),
            "hyperparameters.json: rlpipe_save_all_checkpoints: expected \"true\" or \"false\", "
            "found \"yes\"");
  EXPECT_EQ(DecodeError(nlohmann::json::array()),
            "hyperparameters.json: expected a JSON object of string values");
}

TEST(HyperParametersTest, IgnoresSageMakersOwnKeys) {
  nlohmann::json json = AsJson(EncodeHyperParameters(Sample("x: 1\n")));
  json["sagemaker_program"] = "train";
  EXPECT_EQ(DecodeHyperParameters(json, "hp.json").resolved_config_yaml, "x: 1\n");
}

}  // namespace
}  // namespace rlpipe::platform
