#pragma once
/// CheckpointStore: objects by URI on local disk or S3 (DESIGN.md extension point 5).
///
/// The set: this interface; OpenCheckpointStore() (the registry: one row per URI scheme);
/// LocalCheckpointStore and S3CheckpointStore; and store_contract_test.cc, which runs the same
/// cases on every registered scheme.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/aws_credentials.h"
#include "storage/s3_client.h"
#include "storage/storage_uri.h"

namespace rlpipe {

/// Name of the manifest written last by PutCheckpoint.
inline constexpr std::string_view kManifestName = "manifest.json";

/// Objects addressed by URI. Methods throw: NotFoundError (naming the URI), AccessDeniedError,
/// IntegrityError, StorageError (after retries), IoError (local files), ConfigError (bad URI).
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;

  /// Uploads a local file (which is only read). Readers see the old or the new object.
  virtual void PutFile(const std::string& uri, const std::filesystem::path& local) = 0;
  /// Stores `bytes` as the object.
  virtual void PutBytes(const std::string& uri, std::string_view bytes) = 0;
  /// Downloads into `local` through a temp file renamed into place; on failure `local` is
  /// untouched.
  virtual void GetFile(const std::string& uri, const std::filesystem::path& local) = 0;
  /// Reads a whole (small) object.
  virtual std::string GetBytes(const std::string& uri) = 0;
  /// True when the object exists.
  virtual bool Exists(const std::string& uri) = 0;
  /// Every object URI starting with `prefix_uri` (a string prefix, as in S3), sorted. Each
  /// result starts with `prefix_uri` exactly as given.
  virtual std::vector<std::string> List(const std::string& prefix_uri) = 0;
  /// Removes the object; removing a missing object is not an error.
  virtual void Delete(const std::string& uri) = 0;

  /// Uploads every file under `folder` (recursively) below `uri`, then `uri`/manifest.json with
  /// the size and SHA-256 of each, LAST: a checkpoint without a manifest is incomplete. A
  /// top-level manifest.json in `folder` is not uploaded (it is rewritten).
  void PutCheckpoint(const std::filesystem::path& folder, const std::string& uri);
  /// Downloads the checkpoint at `uri` into `folder`, checks every size and SHA-256 against the
  /// manifest (IntegrityError naming the object on mismatch), then writes the manifest. Throws
  /// NotFoundError when there is no manifest (no checkpoint, or one still being written).
  void GetCheckpoint(const std::string& uri, const std::filesystem::path& folder);
  /// True when `uri` holds a complete checkpoint (its manifest exists).
  bool IsCompleteCheckpoint(const std::string& uri);
};

/// Settings for the stores the registry builds.
struct StorageOptions {
  S3ClientConfig s3;
  /// Where credentials, region and endpoint come from.
  AwsEnvironment aws;
  /// Overrides the standard credentials chain when set.
  std::shared_ptr<CredentialsProvider> credentials;
};

/// The registry: the store serving `uri`'s scheme (file:// and plain paths: local; s3://: S3).
/// Throws ConfigError for other schemes.
std::unique_ptr<CheckpointStore> OpenCheckpointStore(std::string_view uri,
                                                     const StorageOptions& options = {});

/// Every scheme OpenCheckpointStore serves (the contract test sweeps these).
std::vector<StorageScheme> RegisteredStorageSchemes();

}  // namespace rlpipe
