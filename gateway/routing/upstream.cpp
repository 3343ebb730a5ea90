#include "gateway/routing/upstream.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "common/grpc/grpc_client.hpp"

namespace switchyard::gateway {

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args = rpc::UpstreamChannelArguments();
  // Spread calls over every address the name resolves to (a headless Service's pods), not only
  // the first one.
  args.SetLoadBalancingPolicyName("round_robin");
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

Upstream::Upstream(std::string target)
    : target_(std::move(target)),
      channel_(MakeChannel(target_)),
      stub_(channel_),
      health_(grpc::health::v1::Health::NewStub(channel_)) {}

boost::asio::awaitable<std::string> Upstream::CheckHealth(rpc::Shard& shard, std::string service,
                                                          std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  rpc::PrepareClientContext(context, std::chrono::steady_clock::time_point::max(), timeout, "");
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::move(service));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = co_await rpc::CallUnary(
      shard, context,
      [&](grpc::CompletionQueue* cq) { return health_->PrepareAsyncCheck(&context, request, cq); },
      response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) co_return "SERVICE_UNKNOWN";
  if (!status.ok()) co_return "UNREACHABLE";
  co_return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

}  // namespace switchyard::gateway
