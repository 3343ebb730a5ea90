#pragma once

// An owning, hiredis-free copy of a Redis reply, so callers never see a redisReply (whose memory
// hiredis frees as soon as the reply callback returns).

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

struct redisReply;

namespace switchyard::redis {

struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };

  Type type = Type::kNil;
  std::string str;              // kString, kStatus, kError (binary-safe)
  long long integer = 0;        // kInteger
  std::vector<Reply> elements;  // kArray

  bool IsError() const { return type == Type::kError; }
  bool IsNil() const { return type == Type::kNil; }

  // A short human-readable rendering for logs and test failures, e.g. `[1, "a", (nil)]`.
  std::string DebugString() const;

  bool operator==(const Reply& other) const = default;

  static Reply Nil() { return Reply{}; }
  static Reply String(std::string value) { return Reply{Type::kString, std::move(value), 0, {}}; }
  static Reply Status(std::string value) { return Reply{Type::kStatus, std::move(value), 0, {}}; }
  static Reply Error(std::string value) { return Reply{Type::kError, std::move(value), 0, {}}; }
  static Reply Integer(long long value) { return Reply{Type::kInteger, {}, value, {}}; }
  static Reply Array(std::vector<Reply> items) {
    return Reply{Type::kArray, {}, 0, std::move(items)};
  }
};

// Deep-copies a hiredis reply tree. A reply type hiredis 0.14 does not define becomes kError.
Reply ToReply(const redisReply& reply);

// Lets gtest and streams print a Reply.
std::ostream& operator<<(std::ostream& out, const Reply& reply);

}  // namespace switchyard::redis
