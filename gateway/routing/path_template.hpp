#pragma once

// google.api.http path templates: parsing, matching a raw request path, and the specificity order
// the router uses when several templates match one path. Also the one percent-decoder of the
// gateway, shared by path matching and query-string parsing.

#include <compare>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace switchyard::gateway {

// How PercentDecode treats the input.
enum class PercentDecodeMode {
  // Every %XX escape is decoded (a path segment bound to a single-segment variable, a literal).
  kAll,
  // Every escape is decoded except %2F and %2f, which stay as they are: a variable spanning several
  // segments keeps an encoded slash distinguishable from a segment separator
  // (google/api/http.proto).
  kKeepEncodedSlash,
  // application/x-www-form-urlencoded: like kAll, and '+' means a space (query strings).
  kForm,
};

// Appends the decoding of `in` to `out`. Returns false, leaving `out` unspecified, when `in`
// holds a '%' not followed by two hex digits.
bool PercentDecodeTo(std::string_view in, PercentDecodeMode mode, std::string& out);

// The decoding of `in`, or nullopt when its percent-encoding is malformed.
std::optional<std::string> PercentDecode(std::string_view in,
                                         PercentDecodeMode mode = PercentDecodeMode::kAll);

// Whether every '%' in `in` starts a well-formed %XX escape.
bool IsValidPercentEncoding(std::string_view in);

// (field path, value) pairs bound by a match, in the order the variables appear in the template.
using Bindings = std::vector<std::pair<std::string, std::string>>;

// A parsed google.api.http path template:
//
//     Template  = "/" Segments [ ":" Verb ] ;
//     Segments  = Segment { "/" Segment } ;
//     Segment   = "*" | "**" | LITERAL | Variable ;
//     Variable  = "{" FieldPath [ "=" Segments ] "}" ;   // no variable inside a variable
//     FieldPath = IDENT { "." IDENT } ;
//
// `{id}` means `{id=*}`. `**` matches zero or more segments and may only be the last segment.
//
// Matching works on the raw request path (percent-encoded, without the query string):
//   - Every path segment must be non-empty: `//` and a trailing `/` never match. The path "/" has
//     no segments at all (only a template ending in `**` right after the root can match it).
//   - A literal matches a segment whose percent-decoding equals it (`us%65rs` matches `users`).
//   - A template with a verb matches when the path's last segment ends with ":" + verb; the text
//     before the last ':' of that segment is the segment matched against the template. A template
//     without a verb sees a ':' as an ordinary character of the segment (`{id}` binds "a:b").
//   - Values are percent-decoded. A variable that can span several segments (`{name=**}`,
//     `{name=shelves/*/books/*}`) binds the matched segments joined by "/" and leaves %2F encoded;
//     a single-segment variable decodes everything.
//   - A path with malformed percent-encoding anywhere ("%zz", "%4") matches no template. Router
//     checks for this first and reports it separately, so the gateway can answer 400 rather than
//     404.
class PathTemplate {
 public:
  enum class SegmentKind { kLiteral, kWildcard, kDoubleWildcard };

  // One segment of the template, variables expanded into the segments they match.
  struct Segment {
    SegmentKind kind;
    std::string literal;  // decoded; only for kLiteral

    friend bool operator==(const Segment&, const Segment&) = default;
  };

  // A variable: the field path it binds and the segments [begin, end) of segments() it covers.
  struct Variable {
    std::string field_path;
    std::size_t begin;
    std::size_t end;
    // Whether it can match more or fewer than one path segment; selects the decoding of its value.
    bool multi_segment;
  };

  // Parses `text`; errors are INVALID_ARGUMENT naming the template and the offending offset.
  static absl::StatusOr<PathTemplate> Parse(std::string_view text);

  // Whether the raw request path `path` matches. On a match, appends the bindings to `out`;
  // otherwise `out` is left as it was.
  bool Match(std::string_view path, Bindings& out) const;

  // Like Match, for a path already split by SplitPath (with the verb already removed from the last
  // segment when verb() is not empty) and known to be well-formed. For Router's hot path.
  bool MatchSegments(std::span<const std::string_view> segments, Bindings* out) const;

  // The field paths of the variables, in template order.
  std::vector<std::string> variables() const;
  const std::vector<Variable>& variable_specs() const { return variables_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const std::string& verb() const { return verb_; }
  // The template as written; a good, bounded label for logs and metrics.
  const std::string& text() const { return text_; }
  // Whether the last segment is `**`.
  bool ends_with_double_wildcard() const;
  // The number of literal segments (variables' inner literals included).
  std::size_t literal_count() const;

  // The precedence used when several templates match one path; `greater` means more specific.
  //   1. A template with a verb beats one without (the path's ":verb" suffix was meant for it).
  //   2. Segment by segment from the left: literal beats `*` (or a variable's `*`) beats `**`;
  //      a template that ends where the path ends beats one whose trailing `**` matched nothing.
  // Templates that compare equal can only both match a path if they are equivalent.
  std::strong_ordering CompareSpecificity(const PathTemplate& other) const;

  // Whether both templates match exactly the same paths (same segments and verb; the variable
  // names may differ). Two routes with the same method and equivalent templates conflict.
  bool IsEquivalentTo(const PathTemplate& other) const;

  // Splits a raw path into its segments (views into `path`), "/" into none. Returns false when the
  // path does not start with '/'. Does not check for empty segments.
  template <typename Container>
  static bool SplitPath(std::string_view path, Container& segments);

 private:
  PathTemplate() = default;

  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

template <typename Container>
bool PathTemplate::SplitPath(std::string_view path, Container& segments) {
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return true;
  std::size_t begin = 1;
  while (true) {
    const std::size_t slash = path.find('/', begin);
    if (slash == std::string_view::npos) {
      segments.push_back(path.substr(begin));
      return true;
    }
    segments.push_back(path.substr(begin, slash - begin));
    begin = slash + 1;
  }
}

}  // namespace switchyard::gateway
