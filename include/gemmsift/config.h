// gemmsift: one kernel configuration.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gemmsift {

// Kernel templates. triton_mm is Inductor's `triton_mm` template (torch/_inductor/kernel/mm.py).
// The numeric values are part of the C API (gs_config.template_id); never renumber.
enum class Template : std::uint8_t { triton_mm = 0 };

std::string_view to_string(Template) noexcept;
Template parse_template(std::string_view);

// What is wrong with one field's value ("expected a power of two from 16 to 256, got 48"), or an
// empty string when it is in range. Fields: block_m, block_n, block_k, group_m, num_stages,
// num_warps. The one place the ranges live.
std::string config_field_error(std::string_view field, std::int64_t value);
// What a field must be ("a power of two from 16 to 256"); empty for an unknown field.
std::string_view config_field_expectation(std::string_view field) noexcept;

struct Config {
  Template tmpl = Template::triton_mm;
  int block_m = 0;
  int block_n = 0;
  int block_k = 0;
  int group_m = 8;
  int num_stages = 0;
  int num_warps = 0;

  // Throws Error(invalid_argument) naming the first field out of range: blocks powers of two
  // from 16 to 256, group_m from 1 to 64, num_stages from 1 to 8, num_warps in {1,2,4,8,16,32}.
  void validate() const;

  // "128x128x64 g8 s3 w4"
  std::string to_string() const;
  // Parses to_string()'s form; "g8" may be left out. Error(invalid_argument) when malformed.
  static Config parse(std::string_view text);

  friend auto operator<=>(const Config&, const Config&) = default;
  friend bool operator==(const Config&, const Config&) = default;
};

struct ConfigHash {
  std::size_t operator()(const Config& c) const noexcept;
};

}  // namespace gemmsift
