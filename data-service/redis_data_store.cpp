#include "data-service/redis_data_store.hpp"

#include <utility>
#include <vector>

#include "data-service/redis_keys.hpp"
#include "data-service/redis_util.hpp"

namespace switchyard::data {

namespace {

using redis_util::Checked;
using redis_util::IsText;
using redis_util::kLuaNow;
using redis_util::OptionalDeadline;
using redis_util::ToInt;

constexpr std::string_view kStore = "data store";

// Every applied write or delete appends one entry to the change stream (KEYS: events), in the
// same script, so WatchData sees exactly the changes that happened, in their order:
//   op=put|delete key=<key> version=<version written or deleted> updated=<µs> [value=<value>]
// The MAXLEN literal is keys::kEventRetention.

// After kLuaNow. KEYS: item, index, events. ARGV: key, value, has_expected, expected.
// Returns {'OK', version, updated, previous_version} or {'CONFLICT', current_version}.
constexpr std::string_view kPutScript = R"lua(
local current = redis.call('HGET', KEYS[1], 'version') or '0'
if ARGV[3] == '1' and current ~= ARGV[4] then
  return {'CONFLICT', current}
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'value', ARGV[2], 'updated', now)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'op', 'put', 'key', ARGV[1],
           'version', version, 'updated', now, 'value', ARGV[2])
return {'OK', version, now, current}
)lua";

// After kLuaNow. KEYS: item, index, events. ARGV: key, has_expected, expected.
// Returns {'OK' | 'NOT_FOUND' | 'CONFLICT', current_version}.
constexpr std::string_view kDeleteScript = R"lua(
local current = redis.call('HGET', KEYS[1], 'version')
if not current then
  return {'NOT_FOUND', '0'}
end
if ARGV[2] == '1' and current ~= ARGV[3] then
  return {'CONFLICT', current}
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'op', 'delete', 'key', ARGV[1],
           'version', current, 'updated', now)
return {'OK', current}
)lua";

// After kLuaNow. KEYS: source item, target item, index, events. ARGV: target key.
// Returns {'OK', version, updated, value} or {'NOT_FOUND'}.
constexpr std::string_view kCopyScript = R"lua(
local value = redis.call('HGET', KEYS[1], 'value')
if not value then
  return {'NOT_FOUND'}
end
local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
redis.call('HSET', KEYS[2], 'value', value, 'updated', now)
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '100000', '*', 'op', 'put', 'key', ARGV[1],
           'version', version, 'updated', now, 'value', value)
return {'OK', version, now, value}
)lua";

// KEYS: index. ARGV: min, max (ZRANGEBYLEX bounds), limit, item key prefix.
// Returns {more, key, value, version, updated, key, ...}. The item hashes are read by a key
// built from the name, which is fine on a single Redis (not on a cluster).
constexpr std::string_view kListScript = R"lua(
local limit = tonumber(ARGV[3])
local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, limit + 1)
local out = {#keys > limit and 1 or 0}
for i = 1, math.min(#keys, limit) do
  local f = redis.call('HMGET', ARGV[4] .. keys[i], 'value', 'version', 'updated')
  if f[2] then
    out[#out + 1] = keys[i]
    out[#out + 1] = f[1] or ''
    out[#out + 1] = f[2]
    out[#out + 1] = f[3] or '0'
  end
end
return out
)lua";

const redis::Script& PutScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kPutScript)};
  return script;
}
const redis::Script& DeleteScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kDeleteScript)};
  return script;
}
const redis::Script& CopyScript() {
  static const redis::Script script{std::string(kLuaNow) + std::string(kCopyScript)};
  return script;
}
const redis::Script& ListScript() {
  static const redis::Script script{std::string(kListScript)};
  return script;
}

absl::Status Unexpected(std::string_view what) { return redis_util::Unexpected(kStore, what); }

}  // namespace

RedisDataStore::RedisDataStore(redis::RedisClient& client) : client_(client) {
  client_.RegisterScript(&PutScript());
  client_.RegisterScript(&DeleteScript());
  client_.RegisterScript(&CopyScript());
  client_.RegisterScript(&ListScript());
}

boost::asio::awaitable<absl::StatusOr<WriteResult>> RedisDataStore::Put(
    std::string key, std::string value, std::optional<std::int64_t> expected_version,
    Deadline deadline) {
  std::vector<std::string> keys = {keys::Item(key), std::string(keys::kItemIndex),
                                   std::string(keys::kDataEvents)};
  std::vector<std::string> args = {key, value, expected_version ? "1" : "0",
                                   std::to_string(expected_version.value_or(0))};
  auto reply = Checked(co_await client_.Eval(PutScript(), std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() < 2 || !IsText(e[0])) {
    co_return Unexpected("put");
  }
  WriteResult result;
  if (e[0].str == "CONFLICT") {
    result.outcome = WriteResult::Outcome::kVersionMismatch;
    result.current_version = ToInt(e[1]);
    co_return result;
  }
  if (e[0].str != "OK" || e.size() != 4) co_return Unexpected("put");
  result.current_version = ToInt(e[3]);
  result.record.key = std::move(key);
  result.record.value = std::move(value);
  result.record.version = ToInt(e[1]);
  result.record.updated_at_us = ToInt(e[2]);
  co_return result;
}

boost::asio::awaitable<absl::StatusOr<DataRecord>> RedisDataStore::Get(std::string key,
                                                                       Deadline deadline) {
  std::vector<std::string> command = {"HMGET", keys::Item(key), "value", "version", "updated"};
  auto reply =
      Checked(co_await client_.Command(std::move(command), OptionalDeadline(deadline)), kStore);
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 3) {
    co_return Unexpected("get");
  }
  const auto& f = reply->elements;
  if (f[1].IsNil()) co_return absl::NotFoundError("key '" + key + "' not found");
  DataRecord record;
  record.key = std::move(key);
  record.value = f[0].str;
  record.version = ToInt(f[1]);
  record.updated_at_us = ToInt(f[2]);
  co_return record;
}

boost::asio::awaitable<absl::StatusOr<DataPage>> RedisDataStore::List(std::string prefix,
                                                                      std::string after,
                                                                      std::int32_t limit,
                                                                      Deadline deadline) {
  // Keys hold only ASCII, so every key starting with `prefix` sorts below prefix + "\xff".
  std::string min = !after.empty() ? "(" + after : !prefix.empty() ? "[" + prefix : "-";
  std::string max = prefix.empty() ? "+" : "(" + prefix + "\xff";
  std::vector<std::string> keys = {std::string(keys::kItemIndex)};
  std::vector<std::string> args = {std::move(min), std::move(max), std::to_string(limit),
                                   std::string(keys::kItemPrefix)};
  auto reply = Checked(co_await client_.Eval(ListScript(), std::move(keys), std::move(args),
                                             OptionalDeadline(deadline)),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.empty() || (e.size() - 1) % 4 != 0) {
    co_return Unexpected("list");
  }
  DataPage page;
  page.more = ToInt(e[0]) == 1;
  page.items.reserve((e.size() - 1) / 4);
  for (std::size_t i = 1; i + 3 < e.size(); i += 4) {
    DataRecord record;
    record.key = e[i].str;
    record.value = e[i + 1].str;
    record.version = ToInt(e[i + 2]);
    record.updated_at_us = ToInt(e[i + 3]);
    page.items.push_back(std::move(record));
  }
  co_return page;
}

boost::asio::awaitable<absl::StatusOr<WriteResult>> RedisDataStore::Delete(
    std::string key, std::optional<std::int64_t> expected_version, Deadline deadline) {
  std::vector<std::string> keys = {keys::Item(key), std::string(keys::kItemIndex),
                                   std::string(keys::kDataEvents)};
  std::vector<std::string> args = {key, expected_version ? "1" : "0",
                                   std::to_string(expected_version.value_or(0))};
  auto reply = Checked(co_await client_.Eval(DeleteScript(), std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() != 2 || !IsText(e[0])) {
    co_return Unexpected("delete");
  }
  WriteResult result;
  result.current_version = ToInt(e[1]);
  if (e[0].str == "NOT_FOUND") {
    result.outcome = WriteResult::Outcome::kNotFound;
  } else if (e[0].str == "CONFLICT") {
    result.outcome = WriteResult::Outcome::kVersionMismatch;
  } else if (e[0].str != "OK") {
    co_return Unexpected("delete");
  }
  result.record.key = std::move(key);
  co_return result;
}

boost::asio::awaitable<absl::StatusOr<DataRecord>> RedisDataStore::Copy(std::string from,
                                                                        std::string to,
                                                                        Deadline deadline) {
  std::vector<std::string> keys = {keys::Item(from), keys::Item(to), std::string(keys::kItemIndex),
                                   std::string(keys::kDataEvents)};
  std::vector<std::string> args = {to};
  auto reply = Checked(co_await client_.Eval(CopyScript(), std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas),
                       kStore);
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.empty() || !IsText(e[0])) {
    co_return Unexpected("copy");
  }
  if (e[0].str == "NOT_FOUND") co_return absl::NotFoundError("key '" + from + "' not found");
  if (e[0].str != "OK" || e.size() != 4) co_return Unexpected("copy");
  DataRecord record;
  record.key = std::move(to);
  record.version = ToInt(e[1]);
  record.updated_at_us = ToInt(e[2]);
  record.value = e[3].str;
  co_return record;
}

boost::asio::awaitable<absl::StatusOr<std::int64_t>> RedisDataStore::Now(Deadline deadline) {
  std::vector<std::string> command = {"TIME"};
  auto reply =
      Checked(co_await client_.Command(std::move(command), OptionalDeadline(deadline)), kStore);
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 2) {
    co_return Unexpected("time");
  }
  co_return ToInt(reply->elements[0]) * 1'000'000 + ToInt(reply->elements[1]);
}

}  // namespace switchyard::data
