#include "common/redis/redis_reply.hpp"

#include <ostream>
#include <string_view>

#include <hiredis/hiredis.h>

namespace switchyard::redis {

namespace {

std::string CopyString(const redisReply& reply) {
  return reply.str != nullptr ? std::string(reply.str, reply.len) : std::string();
}

void AppendQuoted(std::string& out, std::string_view text) {
  constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte >= 0x7f) {
      out.append("\\x");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendDebugString(std::string& out, const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::kNil:
      out.append("(nil)");
      return;
    case Reply::Type::kString:
      AppendQuoted(out, reply.str);
      return;
    case Reply::Type::kStatus:
      out.append("+");
      out.append(reply.str);
      return;
    case Reply::Type::kError:
      out.append("(error) ");
      out.append(reply.str);
      return;
    case Reply::Type::kInteger:
      out.append("(integer) ");
      out.append(std::to_string(reply.integer));
      return;
    case Reply::Type::kArray:
      out.push_back('[');
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        if (i > 0) out.append(", ");
        AppendDebugString(out, reply.elements[i]);
      }
      out.push_back(']');
      return;
  }
}

}  // namespace

std::string Reply::DebugString() const {
  std::string out;
  AppendDebugString(out, *this);
  return out;
}

Reply ToReply(const redisReply& reply) {
  Reply out;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str = CopyString(reply);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str = CopyString(reply);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str = CopyString(reply);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_NIL:
      out.type = Reply::Type::kNil;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i) {
        // hiredis never stores a null element, but a hand-built tree might.
        out.elements.push_back(reply.element[i] != nullptr ? ToReply(*reply.element[i])
                                                           : Reply::Nil());
      }
      break;
    default:
      out.type = Reply::Type::kError;
      out.str = "unsupported redis reply type " + std::to_string(reply.type);
      break;
  }
  return out;
}

std::ostream& operator<<(std::ostream& out, const Reply& reply) {
  return out << reply.DebugString();
}

}  // namespace switchyard::redis
