#include "gateway/http/http_server.hpp"

#include <condition_variable>
#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "common/service/config.hpp"

namespace switchyard::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxDrainBytes = 4 * 1024 * 1024;

// Reads a request's header block into `parser`, at most `limit` bytes of it in total
// (http::error::header_limit past that). Beast 1.81 applies a parser's header_limit to each parse
// step rather than to the whole block, so a block of many small fields arriving in pieces got
// through at up to about twice the limit; here every step gets only what is left of the budget.
// Errors as http::async_read_header reports them.
asio::awaitable<boost::system::error_code> ReadHeader(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser, std::size_t limit) {
  std::size_t used_total = 0;
  for (;;) {
    boost::system::error_code ec;
    parser.header_limit(static_cast<std::uint32_t>(limit - used_total));
    const std::size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    used_total += used;
    // One step may parse the start line and fields each up to the budget: check the total.
    if (used_total > limit && (!ec || ec == http::error::need_more)) {
      co_return http::error::header_limit;
    }
    if (ec != http::error::need_more) co_return ec;
    if (used_total == limit) co_return http::error::header_limit;
    auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
    if (read_ec == asio::error::eof) {
      if (!parser.got_some()) co_return http::error::end_of_stream;
      parser.put_eof(ec);
      co_return ec;
    }
    if (read_ec) co_return read_ec;
    buffer.commit(n);
  }
}

}  // namespace

// ResponseStream on one connection: chunks written through the Beast stream (with the write
// timeout), and a read on the raw socket that notices the client closing its end.
class HttpServer::Streamer final : public ResponseStream {
 public:
  Streamer(beast::tcp_stream& stream, std::chrono::milliseconds write_timeout)
      : stream_(stream), write_timeout_(write_timeout), watch_done_(stream.get_executor()) {}

  asio::awaitable<bool> Start(HttpResponse& header, std::function<void()> on_client_gone) override {
    if (started_) co_return false;
    started_ = true;
    http::response<http::empty_body> head{http::response_header<>(header.base())};
    head.chunked(true);
    head.keep_alive(false);
    http::response_serializer<http::empty_body> serializer{head};
    stream_.expires_after(write_timeout_);
    auto [ec, n] = co_await http::async_write_header(stream_, serializer, kTuple);
    if (ec) {
      failed_ = true;
      co_return false;
    }
    watching_ = true;
    watch_done_.expires_at(asio::steady_timer::time_point::max());
    asio::co_spawn(stream_.get_executor(), Watch(std::move(on_client_gone)), asio::detached);
    co_return true;
  }

  asio::awaitable<bool> Write(std::string_view data) override {
    if (!started_ || failed_ || finished_) co_return false;
    if (data.empty()) co_return true;
    stream_.expires_after(write_timeout_);
    auto [ec, n] =
        co_await asio::async_write(stream_, http::make_chunk(asio::buffer(data)), kTuple);
    if (ec) failed_ = true;
    co_return !ec;
  }

  asio::awaitable<void> Finish() override {
    if (!started_ || finished_) co_return;
    finished_ = true;
    if (!failed_) {
      stream_.expires_after(write_timeout_);
      co_await asio::async_write(stream_, http::make_chunk_last(), kTuple);
    }
    // Ends the watch: shutting our side down makes a well-behaved client close its side; the
    // cancel ends the read if it does not.
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (watching_) {
      stream_.socket().cancel(ec);
      co_await watch_done_.async_wait(kTuple);
    }
  }

  bool started() const override { return started_; }

 private:
  asio::awaitable<void> Watch(std::function<void()> on_client_gone) {
    // The client sends nothing more on a streamed response: any read completing, with data or
    // an error (EOF, reset, cancelled by Finish), is taken as the end of the connection.
    char scratch[512];
    co_await stream_.socket().async_read_some(asio::buffer(scratch), kTuple);
    watching_ = false;
    if (!finished_ && on_client_gone) on_client_gone();
    watch_done_.cancel();
  }

  beast::tcp_stream& stream_;
  std::chrono::milliseconds write_timeout_;
  asio::steady_timer watch_done_;
  bool started_ = false;
  bool failed_ = false;
  bool finished_ = false;
  bool watching_ = false;
};

// A connection's entry in its shard's registry, so Stop can find idle and busy connections.
class HttpServer::Session {
 public:
  beast::tcp_stream* stream = nullptr;
  bool busy = false;
};

struct HttpServer::ShardState {
  std::list<Session*> sessions;  // the shard's io thread only
};

namespace {

// Wakes Stop() whenever a connection finishes a request or closes.
std::mutex g_progress_mutex;
std::condition_variable g_progress;

void NotifyProgress() {
  std::lock_guard lock(g_progress_mutex);
  g_progress.notify_all();
}

// Runs `fn` on `io` and waits for it.
template <class Fn>
void RunOn(asio::io_context& io, Fn fn) {
  std::promise<void> done;
  asio::post(io, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace

HttpServer::HttpServer(rpc::Runtime& runtime, HttpServerOptions options, HttpHandler handler,
                       HttpErrorResponder error_responder, Logger& logger)
    : runtime_(runtime),
      options_(std::move(options)),
      handler_(std::move(handler)),
      error_responder_(std::move(error_responder)),
      logger_(logger) {
  for (std::size_t i = 0; i < runtime_.size(); ++i) {
    shards_.push_back(std::make_unique<ShardState>());
  }
}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

absl::Status HttpServer::Start() {
  std::string host;
  int port = 0;
  if (!SplitHostPort(options_.listen_address, host, port)) {
    return absl::InvalidArgumentError("listen address '" + options_.listen_address +
                                      "' is not host:port");
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError("listen host '" + host + "' is not an IP address");
  }
  acceptor_ = std::make_unique<tcp::acceptor>(runtime_.shard(0).io);
  const tcp::endpoint endpoint(address, static_cast<std::uint16_t>(port));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.reset();
    return absl::UnavailableError("cannot listen on " + options_.listen_address + ": " +
                                  ec.message());
  }
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(runtime_.shard(0).io, AcceptLoop(), asio::detached);
  logger_.Info("http server listening",
               {{"address", options_.listen_address}, {"port", static_cast<int>(port_)}});
  return absl::OkStatus();
}

asio::awaitable<void> HttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    const std::size_t shard = next_shard_.fetch_add(1) % runtime_.size();
    auto [ec, socket] = co_await acceptor_->async_accept(runtime_.shard(shard).io, kTuple);
    if (ec == asio::error::operation_aborted || stopping_.load()) break;
    if (ec) {
      // Out of descriptors or a similar passing condition: back off instead of spinning.
      logger_.Warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(runtime_.shard(shard).io, RunSession(std::move(socket), shard), asio::detached);
  }
}

asio::awaitable<void> HttpServer::RunSession(tcp::socket socket, std::size_t shard) {
  open_connections_++;
  RequestInfo info;
  info.shard = shard;
  {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (!ec) info.peer = remote.address().to_string();
  }
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  Session session;
  session.stream = &stream;
  auto& registry = shards_[shard]->sessions;
  const auto entry = registry.insert(registry.end(), &session);

  bool counted_busy = false;
  const auto set_busy = [&](bool busy) {
    session.busy = busy;
    if (busy && !counted_busy) busy_connections_++;
    if (!busy && counted_busy) busy_connections_--;
    counted_busy = busy;
    if (!busy) NotifyProgress();
  };

  // Writes a response the server makes itself, then closes the connection gracefully: the
  // client's unread bytes are drained for a moment so it sees the answer, not a reset.
  const auto reject = [&](unsigned status, std::string_view message,
                          const HttpRequest* request) -> asio::awaitable<void> {
    HttpResponse response = error_responder_(status, message, request);
    response.keep_alive(false);
    response.prepare_payload();
    stream.expires_after(options_.write_timeout);
    co_await http::async_write(stream, response, kTuple);
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::size_t drained = 0;
    stream.expires_after(std::chrono::seconds(1));
    while (drained < kMaxDrainBytes) {
      buffer.consume(buffer.size());
      auto [read_ec, n] = co_await stream.async_read_some(buffer.prepare(16 * 1024), kTuple);
      if (read_ec) break;
      drained += n;
    }
  };

  while (!stopping_.load()) {
    set_busy(false);
    if (buffer.size() == 0) {
      stream.expires_after(options_.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
      if (ec) break;
      buffer.commit(n);
    }
    set_busy(true);

    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    stream.expires_after(options_.header_timeout);
    const auto header_ec = co_await ReadHeader(stream, buffer, parser, options_.header_limit);
    if (header_ec == http::error::header_limit) {
      co_await reject(
          431,
          "request headers are larger than " + std::to_string(options_.header_limit) + " bytes",
          nullptr);
      break;
    }
    if (header_ec == http::error::body_limit) {  // Content-Length alone is over the limit
      co_await reject(
          413, "request body is larger than " + std::to_string(options_.body_limit) + " bytes",
          nullptr);
      break;
    }
    if (header_ec == beast::error::timeout || header_ec == http::error::end_of_stream ||
        header_ec == asio::error::eof || header_ec == asio::error::connection_reset ||
        header_ec == asio::error::operation_aborted) {
      break;
    }
    if (header_ec) {
      co_await reject(400, "malformed HTTP request: " + header_ec.message(), nullptr);
      break;
    }
    const auto& header = parser.get();
    if (static_cast<std::size_t>(std::distance(header.begin(), header.end())) >
        options_.header_count_limit) {
      co_await reject(
          431,
          "request has more than " + std::to_string(options_.header_count_limit) + " header lines",
          nullptr);
      break;
    }
    if (const auto length = parser.content_length(); length && *length > options_.body_limit) {
      co_await reject(
          413, "request body is larger than " + std::to_string(options_.body_limit) + " bytes",
          nullptr);
      break;
    }
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream.expires_after(options_.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
      if (ec) break;
    }
    stream.expires_after(options_.body_timeout);
    auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (body_ec == http::error::body_limit) {
      co_await reject(
          413, "request body is larger than " + std::to_string(options_.body_limit) + " bytes",
          nullptr);
      break;
    }
    if (body_ec) {
      if (body_ec != beast::error::timeout && body_ec != asio::error::eof &&
          body_ec != http::error::partial_message && body_ec != asio::error::connection_reset &&
          body_ec != asio::error::operation_aborted) {
        co_await reject(400, "malformed HTTP request body: " + body_ec.message(), nullptr);
      }
      break;
    }

    HttpRequest request = parser.release();
    HttpResponse response;
    Streamer streamer(stream, options_.write_timeout);
    info.stream = &streamer;
    try {
      response = co_await handler_(request, info);
    } catch (const std::exception& e) {
      logger_.Error("http handler failed", {{"error", e.what()}});
      response = error_responder_(500, "internal error", &request);
    }
    info.stream = nullptr;
    if (streamer.started()) {
      co_await streamer.Finish();  // if the handler has not
      break;                       // a streamed response ends its connection
    }
    response.version(request.version());
    response.keep_alive(request.keep_alive() && !stopping_.load());
    response.prepare_payload();
    stream.expires_after(options_.write_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, response, kTuple);
    if (write_ec || !response.keep_alive()) break;
  }

  set_busy(false);
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
  registry.erase(entry);
  open_connections_--;
  NotifyProgress();
}

void HttpServer::Stop(std::chrono::milliseconds grace, const std::function<void()>& after_close) {
  if (stopped_ || !acceptor_) return;
  stopped_ = true;
  stopping_.store(true);
  RunOn(runtime_.shard(0).io, [this] {
    boost::system::error_code ec;
    acceptor_->close(ec);
  });
  // Idle keep-alive connections close now; busy ones finish their request first.
  const auto close_sessions = [this](bool idle_only) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      RunOn(runtime_.shard(i).io, [this, i, idle_only] {
        for (Session* session : shards_[i]->sessions) {
          if (!idle_only || !session->busy) session->stream->cancel();
        }
      });
    }
  };
  close_sessions(true);
  if (after_close) after_close();
  {
    std::unique_lock lock(g_progress_mutex);
    g_progress.wait_for(lock, grace, [this] { return busy_connections_.load() == 0; });
  }
  const std::size_t left_busy = busy_connections_.load();
  close_sessions(false);
  {
    std::unique_lock lock(g_progress_mutex);
    g_progress.wait_for(lock, std::chrono::seconds(5),
                        [this] { return open_connections_.load() == 0; });
  }
  logger_.Info("http server stopped", {{"cut_short", static_cast<std::int64_t>(left_busy)}});
}

}  // namespace switchyard::gateway
