// libFuzzer target: the torch.save pickle reader (ReadPickle). The result is walked completely
// (as checkpoint.cc does when it takes tensors out); an rlpipe::Error is an accepted answer,
// anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "checkpoint/torch_pickle_reader.h"
#include "core/error.h"

namespace {

using rlpipe::checkpoint::PyValue;

// Visits every value once (memo references can share and, in principle, cycle).
void Walk(const PyValue& value, std::set<const PyValue*>& seen) {
  if (!seen.insert(&value).second) return;
  (void)value.KindName();
  for (const auto& item : value.items) {
    if (item) Walk(*item, seen);
  }
  for (const auto& [key, entry] : value.entries) {
    if (key) Walk(*key, seen);
    if (entry) Walk(*entry, seen);
  }
  if (value.storage) Walk(*value.storage, seen);
  if (value.kind == PyValue::Kind::kDict) (void)value.Find("state_dict");
  if (value.kind == PyValue::Kind::kTensor && value.sizes.size() != value.strides.size()) {
    __builtin_trap();  // checkpoint.cc indexes strides by the sizes' rank
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const rlpipe::checkpoint::PyRef root = rlpipe::checkpoint::ReadPickle(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.pkl");
    if (!root) __builtin_trap();
    std::set<const PyValue*> seen;
    Walk(*root, seen);
  } catch (const rlpipe::Error&) {
  }
  return 0;
}
