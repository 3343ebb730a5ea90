#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "common/redis_client.hpp"

namespace switchyard::redis {
namespace {

struct Sha1Case {
  std::string name;
  std::string input;
  std::string hex;
};

void PrintTo(const Sha1Case& c, std::ostream* out) { *out << c.name; }

class RedisSha1HexTest : public ::testing::TestWithParam<Sha1Case> {};

// FIPS 180 vectors plus lengths around the 55/56/64-byte padding boundaries.
TEST_P(RedisSha1HexTest, MatchesKnownDigest) {
  EXPECT_EQ(Sha1Hex(GetParam().input), GetParam().hex);
}

std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes;
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, RedisSha1HexTest,
    ::testing::Values(
        Sha1Case{"empty", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        Sha1Case{"abc", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        Sha1Case{"fips-448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        Sha1Case{"55 a", std::string(55, 'a'), "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        Sha1Case{"56 a", std::string(56, 'a'), "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        Sha1Case{"63 a", std::string(63, 'a'), "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        Sha1Case{"64 a", std::string(64, 'a'), "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
        Sha1Case{"65 a", std::string(65, 'a'), "11655326c708d70319be2610e8a57d9a5b959d3b"},
        Sha1Case{"million a", std::string(1000000, 'a'),
                 "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
        Sha1Case{"all bytes", AllBytes(), "4916d6bdb7f78e6803698cab32d1586ea457dfc8"}));

TEST(RedisScriptTest, KnowsItsBodyAndSha1) {
  const Script script("return 1");
  EXPECT_EQ(script.body(), "return 1");
  EXPECT_EQ(script.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace switchyard::redis
