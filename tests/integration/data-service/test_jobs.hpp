#pragma once

// Job types that exist only in tests, registered by the test harness next to the real ones:
//   test.flaky  payload {"fail_times": N}: attempts 1..N fail ("flaky failure <n>"); later
//               attempts succeed with {"attempt": n}.
//   test.block  payload {}: waits until TestJobLog::Release(), then succeeds with
//               {"consumer": <worker>}. Cancelled attempts (timeout, abandon) just end.
// Every attempt start is recorded with its time (steady clock) and worker, so tests can check
// backoff gaps and who ran what.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "data-service/job_registry.hpp"

namespace switchyard::data {

class TestJobLog {
 public:
  struct Start {
    std::string job_id;
    std::int32_t attempt = 0;
    std::string consumer;
    std::chrono::steady_clock::time_point at;
  };

  void RecordStart(const JobContext& context) {
    std::lock_guard lock(mutex_);
    starts_.push_back(
        {context.job_id, context.attempt, context.consumer, std::chrono::steady_clock::now()});
    ++running_;
    max_running_ = std::max(max_running_, running_);
  }
  void RecordEnd() {
    std::lock_guard lock(mutex_);
    --running_;
  }

  std::vector<Start> StartsOf(const std::string& job_id) const {
    std::lock_guard lock(mutex_);
    std::vector<Start> out;
    for (const Start& start : starts_) {
      if (start.job_id == job_id) out.push_back(start);
    }
    return out;
  }
  std::size_t TotalStarts() const {
    std::lock_guard lock(mutex_);
    return starts_.size();
  }
  int MaxRunning() const {
    std::lock_guard lock(mutex_);
    return max_running_;
  }

  void Release() { released_.store(true); }
  bool released() const { return released_.load(); }

 private:
  mutable std::mutex mutex_;
  std::vector<Start> starts_;
  int running_ = 0;
  int max_running_ = 0;
  std::atomic<bool> released_{false};
};

inline void RegisterTestJobs(JobRegistry& registry, std::shared_ptr<TestJobLog> log) {
  using google::protobuf::Struct;
  registry.Register(
      "test.flaky",
      [](const Struct& payload) {
        const auto it = payload.fields().find("fail_times");
        if (it == payload.fields().end() ||
            it->second.kind_case() != google::protobuf::Value::kNumberValue) {
          return absl::InvalidArgumentError("payload.fail_times: must be a number");
        }
        return absl::OkStatus();
      },
      [log](JobContext& context, const Struct& payload) -> boost::asio::awaitable<JobResult> {
        log->RecordStart(context);
        log->RecordEnd();
        const double fail_times = payload.fields().at("fail_times").number_value();
        if (context.attempt <= fail_times) {
          co_return absl::UnavailableError("flaky failure " + std::to_string(context.attempt));
        }
        Struct result;
        (*result.mutable_fields())["attempt"].set_number_value(context.attempt);
        co_return result;
      });
  registry.Register(
      "test.block", [](const Struct&) { return absl::OkStatus(); },
      [log](JobContext& context, const Struct&) -> boost::asio::awaitable<JobResult> {
        log->RecordStart(context);
        struct EndGuard {
          TestJobLog& log;
          ~EndGuard() { log.RecordEnd(); }
        } guard{*log};
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        while (!log->released()) {
          timer.expires_after(std::chrono::milliseconds(5));
          co_await timer.async_wait(boost::asio::use_awaitable);
        }
        Struct result;
        (*result.mutable_fields())["consumer"].set_string_value(context.consumer);
        co_return result;
      });
}

}  // namespace switchyard::data
