#include "gateway/routing/http_mapping.hpp"

#include <charconv>

#include "common/service/logger.hpp"
#include "common/uuid.hpp"

namespace switchyard::gateway {

unsigned HttpStatusFromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNKNOWN:
      return 500;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 400;
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::INTERNAL:
      return 500;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DATA_LOSS:
      return 500;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}

std::string_view ReasonPhrase(unsigned status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

std::string RequestIdOrNew(std::string_view incoming) {
  return IsValidRequestId(incoming) ? std::string(incoming) : NewUuidV4();
}

std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(std::string_view value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  const char unit = value.back();
  const std::string_view digits = value.substr(0, value.size() - 1);
  std::int64_t amount = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), amount);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || amount < 0) return std::nullopt;
  switch (unit) {
    case 'H':
      return std::chrono::hours(amount);
    case 'M':
      return std::chrono::minutes(amount);
    case 'S':
      return std::chrono::seconds(amount);
    case 'm':
      return std::chrono::milliseconds(amount);
    case 'u':
      return std::chrono::microseconds(amount);
    case 'n':
      return std::chrono::nanoseconds(amount);
    default:
      return std::nullopt;
  }
}

std::string ErrorBody(grpc::StatusCode code, std::string_view message,
                      std::string_view request_id) {
  std::string body = "{\"code\":";
  body += std::to_string(static_cast<int>(code));
  body += ",\"message\":\"";
  AppendJsonEscaped(body, message);
  body +=
      "\",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.RequestInfo\",\"request_id\":\"";
  AppendJsonEscaped(body, request_id);
  body += "\"}]}";
  return body;
}

bool IsJsonContentType(std::string_view content_type) {
  constexpr std::string_view kJson = "application/json";
  if (content_type.size() < kJson.size()) return false;
  for (std::size_t i = 0; i < kJson.size(); ++i) {
    char c = content_type[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kJson[i]) return false;
  }
  const std::string_view rest = content_type.substr(kJson.size());
  return rest.empty() || rest.front() == ';' || rest.front() == ' ' || rest.front() == '\t';
}

std::string PublicMessage(const grpc::Status& status, CallShape shape) {
  const bool stream = shape == CallShape::kStream;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return stream ? "the service is unavailable; reconnect with Last-Event-ID to resume"
                    : "the service is unavailable; retry later";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return stream ? "the stream took longer than its deadline"
                    : "the request took longer than its deadline";
    case grpc::StatusCode::CANCELLED:
      return stream ? "the stream was cancelled" : "the request was cancelled";
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
      return "internal error";
    default:
      return status.error_message();
  }
}

}  // namespace switchyard::gateway
