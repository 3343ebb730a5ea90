#pragma once

// Live reads of data-service's change streams (sy:data:events, sy:jobs:events) for WatchData and
// WatchJob, with no polling and one blocking read per shard, however many watches are open.
//
//   ChangeFeed     one per shard: a Redis connection of its own (XREAD BLOCK holds a connection)
//                  reading every change stream from where it left off, and handing each batch of
//                  entries, parsed once and shared, to the shard's subscriptions of that stream.
//   StreamWatch    one per watch: subscribes to the feed, then yields every entry after a
//                  position exactly once and in order. Entries the feed delivered before the
//                  watch's position are skipped; entries the watch has not seen and the feed did
//                  not bring it (it started later, or it dropped batches the watch was too slow
//                  for) are read from the stream with XRANGE on the shard's shared connection.
//                  So there is no gap and no duplicate, and a slow watch costs bounded memory.
//
// A position is a stream entry id. One older than the stream's retained history gives
// OUT_OF_RANGE: the stream has been trimmed (XADD MAXLEN) and the position's entry is gone, so
// entries after it may be gone too. Everything runs on the shard's loop thread.

#include <chrono>
#include <compare>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/redis/redis_client.hpp"
#include "common/service/logger.hpp"

namespace switchyard::data {

// A Redis stream entry id, "<milliseconds>-<sequence>".
struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  // nullopt unless `text` is "<digits>-<digits>" (each fitting 64 bits).
  static std::optional<StreamId> Parse(std::string_view text);
  static StreamId Max() { return {UINT64_MAX, UINT64_MAX}; }
  std::string ToString() const;
  auto operator<=>(const StreamId&) const = default;
};

struct StreamEntry {
  StreamId id;
  std::vector<std::pair<std::string, std::string>> fields;

  // The value of field `name`; empty when absent.
  std::string_view Field(std::string_view name) const;
};

// Entries of one stream read together: every entry with after < id <= entries.back().id.
struct FeedBatch {
  StreamId after;
  std::vector<StreamEntry> entries;
};

// A FeedBatch's entries from `begin` on: what StreamWatch::Next yields (shared, never copied).
struct EntrySpan {
  std::shared_ptr<const FeedBatch> batch;
  std::size_t begin = 0;

  std::size_t size() const { return batch->entries.size() - begin; }
  const StreamEntry& operator[](std::size_t i) const { return batch->entries[begin + i]; }
};

struct ChangeFeedOptions {
  std::vector<std::string> streams;  // stream keys to follow
  std::chrono::milliseconds block{2000};
  std::size_t read_count = 512;  // XREAD COUNT
  // Batches a subscription may hold unread; past it they are dropped and re-read from Redis.
  std::size_t max_pending_batches = 256;
};

// One subscription's inbox (ChangeFeed's side of a StreamWatch).
struct FeedInbox {
  explicit FeedInbox(boost::asio::any_io_executor executor) : wake(std::move(executor)) {
    wake.expires_at(boost::asio::steady_timer::time_point::max());
  }
  std::deque<std::shared_ptr<const FeedBatch>> pending;
  std::optional<StreamId> dropped_to;  // batches up to here were dropped: read them from Redis
  std::optional<absl::Status> closed;  // the feed ended: the watch ends with this
  boost::asio::steady_timer wake;      // cancelled to wake the watch
};

class ChangeFeed : public std::enable_shared_from_this<ChangeFeed> {
 public:
  // `executor` is the shard's; `redis` configures the feed's own connection (its command timeout
  // is extended by options.block). Logger must outlive the feed.
  static std::shared_ptr<ChangeFeed> Create(boost::asio::any_io_executor executor,
                                            redis::RedisConfig redis, ChangeFeedOptions options,
                                            Logger& logger);

  // Starts reading. On the executor's thread, like everything else.
  void Start();
  // Ends every subscription with UNAVAILABLE and stops reading; later subscriptions end at once.
  // Idempotent.
  void Stop();

  // A new inbox for `stream` (one of options.streams), registered until Unsubscribe.
  std::shared_ptr<FeedInbox> Subscribe(const std::string& stream);
  void Unsubscribe(const std::string& stream, const std::shared_ptr<FeedInbox>& inbox);

  // Open subscriptions: the shard's open watches.
  std::size_t subscriptions() const;
  // Batches read since Start (tests, metrics).
  std::uint64_t batches_read() const { return batches_read_; }

 private:
  ChangeFeed(boost::asio::any_io_executor executor, redis::RedisConfig redis,
             ChangeFeedOptions options, Logger& logger);
  boost::asio::awaitable<void> Run();
  void CloseAll(const absl::Status& status);
  void Deliver(std::size_t stream, std::shared_ptr<const FeedBatch> batch);

  struct Stream {
    std::string key;
    std::optional<StreamId> cursor;  // last id read; nullopt until resolved at start
    std::vector<std::shared_ptr<FeedInbox>> inboxes;
  };

  boost::asio::any_io_executor executor_;
  ChangeFeedOptions options_;
  Logger& logger_;
  std::shared_ptr<redis::RedisClient> client_;
  std::vector<Stream> streams_;
  std::uint64_t batches_read_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

class StreamWatch {
 public:
  // Subscribes at once; `client` is the shard's shared connection (for XRANGE and XINFO). The
  // feed and the client must outlive the watch; the watch stays on the shard's thread.
  StreamWatch(ChangeFeed& feed, redis::RedisClient& client, std::string stream);
  ~StreamWatch();
  StreamWatch(const StreamWatch&) = delete;
  StreamWatch& operator=(const StreamWatch&) = delete;

  // The stream's last entry id now ("0-0" when it has none): where a watch without a resume
  // position starts. Call after constructing (so nothing after it is missed).
  boost::asio::awaitable<absl::StatusOr<StreamId>> Tail();

  // Yield entries after `position` from now on. Before the first Next.
  void StartAfter(StreamId position);

  // The next entries after the last ones yielded, at least one: in order, each once.
  // UNAVAILABLE when the feed ends (shutdown), OUT_OF_RANGE when entries the watch has not seen
  // may have been trimmed, CANCELLED when the awaiting coroutine is cancelled; errors from
  // Redis as its client reports them.
  boost::asio::awaitable<absl::StatusOr<EntrySpan>> Next();

  StreamId position() const { return last_; }

 private:
  // Up to one page of entries in (last_, to], checking that none after last_ were trimmed.
  boost::asio::awaitable<absl::StatusOr<std::shared_ptr<const FeedBatch>>> ReadPage(StreamId to);

  ChangeFeed& feed_;
  redis::RedisClient& client_;
  std::string stream_;
  std::shared_ptr<FeedInbox> inbox_;
  StreamId last_;
  std::optional<StreamId> fill_to_;  // read (last_, fill_to_] from Redis before the inbox
};

// The Lua scripts StreamWatch runs; register them on the shard's client before it starts.
void RegisterStreamScripts(redis::RedisClient& client);

}  // namespace switchyard::data
