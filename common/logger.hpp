#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
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
// (a request's `request_id` among them). Thread-safe; each line is written with one write call.
class Logger {
 public:
  // `out` is a file descriptor (stdout by default), not owned.
  Logger(std::string service, std::string version, LogLevel min_level = LogLevel::kInfo,
         int out_fd = 1);

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

 private:
  std::string service_;
  std::string version_;
  std::atomic<LogLevel> min_level_;
  int out_fd_;
};

// Appends `text` to `out` as the inside of a JSON string (quotes not included). Invalid UTF-8 bytes
// are replaced by U+FFFD so every line stays valid JSON.
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace switchyard
