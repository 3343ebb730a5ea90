#pragma once

// HTTP/1.1 server on Boost.Beast coroutines: one acceptor, connections spread over the runtime's
// shards, keep-alive with requests answered in order, and the limits a public edge needs (header
// size and line count, body size, header-read and idle timeouts). Requests go to one handler
// coroutine, which answers with a whole response or streams one (ResponseStream).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"

namespace switchyard::gateway {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpServerOptions {
  std::string listen_address = "0.0.0.0:8080";      // port 0 picks a free one (tests)
  std::size_t body_limit = 1024 * 1024;             // 413 past it, before reading it all
  std::size_t header_limit = 16 * 1024;             // 431 past it
  std::size_t header_count_limit = 100;             // header lines; 431 past it (Envoy's default)
  std::chrono::milliseconds header_timeout{10000};  // from a request's first byte to its body
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
};

class ResponseStream;

struct RequestInfo {
  std::string peer;       // client address, for X-Forwarded-For
  std::size_t shard = 0;  // runtime shard running the handler
  // For a response written as it goes; valid during the handler call (see ResponseStream).
  ResponseStream* stream = nullptr;
};

// A response whose body the handler writes piece by piece (Transfer-Encoding: chunked), for
// streams (Server-Sent Events, NDJSON). Once Start has been called, the server ignores what the
// handler returns and closes the connection after the stream. Everything on the connection's
// loop thread.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends `header` (its body is ignored) as the start of a chunked response. From then on the
  // server watches the connection: when the client closes it, `on_client_gone` runs (once, on
  // the loop thread). False when the header could not be written.
  virtual boost::asio::awaitable<bool> Start(HttpResponse& header,
                                             std::function<void()> on_client_gone) = 0;
  // One chunk; false once the client is gone or the write timed out.
  virtual boost::asio::awaitable<bool> Write(std::string_view data) = 0;
  // The last chunk (if the connection still works), then stops watching the connection.
  virtual boost::asio::awaitable<void> Finish() = 0;
  virtual bool started() const = 0;
};

using HttpHandler =
    std::function<boost::asio::awaitable<HttpResponse>(HttpRequest&, const RequestInfo&)>;

// Builds an error response of the server's own (413, 431, 400 for unparseable requests).
using HttpErrorResponder =
    std::function<HttpResponse(unsigned status, std::string_view message, const HttpRequest*)>;

class HttpServer {
 public:
  HttpServer(rpc::Runtime& runtime, HttpServerOptions options, HttpHandler handler,
             HttpErrorResponder error_responder, Logger& logger);
  ~HttpServer();

  // Binds the listen address and starts accepting. One clear reason when it cannot bind.
  absl::Status Start();
  std::uint16_t port() const { return port_; }

  // Graceful stop: no new connections; idle keep-alive connections close; `after_close` runs
  // (to end streams); requests being handled get up to `grace` to finish (their responses say
  // Connection: close); then every connection is closed. Blocks until done. Idempotent.
  void Stop(std::chrono::milliseconds grace, const std::function<void()>& after_close = {});

  std::size_t open_connections() const { return open_connections_.load(); }

 private:
  class Session;
  class Streamer;
  struct ShardState;

  boost::asio::awaitable<void> AcceptLoop();
  boost::asio::awaitable<void> RunSession(boost::asio::ip::tcp::socket socket, std::size_t shard);

  rpc::Runtime& runtime_;
  HttpServerOptions options_;
  HttpHandler handler_;
  HttpErrorResponder error_responder_;
  Logger& logger_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::unique_ptr<ShardState>> shards_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_connections_{0};
  std::atomic<std::size_t> busy_connections_{0};
  std::atomic<std::size_t> next_shard_{0};
  bool stopped_ = false;
};

}  // namespace switchyard::gateway
