// RestHandler's streaming routes: a server-streaming call relayed as Server-Sent Events or
// newline-delimited JSON (framing in stream_framing.hpp).
//
// An UpstreamWatch is one upstream call and a log of the messages it has read, each transcoded
// once into its SSE and its NDJSON frame. One or more streams (a StreamState each, one per HTTP
// response) read the log, each from its own cursor. On a route whose http_stream option is
// `shared`, a stream of a shard joins the call another stream of that shard opened for the same
// request (same request bytes, same Authorization, no resume position) while the call still has
// every message it read (the log has not dropped one); any other stream gets a call of its own.
//
// Coroutines, all on the shard's loop (no locks):
//   - the call's reader takes the messages off the call as they come and appends them to the log.
//     The log holds at most kMaxQueued messages that some stream has not written; when it is full
//     the reader waits, so slow clients slow the call through gRPC's flow control instead of
//     growing memory. If it stays full for kLaggardGrace while some streams are ahead, the
//     streams still at its oldest message are ended (an error event: resume with Last-Event-ID),
//     so one slow client does not hold the others back;
//   - each stream's writer (the handler) writes the frames past its cursor, keepalive comments
//     while idle, and the final event, and decides when its stream ends: the call ended, the
//     client went away (the server's ResponseStream reports it), the gateway is shutting down
//     (EndStreams), the stream's idle or maximum duration passed, or it fell behind.
// The last stream to leave a call cancels it at once (ClientContext::TryCancel) and waits for the
// reader to let go of it.

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include "gateway/json/json_codec.hpp"
#include "gateway/routing/field_binding.hpp"
#include "gateway/routing/http_mapping.hpp"
#include "gateway/routing/rest_handler.hpp"
#include "gateway/routing/stream_framing.hpp"

namespace switchyard::gateway {

namespace http = boost::beast::http;
using google::protobuf::Message;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
// Messages read from the upstream and not yet written by every stream on the call.
constexpr std::size_t kMaxQueued = 64;
// How long a full log waits for its slowest streams before it ends them (when others are ahead).
constexpr auto kLaggardGrace = std::chrono::seconds(2);
// The upstream call outlives the stream's own limit by this much, so the gateway, not the
// deadline, ends a healthy stream (with its final event).
constexpr auto kDeadlineSlack = std::chrono::seconds(30);

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

void Wake(boost::asio::steady_timer& timer) { timer.cancel(); }

}  // namespace

struct RestHandler::StreamState {
  explicit StreamState(boost::asio::any_io_executor executor) : wake(executor) {}
  std::shared_ptr<UpstreamWatch> watch;
  std::uint64_t cursor = 0;  // the next message of the watch's log to write
  bool client_gone = false;
  bool ending = false;             // EndStreams
  bool fell_behind = false;        // ended by the reader: it held the other streams back
  boost::asio::steady_timer wake;  // the writer waits on it
};

struct RestHandler::UpstreamWatch {
  UpstreamWatch(boost::asio::any_io_executor executor, const RouteTarget& target,
                prometheus::Gauge& open_calls)
      : route(target), calls_open(open_calls), space(executor) {}
  struct Frames {
    std::string sse;
    std::string ndjson;
  };
  const RouteTarget& route;
  prometheus::Gauge& calls_open;
  // While the watch can be joined: its key in `listing` (the shard's joinable_watches_).
  std::string key;
  std::unordered_map<std::string, std::shared_ptr<UpstreamWatch>>* listing = nullptr;
  grpc::ClientContext context;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call;
  std::deque<Frames> log;
  std::uint64_t log_start = 0;        // the index of log.front() among the messages read
  std::vector<StreamState*> streams;  // the streams reading the log
  StreamState* last_out = nullptr;    // the stream that left last, waiting for the reader
  grpc::Status status;                // once upstream_done
  bool upstream_done = false;         // the call has finished (status is set)
  bool reader_done = false;           // the reader coroutine has returned
  bool stop_reading = false;          // every stream has left: read nothing more
  bool waiting_for_space = false;     // the reader waits for streams to move on
  boost::asio::steady_timer space;    // the reader waits on it while the log is full

  std::uint64_t end() const { return log_start + log.size(); }
  bool joinable() const { return listing != nullptr && log_start == 0 && !upstream_done; }

  // No stream joins it from now on.
  void Unlist() {
    if (listing == nullptr) return;
    if (auto it = listing->find(key); it != listing->end() && it->second.get() == this) {
      listing->erase(it);
    }
    listing = nullptr;
  }

  void WakeStreams() {
    for (StreamState* stream : streams) Wake(stream->wake);
    if (last_out != nullptr) Wake(last_out->wake);
  }

  // Drops the messages every stream that has not fallen behind has written.
  void Trim() {
    std::uint64_t oldest_needed = end();
    for (const StreamState* stream : streams) {
      if (!stream->fell_behind) oldest_needed = std::min(oldest_needed, stream->cursor);
    }
    while (log_start < oldest_needed) {
      log.pop_front();
      ++log_start;
    }
    if (log_start > 0) Unlist();
  }
};

namespace {

using StreamState = RestHandler::StreamState;
using UpstreamWatch = RestHandler::UpstreamWatch;

// One message as the frames every stream on the call writes; nullopt when it cannot be read or
// printed.
std::optional<UpstreamWatch::Frames> Transcode(const RouteTarget& route,
                                               const JsonOutputOptions& json_options,
                                               grpc::ByteBuffer& bytes) {
  google::protobuf::Arena arena;
  Message* reply = route.response_prototype->New(&arena);
  std::string json;
  if (!grpc::SerializationTraits<Message>::Deserialize(&bytes, reply).ok() ||
      !PrintJson(*reply, json_options, json).ok()) {
    return std::nullopt;
  }
  const std::string position = StringAt(*reply, route.position_field);
  const std::string event = EventName(*reply, route.event_field);
  return UpstreamWatch::Frames{MessageFrame(StreamFormat::kSse, position, event, json),
                               MessageFrame(StreamFormat::kNdjson, position, event, json)};
}

// The log is full: waits until it is not. After kLaggardGrace of waiting, the streams still at
// its oldest message are ended if some stream is ahead of them (if none is, every stream is as
// slow: the call keeps waiting, as a call of one stream does).
boost::asio::awaitable<void> MakeSpace(UpstreamWatch& w) {
  auto give_up_at = Clock::now() + kLaggardGrace;
  for (;;) {
    w.Trim();
    if (w.log.size() < kMaxQueued || w.stop_reading) co_return;
    if (Clock::now() >= give_up_at) {
      const bool some_ahead = std::any_of(w.streams.begin(), w.streams.end(), [&](auto* stream) {
        return !stream->fell_behind && stream->cursor > w.log_start;
      });
      if (some_ahead) {
        for (StreamState* stream : w.streams) {
          if (!stream->fell_behind && stream->cursor == w.log_start) {
            stream->fell_behind = true;
            Wake(stream->wake);
          }
        }
        continue;
      }
      give_up_at = Clock::now() + kLaggardGrace;
    }
    w.waiting_for_space = true;
    w.space.expires_at(give_up_at);
    co_await w.space.async_wait(kTuple);
    w.waiting_for_space = false;
  }
}

// The reader: starts the call, sends the request, then logs each message until the call ends.
boost::asio::awaitable<void> ReadUpstream(rpc::Shard& shard, std::shared_ptr<UpstreamWatch> watch,
                                          grpc::ByteBuffer request,
                                          JsonOutputOptions json_options) {
  auto& w = *watch;
  const auto cancel = [&w] { w.context.TryCancel(); };
  const auto op = [&](auto start) {
    return rpc::AsyncCqOperation(shard, std::move(start), cancel, boost::asio::use_awaitable);
  };
  bool ok = co_await op([&](void* tag) { w.call->StartCall(tag); });
  if (ok)
    ok = co_await op([&](void* tag) { w.call->WriteLast(request, grpc::WriteOptions(), tag); });
  bool broken = false;
  while (ok && !w.stop_reading) {
    if (w.log.size() >= kMaxQueued) {
      co_await MakeSpace(w);
      continue;
    }
    grpc::ByteBuffer message;
    ok = co_await op([&](void* tag) { w.call->Read(&message, tag); });
    if (!ok) break;
    auto frames = Transcode(w.route, json_options, message);
    if (!frames) {
      broken = true;
      break;
    }
    w.log.push_back(*std::move(frames));
    w.WakeStreams();
  }
  if (w.stop_reading || broken) w.context.TryCancel();
  grpc::Status status;
  const bool finished = co_await op([&](void* tag) { w.call->Finish(&status, tag); });
  w.status = !finished ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down")
             : broken  ? grpc::Status(grpc::StatusCode::INTERNAL, "a message could not be read")
                       : status;
  w.upstream_done = true;
  w.Unlist();
  w.reader_done = true;
  w.calls_open.Decrement();
  w.WakeStreams();
}

}  // namespace

void RestHandler::EndStreams() {
  streams_ending_.store(true);
  for (std::size_t i = 0; i < runtime_.size() && i < streams_.size(); ++i) {
    boost::asio::post(runtime_.shard(i).io, [this, i] {
      for (const auto& state : streams_[i]) {
        state->ending = true;
        Wake(state->wake);
      }
    });
  }
}

boost::asio::awaitable<HttpResponse> RestHandler::Stream(
    HttpRequest& request, const RequestInfo& info, const RouteTarget& route,
    const Bindings& bindings, std::string_view query, const std::string& request_id) {
  if (info.stream == nullptr) {
    co_return Error(500, grpc::StatusCode::INTERNAL, "internal error", request_id, &request);
  }
  if (streams_ending_.load()) {
    co_return Error(503, grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down; reconnect",
                    request_id, &request);
  }
  if (open_streams_.fetch_add(1) >= options_.max_streams) {
    open_streams_.fetch_sub(1);
    co_return Error(429, grpc::StatusCode::RESOURCE_EXHAUSTED, "too many open streams; retry later",
                    request_id, &request);
  }
  metrics_.streams_open().Increment();
  struct Count {
    std::atomic<std::size_t>& count;
    prometheus::Gauge& gauge;
    ~Count() {
      count.fetch_sub(1);
      gauge.Decrement();
    }
  } count{open_streams_, metrics_.streams_open()};

  google::protobuf::Arena arena;
  Message* message = route.request_prototype->New(&arena);
  if (auto error = BindRequest(request, route, bindings, query, request_id, *message)) {
    co_return *std::move(error);
  }
  // Last-Event-ID (an EventSource reconnecting) wins over the query parameter.
  if (const auto last_id = View(request["Last-Event-ID"]);
      !last_id.empty() && !route.resume_field.empty()) {
    if (auto status = SetField(*message, route.resume_field, last_id); !status.ok()) {
      co_return Error(400, grpc::StatusCode::INVALID_ARGUMENT,
                      "Last-Event-ID: " + std::string(status.message()), request_id, &request);
    }
  }
  grpc::ByteBuffer request_bytes;
  if (!SerializeRequest(*message, request_bytes)) {
    co_return Error(500, grpc::StatusCode::INTERNAL, "internal error", request_id, &request);
  }
  const StreamFormat format = NegotiateStreamFormat(View(request[http::field::accept]));

  rpc::Shard& shard = runtime_.shard(info.shard);
  if (shard.queue_closing.load()) {
    co_return Error(503, grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down", request_id,
                    &request);
  }
  const JsonOutputOptions json_options{options_.camel_case_json};
  auto state = std::make_shared<StreamState>(shard.io.get_executor());
  const auto started = Clock::now();
  const auto max_end = started + options_.stream_max_duration;

  // What the stream asks, when it may share a call: the method, the credentials and the request.
  std::string key;
  if (route.shared_stream &&
      (route.resume_field.empty() || StringAt(*message, route.resume_field).empty())) {
    std::string request_text;
    google::protobuf::io::StringOutputStream out(&request_text);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    if (message->SerializeToCodedStream(&coded)) {
      coded.Trim();
      key = route.grpc_path;
      key += '\n';
      key += View(request[http::field::authorization]);
      key += '\n';
      key += request_text;
    }
  }
  auto& joinable = joinable_watches_[info.shard];
  if (auto it = key.empty() ? joinable.end() : joinable.find(key);
      it != joinable.end() && it->second->joinable()) {
    state->watch = it->second;
  } else {
    auto watch = std::make_shared<UpstreamWatch>(shard.io.get_executor(), route,
                                                 metrics_.stream_calls_open());
    // No request deadline for a healthy stream: the call may last as long as its streams may.
    // A shared call has none at all: its streams end it (the last to leave cancels it).
    if (key.empty()) {
      watch->context.set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                      options_.stream_max_duration + kDeadlineSlack));
    }
    AddForwardedMetadata(watch->context, request, info, request_id);
    Upstream& upstream = *upstreams_[route.upstream];
    watch->call = upstream.stub().PrepareCall(&watch->context, route.grpc_path, shard.cq.get());
    if (!key.empty()) {
      watch->key = key;
      watch->listing = &joinable;
      joinable[key] = watch;
    }
    metrics_.stream_calls_open().Increment();
    boost::asio::co_spawn(shard.io,
                          ReadUpstream(shard, watch, std::move(request_bytes), json_options),
                          boost::asio::detached);
    state->watch = std::move(watch);
  }
  UpstreamWatch& watch = *state->watch;
  state->cursor = watch.log_start;
  watch.streams.push_back(state.get());
  auto& registry = streams_[info.shard];
  const auto entry = registry.insert(registry.end(), state);
  if (streams_ending_.load()) state->ending = true;  // EndStreams ran before the insert

  std::optional<HttpResponse> response;  // an error before the stream started
  bool stream_started = false;
  std::string final_frame;
  auto last_message = started;
  auto next_keepalive = started + options_.stream_keepalive;

  const auto error_json = [&](grpc::StatusCode code, std::string_view text) {
    return ErrorBody(code, text, request_id);
  };
  const auto start_stream = [&]() -> boost::asio::awaitable<bool> {
    HttpResponse header{http::status::ok, 11};
    header.set(http::field::content_type, StreamContentType(format));
    header.set(http::field::cache_control, "no-cache");
    header.set("X-Accel-Buffering", "no");  // proxies must not hold events back
    AddCommonHeaders(header, &request, request_id);
    stream_started = true;
    // A named local: g++ 12 destroys a lambda temporary passed to a coroutine inside a co_await
    // expression twice (GCC PR 101367), which here released `state` once too often.
    std::function<void()> on_client_gone = [state] {
      state->client_gone = true;
      Wake(state->wake);
    };
    co_return co_await info.stream->Start(header, std::move(on_client_gone));
  };

  const bool sse = format == StreamFormat::kSse;
  for (;;) {
    if (state->fell_behind) {
      final_frame = ErrorFrame(format, error_json(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                                  "the client fell behind the stream; reconnect "
                                                  "with Last-Event-ID to resume"));
      break;
    }
    if (state->cursor < watch.end()) {
      if (!stream_started && !co_await start_stream()) break;
      std::string chunk;
      for (auto i = state->cursor - watch.log_start; i < watch.log.size(); ++i) {
        chunk += sse ? watch.log[i].sse : watch.log[i].ndjson;
      }
      state->cursor = watch.end();
      if (watch.waiting_for_space) Wake(watch.space);
      last_message = Clock::now();
      next_keepalive = last_message + options_.stream_keepalive;
      if (!co_await info.stream->Write(chunk)) break;
      continue;
    }
    if (state->client_gone) break;
    if (state->ending) {
      final_frame = ErrorFrame(
          format, error_json(grpc::StatusCode::UNAVAILABLE,
                             "the gateway is shutting down; reconnect with Last-Event-ID to "
                             "resume"));
      break;
    }
    if (watch.upstream_done) {
      if (!watch.status.ok()) {
        const auto code = watch.status.error_code();
        if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::INTERNAL ||
            code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::DATA_LOSS) {
          logger_.Warn("upstream stream failed", {{"route", route.path_template},
                                                  {"code", static_cast<int>(code)},
                                                  {"error", watch.status.error_message()},
                                                  {"request_id", request_id}});
        }
        if (!stream_started) {
          response = Error(HttpStatusFromGrpc(code), code,
                           PublicMessage(watch.status, CallShape::kStream), request_id, &request);
        } else {
          final_frame =
              ErrorFrame(format, error_json(code, PublicMessage(watch.status, CallShape::kStream)));
        }
      } else if (!stream_started) {
        co_await start_stream();  // a stream that ended before its first message
      }
      break;
    }
    const auto now = Clock::now();
    if (now >= max_end) {
      final_frame = ErrorFrame(format, error_json(grpc::StatusCode::DEADLINE_EXCEEDED,
                                                  "the stream reached its maximum duration; "
                                                  "reconnect with Last-Event-ID to resume"));
      break;
    }
    if (now >= last_message + options_.stream_idle_timeout) {
      final_frame = ErrorFrame(format, error_json(grpc::StatusCode::DEADLINE_EXCEEDED,
                                                  "no message within the stream's idle timeout; "
                                                  "reconnect with Last-Event-ID to resume"));
      break;
    }
    auto wake_at = std::min(max_end, last_message + options_.stream_idle_timeout);
    if (stream_started && sse) {
      if (now >= next_keepalive) {
        if (!co_await info.stream->Write(kSseKeepalive)) break;
        next_keepalive = now + options_.stream_keepalive;
        continue;
      }
      wake_at = std::min(wake_at, next_keepalive);
    }
    state->wake.expires_at(wake_at);
    co_await state->wake.async_wait(kTuple);
  }

  // Leaves the call; the last stream to leave ends it at once if it still runs, and waits for
  // the reader to let go of it.
  std::erase(watch.streams, state.get());
  if (watch.waiting_for_space) Wake(watch.space);
  if (watch.streams.empty()) {
    watch.Unlist();
    watch.stop_reading = true;
    if (!watch.upstream_done) watch.context.TryCancel();
    watch.last_out = state.get();
    while (!watch.reader_done) {
      Wake(watch.space);
      state->wake.expires_at(boost::asio::steady_timer::time_point::max());
      co_await state->wake.async_wait(kTuple);
    }
    watch.last_out = nullptr;
  }
  registry.erase(entry);
  if (stream_started) {
    if (!final_frame.empty() && !state->client_gone) co_await info.stream->Write(final_frame);
    co_await info.stream->Finish();
    response = HttpResponse{http::status::ok, 11};  // for the access log; already sent
  } else if (!response) {
    response =
        Error(499, grpc::StatusCode::CANCELLED, "the client went away", request_id, &request);
  }
  co_return *std::move(response);
}

}  // namespace switchyard::gateway
