#pragma once
/// AWS settings the standard way: credentials (environment, shared files, container, EC2 instance
/// metadata), region and endpoint. Every outside input (environment variables, home folder,
/// metadata endpoints) comes through AwsEnvironment so tests can replace it.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "storage/sigv4.h"

namespace rlpipe {

/// An AWS identity. The secret key and the session token are never printed; `source` says where
/// it came from ("environment", "shared credentials file ~/.aws/credentials [dev]", ...).
struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< Empty for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string source;

  SigningKey signing_key() const { return {access_key_id, secret_access_key}; }
};

/// Reads one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The real process environment (getenv).
EnvLookup ProcessEnvironment();

/// Where AWS settings are read from. Defaults are the real machine's.
struct AwsEnvironment {
  EnvLookup env = ProcessEnvironment();
  /// Home folder for ~/.aws/{credentials,config}; empty: $HOME.
  std::filesystem::path home;
  /// Host for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI; empty: http://169.254.170.2.
  std::string container_endpoint;
  /// EC2 instance metadata; empty: AWS_EC2_METADATA_SERVICE_ENDPOINT, then http://169.254.169.254.
  std::string imds_endpoint;
  /// Connect timeout of each metadata request (total: twice this). Short, so a laptop without
  /// instance metadata is not slowed down.
  std::chrono::milliseconds metadata_timeout{1000};
};

/// Source of credentials for signing. Implementations are thread-safe.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// Current credentials, or a kCredentials failure that lists where it looked.
  virtual Result<AwsCredentials> Get() = 0;
};

/// Always the same credentials (tests, or credentials from a secret manager).
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials credentials)
      : credentials_(std::move(credentials)) {}
  Result<AwsCredentials> Get() override { return credentials_; }

 private:
  AwsCredentials credentials_;
};

/// The standard chain: environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
/// shared files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE), container
/// (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
/// AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]), then EC2 instance metadata (IMDSv2;
/// AWS_EC2_METADATA_DISABLED=true skips it). The first source that is configured wins; results are
/// cached and refreshed 5 minutes before they expire.
class DefaultCredentialsChain : public CredentialsProvider {
 public:
  explicit DefaultCredentialsChain(AwsEnvironment environment = {});
  Result<AwsCredentials> Get() override;

 private:
  Result<AwsCredentials> Resolve();

  AwsEnvironment environment_;
  std::mutex mutex_;
  std::optional<AwsCredentials> cached_;
};

/// Sections of an INI file ("default", "profile dev", ...) → lower-case key → value.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;

/// Parses the AWS shared-file dialect of INI (comments with # or ;, nested blocks skipped).
IniSections ParseIni(std::string_view text);

/// The profile name: AWS_PROFILE, then AWS_DEFAULT_PROFILE, then "default".
std::string ResolveProfile(const AwsEnvironment& environment);

/// `configured` if set, else AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config
/// file, then "us-east-1".
std::string ResolveRegion(const std::string& configured, const AwsEnvironment& environment);

/// `configured` if set, else AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, else "" (AWS itself).
std::string ResolveS3Endpoint(const std::string& configured, const AwsEnvironment& environment);

/// Parses "2026-11-24T08:30:00Z" (fractional seconds and a "+00:00" suffix are accepted).
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

}  // namespace rlpipe
