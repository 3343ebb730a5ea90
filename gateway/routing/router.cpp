#include "gateway/routing/router.hpp"

namespace switchyard::gateway {

bool IsValidHttpMethod(std::string_view method) {
  if (method.empty()) return false;
  constexpr std::string_view kTcharPunctuation = "!#$%&'*+-.^_`|~";
  return std::all_of(method.begin(), method.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kTcharPunctuation.find(c) != std::string_view::npos;
  });
}

}  // namespace switchyard::gateway
