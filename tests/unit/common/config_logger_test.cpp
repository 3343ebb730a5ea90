#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "common/service/config.hpp"
#include "common/service/logger.hpp"
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

// Reads everything from `fd` until end of file.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::size_t CountOf(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(LoggerTest, ErrorLineIsWrittenBeforeLogReturns) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  {
    Logger logger("s", "v", LogLevel::kInfo, fds[1]);
    logger.Info("first");
    logger.Error("boom");
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);  // non-blocking: only what is there now
    ASSERT_GT(n, 0);
    const std::string written(buf, static_cast<std::size_t>(n));
    EXPECT_LT(written.find("\"msg\":\"first\""), written.find("\"msg\":\"boom\""));
    EXPECT_NE(written.find("\"msg\":\"boom\""), std::string::npos);
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LoggerTest, StalledOutputNeverBlocksTheCallerAndCountsDroppedLines) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  // Fill the pipe so the logger's writer blocks on its first write.
  const std::string chunk(4096, 'x');
  while (::write(fds[1], chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(::fcntl(fds[1], F_SETFL, 0), 0);  // the writer's end blocks again
  constexpr int kLines = 200;
  std::thread reader;
  std::string output;
  {
    Logger logger("s", "v", LogLevel::kInfo, fds[1], /*max_buffered_bytes=*/2048);
    // With nobody reading, these return at once (the test would hang otherwise).
    for (int i = 0; i < kLines; ++i) logger.Info("line", {{"i", i}});
    ASSERT_EQ(::fcntl(fds[0], F_SETFL, 0), 0);
    reader = std::thread([&] { output = ReadAll(fds[0]); });
    logger.Flush();
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  const std::size_t kept = CountOf(output, "\"msg\":\"line\"");
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, static_cast<std::size_t>(kLines));
  const auto at = output.find("\"dropped\":");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(std::stoul(output.substr(at + 10)), kLines - kept);
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
