// Fuzz target: Router::Match against a brute-force oracle built from PathTemplate::Match.
//
// Input: up to four lines "METHOD TEMPLATE" add routes (next to the gateway's real routes and the
// EchoService test routes); the last line is "METHOD PATH", the request to match.
//
// Invariants: the router's answer agrees with trying every template one by one:
//   - MalformedPath exactly when the path's percent-encoding is malformed;
//   - Found: the route has the request's method, its template matches the path with the same
//     bindings, and no other matching route of that method is more specific;
//   - MethodNotAllowed: no route of the method matches, some route of another method does, and
//     the Allow list is exactly their methods;
//   - NotFound: no route matches at all.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "gateway/routing/router.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using switchyard::gateway::Bindings;
using switchyard::gateway::IsValidPercentEncoding;
using switchyard::gateway::PathTemplate;
using IntRouter = switchyard::gateway::Router<int>;

// The routes the gateway serves (proto/) and the test EchoService's (tests/proto).
constexpr std::pair<std::string_view, std::string_view> kRoutes[] = {
    {"POST", "/api/users"},
    {"GET", "/api/users/{id}"},
    {"GET", "/api/users"},
    {"PUT", "/api/users/{id}"},
    {"PATCH", "/api/users/{id}"},
    {"DELETE", "/api/users/{id}"},
    {"PUT", "/api/data/{key=**}"},
    {"GET", "/api/data/{key=**}"},
    {"GET", "/api/data"},
    {"DELETE", "/api/data/{key=**}"},
    {"GET", "/api/time"},
    {"POST", "/api/jobs"},
    {"GET", "/api/jobs/{id}"},
    {"GET", "/api/jobs"},
    {"POST", "/v1/echo/{nested.id}"},
    {"GET", "/v1/echo/{nested.id}"},
    {"PUT", "/v1/echo/{nested.id}/payload"},
    {"GET", "/v1/echo/{nested.id}/payload"},
    {"GET", "/v1/{name=shelves/*/books/**}:search"},
    {"DELETE", "/v1/echo/{nested.inner.id}/all"},
    {"PURGE", "/v1/echo/{nested.inner.id}/all"},
};

struct Entry {
  std::string method;
  PathTemplate path_template;
};

std::string Show(std::string_view text) { return std::string(text.substr(0, 200)); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = switchyard::fuzz::AsText(data, size);
  std::vector<std::string_view> lines;
  while (!input.empty() && lines.size() < 5) lines.push_back(switchyard::fuzz::TakeLine(input));
  if (lines.empty()) return 0;
  const std::string_view request = lines.back();
  lines.pop_back();
  const std::size_t space = request.find(' ');
  if (space == std::string_view::npos) return 0;
  const std::string_view method = request.substr(0, space);
  const std::string_view path = request.substr(space + 1);

  IntRouter router;
  std::vector<Entry> entries;  // index = the route's payload
  const auto add = [&](std::string_view route_method, std::string_view text) {
    auto parsed = PathTemplate::Parse(text);
    if (!parsed.ok()) return;
    Entry entry{std::string(route_method), *parsed};
    if (router.Add(route_method, *std::move(parsed), static_cast<int>(entries.size())).ok()) {
      entries.push_back(std::move(entry));
    }
  };
  for (const auto& [route_method, text] : kRoutes) add(route_method, text);
  FUZZ_CHECK(entries.size() == std::size(kRoutes), "a built-in route was rejected");
  for (const std::string_view line : lines) {
    const std::size_t sep = line.find(' ');
    if (sep != std::string_view::npos) add(line.substr(0, sep), line.substr(sep + 1));
  }

  // The oracle: every template on its own.
  std::vector<std::size_t> matching;
  std::vector<Bindings> matching_bindings;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Bindings bindings;
    if (entries[i].path_template.Match(path, bindings)) {
      matching.push_back(i);
      matching_bindings.push_back(std::move(bindings));
    }
  }

  const IntRouter::Result result = router.Match(method, path);
  if (std::holds_alternative<IntRouter::MalformedPath>(result)) {
    FUZZ_CHECK(!IsValidPercentEncoding(path), "MalformedPath for %s", Show(path).c_str());
    FUZZ_CHECK(matching.empty(), "a template matches a malformed path");
    return 0;
  }
  FUZZ_CHECK(IsValidPercentEncoding(path), "malformed path %s not reported", Show(path).c_str());

  if (const auto* found = std::get_if<IntRouter::Found>(&result)) {
    const std::size_t index = static_cast<std::size_t>(found->value);
    FUZZ_CHECK(index < entries.size(), "payload out of range");
    const Entry& winner = entries[index];
    FUZZ_CHECK(winner.method == method, "found a %s route for %s", winner.method.c_str(),
               std::string(method).c_str());
    FUZZ_CHECK(found->path_template.text() == winner.path_template.text(), "template mismatch");
    const auto at = std::find(matching.begin(), matching.end(), index);
    FUZZ_CHECK(at != matching.end(), "router found %s %s but PathTemplate::Match says no for %s",
               winner.method.c_str(), winner.path_template.text().c_str(), Show(path).c_str());
    const Bindings& expected = matching_bindings[static_cast<std::size_t>(at - matching.begin())];
    FUZZ_CHECK(found->bindings == expected, "bindings differ for %s on %s",
               winner.path_template.text().c_str(), Show(path).c_str());
    for (const std::size_t other : matching) {
      if (other == index || entries[other].method != method) continue;
      FUZZ_CHECK(entries[other].path_template.CompareSpecificity(winner.path_template) !=
                     std::strong_ordering::greater,
                 "%s beat the more specific %s on %s", winner.path_template.text().c_str(),
                 entries[other].path_template.text().c_str(), Show(path).c_str());
    }
    return 0;
  }

  std::set<std::string> methods;
  for (const std::size_t i : matching) methods.insert(entries[i].method);
  FUZZ_CHECK(methods.count(std::string(method)) == 0,
             "a %s route matches %s but the router did not find it", std::string(method).c_str(),
             Show(path).c_str());
  if (const auto* not_allowed = std::get_if<IntRouter::MethodNotAllowed>(&result)) {
    const std::set<std::string> allowed(not_allowed->allowed_methods.begin(),
                                        not_allowed->allowed_methods.end());
    FUZZ_CHECK(allowed == methods && allowed.size() == not_allowed->allowed_methods.size(),
               "Allow list differs from the matching routes' methods on %s", Show(path).c_str());
    FUZZ_CHECK(
        std::is_sorted(not_allowed->allowed_methods.begin(), not_allowed->allowed_methods.end()),
        "Allow list not sorted");
    return 0;
  }
  FUZZ_CHECK(std::holds_alternative<IntRouter::NotFound>(result), "unknown result");
  FUZZ_CHECK(matching.empty(), "NotFound, but %zu templates match %s", matching.size(),
             Show(path).c_str());
  return 0;
}
