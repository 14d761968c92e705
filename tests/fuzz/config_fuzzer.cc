// libFuzzer target: the YAML config loader on in-memory text. The bytes are parsed as a training
// config (ParseYaml → ParseExperimentConfig, then back to YAML) and, written to a scratch file, as
// a pipeline (LoadPipeline). Any rlpipe::Error is an accepted answer; anything else is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/experiment_config.h"
#include "config/pipeline_config.h"
#include "config/tree.h"
#include "core/error.h"

namespace {

// One scratch pipeline file per process (libFuzzer may run several jobs side by side).
const std::filesystem::path& ScratchPipeline() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("rlpipe_config_fuzzer_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    return dir / "pipeline.yaml";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A training config held in memory.
  try {
    const rlpipe::config::Tree tree = rlpipe::config::ParseYaml(text, "fuzz.yaml");
    (void)tree.ToYaml();
    (void)rlpipe::config::ParseExperimentConfig(tree);
  } catch (const rlpipe::Error&) {
  }
  // The same text as a pipeline file.
  {
    std::ofstream out(ScratchPipeline(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  try {
    (void)rlpipe::config::LoadPipeline(ScratchPipeline());
  } catch (const rlpipe::Error&) {
  }
  return 0;
}
