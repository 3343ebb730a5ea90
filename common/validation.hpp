#pragma once

// Input rules shared by every service: UTF-8 text, UUID ids, page sizes. Errors are
// INVALID_ARGUMENT whose message starts with the field's name.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace switchyard {

inline constexpr std::int32_t kDefaultPageSize = 20;
inline constexpr std::int32_t kMaxPageSize = 100;

// Decodes the UTF-8 sequence at text[i] into `code_point` and moves `i` past it. False, with `i`
// unchanged, for an invalid sequence (overlong forms, surrogates, past U+10FFFF, truncated).
bool NextCodePoint(std::string_view text, std::size_t& i, std::uint32_t& code_point);

bool IsValidUtf8(std::string_view text);

// A UUID in either case, returned lower-cased; `field` names it in the error.
absl::StatusOr<std::string> NormalizeUuid(std::string_view field, std::string_view id);

// 0 means kDefaultPageSize; otherwise 1 to kMaxPageSize.
absl::StatusOr<std::int32_t> NormalizePageSize(std::int32_t page_size);

}  // namespace switchyard
