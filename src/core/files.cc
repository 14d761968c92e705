#include "core/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

// "what path: strerror(errno)" as one line.
std::string ErrnoMessage(const std::string& what, const fs::path& path, int err) {
  return what + " " + path.string() + ": " + std::strerror(err);
}

// A temp name unique across processes (pid) and threads (counter) in the target's folder.
fs::path TempPathFor(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t ticks =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::ostringstream name;
  name << "." << path.filename().string() << ".tmp." << ::getpid() << "." << counter.fetch_add(1)
       << "." << std::hex << (ticks & 0xffffff);
  return path.parent_path() / name.str();
}

// Writes all bytes, retrying on EINTR and short writes; returns errno or 0.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

}  // namespace

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(ErrnoMessage("cannot open", path, errno));
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError("cannot read " + path.string() + ": is a folder");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw IoError(ErrnoMessage("cannot read", path, errno));
  return contents.str();
}

void WriteFileAtomic(const fs::path& path, std::string_view contents) {
  // Create the parent folders first.
  const fs::path parent = path.parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw IoError("cannot create folder " + parent.string() + ": " + ec.message());
  }

  // Write and fsync a temp file beside the target; remove it on any failure.
  const fs::path temp = TempPathFor(path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw IoError(ErrnoMessage("cannot create temp file for", path, errno));
  int err = WriteAll(fd, contents);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(temp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(temp.c_str());
    throw IoError(ErrnoMessage("cannot write", path, err));
  }

  // Make the rename itself durable by syncing the folder.
  const fs::path dir = parent.empty() ? fs::path(".") : parent;
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

bool FileLock::TryLock(const fs::path& path) {
  // Re-locking releases any lock this object already holds.
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(ErrnoMessage("cannot open lock file", path, errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return false;
    throw IoError(ErrnoMessage("cannot lock", path, err));
  }
  fd_ = fd;
  return true;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string NowIso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

fs::path ExecutablePath() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self;
}

fs::path DataFilePath(const std::string& name) {
  return (ExecutablePath().parent_path() / ".." / "share" / "rlpipe" / name).lexically_normal();
}

}  // namespace rlpipe
