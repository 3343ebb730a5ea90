#pragma once

// Storage for users, as UserServiceImpl needs it. Values arrive validated and normalised.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>

#include "common/service/call_context.hpp"

namespace switchyard::user {

struct UserRecord {
  std::string id;
  std::string name;
  std::string email;
  std::int64_t created_at_us = 0;  // microseconds since the Unix epoch
  std::int64_t updated_at_us = 0;
};

struct UserPage {
  std::vector<UserRecord> users;
  // Position after the last user of this page, when more users follow; 0 on the last page.
  std::int64_t next_after = 0;
};

struct UserPatch {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::int64_t updated_at_us = 0;
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  // ALREADY_EXISTS when another user has the email.
  virtual boost::asio::awaitable<absl::Status> Create(const UserRecord& user,
                                                      Deadline deadline) = 0;
  // NOT_FOUND when there is no such user.
  virtual boost::asio::awaitable<absl::StatusOr<UserRecord>> Get(std::string id,
                                                                 Deadline deadline) = 0;
  // Users after position `after` (0: from the start) in creation order.
  virtual boost::asio::awaitable<absl::StatusOr<UserPage>> List(std::int64_t after,
                                                                std::int32_t limit,
                                                                Deadline deadline) = 0;
  // Applies the fields present in `patch`; NOT_FOUND, or ALREADY_EXISTS for a taken email.
  virtual boost::asio::awaitable<absl::StatusOr<UserRecord>> Update(std::string id, UserPatch patch,
                                                                    Deadline deadline) = 0;
  // NOT_FOUND when there is no such user.
  virtual boost::asio::awaitable<absl::Status> Delete(std::string id, Deadline deadline) = 0;
  virtual boost::asio::awaitable<absl::StatusOr<std::int64_t>> Count(Deadline deadline) = 0;
};

}  // namespace switchyard::user
