#pragma once

// Routes keyed by HTTP method and google.api.http path template, each carrying a payload T (for the
// gateway: which RPC to call and how to bind it). Routes are added at start-up, then matched
// concurrently without locks: Match is const and allocates only for what it returns.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"

#include "gateway/routing/path_template.hpp"

namespace switchyard::gateway {

// Whether `method` is a valid HTTP method token (RFC 9110 tchar+). Methods match case-sensitively.
bool IsValidHttpMethod(std::string_view method);

template <typename T>
class Router {
 public:
  // No route's template matches the path: 404.
  struct NotFound {};

  // A route matched. The references stay valid as long as the Router.
  struct Found {
    const T& value;
    const PathTemplate& path_template;
    Bindings bindings;
  };

  // Some route's template matches the path, but none for this method: 405 with
  // `Allow: <allowed_methods joined by ", ">`. Sorted, without duplicates.
  struct MethodNotAllowed {
    std::vector<std::string> allowed_methods;
  };

  // The path holds malformed percent-encoding ("%zz"), so it cannot be matched at all: 400.
  struct MalformedPath {
    std::string message;
  };

  using Result = std::variant<NotFound, Found, MethodNotAllowed, MalformedPath>;

  // Adds a route. INVALID_ARGUMENT for a malformed method; ALREADY_EXISTS when a route with the
  // same method and an equivalent template (PathTemplate::IsEquivalentTo) exists already.
  absl::Status Add(std::string_view method, PathTemplate path_template, T value);
  // Parses `path_template` first (INVALID_ARGUMENT when it is malformed).
  absl::Status Add(std::string_view method, std::string_view path_template, T value);

  // Finds the most specific route for `method` whose template matches the raw request path `path`
  // (percent-encoded, without the query string); see PathTemplate::CompareSpecificity for the
  // order. Only a template of the requested method can win: a more specific template of another
  // method does not turn a match into 405.
  Result Match(std::string_view method, std::string_view path) const;

  std::size_t size() const { return routes_.size(); }

 private:
  struct Route {
    std::string method;
    PathTemplate path_template;
    T value;
  };

  // A trie over template segments. Walking it depth-first, literal child before wildcard child
  // before the routes ending in `**`, visits matching routes from the most to the least specific.
  struct Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
    std::unique_ptr<Node> wildcard;
    std::vector<std::size_t> ends_here;  // routes whose template ends at this node
    std::vector<std::size_t> rest;       // routes whose trailing `**` starts at this node
  };

  // Path segments, on the stack for all but absurd paths.
  using Segments = absl::InlinedVector<std::string_view, 16>;

  // Calls visit(route index) for every route matching `segments` under `node`, most specific
  // first, until visit returns true. Returns whether it did.
  template <typename Visit>
  static bool Walk(const Node& node, std::span<const std::string_view> segments, std::size_t i,
                   Visit& visit);

  // Both passes: templates with a verb (when the path's last segment has a ':'), then without.
  template <typename Visit>
  void WalkAll(Segments& segments, Visit& visit) const;

  Node plain_root_;                                      // templates without a verb
  std::map<std::string, Node, std::less<>> verb_roots_;  // templates with a verb, by verb
  std::deque<Route> routes_;                             // a deque keeps references stable
};

template <typename T>
absl::Status Router<T>::Add(std::string_view method, std::string_view path_template, T value) {
  absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(path_template);
  if (!parsed.ok()) return parsed.status();
  return Add(method, *std::move(parsed), std::move(value));
}

template <typename T>
absl::Status Router<T>::Add(std::string_view method, PathTemplate path_template, T value) {
  if (!IsValidHttpMethod(method)) {
    return absl::InvalidArgumentError("invalid HTTP method \"" + std::string(method) + "\"");
  }
  Node* node = path_template.verb().empty() ? &plain_root_ : &verb_roots_[path_template.verb()];
  std::vector<std::size_t>* terminal = nullptr;
  for (const PathTemplate::Segment& segment : path_template.segments()) {
    switch (segment.kind) {
      case PathTemplate::SegmentKind::kLiteral: {
        std::unique_ptr<Node>& child = node->literals[segment.literal];
        if (child == nullptr) child = std::make_unique<Node>();
        node = child.get();
        break;
      }
      case PathTemplate::SegmentKind::kWildcard:
        if (node->wildcard == nullptr) node->wildcard = std::make_unique<Node>();
        node = node->wildcard.get();
        break;
      case PathTemplate::SegmentKind::kDoubleWildcard:
        terminal = &node->rest;  // always the last segment
        break;
    }
  }
  if (terminal == nullptr) terminal = &node->ends_here;
  for (std::size_t index : *terminal) {
    const Route& existing = routes_[index];
    if (existing.method == method) {
      return absl::AlreadyExistsError(
          "route " + std::string(method) + " \"" + path_template.text() + "\" conflicts with " +
          existing.method + " \"" + existing.path_template.text() + "\"");
    }
  }
  terminal->push_back(routes_.size());
  routes_.push_back(Route{std::string(method), std::move(path_template), std::move(value)});
  return absl::OkStatus();
}

template <typename T>
template <typename Visit>
bool Router<T>::Walk(const Node& node, std::span<const std::string_view> segments, std::size_t i,
                     Visit& visit) {
  if (i == segments.size()) {
    for (std::size_t index : node.ends_here) {
      if (visit(index)) return true;
    }
  } else {
    const std::string_view segment = segments[i];
    if (!node.literals.empty()) {
      auto child = node.literals.end();
      if (segment.find('%') == std::string_view::npos) {
        child = node.literals.find(segment);
      } else {
        std::string decoded;
        if (PercentDecodeTo(segment, PercentDecodeMode::kAll, decoded)) {
          child = node.literals.find(decoded);
        }
      }
      if (child != node.literals.end() && Walk(*child->second, segments, i + 1, visit)) {
        return true;
      }
    }
    if (node.wildcard != nullptr && Walk(*node.wildcard, segments, i + 1, visit)) return true;
  }
  // `**` matches the remaining segments, none included; Match rejected empty segments already.
  for (std::size_t index : node.rest) {
    if (visit(index)) return true;
  }
  return false;
}

template <typename T>
template <typename Visit>
void Router<T>::WalkAll(Segments& segments, Visit& visit) const {
  if (!segments.empty() && !verb_roots_.empty()) {
    const std::string_view last = segments.back();
    const std::size_t colon = last.rfind(':');
    if (colon != std::string_view::npos && colon != 0) {
      const auto root = verb_roots_.find(last.substr(colon + 1));
      if (root != verb_roots_.end()) {
        segments.back() = last.substr(0, colon);
        const bool stop = Walk(root->second, segments, 0, visit);
        segments.back() = last;
        if (stop) return;
      }
    }
  }
  Walk(plain_root_, segments, 0, visit);
}

template <typename T>
typename Router<T>::Result Router<T>::Match(std::string_view method, std::string_view path) const {
  if (!IsValidPercentEncoding(path)) {
    return MalformedPath{"malformed percent-encoding in the request path"};
  }
  Segments segments;
  if (!PathTemplate::SplitPath(path, segments)) return NotFound{};
  if (std::any_of(segments.begin(), segments.end(),
                  [](std::string_view segment) { return segment.empty(); })) {
    return NotFound{};  // no template matches an empty segment
  }

  const Route* found = nullptr;
  auto find = [&](std::size_t index) {
    if (routes_[index].method != method) return false;
    found = &routes_[index];
    return true;
  };
  WalkAll(segments, find);
  if (found != nullptr) {
    // Let the template bind its variables, on the segments it was matched against.
    const PathTemplate& matched = found->path_template;
    if (!matched.verb().empty()) {
      std::string_view& last = segments.back();
      last.remove_suffix(matched.verb().size() + 1);
    }
    Found result{found->value, matched, {}};
    result.bindings.reserve(matched.variable_specs().size());
    matched.MatchSegments(segments, &result.bindings);
    return result;
  }

  // The slow path: which methods would have matched?
  std::vector<std::string_view> methods;
  auto collect = [&](std::size_t index) {
    methods.push_back(routes_[index].method);
    return false;
  };
  WalkAll(segments, collect);
  if (methods.empty()) return NotFound{};
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  return MethodNotAllowed{std::vector<std::string>(methods.begin(), methods.end())};
}

}  // namespace switchyard::gateway
