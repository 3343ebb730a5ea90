#pragma once

// Storage for data items, as DataServiceImpl and the jobs need it. Arguments arrive validated.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>

#include "common/service/call_context.hpp"

namespace switchyard::data {

struct DataRecord {
  std::string key;
  std::string value;
  std::int64_t version = 0;        // 1 after the first write
  std::int64_t updated_at_us = 0;  // microseconds since the Unix epoch
};

struct DataPage {
  std::vector<DataRecord> items;
  bool more = false;  // further keys follow the last item
};

// What a conditional write or delete did.
struct WriteResult {
  enum class Outcome {
    kApplied,          // written (record holds the item as stored) or deleted
    kNotFound,         // delete of a key that does not exist
    kVersionMismatch,  // expected_version did not match; nothing changed
  };
  Outcome outcome = Outcome::kApplied;
  // The key's version before the call (0: it did not exist); set for every outcome.
  std::int64_t current_version = 0;
  DataRecord record;
};

class DataStore {
 public:
  virtual ~DataStore() = default;

  // Creates or replaces `key`. With `expected_version`, only when the key's version equals it
  // (0: the key must not exist); otherwise kVersionMismatch and nothing changes.
  virtual boost::asio::awaitable<absl::StatusOr<WriteResult>> Put(
      std::string key, std::string value, std::optional<std::int64_t> expected_version,
      Deadline deadline) = 0;
  // NOT_FOUND when there is no such key.
  virtual boost::asio::awaitable<absl::StatusOr<DataRecord>> Get(std::string key,
                                                                 Deadline deadline) = 0;
  // Up to `limit` keys starting with `prefix` and after `after` (exclusive; empty: from the
  // start), in key order.
  virtual boost::asio::awaitable<absl::StatusOr<DataPage>> List(std::string prefix,
                                                                std::string after,
                                                                std::int32_t limit,
                                                                Deadline deadline) = 0;
  // kNotFound, kVersionMismatch (nothing changes) or kApplied.
  virtual boost::asio::awaitable<absl::StatusOr<WriteResult>> Delete(
      std::string key, std::optional<std::int64_t> expected_version, Deadline deadline) = 0;
  // Writes the value of `from` to `to` in one step (a write of `to`: its version grows).
  // NOT_FOUND when `from` does not exist.
  virtual boost::asio::awaitable<absl::StatusOr<DataRecord>> Copy(std::string from, std::string to,
                                                                  Deadline deadline) = 0;
  // The store's clock, in microseconds since the Unix epoch.
  virtual boost::asio::awaitable<absl::StatusOr<std::int64_t>> Now(Deadline deadline) = 0;
};

}  // namespace switchyard::data
