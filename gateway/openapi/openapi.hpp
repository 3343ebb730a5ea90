#pragma once

// The OpenAPI 3.0.3 document of the gateway's REST surface, generated from the same RouteTable
// (and so the same descriptors and google.api.http annotations) the gateway routes with. Built
// once at start-up and served as is.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/routing/route_table.hpp"

namespace switchyard::gateway {

struct OpenApiOptions {
  std::string title = "Switchyard API";
  // info.version; empty means the build's version (SWITCHYARD_VERSION).
  std::string version;
  // Field names as the gateway prints them: lowerCamel json names (JSON_NAMES=camel) instead of
  // proto field names. Applies to schema properties and query parameter names alike.
  bool camel_case = false;
  // When not empty, the document's one `servers` entry ("https://api.example.com").
  std::string server_url;
};

// The document as compact JSON, every object's keys sorted: the same routes give the same bytes.
//
// What it holds:
//   - One path per route, its template in OpenAPI form: `{id}` stays, `{key=**}` and
//     `{name=shelves/*/books/**}` become one parameter (`{key}`, `{name}`) whose description says
//     it may contain '/', a nested `{user.id}` becomes the parameter `user.id`, a custom verb stays
//     a literal suffix (`/v1/{name}:search`). Routes whose templates differ only in variable names
//     share one path (OpenAPI forbids both); the later one takes the first one's names.
//   - operationId `Service_Method`, `_2`, `_3`, ... for additional bindings; summary and
//     description from the proto comments when the descriptors carry them, else the method name.
//   - Path parameters; query parameters for every request field that is not bound by the path or
//     the body (dotted names for nested fields, arrays with explode for repeated ones, enums by
//     name, well-known types in their text forms; maps, repeated messages, Struct, Value, Any
//     cannot be given in a query and are left out); a JSON requestBody when the route has a body.
//   - The success status (201/202 with a `Location` header when the route has a location
//     template, 204 without content), error responses 400, 404, 409, 429, 503, 504 and default
//     with the google.rpc.Status schema `Status`, and `X-Request-ID` on every response.
//   - components/schemas: one schema per message reachable from a route, named by its full proto
//     name ("switchyard.user.v1.User"), in the proto3 JSON mapping: int64 kinds as strings,
//     enums as string enums, bytes as base64, maps as objects, Timestamp as date-time, Duration,
//     FieldMask as strings, Struct as object, Value as any, ListValue as array, wrappers as
//     nullable primitives, Empty as object.
//   - OpenAPI 3.0 has no place for a custom HTTP method (`custom: {kind: "PURGE"}`), nor for a
//     second route with the same method whose path converts to the same OpenAPI path; such
//     operations are listed under the path's `x-switchyard-operations` extension instead.
std::string BuildOpenApi(const RouteTable& routes, const OpenApiOptions& options);

// Building blocks of BuildOpenApi; exposed for its unit tests.
namespace openapi_internal {

struct PathParameter {
  std::string name;            // the OpenAPI parameter name
  std::string field_path;      // the request field it binds; "" for a bare `*` or `**`
  std::string pattern;         // the segments it matches: "*", "**", "shelves/*/books/**"
  bool multi_segment = false;  // whether its value can hold '/'
};

// A path template in OpenAPI form: literals[0] {parameters[0]} literals[1] ... literals[n].
struct OpenApiPath {
  std::vector<std::string> literals;
  std::vector<PathParameter> parameters;

  // "/v1/{name}:search"
  std::string Text() const;
  // The path with the parameter names erased ("/v1/{}:search"): OpenAPI treats two paths of one
  // shape as the same path.
  std::string Shape() const;
};

// The OpenAPI form of a google.api.http path template; nullopt when it does not parse. A bare
// `*` or `**` outside a variable becomes a parameter named `wildcard_<n>`.
std::optional<OpenApiPath> ConvertPathTemplate(std::string_view path_template);

}  // namespace openapi_internal

}  // namespace switchyard::gateway
