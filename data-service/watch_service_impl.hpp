#pragma once

// The rules of WatchData and WatchJob, free of transport: validate, open a StreamWatch on the
// shard's change feed, turn stream entries into messages. Each message goes out through `write`,
// which completes false once the call is over (the client went away).

#include <functional>

#include "absl/status/status.h"
#include <boost/asio/awaitable.hpp>

#include "common/redis/redis_client.hpp"
#include "common/service/call_context.hpp"
#include "data-service/change_feed.hpp"
#include "data-service/redis_job_store.hpp"
#include "switchyard/data/v1/data_service.pb.h"
#include "switchyard/data/v1/job_service.pb.h"

namespace switchyard::data {

template <class Response>
using WriteMessage = std::function<boost::asio::awaitable<bool>(const Response&)>;

class WatchServiceImpl {
 public:
  // All on one shard: its feed, its shared Redis client (with RegisterStreamScripts), its job
  // store. They must outlive the impl.
  WatchServiceImpl(ChangeFeed& feed, redis::RedisClient& client, RedisJobStore& jobs);

  // Never ends by itself: OK is not returned; CANCELLED when the client goes away.
  boost::asio::awaitable<absl::Status> WatchData(CallContext call,
                                                 const v1::WatchDataRequest& request,
                                                 WriteMessage<v1::WatchDataResponse> write);
  // OK once the job is SUCCEEDED or DEAD and that message was written.
  boost::asio::awaitable<absl::Status> WatchJob(CallContext call,
                                                const v1::WatchJobRequest& request,
                                                WriteMessage<v1::WatchJobResponse> write);

 private:
  ChangeFeed& feed_;
  redis::RedisClient& client_;
  RedisJobStore& jobs_;
};

// An empty position, or a stream entry id ("1700000000000-0"); INVALID_ARGUMENT naming
// resume_after otherwise.
absl::StatusOr<std::optional<StreamId>> ParseResumePosition(std::string_view text);

// Applies a sy:jobs:events entry (the job's changing fields) to `job`; false when it is broken.
bool ApplyJobEvent(const StreamEntry& entry, JobRecord& job);

}  // namespace switchyard::data
