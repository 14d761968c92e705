#pragma once
/// What a transfer did to each tensor, as data: written to OUT/<session>/transfer_report.json and
/// summed up in one log line. Free of torch includes, so the pipeline stays cheap to compile.
#include <cstdint>
#include <string>
#include <vector>

namespace rlpipe::checkpoint {

/// What happened to one tensor of the target model (or of the source, for kUnused).
enum class TensorAction {
  kCopied,   // same name and shape: copied whole
  kSliced,   // same name, a dimension differs: the overlapping slice copied, the rest fresh
  kFresh,    // no source tensor of that name: kept as a fresh layer initialises it
  kSkipped,  // the source has it, but `transfer.load` / `reset` / `reset_log_std` left it fresh
  kUnused,   // a source tensor the target model has no parameter for
};

/// "copied", "sliced", "fresh", "skipped", "unused".
const char* ToString(TensorAction action);

/// A run of indices of one dimension copied from the source: target[target_begin + k] =
/// source[source_begin + k] for k < length.
struct CopyRun {
  int64_t source_begin = 0;
  int64_t target_begin = 0;
  int64_t length = 0;
};

/// How one dimension of a sliced tensor was mapped.
struct DimSlice {
  int dim = 0;
  std::string rule;           // "observation", "action", "observation+action" or "prefix"
  std::vector<CopyRun> runs;  // what was copied; every other index is fresh
};

/// One tensor's line of the report.
struct TensorTransfer {
  std::string name;
  std::string group;  // "policy", "value", "normaliser" or "shared" (loaded with policy or value)
  TensorAction action = TensorAction::kFresh;
  std::vector<int64_t> source_shape;  // empty when the source has no such tensor
  std::vector<int64_t> target_shape;  // empty for kUnused
  std::vector<DimSlice> slices;       // kSliced: the dimensions that differ or were remapped
  bool frozen = false;                // requires_grad off for this session
  bool optimizer_state_carried = false;
  std::string reason;  // why fresh or skipped
};

/// The whole report of one transfer.
struct TransferReport {
  std::string source;               // the checkpoint the weights came from
  std::vector<std::string> load;    // parts asked for ("policy", "value", "normaliser")
  std::vector<std::string> freeze;  // patterns as written
  std::vector<std::string> reset;   // patterns as written
  bool reset_optimizer = true;
  bool reset_log_std = false;
  std::string optimizer;           // what happened to the optimizer state, one phrase
  std::vector<std::string> notes;  // layouts used, normaliser, anything else worth knowing
  std::vector<TensorTransfer> tensors;

  /// Tensors with this action.
  int Count(TensorAction action) const;
  /// Tensors frozen.
  int FrozenCount() const;
  /// "transfer from <shown_source>: 10 copied, 2 sliced, 0 fresh, 1 frozen" (+ skipped/unused
  /// counts when non-zero).
  std::string SummaryLine(const std::string& shown_source) const;
  /// The JSON document of transfer_report.json.
  std::string ToJson() const;
};

}  // namespace rlpipe::checkpoint
