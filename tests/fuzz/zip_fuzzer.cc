// libFuzzer target: ZipReader (stored and deflated members, CRC-32 checked). Every member is read
// back; an rlpipe::Error is an accepted answer, anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const rlpipe::ZipReader zip(std::string(reinterpret_cast<const char*>(data), size), "fuzz.zip");
    for (const std::string& name : zip.Names()) {
      if (!zip.Has(name)) __builtin_trap();
      (void)zip.Get(name).size();
    }
    (void)zip.Has("data");
  } catch (const rlpipe::Error&) {
  }
  return 0;
}
