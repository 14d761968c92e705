#pragma once
/// TensorBoard event files, written natively (no TensorFlow): TFRecord framing around hand-encoded
/// `tensorboard.Event` protos (event.proto / summary.proto field numbers). Scalars only, which is
/// what training curves need. docs/reports.md says where the files go and how resume keeps curves
/// whole.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rlpipe::metrics {

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `data`.
uint32_t Crc32c(std::string_view data);
/// TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t MaskedCrc32c(std::string_view data);

/// One TFRecord: uint64 length (little endian), masked CRC of the length bytes, the data, masked
/// CRC of the data.
std::string FrameRecord(std::string_view data);

/// Serialised `Event{wall_time, step, file_version}` (fields 1, 2, 3).
std::string EncodeFileVersionEvent(double wall_time, int64_t step, std::string_view version);
/// Serialised `Event{wall_time, step, summary: Summary{value: [Value{tag, simple_value}...]}}`
/// (Event.summary = 5, Summary.value = 1, Value.tag = 1, Value.simple_value = 2, a float).
std::string EncodeScalarsEvent(double wall_time, int64_t step,
                               const std::vector<std::pair<std::string, double>>& scalars);
/// Serialised `Event{wall_time, step, session_log: SessionLog{status: START}}` (Event.session_log
/// = 7, SessionLog.status = 1, START = 1). TensorBoard drops every point written earlier with a
/// step >= `step` when it reads this event.
std::string EncodeSessionStartEvent(double wall_time, int64_t step);

/// Appends scalar events to one new `events.out.tfevents.*` file in a run folder. The file starts
/// with `file_version: "brain.Event:2"`. Each Write is framed, written and flushed, so a kill -9
/// loses at most the record being written (TensorBoard stops at a truncated record).
class TensorBoardWriter {
 public:
  /// Creates `run_dir` and a new event file in it whose name sorts after every event file already
  /// there (TensorBoard reads a run's files in name order). Throws IoError.
  explicit TensorBoardWriter(const std::filesystem::path& run_dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  /// Scalars at `step` (the session's timestep), all in one event.
  void WriteScalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  /// Marks a restart from a checkpoint taken at `resumed_at` steps: a SessionLog START at step
  /// resumed_at + 1, so the points a killed attempt wrote after the checkpoint are discarded and
  /// those up to it (identical under exact resume) are kept.
  void WriteRestart(int64_t resumed_at);

  const std::filesystem::path& path() const { return path_; }

 private:
  void Append(const std::string& event);
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

}  // namespace rlpipe::metrics
