#include "common/service/logger.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"

#include "common/validation.hpp"

namespace switchyard {

namespace {

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

// Appends `value` as exactly `width` decimal digits (zero-padded).
void AppendDigits(std::string& out, long long value, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

void AppendTimestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  // 2026-01-02T03:04:05.678901Z, without printf: this runs for every log line.
  AppendDigits(out, utc.tm_year + 1900, 4);
  out.push_back('-');
  AppendDigits(out, utc.tm_mon + 1, 2);
  out.push_back('-');
  AppendDigits(out, utc.tm_mday, 2);
  out.push_back('T');
  AppendDigits(out, utc.tm_hour, 2);
  out.push_back(':');
  AppendDigits(out, utc.tm_min, 2);
  out.push_back(':');
  AppendDigits(out, utc.tm_sec, 2);
  out.push_back('.');
  AppendDigits(out, micros % 1000000, 6);
  out.push_back('Z');
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel& level) {
  const absl::string_view name(text.data(), text.size());
  if (absl::EqualsIgnoreCase(name, "debug")) {
    level = LogLevel::kDebug;
  } else if (absl::EqualsIgnoreCase(name, "info")) {
    level = LogLevel::kInfo;
  } else if (absl::EqualsIgnoreCase(name, "warn") || absl::EqualsIgnoreCase(name, "warning")) {
    level = LogLevel::kWarn;
  } else if (absl::EqualsIgnoreCase(name, "error")) {
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

// The logger's output thread. Lines wait in `pending_`; the thread swaps the whole buffer out and
// writes it with as few write calls as the descriptor allows.
class Logger::Writer {
 public:
  Writer(const Logger& owner, int fd, std::size_t max_pending)
      : owner_(owner), fd_(fd), max_pending_(max_pending) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Writer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Queues `line`; with `wait`, returns only once it has been written.
  void Append(std::string_view line, bool wait) {
    std::unique_lock lock(mutex_);
    if (pending_.size() + line.size() > max_pending_) {
      ++dropped_;
    } else {
      const bool below = pending_.size() < kBatchBytes;
      pending_.append(line);
      ++appended_;
      // The writer wakes on its own every kInterval; a full batch or a waiting caller is
      // worth waking it early for. Waking it for every line would cost a thread switch each.
      if (below && pending_.size() >= kBatchBytes) wake_.notify_one();
    }
    if (wait) WaitWritten(lock, appended_);
  }

  void Flush() {
    std::unique_lock lock(mutex_);
    WaitWritten(lock, appended_);
  }

 private:
  static constexpr std::size_t kBatchBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kInterval{20};

  void WaitWritten(std::unique_lock<std::mutex>& lock, std::uint64_t target) {
    if (written_ >= target) return;
    ++waiting_;
    wake_.notify_one();
    written_cv_.wait(lock, [&] { return written_ >= target; });
    --waiting_;
  }

  void Run() {
    std::string batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, kInterval, [&] {
        return pending_.size() >= kBatchBytes || stopping_ ||
               (waiting_ > 0 && (!pending_.empty() || dropped_ > 0));
      });
      if (pending_.empty() && dropped_ == 0) {
        if (stopping_) return;
        continue;
      }
      batch.clear();
      batch.swap(pending_);
      const std::uint64_t through = appended_;
      const std::uint64_t dropped = dropped_;
      dropped_ = 0;
      lock.unlock();
      if (dropped > 0) {
        batch.append(owner_.Format(LogLevel::kWarn, "log lines dropped: the output was too slow",
                                   {{"dropped", static_cast<std::int64_t>(dropped)}}));
      }
      WriteAll(batch);
      lock.lock();
      written_ = through;
      written_cv_.notify_all();
    }
  }

  void WriteAll(std::string_view data) const {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // Nowhere left to report a failed log write.
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  const Logger& owner_;
  const int fd_;
  const std::size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable wake_;        // the writer: there is something to write, or stop
  std::condition_variable written_cv_;  // Flush and error lines: `written_` moved
  std::string pending_;
  std::uint64_t appended_ = 0;  // lines queued so far
  std::uint64_t written_ = 0;   // lines written (or given up on) so far
  std::uint64_t dropped_ = 0;   // lines refused since the last batch
  int waiting_ = 0;             // callers in WaitWritten
  bool stopping_ = false;
  std::thread thread_;
};

Logger::Logger(std::string service, std::string version, LogLevel min_level, int out_fd,
               std::size_t max_buffered_bytes)
    : service_(std::move(service)),
      version_(std::move(version)),
      min_level_(min_level),
      writer_(std::make_unique<Writer>(*this, out_fd, max_buffered_bytes)) {}

Logger::~Logger() = default;

void Logger::Flush() const { writer_->Flush(); }

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
      const auto [end, ec] =
          std::to_chars(buf, buf + sizeof buf, *d, std::chars_format::general, 6);
      line.append(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0);
    } else {
      line.append(std::get<bool>(field.value) ? "true" : "false");
    }
  }
  line.append("}\n");
  return line;
}

void Logger::Log(LogLevel level, std::string_view msg, LogFields fields) {
  if (!Enabled(level)) return;
  writer_->Append(Format(level, msg, fields), level >= LogLevel::kError);
}

}  // namespace switchyard
