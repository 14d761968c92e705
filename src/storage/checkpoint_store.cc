#include "storage/checkpoint_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "storage/crypto.h"
#include "storage/local_store.h"
#include "storage/s3_store.h"
#include "storage/storage_error.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kManifestFormat = "rlpipe.checkpoint-manifest.v1";

// One object of a checkpoint, as the manifest records it.
struct ManifestEntry {
  std::string path;  // relative, '/'-separated
  std::uint64_t size = 0;
  std::string sha256_hex;
};

// A manifest path must stay inside the checkpoint folder.
bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(path)) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

std::vector<ManifestEntry> ParseManifest(const std::string& text, const std::string& uri) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || json.value("format", "") != kManifestFormat ||
      !json.contains("objects") || !json["objects"].is_array()) {
    throw IntegrityError(uri + " is not an rlpipe checkpoint manifest (expected format " +
                         std::string(kManifestFormat) + ")");
  }
  std::vector<ManifestEntry> entries;
  for (const auto& object : json["objects"]) {
    ManifestEntry entry;
    if (!object.is_object() || !object.contains("path") || !object["path"].is_string() ||
        !object.contains("size") || !object["size"].is_number_unsigned() ||
        !object.contains("sha256") || !object["sha256"].is_string()) {
      throw IntegrityError(uri + ": malformed object entry " + object.dump());
    }
    entry.path = object["path"].get<std::string>();
    entry.size = object["size"].get<std::uint64_t>();
    entry.sha256_hex = object["sha256"].get<std::string>();
    if (!IsSafeRelativePath(entry.path)) {
      throw IntegrityError(uri + ": object path '" + entry.path + "' leaves the checkpoint");
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace

void ThrowFailure(const Failure& failure) {
  switch (failure.kind) {
    case FailureKind::kNotFound:
      throw NotFoundError(failure.message);
    case FailureKind::kAccessDenied:
    case FailureKind::kCredentials:
      throw AccessDeniedError(failure.message, failure.retryable);
    case FailureKind::kIntegrity:
      throw IntegrityError(failure.message, failure.retryable);
    default:
      throw StorageError(failure.message, failure.retryable);
  }
}

void CheckpointStore::PutCheckpoint(const fs::path& folder, const std::string& uri) {
  // Every regular file below the folder, in a stable order.
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    throw IoError("checkpoint folder " + folder.string() + " does not exist");
  }
  std::vector<std::string> relative_paths;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string relative = it->path().lexically_relative(folder).generic_string();
    if (relative == kManifestName) continue;
    relative_paths.push_back(relative);
  }
  if (ec) throw IoError("cannot list " + folder.string() + ": " + ec.message());
  std::sort(relative_paths.begin(), relative_paths.end());

  // Objects first, each hashed before it goes up.
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& relative : relative_paths) {
    const fs::path local = folder / relative;
    const FileDigest digest = DigestFile(local);
    PutFile(JoinUri(uri, relative), local);
    objects.push_back(
        {{"path", relative}, {"size", digest.size}, {"sha256", HexEncode(digest.sha256)}});
  }

  // The manifest last: only now does the checkpoint count as complete.
  const nlohmann::json manifest = {
      {"format", kManifestFormat}, {"created_at", NowIso8601()}, {"objects", objects}};
  PutBytes(JoinUri(uri, kManifestName), manifest.dump(2) + "\n");
}

void CheckpointStore::GetCheckpoint(const std::string& uri, const fs::path& folder) {
  // The manifest decides what exists; without it there is no (complete) checkpoint.
  const std::string manifest_uri = JoinUri(uri, kManifestName);
  std::string manifest_text;
  try {
    manifest_text = GetBytes(manifest_uri);
  } catch (const NotFoundError& e) {
    throw NotFoundError("no complete checkpoint at " + uri + ": " + std::string(kManifestName) +
                        " is missing (never written, or the upload is unfinished): " + e.what());
  }
  const std::vector<ManifestEntry> entries = ParseManifest(manifest_text, manifest_uri);

  // Each object: download, then check size and SHA-256; a bad file is removed, not kept.
  for (const ManifestEntry& entry : entries) {
    const std::string object_uri = JoinUri(uri, entry.path);
    const fs::path local = folder / entry.path;
    GetFile(object_uri, local);
    const FileDigest digest = DigestFile(local);
    const std::string actual = HexEncode(digest.sha256);
    if (digest.size != entry.size || actual != entry.sha256_hex) {
      std::error_code ec;
      fs::remove(local, ec);
      throw IntegrityError("checkpoint object " + object_uri + " is corrupt: manifest says " +
                           std::to_string(entry.size) + " bytes with SHA-256 " + entry.sha256_hex +
                           ", downloaded " + std::to_string(digest.size) + " bytes with SHA-256 " +
                           actual);
    }
  }

  // The manifest last, locally too.
  WriteFileAtomic(folder / kManifestName, manifest_text);
}

bool CheckpointStore::IsCompleteCheckpoint(const std::string& uri) {
  return Exists(JoinUri(uri, kManifestName));
}

std::unique_ptr<CheckpointStore> OpenCheckpointStore(std::string_view uri,
                                                     const StorageOptions& options) {
  // One row per scheme.
  switch (ParseStorageUri(uri).scheme) {
    case StorageScheme::kFile:
      return std::make_unique<LocalCheckpointStore>();
    case StorageScheme::kS3: {
      auto credentials = options.credentials
                             ? options.credentials
                             : std::make_shared<DefaultCredentialsChain>(options.aws);
      return std::make_unique<S3CheckpointStore>(
          std::make_shared<S3Client>(options.s3, std::move(credentials), options.aws));
    }
  }
  throw ConfigError("no store for URI '" + std::string(uri) + "'");
}

std::vector<StorageScheme> RegisteredStorageSchemes() {
  return {StorageScheme::kFile, StorageScheme::kS3};
}

}  // namespace rlpipe
