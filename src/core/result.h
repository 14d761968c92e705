#pragma once
/// Result<T>: what every call at the network edge returns (DESIGN.md "Errors"). A failure carries
/// a kind, a one-line message (never a secret) and whether trying again could help.
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace rlpipe {

/// Why a remote call failed; decides whether it is retried and which exception it becomes.
enum class FailureKind {
  kNotFound,      ///< 404: NoSuchKey, NoSuchBucket, NoSuchUpload.
  kAccessDenied,  ///< 403: AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, ...
  kThrottled,     ///< 429 or 503 SlowDown.
  kServer,        ///< Any other 5xx.
  kConnection,    ///< No HTTP answer: refused, reset, timed out, name not resolved.
  kIntegrity,     ///< Bytes arrived but their length or checksum is wrong.
  kCredentials,   ///< No usable AWS credentials were found.
  kInvalid,       ///< Any other error: other 4xx, a malformed answer, local I/O.
};

/// A failed call. `message` is one line that names bucket and key where there are some.
struct Failure {
  Failure() = default;
  Failure(FailureKind failure_kind, std::string failure_message, bool can_retry = false,
          int status = 0, std::string code = {})
      : kind(failure_kind),
        message(std::move(failure_message)),
        retryable(can_retry),
        http_status(status),
        aws_code(std::move(code)) {}

  FailureKind kind = FailureKind::kInvalid;
  std::string message;
  bool retryable = false;
  int http_status = 0;   ///< 0 when no HTTP answer arrived.
  std::string aws_code;  ///< The <Code> of an S3 error answer, e.g. "NoSuchKey".
};

/// Either a value or a Failure. Reading the value of a failed Result is a programming error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}            // NOLINT(google-explicit-constructor)
  Result(Failure failure) : state_(std::move(failure)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  bool retryable() const { return !ok() && failure().retryable; }

  const T& value() const& { return std::get<0>(Checked()); }
  T& value() & { return std::get<0>(Checked()); }
  T&& value() && { return std::get<0>(std::move(Checked())); }

  const Failure& failure() const {
    if (ok()) throw std::logic_error("Result::failure() called on a success");
    return std::get<1>(state_);
  }

 private:
  const std::variant<T, Failure>& Checked() const {
    if (!ok()) throw std::logic_error("Result::value() called on a failure: " + failure().message);
    return state_;
  }
  std::variant<T, Failure>& Checked() {
    if (!ok()) throw std::logic_error("Result::value() called on a failure: " + failure().message);
    return state_;
  }

  std::variant<T, Failure> state_;
};

/// A Result without a value.
using Status = Result<std::monostate>;

/// The successful Status.
inline Status OkStatus() { return Status(std::monostate{}); }

}  // namespace rlpipe
