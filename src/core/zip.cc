#include "core/zip.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <limits>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/files.h"

namespace rlpipe {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr size_t kZip64EndSize = 56;
constexpr uint16_t kVersion = 20;            // 2.0: stored members, folders
constexpr uint16_t kVersionMadeBy = 0x0314;  // Unix, spec 2.0 (so external attrs are mode bits)
constexpr uint16_t kDosTime = 0;             // 00:00:00
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
constexpr uint32_t kExternalAttrs = 0100644u << 16;     // regular file, rw-r--r--
constexpr uint16_t kFlagUtf8 = 0x0800;

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) lookup table built at compile time.
constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

void Put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

void Put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint16_t Get16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[at]) |
                               (static_cast<unsigned char>(b[at + 1]) << 8));
}

uint32_t Get32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(Get16(b, at)) | (static_cast<uint32_t>(Get16(b, at + 2)) << 16);
}

uint64_t Get64(std::string_view b, size_t at) {
  return static_cast<uint64_t>(Get32(b, at)) | (static_cast<uint64_t>(Get32(b, at + 4)) << 32);
}

// Names with bytes >= 0x80 are flagged as UTF-8 so readers decode them correctly.
uint16_t FlagsFor(const std::string& name) {
  for (const char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) return kFlagUtf8;
  }
  return 0;
}

std::string MethodName(uint16_t method) {
  switch (method) {
    case 8:
      return "deflate";
    case 12:
      return "bzip2";
    case 14:
      return "lzma";
    case 93:
      return "zstd";
    default:
      return "unknown";
  }
}

// Raw deflate (RFC 1951, as zip method 8 stores it) into exactly `size` bytes.
std::string Inflate(std::string_view compressed, uint64_t size, const std::string& origin,
                    const std::string& name) {
  // Deflate cannot expand more than ~1032:1; a larger claim is a corrupt header, not data.
  if (size > 1032 * static_cast<uint64_t>(compressed.size()) + 64 || size >= 0xffffffffu) {
    throw IoError(origin + ": corrupt zip archive: deflated member '" + name + "' claims " +
                  std::to_string(size) + " bytes from " + std::to_string(compressed.size()));
  }
  std::string out(size, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
    throw IoError(origin + ": cannot start inflating member '" + name + "'");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(size);
  const int status = inflate(&stream, Z_FINISH);
  const uLong produced = stream.total_out;
  inflateEnd(&stream);
  if (status != Z_STREAM_END || produced != size) {
    throw IoError(origin + ": corrupt zip archive: deflated member '" + name +
                  "' does not inflate to its " + std::to_string(size) + " bytes (zlib status " +
                  std::to_string(status) + ", " + std::to_string(produced) + " bytes)");
  }
  return out;
}

}  // namespace

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xffffffffu;
  for (const char ch : data) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t Crc32Update(uint32_t crc, std::string_view data) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()),
                                       static_cast<z_size_t>(data.size())));
}

void ZipWriter::Add(const std::string& name, std::string data) {
  // Reject what the classic (non-ZIP64) format cannot represent, and duplicates.
  if (name.empty() || name.size() > std::numeric_limits<uint16_t>::max()) {
    throw IoError("zip member name must be 1..65535 bytes, found " + std::to_string(name.size()));
  }
  if (data.size() >= std::numeric_limits<uint32_t>::max()) {
    throw IoError("zip member '" + name + "' is " + std::to_string(data.size()) +
                  " bytes; archives larger than 4 GiB (ZIP64) are not supported");
  }
  for (const auto& member : members_) {
    if (member.first == name) throw IoError("zip member '" + name + "' added twice");
  }
  members_.emplace_back(name, std::move(data));
}

std::string ZipWriter::Serialize() const {
  std::string out;
  std::string central;
  if (members_.size() > std::numeric_limits<uint16_t>::max()) {
    throw IoError("zip archive has " + std::to_string(members_.size()) +
                  " members; more than 65535 (ZIP64) is not supported");
  }

  // Local header + data for every member, remembering each one for the central directory.
  for (const auto& [name, data] : members_) {
    if (out.size() >= std::numeric_limits<uint32_t>::max()) {
      throw IoError("zip archive exceeds 4 GiB; ZIP64 is not supported");
    }
    const auto offset = static_cast<uint32_t>(out.size());
    const uint32_t crc = Crc32(data);
    const auto size = static_cast<uint32_t>(data.size());
    const auto name_len = static_cast<uint16_t>(name.size());
    const uint16_t flags = FlagsFor(name);

    Put32(out, kLocalHeaderSig);
    Put16(out, kVersion);
    Put16(out, flags);
    Put16(out, 0);  // method: stored
    Put16(out, kDosTime);
    Put16(out, kDosDate);
    Put32(out, crc);
    Put32(out, size);
    Put32(out, size);
    Put16(out, name_len);
    Put16(out, 0);  // extra length
    out += name;
    out += data;

    Put32(central, kCentralHeaderSig);
    Put16(central, kVersionMadeBy);
    Put16(central, kVersion);
    Put16(central, flags);
    Put16(central, 0);
    Put16(central, kDosTime);
    Put16(central, kDosDate);
    Put32(central, crc);
    Put32(central, size);
    Put32(central, size);
    Put16(central, name_len);
    Put16(central, 0);  // extra length
    Put16(central, 0);  // comment length
    Put16(central, 0);  // disk number
    Put16(central, 0);  // internal attributes
    Put32(central, kExternalAttrs);
    Put32(central, offset);
    central += name;
  }

  // Central directory, then the end-of-central-directory record.
  if (out.size() + central.size() >= std::numeric_limits<uint32_t>::max()) {
    throw IoError("zip archive exceeds 4 GiB; ZIP64 is not supported");
  }
  const auto central_offset = static_cast<uint32_t>(out.size());
  out += central;
  const auto count = static_cast<uint16_t>(members_.size());
  Put32(out, kEndOfCentralDirSig);
  Put16(out, 0);  // this disk
  Put16(out, 0);  // disk with the central directory
  Put16(out, count);
  Put16(out, count);
  Put32(out, static_cast<uint32_t>(central.size()));
  Put32(out, central_offset);
  Put16(out, 0);  // comment length
  return out;
}

ZipReader::ZipReader(std::string bytes, std::string origin) : origin_(std::move(origin)) {
  const std::string_view b = bytes;
  auto fail = [&](const std::string& message) -> void {
    throw IoError(origin_ + ": corrupt zip archive: " + message);
  };

  // Find the end-of-central-directory record: scan back over at most a 64 KiB comment.
  if (b.size() < kEndOfCentralDirSize) {
    fail("only " + std::to_string(b.size()) +
         " bytes, too short for an end-of-central-directory "
         "record (truncated?)");
  }
  size_t eocd = std::string_view::npos;
  const size_t last = b.size() - kEndOfCentralDirSize;
  const size_t first = last > 0xffff ? last - 0xffff : 0;
  for (size_t at = last + 1; at-- > first;) {
    if (Get32(b, at) == kEndOfCentralDirSig &&
        at + kEndOfCentralDirSize + Get16(b, at + 20) == b.size()) {
      eocd = at;
      break;
    }
  }
  if (eocd == std::string_view::npos) fail("no end-of-central-directory record (truncated?)");

  // Read and validate the record; multi-disk archives are rejected.
  const uint16_t disk = Get16(b, eocd + 4);
  const uint16_t cd_disk = Get16(b, eocd + 6);
  uint64_t entries_here = Get16(b, eocd + 8);
  uint64_t entries = Get16(b, eocd + 10);
  uint64_t cd_size = Get32(b, eocd + 12);
  uint64_t cd_offset = Get32(b, eocd + 16);
  size_t cd_limit = eocd;  // the central directory ends before this offset

  // ZIP64 (torch.save writes it even for small files): the locator points at the 64-bit record.
  if (eocd >= kZip64LocatorSize && Get32(b, eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    const size_t locator = eocd - kZip64LocatorSize;
    const uint64_t record = Get64(b, locator + 8);
    if (Get32(b, locator + 4) != 0 || Get32(b, locator + 16) > 1) {
      throw IoError(origin_ + ": multi-disk zip archives are not supported");
    }
    // Compared without adding to `record` (a 64-bit offset from the file must not wrap).
    if (record > locator || locator - record < kZip64EndSize || Get32(b, record) != kZip64EndSig) {
      fail("bad ZIP64 end-of-central-directory record at offset " + std::to_string(record));
    }
    entries_here = Get64(b, record + 24);
    entries = Get64(b, record + 32);
    cd_size = Get64(b, record + 40);
    cd_offset = Get64(b, record + 48);
    cd_limit = record;
  } else if (entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    fail("ZIP64 values without a ZIP64 end-of-central-directory locator (truncated?)");
  }
  if (disk != 0 || cd_disk != 0 || entries_here != entries) {
    throw IoError(origin_ + ": multi-disk zip archives are not supported");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
    fail("central directory (offset " + std::to_string(cd_offset) + ", size " +
         std::to_string(cd_size) + ") runs past its end record at " + std::to_string(cd_limit));
  }

  // Walk the central directory; each entry points at a local header followed by the data.
  size_t at = cd_offset;
  const size_t cd_end = static_cast<size_t>(cd_offset + cd_size);
  for (uint64_t i = 0; i < entries; ++i) {
    if (at + kCentralHeaderSize > cd_end || Get32(b, at) != kCentralHeaderSig) {
      fail("bad central directory entry " + std::to_string(i));
    }
    const uint16_t flags = Get16(b, at + 8);
    const uint16_t method = Get16(b, at + 10);
    const uint32_t crc = Get32(b, at + 16);
    uint64_t comp_size = Get32(b, at + 20);
    uint64_t size = Get32(b, at + 24);
    const uint16_t name_len = Get16(b, at + 28);
    const uint16_t extra_len = Get16(b, at + 30);
    const uint16_t comment_len = Get16(b, at + 32);
    uint64_t local = Get32(b, at + 42);
    const size_t next = at + kCentralHeaderSize + name_len + extra_len + comment_len;
    if (next > cd_end) fail("central directory entry " + std::to_string(i) + " is truncated");
    std::string name(b.substr(at + kCentralHeaderSize, name_len));

    // Saturated 32-bit fields are in the ZIP64 extra field (id 1), in this order.
    if (size == 0xffffffffu || comp_size == 0xffffffffu || local == 0xffffffffu) {
      const std::string_view extra = b.substr(at + kCentralHeaderSize + name_len, extra_len);
      bool found = false;
      for (size_t e = 0; e + 4 <= extra.size();) {
        const uint16_t id = Get16(extra, e);
        const uint16_t len = Get16(extra, e + 2);
        if (e + 4 + len > extra.size()) break;
        if (id == 1) {
          size_t field = e + 4;
          auto take = [&](uint64_t& value) {
            if (value != 0xffffffffu) return;
            if (field + 8 > e + 4 + len) fail("member '" + name + "': short ZIP64 extra field");
            value = Get64(extra, field);
            field += 8;
          };
          take(size);
          take(comp_size);
          take(local);
          found = true;
          break;
        }
        e += 4 + len;
      }
      if (!found) fail("member '" + name + "': 32-bit fields saturated but no ZIP64 extra field");
    }
    if (method != 0 && method != 8) {
      throw IoError(origin_ + ": member '" + name + "' uses compression method " +
                    std::to_string(method) + " (" + MethodName(method) +
                    "); only stored (0) and deflate (8) members are supported");
    }
    if (flags & 1) throw IoError(origin_ + ": member '" + name + "' is encrypted");
    if (method == 0 && comp_size != size) {
      fail("stored member '" + name + "' has compressed size " + std::to_string(comp_size) +
           " != size " + std::to_string(size));
    }

    // Locate the data through the local header (its extra field may differ from the central one).
    // Offsets and sizes may be 64-bit values from the file: compare by subtraction, never wrap.
    if (local > cd_offset || cd_offset - local < kLocalHeaderSize ||
        Get32(b, local) != kLocalHeaderSig) {
      fail("member '" + name + "': bad local header at offset " + std::to_string(local));
    }
    const size_t data_at =
        static_cast<size_t>(local) + kLocalHeaderSize + Get16(b, local + 26) + Get16(b, local + 28);
    if (data_at > cd_offset || comp_size > cd_offset - data_at) {
      fail("member '" + name + "': data (" + std::to_string(comp_size) + " bytes at offset " +
           std::to_string(data_at) + ") runs past the central directory (truncated?)");
    }
    if (b.substr(local + kLocalHeaderSize, Get16(b, local + 26)) != name) {
      fail("member '" + name + "': local header names a different file");
    }
    std::string data = method == 0 ? std::string(b.substr(data_at, size))
                                   : Inflate(b.substr(data_at, comp_size), size, origin_, name);

    const uint32_t actual_crc = Crc32(data);
    if (actual_crc != crc) {
      throw IoError(origin_ + ": CRC-32 mismatch in member '" + name + "' (corrupt archive)");
    }
    if (!members_.emplace(name, std::move(data)).second) {
      fail("member '" + name + "' appears twice");
    }
    at = next;
  }
}

ZipReader ZipReader::FromFile(const std::filesystem::path& path) {
  return ZipReader(ReadFile(path), path.string());
}

bool ZipReader::Has(const std::string& name) const { return members_.count(name) > 0; }

const std::string& ZipReader::Get(const std::string& name) const {
  const auto it = members_.find(name);
  if (it == members_.end()) {
    std::string names;
    for (const auto& [member, data] : members_) names += (names.empty() ? "" : ", ") + member;
    throw IoError(origin_ + ": no member '" + name + "' in the archive (members: " + names + ")");
  }
  return it->second;
}

std::vector<std::string> ZipReader::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, data] : members_) names.push_back(name);
  return names;
}

}  // namespace rlpipe
