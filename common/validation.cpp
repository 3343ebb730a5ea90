#include "common/validation.hpp"

#include "common/uuid.hpp"

namespace switchyard {

bool NextCodePoint(std::string_view text, std::size_t& i, std::uint32_t& code_point) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) {
    code_point = c;
    ++i;
    return true;
  }
  std::size_t length = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    cp = c & 0x07u;
  } else {
    return false;
  }
  if (i + length > text.size()) return false;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return false;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if ((length == 3 && cp < 0x800) || (length == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  code_point = cp;
  i += length;
  return true;
}

bool IsValidUtf8(std::string_view text) {
  std::uint32_t code_point = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (!NextCodePoint(text, i, code_point)) return false;
  }
  return true;
}

absl::StatusOr<std::string> NormalizeUuid(std::string_view field, std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(std::string(field) + ": is required");
  if (!IsUuid(id)) return absl::InvalidArgumentError(std::string(field) + ": must be a UUID");
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

}  // namespace switchyard
