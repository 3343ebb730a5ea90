// stream-bench: live updates through the gateway, measured from the client side.
//
//   stream-bench PORT WATCHERS RATE SECONDS GATEWAY_PID
//
// Opens WATCHERS Server-Sent Events streams of one prefix (GET /api/data:watch?prefix=bench/),
// waits until each has its first event, then
//   1. a paced phase: PUT /api/data/bench/k at RATE per second for SECONDS; for every event a
//      watcher receives, the time from that write's acknowledgement (the PUT's 200) to the event;
//   2. a burst phase: PUTs back to back for SECONDS; events delivered per second over all
//      watchers.
// and reads the gateway's RSS (/proc/GATEWAY_PID/status) before the streams, with them open, and
// at the end. Prints one JSON object. Watchers run on one thread, the writer on another, each with
// its own io_context; timestamps are steady_clock, so they compare across the two.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

long RssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// The "version":"N" of a data item in JSON text; -1 when absent.
long VersionIn(std::string_view text) {
  const auto at = text.find("\"version\":\"");
  if (at == std::string_view::npos) return -1;
  return std::atol(std::string(text.substr(at + 11, 20)).c_str());
}

std::atomic<long> g_put_events{0};  // over all watchers; read by the main thread

struct Arrival {
  long version;
  Clock::time_point at;
};

// One SSE stream: raw bytes -> chunked decoding -> events.
class Watcher {
 public:
  Watcher(asio::io_context& io, std::vector<Arrival>& arrivals)
      : socket_(io), arrivals_(arrivals) {}

  asio::awaitable<void> Run(tcp::endpoint endpoint, std::atomic<int>& synced) {
    co_await socket_.async_connect(endpoint, asio::use_awaitable);
    const std::string request =
        "GET /api/data:watch?prefix=bench/ HTTP/1.1\r\nHost: bench\r\n"
        "Accept: text/event-stream\r\n\r\n";
    co_await asio::async_write(socket_, asio::buffer(request), asio::use_awaitable);
    char buffer[16384];
    for (;;) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer),
                                                      asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      const auto now = Clock::now();
      raw_.append(buffer, n);
      Decode(now, synced);
    }
    closed = true;
  }

  bool closed = false;
  bool got_first = false;
  long events = 0;

 private:
  void Decode(Clock::time_point now, std::atomic<int>& synced) {
    if (!header_done_) {
      const auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      raw_.erase(0, end + 4);
      header_done_ = true;
    }
    std::size_t pos = 0;
    for (;;) {
      if (chunk_left_ == 0) {
        const auto end = raw_.find("\r\n", pos);
        if (end == std::string::npos) break;
        if (end == pos) {  // the CRLF closing the previous chunk
          pos = end + 2;
          continue;
        }
        chunk_left_ = std::strtoul(raw_.substr(pos, end - pos).c_str(), nullptr, 16);
        pos = end + 2;
        if (chunk_left_ == 0) break;
      }
      const std::size_t take = std::min(chunk_left_, raw_.size() - pos);
      if (take == 0) break;
      text_.append(raw_, pos, take);
      pos += take;
      chunk_left_ -= take;
    }
    raw_.erase(0, pos);
    for (;;) {
      const auto end = text_.find("\n\n");
      if (end == std::string::npos) break;
      const std::string_view block(text_.data(), end);
      if (block.find("event: put") != std::string_view::npos) {
        arrivals_.push_back({VersionIn(block), now});
        ++events;
        g_put_events.fetch_add(1, std::memory_order_relaxed);
      } else if (!got_first && block.find("event: synced") != std::string_view::npos) {
        got_first = true;
        synced.fetch_add(1);
      }
      text_.erase(0, end + 2);
    }
  }

  tcp::socket socket_;
  std::vector<Arrival>& arrivals_;
  std::string raw_;
  std::string text_;
  std::size_t chunk_left_ = 0;
  bool header_done_ = false;
};

struct Ack {
  Clock::time_point sent;
  Clock::time_point acked;
};

// PUTs on one keep-alive connection; acks[version] = when it was sent and acknowledged.
asio::awaitable<void> Write(tcp::endpoint endpoint, double rate, Clock::time_point end,
                            std::vector<Ack>& acks, std::mutex& mutex, long& failures) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  co_await stream.async_connect(endpoint, asio::use_awaitable);
  beast::flat_buffer buffer;
  asio::steady_timer pace(co_await asio::this_coro::executor);
  auto next = Clock::now();
  for (long n = 0; Clock::now() < end; ++n) {
    http::request<http::string_body> request{http::verb::put, "/api/data/bench/k", 11};
    request.set(http::field::host, "bench");
    request.set(http::field::content_type, "application/json");
    request.body() = "{\"value\":\"" + std::to_string(n) + "\"}";
    request.prepare_payload();
    const auto sent = Clock::now();
    co_await http::async_write(stream, request, asio::use_awaitable);
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    const auto acked = Clock::now();
    const long version = VersionIn(response.body());
    if (response.result_int() != 200 || version < 0) {
      ++failures;
    } else {
      std::lock_guard lock(mutex);
      if (static_cast<std::size_t>(version) >= acks.size()) acks.resize(version + 1);
      acks[version] = {sent, acked};
    }
    if (rate > 0) {
      next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / rate));
      pace.expires_at(next);
      co_await pace.async_wait(asio::use_awaitable);
    }
  }
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: stream-bench PORT WATCHERS RATE SECONDS GATEWAY_PID\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const int watchers = std::atoi(argv[2]);
  const double rate = std::atof(argv[3]);
  const int seconds = std::atoi(argv[4]);
  const int pid = std::atoi(argv[5]);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);

  const long rss_before = RssKb(pid);
  asio::io_context watch_io(1);
  std::vector<Arrival> arrivals;
  arrivals.reserve(static_cast<std::size_t>(watchers) * static_cast<std::size_t>(rate + 1) *
                   static_cast<std::size_t>(seconds) * 2);
  std::vector<std::unique_ptr<Watcher>> all;
  std::atomic<int> synced{0};
  for (int i = 0; i < watchers; ++i) {
    all.push_back(std::make_unique<Watcher>(watch_io, arrivals));
    asio::co_spawn(watch_io, all.back()->Run(endpoint, synced), asio::detached);
  }
  std::thread watch_thread([&] { watch_io.run(); });
  const auto connect_deadline = Clock::now() + std::chrono::seconds(60);
  while (synced.load() < watchers && Clock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a driver, not a service
  }
  if (synced.load() < watchers) {
    std::fprintf(stderr, "only %d of %d streams started\n", synced.load(), watchers);
    std::_Exit(1);
  }
  const long rss_open = RssKb(pid);

  const auto phase = [&](double phase_rate, std::vector<Ack>& acks, long& failures) {
    std::mutex mutex;
    asio::io_context write_io(1);
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    asio::co_spawn(write_io, Write(endpoint, phase_rate, end, acks, mutex, failures),
                   asio::detached);
    write_io.run();
  };

  // 1. Paced: latency from acknowledgement to event.
  std::vector<Ack> paced_acks;
  long failures = 0;
  const std::size_t first_paced = 0;
  phase(rate, paced_acks, failures);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the last events arrive
  watch_io.stop();
  watch_thread.join();
  std::vector<double> ack_to_event_ms;
  std::vector<double> send_to_event_ms;
  long before_ack = 0;
  for (std::size_t i = first_paced; i < arrivals.size(); ++i) {
    const Arrival& a = arrivals[i];
    if (a.version < 0 || static_cast<std::size_t>(a.version) >= paced_acks.size()) continue;
    const Ack& ack = paced_acks[a.version];
    if (ack.acked == Clock::time_point()) continue;
    const double from_ack = std::chrono::duration<double, std::milli>(a.at - ack.acked).count();
    if (from_ack < 0) ++before_ack;
    ack_to_event_ms.push_back(std::max(0.0, from_ack));
    send_to_event_ms.push_back(std::chrono::duration<double, std::milli>(a.at - ack.sent).count());
  }
  const std::size_t paced_events = arrivals.size();
  long writes = 0;
  for (const Ack& ack : paced_acks) writes += ack.acked != Clock::time_point() ? 1 : 0;

  // 2. Burst: writes back to back, events delivered per second.
  arrivals.clear();
  g_put_events.store(0);
  watch_io.restart();
  std::thread burst_thread([&] { watch_io.run(); });
  std::vector<Ack> burst_acks;
  long burst_failures = 0;
  const auto burst_start = Clock::now();
  phase(0, burst_acks, burst_failures);
  long burst_writes = 0;
  for (const Ack& ack : burst_acks) burst_writes += ack.acked != Clock::time_point() ? 1 : 0;
  const long expected = burst_writes * watchers;
  const auto drain_deadline = Clock::now() + std::chrono::seconds(30);
  while (g_put_events.load() < expected && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double burst_seconds = std::chrono::duration<double>(Clock::now() - burst_start).count();
  const long rss_end = RssKb(pid);
  watch_io.stop();
  burst_thread.join();
  const std::size_t burst_events = arrivals.size();
  int closed = 0;
  for (const auto& w : all) closed += w->closed ? 1 : 0;

  std::printf(
      "{\"watchers\":%d,\"rate\":%.0f,\"seconds\":%d,\"paced_writes\":%ld,\"paced_events\":%zu,"
      "\"expected_paced_events\":%ld,\"write_failures\":%ld,"
      "\"ack_to_event_ms_p50\":%.2f,\"ack_to_event_ms_p99\":%.2f,\"ack_to_event_ms_max\":%.2f,"
      "\"events_before_ack\":%ld,\"send_to_event_ms_p50\":%.2f,\"send_to_event_ms_p99\":%.2f,"
      "\"burst_writes\":%ld,\"burst_events\":%zu,\"burst_events_per_second\":%.0f,"
      "\"rss_kb_before\":%ld,\"rss_kb_open\":%ld,\"rss_kb_end\":%ld,"
      "\"rss_kb_per_stream\":%.1f,\"streams_closed\":%d}\n",
      watchers, rate, seconds, writes, paced_events, writes * watchers, failures + burst_failures,
      Percentile(ack_to_event_ms, 50), Percentile(ack_to_event_ms, 99),
      Percentile(ack_to_event_ms, 100), before_ack, Percentile(send_to_event_ms, 50),
      Percentile(send_to_event_ms, 99), burst_writes, burst_events,
      static_cast<double>(burst_events) / burst_seconds, rss_before, rss_open, rss_end,
      static_cast<double>(rss_open - rss_before) / watchers, closed);
  std::fflush(stdout);
  std::_Exit(0);  // the watchers' sockets and coroutines are not worth an orderly teardown
}
