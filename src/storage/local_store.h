#pragma once
/// CheckpointStore on the local file system: every write is a temp file, fsync, rename.
#include "storage/checkpoint_store.h"

namespace rlpipe {

/// Serves file:///abs/path URIs and plain paths.
class LocalCheckpointStore : public CheckpointStore {
 public:
  void PutFile(const std::string& uri, const std::filesystem::path& local) override;
  void PutBytes(const std::string& uri, std::string_view bytes) override;
  void GetFile(const std::string& uri, const std::filesystem::path& local) override;
  std::string GetBytes(const std::string& uri) override;
  bool Exists(const std::string& uri) override;
  std::vector<std::string> List(const std::string& prefix_uri) override;
  void Delete(const std::string& uri) override;
};

/// Copies `from` to `to` atomically (streamed temp file beside `to`, fsync, rename, fsync of the
/// folder). Creates parent folders. Throws IoError naming the paths.
void CopyFileAtomic(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace rlpipe
