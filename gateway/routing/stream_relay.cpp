// RestHandler's streaming routes: a server-streaming call relayed as Server-Sent Events or
// newline-delimited JSON (framing in stream_framing.hpp).
//
// Two coroutines per stream, on the connection's shard, sharing one StreamState:
//   - the reader takes the upstream's messages off the call as they come and queues them (at
//     most kMaxQueued: then it waits, so a slow client slows the call through gRPC's flow
//     control instead of growing memory);
//   - the writer (this handler) writes what is queued, keepalive comments while idle, and the
//     final event, and decides when the stream ends: the call ended, the client went away (the
//     server's ResponseStream reports it), the gateway is shutting down (EndStreams), or the
//     stream's idle or maximum duration passed.
// Whatever ends it, the call is cancelled at once (ClientContext::TryCancel) and the writer waits
// for the reader to finish before the call's objects go.

#include <algorithm>
#include <deque>
#include <functional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <google/protobuf/arena.h>
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
// Messages read from the upstream and not yet written to the client.
constexpr std::size_t kMaxQueued = 64;
// The upstream call outlives the stream's own limit by this much, so the gateway, not the
// deadline, ends a healthy stream (with its final event).
constexpr auto kDeadlineSlack = std::chrono::seconds(30);

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

}  // namespace

struct RestHandler::StreamState {
  explicit StreamState(boost::asio::any_io_executor executor) : wake(executor), space(executor) {}
  grpc::ClientContext context;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call;
  std::deque<grpc::ByteBuffer> queued;  // read, not yet written
  grpc::Status status;                  // once upstream_done
  bool upstream_done = false;           // the call has finished (status is set)
  bool reader_done = false;             // the reader coroutine has returned
  bool stop_reading = false;            // the writer is done: read nothing more
  bool client_gone = false;
  bool ending = false;              // EndStreams
  boost::asio::steady_timer wake;   // the writer waits on it
  boost::asio::steady_timer space;  // the reader waits on it while the queue is full
};

namespace {

void Wake(boost::asio::steady_timer& timer) { timer.cancel(); }

// The reader: starts the call, sends the request, then queues each message until the call ends.
boost::asio::awaitable<void> ReadUpstream(rpc::Shard& shard,
                                          std::shared_ptr<RestHandler::StreamState> state,
                                          grpc::ByteBuffer request) {
  auto& s = *state;
  const auto cancel = [&s] { s.context.TryCancel(); };
  const auto op = [&](auto start) {
    return rpc::AsyncCqOperation(shard, std::move(start), cancel, boost::asio::use_awaitable);
  };
  bool ok = co_await op([&](void* tag) { s.call->StartCall(tag); });
  if (ok)
    ok = co_await op([&](void* tag) { s.call->WriteLast(request, grpc::WriteOptions(), tag); });
  while (ok && !s.stop_reading) {
    if (s.queued.size() >= kMaxQueued) {
      s.space.expires_at(boost::asio::steady_timer::time_point::max());
      co_await s.space.async_wait(kTuple);
      continue;
    }
    grpc::ByteBuffer message;
    ok = co_await op([&](void* tag) { s.call->Read(&message, tag); });
    if (!ok) break;
    s.queued.push_back(std::move(message));
    Wake(s.wake);
  }
  if (s.stop_reading) s.context.TryCancel();
  grpc::Status status;
  const bool finished = co_await op([&](void* tag) { s.call->Finish(&status, tag); });
  s.status = finished ? status : grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  s.upstream_done = true;
  s.reader_done = true;
  Wake(s.wake);
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
  auto state = std::make_shared<StreamState>(shard.io.get_executor());
  const auto started = Clock::now();
  const auto max_end = started + options_.stream_max_duration;
  // No request deadline for a healthy stream: the call may last as long as the stream may.
  state->context.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                  options_.stream_max_duration + kDeadlineSlack));
  AddForwardedMetadata(state->context, request, info, request_id);
  Upstream& upstream = *upstreams_[route.upstream];
  state->call = upstream.stub().PrepareCall(&state->context, route.grpc_path, shard.cq.get());
  boost::asio::co_spawn(shard.io, ReadUpstream(shard, state, std::move(request_bytes)),
                        boost::asio::detached);
  auto& registry = streams_[info.shard];
  const auto entry = registry.insert(registry.end(), state);
  if (streams_ending_.load()) state->ending = true;  // EndStreams ran before the insert

  const bool sse = format == StreamFormat::kSse;
  const JsonOutputOptions json_options{options_.camel_case_json};
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

  for (;;) {
    if (!state->queued.empty()) {
      if (!stream_started && !co_await start_stream()) break;
      std::string chunk;
      bool broken = false;
      while (!state->queued.empty()) {
        grpc::ByteBuffer bytes = std::move(state->queued.front());
        state->queued.pop_front();
        google::protobuf::Arena message_arena;
        Message* reply = route.response_prototype->New(&message_arena);
        std::string json;
        if (!grpc::SerializationTraits<Message>::Deserialize(&bytes, reply).ok() ||
            !PrintJson(*reply, json_options, json).ok()) {
          broken = true;
          break;
        }
        chunk += MessageFrame(format, StringAt(*reply, route.position_field),
                              EventName(*reply, route.event_field), json);
      }
      Wake(state->space);
      last_message = Clock::now();
      next_keepalive = last_message + options_.stream_keepalive;
      if (!chunk.empty() && !co_await info.stream->Write(chunk)) break;
      if (broken) {
        final_frame = ErrorFrame(format, error_json(grpc::StatusCode::INTERNAL, "internal error"));
        break;
      }
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
    if (state->upstream_done) {
      if (!state->status.ok()) {
        const auto code = state->status.error_code();
        if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::INTERNAL ||
            code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::DATA_LOSS) {
          logger_.Warn("upstream stream failed", {{"route", route.path_template},
                                                  {"code", static_cast<int>(code)},
                                                  {"error", state->status.error_message()},
                                                  {"request_id", request_id}});
        }
        if (!stream_started) {
          response = Error(HttpStatusFromGrpc(code), code,
                           PublicMessage(state->status, CallShape::kStream), request_id, &request);
        } else {
          final_frame = ErrorFrame(
              format, error_json(code, PublicMessage(state->status, CallShape::kStream)));
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

  // Ends the call at once if it still runs, and waits for the reader to let go of it.
  state->stop_reading = true;
  if (!state->upstream_done) state->context.TryCancel();
  while (!state->reader_done) {
    Wake(state->space);
    state->wake.expires_at(boost::asio::steady_timer::time_point::max());
    co_await state->wake.async_wait(kTuple);
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
