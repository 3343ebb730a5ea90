// The text formats of sentinel mode: +switch-master payloads and the REDIS_SENTINELS list.

#include <gtest/gtest.h>

#include "common/redis/redis_sentinel.hpp"
#include "common/service/service_settings.hpp"

namespace switchyard::redis {
namespace {

TEST(ParseSwitchMasterTest, ReturnsTheNewPrimaryOfTheWatchedMaster) {
  EXPECT_EQ(ParseSwitchMaster("switchyard 10.0.0.2 6379 10.0.0.3 6380", "switchyard"),
            (RedisEndpoint{"10.0.0.3", 6380}));
}

TEST(ParseSwitchMasterTest, IgnoresOtherMastersAndMalformedPayloads) {
  struct Case {
    const char* payload;
    const char* why;
  };
  const Case cases[] = {
      {"other 10.0.0.2 6379 10.0.0.3 6380", "another master name"},
      {"switchyard 10.0.0.2 6379 10.0.0.3", "four fields"},
      {"switchyard 10.0.0.2 6379 10.0.0.3 6380 extra", "six fields"},
      {"switchyard 10.0.0.2 6379 10.0.0.3 port", "a port that is not a number"},
      {"switchyard 10.0.0.2 6379 10.0.0.3 70000", "a port out of range"},
      {"", "nothing"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseSwitchMaster(c.payload, "switchyard"), std::nullopt) << c.why;
  }
}

TEST(ParseEndpointListTest, SplitsCommaSeparatedHostPorts) {
  std::vector<RedisEndpoint> endpoints;
  ASSERT_TRUE(ParseEndpointList(" sentinel-1:26379, sentinel-2:26379,[::1]:26380 ", endpoints));
  ASSERT_EQ(endpoints.size(), 3u);
  EXPECT_EQ(endpoints[0], (RedisEndpoint{"sentinel-1", 26379}));
  EXPECT_EQ(endpoints[1], (RedisEndpoint{"sentinel-2", 26379}));
  EXPECT_EQ(endpoints[2], (RedisEndpoint{"::1", 26380}));
}

TEST(ParseEndpointListTest, EmptyTextMeansNoSentinels) {
  std::vector<RedisEndpoint> endpoints = {{"x", 1}};
  ASSERT_TRUE(ParseEndpointList("", endpoints));
  EXPECT_TRUE(endpoints.empty());
}

TEST(ParseEndpointListTest, RejectsAnItemWithoutAPort) {
  std::vector<RedisEndpoint> endpoints;
  EXPECT_FALSE(ParseEndpointList("sentinel-1:26379,sentinel-2", endpoints));
  EXPECT_TRUE(endpoints.empty());
}

}  // namespace
}  // namespace switchyard::redis
