// user-service over real gRPC on loopback against a real redis-server.

#include <future>
#include <optional>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "switchyard/user/v1/user_service.grpc.pb.h"
#include "tests/integration/user-service/user_service_harness.hpp"
#include "tests/support/http_test_client.hpp"

namespace switchyard::user {
namespace {

using namespace std::chrono_literals;
using grpc::StatusCode;
using grpc::health::v1::HealthCheckResponse;

class UserServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Ready());
    stub_ = v1::UserService::NewStub(harness_.channel());
  }

  HealthCheckResponse::ServingStatus HealthStatus(const std::string& service = "") {
    return harness_.HealthStatus(service);
  }

  static void Prepare(grpc::ClientContext& context, const std::string& request_id = "") {
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
  }

  grpc::Status Create(const std::string& name, const std::string& email, v1::User* out = nullptr,
                      const std::string& request_id = "") {
    grpc::ClientContext context;
    Prepare(context, request_id);
    v1::CreateUserRequest request;
    request.set_name(name);
    request.set_email(email);
    v1::CreateUserResponse response;
    const grpc::Status status = stub_->CreateUser(&context, request, &response);
    if (out) *out = response.user();
    return status;
  }

  grpc::Status Get(const std::string& id, v1::User* out = nullptr) {
    grpc::ClientContext context;
    Prepare(context);
    v1::GetUserRequest request;
    request.set_id(id);
    v1::GetUserResponse response;
    const grpc::Status status = stub_->GetUser(&context, request, &response);
    if (out) *out = response.user();
    return status;
  }

  grpc::Status Update(const std::string& id, std::optional<std::string> name,
                      std::optional<std::string> email, v1::User* out = nullptr) {
    grpc::ClientContext context;
    Prepare(context);
    v1::UpdateUserRequest request;
    request.set_id(id);
    if (name) request.set_name(*name);
    if (email) request.set_email(*email);
    v1::UpdateUserResponse response;
    const grpc::Status status = stub_->UpdateUser(&context, request, &response);
    if (out) *out = response.user();
    return status;
  }

  grpc::Status Delete(const std::string& id) {
    grpc::ClientContext context;
    Prepare(context);
    v1::DeleteUserRequest request;
    request.set_id(id);
    v1::DeleteUserResponse response;
    return stub_->DeleteUser(&context, request, &response);
  }

  grpc::Status List(int page_size, const std::string& token, v1::ListUsersResponse& out) {
    grpc::ClientContext context;
    Prepare(context);
    v1::ListUsersRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    return stub_->ListUsers(&context, request, &out);
  }

  std::string ReadLog() const { return harness_.ReadLog(); }

  UserServiceHarness harness_;
  testing::RedisServer& redis_ = harness_.redis();
  std::unique_ptr<v1::UserService::Stub> stub_;
};

TEST_F(UserServiceTest, FullCrudRoundTrip) {
  v1::User created;
  ASSERT_TRUE(Create(" Ada Lovelace ", "ADA@example.com", &created).ok());
  EXPECT_EQ(created.name(), "Ada Lovelace");
  EXPECT_EQ(created.email(), "ada@example.com");
  EXPECT_EQ(created.id().size(), 36u);
  EXPECT_GT(created.created_at().seconds(), 1'600'000'000);

  v1::User got;
  ASSERT_TRUE(Get(created.id(), &got).ok());
  EXPECT_EQ(got.SerializeAsString(), created.SerializeAsString());

  v1::User updated;
  ASSERT_TRUE(Update(created.id(), std::nullopt, "ada@lovelace.org", &updated).ok());
  EXPECT_EQ(updated.name(), "Ada Lovelace");
  EXPECT_EQ(updated.email(), "ada@lovelace.org");
  EXPECT_EQ(updated.created_at().seconds(), created.created_at().seconds());
  ASSERT_TRUE(Update(created.id(), "Countess", std::nullopt, &updated).ok());
  EXPECT_EQ(updated.name(), "Countess");
  EXPECT_EQ(updated.email(), "ada@lovelace.org");

  ASSERT_TRUE(Delete(created.id()).ok());
  EXPECT_EQ(Get(created.id()).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete(created.id()).error_code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Update(created.id(), "x", std::nullopt).error_code(), StatusCode::NOT_FOUND);
}

TEST_F(UserServiceTest, ErrorsCarryTheRightCodeAndNameTheField) {
  grpc::Status status = Create("", "a@example.com");
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("name: ", 0), 0u);
  status = Create("Ada", "nope");
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("email: ", 0), 0u);
  status = Get("not-a-uuid");
  EXPECT_EQ(status.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("id: ", 0), 0u);
  EXPECT_EQ(Get("3f2504e0-4f89-41d3-9a0c-0305e82c3301").error_code(), StatusCode::NOT_FOUND);
  v1::ListUsersResponse page;
  EXPECT_EQ(List(500, "", page).error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(List(10, "bogus", page).error_code(), StatusCode::INVALID_ARGUMENT);
}

TEST_F(UserServiceTest, EmailStaysUniqueAcrossCreateUpdateAndDelete) {
  v1::User ada;
  v1::User bob;
  ASSERT_TRUE(Create("Ada", "ada@example.com", &ada).ok());
  ASSERT_TRUE(Create("Bob", "bob@example.com", &bob).ok());
  EXPECT_EQ(Create("Ada 2", "Ada@Example.com").error_code(), StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Update(bob.id(), std::nullopt, "ada@example.com").error_code(),
            StatusCode::ALREADY_EXISTS);
  // Keeping one's own email is not a conflict.
  EXPECT_TRUE(Update(ada.id(), std::nullopt, "ada@example.com").ok());
  // A changed email frees the old one; a deleted user frees theirs.
  ASSERT_TRUE(Update(bob.id(), std::nullopt, "robert@example.com").ok());
  EXPECT_TRUE(Create("New Bob", "bob@example.com").ok());
  ASSERT_TRUE(Delete(ada.id()).ok());
  EXPECT_TRUE(Create("New Ada", "ada@example.com").ok());
}

TEST_F(UserServiceTest, FiftyConcurrentCreatesWithOneEmailExactlyOneSucceeds) {
  constexpr int kClients = 50;
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<grpc::Status>> results;
  for (int i = 0; i < kClients; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      start.wait();
      return Create("Racer " + std::to_string(i), "race@example.com");
    }));
  }
  go.set_value();
  int ok = 0;
  int exists = 0;
  for (auto& result : results) {
    const grpc::Status status = result.get();
    if (status.ok()) ++ok;
    if (status.error_code() == StatusCode::ALREADY_EXISTS) ++exists;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, kClients - 1);
}

TEST_F(UserServiceTest, PaginationThrough250UsersHasNoGapOrRepeat) {
  constexpr int kUsers = 250;
  std::vector<std::string> created_ids;
  for (int i = 0; i < kUsers; ++i) {
    v1::User user;
    ASSERT_TRUE(
        Create("User " + std::to_string(i), "user" + std::to_string(i) + "@example.com", &user)
            .ok());
    created_ids.push_back(user.id());
  }
  // Deleting a user mid-way must not shift later pages.
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListUsersResponse page;
    ASSERT_TRUE(List(7, token, page).ok());
    ASSERT_LE(page.users_size(), 7);
    for (const auto& user : page.users()) seen.push_back(user.id());
    token = page.next_page_token();
    if (pages == 3) {
      ASSERT_TRUE(Delete(created_ids[10]).ok());  // already seen
    }
    ++pages;
    ASSERT_LT(pages, 100);
  } while (!token.empty());
  EXPECT_EQ(pages, (kUsers + 6) / 7);
  EXPECT_EQ(seen, created_ids);  // every user once, in creation order

  v1::ListUsersResponse all;
  ASSERT_TRUE(List(100, "", all).ok());
  EXPECT_EQ(all.users_size(), 100);
  EXPECT_EQ(all.users(10).id(), created_ids[11]);
}

TEST_F(UserServiceTest, RedisDownGivesUnavailableThenRecovers) {
  v1::User ada;
  ASSERT_TRUE(Create("Ada", "ada@example.com", &ada).ok());
  redis_.Stop();
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status down = Get(ada.id());
  EXPECT_EQ(down.error_code(), StatusCode::UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // an answer, not a hang
  EXPECT_EQ(Create("Bob", "bob@example.com").error_code(), StatusCode::UNAVAILABLE);
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return HealthStatus("switchyard.user.v1.UserService") == HealthCheckResponse::NOT_SERVING;
      },
      5s));

  redis_.Start();
  EXPECT_TRUE(testing::WaitFor([&] { return Get(ada.id()).ok(); }, 10s));
  EXPECT_TRUE(testing::WaitFor([&] { return HealthStatus() == HealthCheckResponse::SERVING; }, 5s));
  v1::User got;
  ASSERT_TRUE(Get(ada.id(), &got).ok());  // acknowledged before the restart, kept by AOF
  EXPECT_EQ(got.email(), "ada@example.com");
  EXPECT_TRUE(Create("Bob", "bob@example.com").ok());
}

TEST_F(UserServiceTest, ClientDeadlineAbandonsRedisWorkAndServiceRecovers) {
  v1::User ada;
  ASSERT_TRUE(Create("Ada", "ada@example.com", &ada).ok());
  redis_.Pause();  // Redis hangs: the call's command is sent but never answered
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 200ms);
  v1::GetUserRequest request;
  request.set_id(ada.id());
  v1::GetUserResponse response;
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = stub_->GetUser(&context, request, &response);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status.error_code(), StatusCode::DEADLINE_EXCEEDED);
  // The client's deadline, well before the 1 s Redis command timeout.
  EXPECT_LT(took, 900ms);
  // The handler gave up at the deadline too: its access line shows DEADLINE_EXCEEDED (4) or
  // CANCELLED (1), whichever reached it first, not a Redis timeout much later. Redis stays
  // paused until then, so a reply cannot race the handler's deadline.
  std::string line;
  const bool logged = testing::WaitFor(
      [&] {
        const std::string log = ReadLog();
        const auto at = log.find("\"method\":\"GetUser\"");
        if (at == std::string::npos) return false;
        line = log.substr(at, log.find('\n', at) - at);
        return true;
      },
      5s);
  redis_.Resume();
  EXPECT_TRUE(logged);
  EXPECT_TRUE(line.find("\"code\":4,") != std::string::npos ||
              line.find("\"code\":1,") != std::string::npos)
      << line;
  v1::User got;
  EXPECT_TRUE(testing::WaitFor([&] { return Get(ada.id(), &got).ok(); }, 10s));
  EXPECT_EQ(got.id(), ada.id());
}

TEST_F(UserServiceTest, RequestIdFromMetadataAppearsInTheCallsLogLine) {
  ASSERT_TRUE(Create("Ada", "ada@example.com", nullptr, "trace-me-42").ok());
  // The access line is written before the answer is sent, so it is in the file now.
  const std::string log = ReadLog();
  const auto line_start = log.find("\"request_id\":\"trace-me-42\"");
  ASSERT_NE(line_start, std::string::npos) << log;
  const auto begin = log.rfind('\n', line_start);
  const std::string line = log.substr(begin + 1, log.find('\n', line_start) - begin - 1);
  EXPECT_NE(line.find("\"method\":\"CreateUser\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"code\":0"), std::string::npos) << line;
  EXPECT_EQ(log.find("s3cret-pass"), std::string::npos);  // the Redis password is never logged
}

}  // namespace
}  // namespace switchyard::user

namespace switchyard::user {
namespace {

using namespace std::chrono_literals;

// The value of one sample line `name{labels} value` in Prometheus text, or -1 when absent.
double Sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(UserServiceDrainTest, ShutdownFinishesTheCallsItAccepted) {
  UserServiceHarness harness;
  ASSERT_TRUE(harness.Ready());
  auto stub = v1::UserService::NewStub(harness.channel());
  v1::User ada;
  {
    grpc::ClientContext context;
    v1::CreateUserRequest request;
    request.set_name("Ada");
    request.set_email("drain@example.com");
    v1::CreateUserResponse response;
    ASSERT_TRUE(stub->CreateUser(&context, request, &response).ok());
    ada = response.user();
  }
  harness.redis().Pause();  // the next call is accepted, then waits on Redis
  auto call = std::async(std::launch::async, [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::GetUserRequest request;
    request.set_id(ada.id());
    v1::GetUserResponse response;
    return stub->GetUser(&context, request, &response);
  });
  const auto port = static_cast<unsigned short>(harness.metrics_port());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        return Sample(testing::HttpSend(port, "GET", "/metrics").body,
                      R"(grpc_server_started_total{method="GetUser"})") == 1;
      },
      5s));
  auto stopped = std::async(std::launch::async, [&] { harness.StopService(); });
  // NOT_SERVING comes first; then Redis answers and the accepted call completes normally.
  EXPECT_TRUE(testing::WaitFor(
      [&] { return harness.HealthStatus() != grpc::health::v1::HealthCheckResponse::SERVING; },
      5s));
  harness.redis().Resume();
  const grpc::Status status = call.get();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  stopped.get();
}

TEST(UserServiceMetricsTest, CountsCallsRedisCommandsUsersAndProcess) {
  UserServiceHarness harness;
  ASSERT_TRUE(harness.Ready());
  auto stub = v1::UserService::NewStub(harness.channel());
  for (const char* email : {"a@example.com", "b@example.com", "a@example.com"}) {
    grpc::ClientContext context;
    v1::CreateUserRequest request;
    request.set_name("M");
    request.set_email(email);
    v1::CreateUserResponse response;
    stub->CreateUser(&context, request, &response);
  }
  std::string text;
  // users_total is refreshed from Redis every 2 s.
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        text = testing::HttpSend(static_cast<unsigned short>(harness.metrics_port()), "GET",
                                 "/metrics")
                   .body;
        return Sample(text, "users_total") == 2;
      },
      10s))
      << text;
  EXPECT_EQ(Sample(text, R"(grpc_server_handled_total{code="OK",method="CreateUser"})"), 2);
  EXPECT_EQ(Sample(text, R"(grpc_server_handled_total{code="ALREADY_EXISTS",method="CreateUser"})"),
            1);
  EXPECT_EQ(Sample(text, R"(grpc_server_handling_seconds_count{method="CreateUser"})"), 3);
  EXPECT_GE(Sample(text, R"(redis_command_duration_seconds_count{command="EVALSHA",status="ok"})"),
            3);
  EXPECT_EQ(Sample(text, "redis_reconnects_total"), 0);
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(Sample(text, "process_open_fds"), 3);
  EXPECT_GT(Sample(text, "process_start_time_seconds"), 1.6e9);
  // No label carries an id or an email.
  EXPECT_EQ(text.find("@example.com"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::user
