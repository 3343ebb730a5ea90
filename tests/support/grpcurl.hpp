#pragma once

// Runs the real, pinned grpcurl (SWITCHYARD_GRPCURL_PATH, installed by `make deps`) the way an
// operator would: plaintext, reflection, optional JSON request data.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <utility>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace switchyard::testing {

struct GrpcurlResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline bool GrpcurlInstalled() {
  return std::string(SWITCHYARD_GRPCURL_PATH).find("NOTFOUND") == std::string::npos;
}

inline std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// grpcurl -plaintext -max-time 10 [-d data] ADDRESS args...
inline GrpcurlResult RunGrpcurl(const std::string& address, const std::string& args,
                                const std::string& data = "") {
  std::string command = std::string(SWITCHYARD_GRPCURL_PATH) + " -plaintext -max-time 10 ";
  if (!data.empty()) command += "-d " + ShellQuote(data) + " ";
  command += address + " " + args + " 2>&1";
  GrpcurlResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A test fixture around a service harness (anything with Ready() and address()): grpcurl must
// be installed and the service ready; CallJson runs `<method_prefix><method>` and parses the
// answer.
template <class Harness>
class GrpcurlFixture : public ::testing::Test {
 protected:
  explicit GrpcurlFixture(std::string method_prefix) : method_prefix_(std::move(method_prefix)) {}

  void SetUp() override {
    ASSERT_TRUE(GrpcurlInstalled()) << "grpcurl is not installed: run `make deps`";
    ASSERT_TRUE(harness_.Ready());
  }

  GrpcurlResult Grpcurl(const std::string& args, const std::string& data = "") {
    return RunGrpcurl(harness_.address(), args, data);
  }

  boost::json::object CallJson(const std::string& method, const std::string& data) {
    const GrpcurlResult result = Grpcurl(method_prefix_ + method, data);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    if (result.exit_code != 0) return {};
    return boost::json::parse(result.output).as_object();
  }

  Harness harness_;
  std::string method_prefix_;
};

}  // namespace switchyard::testing
