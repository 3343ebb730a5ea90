#include "gateway/openapi/openapi.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "switchyard/data/v1/data_service.pb.h"
#include "switchyard/data/v1/job_service.pb.h"
#include "switchyard/test/v1/echo_service.pb.h"
#include "switchyard/user/v1/user_service.pb.h"

namespace switchyard::gateway {
namespace {

namespace json = boost::json;

// RouteTable finds services by name in the generated pool, which holds a .proto file only when
// its generated code is linked in. Naming one message of each file keeps it linked.
std::map<std::string, std::size_t> Services() {
  (void)switchyard::user::v1::User::descriptor();
  (void)switchyard::data::v1::DataItem::descriptor();
  (void)switchyard::data::v1::Job::descriptor();
  (void)switchyard::test::v1::EchoRequest::descriptor();
  return {{"switchyard.user.v1.UserService", 0},
          {"switchyard.data.v1.DataService", 1},
          {"switchyard.data.v1.JobService", 1},
          {"switchyard.test.v1.EchoService", 2}};
}

const RouteTable& Routes() {
  static const std::unique_ptr<RouteTable> table = [] {
    auto built = RouteTable::Build(Services());
    EXPECT_TRUE(built.ok()) << built.status();
    return built.ok() ? *std::move(built) : nullptr;
  }();
  return *table;
}

std::string Build(OpenApiOptions options = {}) {
  options.version = "1.2.3";
  return BuildOpenApi(Routes(), options);
}

json::object Document(OpenApiOptions options = {}) {
  return json::parse(Build(std::move(options))).as_object();
}

// doc["a"]["b"]... along object keys; throws (failing the test) when a key is missing. Objects
// have their own overload: converting one to a json::value would copy it into a temporary.
const json::value& At(const json::object& object, std::initializer_list<std::string_view> keys) {
  const json::value* current = nullptr;
  for (const std::string_view key : keys) {
    current = current == nullptr ? &object.at(key) : &current->as_object().at(key);
  }
  if (current == nullptr) throw std::invalid_argument("At: no keys");
  return *current;
}

const json::value& At(const json::value& value, std::initializer_list<std::string_view> keys) {
  return At(value.as_object(), keys);
}

const json::object& Operation(const json::object& doc, std::string_view path,
                              std::string_view method) {
  return At(doc, {"paths", path, method}).as_object();
}

// The operation's parameter named `name` (after resolving nothing: inline parameters only).
const json::object* Parameter(const json::object& operation, std::string_view name) {
  for (const auto& parameter : operation.at("parameters").as_array()) {
    const auto& object = parameter.as_object();
    if (const auto* found = object.if_contains("name"); found && found->as_string() == name) {
      return &object;
    }
  }
  return nullptr;
}

std::vector<std::string> ParameterNames(const json::object& operation, std::string_view in) {
  std::vector<std::string> names;
  for (const auto& parameter : operation.at("parameters").as_array()) {
    const auto& object = parameter.as_object();
    if (const auto* where = object.if_contains("in"); where && where->as_string() == in) {
      names.emplace_back(object.at("name").as_string());
    }
  }
  return names;
}

std::string RefOf(const json::value& schema) {
  return std::string(schema.as_object().at("$ref").as_string());
}

struct PathCase {
  std::string google_api;                  // a google.api.http template
  std::string openapi;                     // its OpenAPI path
  std::string shape;                       // without parameter names
  std::vector<std::string> multi_segment;  // the parameters that may contain '/'
};

void PrintTo(const PathCase& path_case, std::ostream* out) { *out << path_case.google_api; }

class OpenApiPathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(OpenApiPathTest, ConvertsTemplate) {
  const auto path = openapi_internal::ConvertPathTemplate(GetParam().google_api);
  ASSERT_TRUE(path.has_value());
  EXPECT_EQ(path->Text(), GetParam().openapi);
  EXPECT_EQ(path->Shape(), GetParam().shape);
  std::vector<std::string> multi_segment;
  for (const auto& parameter : path->parameters) {
    if (parameter.multi_segment) multi_segment.push_back(parameter.name);
  }
  EXPECT_EQ(multi_segment, GetParam().multi_segment);
}

INSTANTIATE_TEST_SUITE_P(
    Table, OpenApiPathTest,
    ::testing::Values(
        PathCase{"/api/users", "/api/users", "/api/users", {}},
        PathCase{"/api/users/{id}", "/api/users/{id}", "/api/users/{}", {}},
        PathCase{"/api/data/{key=**}", "/api/data/{key}", "/api/data/{}", {"key"}},
        PathCase{
            "/v1/{name=shelves/*/books/**}:search", "/v1/{name}:search", "/v1/{}:search", {"name"}},
        PathCase{"/v1/{name=shelves/*}", "/v1/{name}", "/v1/{}", {"name"}},
        PathCase{"/v1/{name=*}/x", "/v1/{name}/x", "/v1/{}/x", {}},
        PathCase{"/v1/echo/{nested.inner.id}/all",
                 "/v1/echo/{nested.inner.id}/all",
                 "/v1/echo/{}/all",
                 {}},
        PathCase{"/v1/*/x/**", "/v1/{wildcard_1}/x/{wildcard_2}", "/v1/{}/x/{}", {"wildcard_2"}},
        PathCase{"/v1/{a}/{b}:do", "/v1/{a}/{b}:do", "/v1/{}/{}:do", {}},
        PathCase{"/v1/a%7Bb%7D/c%2Fd", "/v1/a%7Bb%7D/c%2Fd", "/v1/a%7Bb%7D/c%2Fd", {}}),
    [](const ::testing::TestParamInfo<PathCase>& param) { return std::to_string(param.index); });

TEST(OpenApiTest, MalformedPathTemplateIsRejected) {
  EXPECT_FALSE(openapi_internal::ConvertPathTemplate("api/users").has_value());
  EXPECT_FALSE(openapi_internal::ConvertPathTemplate("/api/{id").has_value());
}

TEST(OpenApiTest, DocumentHeaderFollowsTheOptions) {
  OpenApiOptions options;
  options.title = "Test API";
  options.server_url = "https://api.example.com";
  const json::object doc = Document(options);
  EXPECT_EQ(doc.at("openapi"), "3.0.3");
  EXPECT_EQ(At(doc, {"info", "title"}), "Test API");
  EXPECT_EQ(At(doc, {"info", "version"}), "1.2.3");
  EXPECT_EQ(At(doc.at("servers").as_array().at(0), {"url"}), "https://api.example.com");
  EXPECT_FALSE(Document().contains("servers"));
}

TEST(OpenApiTest, EveryRouteHasItsPathAndMethod) {
  const json::object doc = Document();
  const std::map<std::string, std::vector<std::string>> expected = {
      {"/api/users", {"get", "post"}},
      {"/api/users/{id}", {"delete", "get", "patch", "put"}},
      {"/api/data", {"get"}},
      {"/api/data/{key}", {"delete", "get", "put"}},
      {"/api/time", {"get"}},
      {"/api/jobs", {"get", "post"}},
      {"/api/jobs/{id}", {"get"}},
      {"/api/data:watch", {"get"}},
      {"/api/jobs/{id}:watch", {"get"}},
      {"/v1/echo/{nested.id}", {"get", "post"}},
      {"/v1/echo/{nested.id}/payload", {"get", "put"}},
      {"/v1/{name}:search", {"get"}},
      {"/v1/echo/{nested.inner.id}/all", {"delete", "x-switchyard-operations"}},
  };
  std::map<std::string, std::vector<std::string>> actual;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      actual[std::string(path)].emplace_back(method);
    }
  }
  EXPECT_EQ(actual, expected);
}

TEST(OpenApiTest, OperationIdsAreServiceMethodWithSuffixesForAdditionalBindings) {
  const json::object doc = Document();
  EXPECT_EQ(Operation(doc, "/api/users", "post").at("operationId"), "UserService_CreateUser");
  EXPECT_EQ(Operation(doc, "/api/users/{id}", "put").at("operationId"), "UserService_UpdateUser");
  EXPECT_EQ(Operation(doc, "/api/users/{id}", "patch").at("operationId"),
            "UserService_UpdateUser_2");
  EXPECT_EQ(Operation(doc, "/v1/echo/{nested.id}", "get").at("operationId"), "EchoService_Echo_2");
  // Without SourceCodeInfo in the generated descriptors the summary is the method's name.
  EXPECT_EQ(Operation(doc, "/api/users", "post").at("summary"), "CreateUser");
  EXPECT_EQ(Operation(doc, "/api/users", "post").at("tags").as_array(), json::array{"UserService"});
}

TEST(OpenApiTest, CustomHttpMethodIsListedUnderAnExtension) {
  const json::object doc = Document();
  const auto& extra =
      At(doc, {"paths", "/v1/echo/{nested.inner.id}/all", "x-switchyard-operations"}).as_array();
  ASSERT_EQ(extra.size(), 1u);
  EXPECT_EQ(At(extra[0], {"method"}), "PURGE");
  EXPECT_EQ(At(extra[0], {"operation", "operationId"}), "EchoService_Purge_2");
}

TEST(OpenApiTest, PathParametersAreRequiredAndTypedByTheirField) {
  const json::object doc = Document();
  const auto* id = Parameter(Operation(doc, "/api/users/{id}", "get"), "id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->at("in"), "path");
  EXPECT_EQ(id->at("required"), true);
  EXPECT_EQ(At(*id, {"schema", "type"}), "string");

  const auto* nested =
      Parameter(Operation(doc, "/v1/echo/{nested.inner.id}/all", "delete"), "nested.inner.id");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->at("in"), "path");
}

TEST(OpenApiTest, MultiSegmentVariablesBecomeOneParameterThatMayHoldSlashes) {
  const json::object doc = Document();
  const auto* key = Parameter(Operation(doc, "/api/data/{key}", "get"), "key");
  ASSERT_NE(key, nullptr);
  EXPECT_NE(key->at("description").as_string().find("may contain '/'"), std::string::npos);

  const auto* name = Parameter(Operation(doc, "/v1/{name}:search", "get"), "name");
  ASSERT_NE(name, nullptr);
  const std::string description(name->at("description").as_string());
  EXPECT_NE(description.find("shelves/*/books/**"), std::string::npos) << description;

  const auto* id = Parameter(Operation(doc, "/api/users/{id}", "get"), "id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->at("description").as_string().find('/'), std::string::npos);
}

TEST(OpenApiTest, QueryParametersAreTheFieldsNotBoundByPathOrBody) {
  const json::object doc = Document();
  EXPECT_EQ(ParameterNames(Operation(doc, "/api/users", "get"), "query"),
            (std::vector<std::string>{"page_size", "page_token"}));
  EXPECT_TRUE(ParameterNames(Operation(doc, "/api/users", "post"), "query").empty());
  EXPECT_TRUE(ParameterNames(Operation(doc, "/api/users/{id}", "get"), "query").empty());
  EXPECT_EQ(ParameterNames(Operation(doc, "/api/data/{key}", "delete"), "query"),
            (std::vector<std::string>{"expected_version"}));

  // Every request carries the optional X-Request-ID and Grpc-Timeout headers.
  const auto& parameters = Operation(doc, "/api/users", "get").at("parameters").as_array();
  ASSERT_GE(parameters.size(), 2u);
  EXPECT_EQ(RefOf(parameters[parameters.size() - 2]), "#/components/parameters/X-Request-ID");
  EXPECT_EQ(RefOf(parameters.back()), "#/components/parameters/Grpc-Timeout");
}

TEST(OpenApiTest, QueryParametersFlattenNestedFieldsAndDocumentRepeatedAndEnums) {
  const json::object doc = Document();
  const auto& echo_get = Operation(doc, "/v1/echo/{nested.id}", "get");
  const std::vector<std::string> names = ParameterNames(echo_get, "query");
  const auto has = [&](std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  EXPECT_TRUE(has("nested.display_name"));
  EXPECT_TRUE(has("nested.inner.level"));
  EXPECT_TRUE(has("nested.tags"));
  EXPECT_TRUE(has("payload.count"));
  EXPECT_TRUE(has("choice_inner.id"));
  EXPECT_FALSE(has("nested.id"));        // bound by the path
  EXPECT_FALSE(has("labels"));           // maps have no query form
  EXPECT_FALSE(has("repeated_nested"));  // nor repeated messages
  EXPECT_FALSE(has("repeated_nested.id"));

  const auto* repeated = Parameter(echo_get, "repeated_int32");
  ASSERT_NE(repeated, nullptr);
  EXPECT_EQ(At(*repeated, {"schema", "type"}), "array");
  EXPECT_EQ(At(*repeated, {"schema", "items", "format"}), "int32");
  EXPECT_EQ(repeated->at("explode"), true);

  const auto* color = Parameter(echo_get, "color");
  ASSERT_NE(color, nullptr);
  EXPECT_EQ(At(*color, {"schema", "type"}), "string");
  EXPECT_EQ(At(*color, {"schema", "enum"}).as_array(),
            (json::array{"COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN"}));

  const auto* timestamp = Parameter(echo_get, "timestamp");
  ASSERT_NE(timestamp, nullptr);
  EXPECT_EQ(At(*timestamp, {"schema", "format"}), "date-time");
  const auto* wrapper = Parameter(echo_get, "int64_value");
  ASSERT_NE(wrapper, nullptr);
  EXPECT_EQ(At(*wrapper, {"schema", "type"}), "string");
  EXPECT_FALSE(At(*wrapper, {"schema"}).as_object().contains("nullable"));

  const auto* state = Parameter(Operation(doc, "/api/jobs", "get"), "state");
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(At(*state, {"schema", "enum"}).as_array().at(1), "JOB_STATE_QUEUED");

  // The sub-field body leaves the rest of the request to the query string.
  const auto& echo_payload = Operation(doc, "/v1/echo/{nested.id}/payload", "put");
  EXPECT_NE(Parameter(echo_payload, "single_int32"), nullptr);
  EXPECT_EQ(Parameter(echo_payload, "payload.text"), nullptr);
  EXPECT_TRUE(ParameterNames(Operation(doc, "/v1/echo/{nested.id}", "post"), "query").empty());
}

TEST(OpenApiTest, RequestBodyIsTheRequestOrTheBodyField) {
  const json::object doc = Document();
  EXPECT_EQ(RefOf(At(Operation(doc, "/api/users", "post"),
                     {"requestBody", "content", "application/json", "schema"})),
            "#/components/schemas/switchyard.user.v1.CreateUserRequest");
  EXPECT_EQ(RefOf(At(Operation(doc, "/v1/echo/{nested.id}/payload", "put"),
                     {"requestBody", "content", "application/json", "schema"})),
            "#/components/schemas/switchyard.test.v1.Payload");
  EXPECT_FALSE(Operation(doc, "/api/users", "get").contains("requestBody"));
  EXPECT_FALSE(Operation(doc, "/api/users/{id}", "delete").contains("requestBody"));
}

TEST(OpenApiTest, SuccessResponsesFollowTheRoutesStatusAndResponseBody) {
  const json::object doc = Document();
  const auto& create = Operation(doc, "/api/users", "post").at("responses").as_object();
  EXPECT_FALSE(create.contains("200"));
  EXPECT_EQ(RefOf(At(create, {"201", "content", "application/json", "schema"})),
            "#/components/schemas/switchyard.user.v1.User");  // response_body: "user"
  const std::string location(At(create, {"201", "headers", "Location", "description"}).as_string());
  EXPECT_NE(location.find("/api/users/{user.id}"), std::string::npos) << location;
  EXPECT_EQ(RefOf(At(create, {"201", "headers", "X-Request-ID"})),
            "#/components/headers/X-Request-ID");

  const auto& submit = Operation(doc, "/api/jobs", "post").at("responses").as_object();
  EXPECT_TRUE(At(submit, {"202", "headers"}).as_object().contains("Location"));

  const auto& remove = Operation(doc, "/api/users/{id}", "delete").at("responses").as_object();
  ASSERT_TRUE(remove.contains("204"));
  EXPECT_FALSE(remove.at("204").as_object().contains("content"));
  EXPECT_FALSE(At(remove, {"204", "headers"}).as_object().contains("Location"));

  const auto& list = Operation(doc, "/api/users", "get").at("responses").as_object();
  EXPECT_EQ(RefOf(At(list, {"200", "content", "application/json", "schema"})),
            "#/components/schemas/switchyard.user.v1.ListUsersResponse");
  EXPECT_FALSE(At(list, {"200", "headers"}).as_object().contains("Location"));
}

TEST(OpenApiTest, ErrorResponsesAreStatusWithRequestId) {
  const json::object doc = Document();
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (method.starts_with("x-")) continue;
      const auto& responses = operation.as_object().at("responses").as_object();
      for (const char* status : {"400", "404", "409", "429", "503", "504", "default"}) {
        ASSERT_TRUE(responses.contains(status)) << path << " " << method << " " << status;
      }
    }
  }
  const auto& responses = Operation(doc, "/api/users/{id}", "get").at("responses").as_object();
  const std::map<std::string, std::string> expected = {
      {"400", "BadRequest"},      {"404", "NotFound"},           {"409", "Conflict"},
      {"429", "TooManyRequests"}, {"503", "ServiceUnavailable"}, {"504", "GatewayTimeout"},
      {"default", "Error"}};
  for (const auto& [status, name] : expected) {
    EXPECT_EQ(RefOf(responses.at(status)), "#/components/responses/" + name);
    const auto& response = At(doc, {"components", "responses", name});
    EXPECT_EQ(RefOf(At(response, {"content", "application/json", "schema"})),
              "#/components/schemas/Status");
    EXPECT_EQ(RefOf(At(response, {"headers", "X-Request-ID"})),
              "#/components/headers/X-Request-ID");
  }
  const auto& status = At(doc, {"components", "schemas", "Status", "properties"});
  EXPECT_EQ(At(status, {"code", "type"}), "integer");
  EXPECT_EQ(At(status, {"message", "type"}), "string");
  EXPECT_EQ(At(status, {"details", "type"}), "array");
  EXPECT_EQ(At(status, {"details", "items", "type"}), "object");
  EXPECT_TRUE(At(status, {"details", "items", "properties"}).as_object().contains("@type"));
}

TEST(OpenApiTest, SchemasFollowTheProto3JsonMapping) {
  const json::object doc = Document();
  const auto& schemas = At(doc, {"components", "schemas"});
  const auto& user = At(schemas, {"switchyard.user.v1.User", "properties"});
  EXPECT_EQ(At(user, {"id", "type"}), "string");
  EXPECT_EQ(At(user, {"created_at", "type"}), "string");
  EXPECT_EQ(At(user, {"created_at", "format"}), "date-time");

  const auto& item = At(schemas, {"switchyard.data.v1.DataItem", "properties"});
  EXPECT_EQ(At(item, {"version", "type"}), "string");
  EXPECT_EQ(At(item, {"version", "format"}), "int64");

  const auto& job = At(schemas, {"switchyard.data.v1.Job", "properties"});
  EXPECT_EQ(At(job, {"payload", "type"}), "object");  // Struct
  EXPECT_EQ(At(job, {"state", "type"}), "string");
  EXPECT_EQ(At(job, {"state", "enum"}).as_array().size(), 6u);
  EXPECT_EQ(At(job, {"attempts", "format"}), "int32");

  const auto& echo = At(schemas, {"switchyard.test.v1.EchoRequest", "properties"});
  const std::map<std::string, std::pair<std::string, std::string>> scalars = {
      {"single_double", {"number", "double"}},   {"single_float", {"number", "float"}},
      {"single_int32", {"integer", "int32"}},    {"single_int64", {"string", "int64"}},
      {"single_uint32", {"integer", "int64"}},   {"single_uint64", {"string", "uint64"}},
      {"single_sint64", {"string", "int64"}},    {"single_fixed64", {"string", "uint64"}},
      {"single_sfixed32", {"integer", "int32"}}, {"single_bytes", {"string", "byte"}},
      {"timestamp", {"string", "date-time"}},
  };
  for (const auto& [name, type_format] : scalars) {
    EXPECT_EQ(At(echo, {name, "type"}), json::value(type_format.first)) << name;
    EXPECT_EQ(At(echo, {name, "format"}), json::value(type_format.second)) << name;
  }
  EXPECT_EQ(At(echo, {"single_bool", "type"}), "boolean");
  EXPECT_EQ(At(echo, {"duration", "type"}), "string");
  EXPECT_EQ(At(echo, {"field_mask", "type"}), "string");
  EXPECT_EQ(At(echo, {"repeated_string", "type"}), "array");
  EXPECT_EQ(At(echo, {"repeated_string", "items", "type"}), "string");
  EXPECT_EQ(At(echo, {"repeated_timestamp", "items", "format"}), "date-time");
  EXPECT_EQ(RefOf(At(echo, {"repeated_nested", "items"})),
            "#/components/schemas/switchyard.test.v1.Nested");
  EXPECT_EQ(At(echo, {"labels", "type"}), "object");
  EXPECT_EQ(At(echo, {"labels", "additionalProperties", "type"}), "string");
  EXPECT_EQ(At(echo, {"int64_value", "type"}), "string");
  EXPECT_EQ(At(echo, {"int64_value", "nullable"}), true);
  EXPECT_EQ(At(echo, {"bool_value", "type"}), "boolean");
  EXPECT_EQ(At(echo, {"bool_value", "nullable"}), true);
  // A oneof member that is a message: the $ref is wrapped so the description is not ignored.
  EXPECT_EQ(RefOf(At(echo, {"choice_inner", "allOf"}).as_array().at(0)),
            "#/components/schemas/switchyard.test.v1.Inner");
  EXPECT_NE(At(echo, {"choice_text", "description"}).as_string().find("choice_number"),
            std::string::npos);
  // Reachable through the Nested message only.
  EXPECT_TRUE(schemas.as_object().contains("switchyard.test.v1.Inner"));
  // Well-known types are inlined, never components.
  EXPECT_FALSE(schemas.as_object().contains("google.protobuf.Timestamp"));
}

TEST(OpenApiTest, CamelCaseNamesPropertiesAndQueryParametersByTheirJsonNames) {
  OpenApiOptions options;
  options.camel_case = true;
  const json::object doc = Document(options);
  const auto& user = At(doc, {"components", "schemas", "switchyard.user.v1.User", "properties"});
  EXPECT_TRUE(user.as_object().contains("createdAt"));
  EXPECT_FALSE(user.as_object().contains("created_at"));
  const auto& echo =
      At(doc, {"components", "schemas", "switchyard.test.v1.EchoRequest", "properties"});
  EXPECT_TRUE(echo.as_object().contains("otherName"));  // a custom json_name
  EXPECT_EQ(ParameterNames(Operation(doc, "/api/users", "get"), "query"),
            (std::vector<std::string>{"pageSize", "pageToken"}));
  EXPECT_NE(Parameter(Operation(doc, "/v1/echo/{nested.id}", "get"), "nested.displayName"),
            nullptr);
  // Path parameters keep the template's names.
  EXPECT_NE(Parameter(Operation(doc, "/v1/echo/{nested.id}", "get"), "nested.id"), nullptr);
}

// Every $ref in `value` names an existing component.
void ExpectRefsResolve(const json::object& doc, const json::value& value) {
  if (value.is_array()) {
    for (const auto& element : value.as_array()) ExpectRefsResolve(doc, element);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [key, member] : value.as_object()) {
    if (key == "$ref") {
      const std::string ref(member.as_string());
      const std::string prefix = "#/components/";
      ASSERT_EQ(ref.rfind(prefix, 0), 0u) << ref;
      const auto slash = ref.find('/', prefix.size());
      ASSERT_NE(slash, std::string::npos) << ref;
      const auto* section = At(doc, {"components"})
                                .as_object()
                                .if_contains(ref.substr(prefix.size(), slash - prefix.size()));
      ASSERT_NE(section, nullptr) << ref;
      EXPECT_TRUE(section->as_object().contains(ref.substr(slash + 1))) << ref;
    } else {
      ExpectRefsResolve(doc, member);
    }
  }
}

TEST(OpenApiTest, EveryReferenceResolves) {
  const json::object doc = Document();
  ExpectRefsResolve(doc, doc);
}

// Keys sorted at every level, so one set of routes always gives the same bytes.
void ExpectSortedKeys(const json::value& value) {
  if (value.is_array()) {
    for (const auto& element : value.as_array()) ExpectSortedKeys(element);
  } else if (value.is_object()) {
    std::string previous;
    bool first = true;
    for (const auto& [key, member] : value.as_object()) {
      if (!first) {
        EXPECT_LT(previous, std::string(key));
      }
      previous = std::string(key);
      first = false;
      ExpectSortedKeys(member);
    }
  }
}

TEST(OpenApiTest, OutputIsDeterministicAndSorted) {
  const std::string first = Build();
  EXPECT_EQ(first, Build());
  ExpectSortedKeys(json::parse(first));
  EXPECT_EQ(first.find('\n'), std::string::npos);  // compact
}

// The document the contract test validates with kin-openapi (tests/contract/openapi_check.sh):
// written to $SWITCHYARD_OPENAPI_OUT when that is set.
TEST(OpenApiTest, WritesDocumentForTheContractCheck) {
  OpenApiOptions options;
  options.server_url = "http://127.0.0.1:8080";
  const std::string document = Build(options);
  ASSERT_TRUE(json::parse(document).is_object());
  const char* out = std::getenv("SWITCHYARD_OPENAPI_OUT");
  if (out == nullptr || *out == '\0') return;
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << document << '\n';
  file.close();
  ASSERT_TRUE(file) << "cannot write " << out;
}

}  // namespace
}  // namespace switchyard::gateway

namespace switchyard::gateway {
namespace {

std::vector<std::string> Required(const json::object& doc, std::string_view schema) {
  std::vector<std::string> names;
  const auto& object = At(doc, {"components", "schemas", schema}).as_object();
  if (const auto* required = object.if_contains("required")) {
    for (const auto& name : required->as_array()) names.emplace_back(name.as_string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(OpenApiTest, StreamRoutesOfferSseAndNdjsonAndTheLastEventIdHeader) {
  const json::object doc = Document();
  const auto& watch = Operation(doc, "/api/data:watch", "get");
  const auto& content = At(watch, {"responses", "200", "content"}).as_object();
  ASSERT_TRUE(content.contains("text/event-stream"));
  ASSERT_TRUE(content.contains("application/x-ndjson"));
  EXPECT_FALSE(content.contains("application/json"));
  EXPECT_EQ(RefOf(At(content, {"application/x-ndjson", "schema"})),
            "#/components/schemas/switchyard.data.v1.WatchDataResponse");
  const std::string sse(At(content, {"text/event-stream", "schema", "description"}).as_string());
  for (const char* part : {"`id:` its `position`", "`event:` its `kind`", "event: error",
                           "switchyard.data.v1.WatchDataResponse"}) {
    EXPECT_NE(sse.find(part), std::string::npos) << part << " in " << sse;
  }
  bool last_event_id = false;
  bool grpc_timeout = false;
  for (const auto& parameter : watch.at("parameters").as_array()) {
    const auto& object = parameter.as_object();
    if (object.contains("name") && object.at("name") == "Last-Event-ID") {
      last_event_id = true;
      EXPECT_EQ(object.at("in"), "header");
    }
    if (object.contains("$ref") && object.at("$ref") == "#/components/parameters/Grpc-Timeout") {
      grpc_timeout = true;
    }
  }
  EXPECT_TRUE(last_event_id);
  EXPECT_FALSE(grpc_timeout);  // the request deadline does not apply to a stream
  // Unary routes keep their JSON response.
  EXPECT_TRUE(At(Operation(doc, "/api/time", "get"), {"responses", "200", "content"})
                  .as_object()
                  .contains("application/json"));
}

TEST(OpenApiTest, RequiredListsWhatTheServiceRequiresAndWhatTheGatewayAlwaysWrites) {
  const json::object doc = Document();
  // Requests: the fields annotated field_required, nothing else.
  EXPECT_EQ(Required(doc, "switchyard.user.v1.CreateUserRequest"),
            (std::vector<std::string>{"email", "name"}));
  EXPECT_EQ(Required(doc, "switchyard.data.v1.SubmitJobRequest"),
            (std::vector<std::string>{"type"}));
  EXPECT_EQ(Required(doc, "switchyard.data.v1.PutDataRequest"), std::vector<std::string>{});
  // Responses: every field the printer always writes; message fields may be absent.
  EXPECT_EQ(Required(doc, "switchyard.user.v1.User"),
            (std::vector<std::string>{"email", "id", "name"}));
  EXPECT_EQ(Required(doc, "switchyard.user.v1.ListUsersResponse"),
            (std::vector<std::string>{"next_page_token", "users"}));
  EXPECT_EQ(Required(doc, "switchyard.data.v1.WatchDataResponse"),
            (std::vector<std::string>{"kind", "position"}));
  EXPECT_EQ(
      Required(doc, "switchyard.data.v1.Job"),
      (std::vector<std::string>{"attempts", "id", "last_error", "max_attempts", "state", "type"}));
}

}  // namespace
}  // namespace switchyard::gateway
