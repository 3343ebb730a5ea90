#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

namespace switchyard::testing {

namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kStartTimeout = 10s;
constexpr std::chrono::milliseconds kStopTimeout = 10s;
constexpr std::chrono::milliseconds kPingIoTimeout = 200ms;
constexpr std::chrono::milliseconds kPollInterval = 5ms;
constexpr int kPortAttempts = 5;

#ifndef SWITCHYARD_REDIS_SERVER_PATH
#define SWITCHYARD_REDIS_SERVER_PATH "redis-server"
#endif

// A port that was free a moment ago: bind port 0 on loopback, read it back, close.
int PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string Bulk(const std::string& value) {
  return "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
}

// One blocking round trip on a fresh socket with short I/O timeouts: [AUTH] PING. True when the
// last reply is +PONG (so not -LOADING while the AOF replays, nor -NOAUTH).
bool AnswersPing(int port, const std::string& password) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{};
  tv.tv_usec = static_cast<suseconds_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(kPingIoTimeout).count());
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request;
    int expected_lines = 1;
    if (!password.empty()) {
      request += "*2\r\n" + Bulk("AUTH") + Bulk(password);
      expected_lines = 2;
    }
    request += "*1\r\n" + Bulk("PING");
    std::size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buf[256];
    int lines = 0;
    while (sent == request.size() && lines < expected_lines) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      response.append(buf, static_cast<std::size_t>(n));
      lines = 0;
      for (std::size_t pos = response.find("\r\n"); pos != std::string::npos;
           pos = response.find("\r\n", pos + 2)) {
        ++lines;
      }
    }
    if (lines >= expected_lines) {
      const std::size_t last_start =
          expected_lines == 1 ? 0 : response.find("\r\n") + 2;  // replies are one line each
      ok = response.compare(last_start, 7, "+PONG\r\n") == 0;
    }
  }
  ::close(fd);
  return ok;
}

std::string ReadTail(const std::string& path, std::size_t max_bytes = 2000) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

}  // namespace

RedisServer::RedisServer(std::string password)
    : RedisServer(RedisServerOptions{std::move(password), {}, std::nullopt}) {}

RedisServer::RedisServer(RedisServerOptions options)
    : password_(options.password), options_(std::move(options)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "switchyard-redis-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
    throw std::runtime_error("RedisServer: cannot create a temp dir");
  }
  dir_ = buffer.data();
  std::string error;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    port_ = PickFreePort();
    if (port_ != 0 && Launch(error)) return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
  ADD_FAILURE() << "redis-server did not start: " << error;
  throw std::runtime_error("RedisServer: redis-server did not start");
}

RedisServer::~RedisServer() {
  Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool RedisServer::Launch(std::string& error) {
  const std::string log_file = dir_ + "/redis.log";
  std::vector<std::string> args;
  if (options_.sentinel_config.has_value()) {
    const std::string config_file = dir_ + "/sentinel.conf";
    if (!launched_) {  // written until the first start succeeds (the port may change)
      std::ofstream config(config_file);
      config << "port " << port_ << "\n" << *options_.sentinel_config << "\n";
      if (!config) {
        error = "cannot write " + config_file;
        return false;
      }
    }
    args = {SWITCHYARD_REDIS_SERVER_PATH,
            config_file,
            "--sentinel",
            "--bind",
            "127.0.0.1",
            "--dir",
            dir_,
            "--daemonize",
            "no",
            "--logfile",
            log_file};
  } else {
    args = {SWITCHYARD_REDIS_SERVER_PATH,
            "--port",
            std::to_string(port_),
            "--bind",
            "127.0.0.1",
            "--dir",
            dir_,
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            log_file,
            "--enable-debug-command",
            "local"};
    if (!password_.empty()) {
      args.push_back("--requirepass");
      args.push_back(password_);
    }
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const std::string output_file = dir_ + "/redis.out";
  // Opened before fork: between fork and exec only async-signal-safe calls are allowed.
  const int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (in_fd < 0 || out_fd < 0) {
    error = "cannot open " + output_file + ": " + std::strerror(errno);
    if (in_fd >= 0) ::close(in_fd);
    if (out_fd >= 0) ::close(out_fd);
    return false;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The server dies with the test (strictly: with the thread that started it, so start it
    // from a thread that outlives it), even when the test is killed or crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in_fd);
  ::close(out_fd);
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "redis-server on port " + std::to_string(port_) + " exited (status " +
              std::to_string(status) + "): " + ReadTail(output_file) + ReadTail(log_file);
      return false;
    }
    if (AnswersPing(port_, password_)) {
      launched_ = true;
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  error = "redis-server on port " + std::to_string(port_) + " did not answer PING within " +
          std::to_string(kStartTimeout.count()) + " ms: " + ReadTail(log_file);
  Kill();
  return false;
}

void RedisServer::Reap(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t done = ::waitpid(pid_, nullptr, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  Reap(kStopTimeout);
}

void RedisServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::Start() {
  if (pid_ > 0) return;
  std::string error;
  if (!Launch(error)) {
    ADD_FAILURE() << "redis-server did not restart: " << error;
    throw std::runtime_error("RedisServer: redis-server did not restart");
  }
}

bool WaitFor(std::function<bool()> pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  return pred();
}

void RedisServer::Pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

}  // namespace switchyard::testing
