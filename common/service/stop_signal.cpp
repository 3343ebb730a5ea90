#include "common/service/stop_signal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "common/service/logger.hpp"

namespace switchyard {

namespace {

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace

void BlockStopSignals() {
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

StopSignal::StopSignal() {
  if (::pipe2(pipe_, O_CLOEXEC) != 0) pipe_[0] = pipe_[1] = -1;
}

StopSignal::~StopSignal() {
  for (int fd : pipe_) {
    if (fd >= 0) ::close(fd);
  }
}

void StopSignal::Wait(Logger& logger) {
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  pollfd fds[2] = {{signal_fd, POLLIN, 0}, {pipe_[0], POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        logger.Info("stop signal received",
                    {{"signal", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
      }
      break;
    }
    if (fds[1].revents & POLLIN) {
      logger.Info("stop requested");
      break;
    }
  }
  if (signal_fd >= 0) ::close(signal_fd);
}

void StopSignal::Request() {
  if (pipe_[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(pipe_[1], &byte, 1);
  }
}

}  // namespace switchyard
