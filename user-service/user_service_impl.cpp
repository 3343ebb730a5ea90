#include "user-service/user_service_impl.hpp"

#include <chrono>

#include <google/protobuf/util/time_util.h>

#include "user-service/user_validation.hpp"

namespace switchyard::user {

using google::protobuf::util::TimeUtil;

std::int64_t SystemClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ToProto(const UserRecord& record, v1::User& user) {
  user.set_id(record.id);
  user.set_name(record.name);
  user.set_email(record.email);
  *user.mutable_created_at() = TimeUtil::MicrosecondsToTimestamp(record.created_at_us);
  *user.mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(record.updated_at_us);
}

UserServiceImpl::UserServiceImpl(UserStore& store, Clock clock, IdGenerator new_id)
    : store_(store), clock_(std::move(clock)), new_id_(std::move(new_id)) {}

boost::asio::awaitable<absl::Status> UserServiceImpl::CreateUser(
    CallContext call, const v1::CreateUserRequest& request, v1::CreateUserResponse& response) {
  auto name = NormalizeName(request.name());
  if (!name.ok()) co_return name.status();
  auto email = NormalizeEmail(request.email());
  if (!email.ok()) co_return email.status();

  UserRecord record;
  record.id = new_id_();
  record.name = *std::move(name);
  record.email = *std::move(email);
  record.created_at_us = clock_();
  record.updated_at_us = record.created_at_us;
  if (auto status = co_await store_.Create(record, call.deadline); !status.ok()) co_return status;

  ToProto(record, *response.mutable_user());
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> UserServiceImpl::GetUser(CallContext call,
                                                              const v1::GetUserRequest& request,
                                                              v1::GetUserResponse& response) {
  auto id = NormalizeId(request.id());
  if (!id.ok()) co_return id.status();
  auto record = co_await store_.Get(*std::move(id), call.deadline);
  if (!record.ok()) co_return record.status();
  ToProto(*record, *response.mutable_user());
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> UserServiceImpl::ListUsers(CallContext call,
                                                                const v1::ListUsersRequest& request,
                                                                v1::ListUsersResponse& response) {
  auto page_size = NormalizePageSize(request.page_size());
  if (!page_size.ok()) co_return page_size.status();
  auto after = DecodePageToken(request.page_token());
  if (!after.ok()) co_return after.status();

  auto page = co_await store_.List(*after, *page_size, call.deadline);
  if (!page.ok()) co_return page.status();
  response.mutable_users()->Reserve(static_cast<int>(page->users.size()));
  for (const UserRecord& record : page->users) ToProto(record, *response.add_users());
  if (page->next_after > 0) response.set_next_page_token(EncodePageToken(page->next_after));
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> UserServiceImpl::UpdateUser(
    CallContext call, const v1::UpdateUserRequest& request, v1::UpdateUserResponse& response) {
  auto id = NormalizeId(request.id());
  if (!id.ok()) co_return id.status();
  UserPatch patch;
  if (request.has_name()) {
    auto name = NormalizeName(request.name());
    if (!name.ok()) co_return name.status();
    patch.name = *std::move(name);
  }
  if (request.has_email()) {
    auto email = NormalizeEmail(request.email());
    if (!email.ok()) co_return email.status();
    patch.email = *std::move(email);
  }

  absl::StatusOr<UserRecord> record;
  if (!patch.name && !patch.email) {
    // Nothing to change: answer with the user as it is.
    record = co_await store_.Get(*std::move(id), call.deadline);
  } else {
    patch.updated_at_us = clock_();
    record = co_await store_.Update(*std::move(id), std::move(patch), call.deadline);
  }
  if (!record.ok()) co_return record.status();
  ToProto(*record, *response.mutable_user());
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::Status> UserServiceImpl::DeleteUser(
    CallContext call, const v1::DeleteUserRequest& request, v1::DeleteUserResponse& /*response*/) {
  auto id = NormalizeId(request.id());
  if (!id.ok()) co_return id.status();
  co_return co_await store_.Delete(*std::move(id), call.deadline);
}

}  // namespace switchyard::user
