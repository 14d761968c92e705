#include "storage/http.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

namespace rlpipe {
namespace {

// Error bodies are kept for their <Code>/<Message>; anything past this is dropped.
constexpr size_t kMaxErrorBody = 1 << 20;

// Hosts that must never go through a proxy: loopback and the AWS metadata endpoints.
constexpr std::string_view kNoProxyHosts =
    "127.0.0.1,localhost,::1,169.254.169.254,169.254.170.2,fd00:ec2::254";

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// State shared with the curl callbacks of one transfer.
struct Transfer {
  CURL* curl = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  // Upload side.
  std::unique_ptr<std::FILE, FileCloser> body_file;
  std::uint64_t body_remaining = 0;
  size_t body_offset = 0;
  // Download side.
  std::unique_ptr<std::FILE, FileCloser> response_file;
  std::string local_error;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t capacity = size * count;
  if (t->body_file) {
    const size_t want = static_cast<size_t>(std::min<std::uint64_t>(capacity, t->body_remaining));
    const size_t n = std::fread(buffer, 1, want, t->body_file.get());
    if (n < want && std::ferror(t->body_file.get())) {
      t->local_error = "cannot read " + t->request->body_file->path.string();
      return CURL_READFUNC_ABORT;
    }
    t->body_remaining -= n;
    return n;
  }
  const std::string& body = t->request->body;
  const size_t n = std::min(capacity, body.size() - t->body_offset);
  std::memcpy(buffer, body.data() + t->body_offset, n);
  t->body_offset += n;
  return n;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);

  // A successful body goes to the file when one was asked for.
  if (status >= 200 && status < 300 && !t->request->response_file.empty()) {
    if (!t->response_file) {
      t->response_file.reset(std::fopen(t->request->response_file.c_str(), "wb"));
      if (!t->response_file) {
        t->local_error =
            "cannot create " + t->request->response_file.string() + ": " + std::strerror(errno);
        return 0;
      }
    }
    if (std::fwrite(data, 1, n, t->response_file.get()) != n) {
      t->local_error =
          "cannot write " + t->request->response_file.string() + ": " + std::strerror(errno);
      return 0;
    }
    t->response->response_file_bytes += n;
    return n;
  }

  // Otherwise keep it in memory (bounded).
  const size_t keep =
      std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, t->response->body.size()));
  t->response->body.append(data, keep);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);

  // A new status line (after 100 Continue or a redirect) starts a new header set.
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

// The NO_PROXY list: the user's own plus loopback and the metadata hosts.
std::string NoProxyList() {
  std::string list(kNoProxyHosts);
  for (const char* name : {"NO_PROXY", "no_proxy"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      list += ",";
      list += value;
    }
  }
  return list;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

Result<HttpResponse> SendHttp(const HttpRequest& request) {
  InitCurlOnce();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Failure{FailureKind::kInvalid, "cannot create a libcurl handle", false};
  HttpResponse response;
  Transfer transfer;
  transfer.curl = curl.get();
  transfer.request = &request;
  transfer.response = &response;
  CURL* h = curl.get();

  // Target, timeouts, proxy exceptions; redirects are not followed (S3 redirects are errors).
  const std::string no_proxy = NoProxyList();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.stall_timeout.count()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "rlpipe-storage/0.1");

  // Headers: exactly the ones given, without "Expect: 100-continue".
  curl_slist* raw_headers = curl_slist_append(nullptr, "Expect:");
  for (const auto& [name, value] : request.headers) {
    raw_headers = curl_slist_append(raw_headers, (name + ": " + value).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  // Method and body.
  const bool has_body = request.body_file.has_value() || !request.body.empty() ||
                        request.method == "PUT" || request.method == "POST";
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    std::uint64_t size = request.body.size();
    if (request.body_file) {
      transfer.body_file.reset(std::fopen(request.body_file->path.c_str(), "rb"));
      if (!transfer.body_file ||
          fseeko(transfer.body_file.get(), static_cast<off_t>(request.body_file->offset),
                 SEEK_SET) != 0) {
        return Failure{
            FailureKind::kInvalid,
            "cannot read " + request.body_file->path.string() + ": " + std::strerror(errno), false};
      }
      size = request.body_file->length;
      transfer.body_remaining = size;
    }
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    if (request.method != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);

  // Perform; a local file problem is not retryable, a transport problem is.
  const CURLcode code = curl_easy_perform(h);
  if (!transfer.local_error.empty()) {
    return Failure{FailureKind::kInvalid, transfer.local_error, false};
  }
  if (code != CURLE_OK) {
    return Failure{FailureKind::kConnection,
                   std::string(curl_easy_strerror(code)) + " (" + request.method + " " +
                       request.url.substr(0, request.url.find('?')) + ")",
                   true};
  }

  // Flush the downloaded file; an empty 2xx body still creates it.
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  if (response.status >= 200 && response.status < 300 && !request.response_file.empty()) {
    if (!transfer.response_file) {
      transfer.response_file.reset(std::fopen(request.response_file.c_str(), "wb"));
    }
    if (!transfer.response_file || std::fflush(transfer.response_file.get()) != 0 ||
        fsync(fileno(transfer.response_file.get())) != 0) {
      return Failure{FailureKind::kInvalid,
                     "cannot write " + request.response_file.string() + ": " + std::strerror(errno),
                     false};
    }
  }
  return response;
}

}  // namespace rlpipe
