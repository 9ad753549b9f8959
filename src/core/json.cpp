#include "gemmsift/json.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <initializer_list>

#include "core/json_util.h"
#include "gemmsift/error.h"

namespace gemmsift {

namespace detail {

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte_offset) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte_offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

void check_keys(const nlohmann::json& j, std::string_view where,
                std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (auto a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      std::vector<std::string> names;
      for (auto a : allowed) names.emplace_back(a);
      throw Error(ErrorCode::parse, fmt::format("{}/{}: unknown field; expected one of {}", where,
                                                it.key(), join(names, ", ")));
    }
  }
}

std::int64_t get_int(const nlohmann::json& j, std::string_view where, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end()) {
    throw Error(ErrorCode::parse, fmt::format("{}: missing field '{}'", where, key));
  }
  if (!it->is_number_integer()) {
    if (it->is_number_float()) {
      double v = it->get<double>();
      if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
        return static_cast<std::int64_t>(v);
      }
    }
    throw Error(ErrorCode::parse, fmt::format("{}/{}: expected an integer, got {}", where, key,
                                              describe(*it)));
  }
  return it->get<std::int64_t>();
}

std::string get_string(const nlohmann::json& j, std::string_view where, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end()) {
    throw Error(ErrorCode::parse, fmt::format("{}: missing field '{}'", where, key));
  }
  if (!it->is_string()) {
    throw Error(ErrorCode::parse, fmt::format("{}/{}: expected a string, got {}", where, key,
                                              describe(*it)));
  }
  return it->get<std::string>();
}

std::string describe(const nlohmann::json& v) {
  if (v.is_string()) {
    std::string s = v.dump();
    if (s.size() > 40) s = s.substr(0, 36) + "...\"";
    return "string " + s;
  }
  if (v.is_number() || v.is_boolean() || v.is_null()) return v.dump();
  return v.type_name();  // "object", "array", "binary"
}

std::string json_error_text(const nlohmann::json::parse_error& e) {
  std::string s = e.what();
  // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
  if (auto pos = s.find(": "); pos != std::string::npos) s = s.substr(pos + 2);
  if (s.find("ill-formed UTF-8") != std::string::npos) {
    return "invalid UTF-8 byte in a string (the file must be UTF-8)";
  }
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

std::size_t json_error_offset(std::string_view text, const nlohmann::json::parse_error& e) {
  std::size_t end = e.byte > 0 ? e.byte - 1 : 0;
  if (end >= text.size()) return end;
  // Walk back to the start of the token that ends at `end`.
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+'; };
  if (text[end] == '"') {
    std::size_t i = end;
    while (i > 0) {
      --i;
      if (text[i] == '"' && (i == 0 || text[i - 1] != '\\')) return i;
    }
    return end;
  }
  std::size_t i = end;
  while (i > 0 && is_word(text[i]) && is_word(text[i - 1])) --i;
  return i;
}

std::size_t overflowing_number_offset(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '-' ||
                                 text[j] == '+' || text[j] == '.' || text[j] == 'e' || text[j] == 'E')) {
        ++j;
      }
      auto v = parse_double(text.substr(i, j - i));
      if (!v || !std::isfinite(*v)) return i;
      i = j - 1;
    }
  }
  return 0;
}

// Rethrows an Error with `prefix` in front of its message (keeping the code).
[[noreturn]] void rethrow_with_prefix(const Error& e, std::string_view prefix) {
  throw Error(e.code(), fmt::format("{}{}", prefix, e.what()));
}

}  // namespace detail

nlohmann::json to_json(const Problem& p) {
  nlohmann::json j = {{"op", to_string(p.op)},         {"dtype", to_string(p.dtype)},
                      {"layout", to_string(p.layout)}, {"m", p.m},
                      {"n", p.n},                      {"k", p.k}};
  if (p.batch != 1) j["batch"] = p.batch;
  if (!p.device.empty()) j["device"] = p.device;
  return j;
}

nlohmann::json to_json(const Config& c) {
  return {{"template", to_string(c.tmpl)}, {"block_m", c.block_m},       {"block_n", c.block_n},
          {"block_k", c.block_k},          {"group_m", c.group_m},       {"num_stages", c.num_stages},
          {"num_warps", c.num_warps}};
}

nlohmann::json to_json(const Candidate& c) {
  nlohmann::json j = {{"config", to_json(c.config)}, {"source", to_string(c.source)}};
  j["model_rank"] = c.model_rank >= 0 ? nlohmann::json(c.model_rank) : nlohmann::json(nullptr);
  j["predicted_us"] =
      std::isfinite(c.predicted_us) ? nlohmann::json(c.predicted_us) : nlohmann::json(nullptr);
  if (!c.origin.empty()) j["origin"] = c.origin;
  return j;
}

nlohmann::json to_json(const Selection& s) {
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : s.candidates) cands.push_back(to_json(c));
  return {{"problem", to_json(s.problem)},
          {"candidates", std::move(cands)},
          {"search_space_size", s.search_space_size},
          {"default_count", s.default_count},
          {"model", s.model},
          {"skip_benchmark", s.skip_benchmark}};
}

Problem problem_from_json(const nlohmann::json& j, std::string_view where) {
  if (!j.is_object()) {
    throw Error(ErrorCode::parse,
                fmt::format("{}: expected a problem object, got {}", where.empty() ? "/" : where,
                            detail::describe(j)));
  }
  detail::check_keys(j, where, {"device", "op", "dtype", "layout", "m", "n", "k", "batch"});
  Problem p;
  auto enum_field = [&](std::string_view key, auto parse, auto& field) {
    if (!j.contains(key)) return;
    std::string v = detail::get_string(j, where, key);
    try {
      field = parse(v);
    } catch (const Error& e) {
      detail::rethrow_with_prefix(e, fmt::format("{}/{}: ", where, key));
    }
  };
  if (j.contains("device")) p.device = detail::get_string(j, where, "device");
  enum_field("op", parse_op, p.op);
  enum_field("dtype", parse_dtype, p.dtype);
  enum_field("layout", parse_layout, p.layout);
  p.m = detail::get_int(j, where, "m");
  p.n = detail::get_int(j, where, "n");
  p.k = detail::get_int(j, where, "k");
  if (j.contains("batch")) p.batch = detail::get_int(j, where, "batch");
  try {
    p.validate();
  } catch (const Error& e) {
    detail::rethrow_with_prefix(e, fmt::format("{}: ", where.empty() ? "/" : where));
  }
  return p;
}

Config config_from_json(const nlohmann::json& j, std::string_view where) {
  if (!j.is_object()) {
    throw Error(ErrorCode::parse,
                fmt::format("{}: expected a config object, got {}", where.empty() ? "/" : where,
                            detail::describe(j)));
  }
  detail::check_keys(j, where, {"template", "block_m", "block_n", "block_k", "group_m",
                                "num_stages", "num_warps"});
  Config c;
  if (j.contains("template")) {
    std::string t = detail::get_string(j, where, "template");
    try {
      c.tmpl = parse_template(t);
    } catch (const Error& e) {
      detail::rethrow_with_prefix(e, fmt::format("{}/template: ", where));
    }
  }
  auto field = [&](std::string_view key, int& out) {
    std::int64_t v = detail::get_int(j, where, key);
    if (v < -1000000 || v > 1000000) {
      throw Error(ErrorCode::parse, fmt::format("{}/{}: value {} out of range", where, key, v));
    }
    out = static_cast<int>(v);
  };
  field("block_m", c.block_m);
  field("block_n", c.block_n);
  field("block_k", c.block_k);
  if (j.contains("group_m")) field("group_m", c.group_m);
  field("num_stages", c.num_stages);
  field("num_warps", c.num_warps);
  try {
    c.validate();
  } catch (const Error& e) {
    // validate() names the field first ("block_m: expected ..."); make it a pointer.
    throw Error(ErrorCode::invalid_argument, fmt::format("{}/{}", where, e.what()));
  }
  return c;
}

nlohmann::json parse_json_text(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const std::size_t off = detail::json_error_offset(text, e);
    auto [line, col] = detail::line_column(text, off);
    std::string msg = detail::json_error_text(e);
    if (off >= text.size() || msg.find("end of input") != std::string::npos) {
      msg = "truncated: the input ends before the JSON is complete (" + msg + ")";
    }
    throw Error(ErrorCode::parse, fmt::format("{}:{}:{}: invalid JSON: {}", what, line, col, msg));
  } catch (const nlohmann::json::exception&) {
    // nlohmann reports a number too large for a double (out_of_range.406) without a position.
    const std::size_t off = detail::overflowing_number_offset(text);
    auto [line, col] = detail::line_column(text, off);
    throw Error(ErrorCode::parse,
                fmt::format("{}:{}:{}: invalid JSON: number out of range", what, line, col));
  }
}

}  // namespace gemmsift
