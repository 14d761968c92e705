#include "checkpoint/torch_pickle_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"

namespace rlpipe::checkpoint {
namespace {

// A string literal's bytes, NULs included.
template <size_t N>
std::string Bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// Runs ReadPickle on `bytes` and returns the IoError's message ("" when it read fine).
std::string ReadError(const std::string& bytes) {
  try {
    ReadPickle(bytes, "fuzz.pkl");
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

// A value referenced twice through the memo is shared, not a cycle: {"a": [1], "b": <same>}.
TEST(TorchPickleReaderTest, ReadsSharedReferences) {
  const std::string bytes = Bytes(
      "}q\x00(X\x01\x00\x00\x00"
      "a]q\x01K\x01"
      "aX\x01\x00\x00\x00"
      "bh\x01u.");
  const PyRef root = ReadPickle(bytes, "shared.pkl");
  ASSERT_EQ(root->kind, PyValue::Kind::kDict);
  ASSERT_NE(root->Find("a"), nullptr);
  EXPECT_EQ(root->Find("a"), root->Find("b"));
  EXPECT_EQ(root->Find("a")->items.size(), 1u);
}

// A libFuzzer finding (tests/fuzz/corpus/torch_pickle/regression_dict_contains_itself.pkl, exact
// bytes): a dict memoized, then SETITEMS with the dict itself as a value (LONG_BINGET 0). The
// reference cycle was never freed (LeakSanitizer); now one line naming the pickle.
TEST(TorchPickleReaderTest, RejectsADictThatContainsItself) {
  const std::string bytes = Bytes("}q\x00(K\x00j\x00\x00\x00\x00u");
  const std::string error = ReadError(bytes);
  EXPECT_NE(error.find("fuzz.pkl: unreadable pickle"), std::string::npos) << error;
  EXPECT_NE(error.find("contains itself"), std::string::npos) << error;
}

// The same through APPEND and a list nested one level down: [[<outer>]].
TEST(TorchPickleReaderTest, RejectsAListThatContainsItselfIndirectly) {
  const std::string bytes = Bytes(
      "]q\x00]q\x01h\x00"
      "aa.");
  EXPECT_NE(ReadError(bytes).find("contains itself"), std::string::npos) << ReadError(bytes);
}

}  // namespace
}  // namespace rlpipe::checkpoint
