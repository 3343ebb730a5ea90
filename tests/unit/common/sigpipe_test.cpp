#include "common/service/sigpipe.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace switchyard {
namespace {

bool SigpipePending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

// The default SIGPIPE disposition terminates the process, so surviving the write is the check.
TEST(RedisSigpipeSuppressorTest, WriteToClosedPeerFailsWithEpipeInsteadOfKillingTheProcess) {
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL) << "the test needs the default (fatal) disposition";

  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_EQ(close(fds[1]), 0);
  ssize_t written = 0;
  int write_errno = 0;
  {
    const ScopedSigpipeSuppressor suppressor;
    written = write(fds[0], "x", 1);
    write_errno = errno;
  }
  close(fds[0]);
  EXPECT_EQ(written, -1);
  EXPECT_EQ(write_errno, EPIPE);
  EXPECT_FALSE(SigpipePending()) << "the SIGPIPE raised in scope was consumed";

  sigset_t mask;
  sigemptyset(&mask);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, nullptr, &mask), 0);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0) << "the thread's mask is restored";
}

}  // namespace
}  // namespace switchyard
