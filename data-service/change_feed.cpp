#include "data-service/change_feed.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "data-service/redis_util.hpp"

namespace switchyard::data {

namespace {

constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
constexpr std::size_t kPageSize = 512;
constexpr auto kRetryPause = std::chrono::milliseconds(200);

// KEYS: stream. Returns its last-generated id, '0-0' when it does not exist.
constexpr std::string_view kTailScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return '0-0'
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then return info[i + 1] end
end
return '0-0'
)lua";

// KEYS: stream. ARGV: after (exclusive), to (inclusive, an id or '+'), count.
// Returns {trimmed, first, entries}: how many entries trimming has removed so far, the first
// entry's id ('0-0' when none) and XRANGE's entries, read together.
constexpr std::string_view kPageScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, '0-0', {}}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local length, added = 0, 0
for i = 1, #info, 2 do
  if info[i] == 'length' then length = info[i + 1] end
  if info[i] == 'entries-added' then added = info[i + 1] end
end
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local first_id = '0-0'
if #first > 0 then first_id = first[1][1] end
local entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]))
return {added - length, first_id, entries}
)lua";

const redis::Script& TailScript() {
  static const redis::Script script{std::string(kTailScript)};
  return script;
}

const redis::Script& PageScript() {
  static const redis::Script script{std::string(kPageScript)};
  return script;
}

absl::Status Unexpected(std::string_view what) {
  return redis_util::Unexpected("change stream", what);
}

// [[id, [field, value, ...]], ...] -> entries; false when the shape is wrong.
bool ParseEntries(const redis::Reply& reply, std::vector<StreamEntry>& out) {
  if (reply.type != redis::Reply::Type::kArray) return false;
  out.reserve(out.size() + reply.elements.size());
  for (const redis::Reply& item : reply.elements) {
    if (item.type != redis::Reply::Type::kArray || item.elements.size() != 2) return false;
    auto id = StreamId::Parse(item.elements[0].str);
    if (!id) return false;
    StreamEntry entry;
    entry.id = *id;
    const redis::Reply& fields = item.elements[1];
    entry.fields.reserve(fields.elements.size() / 2);
    for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      entry.fields.emplace_back(fields.elements[i].str, fields.elements[i + 1].str);
    }
    out.push_back(std::move(entry));
  }
  return true;
}

boost::asio::awaitable<absl::StatusOr<StreamId>> ReadTail(redis::RedisClient& client,
                                                          const std::string& stream) {
  std::vector<std::string> keys = {stream};
  std::vector<std::string> args;
  auto reply = redis_util::Checked(
      co_await client.Eval(TailScript(), std::move(keys), std::move(args)), "change stream");
  if (!reply.ok()) co_return reply.status();
  auto id = StreamId::Parse(reply->str);
  if (!id) co_return Unexpected("tail");
  co_return *id;
}

}  // namespace

std::optional<StreamId> StreamId::Parse(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size()) return std::nullopt;
  StreamId id;
  const char* begin = text.data();
  const char* middle = begin + dash;
  const char* end = begin + text.size();
  auto [p1, e1] = std::from_chars(begin, middle, id.ms);
  if (e1 != std::errc() || p1 != middle) return std::nullopt;
  auto [p2, e2] = std::from_chars(middle + 1, end, id.seq);
  if (e2 != std::errc() || p2 != end) return std::nullopt;
  return id;
}

std::string StreamId::ToString() const { return std::to_string(ms) + "-" + std::to_string(seq); }

std::string_view StreamEntry::Field(std::string_view name) const {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return {};
}

std::shared_ptr<ChangeFeed> ChangeFeed::Create(boost::asio::any_io_executor executor,
                                               redis::RedisConfig redis, ChangeFeedOptions options,
                                               Logger& logger) {
  return std::shared_ptr<ChangeFeed>(
      new ChangeFeed(std::move(executor), std::move(redis), std::move(options), logger));
}

ChangeFeed::ChangeFeed(boost::asio::any_io_executor executor, redis::RedisConfig redis,
                       ChangeFeedOptions options, Logger& logger)
    : executor_(std::move(executor)), options_(std::move(options)), logger_(logger) {
  // A blocked XREAD answers after `block` at the latest: that is not a broken connection.
  redis.command_timeout += options_.block;
  client_ = redis::RedisClient::Create(executor_, std::move(redis), logger_);
  client_->RegisterScript(&TailScript());
  for (const auto& key : options_.streams) streams_.push_back(Stream{key, std::nullopt, {}});
}

void ChangeFeed::Start() {
  if (started_ || stopped_) return;
  started_ = true;
  client_->Start();
  boost::asio::co_spawn(executor_, Run(), boost::asio::detached);
}

void ChangeFeed::Stop() {
  if (stopped_) return;
  stopped_ = true;
  CloseAll(absl::UnavailableError(
      "the service is shutting down; watch again with the last position to resume"));
  client_->Stop();
}

std::shared_ptr<FeedInbox> ChangeFeed::Subscribe(const std::string& stream) {
  auto inbox = std::make_shared<FeedInbox>(executor_);
  if (stopped_) {
    inbox->closed = absl::UnavailableError("the service is shutting down; watch elsewhere");
    return inbox;
  }
  for (auto& s : streams_) {
    if (s.key == stream) {
      s.inboxes.push_back(inbox);
      return inbox;
    }
  }
  inbox->closed = absl::InternalError("no change feed for " + stream);
  return inbox;
}

void ChangeFeed::Unsubscribe(const std::string& stream, const std::shared_ptr<FeedInbox>& inbox) {
  for (auto& s : streams_) {
    if (s.key == stream) std::erase(s.inboxes, inbox);
  }
}

std::size_t ChangeFeed::subscriptions() const {
  std::size_t n = 0;
  for (const auto& s : streams_) n += s.inboxes.size();
  return n;
}

void ChangeFeed::CloseAll(const absl::Status& status) {
  for (auto& s : streams_) {
    for (auto& inbox : s.inboxes) {
      inbox->closed = status;
      inbox->wake.cancel();
    }
  }
}

void ChangeFeed::Deliver(std::size_t stream, std::shared_ptr<const FeedBatch> batch) {
  for (auto& inbox : streams_[stream].inboxes) {
    if (inbox->closed) continue;
    if (inbox->pending.size() >= options_.max_pending_batches) {
      // Too slow a reader: forget what it has not read; it reads that from Redis instead.
      inbox->pending.clear();
      inbox->dropped_to = batch->entries.back().id;
    } else {
      inbox->pending.push_back(batch);
    }
    inbox->wake.cancel();
  }
}

boost::asio::awaitable<void> ChangeFeed::Run() {
  auto self = shared_from_this();
  boost::asio::steady_timer pause(executor_);
  bool failing = false;
  while (!stopped_) {
    if (failing) {
      // Not ready, or Redis refused: wait for the connection, never spin.
      failing = false;
      if (!client_->IsReady()) {
        co_await client_->WaitReady();
      } else {
        pause.expires_after(kRetryPause);
        co_await pause.async_wait(kTuple);
      }
      continue;
    }
    // Each stream's cursor starts at its end when the feed starts: watches read what came before
    // from Redis themselves.
    bool resolved = true;
    for (auto& s : streams_) {
      if (s.cursor) continue;
      auto tail = co_await ReadTail(*client_, s.key);
      if (stopped_) co_return;
      if (!tail.ok()) {
        resolved = false;
        break;
      }
      s.cursor = *tail;
    }
    if (!resolved) {
      failing = true;
      continue;
    }
    std::vector<std::string> command = {"XREAD",
                                        "COUNT",
                                        std::to_string(options_.read_count),
                                        "BLOCK",
                                        std::to_string(options_.block.count()),
                                        "STREAMS"};
    for (const auto& s : streams_) command.push_back(s.key);
    for (const auto& s : streams_) command.push_back(s.cursor->ToString());
    auto reply = co_await client_->Command(std::move(command));
    if (stopped_) co_return;
    if (!reply.ok() || reply->IsError()) {
      if (!reply.ok() || !client_->IsReady()) {
        logger_.Debug("change feed read failed",
                      {{"error", reply.ok() ? reply->str : std::string(reply.status().message())}});
      } else {
        logger_.Warn("change feed read refused", {{"error", reply->str}});
      }
      failing = true;
      continue;
    }
    if (reply->IsNil()) continue;  // nothing within the block time
    if (reply->type != redis::Reply::Type::kArray) {
      logger_.Warn("change feed: unexpected XREAD reply");
      failing = true;
      continue;
    }
    for (const redis::Reply& per_stream : reply->elements) {
      if (per_stream.type != redis::Reply::Type::kArray || per_stream.elements.size() != 2) {
        continue;
      }
      const std::string& key = per_stream.elements[0].str;
      for (std::size_t i = 0; i < streams_.size(); ++i) {
        if (streams_[i].key != key) continue;
        auto batch = std::make_shared<FeedBatch>();
        batch->after = *streams_[i].cursor;
        if (!ParseEntries(per_stream.elements[1], batch->entries) || batch->entries.empty()) {
          break;
        }
        streams_[i].cursor = batch->entries.back().id;
        ++batches_read_;
        Deliver(i, std::move(batch));
        break;
      }
    }
  }
}

void RegisterStreamScripts(redis::RedisClient& client) {
  client.RegisterScript(&TailScript());
  client.RegisterScript(&PageScript());
}

StreamWatch::StreamWatch(ChangeFeed& feed, redis::RedisClient& client, std::string stream)
    : feed_(feed), client_(client), stream_(std::move(stream)) {
  inbox_ = feed_.Subscribe(stream_);
}

StreamWatch::~StreamWatch() { feed_.Unsubscribe(stream_, inbox_); }

boost::asio::awaitable<absl::StatusOr<StreamId>> StreamWatch::Tail() {
  co_return co_await ReadTail(client_, stream_);
}

void StreamWatch::StartAfter(StreamId position) {
  last_ = position;
  fill_to_ = StreamId::Max();  // first read what is already there after the position
}

boost::asio::awaitable<absl::StatusOr<std::shared_ptr<const FeedBatch>>> StreamWatch::ReadPage(
    StreamId to) {
  std::vector<std::string> keys = {stream_};
  std::vector<std::string> args = {last_.ToString(), to == StreamId::Max() ? "+" : to.ToString(),
                                   std::to_string(kPageSize)};
  auto reply = redis_util::Checked(
      co_await client_.Eval(PageScript(), std::move(keys), std::move(args)), "change stream");
  if (!reply.ok()) co_return reply.status();
  const auto& e = reply->elements;
  if (reply->type != redis::Reply::Type::kArray || e.size() != 3) co_return Unexpected("page");
  const auto first = StreamId::Parse(e[1].str);
  if (!first) co_return Unexpected("page: first");
  if (redis_util::ToInt(e[0]) > 0 && last_ < *first) {
    co_return absl::OutOfRangeError("position " + last_.ToString() +
                                    " is older than the retained history (it starts at " +
                                    first->ToString() + "); start a new watch");
  }
  auto batch = std::make_shared<FeedBatch>();
  batch->after = last_;
  if (!ParseEntries(e[2], batch->entries)) co_return Unexpected("page: entries");
  co_return batch;
}

boost::asio::awaitable<absl::StatusOr<EntrySpan>> StreamWatch::Next() {
  for (;;) {
    if (fill_to_) {
      const StreamId to = *fill_to_;
      auto page = co_await ReadPage(to);
      if (!page.ok()) co_return page.status();
      const auto& entries = (*page)->entries;
      if (entries.size() < kPageSize || entries.back().id >= to) {
        fill_to_.reset();
        // Everything up to `to` is read: a later batch starting there continues from here.
        if (to != StreamId::Max()) last_ = std::max(last_, to);
      }
      if (!entries.empty()) {
        last_ = std::max(last_, entries.back().id);
        co_return EntrySpan{*std::move(page), 0};
      }
      continue;
    }
    if (inbox_->dropped_to) {
      if (*inbox_->dropped_to > last_) fill_to_ = *inbox_->dropped_to;
      inbox_->dropped_to.reset();
      continue;
    }
    if (!inbox_->pending.empty()) {
      const auto batch = inbox_->pending.front();
      if (batch->after > last_) {
        fill_to_ = batch->after;  // the feed skipped over entries this watch has not seen
        continue;
      }
      inbox_->pending.pop_front();
      const auto& entries = batch->entries;
      const auto it = std::upper_bound(
          entries.begin(), entries.end(), last_,
          [](const StreamId& id, const StreamEntry& entry) { return id < entry.id; });
      if (it == entries.end()) continue;
      last_ = entries.back().id;
      co_return EntrySpan{batch, static_cast<std::size_t>(it - entries.begin())};
    }
    if (inbox_->closed) co_return *inbox_->closed;
    co_await inbox_->wake.async_wait(kTuple);
    const auto cancelled = (co_await boost::asio::this_coro::cancellation_state).cancelled();
    if (cancelled != boost::asio::cancellation_type::none) {
      co_return absl::CancelledError("watch cancelled");
    }
  }
}

}  // namespace switchyard::data
