// ServiceHost's own grpc.health.v1 and server reflection (v1 and v1alpha), over real gRPC on
// loopback: what a load balancer, a kubelet probe or grpcurl sees.

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/service/logger.hpp"
#include "common/service/service_host.hpp"
#include "switchyard/user/v1/user_service.grpc.pb.h"

namespace switchyard {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
namespace refl = grpc::reflection::v1;
using namespace std::chrono_literals;

constexpr char kService[] = "switchyard.test.v1.Thing";

class HealthReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceHostOptions options;
    options.listen_address = "127.0.0.1:0";
    options.shards = 2;
    options.shutdown_grace = 60s;  // a watch that held shutdown up would show as a hang
    options.health_services = {kService};
    host_ = std::make_unique<ServiceHost>(options, logger_);
    ASSERT_TRUE(host_->Start().ok());
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                   grpc::InsecureChannelCredentials());
    health_ = Health::NewStub(channel_);
  }

  void TearDown() override {
    if (host_) host_->Shutdown();
  }

  grpc::Status Check(const std::string& service, HealthCheckResponse& response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    HealthCheckRequest request;
    request.set_service(service);
    return health_->Check(&context, request, &response);
  }

  // One reflection stream: every request in turn, the answers in order.
  template <class Stub, class Request, class Response>
  std::vector<Response> Reflect(const std::vector<Request>& requests) {
    auto stub = Stub::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    auto stream = stub->ServerReflectionInfo(&context);
    std::vector<Response> answers;
    for (const auto& request : requests) {
      EXPECT_TRUE(stream->Write(request));
      Response response;
      EXPECT_TRUE(stream->Read(&response));
      answers.push_back(response);
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return answers;
  }

  std::vector<refl::ServerReflectionResponse> Reflect(
      const std::vector<refl::ServerReflectionRequest>& requests) {
    return Reflect<refl::ServerReflection, refl::ServerReflectionRequest,
                   refl::ServerReflectionResponse>(requests);
  }

  Logger logger_{"test", "0", LogLevel::kError};
  std::unique_ptr<ServiceHost> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Health::Stub> health_;
};

std::vector<std::string> FileNames(const refl::FileDescriptorResponse& files) {
  std::vector<std::string> names;
  for (const auto& bytes : files.file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto proto;
    EXPECT_TRUE(proto.ParseFromString(bytes));
    names.push_back(proto.name());
  }
  return names;
}

TEST_F(HealthReflectionTest, CheckFollowsSetServingForTheServerAndEachService) {
  HealthCheckResponse response;
  ASSERT_TRUE(Check("", response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  host_->SetServing(true);
  ASSERT_TRUE(Check("", response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  ASSERT_TRUE(Check(kService, response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  const grpc::Status unknown = Check("no.such.Service", response);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find("no.such.Service"), std::string::npos);
}

TEST_F(HealthReflectionTest, ShardReadinessServesOnlyWhenEveryShardIsReady) {
  HealthCheckResponse response;
  host_->SetShardReady(0, true);
  ASSERT_TRUE(Check("", response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING) << "shard 1 has not reported";
  host_->SetShardReady(1, true);
  ASSERT_TRUE(Check(kService, response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  host_->SetShardReady(1, true);  // a repeated report changes nothing
  host_->SetShardReady(0, false);
  ASSERT_TRUE(Check("", response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  host_->SetShardReady(0, true);
  ASSERT_TRUE(Check("", response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  host_->SetShardReady(7, false);  // no such shard: ignored
  ASSERT_TRUE(Check("", response).ok());
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
}

// A request method that is not protoc's: nothing tells which method it serves.
class RenamedUserService : public switchyard::user::v1::UserService::AsyncService {
 public:
  void RequestSomeUser(
      grpc::ServerContext* context, switchyard::user::v1::GetUserRequest* request,
      grpc::ServerAsyncResponseWriter<switchyard::user::v1::GetUserResponse>* writer,
      grpc::CompletionQueue* cq, grpc::ServerCompletionQueue* server_cq, void* tag) {
    RequestGetUser(context, request, writer, cq, server_cq, tag);
  }
};

TEST(ServiceHostStartTest, AMethodWhoseNameCannotBeDerivedFailsTheStartBeforeBinding) {
  Logger logger("test", "0", LogLevel::kError);
  ServiceHostOptions options;
  options.listen_address = "127.0.0.1:0";
  ServiceHost host(options, logger);
  RenamedUserService service;
  host.AddService(service).Serve(
      &RenamedUserService::RequestSomeUser,
      [](rpc::RpcContext&, const switchyard::user::v1::GetUserRequest&,
         switchyard::user::v1::GetUserResponse&) -> boost::asio::awaitable<grpc::Status> {
        co_return grpc::Status::OK;
      });
  const absl::Status started = host.Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kInvalidArgument) << started;
  EXPECT_NE(started.message().find("RenamedUserService"), std::string::npos) << started;
  EXPECT_EQ(host.port(), 0);  // nothing was bound
}

TEST(ServiceHostDrainTest, AReconnectDuringTheDrainDoesNotMakeTheServiceServingAgain) {
  Logger logger("test", "0", LogLevel::kError);
  ServiceHostOptions options;
  options.listen_address = "127.0.0.1:0";
  options.shards = 1;
  // Long enough for one Check on loopback; the test waits for the drain by the watch, not a clock.
  options.drain_delay = 3s;
  options.health_services = {kService};
  ServiceHost host(options, logger);
  ASSERT_TRUE(host.Start().ok());
  host.SetShardReady(0, true);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host.port()),
                                     grpc::InsecureChannelCredentials());
  auto health = Health::NewStub(channel);
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + 30s);
  HealthCheckRequest request;
  auto watch = health->Watch(&watch_context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  ASSERT_EQ(response.status(), HealthCheckResponse::SERVING);

  std::thread stopper([&] { host.Shutdown(); });
  ASSERT_TRUE(watch->Read(&response));  // the drain has begun
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  host.SetShardReady(0, false);  // Redis drops and comes back while draining
  host.SetShardReady(0, true);
  grpc::ClientContext check_context;
  check_context.set_deadline(std::chrono::system_clock::now() + 2s);
  HealthCheckResponse during_drain;
  const grpc::Status checked = health->Check(&check_context, request, &during_drain);
  stopper.join();
  while (watch->Read(&response)) {
  }
  watch->Finish();
  ASSERT_TRUE(checked.ok()) << checked.error_message();
  EXPECT_EQ(during_drain.status(), HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthReflectionTest, WatchSendsTheStatusThenEveryChangeOnceAndEndsAtShutdown) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  HealthCheckRequest request;
  request.set_service(kService);
  auto reader = health_->Watch(&context, request);
  HealthCheckResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  host_->SetServing(true);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  host_->SetServing(true);  // no change: nothing is sent
  host_->SetServing(false);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  host_->SetServing(true);
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  // Shutdown tells the watcher NOT_SERVING and ends the stream instead of waiting out the grace.
  const auto started = std::chrono::steady_clock::now();
  host_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  if (!reader->Read(&response)) {
    const auto status = reader->Finish();
    FAIL() << "stream ended: " << status.error_code() << " " << status.error_message();
  }
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_TRUE(reader->Finish().ok());
}

TEST_F(HealthReflectionTest, WatchOfAnUnknownServiceSaysSoAndCancelledWatchesAreReleased) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    HealthCheckRequest request;
    request.set_service("no.such.Service");
    auto reader = health_->Watch(&context, request);
    HealthCheckResponse response;
    ASSERT_TRUE(reader->Read(&response));
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVICE_UNKNOWN);
    context.TryCancel();
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Cancelled watches left nothing open: shutdown does not wait out the 60 s grace.
  const auto started = std::chrono::steady_clock::now();
  host_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
}

TEST_F(HealthReflectionTest, ReflectionListsServicesAndAnswersSeveralRequestsOnOneStream) {
  refl::ServerReflectionRequest list;
  list.set_host("example");
  list.set_list_services("*");
  refl::ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("grpc.health.v1.Health.Watch");
  refl::ServerReflectionRequest missing;
  missing.set_file_containing_symbol("no.such.Symbol");
  refl::ServerReflectionRequest file;
  file.set_file_by_filename("grpc/reflection/v1/reflection.proto");
  refl::ServerReflectionRequest empty;
  const auto answers = Reflect({list, symbol, missing, file, empty});
  ASSERT_EQ(answers.size(), 5u);

  std::set<std::string> services;
  for (const auto& s : answers[0].list_services_response().service()) services.insert(s.name());
  EXPECT_EQ(services, (std::set<std::string>{kService, "grpc.health.v1.Health",
                                             "grpc.reflection.v1.ServerReflection",
                                             "grpc.reflection.v1alpha.ServerReflection"}));
  EXPECT_EQ(answers[0].valid_host(), "example");
  EXPECT_EQ(answers[0].original_request().list_services(), "*");

  EXPECT_EQ(FileNames(answers[1].file_descriptor_response()),
            std::vector<std::string>{"grpc/health/v1/health.proto"});
  EXPECT_EQ(answers[2].error_response().error_code(),
            static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_NE(answers[2].error_response().error_message().find("no.such.Symbol"), std::string::npos);
  EXPECT_EQ(FileNames(answers[3].file_descriptor_response()),
            std::vector<std::string>{"grpc/reflection/v1/reflection.proto"});
  EXPECT_EQ(answers[4].error_response().error_code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
}

TEST_F(HealthReflectionTest, FileComesFirstWithEachDependencyOnce) {
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol("switchyard.user.v1.UserService.GetUser");
  const auto answers = Reflect({request});
  ASSERT_EQ(answers.size(), 1u);
  const auto names = FileNames(answers[0].file_descriptor_response());
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "switchyard/user/v1/user_service.proto");
  const std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size());
  // Direct and indirect imports (annotations.proto imports http.proto and descriptor.proto).
  for (const char* dependency :
       {"google/api/annotations.proto", "google/api/http.proto", "google/protobuf/descriptor.proto",
        "google/protobuf/timestamp.proto"}) {
    EXPECT_TRUE(unique.contains(dependency)) << dependency;
  }
}

TEST_F(HealthReflectionTest, V1AlphaAsksTheSameAndGetsTheSameAnswers) {
  namespace alpha = grpc::reflection::v1alpha;
  alpha::ServerReflectionRequest list;
  list.set_list_services("");
  alpha::ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("grpc.health.v1.HealthCheckResponse.ServingStatus");
  const auto answers = Reflect<alpha::ServerReflection, alpha::ServerReflectionRequest,
                               alpha::ServerReflectionResponse>({list, symbol});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].list_services_response().service_size(), 4);
  ASSERT_EQ(answers[1].file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto proto;
  ASSERT_TRUE(
      proto.ParseFromString(answers[1].file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(proto.name(), "grpc/health/v1/health.proto");
}

}  // namespace
}  // namespace switchyard
