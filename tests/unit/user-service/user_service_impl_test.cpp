// UserServiceImpl's rules against a hand-written in-memory store: no Redis, no gRPC.

#include "user-service/user_service_impl.hpp"

#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace switchyard::user {
namespace {

class FakeUserStore final : public UserStore {
 public:
  boost::asio::awaitable<absl::Status> Create(const UserRecord& user, Deadline) override {
    if (fail_with) co_return *fail_with;
    for (const auto& [id, u] : users_) {
      if (u.email == user.email) co_return absl::AlreadyExistsError("email: taken");
    }
    users_[user.id] = user;
    order_.push_back(user.id);
    co_return absl::OkStatus();
  }
  boost::asio::awaitable<absl::StatusOr<UserRecord>> Get(std::string id, Deadline) override {
    if (fail_with) co_return *fail_with;
    const auto it = users_.find(id);
    if (it == users_.end()) co_return absl::NotFoundError("no user");
    co_return it->second;
  }
  boost::asio::awaitable<absl::StatusOr<UserPage>> List(std::int64_t after, std::int32_t limit,
                                                        Deadline) override {
    if (fail_with) co_return *fail_with;
    last_list_after = after;
    last_list_limit = limit;
    UserPage page;
    for (std::size_t i = static_cast<std::size_t>(after); i < order_.size(); ++i) {
      if (page.users.size() == static_cast<std::size_t>(limit)) {
        page.next_after = static_cast<std::int64_t>(i);
        break;
      }
      page.users.push_back(users_[order_[i]]);
    }
    co_return page;
  }
  boost::asio::awaitable<absl::StatusOr<UserRecord>> Update(std::string id, UserPatch patch,
                                                            Deadline) override {
    if (fail_with) co_return *fail_with;
    const auto it = users_.find(id);
    if (it == users_.end()) co_return absl::NotFoundError("no user");
    if (patch.name) it->second.name = *patch.name;
    if (patch.email) it->second.email = *patch.email;
    it->second.updated_at_us = patch.updated_at_us;
    co_return it->second;
  }
  boost::asio::awaitable<absl::Status> Delete(std::string id, Deadline) override {
    if (fail_with) co_return *fail_with;
    if (users_.erase(id) == 0) co_return absl::NotFoundError("no user");
    co_return absl::OkStatus();
  }
  boost::asio::awaitable<absl::StatusOr<std::int64_t>> Count(Deadline) override {
    co_return static_cast<std::int64_t>(users_.size());
  }

  std::optional<absl::Status> fail_with;
  std::int64_t last_list_after = -1;
  std::int32_t last_list_limit = -1;

 private:
  std::map<std::string, UserRecord> users_;
  std::vector<std::string> order_;
};

class UserServiceImplTest : public ::testing::Test {
 protected:
  template <class Request, class Response>
  absl::Status Call(boost::asio::awaitable<absl::Status> (UserServiceImpl::*method)(CallContext,
                                                                                    const Request&,
                                                                                    Response&),
                    const Request& request, Response& response) {
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(
        io, (impl_.*method)(CallContext{"rid", Deadline::max()}, request, response),
        boost::asio::use_future);
    io.run();
    return future.get();
  }

  v1::User Create(const std::string& name, const std::string& email) {
    v1::CreateUserRequest request;
    request.set_name(name);
    request.set_email(email);
    v1::CreateUserResponse response;
    const absl::Status status = Call(&UserServiceImpl::CreateUser, request, response);
    EXPECT_TRUE(status.ok()) << status;
    return response.user();
  }

  FakeUserStore store_;
  std::int64_t now_us_ = 1'700'000'000'123'456;
  int next_id_ = 0;
  UserServiceImpl impl_{store_, [this] { return now_us_; },
                        [this] {
                          char id[37];
                          std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", ++next_id_);
                          return std::string(id);
                        }};
};

TEST_F(UserServiceImplTest, CreateNormalizesFieldsAndSetsIdAndTimestamps) {
  const v1::User user = Create("  Ada  ", " ADA@Example.com ");
  EXPECT_EQ(user.id(), "00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(user.name(), "Ada");
  EXPECT_EQ(user.email(), "ada@example.com");
  EXPECT_EQ(user.created_at().seconds(), 1'700'000'000);
  EXPECT_EQ(user.created_at().nanos(), 123'456'000);
  EXPECT_EQ(user.updated_at().seconds(), user.created_at().seconds());
}

TEST_F(UserServiceImplTest, CreateRejectsInvalidFieldsBeforeTouchingTheStore) {
  store_.fail_with = absl::InternalError("store must not be called");
  v1::CreateUserRequest request;
  request.set_name("");
  request.set_email("ada@example.com");
  v1::CreateUserResponse response;
  absl::Status status = Call(&UserServiceImpl::CreateUser, request, response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("name: ", 0), 0u);
  request.set_name("Ada");
  request.set_email("not-an-email");
  status = Call(&UserServiceImpl::CreateUser, request, response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("email: ", 0), 0u);
}

TEST_F(UserServiceImplTest, StoreErrorsPassThroughUnchanged) {
  store_.fail_with = absl::UnavailableError("redis unavailable");
  v1::GetUserRequest request;
  request.set_id("00000000-0000-4000-8000-000000000001");
  v1::GetUserResponse response;
  EXPECT_EQ(Call(&UserServiceImpl::GetUser, request, response).code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(UserServiceImplTest, UpdateChangesOnlyPresentFieldsAndBumpsUpdatedAt) {
  const v1::User created = Create("Ada", "ada@example.com");
  now_us_ += 5'000'000;
  v1::UpdateUserRequest request;
  request.set_id(created.id());
  request.set_name("Ada Lovelace");
  v1::UpdateUserResponse response;
  ASSERT_TRUE(Call(&UserServiceImpl::UpdateUser, request, response).ok());
  EXPECT_EQ(response.user().name(), "Ada Lovelace");
  EXPECT_EQ(response.user().email(), "ada@example.com");
  EXPECT_EQ(response.user().updated_at().seconds(), created.created_at().seconds() + 5);
  EXPECT_EQ(response.user().created_at().seconds(), created.created_at().seconds());
}

TEST_F(UserServiceImplTest, UpdateWithNoFieldsReturnsUserUnchanged) {
  const v1::User created = Create("Ada", "ada@example.com");
  now_us_ += 5'000'000;
  v1::UpdateUserRequest request;
  request.set_id(created.id());
  v1::UpdateUserResponse response;
  ASSERT_TRUE(Call(&UserServiceImpl::UpdateUser, request, response).ok());
  EXPECT_EQ(response.user().updated_at().seconds(), created.updated_at().seconds());
}

TEST_F(UserServiceImplTest, UpdateValidatesPresentFields) {
  const v1::User created = Create("Ada", "ada@example.com");
  v1::UpdateUserRequest request;
  request.set_id(created.id());
  request.set_email("nope");
  v1::UpdateUserResponse response;
  const absl::Status status = Call(&UserServiceImpl::UpdateUser, request, response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("email: ", 0), 0u);
}

TEST_F(UserServiceImplTest, ListUsesDefaultPageSizeAndEncodesNextToken) {
  for (int i = 0; i < 25; ++i)
    Create("User " + std::to_string(i), "u" + std::to_string(i) + "@example.com");
  v1::ListUsersRequest request;
  v1::ListUsersResponse response;
  ASSERT_TRUE(Call(&UserServiceImpl::ListUsers, request, response).ok());
  EXPECT_EQ(store_.last_list_limit, 20);
  EXPECT_EQ(response.users_size(), 20);
  ASSERT_FALSE(response.next_page_token().empty());

  request.set_page_token(response.next_page_token());
  v1::ListUsersResponse second;
  ASSERT_TRUE(Call(&UserServiceImpl::ListUsers, request, second).ok());
  EXPECT_EQ(second.users_size(), 5);
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_EQ(second.users(0).name(), "User 20");
}

TEST_F(UserServiceImplTest, ListRejectsBadPageSizeAndToken) {
  v1::ListUsersRequest request;
  request.set_page_size(101);
  v1::ListUsersResponse response;
  EXPECT_EQ(Call(&UserServiceImpl::ListUsers, request, response).code(),
            absl::StatusCode::kInvalidArgument);
  request.set_page_size(10);
  request.set_page_token("garbage");
  EXPECT_EQ(Call(&UserServiceImpl::ListUsers, request, response).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(UserServiceImplTest, DeleteThenGetIsNotFound) {
  const v1::User created = Create("Ada", "ada@example.com");
  v1::DeleteUserRequest del;
  del.set_id(created.id());
  v1::DeleteUserResponse deleted;
  ASSERT_TRUE(Call(&UserServiceImpl::DeleteUser, del, deleted).ok());
  EXPECT_EQ(Call(&UserServiceImpl::DeleteUser, del, deleted).code(), absl::StatusCode::kNotFound);
  v1::GetUserRequest get;
  get.set_id(created.id());
  v1::GetUserResponse got;
  EXPECT_EQ(Call(&UserServiceImpl::GetUser, get, got).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace switchyard::user
