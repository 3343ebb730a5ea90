#pragma once

// The transcoding core: one HTTP request in, one typed gRPC call out, one HTTP response back.
// Generic over every route in the RouteTable: JSON <-> protobuf through descriptors, bytes over
// a generic stub. Also answers /health/live and /health/ready, CORS preflights, and errors.

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <google/protobuf/message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/service/logger.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/http/http_server.hpp"
#include "gateway/routing/route_table.hpp"
#include "gateway/routing/upstream.hpp"

namespace switchyard::gateway {

struct RestOptions {
  std::chrono::milliseconds default_timeout{10000};  // without Grpc-Timeout
  std::chrono::milliseconds max_timeout{60000};      // Grpc-Timeout is capped here
  std::size_t max_in_flight = 4096;                  // 429 past it
  bool camel_case_json = false;           // output names: proto field names (default) or lowerCamel
  std::vector<std::string> cors_origins;  // exact origins, or "*"
  // Streaming routes (server-streaming RPCs as SSE or NDJSON).
  std::size_t max_streams = 10000;                         // open at once; 429 past it
  std::chrono::milliseconds stream_max_duration{3600000};  // then a final event ends it
  std::chrono::milliseconds stream_idle_timeout{600000};   // without a message: ended
  std::chrono::milliseconds stream_keepalive{15000};       // SSE comment while idle
};

class RestHandler {
 public:
  // `upstreams[i]` serves the routes whose RouteTarget::upstream is i. `health_targets` are the
  // (service name, upstream index) pairs /health/ready checks.
  RestHandler(RestOptions options, const RouteTable& routes,
              std::vector<std::unique_ptr<Upstream>>& upstreams,
              std::vector<std::pair<std::string, std::size_t>> health_targets,
              rpc::Runtime& runtime, Logger& logger, GatewayMetrics& metrics);

  boost::asio::awaitable<HttpResponse> Handle(HttpRequest& request, const RequestInfo& info);

  // An error response in the gateway's format: google.rpc.Status JSON with the request id.
  HttpResponse Error(unsigned http_status, grpc::StatusCode code, std::string_view message,
                     std::string_view request_id, const HttpRequest* request) const;

  // The OpenAPI document served at GET /openapi.json (set once, before serving).
  void SetOpenApi(std::string document) { openapi_ = std::move(document); }

  // Makes readiness fail from now on (SIGTERM drain).
  void SetDraining() { draining_.store(true); }

  // Ends every open stream with a final event (UNAVAILABLE: reconnect elsewhere) and refuses new
  // ones with 503. Thread-safe; returns at once (the streams end on their loops).
  void EndStreams();

  // Streams open now, over every shard.
  std::size_t open_streams() const { return open_streams_.load(); }

  // One open stream's state, and the upstream call one or more streams read (stream_relay.cpp).
  struct StreamState;
  struct UpstreamWatch;

 private:
  boost::asio::awaitable<HttpResponse> Transcode(HttpRequest& request, const RequestInfo& info,
                                                 const RouteTarget& route, const Bindings& bindings,
                                                 std::string_view query,
                                                 const std::string& request_id);
  // A streaming route: the upstream's messages as SSE or NDJSON (stream_relay.cpp).
  boost::asio::awaitable<HttpResponse> Stream(HttpRequest& request, const RequestInfo& info,
                                              const RouteTarget& route, const Bindings& bindings,
                                              std::string_view query,
                                              const std::string& request_id);
  // Fills `message` from the body, path and query; an error response when they do not fit.
  std::optional<HttpResponse> BindRequest(const HttpRequest& request, const RouteTarget& route,
                                          const Bindings& bindings, std::string_view query,
                                          const std::string& request_id,
                                          google::protobuf::Message& message) const;
  void AddForwardedMetadata(grpc::ClientContext& context, const HttpRequest& request,
                            const RequestInfo& info, const std::string& request_id) const;
  // False when it cannot be serialized; an empty message gets a valid empty buffer.
  static bool SerializeRequest(const google::protobuf::Message& message, grpc::ByteBuffer& bytes);
  boost::asio::awaitable<HttpResponse> Ready(const HttpRequest& request, const RequestInfo& info,
                                             const std::string& request_id);
  // GET / and /console/...: the embedded web console; nullopt when `path` is none of its files.
  std::optional<HttpResponse> Console(std::string_view path, const HttpRequest& request,
                                      const std::string& request_id) const;
  HttpResponse Preflight(const HttpRequest& request, std::string_view path,
                         const std::string& request_id) const;
  void AddCommonHeaders(HttpResponse& response, const HttpRequest* request,
                        std::string_view request_id) const;
  bool OriginAllowed(std::string_view origin) const;

  RestOptions options_;
  const RouteTable& routes_;
  std::vector<std::unique_ptr<Upstream>>& upstreams_;
  std::vector<std::pair<std::string, std::size_t>> health_targets_;
  rpc::Runtime& runtime_;
  Logger& logger_;
  GatewayMetrics& metrics_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::string openapi_;
  // Streams: their count, and per shard the open ones (each shard's loop only) for EndStreams.
  std::atomic<std::size_t> open_streams_{0};
  std::atomic<bool> streams_ending_{false};
  std::vector<std::list<std::shared_ptr<StreamState>>> streams_;
  // Per shard, the upstream calls of shared routes that streams may still join, by what they ask.
  std::vector<std::unordered_map<std::string, std::shared_ptr<UpstreamWatch>>> joinable_watches_;
};

}  // namespace switchyard::gateway
