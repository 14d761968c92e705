#include "algos/replay_segments.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>
#include <set>
#include <string>

#include "algos/replay_buffer.h"
#include "core/byte_stream.h"
#include "core/error.h"
#include "core/zip.h"

namespace rlpipe::algos {
namespace {

namespace fs = std::filesystem;

// Layout version of the index member and the segment header.
constexpr int32_t kIndexVersion = 1;
constexpr std::array<char, 8> kSegmentMagic = {'R', 'L', 'P', 'R', 'P', 'L', 'S', '1'};
// Header: magic, obs_dim, act_dim, begin, end.
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;

std::string ErrnoText(int err) { return std::strerror(err); }

// The index member, parsed.
struct Index {
  int64_t capacity = 0;
  int32_t obs_dim = 0;
  int32_t act_dim = 0;
  int64_t added = 0;
  int64_t last_add_count = 0;
  struct Entry {
    std::string name;
    int64_t begin = 0, end = 0;
    uint64_t bytes = 0;
    uint32_t crc = 0;
  };
  std::vector<Entry> segments;
  int64_t tail_begin = 0;
  std::string tail;  // WriteRange bytes of [tail_begin, added)
};

Index ParseIndex(std::string_view bytes, const std::string& origin) {
  ByteReader reader(bytes, origin);
  const auto version = reader.Get<int32_t>();
  if (version != kIndexVersion) {
    throw IoError(origin + ": expected replay index version " + std::to_string(kIndexVersion) +
                  ", found " + std::to_string(version));
  }
  Index index;
  index.capacity = reader.Get<int64_t>();
  index.obs_dim = reader.Get<int32_t>();
  index.act_dim = reader.Get<int32_t>();
  index.added = reader.Get<int64_t>();
  index.last_add_count = reader.Get<int64_t>();
  const auto count = reader.Get<uint64_t>();
  for (uint64_t k = 0; k < count; ++k) {
    Index::Entry entry;
    entry.name = reader.GetString();
    entry.begin = reader.Get<int64_t>();
    entry.end = reader.Get<int64_t>();
    entry.bytes = reader.Get<uint64_t>();
    entry.crc = reader.Get<uint32_t>();
    // A plain file name of the segment pattern: nothing outside the folder.
    if (!entry.name.starts_with(kReplaySegmentPrefix) ||
        !entry.name.ends_with(kReplaySegmentSuffix) || entry.name.find('/') != std::string::npos) {
      throw IoError(origin + ": expected a replay segment file name, found '" + entry.name + "'");
    }
    index.segments.push_back(std::move(entry));
  }
  index.tail_begin = reader.Get<int64_t>();
  index.tail = reader.GetString();
  reader.Finish();
  return index;
}

// Writes a file through a buffer, keeping its CRC-32; Finish syncs it.
class SegmentWriter {
 public:
  explicit SegmentWriter(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) throw IoError("cannot create " + path.string() + ": " + ErrnoText(errno));
    buffer_.reserve(kBufferBytes);
  }
  ~SegmentWriter() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Write(const void* data, size_t bytes) {
    const std::string_view piece(static_cast<const char*>(data), bytes);
    crc_ = Crc32Update(crc_, piece);
    size_ += bytes;
    // Small pieces gather in the buffer; large ones go straight to the file.
    if (buffer_.size() + bytes <= kBufferBytes) {
      buffer_.append(piece);
      return;
    }
    Flush();
    if (bytes < kBufferBytes) {
      buffer_.append(piece);
    } else {
      WriteAll(piece);
    }
  }
  // Flushes, syncs and closes the file.
  void Finish() {
    Flush();
    if (::fsync(fd_) != 0) Fail(errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail(errno);
  }
  uint32_t crc() const { return crc_; }
  uint64_t size() const { return size_; }

 private:
  static constexpr size_t kBufferBytes = size_t{1} << 20;
  void Flush() {
    WriteAll(buffer_);
    buffer_.clear();
  }
  void WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) Fail(errno);
      bytes.remove_prefix(static_cast<size_t>(written));
    }
  }
  [[noreturn]] void Fail(int err) const {
    throw IoError("cannot write " + path_.string() + ": " + ErrnoText(err));
  }

  fs::path path_;
  int fd_ = -1;
  std::string buffer_;
  uint32_t crc_ = 0;
  uint64_t size_ = 0;
};

// Reads a file through a buffer, keeping its CRC-32.
class SegmentReader {
 public:
  explicit SegmentReader(const fs::path& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rbe");
    if (file_ == nullptr) throw IoError("cannot open " + path.string() + ": " + ErrnoText(errno));
    std::setvbuf(file_, nullptr, _IOFBF, size_t{1} << 20);
  }
  ~SegmentReader() { std::fclose(file_); }
  // `data` null: the bytes are read (for the CRC) and dropped.
  void Read(void* data, size_t bytes) {
    std::array<char, 65536> scratch;
    while (bytes > 0) {
      const size_t piece = data != nullptr ? bytes : std::min(bytes, scratch.size());
      char* into = data != nullptr ? static_cast<char*>(data) : scratch.data();
      if (std::fread(into, 1, piece, file_) != piece) {
        throw IoError(path_.string() + ": replay segment cut short");
      }
      crc_ = Crc32Update(crc_, std::string_view(into, piece));
      bytes -= piece;
      if (data != nullptr) data = static_cast<char*>(data) + piece;
    }
  }
  bool AtEnd() { return std::fgetc(file_) == EOF; }
  uint32_t crc() const { return crc_; }

 private:
  fs::path path_;
  std::FILE* file_ = nullptr;
  uint32_t crc_ = 0;
};

void SyncFolder(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

fs::path Normal(const fs::path& dir) {
  return dir.empty() ? dir : fs::absolute(dir).lexically_normal();
}

}  // namespace

ReplaySegments::Segment ReplaySegments::Write(const ReplayBuffer& buffer, const fs::path& dir,
                                              int64_t begin, int64_t end) const {
  // Into a temp file (a dot name with ".tmp.", which a resume discards), synced before renaming.
  const std::string stem =
      std::string(kReplaySegmentPrefix) + std::to_string(begin) + "_" + std::to_string(end);
  const fs::path temp = dir / ("." + stem + ".tmp." + std::to_string(::getpid()));
  fs::remove(temp);
  Segment segment;
  segment.begin = begin;
  segment.end = end;
  try {
    SegmentWriter writer(temp);
    writer.Write(kSegmentMagic.data(), kSegmentMagic.size());
    const int32_t dims[2] = {buffer.obs_dim(), buffer.act_dim()};
    writer.Write(dims, sizeof(dims));
    const int64_t range[2] = {begin, end};
    writer.Write(range, sizeof(range));
    buffer.WriteRange(begin, end,
                      [&](const void* data, size_t bytes) { writer.Write(data, bytes); });
    writer.Finish();
    segment.bytes = writer.size();
    segment.crc = writer.crc();
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }

  // Named by its range and CRC: renamed into place, then the folder synced.
  char crc[9];
  std::snprintf(crc, sizeof(crc), "%08x", segment.crc);
  segment.name = stem + "_" + crc + kReplaySegmentSuffix;
  std::error_code ec;
  fs::rename(temp, dir / segment.name, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw IoError("cannot write " + (dir / segment.name).string() + ": " + ec.message());
  }
  SyncFolder(dir);
  return segment;
}

std::string ReplaySegments::Save(const ReplayBuffer& buffer, const fs::path& dir) {
  // Segments of another folder are of no use to a checkpoint in this one.
  if (Normal(dir) != Normal(dir_)) {
    dir_ = dir;
    segments_.clear();
    end_ = 0;
  }
  fs::create_directories(dir);

  // Segments whose transitions were all overwritten drop out; the settled ones not yet in a
  // segment go into a new one.
  const int64_t first = buffer.FirstStored();
  std::erase_if(segments_, [&](const Segment& s) { return s.end <= first; });
  const int64_t begin = std::max(end_, first);
  const int64_t settled = buffer.SettledEnd();
  if (settled > begin) {
    segments_.push_back(Write(buffer, dir, begin, settled));
    end_ = settled;
  }
  const int64_t tail_begin = std::max(end_, first);

  // The index: sizes, counters, segments, then the unsettled transitions inline.
  ByteWriter writer;
  writer.Put<int32_t>(kIndexVersion);
  writer.Put<int64_t>(buffer.Capacity());
  writer.Put<int32_t>(buffer.obs_dim());
  writer.Put<int32_t>(buffer.act_dim());
  writer.Put<int64_t>(buffer.Added());
  writer.Put<int64_t>(buffer.LastAddCount());
  writer.Put<uint64_t>(segments_.size());
  for (const Segment& s : segments_) {
    writer.PutString(s.name);
    writer.Put<int64_t>(s.begin);
    writer.Put<int64_t>(s.end);
    writer.Put<uint64_t>(s.bytes);
    writer.Put<uint32_t>(s.crc);
  }
  writer.Put<int64_t>(tail_begin);
  std::string tail;
  buffer.WriteRange(tail_begin, buffer.Added(), [&](const void* data, size_t bytes) {
    tail.append(static_cast<const char*>(data), bytes);
  });
  writer.PutString(tail);
  return writer.Take();
}

void ReplaySegments::Restore(std::string_view bytes, const fs::path& dir, ReplayBuffer& buffer,
                             const std::string& origin) {
  const std::string member = origin + " " + kReplayIndexMember;
  const Index index = ParseIndex(bytes, member);
  buffer.CheckLayout(index.capacity, index.obs_dim, index.act_dim, member);
  buffer.BeginRestore(index.added, index.last_add_count, member);
  for (const Index::Entry& entry : index.segments) {
    const fs::path path = dir / entry.name;
    std::error_code ec;
    const uintmax_t size = fs::file_size(path, ec);
    if (ec || size != entry.bytes) {
      throw IoError(member + ": expected replay segment " + path.string() + " of " +
                    std::to_string(entry.bytes) + " bytes, found " +
                    (ec ? "none (" + ec.message() + ")" : std::to_string(size) + " bytes"));
    }
    SegmentReader reader(path);
    std::array<char, 8> magic;
    int32_t dims[2];
    int64_t range[2];
    reader.Read(magic.data(), magic.size());
    reader.Read(dims, sizeof(dims));
    reader.Read(range, sizeof(range));
    if (magic != kSegmentMagic || dims[0] != buffer.obs_dim() || dims[1] != buffer.act_dim() ||
        range[0] != entry.begin || range[1] != entry.end) {
      throw IoError(path.string() + ": expected a replay segment of transitions [" +
                    std::to_string(entry.begin) + ", " + std::to_string(entry.end) +
                    ") with obs_dim " + std::to_string(buffer.obs_dim()) + " and act_dim " +
                    std::to_string(buffer.act_dim()) + ", found another header");
    }
    buffer.ReadRange(
        entry.begin, entry.end, [&](void* data, size_t count) { reader.Read(data, count); },
        path.string());
    if (!reader.AtEnd() || reader.crc() != entry.crc) {
      throw IoError(path.string() + ": replay segment does not match its CRC-32 in " + member);
    }
  }

  // The unsettled transitions from the index itself.
  size_t pos = 0;
  buffer.ReadRange(
      index.tail_begin, index.added,
      [&](void* data, size_t count) {
        if (count > index.tail.size() - pos) throw IoError(member + ": transitions cut short");
        if (data != nullptr) std::memcpy(data, index.tail.data() + pos, count);
        pos += count;
      },
      member);
  if (pos != index.tail.size()) throw IoError(member + ": unexpected bytes after the transitions");
  buffer.FinishRestore(member);

  // The next Save appends to these segments.
  dir_ = dir;
  segments_.clear();
  for (const Index::Entry& entry : index.segments) {
    segments_.push_back({entry.name, entry.begin, entry.end, entry.bytes, entry.crc});
  }
  end_ = index.tail_begin;
}

std::vector<std::string> ReplaySegmentNames(std::string_view index, const std::string& origin) {
  std::vector<std::string> names;
  for (const Index::Entry& entry : ParseIndex(index, origin).segments) names.push_back(entry.name);
  return names;
}

bool ReplaySegmentsPresent(std::string_view index, const fs::path& dir) {
  try {
    for (const Index::Entry& entry : ParseIndex(index, dir.string()).segments) {
      std::error_code ec;
      if (fs::file_size(dir / entry.name, ec) != entry.bytes || ec) return false;
    }
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool CheckpointSegmentsPresent(const fs::path& path) {
  try {
    const ZipReader zip = ZipReader::FromFile(path);
    return !zip.Has(kReplayIndexMember) ||
           ReplaySegmentsPresent(zip.Get(kReplayIndexMember), path.parent_path());
  } catch (const Error&) {
    return false;
  }
}

void PruneReplaySegments(const fs::path& dir) {
  try {
    // The segment files, if any.
    std::vector<fs::path> segments;
    std::vector<fs::path> archives;
    static const std::regex kArchive(R"(rl_model_(\d+)_steps\.zip)");
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_regular_file()) continue;
      if (name.starts_with(kReplaySegmentPrefix) && name.ends_with(kReplaySegmentSuffix)) {
        segments.push_back(entry.path());
      } else if (std::regex_match(name, kArchive)) {
        archives.push_back(entry.path());
      }
    }
    if (segments.empty()) return;

    // The names every readable checkpoint archive there holds; the rest go.
    std::set<std::string> named;
    for (const fs::path& archive : archives) {
      try {
        const ZipReader zip = ZipReader::FromFile(archive);
        if (!zip.Has(kReplayIndexMember)) continue;
        for (std::string& name :
             ReplaySegmentNames(zip.Get(kReplayIndexMember), archive.string())) {
          named.insert(std::move(name));
        }
      } catch (const Error&) {
        continue;
      }
    }
    for (const fs::path& segment : segments) {
      std::error_code ignored;
      if (!named.contains(segment.filename().string())) fs::remove(segment, ignored);
    }
  } catch (const std::exception&) {
    // Pruning is best effort: what stays is only disk space.
  }
}

}  // namespace rlpipe::algos
