#pragma once

// Drives a hiredis 0.14 redisAsyncContext from a Boost.Asio executor.
//
// hiredis tells its event library, through the context's `ev` hooks, when it wants to read or
// write; the adapter answers each wish with an async_wait on a posix::stream_descriptor that wraps
// the context's socket and then calls redisAsyncHandleRead/Write. hiredis owns the socket: the
// descriptor is released, never closed. hiredis may free the context inside those calls (on a
// disconnect, or a deferred redisAsyncFree), which it announces through the `cleanup` hook; from
// then on no wait that is still pending touches the context, and the adapter frees itself once
// the last of them has completed.

#include <signal.h>

#include "absl/status/status.h"
#include <boost/asio/any_io_executor.hpp>

struct redisAsyncContext;

namespace switchyard::redis {

// Attaches an adapter to `context`, whose socket must be open. Call on the executor's thread,
// once per context, before issuing commands. On error nothing is attached.
absl::Status AttachAsioAdapter(redisAsyncContext* context, boost::asio::any_io_executor executor);

// hiredis 0.14 writes with write(2), so a write to a connection the server has reset would raise
// SIGPIPE and kill the process. While one of these lives, SIGPIPE is blocked on this thread; one
// raised meanwhile is consumed before the mask is restored (the write itself fails with EPIPE,
// which hiredis treats as a disconnect). No process-wide signal disposition is changed. On a
// thread that called BlockSigpipeOnThisThread it does nothing (and costs no system call).
class ScopedSigpipeSuppressor {
 public:
  ScopedSigpipeSuppressor();
  ~ScopedSigpipeSuppressor();

  ScopedSigpipeSuppressor(const ScopedSigpipeSuppressor&) = delete;
  ScopedSigpipeSuppressor& operator=(const ScopedSigpipeSuppressor&) = delete;

 private:
  sigset_t sigpipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool active_ = true;
};

// Blocks SIGPIPE on the calling thread for good: a SIGPIPE its writes raise stays pending there,
// harmless, and the write fails with EPIPE. For threads that only run event loops (the runtime's
// shard loops), so each Redis write needs no mask changes.
void BlockSigpipeOnThisThread();

}  // namespace switchyard::redis
