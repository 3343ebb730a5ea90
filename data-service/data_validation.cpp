#include "data-service/data_validation.hpp"

#include "absl/strings/escaping.h"

namespace switchyard::data {

namespace {

constexpr std::string_view kDataTokenPrefix = "d1:";
// A key of 256 characters plus the prefix, base64-encoded, stays well below this.
constexpr std::size_t kMaxTokenLength = 512;

bool AllKeyChars(std::string_view text) {
  for (const char c : text) {
    if (!IsKeyChar(c)) return false;
  }
  return true;
}

std::string FieldError(std::string_view field, std::string_view what) {
  std::string message(field);
  message.append(": ");
  message.append(what);
  return message;
}

}  // namespace

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '/' || c == '-';
}

absl::Status ValidateKey(std::string_view key, std::string_view field) {
  if (key.empty()) return absl::InvalidArgumentError(FieldError(field, "is required"));
  if (key.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError(FieldError(field, "must be at most 256 characters"));
  }
  if (!AllKeyChars(key)) {
    return absl::InvalidArgumentError(
        FieldError(field, "may only hold the characters A-Z a-z 0-9 . _ / -"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePrefix(std::string_view prefix) {
  if (prefix.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError("prefix: must be at most 256 characters");
  }
  if (!AllKeyChars(prefix)) {
    return absl::InvalidArgumentError("prefix: may only hold the characters A-Z a-z 0-9 . _ / -");
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError("value: must be at most 65536 bytes");
  }
  if (!IsValidUtf8(value)) return absl::InvalidArgumentError("value: must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidateExpectedVersion(std::int64_t expected_version) {
  if (expected_version < 0) {
    return absl::InvalidArgumentError(
        "expected_version: must be 0 (the key must not exist) or a version (1 or more)");
  }
  return absl::OkStatus();
}

bool IsValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    std::uint32_t cp = c;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

absl::StatusOr<std::int32_t> NormalizePageSize(std::int32_t page_size) {
  if (page_size == 0) return kDefaultPageSize;
  if (page_size < 1 || page_size > kMaxPageSize) {
    return absl::InvalidArgumentError("page_size: must be from 1 to 100 (0 means 20)");
  }
  return page_size;
}

std::string EncodeDataPageToken(std::string_view last_key) {
  std::string raw(kDataTokenPrefix);
  raw.append(last_key);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodeDataPageToken(std::string_view token, std::string_view prefix) {
  const auto invalid = [] {
    return absl::InvalidArgumentError(
        "page_token: is not a token returned by ListData for this prefix");
  };
  if (token.empty()) return std::string();
  if (token.size() > kMaxTokenLength) return invalid();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(absl::string_view(token.data(), token.size()), &raw)) {
    return invalid();
  }
  if (raw.rfind(kDataTokenPrefix, 0) != 0) return invalid();
  std::string key = raw.substr(kDataTokenPrefix.size());
  if (!ValidateKey(key).ok() || key.compare(0, prefix.size(), prefix) != 0) return invalid();
  return key;
}

}  // namespace switchyard::data
