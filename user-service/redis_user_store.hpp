#pragma once

// UserStore on Redis. Every operation is O(1) or O(log N) in the number of users:
//   sy:user:<id>     hash  name, email, created, updated (µs since epoch), seq
//   sy:users:email   hash  email -> id (uniqueness, claimed atomically with the user)
//   sy:users:order   zset  id scored by seq (creation order; page cursors are seq values)
//   sy:users:seq     counter of creations
// Changes that touch several keys run as one Lua script, so they are atomic.

#include <memory>

#include "common/redis/redis_client.hpp"
#include "user-service/user_store.hpp"

namespace switchyard::user {

class RedisUserStore final : public UserStore {
 public:
  // Registers the store's scripts with `client`: construct before client.Start().
  explicit RedisUserStore(redis::RedisClient& client);

  boost::asio::awaitable<absl::Status> Create(const UserRecord& user, Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<UserRecord>> Get(std::string id,
                                                         Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<UserPage>> List(std::int64_t after, std::int32_t limit,
                                                        Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<UserRecord>> Update(std::string id, UserPatch patch,
                                                            Deadline deadline) override;
  boost::asio::awaitable<absl::Status> Delete(std::string id, Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<std::int64_t>> Count(Deadline deadline) override;

 private:
  redis::RedisClient& client_;
  redis::Script create_script_;
  redis::Script update_script_;
  redis::Script delete_script_;
  redis::Script list_script_;
};

}  // namespace switchyard::user
