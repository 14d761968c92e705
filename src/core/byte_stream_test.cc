#include "core/byte_stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlpipe {
namespace {

TEST(ByteStreamTest, RoundTripIsBitExact) {
  // Values whose decimal printing would lose bits, a NaN payload, strings with NUL bytes.
  const double third = 1.0 / 3.0;
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> floats = {0.1f, -0.0f, std::numeric_limits<float>::quiet_NaN()};
  ByteWriter writer;
  writer.Put(third);
  writer.Put(tiny);
  writer.Put<int64_t>(-42);
  writer.PutString(std::string("a\0b", 3));
  writer.PutVector<float>(floats);

  ByteReader reader(writer.bytes(), "test");
  const double third_back = reader.Get<double>();
  EXPECT_EQ(std::memcmp(&third_back, &third, sizeof third), 0);
  EXPECT_EQ(reader.Get<float>(), tiny);
  EXPECT_EQ(reader.Get<int64_t>(), -42);
  EXPECT_EQ(reader.GetString(), std::string("a\0b", 3));
  const std::vector<float> back = reader.GetVector<float>();
  ASSERT_EQ(back.size(), floats.size());
  EXPECT_EQ(std::memcmp(back.data(), floats.data(), floats.size() * sizeof(float)), 0);
  EXPECT_NO_THROW(reader.Finish());
}

TEST(ByteStreamTest, TruncatedAndTrailingBytesAreErrors) {
  ByteWriter writer;
  writer.PutVector<double>(std::vector<double>{1.0, 2.0, 3.0});
  const std::string bytes = writer.bytes();

  // Cut anywhere: the reader names the origin instead of reading past the end.
  ByteReader cut(std::string_view(bytes).substr(0, bytes.size() - 1), "state.bin");
  try {
    cut.GetVector<double>();
    ADD_FAILURE() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("state.bin"), std::string::npos) << e.what();
  }

  // Bytes left over after the last read are reported by Finish.
  const std::string longer = bytes + "x";
  ByteReader extra(longer, "state.bin");
  extra.GetVector<double>();
  EXPECT_THROW(extra.Finish(), IoError);
}

TEST(ByteStreamTest, RngRoundTripContinuesTheSameStream) {
  // An engine part-way through its stream comes back drawing the same numbers.
  std::mt19937_64 rng(7);
  for (int k = 0; k < 1000; ++k) rng();
  ByteWriter writer;
  writer.PutRng(rng);
  ByteReader reader(writer.bytes(), "rng.bin");
  std::mt19937_64 back = reader.GetRng();
  reader.Finish();
  for (int k = 0; k < 10; ++k) EXPECT_EQ(back(), rng());

  // Text that is not an engine state is an error naming the origin.
  ByteWriter garbage;
  garbage.PutString("not an engine");
  ByteReader bad(garbage.bytes(), "rng.bin");
  try {
    bad.GetRng();
    ADD_FAILURE() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("rng.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rlpipe
