#include <gtest/gtest.h>

#include <string>

#include "checkpoint/model_data.h"
#include "core/error.h"

namespace rlpipe::checkpoint {
namespace {

// Runs `parse` and returns the IoError's message ("" when it parsed).
template <typename Fn>
std::string ErrorOf(Fn parse) {
  try {
    parse();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

// A libFuzzer finding (tests/fuzz/corpus/sb3_data/regression_integer_out_of_range.json, exact
// bytes): TD3's policy class and an `n_epochs` beyond 2^64, which JSON parses as a float; turning
// it into an int was undefined behaviour. Now one line naming the member and the key.
TEST(Sb3DataTest, RejectsAnIntegerOutOfRange) {
  const std::string data =
      R"({"policy_class":{":serialized:":"gAJjc3RhYmxlX2Jhc2VsaW5lczMudGQzLnBvbGljaWVzClREM1BvbGljeQpxAC4"},"n_epochs":105555555555555555555})";
  ASSERT_EQ(data.size(), 132u);
  // TD3 has no n_epochs (the libFuzzer input predates per-algorithm settings): not read at all.
  EXPECT_EQ(ParseSb3Data(data, "model.zip:data").agent.algorithm(), config::Algorithm::kTd3);
  // The same number in a key TD3 has.
  std::string batch = data;
  batch.replace(batch.find("n_epochs"), 8, "batch_size");
  const std::string error = ErrorOf([&] { ParseSb3Data(batch, "model.zip:data"); });
  EXPECT_NE(error.find("model.zip:data: expected `batch_size` to be an integer"), std::string::npos)
      << error;
}

// The same class of input in rlpipe_model.json: a float where an int belongs.
TEST(Sb3DataTest, ModelJsonRejectsAFloatForAnInteger) {
  ModelData d;
  d.obs_dim = 3;
  d.act_dim = 1;
  std::string json = ModelJson(d);
  const std::string key = "\"obs_dim\": 3";
  ASSERT_NE(json.find(key), std::string::npos) << json;
  json.replace(json.find(key), key.size(), "\"obs_dim\": 1e300");
  const std::string error = ErrorOf([&] { ParseModelJson(json, "model.zip:rlpipe_model.json"); });
  EXPECT_NE(error.find("model.zip:rlpipe_model.json: expected `obs_dim` to be an integer"),
            std::string::npos)
      << error;
  // Our own output still reads back.
  EXPECT_EQ(ParseModelJson(ModelJson(d), "ok").obs_dim, 3);
}

}  // namespace
}  // namespace rlpipe::checkpoint
