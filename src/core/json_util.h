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
// preamble: just what was wrong. Bytes that are not printable ASCII are shown as \xNN, so a
// message about a file with bad bytes is itself clean text.
std::string json_error_text(const nlohmann::json::parse_error& e);

// Byte offset where the token that a parse error reports starts (nlohmann reports the byte after
// the token). Falls back to the reported byte.
std::size_t json_error_offset(std::string_view text, const nlohmann::json::parse_error& e);

// Byte offset of the first number literal that does not fit a double (0 if none).
std::size_t overflowing_number_offset(std::string_view text);

}  // namespace gemmsift::detail
