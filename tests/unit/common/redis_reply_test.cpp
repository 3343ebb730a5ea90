#include "common/redis/redis_reply.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

namespace switchyard::redis {
namespace {

using namespace std::string_literals;

// Parses one reply from RESP bytes with hiredis's own reader, then converts it.
Reply ParseResp(std::string_view resp) {
  redisReader* reader = redisReaderCreate();
  EXPECT_EQ(redisReaderFeed(reader, resp.data(), resp.size()), REDIS_OK);
  void* parsed = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &parsed), REDIS_OK);
  redisReaderFree(reader);
  if (parsed == nullptr) {
    ADD_FAILURE() << "incomplete RESP input";
    return Reply::Error("incomplete");
  }
  Reply reply = ToReply(*static_cast<redisReply*>(parsed));
  freeReplyObject(parsed);
  return reply;
}

struct RespCase {
  std::string name;
  std::string resp;
  Reply expected;
};

// Names the case in test names (ctest shows the printed parameter).
void PrintTo(const RespCase& c, std::ostream* out) { *out << c.name; }

class RedisReplyFromRespTest : public ::testing::TestWithParam<RespCase> {};

TEST_P(RedisReplyFromRespTest, ConvertsEveryReplyType) {
  EXPECT_EQ(ParseResp(GetParam().resp), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    RespReplies, RedisReplyFromRespTest,
    ::testing::Values(
        RespCase{"Status", "+OK\r\n", Reply::Status("OK")},
        RespCase{"Error", "-WRONGTYPE Operation against a key\r\n",
                 Reply::Error("WRONGTYPE Operation against a key")},
        RespCase{"Integer", ":42\r\n", Reply::Integer(42)},
        RespCase{"NegativeInteger", ":-9000000000\r\n", Reply::Integer(-9000000000LL)},
        RespCase{"BulkString", "$5\r\nhello\r\n", Reply::String("hello")},
        RespCase{"EmptyBulkString", "$0\r\n\r\n", Reply::String("")},
        RespCase{"BinaryBulkString", "$6\r\na\0b\r\n\xff\r\n"s, Reply::String("a\0b\r\n\xff"s)},
        RespCase{"NilBulkString", "$-1\r\n", Reply::Nil()},
        RespCase{"NilArray", "*-1\r\n", Reply::Nil()},
        RespCase{"EmptyArray", "*0\r\n", Reply::Array({})},
        RespCase{"FlatArray", "*3\r\n$1\r\na\r\n:2\r\n$-1\r\n",
                 Reply::Array({Reply::String("a"), Reply::Integer(2), Reply::Nil()})},
        RespCase{"NestedArray", "*2\r\n*2\r\n+x\r\n-ERR y\r\n*0\r\n",
                 Reply::Array({Reply::Array({Reply::Status("x"), Reply::Error("ERR y")}),
                               Reply::Array({})})}));

TEST(RedisReplyConversionTest, UnknownReplyTypeBecomesError) {
  redisReply odd{};
  odd.type = 99;
  const Reply reply = ToReply(odd);
  EXPECT_EQ(reply.type, Reply::Type::kError);
  EXPECT_NE(reply.str.find("99"), std::string::npos);
}

TEST(RedisReplyConversionTest, HandBuiltArrayWithNullElementGivesNilElement) {
  char text[] = "v";
  redisReply element{};
  element.type = REDIS_REPLY_STRING;
  element.str = text;
  element.len = 1;
  redisReply* elements[] = {&element, nullptr};
  redisReply array{};
  array.type = REDIS_REPLY_ARRAY;
  array.elements = 2;
  array.element = elements;
  EXPECT_EQ(ToReply(array), Reply::Array({Reply::String("v"), Reply::Nil()}));
}

TEST(RedisReplyConversionTest, StringWithNullPointerBecomesEmpty) {
  redisReply status{};
  status.type = REDIS_REPLY_STATUS;
  EXPECT_EQ(ToReply(status), Reply::Status(""));
}

TEST(RedisReplyTest, DebugStringRendersNestedRepliesAndEscapesBytes) {
  const Reply reply = Reply::Array({Reply::String("a\"\n"s), Reply::Integer(-1), Reply::Nil(),
                                    Reply::Status("OK"), Reply::Error("ERR no")});
  EXPECT_EQ(reply.DebugString(), R"(["a\"\x0a", (integer) -1, (nil), +OK, (error) ERR no])");
}

TEST(RedisReplyTest, PredicatesMatchType) {
  EXPECT_TRUE(Reply::Error("ERR").IsError());
  EXPECT_FALSE(Reply::Status("OK").IsError());
  EXPECT_TRUE(Reply::Nil().IsNil());
  EXPECT_FALSE(Reply::String("").IsNil());
}

}  // namespace
}  // namespace switchyard::redis
