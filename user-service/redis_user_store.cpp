#include "user-service/redis_user_store.hpp"

#include <charconv>
#include <optional>

namespace switchyard::user {

namespace {

constexpr std::string_view kUserKeyPrefix = "sy:user:";
constexpr std::string_view kEmailIndexKey = "sy:users:email";
constexpr std::string_view kOrderKey = "sy:users:order";
constexpr std::string_view kSeqKey = "sy:users:seq";

// KEYS: user, email index, order, seq. ARGV: id, name, email, now.
constexpr std::string_view kCreateScript = R"lua(
if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[1]) == 0 then
  return 'EMAIL_TAKEN'
end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'email', ARGV[3], 'created', ARGV[4],
           'updated', ARGV[4], 'seq', seq)
redis.call('ZADD', KEYS[3], seq, ARGV[1])
return 'OK'
)lua";

// KEYS: user, email index. ARGV: id, has_name, name, has_email, email, now.
// Returns {status, name, email, created, updated}.
constexpr std::string_view kUpdateScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'NOT_FOUND'}
end
if ARGV[4] == '1' then
  local old = redis.call('HGET', KEYS[1], 'email')
  if old ~= ARGV[5] then
    if redis.call('HSETNX', KEYS[2], ARGV[5], ARGV[1]) == 0 then
      return {'EMAIL_TAKEN'}
    end
    redis.call('HDEL', KEYS[2], old)
    redis.call('HSET', KEYS[1], 'email', ARGV[5])
  end
end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'name', ARGV[3])
end
redis.call('HSET', KEYS[1], 'updated', ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'name', 'email', 'created', 'updated')
return {'OK', f[1], f[2], f[3], f[4]}
)lua";

// KEYS: user, email index, order. ARGV: id.
constexpr std::string_view kDeleteScript = R"lua(
local email = redis.call('HGET', KEYS[1], 'email')
if not email then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], email)
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
)lua";

// KEYS: order. ARGV: after (exclusive), limit, user key prefix.
// Returns a flat array: id, seq, name, email, created, updated for each user. The user hashes
// are read by a key built from the id, which is fine on a single Redis (not on a cluster).
constexpr std::string_view kListScript = R"lua(
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES',
                       'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #ids, 2 do
  local f = redis.call('HMGET', ARGV[3] .. ids[i], 'name', 'email', 'created', 'updated')
  out[#out + 1] = ids[i]
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = f[1] or ''
  out[#out + 1] = f[2] or ''
  out[#out + 1] = f[3] or '0'
  out[#out + 1] = f[4] or '0'
end
return out
)lua";

std::string UserKey(std::string_view id) {
  std::string key(kUserKeyPrefix);
  key.append(id);
  return key;
}

std::optional<Deadline> OptionalDeadline(Deadline deadline) {
  if (deadline == Deadline::max()) return std::nullopt;
  return deadline;
}

std::int64_t ParseInt(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// Redis answered something this store never writes: the data or a script is broken.
absl::Status Unexpected(std::string_view what) {
  return absl::InternalError("unexpected reply from the user store (" + std::string(what) + ")");
}

// An error reply (LOADING, READONLY, OOM, a broken script) is the store being unable to serve:
// the client sees UNAVAILABLE, never Redis's own words.
absl::StatusOr<redis::Reply> Checked(absl::StatusOr<redis::Reply> reply) {
  if (reply.ok() && reply->type == redis::Reply::Type::kError) {
    return absl::UnavailableError("user store is not able to serve the request");
  }
  return reply;
}

bool IsText(const redis::Reply& reply) {
  return reply.type == redis::Reply::Type::kString || reply.type == redis::Reply::Type::kStatus;
}

}  // namespace

RedisUserStore::RedisUserStore(redis::RedisClient& client)
    : client_(client),
      create_script_(std::string(kCreateScript)),
      update_script_(std::string(kUpdateScript)),
      delete_script_(std::string(kDeleteScript)),
      list_script_(std::string(kListScript)) {
  client_.RegisterScript(&create_script_);
  client_.RegisterScript(&update_script_);
  client_.RegisterScript(&delete_script_);
  client_.RegisterScript(&list_script_);
}

boost::asio::awaitable<absl::Status> RedisUserStore::Create(const UserRecord& user,
                                                            Deadline deadline) {
  std::vector<std::string> keys = {UserKey(user.id), std::string(kEmailIndexKey),
                                   std::string(kOrderKey), std::string(kSeqKey)};
  std::vector<std::string> args = {user.id, user.name, user.email,
                                   std::to_string(user.created_at_us)};
  auto reply = Checked(co_await client_.Eval(create_script_, std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  if (!IsText(*reply)) co_return Unexpected("create");
  if (reply->str == "EMAIL_TAKEN") {
    co_return absl::AlreadyExistsError("email: already belongs to another user");
  }
  if (reply->str != "OK") co_return Unexpected("create");
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::StatusOr<UserRecord>> RedisUserStore::Get(std::string id,
                                                                       Deadline deadline) {
  std::vector<std::string> command = {"HMGET", UserKey(id), "name", "email", "created", "updated"};
  auto reply = Checked(co_await client_.Command(std::move(command), OptionalDeadline(deadline)));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 4) {
    co_return Unexpected("get");
  }
  const auto& f = reply->elements;
  if (f[1].type == redis::Reply::Type::kNil) {
    co_return absl::NotFoundError("user " + id + " not found");
  }
  UserRecord record;
  record.id = std::move(id);
  record.name = f[0].str;
  record.email = f[1].str;
  record.created_at_us = ParseInt(f[2].str);
  record.updated_at_us = ParseInt(f[3].str);
  co_return record;
}

boost::asio::awaitable<absl::StatusOr<UserPage>> RedisUserStore::List(std::int64_t after,
                                                                      std::int32_t limit,
                                                                      Deadline deadline) {
  // One user more than asked for tells whether another page follows.
  std::vector<std::string> keys = {std::string(kOrderKey)};
  std::vector<std::string> args = {std::to_string(after), std::to_string(limit + 1),
                                   std::string(kUserKeyPrefix)};
  auto reply = Checked(co_await client_.Eval(list_script_, std::move(keys), std::move(args),
                                             OptionalDeadline(deadline)));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() % 6 != 0) {
    co_return Unexpected("list");
  }
  const auto& e = reply->elements;
  const std::size_t found = e.size() / 6;
  const std::size_t take = std::min<std::size_t>(found, static_cast<std::size_t>(limit));
  UserPage page;
  page.users.reserve(take);
  for (std::size_t i = 0; i < take; ++i) {
    const redis::Reply* f = &e[i * 6];
    UserRecord record;
    record.id = f[0].str;
    record.name = f[2].str;
    record.email = f[3].str;
    record.created_at_us = ParseInt(f[4].str);
    record.updated_at_us = ParseInt(f[5].str);
    page.users.push_back(std::move(record));
  }
  if (found > take && take > 0) page.next_after = ParseInt(e[(take - 1) * 6 + 1].str);
  co_return page;
}

boost::asio::awaitable<absl::StatusOr<UserRecord>> RedisUserStore::Update(std::string id,
                                                                          UserPatch patch,
                                                                          Deadline deadline) {
  std::vector<std::string> keys = {UserKey(id), std::string(kEmailIndexKey)};
  std::vector<std::string> args = {id,
                                   patch.name ? "1" : "0",
                                   patch.name.value_or(""),
                                   patch.email ? "1" : "0",
                                   patch.email.value_or(""),
                                   std::to_string(patch.updated_at_us)};
  auto reply = Checked(co_await client_.Eval(update_script_, std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.empty()) {
    co_return Unexpected("update");
  }
  const auto& e = reply->elements;
  if (e[0].str == "NOT_FOUND") co_return absl::NotFoundError("user " + id + " not found");
  if (e[0].str == "EMAIL_TAKEN") {
    co_return absl::AlreadyExistsError("email: already belongs to another user");
  }
  if (e[0].str != "OK" || e.size() != 5) co_return Unexpected("update");
  UserRecord record;
  record.id = std::move(id);
  record.name = e[1].str;
  record.email = e[2].str;
  record.created_at_us = ParseInt(e[3].str);
  record.updated_at_us = ParseInt(e[4].str);
  co_return record;
}

boost::asio::awaitable<absl::Status> RedisUserStore::Delete(std::string id, Deadline deadline) {
  std::vector<std::string> keys = {UserKey(id), std::string(kEmailIndexKey),
                                   std::string(kOrderKey)};
  std::vector<std::string> args = {id};
  auto reply = Checked(co_await client_.Eval(delete_script_, std::move(keys), std::move(args),
                                             OptionalDeadline(deadline), redis::Ack::kReplicas));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) co_return Unexpected("delete");
  if (reply->integer == 0) co_return absl::NotFoundError("user " + id + " not found");
  co_return absl::OkStatus();
}

boost::asio::awaitable<absl::StatusOr<std::int64_t>> RedisUserStore::Count(Deadline deadline) {
  std::vector<std::string> command = {"ZCARD", std::string(kOrderKey)};
  auto reply = Checked(co_await client_.Command(std::move(command), OptionalDeadline(deadline)));
  if (!reply.ok()) co_return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) co_return Unexpected("count");
  co_return static_cast<std::int64_t>(reply->integer);
}

}  // namespace switchyard::user
