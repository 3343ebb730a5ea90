#include "gateway/json/well_known_text.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::gateway {
namespace {

// google.protobuf.Timestamp: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
constexpr std::int64_t kMinTimestampSeconds = -62'135'596'800;
constexpr std::int64_t kMaxTimestampSeconds = 253'402'300'799;
// google.protobuf.Duration: about +-10000 years.
constexpr std::int64_t kMaxDurationSeconds = 315'576'000'000;
constexpr std::int32_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `text[at]`.
bool ReadDigits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

bool IsLeapYear(std::int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(std::int64_t year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date. Years are counted from March so that the
// leap day is the last day of a counted year; 400-year cycles hold 146097 days.
std::int64_t DaysFromCivil(std::int64_t year, int month, int day) {
  const std::int64_t shifted_year = month <= 2 ? year - 1 : year;
  const std::int64_t cycle = (shifted_year >= 0 ? shifted_year : shifted_year - 399) / 400;
  const std::int64_t year_of_cycle = shifted_year - cycle * 400;                // [0, 399]
  const std::int64_t month_from_march = month > 2 ? month - 3 : month + 9;      // [0, 11]
  const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;  // [0, 365]
  const std::int64_t day_of_cycle =
      year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;  // [0, 146096]
  // 719468 days separate 0000-03-01 from 1970-01-01.
  return cycle * 146'097 + day_of_cycle - 719'468;
}

struct CivilDate {
  std::int64_t year;
  int month;
  int day;
};

// The inverse of DaysFromCivil.
CivilDate CivilFromDays(std::int64_t days) {
  days += 719'468;
  const std::int64_t cycle = (days >= 0 ? days : days - 146'096) / 146'097;
  const std::int64_t day_of_cycle = days - cycle * 146'097;  // [0, 146096]
  const std::int64_t year_of_cycle =
      (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36'524 - day_of_cycle / 146'096) /
      365;  // [0, 399]
  const std::int64_t day_of_year =
      day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);  // [0, 365]
  const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;                   // [0, 11]
  const int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  const int month =
      static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  const std::int64_t year = year_of_cycle + cycle * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

// ".5" -> 500000000: reads 1 to 9 fractional digits after the '.' at text[at]; advances `at`.
bool ReadFraction(std::string_view text, std::size_t& at, std::int32_t& nanos) {
  nanos = 0;
  if (at >= text.size() || text[at] != '.') return true;
  ++at;
  int count = 0;
  while (at < text.size() && IsDigit(text[at])) {
    if (++count > 9) return false;
    nanos = nanos * 10 + (text[at] - '0');
    ++at;
  }
  if (count == 0) return false;
  for (int i = count; i < 9; ++i) nanos *= 10;
  return true;
}

// Writes `value` as exactly `width` digits (zero-padded) at `p`; returns the end.
char* PutDigits(char* p, std::int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

// 0, 3, 6 or 9 fractional digits, as protobuf prints them.
char* PutNanos(char* p, std::int32_t nanos) {
  if (nanos == 0) return p;
  *p++ = '.';
  if (nanos % 1'000'000 == 0) return PutDigits(p, nanos / 1'000'000, 3);
  if (nanos % 1'000 == 0) return PutDigits(p, nanos / 1'000, 6);
  return PutDigits(p, nanos, 9);
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Both alphabets: '+' and '-' are 62, '/' and '_' are 63; -1 for anything else.
constexpr std::array<std::int8_t, 256> MakeBase64Values() {
  std::array<std::int8_t, 256> values{};
  for (auto& value : values) value = -1;
  for (int i = 0; i < 64; ++i) {
    values[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<std::int8_t>(i);
  }
  values['-'] = 62;
  values['_'] = 63;
  return values;
}
constexpr std::array<std::int8_t, 256> kBase64Values = MakeBase64Values();

}  // namespace

TextFormError ParseTimestamp(std::string_view text, std::int64_t& seconds, std::int32_t& nanos) {
  // YYYY-MM-DDTHH:MM:SS
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, month) || text[7] != '-' || !ReadDigits(text, 8, 2, day) ||
      text[10] != 'T' || !ReadDigits(text, 11, 2, hour) || text[13] != ':' ||
      !ReadDigits(text, 14, 2, minute) || text[16] != ':' || !ReadDigits(text, 17, 2, second)) {
    return TextFormError::kSyntax;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 59) {
    return TextFormError::kSyntax;
  }
  std::size_t at = 19;
  if (!ReadFraction(text, at, nanos)) return TextFormError::kSyntax;
  std::int64_t offset = 0;
  if (at < text.size() && text[at] == 'Z') {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int offset_hours = 0, offset_minutes = 0;
    if (!ReadDigits(text, at + 1, 2, offset_hours) || at + 3 >= text.size() ||
        text[at + 3] != ':' || !ReadDigits(text, at + 4, 2, offset_minutes) || offset_hours > 23 ||
        offset_minutes > 59) {
      return TextFormError::kSyntax;
    }
    offset = (offset_hours * 60 + offset_minutes) * 60;
    if (text[at] == '-') offset = -offset;
    at += 6;
  } else {
    return TextFormError::kSyntax;
  }
  if (at != text.size()) return TextFormError::kSyntax;
  seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + (hour * 60 + minute) * 60 + second -
            offset;
  return seconds >= kMinTimestampSeconds && seconds <= kMaxTimestampSeconds ? TextFormError::kNone
                                                                            : TextFormError::kRange;
}

bool FormatTimestamp(std::int64_t seconds, std::int32_t nanos, std::string& out) {
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds || nanos < 0 ||
      nanos >= kNanosPerSecond) {
    return false;
  }
  // Floor division: the day of a negative time starts before it.
  std::int64_t days = seconds / kSecondsPerDay;
  std::int64_t second_of_day = seconds % kSecondsPerDay;
  if (second_of_day < 0) {
    second_of_day += kSecondsPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  char buffer[32];  // YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ
  char* p = PutDigits(buffer, date.year, 4);
  *p++ = '-';
  p = PutDigits(p, date.month, 2);
  *p++ = '-';
  p = PutDigits(p, date.day, 2);
  *p++ = 'T';
  p = PutDigits(p, second_of_day / 3600, 2);
  *p++ = ':';
  p = PutDigits(p, second_of_day / 60 % 60, 2);
  *p++ = ':';
  p = PutDigits(p, second_of_day % 60, 2);
  p = PutNanos(p, nanos);
  *p++ = 'Z';
  out.append(buffer, p);
  return true;
}

TextFormError ParseDuration(std::string_view text, std::int64_t& seconds, std::int32_t& nanos) {
  std::size_t at = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++at;
  const std::size_t digits_begin = at;
  seconds = 0;
  bool too_long = false;
  while (at < text.size() && IsDigit(text[at])) {
    if (at - digits_begin >= 12) {
      too_long = true;  // more than kMaxDurationSeconds can hold; read on to check the form
    } else {
      seconds = seconds * 10 + (text[at] - '0');
    }
    ++at;
  }
  if (at == digits_begin || !ReadFraction(text, at, nanos)) return TextFormError::kSyntax;
  if (at + 1 != text.size() || text[at] != 's') return TextFormError::kSyntax;
  if (too_long || seconds > kMaxDurationSeconds) return TextFormError::kRange;
  if (negative) {
    seconds = -seconds;
    nanos = -nanos;
  }
  return TextFormError::kNone;
}

bool FormatDuration(std::int64_t seconds, std::int32_t nanos, std::string& out) {
  if (seconds < -kMaxDurationSeconds || seconds > kMaxDurationSeconds ||
      nanos <= -kNanosPerSecond || nanos >= kNanosPerSecond) {
    return false;
  }
  if (seconds > 0 && nanos < 0) {
    --seconds;
    nanos += kNanosPerSecond;
  } else if (seconds < 0 && nanos > 0) {
    ++seconds;
    nanos -= kNanosPerSecond;
  }
  if (seconds < 0 || nanos < 0) {
    out.push_back('-');
    seconds = -seconds;
    nanos = -nanos;
  }
  char buffer[40];
  char* p = std::to_chars(buffer, buffer + 20, seconds).ptr;
  p = PutNanos(p, nanos);
  *p++ = 's';
  out.append(buffer, p);
  return true;
}

bool Base64Decode(std::string_view text, std::string& out) {
  std::size_t length = text.size();
  if (length > 0 && text[length - 1] == '=') {
    // Padding, when present, completes the last group of four.
    if (length % 4 != 0) return false;
    --length;
    if (text[length - 1] == '=') --length;
  }
  if (length % 4 == 1) return false;
  bool standard = false;
  bool url_safe = false;
  out.reserve(out.size() + length / 4 * 3 + 2);
  std::uint32_t group = 0;
  int bits = 0;
  for (std::size_t i = 0; i < length; ++i) {
    const char c = text[i];
    const std::int8_t value = kBase64Values[static_cast<unsigned char>(c)];
    if (value < 0) return false;
    standard = standard || c == '+' || c == '/';
    url_safe = url_safe || c == '-' || c == '_';
    group = (group << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((group >> bits) & 0xff));
    }
  }
  return !(standard && url_safe);
}

void Base64Encode(std::string_view bytes, std::string& out) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const std::size_t full = bytes.size() / 3 * 3;
  const std::size_t start = out.size();
  out.resize(start + (bytes.size() + 2) / 3 * 4);
  char* write = out.data() + start;
  for (std::size_t i = 0; i < full; i += 3) {
    const std::uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    *write++ = kBase64Alphabet[group >> 18];
    *write++ = kBase64Alphabet[(group >> 12) & 63];
    *write++ = kBase64Alphabet[(group >> 6) & 63];
    *write++ = kBase64Alphabet[group & 63];
  }
  const std::size_t rest = bytes.size() - full;
  if (rest > 0) {
    const std::uint32_t group = (byte(full) << 16) | (rest == 2 ? byte(full + 1) << 8 : 0u);
    *write++ = kBase64Alphabet[group >> 18];
    *write++ = kBase64Alphabet[(group >> 12) & 63];
    *write++ = rest == 2 ? kBase64Alphabet[(group >> 6) & 63] : '=';
    *write++ = '=';
  }
}

std::string TimestampProblem(std::string_view shown, TextFormError error) {
  std::string problem(shown);
  if (error == TextFormError::kRange) {
    problem +=
        " is outside the range of a timestamp (0001-01-01T00:00:00Z to "
        "9999-12-31T23:59:59.999999999Z)";
  } else {
    problem +=
        " is not an RFC 3339 timestamp such as \"2024-01-02T03:04:05.5Z\" (uppercase T and Z, "
        "or an offset such as +01:00; up to 9 fractional digits)";
  }
  return problem;
}

std::string DurationProblem(std::string_view shown, TextFormError error) {
  std::string problem(shown);
  if (error == TextFormError::kRange) {
    problem += " is outside the range of a duration (+-315576000000s)";
  } else {
    problem +=
        " is not a duration such as \"1.5s\" (seconds with up to 9 fractional digits, then s)";
  }
  return problem;
}

std::string Base64Problem(std::string_view shown) {
  return std::string(shown) +
         " is not valid base64 (the standard or the URL-safe alphabet, padding optional)";
}

}  // namespace switchyard::gateway
