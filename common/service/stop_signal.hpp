#pragma once

// Waiting for SIGTERM/SIGINT (or a programmatic stop) on the main thread.

namespace switchyard {

class Logger;

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts afterwards, so that
// StopSignal::Wait can take them. Call first thing in main().
void BlockStopSignals();

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Blocks until SIGTERM or SIGINT arrives or Request() is called; logs which.
  void Wait(Logger& logger);
  // Thread-safe and async-signal-safe.
  void Request();

 private:
  int pipe_[2] = {-1, -1};
};

}  // namespace switchyard
