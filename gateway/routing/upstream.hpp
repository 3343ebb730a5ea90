#pragma once

// One gRPC channel per upstream address, reused by every request, and the calls the gateway
// makes on it: a generic unary call (bytes in, bytes out) and a grpc.health.v1 check.

#include <chrono>
#include <memory>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include <boost/asio/awaitable.hpp>
#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include "common/grpc/grpc_runtime.hpp"

namespace switchyard::gateway {

class Upstream {
 public:
  // `target` is host:port. The channel reconnects quickly after an upstream restart (backoff
  // 100 ms to 1 s) and fails calls fast with UNAVAILABLE while the upstream is down.
  explicit Upstream(std::string target);

  const std::string& target() const { return target_; }
  grpc::GenericStub& stub() { return stub_; }

  // grpc.health.v1 Check of `service` ("" for the server as a whole) from a coroutine on
  // `shard`. Returns "SERVING", "NOT_SERVING", ..., "SERVICE_UNKNOWN" when the upstream does not
  // know `service`, or "UNREACHABLE" when the call failed.
  boost::asio::awaitable<std::string> CheckHealth(rpc::Shard& shard, std::string service,
                                                  std::chrono::milliseconds timeout);

 private:
  std::string target_;
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace switchyard::gateway
