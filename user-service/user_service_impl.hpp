#pragma once

// The business rules of UserService, free of transport: validate, call the store, build the
// response. The gRPC adapter (user_grpc_service) only translates statuses.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include <boost/asio/awaitable.hpp>

#include "common/service/call_context.hpp"
#include "switchyard/user/v1/user_service.pb.h"
#include "user-service/user_store.hpp"

namespace switchyard::user {

namespace v1 = ::switchyard::user::v1;

class UserServiceImpl {
 public:
  using Clock = std::function<std::int64_t()>;       // microseconds since the Unix epoch
  using IdGenerator = std::function<std::string()>;  // a fresh UUIDv4

  UserServiceImpl(UserStore& store, Clock clock, IdGenerator new_id);

  boost::asio::awaitable<absl::Status> CreateUser(CallContext call,
                                                  const v1::CreateUserRequest& request,
                                                  v1::CreateUserResponse& response);
  boost::asio::awaitable<absl::Status> GetUser(CallContext call, const v1::GetUserRequest& request,
                                               v1::GetUserResponse& response);
  boost::asio::awaitable<absl::Status> ListUsers(CallContext call,
                                                 const v1::ListUsersRequest& request,
                                                 v1::ListUsersResponse& response);
  boost::asio::awaitable<absl::Status> UpdateUser(CallContext call,
                                                  const v1::UpdateUserRequest& request,
                                                  v1::UpdateUserResponse& response);
  boost::asio::awaitable<absl::Status> DeleteUser(CallContext call,
                                                  const v1::DeleteUserRequest& request,
                                                  v1::DeleteUserResponse& response);

 private:
  UserStore& store_;
  Clock clock_;
  IdGenerator new_id_;
};

// Microseconds since the Unix epoch, from the system clock.
std::int64_t SystemClockMicros();

void ToProto(const UserRecord& record, v1::User& user);

}  // namespace switchyard::user
