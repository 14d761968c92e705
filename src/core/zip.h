#pragma once
/// Minimal ZIP archive writer/reader. The writer stores members uncompressed; the reader takes
/// stored and deflated members (zlib), CRC-32 checked — what Python's zipfile writes for
/// Stable-Baselines3 and what torch.save writes.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rlpipe {

/// Builds an archive in memory; Serialize() returns the .zip bytes.
class ZipWriter {
 public:
  void Add(const std::string& name, std::string data);
  std::string Serialize() const;

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

/// Parses a .zip (stored or deflated members); throws IoError naming `origin` on a truncated
/// or corrupt archive or a CRC mismatch.
class ZipReader {
 public:
  ZipReader(std::string bytes, std::string origin);
  static ZipReader FromFile(const std::filesystem::path& path);
  bool Has(const std::string& name) const;
  /// Throws IoError naming the archive and member when absent.
  const std::string& Get(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::string origin_;
  std::map<std::string, std::string> members_;
};

uint32_t Crc32(std::string_view data);
/// The CRC-32 of the bytes before (`crc`, 0 for none) followed by `data`:
/// Crc32Update(Crc32(a), b) == Crc32(a + b). zlib's (several GB/s), for large files.
uint32_t Crc32Update(uint32_t crc, std::string_view data);

}  // namespace rlpipe
