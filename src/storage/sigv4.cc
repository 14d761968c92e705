#include "storage/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "storage/crypto.h"

namespace rlpipe {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Trims both ends and collapses inner runs of spaces into one (SigV4 "Trimall").
std::string TrimAll(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = !out.empty();
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

// Removes "." and ".." segments and empty segments, keeping a trailing slash.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.emplace_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& segment : segments) out += "/" + segment;
  if (out.empty() || (path.size() > 1 && path.back() == '/')) out += "/";
  return out;
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string CanonicalQueryString(const NameValueList& query) {
  // Encode first, then sort by encoded name and value.
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string FormatAmzDate(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

SigV4Signature SignV4(const SignableRequest& request, const SigningKey& key,
                      const SigningScope& scope, PathCanonicalization path_mode) {
  SigV4Signature result;

  // Canonical headers: lower-case names, trimmed values, sorted; repeated names joined by ','.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto& slot = headers[Lower(name)];
    if (!slot.empty()) slot += ",";
    slot += TrimAll(value);
  }
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!result.signed_headers.empty()) result.signed_headers += ";";
    result.signed_headers += name;
  }

  // Canonical request: method, path, query, headers, signed header names, payload hash.
  const std::string path = path_mode == PathCanonicalization::kAsSent
                               ? request.encoded_path
                               : UriEncode(NormalizePath(request.encoded_path), true);
  result.canonical_request = request.method + "\n" + (path.empty() ? "/" : path) + "\n" +
                             CanonicalQueryString(request.query) + "\n" + canonical_headers + "\n" +
                             result.signed_headers + "\n" + request.payload_hash;

  // String to sign: algorithm, date, credential scope, hash of the canonical request.
  const std::string date = scope.amz_date.substr(0, 8);
  const std::string credential_scope =
      date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  result.string_to_sign = std::string(kAlgorithm) + "\n" + scope.amz_date + "\n" +
                          credential_scope + "\n" + HexEncode(Sha256(result.canonical_request));

  // Signing key: HMAC chain over date, region, service and the terminator.
  const std::string k_date = HmacSha256("AWS4" + key.secret_access_key, date);
  const std::string k_region = HmacSha256(k_date, scope.region);
  const std::string k_service = HmacSha256(k_region, scope.service);
  const std::string k_signing = HmacSha256(k_service, "aws4_request");
  result.signature = HexEncode(HmacSha256(k_signing, result.string_to_sign));

  result.authorization = std::string(kAlgorithm) + " Credential=" + key.access_key_id + "/" +
                         credential_scope + ", SignedHeaders=" + result.signed_headers +
                         ", Signature=" + result.signature;
  return result;
}

}  // namespace rlpipe
