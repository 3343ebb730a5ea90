#include "gateway/routing/path_template.hpp"

#include <compare>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchyard::gateway {
namespace {

using ::testing::HasSubstr;

PathTemplate MustParse(std::string_view text) {
  absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *std::move(parsed);
}

// --- Parsing -------------------------------------------------------------------------------------

struct ValidCase {
  std::string text;
  std::vector<std::string> variables;
  std::string verb;
  std::size_t segment_count;
  std::size_t literal_count;
};

void PrintTo(const ValidCase& c, std::ostream* os) { *os << c.text; }

class ParseValidTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ParseValidTest, ParsesVariablesVerbAndSegments) {
  const ValidCase& c = GetParam();
  absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(c.text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->text(), c.text);
  EXPECT_EQ(parsed->variables(), c.variables);
  EXPECT_EQ(parsed->verb(), c.verb);
  EXPECT_EQ(parsed->segments().size(), c.segment_count);
  EXPECT_EQ(parsed->literal_count(), c.literal_count);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseValidTest,
    ::testing::Values(ValidCase{"/v1/users", {}, "", 2, 2},
                      ValidCase{"/v1/users/{id}", {"id"}, "", 3, 2},
                      ValidCase{"/v1/users/{id=*}", {"id"}, "", 3, 2},
                      ValidCase{"/v1/{user.id}/x", {"user.id"}, "", 3, 2},
                      ValidCase{"/v1/{a.b_c.D9}", {"a.b_c.D9"}, "", 2, 1},
                      ValidCase{"/v1/{name=shelves/*/books/**}:search", {"name"}, "search", 5, 3},
                      ValidCase{"/v1/{name=**}", {"name"}, "", 2, 1},
                      ValidCase{"/v1/**", {}, "", 2, 1}, ValidCase{"/*/**", {}, "", 2, 0},
                      ValidCase{"/**", {}, "", 1, 0},
                      ValidCase{"/v1/{a}/{b}:do", {"a", "b"}, "do", 3, 1},
                      ValidCase{"/v1/users:batchGet", {}, "batchGet", 2, 2},
                      ValidCase{"/v1/{id=users/me}", {"id"}, "", 3, 3},
                      ValidCase{"/v1/a-b.c_d~e!$&'()+,;=@", {}, "", 2, 2},
                      ValidCase{"/v1/caf%C3%A9", {}, "", 2, 2}));

struct InvalidCase {
  std::string text;
  std::string message;  // a part of the error message
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << "\"" << c.text << "\""; }

class ParseInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ParseInvalidTest, RejectsWithInvalidArgumentNamingTheProblem) {
  const InvalidCase& c = GetParam();
  absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(c.text);
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
  EXPECT_THAT(parsed.status().message(), HasSubstr(c.message));
  EXPECT_THAT(parsed.status().message(), HasSubstr("\"" + c.text + "\""));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseInvalidTest,
    ::testing::Values(
        InvalidCase{"", "must start with \"/\""}, InvalidCase{"v1/users", "must start with \"/\""},
        InvalidCase{"/", "empty segment at offset 1"}, InvalidCase{"/v1//users", "empty segment"},
        InvalidCase{"/v1/users/", "empty segment at offset 10"},
        InvalidCase{"/v1/{id", "unterminated variable at offset 4"},
        InvalidCase{"/v1/{}", "expected a field name"},
        InvalidCase{"/v1/{9id}", "expected a field name"},
        InvalidCase{"/v1/{a.}", "expected a field name"},
        InvalidCase{"/v1/{a..b}", "expected a field name"},
        InvalidCase{"/v1/{id=}", "empty segment"}, InvalidCase{"/v1/{id=a/}", "empty segment"},
        InvalidCase{"/v1/{a={b}}", "cannot contain another variable"},
        InvalidCase{"/v1/{a}/{a}", "field \"a\" is bound twice"},
        InvalidCase{"/v1/{id}x", "a variable must be a whole segment"},
        InvalidCase{"/v1/x{id}", "unexpected character '{'"},
        InvalidCase{"/v1/**/x", "\"**\" must be the last segment at offset 4"},
        InvalidCase{"/v1/{name=**}/x", "\"**\" must be the last segment"},
        InvalidCase{"/v1/{name=**}/{id}", "\"**\" must be the last segment"},
        InvalidCase{"/v1/***", "\"***\" is not a segment"},
        InvalidCase{"/v1/a*", "unexpected character '*'"},
        InvalidCase{"/v1/*a", "a wildcard must be a whole segment"},
        InvalidCase{"/v1/users:", "empty verb"},
        InvalidCase{"/v1/users:a/b", "unexpected character '/'"},
        InvalidCase{"/v1/users:a:b", "unexpected character ':'"},
        InvalidCase{"/v1/{name=**:search}", "unexpected character ':' in variable"},
        InvalidCase{"/v1/a b", "unexpected character ' '"},
        InvalidCase{"/v1/a?b", "unexpected character '?'"},
        InvalidCase{"/v1/%zz", "malformed percent-encoding"},
        InvalidCase{"/v1/}", "unexpected character '}'"}));

// --- Matching ------------------------------------------------------------------------------------

struct MatchCase {
  std::string name;  // the test name
  std::string text;
  std::string path;
  bool matches;
  Bindings bindings;
};

void PrintTo(const MatchCase& c, std::ostream* os) { *os << c.text << " vs " << c.path; }

class MatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MatchTest, MatchesAndBindsDecodedValues) {
  const MatchCase& c = GetParam();
  const PathTemplate path_template = MustParse(c.text);
  Bindings bindings;
  EXPECT_EQ(path_template.Match(c.path, bindings), c.matches) << c.text << " vs " << c.path;
  EXPECT_EQ(bindings, c.bindings);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MatchTest,
    ::testing::Values(
        MatchCase{"Literal", "/v1/users", "/v1/users", true, {}},
        MatchCase{"LiteralIsCaseSensitive", "/v1/users", "/v1/Users", false, {}},
        MatchCase{"LiteralMatchesEncodedUnreserved", "/v1/users", "/v1/us%65rs", true, {}},
        MatchCase{"LiteralDoesNotMatchEncodedSlash", "/v1/a/b", "/v1/a%2Fb", false, {}},
        MatchCase{"TrailingSlashDoesNotMatch", "/v1/users", "/v1/users/", false, {}},
        MatchCase{"EmptySegmentDoesNotMatch", "/v1/users", "/v1//users", false, {}},
        MatchCase{"TooShort", "/v1/users", "/v1", false, {}},
        MatchCase{"TooLong", "/v1/users", "/v1/users/x", false, {}},
        MatchCase{"NoLeadingSlash", "/v1/users", "v1/users", false, {}},
        MatchCase{"EmptyPath", "/v1/users", "", false, {}},
        MatchCase{"Variable", "/v1/users/{id}", "/v1/users/42", true, {{"id", "42"}}},
        MatchCase{"VariableDoesNotMatchEmptySegment", "/v1/users/{id}", "/v1/users/", false, {}},
        MatchCase{"VariableIsOneSegment", "/v1/users/{id}", "/v1/users/a/b", false, {}},
        MatchCase{"SingleSegmentDecodesEverything",
                  "/v1/users/{id}",
                  "/v1/users/a%2Fb%20c%3F%25",
                  true,
                  {{"id", "a/b c?%"}}},
        MatchCase{"SingleSegmentDecodesUtf8",
                  "/v1/users/{id}",
                  "/v1/users/caf%C3%A9",
                  true,
                  {{"id", "caf\xC3\xA9"}}},
        MatchCase{"ColonWithoutVerbIsPartOfSegment",
                  "/v1/users/{id}",
                  "/v1/users/a:b",
                  true,
                  {{"id", "a:b"}}},
        MatchCase{"NestedFieldPath",
                  "/v1/{user.profile.id}/x",
                  "/v1/abc/x",
                  true,
                  {{"user.profile.id", "abc"}}},
        MatchCase{
            "VariablesInTemplateOrder", "/v1/{b}/{a}", "/v1/1/2", true, {{"b", "1"}, {"a", "2"}}},
        MatchCase{"UnboundWildcard", "/v1/*/x", "/v1/anything/x", true, {}},
        MatchCase{"MultiSegmentVariable",
                  "/v1/{name=shelves/*/books/*}",
                  "/v1/shelves/s1/books/b1",
                  true,
                  {{"name", "shelves/s1/books/b1"}}},
        MatchCase{"MultiSegmentKeepsEncodedSlash",
                  "/v1/{name=shelves/*/books/*}",
                  "/v1/shelves/s%2F1/books/b%2f1",
                  true,
                  {{"name", "shelves/s%2F1/books/b%2f1"}}},
        MatchCase{"MultiSegmentDecodesTheRest",
                  "/v1/{name=shelves/*}",
                  "/v1/shelves/a%20b%3A",
                  true,
                  {{"name", "shelves/a b:"}}},
        MatchCase{"MultiSegmentLiteralMismatch", "/v1/{name=shelves/*}", "/v1/boxes/1", false, {}},
        MatchCase{"VariableOverTwoLiterals",
                  "/v1/{id=users/me}",
                  "/v1/users/me",
                  true,
                  {{"id", "users/me"}}},
        MatchCase{
            "DoubleWildcardVariable", "/v1/{name=**}", "/v1/a/b/c", true, {{"name", "a/b/c"}}},
        MatchCase{
            "DoubleWildcardMatchesZeroSegments", "/v1/{name=**}", "/v1", true, {{"name", ""}}},
        MatchCase{"DoubleWildcardRejectsEmptySegments", "/v1/{name=**}", "/v1/a//b", false, {}},
        MatchCase{"DoubleWildcardRejectsTrailingSlash", "/v1/**", "/v1/a/", false, {}},
        MatchCase{"UnboundDoubleWildcard", "/v1/**", "/v1/a/b", true, {}},
        MatchCase{"RootDoubleWildcardMatchesRoot", "/{path=**}", "/", true, {{"path", ""}}},
        MatchCase{"DoubleWildcardAfterPrefix",
                  "/v1/{name=shelves/*/books/**}",
                  "/v1/shelves/1/books",
                  true,
                  {{"name", "shelves/1/books"}}},
        MatchCase{"VerbWithDoubleWildcard",
                  "/v1/{name=shelves/*/books/**}:search",
                  "/v1/shelves/1/books/a/b:search",
                  true,
                  {{"name", "shelves/1/books/a/b"}}},
        MatchCase{"VerbWithZeroDoubleWildcardSegments",
                  "/v1/{name=shelves/*/books/**}:search",
                  "/v1/shelves/1/books:search",
                  true,
                  {{"name", "shelves/1/books"}}},
        MatchCase{"VerbMissing",
                  "/v1/{name=shelves/*/books/**}:search",
                  "/v1/shelves/1/books/a",
                  false,
                  {}},
        MatchCase{"OtherVerb", "/v1/{name=**}:search", "/v1/a:find", false, {}},
        MatchCase{"VerbNeedsColon", "/v1/{id}:get", "/v1/aget", false, {}},
        MatchCase{"EncodedColonIsNotAVerb", "/v1/{id}:get", "/v1/a%3Aget", false, {}},
        MatchCase{"VerbAfterColonInValue", "/v1/{id}:get", "/v1/a:b:get", true, {{"id", "a:b"}}},
        MatchCase{"VerbNeedsANonEmptySegment", "/v1/{id}:get", "/v1/:get", false, {}},
        MatchCase{"LiteralVerb", "/v1/users:batchGet", "/v1/users:batchGet", true, {}},
        MatchCase{"LiteralVerbMissing", "/v1/users:batchGet", "/v1/users", false, {}},
        MatchCase{"MalformedEscapeDoesNotMatch", "/v1/users/{id}", "/v1/users/%zz", false, {}},
        MatchCase{"TruncatedEscapeDoesNotMatch", "/v1/users/{id}", "/v1/users/a%4", false, {}},
        MatchCase{"MalformedEscapeInLiteralDoesNotMatch", "/v1/{id}", "/v%1/x", false, {}}),
    [](const ::testing::TestParamInfo<MatchCase>& case_info) { return case_info.param.name; });

TEST(PathTemplateTest, FailedMatchLeavesBindingsUntouched) {
  const PathTemplate path_template = MustParse("/v1/{a}/{b}/x");
  Bindings bindings = {{"before", "1"}};
  EXPECT_FALSE(path_template.Match("/v1/1/2/y", bindings));
  EXPECT_EQ(bindings, (Bindings{{"before", "1"}}));
  EXPECT_TRUE(path_template.Match("/v1/1/2/x", bindings));
  EXPECT_EQ(bindings, (Bindings{{"before", "1"}, {"a", "1"}, {"b", "2"}}));
}

TEST(PathTemplateTest, ExposesVariableSpans) {
  const PathTemplate path_template = MustParse("/v1/{name=shelves/*/books/**}:search");
  ASSERT_EQ(path_template.variable_specs().size(), 1u);
  const PathTemplate::Variable& variable = path_template.variable_specs()[0];
  EXPECT_EQ(variable.field_path, "name");
  EXPECT_EQ(variable.begin, 1u);
  EXPECT_EQ(variable.end, 5u);
  EXPECT_TRUE(variable.multi_segment);
  EXPECT_TRUE(path_template.ends_with_double_wildcard());
  EXPECT_FALSE(MustParse("/v1/{id}").variable_specs()[0].multi_segment);
  EXPECT_TRUE(MustParse("/v1/{id=a/*}").variable_specs()[0].multi_segment);
}

// --- Specificity ---------------------------------------------------------------------------------

struct SpecificityCase {
  std::string more;  // the more specific template, or one of two equal ones
  std::string less;
  bool equal;
};

void PrintTo(const SpecificityCase& c, std::ostream* os) {
  *os << c.more << (c.equal ? " == " : " > ") << c.less;
}

class SpecificityTest : public ::testing::TestWithParam<SpecificityCase> {};

TEST_P(SpecificityTest, OrdersTemplatesForPrecedence) {
  const SpecificityCase& c = GetParam();
  const PathTemplate more = MustParse(c.more);
  const PathTemplate less = MustParse(c.less);
  if (c.equal) {
    EXPECT_EQ(more.CompareSpecificity(less), std::strong_ordering::equal);
    EXPECT_EQ(less.CompareSpecificity(more), std::strong_ordering::equal);
  } else {
    EXPECT_EQ(more.CompareSpecificity(less), std::strong_ordering::greater);
    EXPECT_EQ(less.CompareSpecificity(more), std::strong_ordering::less);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecificityTest,
    ::testing::Values(SpecificityCase{"/v1/users/me", "/v1/users/{id}", false},
                      SpecificityCase{"/v1/users/{id}", "/v1/users/**", false},
                      SpecificityCase{"/v1/users/{id}", "/v1/{name=**}", false},
                      SpecificityCase{"/v1/users/*/x", "/v1/*/me/x", false},
                      // The template ending with the path beats a `**` that matched nothing.
                      SpecificityCase{"/v1/users", "/v1/users/**", false},
                      SpecificityCase{"/v1/{id}:get", "/v1/{id}", false},
                      // A verb outranks the segments: the path's ":search" was meant for it.
                      SpecificityCase{"/{name=**}:search", "/v1/books/{id}", false},
                      SpecificityCase{"/v1/{a}", "/v1/{b}", true},
                      SpecificityCase{"/v1/{a=x/*}", "/v1/x/{b}", true},
                      SpecificityCase{"/v1/a/*", "/v1/b/*", true}));

TEST(PathTemplateTest, EquivalentTemplatesMatchTheSamePaths) {
  EXPECT_TRUE(MustParse("/v1/{a}").IsEquivalentTo(MustParse("/v1/*")));
  EXPECT_TRUE(MustParse("/v1/{a=x/*}").IsEquivalentTo(MustParse("/v1/x/{b}")));
  EXPECT_TRUE(MustParse("/v1/{a=**}").IsEquivalentTo(MustParse("/v1/**")));
  EXPECT_TRUE(MustParse("/v1/us%65rs").IsEquivalentTo(MustParse("/v1/users")));
  EXPECT_FALSE(MustParse("/v1/{a}").IsEquivalentTo(MustParse("/v1/{a}:get")));
  EXPECT_FALSE(MustParse("/v1/{a}").IsEquivalentTo(MustParse("/v1/{a=**}")));
  EXPECT_FALSE(MustParse("/v1/a").IsEquivalentTo(MustParse("/v1/b")));
}

// --- Percent-decoding ----------------------------------------------------------------------------

struct DecodeCase {
  std::string in;
  PercentDecodeMode mode;
  std::optional<std::string> out;
};

void PrintTo(const DecodeCase& c, std::ostream* os) {
  *os << "\"" << c.in << "\" mode " << static_cast<int>(c.mode);
}

class PercentDecodeTableTest : public ::testing::TestWithParam<DecodeCase> {};

TEST_P(PercentDecodeTableTest, DecodesPerMode) {
  const DecodeCase& c = GetParam();
  EXPECT_EQ(PercentDecode(c.in, c.mode), c.out);
  EXPECT_EQ(IsValidPercentEncoding(c.in), c.out.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, PercentDecodeTableTest,
    ::testing::Values(DecodeCase{"", PercentDecodeMode::kAll, ""},
                      DecodeCase{"plain", PercentDecodeMode::kAll, "plain"},
                      DecodeCase{"a%20b%2fc%2F", PercentDecodeMode::kAll, "a b/c/"},
                      DecodeCase{"%e2%82%AC", PercentDecodeMode::kAll, "\xE2\x82\xAC"},
                      DecodeCase{"%00", PercentDecodeMode::kAll, std::string(1, '\0')},
                      DecodeCase{"a+b", PercentDecodeMode::kAll, "a+b"},
                      DecodeCase{"a+b%2B", PercentDecodeMode::kForm, "a b+"},
                      DecodeCase{"a%2Fb%2fc%20d", PercentDecodeMode::kKeepEncodedSlash,
                                 "a%2Fb%2fc d"},
                      DecodeCase{"a+b", PercentDecodeMode::kKeepEncodedSlash, "a+b"},
                      DecodeCase{"%", PercentDecodeMode::kAll, std::nullopt},
                      DecodeCase{"%4", PercentDecodeMode::kAll, std::nullopt},
                      DecodeCase{"a%4g", PercentDecodeMode::kAll, std::nullopt},
                      DecodeCase{"%%41", PercentDecodeMode::kAll, std::nullopt},
                      DecodeCase{"ok%zz", PercentDecodeMode::kForm, std::nullopt},
                      DecodeCase{"%2", PercentDecodeMode::kKeepEncodedSlash, std::nullopt}));

TEST(PercentDecodeTest, AppendsToExistingOutput) {
  std::string out = "x=";
  ASSERT_TRUE(PercentDecodeTo("%41", PercentDecodeMode::kAll, out));
  EXPECT_EQ(out, "x=A");
}

}  // namespace
}  // namespace switchyard::gateway
