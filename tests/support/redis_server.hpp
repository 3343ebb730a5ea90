#pragma once

// A real redis-server for integration tests: its own temp dir, a free port on 127.0.0.1,
// appendonly (so Stop()/Start() keep the data), no RDB snapshots, DEBUG allowed from loopback.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::testing {

struct RedisServerOptions {
  std::string password;  // requirepass (a sentinel's own password in sentinel mode)
  // Appended to the command line, e.g. {"--replicaof", "127.0.0.1", "6379", "--masterauth", pw}.
  std::vector<std::string> extra_args;
  // Sentinel mode (redis-server --sentinel): these lines, after "port N", are its config file
  // (which the sentinel rewrites as it learns; a restart keeps it).
  std::optional<std::string> sentinel_config;
};

class RedisServer {
 public:
  // Starts redis-server (SWITCHYARD_REDIS_SERVER_PATH) and waits, bounded, until it answers PING.
  // Adds a gtest failure and throws std::runtime_error when it cannot be started.
  explicit RedisServer(std::string password = "");
  explicit RedisServer(RedisServerOptions options);
  // SIGKILL if still running, reap, remove the temp dir.
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  const std::string& password() const { return password_; }
  const std::string& dir() const { return dir_; }
  bool running() const { return pid_ > 0; }

  // SIGTERM (redis flushes the AOF and exits), then waits for it, bounded; SIGKILL after that.
  void Stop();
  // Starts again on the same port and dir (data kept via the AOF) and waits until it answers.
  // Throws std::runtime_error (after a gtest failure) when it does not come up.
  void Start();
  // SIGKILL and reap: a crash, no shutdown work.
  void Kill();
  // SIGSTOP / SIGCONT: a hung server whose connections stay open but never answer.
  void Pause();
  void Resume();

 private:
  // Spawns and waits for PING; false (with `error` set) if it exits or does not answer in time.
  bool Launch(std::string& error);
  void Reap(std::chrono::milliseconds timeout);

  std::string password_;
  RedisServerOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool launched_ = false;
};

// Checks `pred` every few milliseconds until it returns true or `timeout` passes; returns the
// final pred().
bool WaitFor(std::function<bool()> pred, std::chrono::milliseconds timeout);

}  // namespace switchyard::testing
