#include "common/grpc/grpc_server.hpp"

#include "absl/strings/str_replace.h"

namespace switchyard::rpc {

namespace {

// The prefix protoc's gRPC plugin gives the class that adds a method's RequestX to AsyncService.
constexpr std::string_view kAsyncMethodPrefix = "WithAsyncMethod_";

// "unary from a.Request to a.Response", for error messages.
std::string Shape(RpcKind kind, const google::protobuf::Descriptor& request,
                  const google::protobuf::Descriptor& response) {
  std::string shape;
  switch (kind) {
    case RpcKind::kUnary:
      shape = "unary";
      break;
    case RpcKind::kServerStreaming:
      shape = "server-streaming";
      break;
    case RpcKind::kBidiStreaming:
      shape = "bidi-streaming";
      break;
  }
  return shape + " from " + request.full_name() + " to " + response.full_name();
}

RpcKind KindOf(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming()) {
    // Client streaming has no request method this layer serves; bidi is the closest mismatch.
    return RpcKind::kBidiStreaming;
  }
  return method.server_streaming() ? RpcKind::kServerStreaming : RpcKind::kUnary;
}

}  // namespace

absl::StatusOr<std::string> MethodName(std::string_view declaring_class,
                                       const google::protobuf::Descriptor& request,
                                       const google::protobuf::Descriptor& response, RpcKind kind) {
  // "pkg::v1::UserService::WithAsyncMethod_GetUser<...>": the enclosing class names the service,
  // the class itself the method.
  const std::string_view outer = declaring_class.substr(0, declaring_class.find('<'));
  const std::size_t split = outer.rfind("::");
  const std::string_view own = split == std::string_view::npos ? outer : outer.substr(split + 2);
  if (split == std::string_view::npos || !own.starts_with(kAsyncMethodPrefix) ||
      own.size() == kAsyncMethodPrefix.size()) {
    return absl::InvalidArgumentError(
        "'" + std::string(declaring_class) +
        "' is not a generated WithAsyncMethod_ class; cannot tell which method it requests");
  }
  const std::string method_name(own.substr(kAsyncMethodPrefix.size()));
  const std::string service_name =
      absl::StrReplaceAll(std::string(outer.substr(0, split)), {{"::", "."}});

  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(service_name);
  if (service == nullptr) {
    return absl::NotFoundError("gRPC service '" + service_name +
                               "' is not in the generated descriptor pool");
  }
  const google::protobuf::MethodDescriptor* method = service->FindMethodByName(method_name);
  if (method == nullptr) {
    return absl::NotFoundError("gRPC service '" + service_name + "' has no method '" + method_name +
                               "'");
  }
  if (method->input_type() != &request || method->output_type() != &response ||
      KindOf(*method) != kind) {
    return absl::InvalidArgumentError(
        "'" + method->full_name() + "' is " +
        Shape(KindOf(*method), *method->input_type(), *method->output_type()) + ", not " +
        Shape(kind, request, response));
  }
  return method_name;
}

absl::Status Serve(Runtime& runtime, absl::StatusOr<Registration> registration) {
  if (!registration.ok()) return registration.status();
  (*registration)(runtime);
  return absl::OkStatus();
}

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
