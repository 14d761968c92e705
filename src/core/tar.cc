#include "core/tar.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlpipe {
namespace fs = std::filesystem;
namespace {

constexpr size_t kBlock = 512;

/// An octal field of `width` bytes (digits, then NUL).
void PutOctal(char* field, size_t width, uint64_t value) {
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[width - 1] = '\0';
}

/// One ustar header block.
std::string Header(const std::string& name, char type, uint64_t size, int64_t mtime, int mode) {
  std::string block(kBlock, '\0');
  char* h = block.data();
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  PutOctal(h + 100, 8, static_cast<uint64_t>(mode));
  PutOctal(h + 108, 8, 0);  // uid
  PutOctal(h + 116, 8, 0);  // gid
  PutOctal(h + 124, 12, size);
  PutOctal(h + 136, 12, static_cast<uint64_t>(std::max<int64_t>(0, mtime)));
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);  // magic "ustar\0"
  std::memcpy(h + 263, "00", 2);     // version
  // Checksum: the byte sum with the checksum field as spaces.
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  PutOctal(h + 148, 7, sum);
  h[155] = ' ';
  return block;
}

class GzFile {
 public:
  explicit GzFile(const fs::path& path) : path_(path), file_(gzopen(path.c_str(), "wb6")) {
    if (file_ == nullptr)
      throw IoError("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  ~GzFile() {
    if (file_ != nullptr) gzclose(file_);
  }
  void Write(const char* data, size_t size) {
    while (size > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size, 1 << 20));
      if (gzwrite(file_, data, chunk) != static_cast<int>(chunk)) {
        throw IoError("cannot write " + path_.string() + " (disk full?)");
      }
      data += chunk;
      size -= chunk;
    }
  }
  void Write(const std::string& bytes) { Write(bytes.data(), bytes.size()); }
  void Close() {
    const int status = gzclose(file_);
    file_ = nullptr;
    if (status != Z_OK) throw IoError("cannot finish " + path_.string() + " (disk full?)");
  }

 private:
  fs::path path_;
  gzFile file_;
};

/// A member: its header(s), GNU long-name record first when the name exceeds 100 bytes.
void PutHeader(GzFile& out, const std::string& name, char type, uint64_t size, int64_t mtime,
               int mode) {
  if (name.size() > 100) {
    out.Write(Header("././@LongLink", 'L', name.size() + 1, 0, 0644));
    std::string data = name + '\0';
    data.resize((data.size() + kBlock - 1) / kBlock * kBlock, '\0');
    out.Write(data);
  }
  out.Write(Header(name, type, size, mtime, mode));
}

int64_t MtimeOf(const fs::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<int64_t>(info.st_mtime) : 0;
}

}  // namespace

size_t WriteTarGz(const fs::path& folder, const std::string& top, const fs::path& archive,
                  const std::function<bool(const fs::path&)>& skip) {
  if (!fs::is_directory(folder)) throw IoError(folder.string() + " is not a folder");

  // Every member, sorted, with skipped folders pruned.
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(folder); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = it->path().lexically_relative(folder);
    if (skip && skip(rel)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory() || it->is_regular_file()) paths.push_back(rel);
  }
  std::sort(paths.begin(), paths.end());

  // Write to a temp file beside the archive; rename when complete.
  const fs::path parent = archive.parent_path().empty() ? fs::path(".") : archive.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw IoError("cannot create folder " + parent.string() + ": " + ec.message());
  const fs::path temp = archive.parent_path() /
                        ("." + archive.filename().string() + ".tmp." + std::to_string(::getpid()));
  size_t files = 0;
  try {
    GzFile out(temp);
    out.Write(Header(top + "/", '5', 0, MtimeOf(folder), 0755));
    for (const fs::path& rel : paths) {
      const fs::path full = folder / rel;
      const std::string name = top + "/" + rel.generic_string();
      if (fs::is_directory(full)) {
        PutHeader(out, name + "/", '5', 0, MtimeOf(full), 0755);
        continue;
      }
      // A file: header, contents, zero padding to the block.
      std::ifstream in(full, std::ios::binary);
      if (!in) throw IoError("cannot read " + full.string());
      const uint64_t size = fs::file_size(full);
      PutHeader(out, name, '0', size, MtimeOf(full), 0644);
      std::vector<char> buffer(1 << 20);
      uint64_t left = size;
      while (left > 0) {
        in.read(buffer.data(),
                static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size())));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0) throw IoError(full.string() + " shrank while being archived");
        out.Write(buffer.data(), got);
        left -= got;
      }
      if (size % kBlock != 0) out.Write(std::string(kBlock - size % kBlock, '\0'));
      ++files;
    }
    // The end: two zero blocks.
    out.Write(std::string(2 * kBlock, '\0'));
    out.Close();
  } catch (...) {
    fs::remove(temp);
    throw;
  }
  fs::rename(temp, archive, ec);
  if (ec) {
    fs::remove(temp);
    throw IoError("cannot write " + archive.string() + ": " + ec.message());
  }
  return files;
}

}  // namespace rlpipe
