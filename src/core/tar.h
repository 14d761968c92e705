#pragma once
/// Gzip-compressed tar archives (POSIX ustar, GNU long names) of a folder, for
/// post_pipeline.archive_results. Read by `tar xzf` and Python's tarfile.
#include <filesystem>
#include <functional>

namespace rlpipe {

/// Writes a .tar.gz of `folder` to `archive` atomically (a temp file beside it, renamed when
/// complete). Members are named `<top>/<path relative to folder>`; regular files and folders
/// only (symlinks are followed), in sorted order. `skip` (may be empty) gets each path relative
/// to `folder` and returns true to leave it (and, for a folder, everything below it) out. Returns
/// the number of files archived. Throws IoError.
size_t WriteTarGz(const std::filesystem::path& folder, const std::string& top,
                  const std::filesystem::path& archive,
                  const std::function<bool(const std::filesystem::path&)>& skip = {});

}  // namespace rlpipe
