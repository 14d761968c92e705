#include "core/seed.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace rlpipe {
namespace {

TEST(SeedTest, Mix64MatchesSplitMix64ReferenceOutput) {
  // First outputs of the reference SplitMix64 generator seeded with 0 (Vigna's splitmix64.c).
  EXPECT_EQ(Mix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(Mix64(0x9e3779b97f4a7c15ULL), 0x6e789e6aa1b965f4ULL);
}

TEST(SeedTest, LabelSeedsAreStableAndDistinct) {
  EXPECT_EQ(DeriveSeed(42, "session_a"), DeriveSeed(42, "session_a"));
  EXPECT_NE(DeriveSeed(42, "session_a"), DeriveSeed(42, "session_b"));
  EXPECT_NE(DeriveSeed(42, "session_a"), DeriveSeed(43, "session_a"));
  EXPECT_NE(DeriveSeed(42, "ab"), DeriveSeed(42, "ba"));
}

TEST(SeedTest, IndexSeedsAreStableAndDistinct) {
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < 1000; ++i) seen.insert(DeriveSeed(7, i));
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(DeriveSeed(7, uint64_t{3}), DeriveSeed(7, uint64_t{3}));
  EXPECT_NE(DeriveSeed(7, uint64_t{3}), DeriveSeed(8, uint64_t{3}));
}

TEST(SeedTest, DerivedSeedsLookUniform) {
  // Each output bit is set about half the time over many derived seeds.
  constexpr int kSamples = 4096;
  for (int bit = 0; bit < 64; ++bit) {
    int ones = 0;
    for (int i = 0; i < kSamples; ++i) {
      ones += (DeriveSeed(1, "env" + std::to_string(i)) >> bit) & 1;
    }
    EXPECT_NEAR(ones, kSamples / 2, kSamples / 10) << "bit " << bit;
  }
}

}  // namespace
}  // namespace rlpipe
