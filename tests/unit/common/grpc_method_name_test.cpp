// A served method is named by its generated request method alone: the request and response types
// come from the pointer's type, the name from the class protoc declares it in, checked against
// the descriptor pool. EchoService (tests/proto) has five methods of identical types, the case
// that matching by types alone could not tell apart.

#include <memory>
#include <string>
#include <string_view>

#include "grpc/health/v1/health.grpc.pb.h"
#include <boost/asio/awaitable.hpp>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/grpc/grpc_runtime.hpp"
#include "common/grpc/grpc_server.hpp"
#include "common/grpc/grpc_stream.hpp"
#include "switchyard/test/v1/echo_service.grpc.pb.h"

namespace switchyard::rpc {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using switchyard::test::v1::EchoRequest;
using switchyard::test::v1::EchoResponse;
using switchyard::test::v1::EchoService;
using namespace std::chrono_literals;

// What Register derives for a unary request method, as callers pass it.
template <class Base, class Request, class Response>
absl::StatusOr<std::string> UnaryName(UnaryRequestMethod<Base, Request, Response>) {
  return MethodName<Base, Request, Response>(RpcKind::kUnary);
}

TEST(MethodNameTest, SameTypedMethodsEachGetTheirOwnName) {
  using Service = EchoService::AsyncService;
  const struct {
    absl::StatusOr<std::string> derived;
    std::string_view expected;
  } cases[] = {
      {UnaryName(&Service::RequestEcho), "Echo"},
      {UnaryName(&Service::RequestEchoPayload), "EchoPayload"},
      {UnaryName(&Service::RequestEchoResponseBody), "EchoResponseBody"},
      {UnaryName(&Service::RequestSearch), "Search"},
      {UnaryName(&Service::RequestPurge), "Purge"},
      {UnaryName(&Health::AsyncService::RequestCheck), "Check"},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(c.derived.ok()) << c.expected << ": " << c.derived.status();
    EXPECT_EQ(*c.derived, c.expected);
  }
}

TEST(MethodNameTest, StreamingKindMustMatchTheDescriptor) {
  using WatchClass = Health::WithAsyncMethod_Watch<Health::Service>;
  const auto watch =
      MethodName<WatchClass, HealthCheckRequest, HealthCheckResponse>(RpcKind::kServerStreaming);
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ(*watch, "Watch");
  const auto as_unary =
      MethodName<WatchClass, HealthCheckRequest, HealthCheckResponse>(RpcKind::kUnary);
  EXPECT_EQ(as_unary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(as_unary.status().message().find("grpc.health.v1.Health.Watch"), std::string::npos)
      << as_unary.status();
}

// Wrong inputs fail with a reason instead of serving under a wrong name.
TEST(MethodNameTest, UnderivableNamesFailWithTheirCode) {
  const auto& request = *HealthCheckRequest::descriptor();
  const auto& response = *HealthCheckResponse::descriptor();
  const struct {
    std::string_view declaring_class;
    const google::protobuf::Descriptor& request;
    absl::StatusCode code;
  } cases[] = {
      // Not a generated class.
      {"switchyard::MyHealth", request, absl::StatusCode::kInvalidArgument},
      {"WithAsyncMethod_Check<x>", request, absl::StatusCode::kInvalidArgument},
      {"grpc::health::v1::Health::WithAsyncMethod_<x>", request,
       absl::StatusCode::kInvalidArgument},
      // Generated-looking, but absent from the descriptor pool.
      {"no::such::Service::WithAsyncMethod_Check<x>", request, absl::StatusCode::kNotFound},
      {"grpc::health::v1::Health::WithAsyncMethod_Nope<x>", request, absl::StatusCode::kNotFound},
      // The method exists, with other types.
      {"grpc::health::v1::Health::WithAsyncMethod_Check<x>", response,
       absl::StatusCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    const auto name = MethodName(c.declaring_class, c.request, response, RpcKind::kUnary);
    EXPECT_EQ(name.status().code(), c.code) << c.declaring_class << ": " << name.status();
  }
}

// A wrapper around a generated service whose request method is not protoc's cannot be named.
class RenamedHealth : public Health::AsyncService {
 public:
  void RequestOther(grpc::ServerContext* context, HealthCheckRequest* request,
                    grpc::ServerAsyncResponseWriter<HealthCheckResponse>* writer,
                    grpc::CompletionQueue* cq, grpc::ServerCompletionQueue* server_cq, void* tag) {
    RequestCheck(context, request, writer, cq, server_cq, tag);
  }
};

TEST(RegisterTest, RequestMethodOfAHandWrittenClassIsRefused) {
  Logger logger("test", "0", LogLevel::kError);
  RenamedHealth service;
  const auto registration = Register(
      service, &RenamedHealth::RequestOther,
      [](RpcContext&, const HealthCheckRequest&, HealthCheckResponse&)
          -> boost::asio::awaitable<grpc::Status> { co_return grpc::Status::OK; },
      logger);
  EXPECT_EQ(registration.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(registration.status().message().find("RenamedHealth"), std::string::npos)
      << registration.status();
}

// Each of EchoService's same-typed methods, served over an in-process channel, reaches the
// handler registered for it, which sees its own name.
TEST(RegisterTest, SameTypedMethodsReachTheirOwnHandlers) {
  using Service = EchoService::AsyncService;
  Logger logger("test", "0", LogLevel::kError);
  Service service;
  Runtime runtime(1);
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  runtime.AddServerQueues(builder);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  runtime.Start();

  // Answers with the name it was registered under and the one the call reports.
  const auto answer = [](std::string registered) {
    return [registered](RpcContext& rpc, const EchoRequest&,
                        EchoResponse& response) -> boost::asio::awaitable<grpc::Status> {
      response.mutable_payload()->set_text(registered + "/" + rpc.method);
      co_return grpc::Status::OK;
    };
  };
  for (const absl::Status& status :
       {Serve(runtime, Register(service, &Service::RequestEcho, answer("Echo"), logger)),
        Serve(runtime,
              Register(service, &Service::RequestEchoPayload, answer("EchoPayload"), logger)),
        Serve(runtime, Register(service, &Service::RequestEchoResponseBody,
                                answer("EchoResponseBody"), logger)),
        Serve(runtime, Register(service, &Service::RequestSearch, answer("Search"), logger)),
        Serve(runtime, Register(service, &Service::RequestPurge, answer("Purge"), logger))}) {
    ASSERT_TRUE(status.ok()) << status;
  }

  auto stub = EchoService::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  using Call =
      grpc::Status (EchoService::Stub::*)(grpc::ClientContext*, const EchoRequest&, EchoResponse*);
  const std::pair<std::string, Call> calls[] = {
      {"Echo", &EchoService::Stub::Echo},
      {"EchoPayload", &EchoService::Stub::EchoPayload},
      {"EchoResponseBody", &EchoService::Stub::EchoResponseBody},
      {"Search", &EchoService::Stub::Search},
      {"Purge", &EchoService::Stub::Purge},
  };
  for (const auto& [name, call] : calls) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    EchoResponse response;
    const grpc::Status status = ((*stub).*call)(&context, EchoRequest(), &response);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
    EXPECT_EQ(response.payload().text(), name + "/" + name);
  }
  server->Shutdown(std::chrono::system_clock::now() + 1s);
  runtime.Stop();
}

}  // namespace
}  // namespace switchyard::rpc
