#include "common/service/config.hpp"

#include <charconv>
#include <cstdlib>

namespace switchyard {

ConfigReader::ConfigReader(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      errors_.push_back("unexpected argument '" + std::string(arg) +
                        "' (flags look like --name=value)");
      continue;
    }
    arg.remove_prefix(2);
    const auto eq = arg.find('=');
    if (eq != std::string_view::npos) {
      flags_[std::string(arg.substr(0, eq))] = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      flags_[std::string(arg)] = argv[++i];
    } else {
      errors_.push_back("flag --" + std::string(arg) + " needs a value");
    }
  }
}

std::string ConfigReader::FlagName(std::string_view env_name) {
  std::string flag;
  flag.reserve(env_name.size());
  for (const char c : env_name) {
    if (c == '_') {
      flag.push_back('-');
    } else if (c >= 'A' && c <= 'Z') {
      flag.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      flag.push_back(c);
    }
  }
  return flag;
}

const std::string* ConfigReader::Lookup(std::string_view env_name) {
  const std::string flag = FlagName(env_name);
  if (const auto it = flags_.find(flag); it != flags_.end()) {
    used_flags_[flag] = true;
    return &it->second;
  }
  if (const char* value = std::getenv(std::string(env_name).c_str())) {
    env_value_ = value;
    return &env_value_;
  }
  return nullptr;
}

std::string ConfigReader::String(std::string_view env_name, std::string_view default_value,
                                 std::string_view help) {
  usage_lines_.push_back("  --" + FlagName(env_name) + " (env " + std::string(env_name) +
                         ", default \"" + std::string(default_value) + "\"): " + std::string(help));
  const std::string* raw = Lookup(env_name);
  return raw ? *raw : std::string(default_value);
}

std::int64_t ConfigReader::Int(std::string_view env_name, std::int64_t default_value,
                               std::int64_t min, std::int64_t max, std::string_view help) {
  usage_lines_.push_back("  --" + FlagName(env_name) + " (env " + std::string(env_name) +
                         ", default " + std::to_string(default_value) + ", " + std::to_string(min) +
                         ".." + std::to_string(max) + "): " + std::string(help));
  const std::string* raw = Lookup(env_name);
  if (!raw) return default_value;
  std::int64_t value = 0;
  const auto* end = raw->data() + raw->size();
  const auto [ptr, ec] = std::from_chars(raw->data(), end, value);
  if (ec != std::errc() || ptr != end || value < min || value > max) {
    errors_.push_back(std::string(env_name) + ": expected a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max) + ", got '" + *raw + "'");
    return default_value;
  }
  return value;
}

std::chrono::milliseconds ConfigReader::Millis(std::string_view env_name, std::int64_t default_ms,
                                               std::int64_t min_ms, std::int64_t max_ms,
                                               std::string_view help) {
  return std::chrono::milliseconds(Int(env_name, default_ms, min_ms, max_ms, help));
}

void ConfigReader::RejectUnknownFlags() {
  for (const auto& [name, value] : flags_) {
    if (!used_flags_.count(name)) errors_.push_back("unknown flag --" + name);
  }
}

std::string ConfigReader::Usage(std::string_view program) const {
  std::string text = "usage: " + std::string(program) + " [--flag=value ...]\n";
  for (const auto& line : usage_lines_) text += line + "\n";
  return text;
}

bool SplitHostPort(std::string_view address, std::string& host, int& port) {
  std::string_view host_part;
  std::string_view port_part;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return false;
    }
    host_part = address.substr(1, close - 1);
    port_part = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos) return false;
    host_part = address.substr(0, colon);
    port_part = address.substr(colon + 1);
  }
  int value = 0;
  const auto [ptr, ec] =
      std::from_chars(port_part.data(), port_part.data() + port_part.size(), value);
  if (host_part.empty() || ec != std::errc() || ptr != port_part.data() + port_part.size() ||
      value < 0 || value > 65535) {
    return false;
  }
  host = std::string(host_part);
  port = value;
  return true;
}

}  // namespace switchyard
