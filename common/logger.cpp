#include "common/logger.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/validation.hpp"

namespace switchyard {

namespace {

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

void AppendTimestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                              utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                              utc.tm_min, utc.tm_sec, static_cast<long long>(micros % 1000000));
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel& level) {
  if (EqualsIgnoreCase(text, "debug")) {
    level = LogLevel::kDebug;
  } else if (EqualsIgnoreCase(text, "info")) {
    level = LogLevel::kInfo;
  } else if (EqualsIgnoreCase(text, "warn") || EqualsIgnoreCase(text, "warning")) {
    level = LogLevel::kWarn;
  } else if (EqualsIgnoreCase(text, "error")) {
    level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

void AppendJsonEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t start = i;
      std::uint32_t code_point = 0;
      if (NextCodePoint(text, i, code_point)) {
        out.append(text.substr(start, i - start));
      } else {
        out.append("\xEF\xBF\xBD");
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

Logger::Logger(std::string service, std::string version, LogLevel min_level, int out_fd)
    : service_(std::move(service)),
      version_(std::move(version)),
      min_level_(min_level),
      out_fd_(out_fd) {}

std::string Logger::Format(LogLevel level, std::string_view msg, LogFields fields) const {
  std::string line;
  line.reserve(160 + msg.size());
  line.append("{\"ts\":\"");
  AppendTimestamp(line);
  line.append("\",\"level\":\"");
  line.append(kLevelNames[static_cast<int>(level)]);
  line.append("\",\"service\":\"");
  AppendJsonEscaped(line, service_);
  line.append("\",\"version\":\"");
  AppendJsonEscaped(line, version_);
  line.append("\",\"msg\":\"");
  AppendJsonEscaped(line, msg);
  line.push_back('"');
  for (const LogField& field : fields) {
    line.append(",\"");
    AppendJsonEscaped(line, field.key);
    line.append("\":");
    if (const auto* s = std::get_if<std::string_view>(&field.value)) {
      line.push_back('"');
      AppendJsonEscaped(line, *s);
      line.push_back('"');
    } else if (const auto* i = std::get_if<std::int64_t>(&field.value)) {
      line.append(std::to_string(*i));
    } else if (const auto* d = std::get_if<double>(&field.value)) {
      char buf[32];
      const int n = std::snprintf(buf, sizeof buf, "%.6g", *d);
      line.append(buf, static_cast<std::size_t>(n));
    } else {
      line.append(std::get<bool>(field.value) ? "true" : "false");
    }
  }
  line.append("}\n");
  return line;
}

void Logger::Log(LogLevel level, std::string_view msg, LogFields fields) {
  if (!Enabled(level)) return;
  const std::string line = Format(level, msg, fields);
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(out_fd_, line.data() + written, line.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a failed log write.
    }
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace switchyard
