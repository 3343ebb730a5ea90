#include "common/grpc_server.hpp"

namespace switchyard::rpc {

std::string RequestIdFrom(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("x-request-id");
  if (it == metadata.end()) return {};
  const grpc::string_ref value = it->second;
  if (value.empty() || value.size() > 128) return {};
  for (const char c : value) {
    if (c < 0x21 || c > 0x7E) return {};
  }
  return std::string(value.data(), value.size());
}

std::chrono::steady_clock::time_point SteadyDeadline(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return std::chrono::steady_clock::time_point::max();
  }
  const auto remaining = deadline - std::chrono::system_clock::now();
  // Deadlines decades away are as good as none; clamp to avoid overflow.
  if (remaining > std::chrono::hours(24 * 365)) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining);
}

}  // namespace switchyard::rpc
