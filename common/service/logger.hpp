#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "absl/strings/string_view.h"

namespace switchyard {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn"/"warning", "error" (any case). Returns false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel& level);

// One key/value of a log line. Strings are copied into the line, so temporaries are fine.
struct LogField {
  using Value = std::variant<std::string_view, std::int64_t, double, bool>;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  // Debian's abseil has its own string_view type (status messages use it).
  LogField(std::string_view k, absl::string_view v)
      : key(k), value(std::string_view(v.data(), v.size())) {}
  LogField(std::string_view k, std::int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, unsigned v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}

  std::string_view key;
  Value value;
};

using LogFields = std::initializer_list<LogField>;

// JSON-lines logger: one object per line with ts, level, service, version, msg and the given fields
// (a request's `request_id` among them). Thread-safe; below error level it never waits on the
// output: lines are formatted by the caller and appended to a buffer that a writer thread of the
// logger's own writes out in batches (every 20 ms, or sooner once 64 KiB are waiting, one write
// call for everything queued meanwhile). If the output stalls and the buffer reaches its bound,
// further lines are dropped and counted, and the writer reports how many once it catches up; a
// slow log reader never holds up a request. Error lines, and everything before them, are written
// before Log returns, so the last words before a crash are not lost. The destructor writes
// whatever is queued.
class Logger {
 public:
  // `out` is a file descriptor (stdout by default), not owned. `max_buffered_bytes` bounds what
  // waits for the writer.
  Logger(std::string service, std::string version, LogLevel min_level = LogLevel::kInfo,
         int out_fd = 1, std::size_t max_buffered_bytes = 8 << 20);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool Enabled(LogLevel level) const { return level >= min_level_.load(std::memory_order_relaxed); }
  void SetLevel(LogLevel level) { min_level_.store(level, std::memory_order_relaxed); }

  void Log(LogLevel level, std::string_view msg, LogFields fields = {});
  void Debug(std::string_view msg, LogFields fields = {}) { Log(LogLevel::kDebug, msg, fields); }
  void Info(std::string_view msg, LogFields fields = {}) { Log(LogLevel::kInfo, msg, fields); }
  void Warn(std::string_view msg, LogFields fields = {}) { Log(LogLevel::kWarn, msg, fields); }
  void Error(std::string_view msg, LogFields fields = {}) { Log(LogLevel::kError, msg, fields); }

  // Formats a line without writing it (used by Log and by tests).
  std::string Format(LogLevel level, std::string_view msg, LogFields fields) const;

  const std::string& service() const { return service_; }

  // Returns once every line logged before the call has been written (or dropped).
  void Flush() const;

 private:
  class Writer;

  std::string service_;
  std::string version_;
  std::atomic<LogLevel> min_level_;
  std::unique_ptr<Writer> writer_;
};

// Appends `text` to `out` as the inside of a JSON string (quotes not included). Invalid UTF-8 bytes
// are replaced by U+FFFD so every line stays valid JSON.
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace switchyard
