// JSON helpers shared inside gemmsift (not part of the public API).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift::detail {

// 1-based line and column of a byte offset.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte_offset);

// Throws Error(parse) "<where>/<key>: unknown field; expected one of ..." for keys not allowed.
void check_keys(const nlohmann::json& j, std::string_view where,
                std::initializer_list<std::string_view> allowed);

std::int64_t get_int(const nlohmann::json& j, std::string_view where, std::string_view key);
std::string get_string(const nlohmann::json& j, std::string_view where, std::string_view key);

// Short description of a JSON value for messages: `string "abc"`, `48`, `array`, `null null`.
std::string describe(const nlohmann::json& v);

[[noreturn]] void rethrow_with_prefix(const Error& e, std::string_view prefix);

// nlohmann's parse_error text without its "[json.exception.parse_error.101] parse error at ..."
// preamble: just what was wrong.
inline std::string json_error_text(const nlohmann::json::parse_error& e) {
  std::string s = e.what();
  auto pos = s.find(": ");
  // "...parse error at line 1, column 2: syntax error while parsing value - invalid literal; ..."
  if (pos != std::string::npos) s = s.substr(pos + 2);
  return s;
}

}  // namespace gemmsift::detail
