#pragma once
/// Test-only: a loopback HTTP/1.1 server on a free port whose answers a test scripts. Each
/// connection carries one request ("Connection: close").
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rlpipe::testing {

/// A request as received; header names lower-case.
struct FakeRequest {
  std::string method;
  std::string target;  ///< Path and query, as sent.
  std::map<std::string, std::string> headers;
  std::string body;

  std::string Path() const { return target.substr(0, target.find('?')); }
  std::string Query() const {
    const size_t q = target.find('?');
    return q == std::string::npos ? "" : target.substr(q + 1);
  }
};

/// What to answer.
struct FakeResponse {
  int status = 200;
  std::map<std::string, std::string> headers{};
  std::string body{};
  /// Close the connection after reading the headers, without answering (a server that dies
  /// mid-request).
  bool drop_connection = false;
};

/// Listens on 127.0.0.1:<free port> until destroyed or Stop()ped.
class FakeHttpServer {
 public:
  /// Decides the answer from the request line and headers (the body is read afterwards and is
  /// visible in requests()).
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Every request received so far.
  std::vector<FakeRequest> requests() const;
  /// Closes the listening socket: later connections are refused.
  void Stop();

 private:
  void Serve();
  void HandleConnection(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<FakeRequest> requests_;
  std::thread thread_;
};

/// A loopback port that is free right now (bind to port 0, read it, close).
int FreeLoopbackPort();

}  // namespace rlpipe::testing
