#include <stdlib.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "common/config.hpp"
#include "common/logger.hpp"
#include "common/uuid.hpp"

namespace switchyard {
namespace {

TEST(ConfigReaderTest, FlagOverridesEnvironmentWhichOverridesDefault) {
  ::setenv("SY_TEST_PORT", "7000", 1);
  ::setenv("SY_TEST_HOST", "from-env", 1);
  const char* argv[] = {"prog", "--sy-test-port=8000"};
  ConfigReader config(2, argv);
  EXPECT_EQ(config.Int("SY_TEST_PORT", 1, 1, 65535, ""), 8000);
  EXPECT_EQ(config.String("SY_TEST_HOST", "default", ""), "from-env");
  EXPECT_EQ(config.String("SY_TEST_UNSET", "default", ""), "default");
  config.RejectUnknownFlags();
  EXPECT_TRUE(config.errors().empty());
}

TEST(ConfigReaderTest, ReportsMalformedNumbersAndUnknownFlags) {
  const char* argv[] = {"prog", "--sy-port", "12x", "--no-such-flag=1", "stray"};
  ConfigReader config(5, argv);
  EXPECT_EQ(config.Int("SY_PORT", 50051, 1, 65535, ""), 50051);
  config.RejectUnknownFlags();
  ASSERT_EQ(config.errors().size(), 3u);
  EXPECT_NE(config.errors()[0].find("stray"), std::string::npos);
  EXPECT_NE(config.errors()[1].find("SY_PORT"), std::string::npos);
  EXPECT_NE(config.errors()[2].find("--no-such-flag"), std::string::npos);
}

TEST(SplitHostPortTest, AcceptsHostPortAndBracketedIpv6) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort("redis:6379", host, port));
  EXPECT_EQ(host, "redis");
  EXPECT_EQ(port, 6379);
  ASSERT_TRUE(SplitHostPort("[::1]:7000", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 7000);
  EXPECT_FALSE(SplitHostPort("redis", host, port));
  EXPECT_FALSE(SplitHostPort("redis:port", host, port));
  EXPECT_FALSE(SplitHostPort(":6379", host, port));
  EXPECT_FALSE(SplitHostPort("redis:70000", host, port));
}

TEST(LoggerTest, LineIsOneJsonObjectWithStandardAndExtraFields) {
  Logger logger("user-service", "1.2.3");
  const std::string line = logger.Format(
      LogLevel::kWarn, "said \"hi\"\n",
      {{"request_id", "abc"}, {"code", 5}, {"ms", 1.5}, {"ok", true}, {"bad", "\xFF"}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto value = boost::json::parse(line);
  const auto& object = value.as_object();
  EXPECT_EQ(object.at("level").as_string(), "warn");
  EXPECT_EQ(object.at("service").as_string(), "user-service");
  EXPECT_EQ(object.at("version").as_string(), "1.2.3");
  EXPECT_EQ(object.at("msg").as_string(), "said \"hi\"\n");
  EXPECT_EQ(object.at("request_id").as_string(), "abc");
  EXPECT_EQ(object.at("code").as_int64(), 5);
  EXPECT_DOUBLE_EQ(object.at("ms").as_double(), 1.5);
  EXPECT_TRUE(object.at("ok").as_bool());
  EXPECT_EQ(object.at("bad").as_string(), "\xEF\xBF\xBD");
  EXPECT_EQ(object.at("ts").as_string().size(), 27u);  // 2026-01-02T03:04:05.678901Z
}

TEST(LoggerTest, LevelFilterAndParsing) {
  Logger logger("s", "v", LogLevel::kWarn);
  EXPECT_FALSE(logger.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(logger.Enabled(LogLevel::kError));
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("DEBUG", level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("warning", level));
  EXPECT_EQ(level, LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("verbose", level));
}

TEST(UuidTest, NewUuidsAreVersion4AndDistinct) {
  const std::string a = NewUuidV4();
  const std::string b = NewUuidV4();
  EXPECT_TRUE(IsUuid(a));
  EXPECT_NE(a, b);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

}  // namespace
}  // namespace switchyard
