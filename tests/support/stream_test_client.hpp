#pragma once

// A blocking client for a streamed HTTP response (SSE or NDJSON) for tests: sends one GET, reads
// the header, then the chunked body as it arrives. Every read is bounded by a receive timeout
// on the socket, so a test that waits for an event that never comes fails instead of hanging.

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace switchyard::testing {

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
  bool has_id = false;
};

class StreamTestClient {
 public:
  // Connects to 127.0.0.1:port and sends GET `target` with `headers`; reads the response header
  // (or a whole non-streamed response). A `receive_buffer` above 0 sets SO_RCVBUF first (a
  // client that stops reading then holds the sender back sooner).
  StreamTestClient(unsigned short port, const std::string& target,
                   const std::map<std::string, std::string>& headers = {},
                   std::chrono::milliseconds read_timeout = std::chrono::seconds(10),
                   int receive_buffer = 0)
      : socket_(io_) {
    namespace http = boost::beast::http;
    socket_.open(boost::asio::ip::tcp::v4());
    if (receive_buffer > 0) {
      ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                   sizeof receive_buffer);
    }
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(read_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((read_timeout.count() % 1000) * 1000);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    http::write(socket_, request);
    parser_.body_limit(256 * 1024 * 1024);
    boost::system::error_code ec;
    http::read_header(socket_, buffer_, parser_, ec);
    if (ec) return;
    status_ = parser_.get().result_int();
    for (const auto& field : parser_.get()) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers_[name] = std::string(field.value());
    }
  }

  unsigned status() const { return status_; }
  std::string Header(const std::string& name) const {
    const auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }

  // Reads more of the body into the pending text; false when the body has ended (or the read
  // failed or timed out).
  bool ReadMore() {
    namespace http = boost::beast::http;
    if (parser_.is_done()) return false;
    boost::system::error_code ec;
    http::read_some(socket_, buffer_, parser_, ec);
    text_ += parser_.get().body();
    parser_.get().body().clear();
    return !ec || ec == http::error::end_of_chunk;
  }

  // The next SSE event; nullopt when the body ends (or a read times out) first. Comments
  // (":keepalive") are counted in comments() and skipped.
  std::optional<SseEvent> NextEvent() {
    for (;;) {
      const auto end = text_.find("\n\n");
      if (end != std::string::npos) {
        const std::string block = text_.substr(0, end);
        text_.erase(0, end + 2);
        SseEvent event;
        bool any = false;
        std::size_t start = 0;
        while (start <= block.size()) {
          std::size_t stop = block.find('\n', start);
          if (stop == std::string::npos) stop = block.size();
          const std::string line = block.substr(start, stop - start);
          start = stop + 1;
          if (line.empty()) continue;
          if (line[0] == ':') {
            ++comments_;
            continue;
          }
          const auto colon = line.find(':');
          const std::string field = line.substr(0, colon);
          std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
          if (!value.empty() && value[0] == ' ') value.erase(0, 1);
          any = true;
          if (field == "id") {
            event.id = value;
            event.has_id = true;
          } else if (field == "event") {
            event.event = value;
          } else if (field == "data") {
            event.data += value;
          }
        }
        if (any) return event;
        continue;
      }
      if (!ReadMore()) return std::nullopt;
    }
  }

  // The next NDJSON line; nullopt when the body ends (or a read times out) first.
  std::optional<std::string> NextLine() {
    for (;;) {
      const auto end = text_.find('\n');
      if (end != std::string::npos) {
        std::string line = text_.substr(0, end);
        text_.erase(0, end + 1);
        return line;
      }
      if (!ReadMore()) return std::nullopt;
    }
  }

  // True once the chunked body has ended (after reading what remains).
  bool Ended() {
    while (ReadMore()) {
    }
    return parser_.is_done();
  }

  // The body so far that no NextEvent/NextLine has taken.
  const std::string& pending() const { return text_; }
  int comments() const { return comments_; }
  void Close() {
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::response_parser<boost::beast::http::string_body> parser_;
  unsigned status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string text_;
  int comments_ = 0;
};

}  // namespace switchyard::testing
