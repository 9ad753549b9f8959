// Positions in JSON text (internal). nlohmann::json does not keep where a value came from, so
// when gemmsift must name a line and column it walks the (already validated) text again.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gemmsift::detail {

// Escapes one JSON pointer token ("~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key);

// Byte offset where the value at `pointer` ("/entries/3/configs/0") starts, or nullopt if there
// is no such value. The pointer "" is the root. `text` must be valid JSON.
std::optional<std::size_t> find_value_offset(std::string_view text, std::string_view pointer);

// Every object key that repeats within its object, with the JSON pointer of the repeated member
// and the byte offsets of its first and repeated occurrence, in text order. `text` must be valid
// JSON.
struct DuplicateKey {
  std::string pointer;  // pointer of the member, e.g. "/entries/0/problem/m"
  std::size_t first_offset = 0;
  std::size_t second_offset = 0;
};
std::vector<DuplicateKey> find_duplicate_keys(std::string_view text);

}  // namespace gemmsift::detail
