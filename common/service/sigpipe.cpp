#include "common/service/sigpipe.hpp"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace switchyard {
namespace {

thread_local bool sigpipe_blocked_for_good = false;

bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

void BlockSigpipeOnThisThread() {
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  if (pthread_sigmask(SIG_BLOCK, &sigpipe, nullptr) == 0) sigpipe_blocked_for_good = true;
}

ScopedSigpipeSuppressor::ScopedSigpipeSuppressor() {
  active_ = !sigpipe_blocked_for_good;
  if (!active_) return;
  sigemptyset(&sigpipe_);
  sigaddset(&sigpipe_, SIGPIPE);
  was_pending_ = SigpipePending();
  pthread_sigmask(SIG_BLOCK, &sigpipe_, &old_mask_);
}

ScopedSigpipeSuppressor::~ScopedSigpipeSuppressor() {
  if (!active_) return;
  const int saved_errno = errno;
  if (!was_pending_ && SigpipePending()) {
    const timespec no_wait{};
    while (sigtimedwait(&sigpipe_, nullptr, &no_wait) == -1 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  errno = saved_errno;
}

}  // namespace switchyard
