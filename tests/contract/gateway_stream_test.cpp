// What a REST client sees of the gateway's streaming routes, end to end: a real redis-server,
// data-service and gateway in-process on loopback. SSE and NDJSON framing, resume with
// Last-Event-ID or the query parameter (no gap, no duplicate), errors before and after the
// stream started, a client's disconnect reaching data-service, the stream limit, the idle and
// maximum durations, the final event on shutdown, and the header line cap.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "gateway/gateway_app.hpp"
#include "tests/integration/data-service/data_service_harness.hpp"
#include "tests/support/http_test_client.hpp"
#include "tests/support/stream_test_client.hpp"

namespace switchyard::gateway {
namespace {

using namespace std::chrono_literals;
using data::DataServiceHarness;
using switchyard::testing::HttpResult;
using switchyard::testing::HttpSend;
using switchyard::testing::SseEvent;
using switchyard::testing::StreamTestClient;

const std::map<std::string, std::string> kSse = {{"Accept", "text/event-stream"}};

class GatewayStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(data_.Ready());
    Start(RestOptions());
  }

  void Start(RestOptions rest, std::chrono::milliseconds grace = 2s, std::size_t shards = 2) {
    gateway_.reset();
    GatewayConfig config;
    config.http.listen_address = "127.0.0.1:0";
    config.shards = shards;
    config.shutdown_grace = grace;
    config.rest = std::move(rest);
    config.services["switchyard.data.v1.DataService"] = data_.address();
    config.services["switchyard.data.v1.JobService"] = data_.address();
    gateway_ = std::make_unique<GatewayApp>(std::move(config), logger_);
    const absl::Status status = gateway_->Start();
    ASSERT_TRUE(status.ok()) << status;
    port_ = gateway_->port();
  }

  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) {
    return HttpSend(port_, method, target, body, headers);
  }

  void Put(const std::string& key, const std::string& value) {
    const HttpResult put = Send("PUT", "/api/data/" + key, R"({"value":")" + value + R"("})");
    ASSERT_EQ(put.status, 200u) << put.body;
  }

  static boost::json::object Json(const std::string& text) {
    return boost::json::parse(text).as_object();
  }

  // Waits (bounded) until data-service has exactly `n` watches open.
  bool WatchesOpen(std::size_t n) {
    return switchyard::testing::WaitFor([&] { return data_.app().open_watches() == n; }, 5s);
  }

  Logger logger_{"gateway", "test", LogLevel::kWarn};
  DataServiceHarness data_;
  std::unique_ptr<GatewayApp> gateway_;
  unsigned short port_ = 0;
};

TEST_F(GatewayStreamTest, SseFramingHasIdEventAndOneLineOfJsonData) {
  StreamTestClient stream(port_, "/api/data:watch?prefix=sse/",
                          {{"Accept", "text/event-stream"}, {"X-Request-ID", "req-sse-1"}});
  ASSERT_EQ(stream.status(), 200u);
  EXPECT_EQ(stream.Header("content-type"), "text/event-stream");
  EXPECT_EQ(stream.Header("cache-control"), "no-cache");
  EXPECT_EQ(stream.Header("x-request-id"), "req-sse-1");
  EXPECT_EQ(stream.Header("transfer-encoding"), "chunked");

  const auto synced = stream.NextEvent();
  ASSERT_TRUE(synced);
  EXPECT_EQ(synced->event, "synced");
  ASSERT_TRUE(synced->has_id);
  const auto synced_json = Json(synced->data);
  EXPECT_EQ(synced_json.at("kind").as_string(), "DATA_CHANGE_KIND_SYNCED");
  EXPECT_EQ(synced_json.at("position").as_string(), synced->id);

  Put("sse/a", "hello");
  Put("other/b", "unwatched");
  ASSERT_EQ(Send("DELETE", "/api/data/sse/a").status, 204u);
  const auto put = stream.NextEvent();
  ASSERT_TRUE(put);
  EXPECT_EQ(put->event, "put");
  const auto item = Json(put->data).at("item").as_object();
  EXPECT_EQ(item.at("key").as_string(), "sse/a");
  EXPECT_EQ(item.at("value").as_string(), "hello");
  EXPECT_EQ(item.at("version").as_string(), "1");
  EXPECT_EQ(Json(put->data).at("position").as_string(), put->id);
  const auto deleted = stream.NextEvent();
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->event, "delete");
  EXPECT_EQ(Json(deleted->data).at("item").at("key").as_string(), "sse/a");
  EXPECT_GT(*data::StreamId::Parse(deleted->id), *data::StreamId::Parse(put->id));
}

TEST_F(GatewayStreamTest, WithoutAnSseAcceptTheStreamIsNewlineDelimitedJson) {
  StreamTestClient stream(port_, "/api/data:watch?prefix=nd/", {{"Accept", "application/json"}});
  ASSERT_EQ(stream.status(), 200u);
  EXPECT_EQ(stream.Header("content-type"), "application/x-ndjson");
  const auto first = stream.NextLine();
  ASSERT_TRUE(first);
  EXPECT_EQ(Json(*first).at("kind").as_string(), "DATA_CHANGE_KIND_SYNCED");
  Put("nd/x", "1");
  const auto line = stream.NextLine();
  ASSERT_TRUE(line);
  const auto change = Json(*line);
  EXPECT_EQ(change.at("kind").as_string(), "DATA_CHANGE_KIND_PUT");
  EXPECT_EQ(change.at("item").at("key").as_string(), "nd/x");
  EXPECT_EQ(stream.pending(), "");  // exactly one message per line
}

// Reads `n` put events and returns them.
std::vector<SseEvent> ReadPuts(StreamTestClient& stream, int n) {
  std::vector<SseEvent> events;
  for (int i = 0; i < n; ++i) {
    auto event = stream.NextEvent();
    EXPECT_TRUE(event) << i;
    if (!event) break;
    EXPECT_EQ(event->event, "put");
    events.push_back(*event);
  }
  return events;
}

std::string KeyOf(const SseEvent& event) {
  return std::string(boost::json::parse(event.data).at("item").at("key").as_string());
}

TEST_F(GatewayStreamTest, ResumeAfterADroppedConnectionHasNoGapAndNoDuplicate) {
  std::string last_id;
  {
    StreamTestClient stream(port_, "/api/data:watch?prefix=res/", kSse);
    ASSERT_TRUE(stream.NextEvent());  // synced
    for (int i = 0; i < 3; ++i) Put("res/" + std::to_string(i), "v");
    const auto events = ReadPuts(stream, 2);
    ASSERT_EQ(events.size(), 2u);
    last_id = events.back().id;
    stream.Close();  // dropped after res/1
  }
  for (int i = 3; i < 6; ++i) Put("res/" + std::to_string(i), "v");

  // As an EventSource reconnects: Last-Event-ID.
  StreamTestClient by_header(port_, "/api/data:watch?prefix=res/",
                             {{"Accept", "text/event-stream"}, {"Last-Event-ID", last_id}});
  const auto synced = by_header.NextEvent();
  ASSERT_TRUE(synced);
  EXPECT_EQ(synced->id, last_id);
  auto events = ReadPuts(by_header, 4);
  ASSERT_EQ(events.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(KeyOf(events[i]), "res/" + std::to_string(i + 2));

  // A client that cannot set headers: the query parameter, with the same result.
  StreamTestClient by_query(port_, "/api/data:watch?prefix=res/&resume_after=" + last_id, kSse);
  ASSERT_TRUE(by_query.NextEvent());
  const auto again = ReadPuts(by_query, 4);
  ASSERT_EQ(again.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(again[i].id, events[i].id);
}

TEST_F(GatewayStreamTest, ATooOldPositionGetsAnErrorEventWithStatusAndRequestId) {
  std::vector<SseEvent> events;
  {
    StreamTestClient stream(port_, "/api/data:watch?prefix=old/", kSse);
    ASSERT_TRUE(stream.NextEvent());
    for (int i = 0; i < 4; ++i) Put("old/" + std::to_string(i), "v");
    events = ReadPuts(stream, 4);
    ASSERT_EQ(events.size(), 4u);
  }
  const std::string trim = "redis-cli --no-auth-warning -p " +
                           std::to_string(data_.redis().port()) + " -a " +
                           data_.redis().password() + " XTRIM sy:data:events MAXLEN 1 >/dev/null";
  ASSERT_EQ(std::system(trim.c_str()), 0);

  StreamTestClient stream(port_, "/api/data:watch?prefix=old/",
                          {{"Accept", "text/event-stream"},
                           {"Last-Event-ID", events[0].id},
                           {"X-Request-ID", "req-too-old"}});
  ASSERT_EQ(stream.status(), 200u);
  ASSERT_TRUE(stream.NextEvent());  // synced: the stream had started
  const auto error = stream.NextEvent();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->event, "error");
  const auto status = Json(error->data);
  EXPECT_EQ(status.at("code").as_int64(), 11);  // OUT_OF_RANGE
  EXPECT_NE(std::string(status.at("message").as_string()).find("older than the retained history"),
            std::string::npos);
  EXPECT_EQ(status.at("details").at(0).at("request_id").as_string(), "req-too-old");
  EXPECT_TRUE(stream.Ended());
}

TEST_F(GatewayStreamTest, ErrorsBeforeTheStreamStartsAreOrdinaryJsonErrors) {
  HttpResult missing = Send("GET", "/api/jobs/7f1c1f0e-5b1a-4c1e-9f1a-1b2c3d4e5f60:watch", "",
                            {{"Accept", "text/event-stream"}});
  EXPECT_EQ(missing.status, 404u) << missing.body;
  EXPECT_EQ(missing.Json().at("code").as_int64(), 5);
  HttpResult bad = Send("GET", "/api/data:watch?resume_after=yesterday", "", kSse);
  EXPECT_EQ(bad.status, 400u) << bad.body;
  EXPECT_NE(bad.body.find("resume_after"), std::string::npos);
  HttpResult unknown = Send("GET", "/api/data:watch?nope=1", "", kSse);
  EXPECT_EQ(unknown.status, 400u) << unknown.body;
}

TEST_F(GatewayStreamTest, WatchJobNamesEventsByStateAndEndsWithTheJob) {
  const HttpResult submitted =
      Send("POST", "/api/jobs", R"({"type":"test.flaky","payload":{"fail_times":0}})");
  ASSERT_EQ(submitted.status, 202u) << submitted.body;
  const std::string id(submitted.Json().at("id").as_string());
  StreamTestClient stream(port_, "/api/jobs/" + id + ":watch", kSse);
  ASSERT_EQ(stream.status(), 200u);
  std::vector<std::string> names;
  while (auto event = stream.NextEvent()) {
    names.push_back(event->event);
    EXPECT_TRUE(event->has_id);
    EXPECT_EQ(Json(event->data).at("job").at("id").as_string(), id);
  }
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "succeeded");
  EXPECT_TRUE(stream.Ended());  // the stream ended cleanly with the job
}

TEST_F(GatewayStreamTest, AClientThatGoesAwayCancelsTheUpstreamWatchAtOnce) {
  auto stream = std::make_unique<StreamTestClient>(port_, "/api/data:watch", kSse);
  ASSERT_TRUE(stream->NextEvent());
  ASSERT_TRUE(WatchesOpen(1));
  stream->Close();
  EXPECT_TRUE(WatchesOpen(0));
  EXPECT_TRUE(
      switchyard::testing::WaitFor([&] { return gateway_->handler()->open_streams() == 0; }, 5s));
  const std::string metrics = gateway_->metrics().Serialize();
  EXPECT_NE(metrics.find("\nhttp_streams_open 0"), std::string::npos) << metrics;
}

TEST_F(GatewayStreamTest, StreamsAskingTheSameShareOneUpstreamCall) {
  Start(RestOptions(), 2s, 1);  // one shard: every stream may share
  const auto calls_open = [&](int n) {
    return switchyard::testing::WaitFor(
        [&] {
          return gateway_->metrics().Serialize().find("\nhttp_stream_upstream_calls_open " +
                                                      std::to_string(n) + "\n") !=
                 std::string::npos;
        },
        5s);
  };
  auto first = std::make_unique<StreamTestClient>(port_, "/api/data:watch?prefix=share/", kSse);
  const auto synced = first->NextEvent();
  ASSERT_TRUE(synced);
  // A second stream asking the same joins the call, from its start: the same synced event.
  auto second = std::make_unique<StreamTestClient>(
      port_, "/api/data:watch?prefix=share/",
      std::map<std::string, std::string>{{"Accept", "application/json"}});
  const auto second_synced = second->NextLine();
  ASSERT_TRUE(second_synced);
  EXPECT_EQ(Json(*second_synced).at("position").as_string(), synced->id);
  // Another prefix, and a resumed watch, get calls of their own.
  StreamTestClient other(port_, "/api/data:watch?prefix=other-share/", kSse);
  ASSERT_TRUE(other.NextEvent());
  StreamTestClient resumed(port_, "/api/data:watch?prefix=share/",
                           {{"Accept", "text/event-stream"}, {"Last-Event-ID", synced->id}});
  ASSERT_TRUE(resumed.NextEvent());
  EXPECT_TRUE(WatchesOpen(3));
  EXPECT_TRUE(calls_open(3));

  Put("share/a", "1");
  const auto put = first->NextEvent();
  ASSERT_TRUE(put);
  const auto second_put = second->NextLine();
  ASSERT_TRUE(second_put);
  EXPECT_EQ(Json(*second_put).at("position").as_string(), put->id);
  const auto resumed_put = resumed.NextEvent();
  ASSERT_TRUE(resumed_put);
  EXPECT_EQ(resumed_put->id, put->id);

  // The call goes on while one stream reads it, and ends when the last leaves.
  first->Close();
  Put("share/b", "2");
  const auto after = second->NextLine();
  ASSERT_TRUE(after);
  EXPECT_EQ(Json(*after).at("item").at("key").as_string(), "share/b");
  EXPECT_TRUE(WatchesOpen(3));
  second->Close();
  EXPECT_TRUE(WatchesOpen(2));
  EXPECT_TRUE(calls_open(2));
}

TEST_F(GatewayStreamTest, AClientThatHoldsASharedCallBackIsEndedAndTheOthersGoOn) {
  Start(RestOptions(), 2s, 1);
  StreamTestClient fast(port_, "/api/data:watch?prefix=lag/", kSse);
  ASSERT_TRUE(fast.NextEvent());
  // Reads its first event, then nothing: with a small receive buffer and 60 KB events the
  // gateway's socket fills, then the shared call's log of 64 messages.
  StreamTestClient slow(port_, "/api/data:watch?prefix=lag/", kSse, 30s, 4096);
  ASSERT_TRUE(slow.NextEvent());
  const std::string value(60000, 'x');
  constexpr int kPuts = 200;
  for (int i = 0; i < kPuts; ++i) {
    Put("lag/" + std::to_string(i), value);
    const auto event = fast.NextEvent();
    ASSERT_TRUE(event) << "the fast client stalled at " << i;
    ASSERT_EQ(Json(event->data).at("item").at("key").as_string(), "lag/" + std::to_string(i));
  }
  // The slow client gets what was already on its way, then the error event telling it to
  // resume.
  std::optional<SseEvent> last;
  int delivered = 0;
  while (auto event = slow.NextEvent()) {
    last = event;
    if (event->event == "error") break;
    ++delivered;
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->event, "error");
  EXPECT_EQ(Json(last->data).at("code").as_int64(), 8) << last->data;
  EXPECT_LT(delivered, kPuts);
}

TEST_F(GatewayStreamTest, StreamsPastTheLimitGet429) {
  RestOptions rest;
  rest.max_streams = 2;
  Start(rest);
  StreamTestClient first(port_, "/api/data:watch", kSse);
  StreamTestClient second(port_, "/api/data:watch", kSse);
  ASSERT_EQ(first.status(), 200u);
  ASSERT_EQ(second.status(), 200u);
  EXPECT_NE(gateway_->metrics().Serialize().find("\nhttp_streams_open 2"), std::string::npos);
  const HttpResult third = Send("GET", "/api/data:watch", "", kSse);
  EXPECT_EQ(third.status, 429u);
  EXPECT_EQ(third.Json().at("code").as_int64(), 8);
  // Ordinary requests are not limited by open streams.
  EXPECT_EQ(Send("GET", "/api/time").status, 200u);
}

TEST_F(GatewayStreamTest, AnIdleStreamGetsKeepalivesThenEndsWithAFinalEvent) {
  RestOptions rest;
  rest.stream_keepalive = 100ms;
  rest.stream_idle_timeout = 1s;
  rest.default_timeout = 200ms;  // the request deadline does not apply to a stream
  Start(rest);
  StreamTestClient stream(port_, "/api/data:watch", kSse);
  ASSERT_TRUE(stream.NextEvent());
  const auto started = std::chrono::steady_clock::now();
  const auto final_event = stream.NextEvent();
  ASSERT_TRUE(final_event);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
  EXPECT_EQ(final_event->event, "error");
  EXPECT_EQ(Json(final_event->data).at("code").as_int64(), 4);  // DEADLINE_EXCEEDED
  EXPECT_GE(stream.comments(), 3);
  EXPECT_TRUE(stream.Ended());
}

TEST_F(GatewayStreamTest, AStreamEndsAtItsMaximumDurationEvenWhenBusy) {
  RestOptions rest;
  rest.stream_max_duration = 1s;
  Start(rest);
  StreamTestClient stream(port_, "/api/data:watch?prefix=max/", kSse);
  ASSERT_TRUE(stream.NextEvent());
  std::string last_event;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100 && last_event != "error"; ++i) {
    Put("max/k", std::to_string(i));
    const auto event = stream.NextEvent();
    ASSERT_TRUE(event);
    last_event = event->event;
    std::this_thread::yield();
  }
  if (last_event != "error") {
    const auto event = stream.NextEvent();
    ASSERT_TRUE(event);
    last_event = event->event;
  }
  EXPECT_EQ(last_event, "error");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(stream.Ended());
}

TEST_F(GatewayStreamTest, ShutdownEndsEachStreamWithAFinalEventWithinTheGrace) {
  Start(RestOptions(), 3s);
  StreamTestClient sse(port_, "/api/data:watch", kSse);
  StreamTestClient ndjson(port_, "/api/data:watch");
  ASSERT_TRUE(sse.NextEvent());
  ASSERT_TRUE(ndjson.NextLine());
  const auto started = std::chrono::steady_clock::now();
  std::thread stop([&] { gateway_->Shutdown(); });
  const auto final_event = sse.NextEvent();
  ASSERT_TRUE(final_event);
  EXPECT_EQ(final_event->event, "error");
  EXPECT_EQ(Json(final_event->data).at("code").as_int64(), 14);  // UNAVAILABLE: reconnect
  EXPECT_TRUE(sse.Ended());
  const auto final_line = ndjson.NextLine();
  ASSERT_TRUE(final_line);
  EXPECT_EQ(Json(*final_line).at("error").at("code").as_int64(), 14);
  EXPECT_TRUE(ndjson.Ended());
  stop.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
}

TEST_F(GatewayStreamTest, MoreThanOneHundredHeaderLinesAre431) {
  std::map<std::string, std::string> headers;
  for (int i = 0; i < 98; ++i) headers["X-H" + std::to_string(i)] = "v";  // + Host + ...
  EXPECT_EQ(Send("GET", "/health/live", "", headers).status, 200u);
  for (int i = 98; i < 101; ++i) headers["X-H" + std::to_string(i)] = "v";
  const HttpResult rejected = Send("GET", "/health/live", "", headers);
  EXPECT_EQ(rejected.status, 431u);
  EXPECT_NE(rejected.body.find("header lines"), std::string::npos) << rejected.body;
}

}  // namespace
}  // namespace switchyard::gateway
