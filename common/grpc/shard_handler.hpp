#pragma once

// The adapter between a UnaryRpc handler and a service's per-shard implementation.

#include <boost/asio/awaitable.hpp>

#include "common/grpc/grpc_server.hpp"
#include "common/grpc/status.hpp"
#include "common/service/call_context.hpp"

namespace switchyard::rpc {

// A UnaryRpc handler that runs `method` (an awaitable absl::Status member taking a CallContext,
// the request and the response) on the implementation `impl_for(shard)` of the shard serving the
// call, and maps the status once. `impl_for` must stay valid while the server runs.
template <class ImplFor, class Method>
auto ShardHandler(ImplFor impl_for, Method method) {
  return [impl_for, method](RpcContext& rpc, const auto& request,
                            auto& response) -> boost::asio::awaitable<grpc::Status> {
    auto& impl = impl_for(rpc.shard);
    const CallContext call{rpc.request_id, rpc.deadline};
    const absl::Status status = co_await (impl.*method)(call, request, response);
    co_return ToGrpcStatus(status);
  };
}

}  // namespace switchyard::rpc
