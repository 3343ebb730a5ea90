#pragma once

// REST routes built at start-up from the google.api.http annotations (and Switchyard's
// http_response option) of the services linked into the binary. No route is written by hand.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/api/http.pb.h"
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "gateway/routing/field_binding.hpp"
#include "gateway/routing/router.hpp"

namespace switchyard::gateway {

// A Location template ("/api/users/{user.id}") with each `{field.path}` resolved against the
// response type at start-up; the fields must be singular strings or 32/64-bit signed integers.
class LocationTemplate {
 public:
  static absl::StatusOr<LocationTemplate> Parse(std::string_view text,
                                                const google::protobuf::Descriptor& response);

  bool empty() const { return parts_.empty(); }
  // The template with each field's value from `response`.
  std::string Expand(const google::protobuf::Message& response) const;

 private:
  struct Part {
    std::string literal;  // the text before `field`
    FieldPath field;      // empty for the text after the last field
  };
  std::vector<Part> parts_;
};

struct RouteTarget {
  const google::protobuf::MethodDescriptor* method = nullptr;
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
  std::string grpc_path;      // "/switchyard.user.v1.UserService/CreateUser"
  std::string http_method;    // "POST"
  std::string path_template;  // "/api/users/{id}": the route label in logs and metrics
  std::string body;           // "" (no body), "*" (whole request) or a message field's name
  std::string response_body;  // "" (whole response) or a message field's name
  // Resolved at start-up: the path template's variables (in its order), `body` when it names a
  // field, `response_body`, the Location template and what the query string may set.
  std::vector<FieldPath> path_fields;
  FieldPath body_field;
  FieldPath response_field;
  LocationTemplate location_template;
  QueryBinder query;
  unsigned success_status = 200;
  // Server-streaming methods: a streaming route (SSE or NDJSON), framed by the method's
  // switchyard.api.v1.http_stream option. Each field path is empty when the option leaves it out.
  bool server_streaming = false;
  FieldPath position_field;    // response: each SSE event's id
  FieldPath event_field;       // response: each SSE event's name (an enum or a string)
  FieldPath resume_field;      // request: set from Last-Event-ID
  bool shared_stream = false;  // identical streams may share one upstream call
  std::string location;        // template for Location on success, e.g. "/api/users/{user.id}"
  std::size_t upstream = 0;    // index into the gateway's upstreams
};

class RouteTable {
 public:
  // `services` maps fully qualified service names to upstream indexes. Fails with a one-line
  // reason for an unknown service or an annotation the gateway cannot honour.
  static absl::StatusOr<std::unique_ptr<RouteTable>> Build(
      const std::map<std::string, std::size_t>& services);

  const Router<const RouteTarget*>& router() const { return router_; }
  const std::deque<RouteTarget>& routes() const { return routes_; }

 private:
  absl::Status AddRule(const google::protobuf::MethodDescriptor* method,
                       const google::api::HttpRule& rule, std::size_t upstream, bool nested);

  std::deque<RouteTarget> routes_;  // a deque keeps the router's pointers valid
  Router<const RouteTarget*> router_;
};

}  // namespace switchyard::gateway
