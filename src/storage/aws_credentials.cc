#include "storage/aws_credentials.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "storage/http.h"

namespace rlpipe {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr std::string_view kDefaultContainerEndpoint = "http://169.254.170.2";
constexpr std::string_view kDefaultImdsEndpoint = "http://169.254.169.254";
constexpr std::chrono::minutes kRefreshMargin{5};

// What one source of the chain found.
enum class SourceOutcome { kFound, kNotConfigured, kFailed };
struct SourceResult {
  SourceOutcome outcome = SourceOutcome::kNotConfigured;
  AwsCredentials credentials;
  Failure failure;
};

SourceResult Found(AwsCredentials credentials) {
  return {SourceOutcome::kFound, std::move(credentials), {}};
}
SourceResult NotConfigured() { return {}; }
SourceResult Failed(std::string message, bool retryable = false) {
  return {SourceOutcome::kFailed,
          {},
          Failure{FailureKind::kCredentials, std::move(message), retryable}};
}

std::string EnvOr(const AwsEnvironment& environment, const std::string& name) {
  return environment.env(name).value_or("");
}

std::string Trim(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(start, end - start + 1));
}

fs::path HomeFolder(const AwsEnvironment& environment) {
  if (!environment.home.empty()) return environment.home;
  return EnvOr(environment, "HOME");
}

// A path from an environment variable, with a leading "~/" expanded.
fs::path ExpandHome(const std::string& path, const AwsEnvironment& environment) {
  if (path.starts_with("~/")) return HomeFolder(environment) / path.substr(2);
  return path;
}

fs::path CredentialsFile(const AwsEnvironment& environment) {
  const std::string configured = EnvOr(environment, "AWS_SHARED_CREDENTIALS_FILE");
  if (!configured.empty()) return ExpandHome(configured, environment);
  return HomeFolder(environment) / ".aws" / "credentials";
}

fs::path ConfigFile(const AwsEnvironment& environment) {
  const std::string configured = EnvOr(environment, "AWS_CONFIG_FILE");
  if (!configured.empty()) return ExpandHome(configured, environment);
  return HomeFolder(environment) / ".aws" / "config";
}

std::optional<IniSections> ReadIni(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return ParseIni(text.str());
}

// The keys of `section` in `file`, or nullptr.
const std::map<std::string, std::string>* FindSection(const std::optional<IniSections>& file,
                                                      const std::string& section) {
  if (!file) return nullptr;
  const auto it = file->find(section);
  return it == file->end() ? nullptr : &it->second;
}

std::string Value(const std::map<std::string, std::string>& section, const std::string& key) {
  const auto it = section.find(key);
  return it == section.end() ? "" : it->second;
}

// 1. Environment variables.
SourceResult FromEnvironment(const AwsEnvironment& environment) {
  const std::string key_id = EnvOr(environment, "AWS_ACCESS_KEY_ID");
  const std::string secret = EnvOr(environment, "AWS_SECRET_ACCESS_KEY");
  if (key_id.empty() && secret.empty()) return NotConfigured();
  if (key_id.empty() || secret.empty()) {
    return Failed("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  return Found(
      {key_id, secret, EnvOr(environment, "AWS_SESSION_TOKEN"), std::nullopt, "environment"});
}

// 2. Shared files: the credentials file's [profile], then the config file's [profile profile].
SourceResult FromSharedFiles(const AwsEnvironment& environment) {
  const std::string profile = ResolveProfile(environment);
  const fs::path credentials_path = CredentialsFile(environment);
  const fs::path config_path = ConfigFile(environment);
  const auto credentials_file = ReadIni(credentials_path);
  const auto config_file = ReadIni(config_path);
  const std::string config_section = profile == "default" ? "default" : "profile " + profile;

  struct Candidate {
    const std::map<std::string, std::string>* section;
    std::string where;
  };
  for (const Candidate& candidate :
       {Candidate{FindSection(credentials_file, profile),
                  "shared credentials file " + credentials_path.string() + " [" + profile + "]"},
        Candidate{FindSection(config_file, config_section),
                  "config file " + config_path.string() + " [" + config_section + "]"}}) {
    if (candidate.section == nullptr) continue;
    const std::string key_id = Value(*candidate.section, "aws_access_key_id");
    const std::string secret = Value(*candidate.section, "aws_secret_access_key");
    if (key_id.empty() && secret.empty()) continue;
    if (key_id.empty() || secret.empty()) {
      return Failed(candidate.where + " needs both aws_access_key_id and aws_secret_access_key");
    }
    return Found({key_id, secret, Value(*candidate.section, "aws_session_token"), std::nullopt,
                  candidate.where});
  }

  // A named profile that exists nowhere is a mistake worth reporting, not a reason to fall back.
  const bool named = environment.env("AWS_PROFILE").has_value();
  if (named && FindSection(credentials_file, profile) == nullptr &&
      FindSection(config_file, config_section) == nullptr) {
    return Failed("AWS profile '" + profile + "' is in neither " + credentials_path.string() +
                  " nor " + config_path.string());
  }
  return NotConfigured();
}

// Parses the JSON both the container endpoint and IMDS answer with.
SourceResult ParseCredentialsJson(const std::string& body, const std::string& source) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("AccessKeyId") || !json.contains("SecretAccessKey")) {
    return Failed(source + " answered without AccessKeyId/SecretAccessKey");
  }
  if (json.contains("Code") && json["Code"].is_string() && json["Code"] != "Success") {
    return Failed(source + " answered Code=" + json["Code"].get<std::string>());
  }
  AwsCredentials credentials;
  credentials.access_key_id = json.value("AccessKeyId", "");
  credentials.secret_access_key = json.value("SecretAccessKey", "");
  credentials.session_token = json.value("Token", "");
  if (json.contains("Expiration") && json["Expiration"].is_string()) {
    credentials.expiration = ParseIso8601(json["Expiration"].get<std::string>());
  }
  credentials.source = source;
  return Found(std::move(credentials));
}

// GET/PUT to a metadata endpoint with the short timeouts.
Result<HttpResponse> MetadataRequest(const AwsEnvironment& environment, const std::string& method,
                                     const std::string& url, NameValueList headers) {
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = std::move(headers);
  request.connect_timeout = environment.metadata_timeout;
  request.total_timeout = 2 * environment.metadata_timeout;
  request.stall_timeout = std::chrono::seconds(2);
  return SendHttp(request);
}

// The host part of an http(s) URL, without port or brackets.
std::string UrlHost(const std::string& url) {
  const size_t start = url.find("://");
  if (start == std::string::npos) return "";
  std::string host = url.substr(start + 3, url.find_first_of("/?", start + 3) - start - 3);
  if (host.starts_with("[")) return host.substr(1, host.find(']') - 1);
  return host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
}

// 3. Container credentials (ECS task roles, EKS pod identity).
SourceResult FromContainer(const AwsEnvironment& environment) {
  const std::string relative = EnvOr(environment, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string full = EnvOr(environment, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative.empty() && full.empty()) return NotConfigured();

  // Which URL: the relative one against the container host, else the full one (which must be
  // https or a loopback/container address, so the token is never sent elsewhere in clear).
  std::string url;
  if (!relative.empty()) {
    url = (environment.container_endpoint.empty() ? std::string(kDefaultContainerEndpoint)
                                                  : environment.container_endpoint) +
          relative;
  } else {
    url = full;
    const std::string host = UrlHost(full);
    const bool allowed_http = host == "localhost" || host.starts_with("127.") || host == "::1" ||
                              host == "169.254.170.2" || host == "169.254.170.23" ||
                              host == "fd00:ec2::23";
    if (!full.starts_with("https://") && !(full.starts_with("http://") && allowed_http)) {
      return Failed(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback/container "
          "address");
    }
  }

  // The optional authorization token, from the variable or from a file.
  std::string token = EnvOr(environment, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  const std::string token_file = EnvOr(environment, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) return Failed("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + token_file);
    std::getline(in, token);
    token = Trim(token);
  }
  NameValueList headers;
  if (!token.empty()) headers.emplace_back("Authorization", token);

  const std::string source = "container credentials endpoint " + url.substr(0, url.find('?'));
  const auto response = MetadataRequest(environment, "GET", url, headers);
  if (!response.ok()) {
    return Failed(source + ": " + response.failure().message, true);
  }
  if (response.value().status != 200) {
    return Failed(source + " answered HTTP " + std::to_string(response.value().status),
                  response.value().status >= 500);
  }
  return ParseCredentialsJson(response.value().body, source);
}

// 4. EC2 instance metadata, IMDSv2: a session token first, then the role, then its credentials.
SourceResult FromInstanceMetadata(const AwsEnvironment& environment) {
  if (Trim(EnvOr(environment, "AWS_EC2_METADATA_DISABLED")) == "true") return NotConfigured();
  std::string base = environment.imds_endpoint;
  if (base.empty()) base = EnvOr(environment, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = kDefaultImdsEndpoint;
  while (base.ends_with("/")) base.pop_back();
  const std::string source = "EC2 instance metadata " + base;

  // Session token (PUT). No answer means "not on EC2": not configured rather than failed.
  const auto token = MetadataRequest(environment, "PUT", base + "/latest/api/token",
                                     {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  if (!token.ok() || token.value().status != 200) return NotConfigured();
  const NameValueList auth = {{"X-aws-ec2-metadata-token", Trim(token.value().body)}};

  // Role name, then its credentials.
  const std::string roles_url = base + "/latest/meta-data/iam/security-credentials/";
  const auto roles = MetadataRequest(environment, "GET", roles_url, auth);
  if (!roles.ok()) return Failed(source + ": " + roles.failure().message, true);
  if (roles.value().status == 404) return Failed(source + ": no IAM role attached");
  if (roles.value().status != 200) {
    return Failed(
        source + " answered HTTP " + std::to_string(roles.value().status) + " for the role name",
        roles.value().status >= 500);
  }
  const std::string role = Trim(roles.value().body.substr(0, roles.value().body.find('\n')));
  if (role.empty()) return Failed(source + ": no IAM role attached");
  const auto credentials = MetadataRequest(environment, "GET", roles_url + role, auth);
  if (!credentials.ok()) return Failed(source + ": " + credentials.failure().message, true);
  if (credentials.value().status != 200) {
    return Failed(source + " answered HTTP " + std::to_string(credentials.value().status) +
                      " for role " + role,
                  credentials.value().status >= 500);
  }
  return ParseCredentialsJson(credentials.value().body, source + " (role " + role + ")");
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

IniSections ParseIni(std::string_view text) {
  IniSections sections;
  std::string current;
  bool in_section = false;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    // Indented lines continue a nested block ("s3 =\n  addressing_style = path"): skipped.
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) continue;
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == ';') continue;
    if (trimmed.front() == '[' && trimmed.back() == ']') {
      current = Trim(trimmed.substr(1, trimmed.size() - 2));
      in_section = true;
      sections[current];
      continue;
    }
    const size_t equals = trimmed.find('=');
    if (!in_section || equals == std::string::npos) continue;
    std::string key = Trim(trimmed.substr(0, equals));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    sections[current][key] = Trim(trimmed.substr(equals + 1));
  }
  return sections;
}

std::string ResolveProfile(const AwsEnvironment& environment) {
  for (const char* name : {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}) {
    const std::string value = Trim(EnvOr(environment, name));
    if (!value.empty()) return value;
  }
  return "default";
}

std::string ResolveRegion(const std::string& configured, const AwsEnvironment& environment) {
  if (!configured.empty()) return configured;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    const std::string value = Trim(EnvOr(environment, name));
    if (!value.empty()) return value;
  }
  const std::string profile = ResolveProfile(environment);
  const auto config_file = ReadIni(ConfigFile(environment));
  const auto* section =
      FindSection(config_file, profile == "default" ? "default" : "profile " + profile);
  if (section != nullptr && !Value(*section, "region").empty()) return Value(*section, "region");
  return "us-east-1";
}

std::string ResolveS3Endpoint(const std::string& configured, const AwsEnvironment& environment) {
  if (!configured.empty()) return configured;
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    const std::string value = Trim(EnvOr(environment, name));
    if (!value.empty()) return value;
  }
  return "";
}

std::optional<Clock::time_point> ParseIso8601(std::string_view text) {
  std::tm parts{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%d", &year, &month, &day, &hour, &minute,
                  &second) != 6) {
    return std::nullopt;
  }
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return Clock::from_time_t(timegm(&parts));
}

DefaultCredentialsChain::DefaultCredentialsChain(AwsEnvironment environment)
    : environment_(std::move(environment)) {}

Result<AwsCredentials> DefaultCredentialsChain::Get() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Reuse the cached credentials until 5 minutes before they expire.
  if (cached_ && (!cached_->expiration || Clock::now() + kRefreshMargin < *cached_->expiration)) {
    return *cached_;
  }
  auto resolved = Resolve();
  if (resolved.ok()) cached_ = resolved.value();
  return resolved;
}

Result<AwsCredentials> DefaultCredentialsChain::Resolve() {
  // The first configured source wins; a configured source that fails stops the search.
  for (const auto& source :
       {FromEnvironment, FromSharedFiles, FromContainer, FromInstanceMetadata}) {
    SourceResult result = source(environment_);
    if (result.outcome == SourceOutcome::kFound) return std::move(result.credentials);
    if (result.outcome == SourceOutcome::kFailed) return result.failure;
  }
  return Failure{FailureKind::kCredentials,
                 "no AWS credentials found: looked in the environment (AWS_ACCESS_KEY_ID), "
                 "shared files " +
                     CredentialsFile(environment_).string() + " and " +
                     ConfigFile(environment_).string() + " [profile " +
                     ResolveProfile(environment_) +
                     "], container credentials (AWS_CONTAINER_CREDENTIALS_*_URI unset) and EC2 "
                     "instance metadata (no answer)",
                 false};
}

}  // namespace rlpipe
