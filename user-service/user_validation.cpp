#include "user-service/user_validation.hpp"

#include <charconv>

#include "absl/strings/escaping.h"

#include "common/validation.hpp"

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
  std::uint32_t cp = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    if (!NextCodePoint(text, i, cp)) return -1;
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return -1;  // C0, DEL and C1 controls
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

absl::StatusOr<std::string> NormalizeId(std::string_view id) { return NormalizeUuid("id", id); }

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
