#include "common/grpc/grpc_client.hpp"

#include <string>

namespace switchyard::rpc {

grpc::ChannelArguments UpstreamChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

void PrepareClientContext(grpc::ClientContext& context,
                          std::chrono::steady_clock::time_point deadline,
                          std::chrono::milliseconds limit, std::string_view request_id) {
  const auto now = std::chrono::steady_clock::now();
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(limit);
  if (deadline != std::chrono::steady_clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left < remaining) remaining = left;
  }
  if (remaining < std::chrono::milliseconds(0)) remaining = std::chrono::milliseconds(0);
  context.set_deadline(std::chrono::system_clock::now() + remaining);
  if (!request_id.empty()) context.AddMetadata("x-request-id", std::string(request_id));
}

}  // namespace switchyard::rpc
