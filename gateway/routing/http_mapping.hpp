#pragma once

// Small, pure mappings between HTTP and gRPC used by the gateway.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

namespace switchyard::gateway {

// The HTTP status for a gRPC status code (the table grpc-gateway and Envoy share).
unsigned HttpStatusFromGrpc(grpc::StatusCode code);

enum class CallShape { kUnary, kStream };

// What a client may see of a failed call. Transport-level failures carry internal addresses and
// library wording, so their messages are replaced; a service's own messages pass through. A
// stream's words tell the client to resume (Last-Event-ID) rather than retry.
std::string PublicMessage(const grpc::Status& status, CallShape shape = CallShape::kUnary);

// The standard reason phrase for the HTTP statuses the gateway sends ("Not Found").
std::string_view ReasonPhrase(unsigned status);

// An incoming X-Request-ID is kept when it is 1-128 printable ASCII characters (0x21-0x7E);
// otherwise (absent, empty, too long, spaces, control bytes) a UUIDv4 replaces it.
bool IsValidRequestId(std::string_view id);
std::string RequestIdOrNew(std::string_view incoming);

// Parses a gRPC `Grpc-Timeout` value: 1-8 digits and a unit (H, M, S, m, u, n). nullopt when
// malformed.
std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(std::string_view value);

// A google.rpc.Status as JSON: {"code":N,"message":"...","details":[RequestInfo]} where the
// RequestInfo detail carries the request id.
std::string ErrorBody(grpc::StatusCode code, std::string_view message, std::string_view request_id);

// True for `application/json`, optionally with parameters such as `; charset=utf-8` (any case).
bool IsJsonContentType(std::string_view content_type);

}  // namespace switchyard::gateway
