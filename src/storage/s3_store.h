#pragma once
/// CheckpointStore on S3 (or any S3-compatible endpoint).
#include <memory>

#include "storage/checkpoint_store.h"
#include "storage/s3_client.h"

namespace rlpipe {

/// Serves s3://bucket/key URIs through one S3Client; Failures become exceptions.
class S3CheckpointStore : public CheckpointStore {
 public:
  explicit S3CheckpointStore(std::shared_ptr<S3Client> client) : client_(std::move(client)) {}

  void PutFile(const std::string& uri, const std::filesystem::path& local) override;
  void PutBytes(const std::string& uri, std::string_view bytes) override;
  void GetFile(const std::string& uri, const std::filesystem::path& local) override;
  std::string GetBytes(const std::string& uri) override;
  bool Exists(const std::string& uri) override;
  std::vector<std::string> List(const std::string& prefix_uri) override;
  void Delete(const std::string& uri) override;

  S3Client& client() { return *client_; }

 private:
  std::shared_ptr<S3Client> client_;
};

}  // namespace rlpipe
