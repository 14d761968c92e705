#pragma once
/// Exceptions the storage package throws at its public (CheckpointStore) surface.
#include <string>

#include "core/error.h"
#include "core/result.h"

namespace rlpipe {

/// A remote or storage failure that survived the retries. Messages never hold secrets.
class StorageError : public Error {
 public:
  StorageError(const std::string& message, bool retryable)
      : Error(message), retryable_(retryable) {}
  explicit StorageError(const std::string& message) : StorageError(message, false) {}
  /// True when the last attempt failed in a way that could pass later (throttling, 5xx, network).
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

/// The object, bucket or checkpoint does not exist. The message names it.
class NotFoundError : public StorageError {
 public:
  using StorageError::StorageError;
};

/// The credentials were refused (403) or no credentials were found.
class AccessDeniedError : public StorageError {
 public:
  using StorageError::StorageError;
};

/// Downloaded bytes do not match the size or SHA-256 the manifest (or the server) promised.
class IntegrityError : public StorageError {
 public:
  using StorageError::StorageError;
};

/// Throws the exception matching `failure.kind`.
[[noreturn]] void ThrowFailure(const Failure& failure);

}  // namespace rlpipe
