#include "core/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace rlpipe {
namespace {

// FIPS 180-4 / NIST example vectors, including the two-block padding case (56 bytes).
TEST(Sha256Test, MatchesNistVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the block and padding boundaries agree with the known digest of 64 'a's.
TEST(Sha256Test, BlockBoundaries) {
  EXPECT_EQ(Sha256Hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_NE(Sha256Hex(std::string(55, 'a')), Sha256Hex(std::string(56, 'a')));
}

}  // namespace
}  // namespace rlpipe
