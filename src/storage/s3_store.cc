#include "storage/s3_store.h"

#include <algorithm>

#include "core/error.h"
#include "storage/storage_error.h"

namespace rlpipe {
namespace {

StorageUri S3Uri(const std::string& uri) {
  StorageUri parsed = ParseStorageUri(uri);
  if (parsed.scheme != StorageScheme::kS3) {
    throw ConfigError("the S3 store cannot serve '" + uri + "'");
  }
  return parsed;
}

// Turns a Failure into the matching exception.
void Check(const Status& status) {
  if (!status.ok()) ThrowFailure(status.failure());
}

}  // namespace

void S3CheckpointStore::PutFile(const std::string& uri, const std::filesystem::path& local) {
  const StorageUri target = S3Uri(uri);
  Check(client_->PutObjectFromFile(target.bucket, target.key, local));
}

void S3CheckpointStore::PutBytes(const std::string& uri, std::string_view bytes) {
  const StorageUri target = S3Uri(uri);
  Check(client_->PutObject(target.bucket, target.key, bytes));
}

void S3CheckpointStore::GetFile(const std::string& uri, const std::filesystem::path& local) {
  const StorageUri source = S3Uri(uri);
  Check(client_->GetObjectToFile(source.bucket, source.key, local));
}

std::string S3CheckpointStore::GetBytes(const std::string& uri) {
  const StorageUri source = S3Uri(uri);
  auto bytes = client_->GetObject(source.bucket, source.key);
  if (!bytes.ok()) ThrowFailure(bytes.failure());
  return std::move(bytes).value();
}

bool S3CheckpointStore::Exists(const std::string& uri) {
  const StorageUri source = S3Uri(uri);
  const auto head = client_->HeadObject(source.bucket, source.key);
  if (head.ok()) return true;
  if (head.failure().kind == FailureKind::kNotFound) return false;
  ThrowFailure(head.failure());
}

std::vector<std::string> S3CheckpointStore::List(const std::string& prefix_uri) {
  // Results keep `prefix_uri` as given, followed by the rest of each key.
  const StorageUri prefix = S3Uri(prefix_uri);
  auto objects = client_->ListObjects(prefix.bucket, prefix.key);
  if (!objects.ok()) ThrowFailure(objects.failure());
  std::vector<std::string> uris;
  for (const auto& object : objects.value()) {
    if (!object.key.starts_with(prefix.key)) continue;
    uris.push_back(prefix_uri + object.key.substr(prefix.key.size()));
  }
  std::sort(uris.begin(), uris.end());
  return uris;
}

void S3CheckpointStore::Delete(const std::string& uri) {
  const StorageUri target = S3Uri(uri);
  Check(client_->DeleteObject(target.bucket, target.key));
}

}  // namespace rlpipe
