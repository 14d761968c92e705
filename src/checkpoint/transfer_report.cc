#include "checkpoint/transfer_report.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace rlpipe::checkpoint {

const char* ToString(TensorAction action) {
  switch (action) {
    case TensorAction::kCopied:
      return "copied";
    case TensorAction::kSliced:
      return "sliced";
    case TensorAction::kFresh:
      return "fresh";
    case TensorAction::kSkipped:
      return "skipped";
    case TensorAction::kUnused:
      return "unused";
  }
  return "unknown";
}

int TransferReport::Count(TensorAction action) const {
  return static_cast<int>(std::count_if(tensors.begin(), tensors.end(),
                                        [action](const auto& t) { return t.action == action; }));
}

int TransferReport::FrozenCount() const {
  return static_cast<int>(
      std::count_if(tensors.begin(), tensors.end(), [](const auto& t) { return t.frozen; }));
}

std::string TransferReport::SummaryLine(const std::string& shown_source) const {
  // The three counts always, the others only when they say something.
  std::string line = "transfer from " + shown_source + ": " +
                     std::to_string(Count(TensorAction::kCopied)) + " copied, " +
                     std::to_string(Count(TensorAction::kSliced)) + " sliced, " +
                     std::to_string(Count(TensorAction::kFresh)) + " fresh, " +
                     std::to_string(FrozenCount()) + " frozen";
  if (const int skipped = Count(TensorAction::kSkipped)) {
    line += ", " + std::to_string(skipped) + " skipped";
  }
  if (const int unused = Count(TensorAction::kUnused)) {
    line += ", " + std::to_string(unused) + " unused";
  }
  return line;
}

std::string TransferReport::ToJson() const {
  using nlohmann::json;
  // Per tensor: action, shapes, the copied runs of each sliced dimension.
  json tensor_list = json::array();
  for (const TensorTransfer& t : tensors) {
    json entry = {{"name", t.name},
                  {"group", t.group},
                  {"action", ToString(t.action)},
                  {"source_shape", t.source_shape.empty() ? json(nullptr) : json(t.source_shape)},
                  {"target_shape", t.target_shape.empty() ? json(nullptr) : json(t.target_shape)},
                  {"frozen", t.frozen},
                  {"optimizer_state_carried", t.optimizer_state_carried}};
    if (!t.slices.empty()) {
      json slices = json::array();
      for (const DimSlice& s : t.slices) {
        json runs = json::array();
        for (const CopyRun& r : s.runs) {
          runs.push_back({{"source", {r.source_begin, r.source_begin + r.length}},
                          {"target", {r.target_begin, r.target_begin + r.length}}});
        }
        slices.push_back({{"dim", s.dim}, {"rule", s.rule}, {"copied", runs}});
      }
      entry["slices"] = slices;
    }
    if (!t.reason.empty()) entry["reason"] = t.reason;
    tensor_list.push_back(entry);
  }

  // Options, totals and notes around the list.
  json doc = {{"source", source},
              {"options",
               {{"load", load},
                {"freeze", freeze},
                {"reset", reset},
                {"reset_optimizer", reset_optimizer},
                {"reset_log_std", reset_log_std}}},
              {"summary",
               {{"copied", Count(TensorAction::kCopied)},
                {"sliced", Count(TensorAction::kSliced)},
                {"fresh", Count(TensorAction::kFresh)},
                {"skipped", Count(TensorAction::kSkipped)},
                {"unused", Count(TensorAction::kUnused)},
                {"frozen", FrozenCount()}}},
              {"optimizer", optimizer},
              {"notes", notes},
              {"tensors", tensor_list}};
  return doc.dump(2) + "\n";
}

}  // namespace rlpipe::checkpoint
