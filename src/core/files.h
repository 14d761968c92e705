#pragma once
/// Small file utilities. Every write that must survive a crash goes through WriteFileAtomic.
#include <filesystem>
#include <string>
#include <string_view>

namespace rlpipe {

/// Reads a whole file; throws IoError naming the path on failure.
std::string ReadFile(const std::filesystem::path& path);

/// Writes `contents` to `path` atomically: temp file in the same folder, fsync, rename, fsync of
/// the folder. Creates parent folders. Readers see either the old or the new file, never a mix.
void WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

/// An exclusive advisory lock (flock) on a file, held for the object's lifetime.
class FileLock {
 public:
  /// Returns false (without throwing) when another process holds the lock.
  bool TryLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

/// The running program's own path (/proc/self/exe); empty when it cannot be read.
std::filesystem::path ExecutablePath();

/// A data file shipped with rlpipe (e.g. "pricing.yaml"): <exe dir>/../share/rlpipe/<name>, which
/// holds both for an installed binary (<prefix>/bin/rlpipe) and for build/apps/rlpipe (the build
/// copies the files to build/share/rlpipe). Never depends on where the sources were.
std::filesystem::path DataFilePath(const std::string& name);

/// ISO-8601 UTC timestamp with seconds, e.g. 2026-11-24T08:30:00Z.
std::string NowIso8601();

}  // namespace rlpipe
