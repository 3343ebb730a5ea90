// The field rules of DataService as pure functions: table-driven, no I/O.

#include "data-service/data_validation.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchyard::data {
namespace {

struct KeyCase {
  std::string key;
  bool valid;
};

TEST(DataValidationTest, KeysAreOneTo256CharactersOfTheKeyAlphabet) {
  const std::vector<KeyCase> cases = {
      {"a", true},
      {"reports/users", true},
      {"A-Z_a.z/0-9", true},
      {"...", true},
      {std::string(256, 'k'), true},
      {"", false},
      {std::string(257, 'k'), false},
      {"with space", false},
      {"colon:key", false},
      {"star*", false},
      {"tab\tkey", false},
      {"caf\xC3\xA9", false},  // UTF-8, but not in the alphabet
      {std::string("nul\0key", 7), false},
  };
  for (const auto& c : cases) {
    const absl::Status status = ValidateKey(c.key);
    EXPECT_EQ(status.ok(), c.valid) << "key '" << c.key << "': " << status;
    if (!c.valid) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(status.message().substr(0, 5), "key: ") << status;
    }
  }
}

TEST(DataValidationTest, KeyErrorsNameTheGivenField) {
  const absl::Status status = ValidateKey("bad key", "payload.from");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().substr(0, 14), "payload.from: ") << status;
}

TEST(DataValidationTest, PrefixMayBeEmptyOrAKeyStart) {
  EXPECT_TRUE(ValidatePrefix("").ok());
  EXPECT_TRUE(ValidatePrefix("reports/").ok());
  EXPECT_TRUE(ValidatePrefix(std::string(256, 'p')).ok());
  for (const std::string& bad :
       std::vector<std::string>{std::string(257, 'p'), std::string("a b"), std::string("%")}) {
    const absl::Status status = ValidatePrefix(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.message().substr(0, 8), "prefix: ") << status;
  }
}

struct ValueCase {
  std::string name;
  std::string value;
  bool valid;
};

TEST(DataValidationTest, ValuesAreAtMost64KiBOfUtf8) {
  const std::vector<ValueCase> cases = {
      {"empty", "", true},
      {"ascii", "hello", true},
      {"json", R"({"a":[1,2]})", true},
      {"newlines", "line 1\nline 2\r\n", true},
      {"two-byte", "caf\xC3\xA9", true},
      {"four-byte", "\xF0\x9F\x9A\x82", true},
      {"exactly 64 KiB", std::string(65536, 'v'), true},
      {"one byte over", std::string(65537, 'v'), false},
      {"lone continuation", "\x80", false},
      {"truncated", "\xE2\x82", false},
      {"overlong", "\xC0\xAF", false},
      {"surrogate", "\xED\xA0\x80", false},
      {"beyond U+10FFFF", "\xF4\x90\x80\x80", false},
      {"0xFF", "\xFF", false},
  };
  for (const auto& c : cases) {
    const absl::Status status = ValidateValue(c.value);
    EXPECT_EQ(status.ok(), c.valid) << c.name << ": " << status;
    if (!c.valid) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.name;
      EXPECT_EQ(status.message().substr(0, 7), "value: ") << status;
    }
  }
}

TEST(DataValidationTest, ExpectedVersionIsZeroOrMore) {
  EXPECT_TRUE(ValidateExpectedVersion(0).ok());
  EXPECT_TRUE(ValidateExpectedVersion(7).ok());
  const absl::Status status = ValidateExpectedVersion(-1);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().substr(0, 18), "expected_version: ") << status;
}

TEST(DataValidationTest, PageSizeDefaultsTo20AndAllows1To100) {
  const std::vector<std::pair<std::int32_t, std::int32_t>> valid = {
      {0, 20}, {1, 1}, {20, 20}, {100, 100}};
  for (const auto& [in, out] : valid) {
    const auto size = NormalizePageSize(in);
    ASSERT_TRUE(size.ok()) << in;
    EXPECT_EQ(*size, out);
  }
  for (const std::int32_t bad : {-1, 101, 1000}) {
    const auto size = NormalizePageSize(bad);
    EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(size.status().message().substr(0, 11), "page_size: ");
  }
}

TEST(DataValidationTest, PageTokensRoundTripAndAreOpaque) {
  for (const std::string& key :
       std::vector<std::string>{"a", "reports/users", std::string(256, 'z')}) {
    const std::string token = EncodeDataPageToken(key);
    EXPECT_EQ(token.find(key), std::string::npos) << "token shows the key: " << token;
    const auto decoded = DecodeDataPageToken(token, "");
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, key);
  }
  const auto first = DecodeDataPageToken("", "any/");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "");
}

TEST(DataValidationTest, PageTokensAreRejectedWhenForeignOrForAnotherPrefix) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not base64 !", ""},
      {"bm9wZQ", ""},                                   // "nope": no version prefix
      {EncodeDataPageToken("bad key"), ""},             // not a key
      {EncodeDataPageToken("items/0001"), "reports/"},  // from another listing
      {std::string(600, 'A'), ""},                      // too long
  };
  for (const auto& [token, prefix] : cases) {
    const auto decoded = DecodeDataPageToken(token, prefix);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_EQ(decoded.status().message().substr(0, 12), "page_token: ");
  }
  EXPECT_TRUE(DecodeDataPageToken(EncodeDataPageToken("items/0001"), "items/").ok());
}

}  // namespace
}  // namespace switchyard::data
