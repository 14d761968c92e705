// libFuzzer target: the readers of a model zip's JSON members — SB3's `data` (ParseSb3Data: JSON,
// base64, the pickled policy class) and rlpipe_model.json (ParseModelJson). An rlpipe::Error is
// an accepted answer, anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "checkpoint/model_data.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)rlpipe::checkpoint::ParseSb3Data(text, "fuzz.zip:data");
  } catch (const rlpipe::Error&) {
  }
  try {
    (void)rlpipe::checkpoint::ParseModelJson(text, "fuzz.zip:rlpipe_model.json");
  } catch (const rlpipe::Error&) {
  }
  return 0;
}
