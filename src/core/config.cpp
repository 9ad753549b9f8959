#include "gemmsift/config.h"

#include <fmt/format.h>

#include <vector>

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

std::string_view config_field_expectation(std::string_view field) noexcept {
  if (field == "block_m" || field == "block_n" || field == "block_k") return "a power of two from 16 to 256";
  if (field == "group_m") return "an integer from 1 to 64";
  if (field == "num_stages") return "an integer from 1 to 8";
  if (field == "num_warps") return "one of 1, 2, 4, 8, 16, 32";
  return {};
}

std::string config_field_error(std::string_view field, std::int64_t v) {
  bool ok = false;
  if (field == "block_m" || field == "block_n" || field == "block_k") {
    ok = v >= 16 && v <= 256 && detail::is_pow2(v);
  } else if (field == "group_m") {
    ok = v >= 1 && v <= 64;
  } else if (field == "num_stages") {
    ok = v >= 1 && v <= 8;
  } else if (field == "num_warps") {
    ok = v >= 1 && v <= 32 && detail::is_pow2(v);
  } else {
    return fmt::format("unknown config field '{}'", field);
  }
  return ok ? std::string() : fmt::format("expected {}, got {}", config_field_expectation(field), v);
}

void Config::validate() const {
  const std::pair<const char*, int> fields[] = {{"block_m", block_m},       {"block_n", block_n},
                                                {"block_k", block_k},       {"group_m", group_m},
                                                {"num_stages", num_stages}, {"num_warps", num_warps}};
  for (auto [name, value] : fields) {
    std::string err = config_field_error(name, value);
    if (!err.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: {}", name, err));
  }
}

Config Config::parse(std::string_view text) {
  auto bad = [&] {
    return Error(ErrorCode::invalid_argument,
                 fmt::format("config '{}': expected BMxBNxBK [gG] sS wW, e.g. 128x128x64 g8 s3 w4", text));
  };
  Config c;
  auto parts = detail::split(detail::trim(text), ' ');
  std::vector<std::string_view> words;
  for (auto p : parts) {
    if (!p.empty()) words.push_back(p);
  }
  if (words.size() < 3 || words.size() > 4) throw bad();
  auto dims = detail::split(words[0], 'x');
  if (dims.size() != 3) throw bad();
  auto num = [&](std::string_view s) {
    auto v = detail::parse_int<int>(s);
    if (!v) throw bad();
    return *v;
  };
  c.block_m = num(dims[0]);
  c.block_n = num(dims[1]);
  c.block_k = num(dims[2]);
  bool stages = false, warps = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (w.size() < 2) throw bad();
    if (w[0] == 'g') c.group_m = num(w.substr(1));
    else if (w[0] == 's') c.num_stages = num(w.substr(1)), stages = true;
    else if (w[0] == 'w') c.num_warps = num(w.substr(1)), warps = true;
    else throw bad();
  }
  if (!stages || !warps) throw bad();
  c.validate();
  return c;
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
