#include "gemmsift/config.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift {

std::string_view to_string(Template t) noexcept {
  switch (t) {
    case Template::triton_mm: return "triton_mm";
  }
  return "?";
}

Template parse_template(std::string_view s) {
  std::string v = detail::lower(detail::trim(s));
  if (v == "triton_mm" || v == "triton::mm" || v == "mm") return Template::triton_mm;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown template '{}': expected triton_mm", s));
}

void Config::validate() const {
  auto block = [](const char* name, int v) {
    if (v < 16 || v > 256 || !detail::is_pow2(v)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: expected a power of two from 16 to 256, got {}", name, v));
    }
  };
  block("block_m", block_m);
  block("block_n", block_n);
  block("block_k", block_k);
  if (group_m < 1 || group_m > 64) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("group_m: expected an integer from 1 to 64, got {}", group_m));
  }
  if (num_stages < 1 || num_stages > 8) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("num_stages: expected an integer from 1 to 8, got {}", num_stages));
  }
  if (num_warps < 1 || num_warps > 32 || !detail::is_pow2(num_warps)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("num_warps: expected one of 1, 2, 4, 8, 16, 32, got {}", num_warps));
  }
}

std::string Config::to_string() const {
  return fmt::format("{}x{}x{} g{} s{} w{}", block_m, block_n, block_k, group_m, num_stages,
                     num_warps);
}

std::size_t ConfigHash::operator()(const Config& c) const noexcept {
  // Fields are small; pack them into one 64-bit value and mix.
  std::uint64_t v = static_cast<std::uint64_t>(c.tmpl);
  for (int f : {c.block_m, c.block_n, c.block_k, c.group_m, c.num_stages, c.num_warps}) {
    v = v * 1000003u + static_cast<std::uint64_t>(static_cast<std::uint32_t>(f));
  }
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdULL;
  v ^= v >> 33;
  return static_cast<std::size_t>(v);
}

}  // namespace gemmsift
