#include "gateway/gateway_metrics.hpp"

#include <array>
#include <charconv>
#include <string>

#include "common/service/metrics.hpp"

namespace switchyard::gateway {

std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}) {
    if (method == known) return known;
  }
  return "OTHER";
}

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests answered, by method, route template and status.")
                    .Register(registry)),
      request_seconds_(prometheus::BuildHistogram()
                           .Name("http_request_duration_seconds")
                           .Help("Time from a request's arrival to its response, by route.")
                           .Register(registry)),
      upstream_seconds_(prometheus::BuildHistogram()
                            .Name("upstream_request_duration_seconds")
                            .Help("gRPC calls to upstream services, by service, method, code.")
                            .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("http_requests_in_flight")
                     .Help("Requests being transcoded and waiting on an upstream.")
                     .Register(registry)
                     .Add({})),
      streams_open_(prometheus::BuildGauge()
                        .Name("http_streams_open")
                        .Help("Streaming responses (SSE, NDJSON) open now; MAX_STREAMS caps it.")
                        .Register(registry)
                        .Add({})),
      stream_calls_open_(prometheus::BuildGauge()
                             .Name("http_stream_upstream_calls_open")
                             .Help("Upstream calls feeding the open streams; streams that ask "
                                   "the same of a shared route share one.")
                             .Register(registry)
                             .Add({})),
      requests_series_(
          {"method", "route", "code"},
          [this](const prometheus::Labels& labels) -> auto& { return requests_.Add(labels); }),
      request_seconds_series_(
          {"route"},
          [this](const prometheus::Labels& labels) -> auto& {
            return request_seconds_.Add(labels, LatencyBuckets());
          }),
      upstream_seconds_series_(
          {"service", "method", "code"}, [this](const prometheus::Labels& labels) -> auto& {
            return upstream_seconds_.Add(labels, LatencyBuckets());
          }) {}

void GatewayMetrics::ObserveRequest(std::string_view method, std::string_view route,
                                    unsigned status, double seconds) {
  char code[8];
  const auto [end, ec] = std::to_chars(code, code + sizeof code, status);
  requests_series_.Get({MethodLabel(method), route, std::string_view(code, end - code)})
      .Increment();
  request_seconds_series_.Get({route}).Observe(seconds);
}

void GatewayMetrics::ObserveUpstream(std::string_view service, std::string_view method,
                                     int grpc_code, double seconds) {
  upstream_seconds_series_.Get({service, method, GrpcCodeName(grpc_code)}).Observe(seconds);
}

}  // namespace switchyard::gateway
