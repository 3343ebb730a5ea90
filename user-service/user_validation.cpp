#include "user-service/user_validation.hpp"

#include <charconv>

#include "absl/strings/escaping.h"

#include "common/uuid.hpp"

namespace switchyard::user {

namespace {

constexpr std::string_view kTokenPrefix = "u1:";

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Number of code points in valid UTF-8 text with no control characters; -1 otherwise.
long CountPrintableCodePoints(std::string_view text) {
  long count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    std::uint32_t cp = c;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return -1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return -1;
    }
    if (i + len > text.size()) return -1;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0u) != 0x80u) return -1;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0)) {
      return -1;
    }
    i += len;
    ++count;
  }
  return count;
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// RFC 5322 "atext" plus dots between atoms (no quoted local parts).
bool IsLocalChar(char c) {
  if (IsAlnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
    case '.':
      return true;
    default:
      return false;
  }
}

bool IsValidLocalPart(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') {
    return false;
  }
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (!IsLocalChar(local[i])) return false;
    if (local[i] == '.' && i + 1 < local.size() && local[i + 1] == '.') return false;
  }
  return true;
}

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  std::size_t start = 0;
  while (start <= domain.size()) {
    const std::size_t dot = domain.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? domain.size() : dot;
    const std::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (const char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

}  // namespace

absl::StatusOr<std::string> NormalizeName(std::string_view name) {
  const std::string_view trimmed = Trim(name);
  if (trimmed.empty()) return absl::InvalidArgumentError("name: is required");
  const long length = CountPrintableCodePoints(trimmed);
  if (length < 0) {
    return absl::InvalidArgumentError("name: must be UTF-8 text without control characters");
  }
  if (static_cast<std::size_t>(length) > kMaxNameLength) {
    return absl::InvalidArgumentError("name: must be at most 100 characters");
  }
  return std::string(trimmed);
}

absl::StatusOr<std::string> NormalizeEmail(std::string_view email) {
  const std::string_view trimmed = Trim(email);
  if (trimmed.empty()) return absl::InvalidArgumentError("email: is required");
  if (trimmed.size() > kMaxEmailLength) {
    return absl::InvalidArgumentError("email: must be at most 254 characters");
  }
  std::string lower(trimmed);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const std::size_t at = lower.find('@');
  if (at == std::string::npos || lower.find('@', at + 1) != std::string::npos ||
      !IsValidLocalPart(std::string_view(lower).substr(0, at)) ||
      !IsValidDomain(std::string_view(lower).substr(at + 1))) {
    return absl::InvalidArgumentError("email: must be a valid address such as name@example.com");
  }
  return lower;
}

absl::StatusOr<std::string> NormalizeId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("id: is required");
  if (!IsUuid(id)) return absl::InvalidArgumentError("id: must be a UUID");
  std::string lower(id);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

absl::StatusOr<std::int32_t> NormalizePageSize(std::int32_t page_size) {
  if (page_size == 0) return kDefaultPageSize;
  if (page_size < 1 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError("page_size: must be from 1 to 100 (0 means 20)");
  }
  return page_size;
}

std::string EncodePageToken(std::int64_t after) {
  return absl::WebSafeBase64Escape(std::string(kTokenPrefix) + std::to_string(after));
}

absl::StatusOr<std::int64_t> DecodePageToken(std::string_view token) {
  const auto invalid = [] {
    return absl::InvalidArgumentError("page_token: is not a token returned by ListUsers");
  };
  if (token.empty()) return 0;
  if (token.size() > 64) return invalid();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw)) {
    return invalid();
  }
  if (raw.rfind(kTokenPrefix, 0) != 0) return invalid();
  std::int64_t after = 0;
  const char* begin = raw.data() + kTokenPrefix.size();
  const char* end = raw.data() + raw.size();
  const auto [ptr, ec] = std::from_chars(begin, end, after);
  if (ec != std::errc() || ptr != end || begin == end || after < 1) return invalid();
  return after;
}

}  // namespace switchyard::user
