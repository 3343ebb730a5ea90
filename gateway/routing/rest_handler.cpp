#include "gateway/routing/rest_handler.hpp"

#include <utility>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <google/protobuf/arena.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "common/grpc/grpc_client.hpp"
#include "gateway/console/console_assets.hpp"
#include "gateway/json/json_codec.hpp"
#include "gateway/json/protobuf_json_codec.hpp"
#include "gateway/routing/field_binding.hpp"
#include "gateway/routing/http_mapping.hpp"

namespace switchyard::gateway {

namespace http = boost::beast::http;
using google::protobuf::Message;

namespace {

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kAllowedRequestHeaders =
    "Content-Type, X-Request-ID, Authorization, Grpc-Timeout";

std::string_view View(boost::beast::string_view text) { return {text.data(), text.size()}; }

// The JSON codec; the A/B build (SWITCHYARD_JSON_CODEC=protobuf) swaps in protobuf's.
absl::Status ParseBody(std::string_view json, Message& message) {
#ifdef SWITCHYARD_JSON_CODEC_PROTOBUF
  return protobuf_json::ParseJsonBody(json, message);
#else
  return ParseJsonBody(json, message);
#endif
}

absl::Status PrintBody(const Message& message, const JsonOutputOptions& options, std::string& out) {
#ifdef SWITCHYARD_JSON_CODEC_PROTOBUF
  return protobuf_json::PrintJson(message, options, out);
#else
  return PrintJson(message, options, out);
#endif
}

// Retry-After on a 503: a Sentinel failover completes within a few seconds.
constexpr std::string_view kRetryAfterSeconds = "1";

}  // namespace

RestHandler::RestHandler(RestOptions options, const RouteTable& routes,
                         std::vector<std::unique_ptr<Upstream>>& upstreams,
                         std::vector<std::pair<std::string, std::size_t>> health_targets,
                         rpc::Runtime& runtime, Logger& logger, GatewayMetrics& metrics)
    : options_(std::move(options)),
      routes_(routes),
      upstreams_(upstreams),
      health_targets_(std::move(health_targets)),
      runtime_(runtime),
      logger_(logger),
      metrics_(metrics),
      streams_(runtime.size()),
      joinable_watches_(runtime.size()) {}

bool RestHandler::OriginAllowed(std::string_view origin) const {
  if (origin.empty()) return false;
  for (const auto& allowed : options_.cors_origins) {
    if (allowed == "*" || allowed == origin) return true;
  }
  return false;
}

void RestHandler::AddCommonHeaders(HttpResponse& response, const HttpRequest* request,
                                   std::string_view request_id) const {
  response.set("X-Request-ID", request_id);
  if (request == nullptr) return;
  const std::string_view origin = View((*request)[http::field::origin]);
  if (OriginAllowed(origin)) {
    response.set(http::field::access_control_allow_origin, origin);
    response.set(http::field::vary, "Origin");
    response.set(http::field::access_control_expose_headers, "X-Request-ID, Location");
  }
}

HttpResponse RestHandler::Error(unsigned http_status, grpc::StatusCode code,
                                std::string_view message, std::string_view request_id,
                                const HttpRequest* request) const {
  HttpResponse response{static_cast<http::status>(http_status), 11};
  response.set(http::field::content_type, kJsonType);
  response.body() = ErrorBody(code, message, request_id);
  // A 503 is transient (an upstream or its Redis moving, e.g. a failover): say when to retry.
  if (http_status == 503) response.set(http::field::retry_after, kRetryAfterSeconds);
  AddCommonHeaders(response, request, request_id);
  return response;
}

boost::asio::awaitable<HttpResponse> RestHandler::Handle(HttpRequest& request,
                                                         const RequestInfo& info) {
  const auto started = std::chrono::steady_clock::now();
  const std::string request_id = RequestIdOrNew(View(request["X-Request-ID"]));
  const std::string_view target = View(request.target());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const std::string_view method = View(request.method_string());

  HttpResponse response;
  // Both point at strings that live as long as the gateway (literals, the route table).
  std::string_view route_label = "unmatched";
  std::string_view upstream_label;
  if (path.empty() || path.front() != '/') {
    response = Error(400, grpc::StatusCode::INVALID_ARGUMENT,
                     "request target must be an absolute path", request_id, &request);
  } else if (path == "/health/live" && method == "GET") {
    route_label = "/health/live";
    response = HttpResponse{http::status::ok, 11};
    response.set(http::field::content_type, kJsonType);
    response.body() = R"({"status":"live"})";
    AddCommonHeaders(response, &request, request_id);
  } else if (path == "/openapi.json" && method == "GET" && !openapi_.empty()) {
    route_label = "/openapi.json";
    response = HttpResponse{http::status::ok, 11};
    response.set(http::field::content_type, kJsonType);
    response.body() = openapi_;
    AddCommonHeaders(response, &request, request_id);
  } else if (auto console = method == "GET" ? Console(path, request, request_id) : std::nullopt) {
    route_label = "/console";
    response = *std::move(console);
  } else if (path == "/health/ready" && method == "GET") {
    route_label = "/health/ready";
    response = co_await Ready(request, info, request_id);
  } else if (method == "OPTIONS" && request.count(http::field::origin) > 0 &&
             request.count(http::field::access_control_request_method) > 0) {
    route_label = "preflight";
    response = Preflight(request, path, request_id);
  } else {
    using Router = Router<const RouteTarget*>;
    auto match = routes_.router().Match(method, path);
    if (auto* found = std::get_if<Router::Found>(&match)) {
      const RouteTarget& route = *found->value;
      route_label = route.path_template;
      upstream_label = upstreams_[route.upstream]->target();
      response = co_await Transcode(request, info, route, found->bindings, query, request_id);
    } else if (auto* not_allowed = std::get_if<Router::MethodNotAllowed>(&match)) {
      std::string allow;
      for (const auto& m : not_allowed->allowed_methods) {
        if (!allow.empty()) allow += ", ";
        allow += m;
      }
      response = Error(405, grpc::StatusCode::UNIMPLEMENTED,
                       "method " + std::string(method) + " is not allowed here; allowed: " + allow,
                       request_id, &request);
      response.set(http::field::allow, allow);
    } else if (auto* malformed = std::get_if<Router::MalformedPath>(&match)) {
      response =
          Error(400, grpc::StatusCode::INVALID_ARGUMENT, malformed->message, request_id, &request);
    } else {
      response = Error(404, grpc::StatusCode::NOT_FOUND,
                       "no route for " + std::string(method) + " " + std::string(path), request_id,
                       &request);
    }
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.ObserveRequest(method, route_label, response.result_int(), seconds);
  if (logger_.Enabled(LogLevel::kInfo)) {
    logger_.Info("http", {{"method", method},
                          {"route", route_label},
                          {"status", static_cast<int>(response.result_int())},
                          {"duration_ms", seconds * 1000.0},
                          {"upstream", upstream_label},
                          {"request_id", request_id}});
  }
  co_return response;
}

std::optional<HttpResponse> RestHandler::BindRequest(
    const HttpRequest& request, const RouteTarget& route, const Bindings& bindings,
    std::string_view query, const std::string& request_id, Message& message) const {
  const auto bad_request = [&](std::string text) {
    return Error(400, grpc::StatusCode::INVALID_ARGUMENT, text, request_id, &request);
  };
  // Body first, then the path (which wins over a body field of the same name), then the query.
  if (!route.body.empty() && !request.body().empty()) {
    if (!IsJsonContentType(View(request[http::field::content_type]))) {
      return Error(415, grpc::StatusCode::INVALID_ARGUMENT, "Content-Type must be application/json",
                   request_id, &request);
    }
    Message& body_target = WalkFields(message, route.body_field.fields());
    if (auto status = ParseBody(request.body(), body_target); !status.ok()) {
      return bad_request(std::string(status.message()));
    }
  }
  // The router yields the template's variables in the order the route resolved them.
  for (std::size_t i = 0; i < bindings.size() && i < route.path_fields.size(); ++i) {
    if (auto status = SetField(message, route.path_fields[i], bindings[i].second); !status.ok()) {
      return bad_request(std::string(status.message()));
    }
  }
  if (!query.empty()) {
    if (auto status = route.query.Bind(message, query); !status.ok()) {
      return bad_request(std::string(status.message()));
    }
  }
  return std::nullopt;
}

void RestHandler::AddForwardedMetadata(grpc::ClientContext& context, const HttpRequest& request,
                                       const RequestInfo& info,
                                       const std::string& request_id) const {
  context.AddMetadata("x-request-id", request_id);
  if (const auto authorization = View(request[http::field::authorization]);
      !authorization.empty()) {
    context.AddMetadata("authorization", std::string(authorization));
  }
  if (const auto agent = View(request[http::field::user_agent]); !agent.empty()) {
    context.AddMetadata("x-forwarded-user-agent", std::string(agent));
  }
  std::string forwarded_for(View(request["X-Forwarded-For"]));
  if (!info.peer.empty()) {
    if (!forwarded_for.empty()) forwarded_for += ", ";
    forwarded_for += info.peer;
  }
  if (!forwarded_for.empty()) context.AddMetadata("x-forwarded-for", forwarded_for);
}

bool RestHandler::SerializeRequest(const Message& message, grpc::ByteBuffer& bytes) {
  bool own_buffer = false;
  if (!grpc::SerializationTraits<Message>::Serialize(message, &bytes, &own_buffer).ok()) {
    return false;
  }
  if (!bytes.Valid()) {
    // An empty message still needs a buffer: a default-constructed one aborts the call.
    grpc::Slice empty;
    bytes = grpc::ByteBuffer(&empty, 1);
  }
  return true;
}

boost::asio::awaitable<HttpResponse> RestHandler::Transcode(
    HttpRequest& request, const RequestInfo& info, const RouteTarget& route,
    const Bindings& bindings, std::string_view query, const std::string& request_id) {
  // Streams have limits of their own; they do not count as requests in flight.
  if (route.server_streaming) {
    co_return co_await Stream(request, info, route, bindings, query, request_id);
  }
  if (in_flight_.fetch_add(1) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1);
    co_return Error(429, grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "too many requests in flight; retry later", request_id, &request);
  }
  metrics_.in_flight().Increment();
  struct InFlight {
    std::atomic<std::size_t>& count;
    prometheus::Gauge& gauge;
    ~InFlight() {
      count.fetch_sub(1);
      gauge.Decrement();
    }
  } in_flight{in_flight_, metrics_.in_flight()};

  const auto bad_request = [&](std::string message) {
    return Error(400, grpc::StatusCode::INVALID_ARGUMENT, message, request_id, &request);
  };

  google::protobuf::Arena arena;
  Message* message = route.request_prototype->New(&arena);
  if (auto error = BindRequest(request, route, bindings, query, request_id, *message)) {
    co_return *std::move(error);
  }

  std::chrono::nanoseconds timeout = options_.default_timeout;
  if (const auto header = View(request["Grpc-Timeout"]); !header.empty()) {
    const auto parsed = ParseGrpcTimeout(header);
    if (!parsed) co_return bad_request("Grpc-Timeout must look like 500m, 2S or 1M");
    timeout = *parsed;
  }
  if (timeout > options_.max_timeout) timeout = options_.max_timeout;

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(timeout));
  AddForwardedMetadata(context, request, info, request_id);

  grpc::ByteBuffer request_bytes;
  if (!SerializeRequest(*message, request_bytes)) {
    co_return Error(500, grpc::StatusCode::INTERNAL, "internal error", request_id, &request);
  }

  rpc::Shard& shard = runtime_.shard(info.shard);
  Upstream& upstream = *upstreams_[route.upstream];
  grpc::ByteBuffer response_bytes;
  const auto call_started = std::chrono::steady_clock::now();
  const grpc::Status status = co_await rpc::CallUnary(
      shard, context,
      [&](grpc::CompletionQueue* cq) {
        return upstream.stub().PrepareUnaryCall(&context, route.grpc_path, request_bytes, cq);
      },
      response_bytes);
  metrics_.ObserveUpstream(
      route.method->service()->full_name(), route.method->name(),
      static_cast<int>(status.error_code()),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - call_started).count());
  if (!status.ok()) {
    const auto code = status.error_code();
    if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::INTERNAL ||
        code == grpc::StatusCode::UNKNOWN || code == grpc::StatusCode::DATA_LOSS) {
      logger_.Warn("upstream call failed", {{"route", route.path_template},
                                            {"code", static_cast<int>(code)},
                                            {"error", status.error_message()},
                                            {"request_id", request_id}});
    }
    co_return Error(HttpStatusFromGrpc(code), code, PublicMessage(status), request_id, &request);
  }

  Message* reply = route.response_prototype->New(&arena);
  if (!grpc::SerializationTraits<Message>::Deserialize(&response_bytes, reply).ok()) {
    co_return Error(500, grpc::StatusCode::INTERNAL, "internal error", request_id, &request);
  }

  HttpResponse response{static_cast<http::status>(route.success_status), 11};
  if (route.success_status != 204) {
    const Message& out = WalkFields(std::as_const(*reply), route.response_field.fields());
    std::string json;
    if (!PrintBody(out, JsonOutputOptions{options_.camel_case_json}, json).ok()) {
      co_return Error(500, grpc::StatusCode::INTERNAL, "internal error", request_id, &request);
    }
    response.set(http::field::content_type, kJsonType);
    response.body() = std::move(json);
  }
  if ((route.success_status == 201 || route.success_status == 202) &&
      !route.location_template.empty()) {
    response.set(http::field::location, route.location_template.Expand(*reply));
  }
  // A service sets response headers by sending initial metadata named x-... (not binary ones).
  for (const auto& [key, value] : context.GetServerInitialMetadata()) {
    const std::string_view name(key.data(), key.size());
    if (name.size() > 2 && name.substr(0, 2) == "x-" && name != "x-request-id" &&
        !name.ends_with("-bin")) {
      response.set(name, std::string_view(value.data(), value.size()));
    }
  }
  AddCommonHeaders(response, &request, request_id);
  co_return response;
}

boost::asio::awaitable<HttpResponse> RestHandler::Ready(const HttpRequest& request,
                                                        const RequestInfo& info,
                                                        const std::string& request_id) {
  bool ready = !draining_.load();
  std::string body = "{\"status\":\"";
  std::string upstreams = "[";
  for (const auto& [service, index] : health_targets_) {
    Upstream& upstream = *upstreams_[index];
    const std::string state = co_await upstream.CheckHealth(runtime_.shard(info.shard), service,
                                                            std::chrono::milliseconds(1000));
    if (state != "SERVING") ready = false;
    if (upstreams.size() > 1) upstreams += ",";
    // Service names and states only: the body is public, upstream addresses are not.
    upstreams += "{\"service\":\"";
    AppendJsonEscaped(upstreams, service);
    upstreams += "\",\"status\":\"" + state + "\"}";
  }
  upstreams += "]";
  body += ready ? "ready" : (draining_.load() ? "draining" : "not_ready");
  body += "\",\"upstreams\":" + upstreams + "}";
  HttpResponse response{ready ? http::status::ok : http::status::service_unavailable, 11};
  response.set(http::field::content_type, kJsonType);
  response.body() = std::move(body);
  AddCommonHeaders(response, &request, request_id);
  co_return response;
}

std::optional<HttpResponse> RestHandler::Console(std::string_view path, const HttpRequest& request,
                                                 const std::string& request_id) const {
  std::string_view file;
  if (path == "/" || path == "/console" || path == "/console/") {
    file = "/index.html";
  } else if (path.starts_with("/console/")) {
    file = path.substr(std::string_view("/console").size());
  } else {
    return std::nullopt;
  }
  const console::EmbeddedFile* asset = console::FindEmbeddedFile(file);
  if (asset == nullptr) return std::nullopt;
  std::string_view type = "application/octet-stream";
  if (file.ends_with(".html")) type = "text/html; charset=utf-8";
  if (file.ends_with(".js")) type = "text/javascript; charset=utf-8";
  if (file.ends_with(".css")) type = "text/css; charset=utf-8";
  HttpResponse response{http::status::ok, 11};
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, "no-cache");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Frame-Options", "DENY");
  response.set("Content-Security-Policy",
               "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'");
  response.body() = std::string(asset->bytes);
  AddCommonHeaders(response, &request, request_id);
  return response;
}

HttpResponse RestHandler::Preflight(const HttpRequest& request, std::string_view path,
                                    const std::string& request_id) const {
  const std::string_view origin = View(request[http::field::origin]);
  if (!OriginAllowed(origin)) {
    return Error(403, grpc::StatusCode::PERMISSION_DENIED,
                 "origin " + std::string(origin) + " is not allowed", request_id, nullptr);
  }
  auto match = routes_.router().Match("OPTIONS", path);
  const auto* allowed = std::get_if<Router<const RouteTarget*>::MethodNotAllowed>(&match);
  if (allowed == nullptr) {
    return Error(404, grpc::StatusCode::NOT_FOUND, "no route for " + std::string(path), request_id,
                 &request);
  }
  std::string methods;
  for (const auto& m : allowed->allowed_methods) {
    if (!methods.empty()) methods += ", ";
    methods += m;
  }
  HttpResponse response{http::status::no_content, 11};
  response.set(http::field::access_control_allow_methods, methods);
  response.set(http::field::access_control_allow_headers, kAllowedRequestHeaders);
  response.set(http::field::access_control_max_age, "600");
  AddCommonHeaders(response, &request, request_id);
  return response;
}

}  // namespace switchyard::gateway
