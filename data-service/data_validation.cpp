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
