#pragma once

// DataStore on Redis. Every operation is O(log N + page) in the number of keys:
//   sy:data:item:<key>  hash  value, version, updated (µs since epoch, Redis's clock)
//   sy:data:keys        zset  every key with score 0, so ZRANGEBYLEX walks them in key order
// Writes that check a version or touch both keys are Lua scripts, so each is atomic.

#include "common/redis/redis_client.hpp"
#include "data-service/data_store.hpp"

namespace switchyard::data {

class RedisDataStore final : public DataStore {
 public:
  // Registers the store's scripts with `client`: construct before client.Start().
  explicit RedisDataStore(redis::RedisClient& client);

  boost::asio::awaitable<absl::StatusOr<WriteResult>> Put(
      std::string key, std::string value, std::optional<std::int64_t> expected_version,
      Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<DataRecord>> Get(std::string key,
                                                         Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<DataPage>> List(std::string prefix, std::string after,
                                                        std::int32_t limit,
                                                        Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<WriteResult>> Delete(
      std::string key, std::optional<std::int64_t> expected_version, Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<DataRecord>> Copy(std::string from, std::string to,
                                                          Deadline deadline) override;
  boost::asio::awaitable<absl::StatusOr<std::int64_t>> Now(Deadline deadline) override;

 private:
  redis::RedisClient& client_;
};

}  // namespace switchyard::data
