#pragma once

// Unary gRPC client calls as coroutines on the CompletionQueue API.

#include <chrono>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/status.h>

#include "common/grpc/grpc_runtime.hpp"

namespace switchyard::rpc {

// Channel arguments for a service-to-service channel: reconnect backoff from 100 ms up to 1 s
// (gRPC's default grows to two minutes; a restarted upstream must be served again within a second
// or two), and 2 s for a connection attempt to complete. gRPC reads the "minimum reconnect
// backoff" argument as that connect timeout: set to 100 ms it cut handshakes short on a loaded
// machine ("tcp handshaker shutdown", then UNAVAILABLE).
grpc::ChannelArguments UpstreamChannelArguments();

// Sets the deadline and request id of an outbound call made on behalf of a request: the deadline
// is the caller's remaining `deadline` capped at `limit` from now.
void PrepareClientContext(grpc::ClientContext& context,
                          std::chrono::steady_clock::time_point deadline,
                          std::chrono::milliseconds limit, std::string_view request_id);

// Makes one unary call on `shard`'s completion queue, from that shard's loop, and completes with
// its status; `response` holds the answer when it is OK. `prepare(cq)` returns the stub's reader,
// e.g.
//   [&](grpc::CompletionQueue* cq) { return stub->PrepareAsyncGetUser(&context, request, cq); }
// Cancelling the awaiting coroutine cancels the call (it then completes with CANCELLED). Once the
// runtime is stopping, the call is not made: UNAVAILABLE.
template <class Prepare, class Response>
boost::asio::awaitable<grpc::Status> CallUnary(Shard& shard, grpc::ClientContext& context,
                                               Prepare prepare, Response& response) {
  if (shard.queue_closing.load()) {
    co_return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  }
  auto reader = prepare(shard.cq.get());
  reader->StartCall();
  grpc::Status status;
  const bool finished = co_await AsyncCqOperation(
      shard, [&](void* tag) { reader->Finish(&response, &status, tag); },
      [&context] { context.TryCancel(); }, boost::asio::use_awaitable);
  if (!finished) co_return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  co_return status;
}

}  // namespace switchyard::rpc
