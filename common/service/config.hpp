#pragma once

// Configuration from the environment, with command-line flags taking precedence.
//
// Each setting has an environment name such as REDIS_PORT and a flag spelled --redis-port=VALUE.
// Problems (a malformed number, an unknown flag) are collected, not thrown, so main() can report
// all of them on one line each and exit before doing anything else.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

class ConfigReader {
 public:
  // `argv` flags must look like --name=value or --name value; --help sets help_requested().
  ConfigReader(int argc, const char* const* argv);

  std::string String(std::string_view env_name, std::string_view default_value,
                     std::string_view help);
  std::int64_t Int(std::string_view env_name, std::int64_t default_value, std::int64_t min,
                   std::int64_t max, std::string_view help);
  std::chrono::milliseconds Millis(std::string_view env_name, std::int64_t default_ms,
                                   std::int64_t min_ms, std::int64_t max_ms, std::string_view help);

  // Adds an error for every flag that no setting asked for. Call after reading all settings.
  void RejectUnknownFlags();

  const std::vector<std::string>& errors() const { return errors_; }
  bool help_requested() const { return help_requested_; }
  // One line per setting: flag, environment name, default and help text.
  std::string Usage(std::string_view program) const;

  // The flag spelling of an environment name: REDIS_PORT -> redis-port.
  static std::string FlagName(std::string_view env_name);

 private:
  // The raw value for a setting: flag, else environment, else nullptr.
  const std::string* Lookup(std::string_view env_name);

  std::map<std::string, std::string, std::less<>> flags_;
  std::map<std::string, bool, std::less<>> used_flags_;
  std::vector<std::string> usage_lines_;
  std::vector<std::string> errors_;
  std::string env_value_;
  bool help_requested_ = false;
};

// Splits "host:port" (or "[v6]:port"); false when malformed.
bool SplitHostPort(std::string_view address, std::string& host, int& port);

}  // namespace switchyard
