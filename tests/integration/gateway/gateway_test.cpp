// The gateway in front of a real user-service (on a real redis-server) and of an extra annotated
// test service (EchoService from tests/proto) that the gateway reaches from its annotations
// alone, over real HTTP and gRPC on loopback.

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "common/service/service_host.hpp"
#include "gateway/gateway_app.hpp"
#include "switchyard/test/v1/echo_service.grpc.pb.h"
#include "tests/integration/user-service/user_service_harness.hpp"
#include "tests/support/http_test_client.hpp"

namespace switchyard::gateway {
namespace {

using namespace std::chrono_literals;
using switchyard::testing::HttpResult;
using switchyard::testing::HttpSend;
using switchyard::testing::HttpTestClient;
namespace echo = switchyard::test::v1;

// EchoService: answers with what it was sent, so a test sees exactly how the gateway bound it.
class EchoServer {
 public:
  explicit EchoServer(Logger& logger) : host_(Options(), logger) {
    using Service = echo::EchoService::AsyncService;
    const auto echo_request =
        [](rpc::RpcContext& rpc, const echo::EchoRequest& request,
           echo::EchoResponse& response) -> boost::asio::awaitable<grpc::Status> {
      // Response metadata named x-... becomes a response header at the gateway.
      rpc.server_context.AddInitialMetadata("x-echo-fields",
                                            std::to_string(request.ByteSizeLong()));
      rpc.server_context.AddInitialMetadata("internal-only", "not forwarded");
      *response.mutable_request() = request;
      *response.mutable_payload() = request.payload();
      co_return grpc::Status::OK;
    };
    host_.AddService(service_)
        .Serve(&Service::RequestEcho, echo_request)
        .Serve(&Service::RequestEchoPayload, echo_request)
        .Serve(&Service::RequestEchoResponseBody, echo_request)
        .Serve(&Service::RequestSearch, echo_request)
        .Serve(&Service::RequestPurge, echo_request);
    status_ = host_.Start();
    if (!status_.ok()) return;
    host_.SetServing(true);
  }

  bool ok() const { return status_.ok(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(host_.port()); }

 private:
  static ServiceHostOptions Options() {
    ServiceHostOptions options;
    options.listen_address = "127.0.0.1:0";
    options.shutdown_grace = 1s;
    options.health_services = {"switchyard.test.v1.EchoService"};
    return options;
  }

  echo::EchoService::AsyncService service_;
  ServiceHost host_;
  absl::Status status_;
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(users_.Ready());
    ASSERT_TRUE(echo_.ok());
    Start(GatewayConfig());
  }

  void Start(GatewayConfig config) {
    gateway_.reset();
    config.http.listen_address = "127.0.0.1:0";
    config.shards = 2;
    config.shutdown_grace = 2s;
    config.metrics_address = "127.0.0.1:0";
    config.services["switchyard.user.v1.UserService"] = users_.address();
    config.services["switchyard.test.v1.EchoService"] = echo_.address();
    if (config.rest.cors_origins.empty()) config.rest.cors_origins = {"https://app.example"};
    gateway_ = std::make_unique<GatewayApp>(std::move(config), logger_);
    const absl::Status status = gateway_->Start();
    ASSERT_TRUE(status.ok()) << status;
    port_ = gateway_->port();
  }

  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) {
    return HttpSend(port_, method, target, body, headers);
  }

  std::string CreateUser(const std::string& email) {
    const HttpResult created =
        Send("POST", "/api/users", R"({"name":"Ada","email":")" + email + R"("})");
    EXPECT_EQ(created.status, 201u) << created.body;
    return std::string(created.Json().at("id").as_string());
  }

  Logger logger_{"gateway", "test", LogLevel::kWarn};
  Logger echo_logger_{"echo", "test", LogLevel::kWarn};
  user::UserServiceHarness users_;
  EchoServer echo_{echo_logger_};
  std::unique_ptr<GatewayApp> gateway_;
  unsigned short port_ = 0;
};

TEST_F(GatewayTest, ExtraAnnotatedServiceIsRoutedFromItsAnnotationsAlone) {
  // body "*" plus a path variable into a nested field.
  HttpResult r = Send("POST", "/v1/echo/abc",
                      R"({"single_int64":"9007199254740993","color":"COLOR_RED","otherName":"x"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto json = r.Json();
  EXPECT_EQ(json.at("request").at("nested").at("id").as_string(), "abc");
  EXPECT_EQ(json.at("request").at("single_int64").as_string(),
            "9007199254740993");  // int64 as text
  EXPECT_EQ(json.at("request").at("color").as_string(), "COLOR_RED");
  EXPECT_EQ(json.at("request").at("aliased").as_string(), "x");
  EXPECT_FALSE(r.Header("x-echo-fields").empty());
  EXPECT_EQ(r.Header("internal-only"), "");

  // additional_bindings GET with query binding: nesting, repeated, enums by name or number.
  r = Send("GET",
           "/v1/echo/a%20b?single_int32=-5&repeated_int32=1&repeated_int32=2&nested.inner.level=3"
           "&color=2&timestamp=2024-01-02T03:04:05Z&duration=1.5s&field_mask=a.bC,d");
  ASSERT_EQ(r.status, 200u) << r.body;
  json = r.Json();
  const auto& request = json.at("request");
  EXPECT_EQ(request.at("nested").at("id").as_string(), "a b");
  EXPECT_EQ(request.at("single_int32").as_int64(), -5);
  EXPECT_EQ(request.at("repeated_int32").as_array().size(), 2u);
  EXPECT_EQ(request.at("nested").at("inner").at("level").as_int64(), 3);
  EXPECT_EQ(request.at("color").as_string(), "COLOR_GREEN");
  EXPECT_EQ(request.at("timestamp").as_string(), "2024-01-02T03:04:05Z");
  EXPECT_EQ(request.at("duration").as_string(), "1.500s");

  // body "payload": the JSON body is one field of the request.
  r = Send("PUT", "/v1/echo/p1/payload", R"({"text":"hello","count":"7"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("request").at("payload").at("text").as_string(), "hello");

  // response_body "payload": the response is one field of the reply.
  r = Send("GET", "/v1/echo/p1/payload");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(r.Json().as_object().contains("text")) << r.body;
  EXPECT_FALSE(r.Json().as_object().contains("request")) << r.body;

  // A multi-segment variable with ** and a custom verb.
  r = Send("GET", "/v1/shelves/s1/books/a/b/c:search");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("request").at("name").as_string(), "shelves/s1/books/a/b/c");

  // A custom HTTP method from additional_bindings.
  r = Send("PURGE", "/v1/echo/inner-7/all");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Json().at("request").at("nested").at("inner").at("id").as_string(), "inner-7");
}

TEST_F(GatewayTest, StrictInputNamesTheOffendingFieldOrParameter) {
  HttpResult r = Send("POST", "/v1/echo/x", R"({"no_such_field":1})");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("no_such_field"), std::string::npos) << r.body;
  r = Send("GET", "/v1/echo/x?bogus=1");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("bogus"), std::string::npos) << r.body;
  r = Send("GET", "/v1/echo/x?single_int32=99999999999");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("single_int32"), std::string::npos) << r.body;
  r = Send("POST", "/v1/echo/x?single_int32=1", "{}");
  EXPECT_EQ(r.status, 400u) << r.body;  // body "*" leaves nothing to the query string
  r = Send("GET", "/v1/echo/bad%zzescape");
  EXPECT_EQ(r.status, 400u) << r.body;
}

// A Timestamp is read by one parser whether it comes in the body or the query string: lowercase
// 't' and 'z' are a 400 naming the field either way.
TEST_F(GatewayTest, LowercaseTimestampIsRejectedInBodyAndQueryAlike) {
  const HttpResult body = Send("POST", "/v1/echo/x", R"({"timestamp":"2024-01-02t03:04:05z"})");
  const HttpResult query = Send("GET", "/v1/echo/x?timestamp=2024-01-02t03:04:05z");
  for (const HttpResult* r : {&body, &query}) {
    EXPECT_EQ(r->status, 400u) << r->body;
    const std::string message(r->Json().at("message").as_string());
    EXPECT_NE(message.find("field \"timestamp\""), std::string::npos) << message;
    EXPECT_NE(message.find("\"2024-01-02t03:04:05z\" is not an RFC 3339 timestamp"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("uppercase T and Z"), std::string::npos) << message;
  }
  const HttpResult ok = Send("GET", "/v1/echo/x?timestamp=2024-01-02T03:04:05Z");
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(ok.Json().at("request").at("timestamp").as_string(), "2024-01-02T03:04:05Z");
}

TEST_F(GatewayTest, ReadyWhenEveryUpstreamServes) {
  const HttpResult r = Send("GET", "/health/ready");
  EXPECT_EQ(r.status, 200u) << r.body;
  const auto upstreams = r.Json().at("upstreams").as_array();
  ASSERT_EQ(upstreams.size(), 2u);
  for (const auto& upstream : upstreams) EXPECT_EQ(upstream.at("status").as_string(), "SERVING");
  EXPECT_EQ(Send("GET", "/health/live").status, 200u);
}

TEST_F(GatewayTest, RequestIdReachesUserServiceLogAndComesBack) {
  const HttpResult r = Send("GET", "/api/users?page_size=1", "", {{"X-Request-ID", "gw-trace-77"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Header("x-request-id"), "gw-trace-77");
  const std::string log = users_.ReadLog();
  const auto at = log.find("\"request_id\":\"gw-trace-77\"");
  ASSERT_NE(at, std::string::npos) << log;
  const auto begin = log.rfind('\n', at) + 1;
  EXPECT_NE(log.substr(begin, at - begin).find("\"method\":\"ListUsers\""), std::string::npos);
}

TEST_F(GatewayTest, UpstreamDownGives503WithinDeadlineThenRecovers) {
  const std::string id = CreateUser("down@example.com");
  users_.StopService();
  const auto started = std::chrono::steady_clock::now();
  HttpResult r = Send("GET", "/api/users/" + id);
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << "error leaks an address: " << r.body;
  const HttpResult ready = Send("GET", "/health/ready");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_NE(ready.body.find(R"("service":"switchyard.user.v1.UserService","status":)"),
            std::string::npos);
  EXPECT_EQ(ready.body.find("127.0.0.1"), std::string::npos) << "readiness leaks an address";
  EXPECT_NE(ready.body.find(R"("status":"UNREACHABLE")"), std::string::npos) << ready.body;

  ASSERT_TRUE(users_.StartService());
  EXPECT_TRUE(testing::WaitFor([&] { return Send("GET", "/api/users/" + id).status == 200; }, 10s));
  // Ready again once every shard of the restarted service has its Redis link back.
  EXPECT_TRUE(testing::WaitFor([&] { return Send("GET", "/health/ready").status == 200; }, 10s))
      << Send("GET", "/health/ready").body;
}

TEST_F(GatewayTest, GrpcTimeoutBecomesTheDeadlineAnd504) {
  const std::string id = CreateUser("slow@example.com");
  users_.redis().Pause();
  const auto started = std::chrono::steady_clock::now();
  const HttpResult r = Send("GET", "/api/users/" + id, "", {{"Grpc-Timeout", "200m"}});
  const auto took = std::chrono::steady_clock::now() - started;
  users_.redis().Resume();
  EXPECT_EQ(r.status, 504u) << r.body;
  EXPECT_LT(took, 900ms);
  EXPECT_TRUE(testing::WaitFor([&] { return Send("GET", "/api/users/" + id).status == 200; }, 10s));
}

TEST_F(GatewayTest, InFlightCapAnswers429) {
  GatewayConfig config;
  config.rest.max_in_flight = 1;
  Start(std::move(config));
  const std::string id = CreateUser("cap@example.com");
  users_.redis().Pause();  // every admitted request now waits on Redis
  constexpr int kClients = 12;
  std::vector<std::future<std::pair<unsigned, std::chrono::steady_clock::duration>>> results;
  for (int i = 0; i < kClients; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      const auto started = std::chrono::steady_clock::now();
      const unsigned status = Send("GET", "/api/users/" + id).status;
      return std::make_pair(status, std::chrono::steady_clock::now() - started);
    }));
  }
  int rejected = 0;
  for (auto& result : results) {
    const auto [status, took] = result.get();
    if (status == 429) {
      ++rejected;
      EXPECT_LT(took, 500ms) << "a 429 is immediate";
    } else {
      EXPECT_EQ(status, 503u);  // admitted, then Redis's command timeout
    }
  }
  users_.redis().Resume();
  // One slot: while one request waits on the paused Redis, the others are turned away.
  EXPECT_GE(rejected, 1);
  EXPECT_LT(rejected, kClients);
  EXPECT_TRUE(testing::WaitFor([&] { return Send("GET", "/api/users/" + id).status == 200; }, 10s));
}

TEST_F(GatewayTest, CorsPreflightAndResponseHeadersForAllowedOriginsOnly) {
  HttpResult r =
      Send("OPTIONS", "/api/users", "",
           {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(r.Header("access-control-allow-methods"), "GET, POST");
  r = Send("GET", "/api/users", "", {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "https://app.example");
  EXPECT_NE(r.Header("access-control-expose-headers").find("X-Request-ID"), std::string::npos);
  r = Send("OPTIONS", "/api/users", "",
           {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 403u);
  r = Send("GET", "/api/users", "", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.Header("access-control-allow-origin"), "");
}

TEST_F(GatewayTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  HttpTestClient client(port_);
  EXPECT_EQ(client.Send("GET", "/health/live").status, 200u);
  EXPECT_EQ(client.Send("GET", "/api/users?page_size=1").status, 200u);
  client.WriteRaw(
      "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-ID: one\r\n\r\n"
      "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-ID: two\r\n\r\n"
      "GET /api/users?page_size=2 HTTP/1.1\r\nHost: x\r\nX-Request-ID: three\r\n\r\n");
  const HttpResult first = client.Read();
  const HttpResult second = client.Read();
  const HttpResult third = client.Read();
  EXPECT_EQ(first.Header("x-request-id"), "one");
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(second.Header("x-request-id"), "two");
  EXPECT_EQ(second.status, 404u);
  EXPECT_EQ(third.Header("x-request-id"), "three");
  EXPECT_EQ(third.status, 200u);
}

TEST_F(GatewayTest, OversizedHeadersGet431AndGarbageGets400) {
  HttpTestClient big(port_);
  big.WriteRaw("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
               "\r\n\r\n");
  const HttpResult r = big.Read();
  EXPECT_EQ(r.status, 431u);
  EXPECT_NE(r.body.find("\"code\""), std::string::npos) << r.body;

  HttpTestClient garbage(port_);
  garbage.WriteRaw("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(garbage.Read().status, 400u);
  // The gateway keeps serving others.
  EXPECT_EQ(Send("GET", "/health/live").status, 200u);
}

TEST_F(GatewayTest, SlowHeadersAreCutOffWhileOthersAreServed) {
  GatewayConfig config;
  config.http.header_timeout = 300ms;
  Start(std::move(config));
  HttpTestClient slow(port_);
  slow.WriteRaw("GET /health/live HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  EXPECT_EQ(Send("GET", "/health/live").status, 200u);        // others are served meanwhile
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.Closed());  // blocks until the gateway closes the connection
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(GatewayTest, MetricsUseRouteTemplatesNeverRawPaths) {
  const std::string id = CreateUser("metrics@example.com");
  EXPECT_EQ(Send("GET", "/api/users/" + id).status, 200u);
  EXPECT_EQ(Send("GET", "/api/users/3f2504e0-4f89-41d3-9a0c-0305e82c3301").status, 404u);
  EXPECT_EQ(Send("BREW", "/coffee").status, 404u);
  const std::string text =
      HttpSend(static_cast<unsigned short>(gateway_->metrics().port()), "GET", "/metrics").body;
  EXPECT_NE(text.find(R"(http_requests_total{code="200",method="GET",route="/api/users/{id}"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(http_requests_total{code="404",method="GET",route="/api/users/{id}"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(http_requests_total{code="404",method="OTHER",route="unmatched"} 1)"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          R"(upstream_request_duration_seconds_count{code="NOT_FOUND",method="GetUser",service="switchyard.user.v1.UserService"} 1)"),
      std::string::npos);
  EXPECT_NE(text.find("http_requests_in_flight 0"), std::string::npos);
  EXPECT_EQ(text.find(id), std::string::npos) << "an id leaked into a label";
}

TEST_F(GatewayTest, ShutdownUnderLoadFinishesEveryAcceptedRequest) {
  const std::string id = CreateUser("drain@example.com");
  // Requests in flight when the stop comes: they wait on a paused Redis.
  users_.redis().Pause();
  constexpr int kInFlight = 8;
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  for (int i = 0; i < kInFlight; ++i) {
    clients.push_back(std::make_unique<HttpTestClient>(port_));
    clients.back()->WriteRaw("GET /api/users/" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  // An idle keep-alive connection, which the stop may simply close.
  HttpTestClient idle(port_);
  ASSERT_EQ(idle.Send("GET", "/health/live").status, 200u);
  // The stop begins while those requests wait; a moment later Redis answers again.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        const std::string text =
            HttpSend(static_cast<unsigned short>(gateway_->metrics().port()), "GET", "/metrics")
                .body;
        return text.find("http_requests_in_flight " + std::to_string(kInFlight)) !=
               std::string::npos;
      },
      5s));
  auto stopped = std::async(std::launch::async, [&] { gateway_->Shutdown(); });
  EXPECT_TRUE(testing::WaitFor([&] { return idle.Closed(); }, 5s));  // idle ones go at once
  users_.redis().Resume();
  for (auto& client : clients) {
    const HttpResult r = client->Read();
    EXPECT_EQ(r.status, 200u) << "an accepted request failed during shutdown: " << r.body;
    EXPECT_EQ(r.Header("connection"), "close");
  }
  stopped.get();
  // Nothing new is accepted afterwards.
  EXPECT_THROW(HttpTestClient refused(port_), boost::system::system_error);
}

TEST_F(GatewayTest, ServesOpenApiAndTheConsole) {
  HttpResult r = Send("GET", "/openapi.json");
  ASSERT_EQ(r.status, 200u);
  const auto document = r.Json();
  EXPECT_EQ(document.at("openapi").as_string(), "3.0.3");
  EXPECT_TRUE(document.at("paths").as_object().contains("/api/users/{id}"));
  EXPECT_TRUE(document.at("paths").as_object().contains("/v1/echo/{nested.id}"));

  r = Send("GET", "/");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>Switchyard console</title>"), std::string::npos);
  EXPECT_NE(r.Header("content-security-policy").find("default-src 'self'"), std::string::npos);
  r = Send("GET", "/console/app.js");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Send("GET", "/console/missing.js").status, 404u);
  EXPECT_EQ(Send("POST", "/", "{}").status, 404u);
}

TEST_F(GatewayTest, CamelCaseOutputByConfiguration) {
  GatewayConfig config;
  config.rest.camel_case_json = true;
  Start(std::move(config));
  const HttpResult r =
      Send("POST", "/api/users", R"({"name":"Camel","email":"camel@example.com"})");
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_TRUE(r.Json().as_object().contains("createdAt")) << r.body;
  EXPECT_FALSE(r.Json().as_object().contains("created_at")) << r.body;
}

}  // namespace
}  // namespace switchyard::gateway
