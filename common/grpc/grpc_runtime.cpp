#include "common/grpc/grpc_runtime.hpp"

#include "absl/synchronization/mutex.h"
#include <grpc/support/time.h>

#include "common/service/sigpipe.hpp"

namespace switchyard::rpc {

namespace {

thread_local const Shard* current_shard = nullptr;

// How many completion queue events one turn of a loop takes before it looks at its io_context
// again, so neither side starves the other under load.
constexpr int kEventsPerTurn = 64;

// Completes the events the shard's queue has ready, without blocking. Returns how many.
std::size_t TakeReadyEvents(Shard& shard) {
  const gpr_timespec now = gpr_time_0(GPR_CLOCK_MONOTONIC);
  std::size_t taken = 0;
  while (taken < kEventsPerTurn) {
    void* tag = nullptr;
    bool ok = false;
    switch (shard.cq->AsyncNext(&tag, &ok, now)) {
      case grpc::CompletionQueue::GOT_EVENT:
        shard.pending_operations.fetch_sub(1, std::memory_order_relaxed);
        static_cast<CqTag*>(tag)->Complete(ok);
        ++taken;
        break;
      case grpc::CompletionQueue::SHUTDOWN:
        shard.queue_shut_down = true;
        return taken;
      case grpc::CompletionQueue::TIMEOUT:
        return taken;
    }
  }
  return taken;
}

}  // namespace

namespace detail {

const Shard* CurrentShard() { return current_shard; }

}  // namespace detail

bool Shard::RunningHere() const { return current_shard == this; }

Runtime::Runtime(std::size_t shard_count) {
  // Debian's Abseil is built with Mutex deadlock detection on, and gRPC locks absl::Mutex on
  // every call: the detector's lock-graph bookkeeping cost ~2% of the services' CPU under load.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (shard_count == 0) shard_count = 1;
  shards_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->index = i;
    shards_.push_back(std::move(shard));
  }
}

Runtime::~Runtime() { Stop(); }

void Runtime::AddServerQueues(grpc::ServerBuilder& builder) {
  for (auto& shard : shards_) {
    auto cq = builder.AddCompletionQueue();
    shard->server_cq = cq.get();
    shard->cq = std::move(cq);
  }
}

void Runtime::Start() {
  if (started_) return;
  started_ = true;
  for (auto& shard : shards_) {
    if (!shard->cq) shard->cq = std::make_unique<grpc::CompletionQueue>();
    shard->work.emplace(shard->io.get_executor());
  }
  for (auto& shard : shards_) {
    loop_threads_.emplace_back([s = shard.get()] { RunLoop(*s); });
    poller_threads_.emplace_back([s = shard.get()] { RunPoller(*s); });
  }
}

void Runtime::RunLoop(Shard& shard) {
  current_shard = &shard;
  BlockSigpipeOnThisThread();
  while (!shard.queue_shut_down) {
    std::size_t done = shard.io.poll();
    done += TakeReadyEvents(shard);
    if (done > 0 || shard.queue_shut_down) continue;
    // Stopping, and nothing awaits the queue any more: shut it down; the loop ends once gRPC has
    // handed back what it still held.
    if (shard.stop_requested.load() && !shard.queue_closing.load() &&
        shard.pending_operations.load() == 0) {
      shard.queue_closing.store(true);
      shard.cq->Shutdown();
      continue;
    }
    // Both sides idle: hand the completion queue to the poller and sleep in the io_context until
    // an Asio event, or the poller's post of a gRPC event, wakes this thread.
    int parked = Shard::kParked;
    if (shard.poller_state.compare_exchange_strong(parked, Shard::kPolling)) {
      shard.poller_state.notify_one();
    }
    shard.io.run_one();
  }
  // The queue is shut down and empty: the poller ends, and what is left on the io_context (work
  // that ends by itself) runs to its end here.
  shard.poller_state.store(Shard::kExit);
  shard.poller_state.notify_one();
  shard.work.reset();
  shard.io.run();
  current_shard = nullptr;
}

void Runtime::RunPoller(Shard& shard) {
  for (;;) {
    shard.poller_state.wait(Shard::kParked);
    if (shard.poller_state.load() == Shard::kExit) return;
    void* tag = nullptr;
    bool ok = false;
    const bool got_event = shard.cq->Next(&tag, &ok);
    // Parks again unless the loop has meanwhile told it to end. Whatever happened, the post below
    // wakes the loop, which takes it from here (and unparks the poller before it sleeps again).
    int polling = Shard::kPolling;
    shard.poller_state.compare_exchange_strong(polling, Shard::kParked);
    if (got_event) {
      boost::asio::post(shard.io, [&shard, tag, ok] {
        shard.pending_operations.fetch_sub(1, std::memory_order_relaxed);
        static_cast<CqTag*>(tag)->Complete(ok);
      });
    } else {
      // Shut down and drained: the loop sees that on its next look at the queue.
      boost::asio::post(shard.io, [] {});
    }
  }
}

void Runtime::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // Each loop shuts its queue down once no operation is pending on it (after a server's
  // shutdown, requested calls fail and running ones are cancelled, so that comes), takes what
  // gRPC still holds, finishes its io_context's remaining work and ends.
  for (auto& shard : shards_) {
    shard->stop_requested.store(true);
    boost::asio::post(shard->io, [] {});
  }
  for (auto& thread : loop_threads_) thread.join();
  for (auto& thread : poller_threads_) thread.join();
}

Shard& Runtime::Next() {
  return *shards_[next_.fetch_add(1, std::memory_order_relaxed) % shards_.size()];
}

}  // namespace switchyard::rpc
