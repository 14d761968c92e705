#include "metrics/tensorboard.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.h"

namespace rlpipe::metrics {
namespace fs = std::filesystem;
namespace {

constexpr char kFilePrefix[] = "events.out.tfevents.";

/// The 256-entry table of the reflected CRC-32C polynomial.
std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}

// Protobuf wire format: a key is (field << 3) | wire type; 0 varint, 1 fixed64, 2 bytes, 5 fixed32.
void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void PutKey(std::string& out, int field, int wire_type) {
  PutVarint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
}

template <typename T>
void PutLittleEndian(std::string& out, T value) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // x86-64 and aarch64 are little endian
  out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

void PutBytes(std::string& out, int field, std::string_view bytes) {
  PutKey(out, field, 2);
  PutVarint(out, bytes.size());
  out.append(bytes);
}

/// Event fields 1 (wall_time, double) and 2 (step, int64) that every event starts with.
std::string EventHead(double wall_time, int64_t step) {
  std::string event;
  PutKey(event, 1, 1);
  PutLittleEndian(event, wall_time);
  PutKey(event, 2, 0);
  PutVarint(event, static_cast<uint64_t>(step));
  return event;
}

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The seconds field of an event file's name (0 when the name has none).
long long NameSeconds(const std::string& name) {
  if (!name.starts_with(kFilePrefix)) return 0;
  return std::atoll(name.c_str() + std::strlen(kFilePrefix));
}

}  // namespace

uint32_t Crc32c(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = MakeCrc32cTable();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : data) crc = kTable[(crc ^ c) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t MaskedCrc32c(std::string_view data) {
  const uint32_t crc = Crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string FrameRecord(std::string_view data) {
  std::string length;
  PutLittleEndian(length, static_cast<uint64_t>(data.size()));
  std::string record = length;
  PutLittleEndian(record, MaskedCrc32c(length));
  record.append(data);
  PutLittleEndian(record, MaskedCrc32c(data));
  return record;
}

std::string EncodeFileVersionEvent(double wall_time, int64_t step, std::string_view version) {
  std::string event = EventHead(wall_time, step);
  PutBytes(event, 3, version);
  return event;
}

std::string EncodeScalarsEvent(double wall_time, int64_t step,
                               const std::vector<std::pair<std::string, double>>& scalars) {
  // Summary{value: [Value{tag = 1, simple_value = 2 (fixed32 float)}, ...]}
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string entry;
    PutBytes(entry, 1, tag);
    PutKey(entry, 2, 5);
    PutLittleEndian(entry, static_cast<float>(value));
    PutBytes(summary, 1, entry);
  }
  std::string event = EventHead(wall_time, step);
  PutBytes(event, 5, summary);
  return event;
}

std::string EncodeSessionStartEvent(double wall_time, int64_t step) {
  // SessionLog{status = 1: START (1)}
  std::string session_log;
  PutKey(session_log, 1, 0);
  PutVarint(session_log, 1);
  std::string event = EventHead(wall_time, step);
  PutBytes(event, 7, session_log);
  return event;
}

TensorBoardWriter::TensorBoardWriter(const fs::path& run_dir) {
  fs::create_directories(run_dir);

  // A name that sorts after the run's earlier files: their seconds + 1 when the clock has not
  // moved past them (a resume within the same second).
  long long seconds = static_cast<long long>(WallTime());
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir)) {
    seconds = std::max(seconds, NameSeconds(entry.path().filename().string()) + 1);
  }
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  char name[400];
  std::snprintf(name, sizeof(name), "%s%010lld.%s.%d", kFilePrefix, seconds, host,
                static_cast<int>(getpid()));
  path_ = run_dir / name;

  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    throw IoError("cannot create TensorBoard event file '" + path_.string() +
                  "': " + std::strerror(errno));
  }
  Append(EncodeFileVersionEvent(WallTime(), 0, "brain.Event:2"));
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void TensorBoardWriter::WriteScalars(int64_t step,
                                     const std::vector<std::pair<std::string, double>>& scalars) {
  if (scalars.empty()) return;
  Append(EncodeScalarsEvent(WallTime(), step, scalars));
}

void TensorBoardWriter::WriteRestart(int64_t resumed_at) {
  Append(EncodeSessionStartEvent(WallTime(), resumed_at + 1));
}

void TensorBoardWriter::Append(const std::string& event) {
  const std::string record = FrameRecord(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0) {
    throw IoError("cannot write TensorBoard event file '" + path_.string() +
                  "': " + std::strerror(errno));
  }
}

}  // namespace rlpipe::metrics
