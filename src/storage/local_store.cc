#include "storage/local_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/files.h"
#include "storage/storage_error.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

fs::path LocalPath(const std::string& uri) {
  const StorageUri parsed = ParseStorageUri(uri);
  if (parsed.scheme != StorageScheme::kFile) {
    throw ConfigError("the local store cannot serve '" + uri + "'");
  }
  return parsed.path;
}

// Temp files of WriteFileAtomic and CopyFileAtomic: ".name.tmp.*". Never listed.
bool IsTempFile(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.starts_with(".") && name.find(".tmp.") != std::string::npos;
}

std::string Errno(const std::string& what, const fs::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

}  // namespace

void CopyFileAtomic(const fs::path& from, const fs::path& to) {
  // Parent folders, then a temp file beside the target.
  std::error_code ec;
  if (!to.parent_path().empty()) fs::create_directories(to.parent_path(), ec);
  if (ec) throw IoError("cannot create folder " + to.parent_path().string() + ": " + ec.message());
  static std::atomic<std::uint64_t> counter{0};
  // Appended piece by piece: GCC 12 at -O3 (Release) reports a false -Wrestrict overlap for
  // `"literal" + std::string` (an insert at the front).
  std::string temp_name = ".";
  temp_name += to.filename().string();
  temp_name += ".tmp.";
  temp_name += std::to_string(::getpid());
  temp_name += ".";
  temp_name += std::to_string(counter.fetch_add(1));
  const fs::path temp = to.parent_path() / temp_name;
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) throw NotFoundError("no such object: " + from.string());
    throw IoError(Errno("cannot open", from));
  }
  const int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (out < 0) {
    ::close(in);
    throw IoError(Errno("cannot create temp file for", to));
  }

  // Stream the bytes, fsync, close; any failure removes the temp file.
  std::string error;
  std::string buffer(1 << 20, '\0');
  while (error.empty()) {
    const ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = Errno("cannot read", from);
    if (n <= 0) break;
    for (ssize_t written = 0; written < n && error.empty();) {
      const ssize_t w = ::write(out, buffer.data() + written, static_cast<size_t>(n - written));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) error = Errno("cannot write", temp);
      written += std::max<ssize_t>(w, 0);
    }
  }
  if (error.empty() && ::fsync(out) != 0) error = Errno("cannot fsync", temp);
  ::close(in);
  if (::close(out) != 0 && error.empty()) error = Errno("cannot close", temp);
  if (error.empty() && ::rename(temp.c_str(), to.c_str()) != 0)
    error = Errno("cannot rename to", to);
  if (!error.empty()) {
    ::unlink(temp.c_str());
    throw IoError(error);
  }

  // Make the rename durable.
  const int dir = ::open(to.parent_path().empty() ? "." : to.parent_path().c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void LocalCheckpointStore::PutFile(const std::string& uri, const fs::path& local) {
  std::error_code ec;
  if (!fs::is_regular_file(local, ec))
    throw IoError("cannot upload " + local.string() + ": not a file");
  CopyFileAtomic(local, LocalPath(uri));
}

void LocalCheckpointStore::PutBytes(const std::string& uri, std::string_view bytes) {
  WriteFileAtomic(LocalPath(uri), bytes);
}

void LocalCheckpointStore::GetFile(const std::string& uri, const fs::path& local) {
  const fs::path path = LocalPath(uri);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw NotFoundError("no such object: " + uri);
  CopyFileAtomic(path, local);
}

std::string LocalCheckpointStore::GetBytes(const std::string& uri) {
  const fs::path path = LocalPath(uri);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw NotFoundError("no such object: " + uri);
  return ReadFile(path);
}

bool LocalCheckpointStore::Exists(const std::string& uri) {
  std::error_code ec;
  return fs::is_regular_file(LocalPath(uri), ec);
}

std::vector<std::string> LocalCheckpointStore::List(const std::string& prefix_uri) {
  // The prefix is a string prefix of paths: walk the folder it names or sits in.
  const fs::path prefix_path = LocalPath(prefix_uri);
  std::string prefix = prefix_path.string();
  const bool names_folder = prefix_uri.ends_with("/");
  if (names_folder && !prefix.ends_with("/")) prefix += "/";
  const fs::path root = names_folder ? prefix_path : prefix_path.parent_path();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return {};

  // Regular, non-temp files whose path starts with the prefix; results keep the prefix as given.
  std::vector<std::string> uris;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file() || IsTempFile(it->path())) continue;
    const std::string path = it->path().string();
    if (!path.starts_with(prefix)) continue;
    uris.push_back(prefix_uri + (names_folder && !prefix_uri.ends_with("/") ? "/" : "") +
                   path.substr(prefix.size()));
  }
  if (ec) throw IoError("cannot list " + root.string() + ": " + ec.message());
  std::sort(uris.begin(), uris.end());
  return uris;
}

void LocalCheckpointStore::Delete(const std::string& uri) {
  std::error_code ec;
  fs::remove(LocalPath(uri), ec);
  if (ec) throw IoError("cannot delete " + uri + ": " + ec.message());
}

}  // namespace rlpipe
