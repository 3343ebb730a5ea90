#pragma once

// The rules for data-service's request fields, as pure functions. Each failure is
// INVALID_ARGUMENT whose message starts with the field's name.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "common/validation.hpp"

namespace switchyard::data {

inline constexpr std::size_t kMaxKeyLength = 256;
inline constexpr std::size_t kMaxValueBytes = 64 * 1024;

// True for the characters a key may hold: A-Z a-z 0-9 . _ / -
bool IsKeyChar(char c);

// 1 to 256 characters of [A-Za-z0-9._/-]. `field` names the field in the message ("key",
// "payload.from", ...).
absl::Status ValidateKey(std::string_view key, std::string_view field = "key");

// Empty, or what could begin a key: up to 256 characters of [A-Za-z0-9._/-].
absl::Status ValidatePrefix(std::string_view prefix);

// At most 64 KiB of valid UTF-8.
absl::Status ValidateValue(std::string_view value);

// 0 or more.
absl::Status ValidateExpectedVersion(std::int64_t expected_version);

// Opaque ListData page tokens around the last key of a page. Decoding checks that the key is
// one the listing's `prefix` could have produced; an empty token decodes to "" (first page).
std::string EncodeDataPageToken(std::string_view last_key);
absl::StatusOr<std::string> DecodeDataPageToken(std::string_view token, std::string_view prefix);

}  // namespace switchyard::data
