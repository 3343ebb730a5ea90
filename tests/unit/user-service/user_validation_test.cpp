#include "user-service/user_validation.hpp"

#include <string>

#include <gtest/gtest.h>

namespace switchyard::user {
namespace {

struct Case {
  std::string input;
  bool ok;
  std::string expected;  // the normalised value when ok, a part of the message otherwise
};

// Keeps test names short in ctest's listing instead of a byte dump of the struct.
void PrintTo(const Case& c, std::ostream* out) { *out << '"' << c.input.substr(0, 40) << '"'; }

class NameTest : public ::testing::TestWithParam<Case> {};

TEST_P(NameTest, NormalizesOrRejectsNamingTheField) {
  const Case& c = GetParam();
  const auto result = NormalizeName(c.input);
  if (c.ok) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, c.expected);
  } else {
    ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message().rfind("name: ", 0), 0u) << result.status();
    EXPECT_NE(result.status().message().find(c.expected), std::string::npos) << result.status();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NameTest,
    ::testing::Values(Case{"Ada", true, "Ada"}, Case{"  Ada Lovelace \t", true, "Ada Lovelace"},
                      Case{"", false, "required"}, Case{"   ", false, "required"},
                      Case{std::string(100, 'x'), true, std::string(100, 'x')},
                      Case{std::string(101, 'x'), false, "at most 100"},
                      // 100 two-byte characters are 100 characters, not 200.
                      Case{[] {
                             std::string s;
                             for (int i = 0; i < 100; ++i) s += "\xC3\xA9";
                             return s;
                           }(),
                           true,
                           [] {
                             std::string s;
                             for (int i = 0; i < 100; ++i) s += "\xC3\xA9";
                             return s;
                           }()},
                      Case{"Zo\xC3\xAB", true, "Zo\xC3\xAB"}, Case{"bad\xFFutf8", false, "UTF-8"},
                      Case{"tab\tinside", false, "control"}, Case{"nul\x01", false, "control"}));

class EmailTest : public ::testing::TestWithParam<Case> {};

TEST_P(EmailTest, NormalizesOrRejectsNamingTheField) {
  const Case& c = GetParam();
  const auto result = NormalizeEmail(c.input);
  if (c.ok) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, c.expected);
  } else {
    ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message().rfind("email: ", 0), 0u) << result.status();
    EXPECT_NE(result.status().message().find(c.expected), std::string::npos) << result.status();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, EmailTest,
    ::testing::Values(Case{"ada@example.com", true, "ada@example.com"},
                      Case{"  Ada.Lovelace@Example.COM ", true, "ada.lovelace@example.com"},
                      Case{"first+tag@sub.example.co.uk", true, "first+tag@sub.example.co.uk"},
                      Case{"", false, "required"}, Case{"ada", false, "valid address"},
                      Case{"ada@", false, "valid address"},
                      Case{"@example.com", false, "valid address"},
                      Case{"ada@example", false, "valid address"},
                      Case{"a@b@example.com", false, "valid address"},
                      Case{".ada@example.com", false, "valid address"},
                      Case{"ada..l@example.com", false, "valid address"},
                      Case{"ada@-example.com", false, "valid address"},
                      Case{"ada@exa_mple.com", false, "valid address"},
                      Case{"ada lovelace@example.com", false, "valid address"},
                      Case{std::string(65, 'a') + "@example.com", false, "valid address"},
                      Case{std::string(64, 'a') + "@" + std::string(63, 'b') + "." +
                               std::string(63, 'c') + "." + std::string(58, 'd') + ".com",
                           false, "at most 254"},
                      Case{std::string(64, 'a') + "@" + std::string(63, 'b') + "." +
                               std::string(63, 'c') + "." + std::string(57, 'd') + ".com",
                           true,
                           std::string(64, 'a') + "@" + std::string(63, 'b') + "." +
                               std::string(63, 'c') + "." + std::string(57, 'd') + ".com"}));

TEST(UserIdTest, AcceptsUuidInEitherCaseAndLowerCasesIt) {
  const auto id = NormalizeId("3F2504E0-4F89-41D3-9A0C-0305E82C3301");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
}

TEST(UserIdTest, RejectsMissingOrMalformedIdNamingTheField) {
  for (const char* bad : {"", "42", "3f2504e0-4f89-41d3-9a0c-0305e82c330", "../../etc/passwd",
                          "3f2504e0x4f89-41d3-9a0c-0305e82c3301"}) {
    const auto id = NormalizeId(bad);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(id.status().message().rfind("id: ", 0), 0u) << bad;
  }
}

TEST(PageSizeTest, ZeroMeansDefaultAndRangeIsEnforced) {
  EXPECT_EQ(*NormalizePageSize(0), 20);
  EXPECT_EQ(*NormalizePageSize(1), 1);
  EXPECT_EQ(*NormalizePageSize(100), 100);
  EXPECT_EQ(NormalizePageSize(101).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePageSize(-1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePageSize(-1).status().message().rfind("page_size: ", 0), 0u);
}

TEST(PageTokenTest, RoundTripsAndRejectsForgeries) {
  EXPECT_EQ(*DecodePageToken(""), 0);
  EXPECT_EQ(*DecodePageToken(EncodePageToken(1)), 1);
  EXPECT_EQ(*DecodePageToken(EncodePageToken(9007199254740991)), 9007199254740991);
  for (const char* bad : {"abc", "!!!!", "dTE6", /* "u1:" with no number */
                          "dTE6LTE" /* u1:-1 */, "eDk6NQ" /* x9:5 */}) {
    const auto after = DecodePageToken(bad);
    EXPECT_EQ(after.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(after.status().message().rfind("page_token: ", 0), 0u) << bad;
  }
}

}  // namespace
}  // namespace switchyard::user
