#pragma once

// SIGPIPE without a process-wide disposition: a write to a socket whose peer has reset raises
// SIGPIPE, which kills the process by default. Nothing here depends on Redis, so a binary that
// runs the gRPC runtime does not link hiredis for it.

#include <signal.h>

namespace switchyard {

// While one of these lives, SIGPIPE is blocked on this thread; one raised meanwhile is consumed
// before the mask is restored, and the write itself fails with EPIPE (hiredis 0.14, which writes
// with write(2), treats that as a disconnect). No process-wide signal disposition is changed. On a
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

}  // namespace switchyard
