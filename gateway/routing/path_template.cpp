#include "gateway/routing/path_template.hpp"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"

namespace switchyard::gateway {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Characters a template literal may hold besides %XX escapes: RFC 3986 pchar without ':' (it
// introduces the verb) and '*' (a wildcard).
bool IsLiteralChar(char c) {
  if (IsUnreserved(c)) return true;
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '+':
    case ',':
    case ';':
    case '=':
    case '@':
      return true;
    default:
      return false;
  }
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

// Compares a raw path segment with a decoded template literal.
bool SegmentEquals(std::string_view raw, const std::string& literal) {
  if (raw.find('%') == std::string_view::npos) return raw == literal;
  std::string decoded;
  return PercentDecodeTo(raw, PercentDecodeMode::kAll, decoded) && decoded == literal;
}

// Rank of a segment kind in the specificity order; kEnd stands for "the template has ended".
enum Rank : int { kRankDoubleWildcard = 0, kRankEnd = 1, kRankWildcard = 2, kRankLiteral = 3 };

int RankOf(const std::vector<PathTemplate::Segment>& segments, std::size_t i) {
  if (i >= segments.size()) return kRankEnd;
  switch (segments[i].kind) {
    case PathTemplate::SegmentKind::kLiteral:
      return kRankLiteral;
    case PathTemplate::SegmentKind::kWildcard:
      return kRankWildcard;
    case PathTemplate::SegmentKind::kDoubleWildcard:
      return kRankDoubleWildcard;
  }
  return kRankEnd;
}

// Recursive-descent parser over the grammar in path_template.hpp.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::Status Run() {
    if (!Consume('/')) return Error("must start with \"/\"");
    if (absl::Status status = ParseSegments(); !status.ok()) return status;
    if (Consume(':')) {
      const std::size_t start = pos_;
      std::string verb;
      if (absl::Status status = ParseLiteral(verb); !status.ok()) return status;
      if (verb.empty()) {
        pos_ = start;
        return Error("empty verb after ':'");
      }
      verb_ = text_.substr(start, pos_ - start);
    }
    if (pos_ != text_.size()) return Error(Unexpected());
    for (std::size_t i = 0; i + 1 < segments_.size(); ++i) {
      if (segments_[i].kind == PathTemplate::SegmentKind::kDoubleWildcard) {
        pos_ = segment_offsets_[i];
        return Error("\"**\" must be the last segment");
      }
    }
    return absl::OkStatus();
  }

  std::vector<PathTemplate::Segment> segments_;
  std::vector<PathTemplate::Variable> variables_;
  std::string verb_;

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }

  void AddSegment(PathTemplate::SegmentKind kind, std::string literal, std::size_t offset) {
    segments_.push_back({kind, std::move(literal)});
    segment_offsets_.push_back(offset);
  }

  std::string Unexpected() const {
    if (AtEnd()) return "unexpected end";
    return std::string("unexpected character '") + text_[pos_] + "'";
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError("invalid path template \"" + std::string(text_) + "\": " +
                                      std::string(what) + " at offset " + std::to_string(pos_));
  }

  // Segments = Segment { "/" Segment }
  absl::Status ParseSegments() {
    while (true) {
      if (absl::Status status = ParseSegment(); !status.ok()) return status;
      if (!Consume('/')) return absl::OkStatus();
    }
  }

  absl::Status ParseSegment() {
    const std::size_t start = pos_;
    if (Consume('*')) {
      PathTemplate::SegmentKind kind = PathTemplate::SegmentKind::kWildcard;
      if (Consume('*')) kind = PathTemplate::SegmentKind::kDoubleWildcard;
      if (Peek() == '*') return Error("\"***\" is not a segment");
      if (!AtEnd() && Peek() != '/' && Peek() != ':' && Peek() != '}') {
        return Error("a wildcard must be a whole segment");
      }
      AddSegment(kind, {}, start);
      return absl::OkStatus();
    }
    if (Peek() == '{') return ParseVariable();
    if (Peek() == '}' && in_variable_) return Error("empty segment");
    std::string literal;
    if (absl::Status status = ParseLiteral(literal); !status.ok()) return status;
    if (literal.empty()) {
      if (AtEnd() || Peek() == '/' || Peek() == ':') return Error("empty segment");
      return Error(Unexpected());
    }
    AddSegment(PathTemplate::SegmentKind::kLiteral, std::move(literal), start);
    return absl::OkStatus();
  }

  // Variable = "{" FieldPath [ "=" Segments ] "}"
  absl::Status ParseVariable() {
    const std::size_t open = pos_;
    ++pos_;  // '{'
    if (in_variable_) {
      pos_ = open;
      return Error("a variable cannot contain another variable");
    }
    PathTemplate::Variable variable;
    if (absl::Status status = ParseFieldPath(variable.field_path); !status.ok()) return status;
    for (const PathTemplate::Variable& other : variables_) {
      if (other.field_path == variable.field_path) {
        pos_ = open + 1;
        return Error("field \"" + variable.field_path + "\" is bound twice");
      }
    }
    variable.begin = segments_.size();
    if (Consume('=')) {
      in_variable_ = true;
      absl::Status status = ParseSegments();
      in_variable_ = false;
      if (!status.ok()) return status;
    } else {
      AddSegment(PathTemplate::SegmentKind::kWildcard, {}, open);
    }
    if (!Consume('}')) {
      if (AtEnd()) {
        pos_ = open;
        return Error("unterminated variable");
      }
      return Error(Unexpected() + " in variable");
    }
    variable.end = segments_.size();
    variable.multi_segment =
        variable.end - variable.begin != 1 ||
        segments_[variable.begin].kind == PathTemplate::SegmentKind::kDoubleWildcard;
    variables_.push_back(std::move(variable));
    if (!AtEnd() && Peek() != '/' && Peek() != ':')
      return Error("a variable must be a whole segment");
    return absl::OkStatus();
  }

  // FieldPath = IDENT { "." IDENT }
  absl::Status ParseFieldPath(std::string& out) {
    while (true) {
      if (!IsIdentStart(Peek()) || AtEnd()) {
        return Error(AtEnd() ? std::string("unterminated variable")
                             : "expected a field name, " + Unexpected());
      }
      while (!AtEnd() && IsIdentChar(Peek())) out += text_[pos_++];
      if (!Consume('.')) return absl::OkStatus();
      out += '.';
    }
  }

  // Reads literal characters and %XX escapes (decoded into `out`); stops at any other character.
  absl::Status ParseLiteral(std::string& out) {
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '%') {
        if (pos_ + 2 >= text_.size() || HexValue(text_[pos_ + 1]) < 0 ||
            HexValue(text_[pos_ + 2]) < 0) {
          return Error("malformed percent-encoding");
        }
        out += static_cast<char>(HexValue(text_[pos_ + 1]) * 16 + HexValue(text_[pos_ + 2]));
        pos_ += 3;
      } else if (IsLiteralChar(c)) {
        out += c;
        ++pos_;
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool in_variable_ = false;
  // For error messages: where each entry of segments_ starts in text_.
  std::vector<std::size_t> segment_offsets_;
};

}  // namespace

bool PercentDecodeTo(std::string_view in, PercentDecodeMode mode, std::string& out) {
  out.reserve(out.size() + in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || HexValue(in[i + 1]) < 0 || HexValue(in[i + 2]) < 0) {
        return false;
      }
      const int value = HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]);
      if (value == '/' && mode == PercentDecodeMode::kKeepEncodedSlash) {
        out.append(in.substr(i, 3));
      } else {
        out += static_cast<char>(value);
      }
      i += 2;
    } else if (c == '+' && mode == PercentDecodeMode::kForm) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

std::optional<std::string> PercentDecode(std::string_view in, PercentDecodeMode mode) {
  std::string out;
  if (!PercentDecodeTo(in, mode, out)) return std::nullopt;
  return out;
}

bool IsValidPercentEncoding(std::string_view in) {
  for (std::size_t i = in.find('%'); i != std::string_view::npos; i = in.find('%', i + 3)) {
    if (i + 2 >= in.size() || HexValue(in[i + 1]) < 0 || HexValue(in[i + 2]) < 0) return false;
  }
  return true;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(std::string_view text) {
  Parser parser(text);
  if (absl::Status status = parser.Run(); !status.ok()) return status;
  PathTemplate result;
  result.text_ = std::string(text);
  result.segments_ = std::move(parser.segments_);
  result.variables_ = std::move(parser.variables_);
  result.verb_ = std::move(parser.verb_);
  return result;
}

bool PathTemplate::Match(std::string_view path, Bindings& out) const {
  if (!IsValidPercentEncoding(path)) return false;
  absl::InlinedVector<std::string_view, 16> segments;
  if (!SplitPath(path, segments)) return false;
  if (!verb_.empty()) {
    if (segments.empty()) return false;
    std::string_view& last = segments.back();
    if (last.size() < verb_.size() + 1 || last.substr(last.size() - verb_.size()) != verb_ ||
        last[last.size() - verb_.size() - 1] != ':') {
      return false;
    }
    last.remove_suffix(verb_.size() + 1);
  }
  return MatchSegments(segments, &out);
}

bool PathTemplate::MatchSegments(std::span<const std::string_view> segments, Bindings* out) const {
  const std::size_t n = segments.size();
  const std::size_t k = segments_.size();
  const bool rest = ends_with_double_wildcard();
  const std::size_t fixed = rest ? k - 1 : k;
  if (rest ? n < fixed : n != k) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (segments[i].empty()) return false;
    if (i < fixed && segments_[i].kind == SegmentKind::kLiteral &&
        !SegmentEquals(segments[i], segments_[i].literal)) {
      return false;
    }
  }
  if (out == nullptr) return true;

  const std::size_t size_before = out->size();
  for (const Variable& variable : variables_) {
    const std::size_t begin = variable.begin;
    const std::size_t end = (rest && variable.end == k) ? n : variable.end;
    std::string value;
    if (begin < end) {
      // Segments are views into one path, so the covered text runs from the first to the last.
      const char* first = segments[begin].data();
      const char* last = segments[end - 1].data() + segments[end - 1].size();
      const std::string_view raw(first, static_cast<std::size_t>(last - first));
      if (!PercentDecodeTo(raw,
                           variable.multi_segment ? PercentDecodeMode::kKeepEncodedSlash
                                                  : PercentDecodeMode::kAll,
                           value)) {
        out->resize(size_before);
        return false;
      }
    }
    out->emplace_back(variable.field_path, std::move(value));
  }
  return true;
}

std::vector<std::string> PathTemplate::variables() const {
  std::vector<std::string> result;
  result.reserve(variables_.size());
  for (const Variable& variable : variables_) result.push_back(variable.field_path);
  return result;
}

bool PathTemplate::ends_with_double_wildcard() const {
  return !segments_.empty() && segments_.back().kind == SegmentKind::kDoubleWildcard;
}

std::size_t PathTemplate::literal_count() const {
  return static_cast<std::size_t>(
      std::count_if(segments_.begin(), segments_.end(),
                    [](const Segment& segment) { return segment.kind == SegmentKind::kLiteral; }));
}

std::strong_ordering PathTemplate::CompareSpecificity(const PathTemplate& other) const {
  if (verb_.empty() != other.verb_.empty()) {
    return verb_.empty() ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  const std::size_t length = std::max(segments_.size(), other.segments_.size());
  for (std::size_t i = 0; i < length; ++i) {
    const int mine = RankOf(segments_, i);
    const int theirs = RankOf(other.segments_, i);
    if (mine != theirs) return mine <=> theirs;
  }
  return std::strong_ordering::equal;
}

bool PathTemplate::IsEquivalentTo(const PathTemplate& other) const {
  return verb_ == other.verb_ && segments_ == other.segments_;
}

}  // namespace switchyard::gateway
