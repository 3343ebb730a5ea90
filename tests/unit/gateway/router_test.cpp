#include "gateway/routing/router.hpp"

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchyard::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using StringRouter = Router<std::string>;

// Adds routes whose payload is "<METHOD> <template>".
StringRouter MakeRouter(const std::vector<std::pair<std::string, std::string>>& routes) {
  StringRouter router;
  for (const auto& [method, text] : routes) {
    const absl::Status status = router.Add(method, text, method + " " + text);
    EXPECT_TRUE(status.ok()) << status;
  }
  return router;
}

// The precedence table: every path below matches several of these templates.
const std::vector<std::pair<std::string, std::string>> kPrecedenceRoutes = {
    {"GET", "/v1/users/me"},
    {"GET", "/v1/users/{id}"},
    {"GET", "/v1/users/{id}/posts/{post}"},
    {"GET", "/v1/{name=users/*/posts/**}"},
    {"GET", "/v1/{name=**}"},
    {"GET", "/v1/users"},
    {"GET", "/v1/users/**"},
    {"GET", "/v1/{name=users/*}:activate"},
    {"GET", "/v1/{name=**}:search"},
    {"GET", "/**"},
};

struct PrecedenceCase {
  std::string path;
  std::string route;  // the winning template
  Bindings bindings;
};

void PrintTo(const PrecedenceCase& c, std::ostream* os) { *os << c.path; }

class RouterPrecedenceTest : public ::testing::TestWithParam<PrecedenceCase> {};

TEST_P(RouterPrecedenceTest, MostSpecificTemplateWins) {
  const PrecedenceCase& c = GetParam();
  const StringRouter router = MakeRouter(kPrecedenceRoutes);
  const StringRouter::Result result = router.Match("GET", c.path);
  const auto* found = std::get_if<StringRouter::Found>(&result);
  ASSERT_NE(found, nullptr) << c.path << " result index " << result.index();
  EXPECT_EQ(found->value, "GET " + c.route) << c.path;
  EXPECT_EQ(found->path_template.text(), c.route);
  EXPECT_EQ(found->bindings, c.bindings);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouterPrecedenceTest,
    ::testing::Values(
        PrecedenceCase{"/v1/users/me", "/v1/users/me", {}},
        PrecedenceCase{"/v1/users/42", "/v1/users/{id}", {{"id", "42"}}},
        PrecedenceCase{"/v1/users/m%65", "/v1/users/me", {}},
        PrecedenceCase{
            "/v1/users/42/posts/7", "/v1/users/{id}/posts/{post}", {{"id", "42"}, {"post", "7"}}},
        PrecedenceCase{"/v1/users/42/posts/7/likes",
                       "/v1/{name=users/*/posts/**}",
                       {{"name", "users/42/posts/7/likes"}}},
        PrecedenceCase{
            "/v1/users/42/posts", "/v1/{name=users/*/posts/**}", {{"name", "users/42/posts"}}},
        PrecedenceCase{"/v1/users/42/comments", "/v1/users/**", {}},
        PrecedenceCase{"/v1/users", "/v1/users", {}},
        PrecedenceCase{"/v1/groups/g", "/v1/{name=**}", {{"name", "groups/g"}}},
        PrecedenceCase{"/v1", "/v1/{name=**}", {{"name", ""}}},
        PrecedenceCase{
            "/v1/users/42:activate", "/v1/{name=users/*}:activate", {{"name", "users/42"}}},
        PrecedenceCase{"/v1/users/42:search", "/v1/{name=**}:search", {{"name", "users/42"}}},
        PrecedenceCase{"/v1/users/42:other", "/v1/users/{id}", {{"id", "42:other"}}},
        PrecedenceCase{"/v2/x", "/**", {}}, PrecedenceCase{"/", "/**", {}}));

TEST(RouterTest, TrieAgreesWithExhaustiveSpecificityOrder) {
  // Random templates over a tiny alphabet collide a lot; the router's pick must be the template
  // PathTemplate::Match accepts and CompareSpecificity ranks highest.
  std::mt19937 rng(20240102);
  // Variables get a per-position name so that no template binds a field twice.
  auto segment = [&](int position) -> std::string {
    switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
      case 0:
        return "a";
      case 1:
        return "b";
      case 2:
        return "*";
      case 3:
        return "{v" + std::to_string(position) + "}";
      default:
        return "{w" + std::to_string(position) + "=a/*}";
    }
  };
  const std::vector<std::string> verbs = {"", "", ":x"};
  const std::vector<std::string> methods = {"GET", "POST"};
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  for (int round = 0; round < 50; ++round) {
    StringRouter router;
    std::vector<std::pair<std::string, PathTemplate>> added;
    for (int i = 0; i < 12; ++i) {
      std::string text;
      const int length = std::uniform_int_distribution<int>(0, 3)(rng);
      for (int s = 0; s < length; ++s) text += "/" + segment(s);
      if (length == 0 || rng() % 4 == 0) text += "/**";
      text += pick(verbs);
      const std::string method = pick(methods);
      absl::StatusOr<PathTemplate> parsed = PathTemplate::Parse(text);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      if (router.Add(method, *parsed, method + " " + text).ok()) {
        added.emplace_back(method, *std::move(parsed));
      }
    }
    for (int p = 0; p < 40; ++p) {
      std::string path;
      const int length = std::uniform_int_distribution<int>(0, 5)(rng);
      for (int s = 0; s < length; ++s) path += "/" + pick({"a", "b", "c"});
      if (path.empty()) path = "/";
      if (rng() % 3 == 0 && path != "/") path += ":x";
      for (const std::string& method : methods) {
        const PathTemplate* best = nullptr;
        bool any_method = false;
        for (const auto& [route_method, path_template] : added) {
          Bindings ignored;
          if (!path_template.Match(path, ignored)) continue;
          any_method = true;
          if (route_method != method) continue;
          if (best == nullptr || path_template.CompareSpecificity(*best) > 0) best = &path_template;
        }
        const StringRouter::Result result = router.Match(method, path);
        if (best != nullptr) {
          const auto* found = std::get_if<StringRouter::Found>(&result);
          ASSERT_NE(found, nullptr) << method << " " << path;
          EXPECT_EQ(found->path_template.text(), best->text()) << method << " " << path;
        } else if (any_method) {
          EXPECT_TRUE(std::holds_alternative<StringRouter::MethodNotAllowed>(result)) << path;
        } else {
          EXPECT_TRUE(std::holds_alternative<StringRouter::NotFound>(result)) << path;
        }
      }
    }
  }
}

TEST(RouterTest, UnknownPathIsNotFound) {
  const StringRouter router = MakeRouter({{"GET", "/v1/users/{id}"}, {"POST", "/v1/users"}});
  for (const char* path : {"/v1/groups", "/v1/users/1/x", "/v2/users", "/", "", "v1/users",
                           "/v1/users/", "/v1//users", "/v1/users/1/"}) {
    EXPECT_TRUE(std::holds_alternative<StringRouter::NotFound>(router.Match("GET", path))) << path;
  }
}

TEST(RouterTest, WrongMethodIsMethodNotAllowedWithSortedUniqueAllowList) {
  const StringRouter router = MakeRouter({{"GET", "/v1/users/{id}"},
                                          {"DELETE", "/v1/users/{id}"},
                                          {"PATCH", "/v1/users/{id}"},
                                          {"GET", "/v1/{name=**}"},
                                          {"POST", "/v1/users"}});
  const StringRouter::Result result = router.Match("PUT", "/v1/users/42");
  const auto* not_allowed = std::get_if<StringRouter::MethodNotAllowed>(&result);
  ASSERT_NE(not_allowed, nullptr);
  EXPECT_THAT(not_allowed->allowed_methods, ElementsAre("DELETE", "GET", "PATCH"));
}

TEST(RouterTest, MethodsAreCaseSensitive) {
  const StringRouter router = MakeRouter({{"GET", "/v1/users/{id}"}});
  const StringRouter::Result result = router.Match("get", "/v1/users/1");
  const auto* not_allowed = std::get_if<StringRouter::MethodNotAllowed>(&result);
  ASSERT_NE(not_allowed, nullptr);
  EXPECT_THAT(not_allowed->allowed_methods, ElementsAre("GET"));
}

TEST(RouterTest, LessSpecificRouteOfTheRequestedMethodWinsOverMethodNotAllowed) {
  const StringRouter router = MakeRouter({{"POST", "/v1/users/{id}"}, {"GET", "/v1/{name=**}"}});
  const StringRouter::Result result = router.Match("GET", "/v1/users/1");
  const auto* found = std::get_if<StringRouter::Found>(&result);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->value, "GET /v1/{name=**}");
}

TEST(RouterTest, CustomMethodsRoute) {
  const StringRouter router =
      MakeRouter({{"DELETE", "/v1/echo/{id}/all"}, {"PURGE", "/v1/echo/{id}/all"}});
  const StringRouter::Result result = router.Match("PURGE", "/v1/echo/7/all");
  const auto* found = std::get_if<StringRouter::Found>(&result);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->value, "PURGE /v1/echo/{id}/all");
  const StringRouter::Result other = router.Match("GET", "/v1/echo/7/all");
  const auto* not_allowed = std::get_if<StringRouter::MethodNotAllowed>(&other);
  ASSERT_NE(not_allowed, nullptr);
  EXPECT_THAT(not_allowed->allowed_methods, ElementsAre("DELETE", "PURGE"));
}

TEST(RouterTest, VerbRouteIsNotFoundWithoutItsVerb) {
  const StringRouter router = MakeRouter({{"POST", "/v1/{name=users/*}:activate"}});
  EXPECT_TRUE(std::holds_alternative<StringRouter::NotFound>(router.Match("POST", "/v1/users/1")));
  EXPECT_TRUE(
      std::holds_alternative<StringRouter::NotFound>(router.Match("POST", "/v1/users/1:other")));
  EXPECT_TRUE(std::holds_alternative<StringRouter::MethodNotAllowed>(
      router.Match("GET", "/v1/users/1:activate")));
}

TEST(RouterTest, MalformedPercentEncodingIsReportedApartFromNotFound) {
  const StringRouter router = MakeRouter({{"GET", "/v1/users/{id}"}});
  for (const char* path : {"/v1/users/%zz", "/v1/users/%4", "/v1/%/1", "/nowhere/%"}) {
    const StringRouter::Result result = router.Match("GET", path);
    const auto* malformed = std::get_if<StringRouter::MalformedPath>(&result);
    ASSERT_NE(malformed, nullptr) << path;
    EXPECT_THAT(malformed->message, HasSubstr("percent-encoding"));
  }
}

TEST(RouterTest, DuplicateRouteIsRejected) {
  StringRouter router;
  ASSERT_TRUE(router.Add("GET", "/v1/users/{id}", "first").ok());
  const absl::Status same = router.Add("GET", "/v1/users/{id}", "second");
  EXPECT_EQ(same.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(same.message(), HasSubstr("GET \"/v1/users/{id}\""));
  // Equivalent templates match the same paths, whatever their variables are called.
  const absl::Status equivalent = router.Add("GET", "/v1/{name=users/*}", "third");
  EXPECT_EQ(equivalent.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(equivalent.message(), HasSubstr("conflicts with GET \"/v1/users/{id}\""));
  // Another method, or a verb, makes a different route.
  EXPECT_TRUE(router.Add("DELETE", "/v1/users/{id}", "delete").ok());
  EXPECT_TRUE(router.Add("GET", "/v1/users/{id}:x", "verb").ok());
  ASSERT_TRUE(router.Add("GET", "/v1/users/**", "rest").ok());
  EXPECT_EQ(router.Add("GET", "/v1/users/{rest=**}", "rest again").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(router.size(), 4u);
  // The rejected routes changed nothing.
  const StringRouter::Result result = router.Match("GET", "/v1/users/1");
  ASSERT_TRUE(std::holds_alternative<StringRouter::Found>(result));
  EXPECT_EQ(std::get<StringRouter::Found>(result).value, "first");
}

TEST(RouterTest, InvalidMethodOrTemplateIsRejected) {
  StringRouter router;
  EXPECT_EQ(router.Add("", "/v1/x", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GE T", "/v1/x", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GET\r\n", "/v1/x", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "/v1/{x", "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.size(), 0u);
}

TEST(RouterTest, FoundValueStaysValidAsRoutesAreAdded) {
  Router<std::vector<int>> router;
  ASSERT_TRUE(router.Add("GET", "/a", std::vector<int>{1, 2, 3}).ok());
  const auto result = router.Match("GET", "/a");
  const auto& found = std::get<Router<std::vector<int>>::Found>(result);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(router.Add("GET", "/b" + std::to_string(i), std::vector<int>{i}).ok());
  }
  EXPECT_THAT(found.value, ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace switchyard::gateway
