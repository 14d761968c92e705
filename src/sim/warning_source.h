#pragma once
/// An optional interface for anything that simulates with MuJoCo, so generic code (the env sweep
/// test, the CLI) can ask whether the simulator raised warnings without including mujoco.h.
#include <cstdint>
#include <string>

namespace rlpipe::sim {

/// Reports MuJoCo warnings accumulated since construction (across resets).
class WarningSource {
 public:
  virtual ~WarningSource() = default;
  /// Total number of MuJoCo warnings raised (mjData.warning[] counters plus messages).
  virtual int64_t WarningCount() const = 0;
  /// One line naming each warning kind and its count ("" when there were none).
  virtual std::string WarningSummary() const = 0;
};

}  // namespace rlpipe::sim
