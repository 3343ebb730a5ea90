#pragma once

// The gateway's Prometheus metrics. Label values are bounded: the route is the path template
// (never the raw path), the method is a known HTTP method or "OTHER", codes are status codes.

#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/service/metrics.hpp"

namespace switchyard::gateway {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);

  // One finished HTTP request.
  void ObserveRequest(std::string_view method, std::string_view route, unsigned status,
                      double seconds);
  // One finished upstream call.
  void ObserveUpstream(std::string_view service, std::string_view method, int grpc_code,
                       double seconds);

  prometheus::Gauge& in_flight() { return in_flight_; }
  prometheus::Gauge& streams_open() { return streams_open_; }
  prometheus::Gauge& stream_calls_open() { return stream_calls_open_; }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Family<prometheus::Histogram>& upstream_seconds_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& streams_open_;
  prometheus::Gauge& stream_calls_open_;
  SeriesCache<prometheus::Counter> requests_series_;
  SeriesCache<prometheus::Histogram> request_seconds_series_;
  SeriesCache<prometheus::Histogram> upstream_seconds_series_;
};

// "GET", "POST", ... as given for the standard methods; "OTHER" for anything else.
std::string_view MethodLabel(std::string_view method);

}  // namespace switchyard::gateway
