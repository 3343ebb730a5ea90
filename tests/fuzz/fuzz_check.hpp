#pragma once

// Shared by the fuzz targets: an invariant check that stops the run with a message libFuzzer (or
// the corpus replay driver) reports together with the input, and small input helpers.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts with a message when `cond` is false: a broken invariant is a finding, like a crash.
#define FUZZ_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                       \
      std::fputc('\n', stderr);                                                                \
      std::abort();                                                                            \
    }                                                                                          \
  } while (false)

namespace switchyard::fuzz {

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits off the text before the first '\n' (the whole text when there is none).
inline std::string_view TakeLine(std::string_view& text) {
  const std::size_t newline = text.find('\n');
  const std::string_view line = text.substr(0, newline);
  text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  return line;
}

}  // namespace switchyard::fuzz
