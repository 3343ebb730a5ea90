#pragma once

// The rules for user fields, as pure functions. Each returns the normalised value or
// INVALID_ARGUMENT whose message starts with the field's name.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

#include "common/validation.hpp"

namespace switchyard::user {

inline constexpr std::size_t kMaxNameLength = 100;   // characters (code points)
inline constexpr std::size_t kMaxEmailLength = 254;  // bytes; RFC 5321's path limit

// Trimmed; 1-100 characters of valid UTF-8 with no control characters.
absl::StatusOr<std::string> NormalizeName(std::string_view name);

// Trimmed and lower-cased; `local@domain` with a dotted domain; at most 254 characters.
absl::StatusOr<std::string> NormalizeEmail(std::string_view email);

// A UUID, lower-cased.
absl::StatusOr<std::string> NormalizeId(std::string_view id);

// Opaque page tokens around the store's position (the sequence number of the last user seen).
std::string EncodePageToken(std::int64_t after);
absl::StatusOr<std::int64_t> DecodePageToken(std::string_view token);

}  // namespace switchyard::user
