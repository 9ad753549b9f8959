// Parsing lookup tables, with errors that name file:line:column, the JSON pointer, what was
// expected and what was found.
//
// simdjson parses the text (a 100,000-entry table is tens of megabytes); the checks below walk
// its DOM. Positions are found only when there is something to report (core/json_walk.h), and
// malformed JSON is re-parsed with nlohmann::json for its exact message and place.
#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cmath>
#include <functional>

#include "core/file_util.h"
#include "core/json_util.h"
#include "core/json_walk.h"
#include "core/strings.h"
#include "gemmsift/error.h"
#include "gemmsift/json.h"
#include "gemmsift/lut.h"

namespace gemmsift {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// A place in the document, as a chain of tokens; the JSON pointer text is built only when there
// is something to report, so the happy path allocates nothing for it.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;

  Path child(std::string_view k) const { return Path{this, k, 0, false}; }
  Path item(std::size_t i) const { return Path{this, {}, i, true}; }
  std::string str() const {
    if (!parent) return {};
    std::string s = parent->str();
    s += '/';
    s += is_index ? std::to_string(index) : detail::pointer_token(key);
    return s;
  }
};

// An error at a JSON pointer; the caller turns it into "file:line:col pointer: message".
struct AtPointer {
  std::string pointer;
  std::string message;
  ErrorCode code = ErrorCode::invalid_argument;
  std::optional<std::size_t> offset;  // where to point, when not at the pointer's value
};

[[noreturn]] void fail(const Path& at, std::string message, ErrorCode code = ErrorCode::invalid_argument) {
  throw AtPointer{at.str(), std::move(message), code, std::nullopt};
}

class Locator {
 public:
  Locator(std::string_view text, std::string name) : text_(text), name_(std::move(name)) {}

  // "file:line:col pointer" of an error; a missing value is located at its nearest parent.
  std::string where(const AtPointer& e) const {
    if (e.offset) return at(*e.offset, e.pointer);
    std::string p = e.pointer;
    while (true) {
      if (auto off = detail::find_value_offset(text_, p)) return at(*off, e.pointer);
      if (p.empty()) return at(0, e.pointer);
      p.resize(p.rfind('/'));
    }
  }
  std::string at(std::size_t offset, const std::string& pointer) const {
    auto [line, col] = detail::line_column(text_, offset);
    return fmt::format("{}:{}:{} {}", name_, line, col, pointer.empty() ? "/" : pointer);
  }
  std::string line_col(std::size_t offset) const {
    auto [line, col] = detail::line_column(text_, offset);
    return fmt::format("{}:{}", line, col);
  }
  std::string line_col(const std::string& pointer) const {
    return line_col(detail::find_value_offset(text_, pointer).value_or(0));
  }

  // A field repeated within an object: point at the repeat's key, name the first one.
  [[noreturn]] void duplicate_field(const Path& at) const {
    const std::string pointer = at.str();
    for (const auto& d : detail::find_duplicate_keys(text_)) {
      if (d.pointer == pointer) {
        throw AtPointer{pointer, fmt::format("duplicate field; first at {}", line_col(d.first_offset)),
                        ErrorCode::parse, d.second_offset};
      }
    }
    throw AtPointer{pointer, "duplicate field", ErrorCode::parse, std::nullopt};
  }

 private:
  std::string_view text_;
  std::string name_;
};

// `string "abc"`, `48`, `object`, as detail::describe does for nlohmann values.
std::string found(const element& v) {
  switch (v.type()) {
    case element_type::OBJECT: return "object";
    case element_type::ARRAY: return "array";
    case element_type::STRING: {
      std::string s = simdjson::minify(v);
      if (s.size() > 40) s = s.substr(0, 36) + "...\"";
      return "string " + s;
    }
    default: return simdjson::minify(v);
  }
}

using Warn = std::function<void(const Path& at, const std::string& message)>;

// The members of an object, checked for unknown and repeated keys. Table objects are small: the
// known members live in a fixed array.
class Fields {
 public:
  Fields(const element& v, const Path& at, std::initializer_list<const char*> known, bool strict,
         const Warn& warn_unknown, const Locator& loc)
      : at_(at) {
    const simdjson::dom::object obj = v.get_object().value_unsafe();
    for (auto field : obj) {
      const std::string_view key = field.key;
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      for (std::size_t i = 0; i < count_; ++i) {
        if (members_[i].first == key) loc.duplicate_field(at.child(key));
      }
      if (!ok) {
        // An unknown key may repeat as well; it is ambiguous all the same.
        for (const auto& u : unknown_) {
          if (u == key) loc.duplicate_field(at.child(key));
        }
        unknown_.push_back(key);
        std::vector<std::string> names(known.begin(), known.end());
        std::string msg = fmt::format("unknown field '{}' (known: {})", key, detail::join(names, ", "));
        if (strict) fail(at.child(key), msg, ErrorCode::parse);
        warn_unknown(at.child(key), msg);
        continue;
      }
      members_[count_++] = {key, field.value};  // known keys are distinct: at most known.size()
    }
  }
  const element* find(std::string_view key) const {
    for (std::size_t i = 0; i < count_; ++i) {
      if (members_[i].first == key) return &members_[i].second;
    }
    return nullptr;
  }
  const element& require(const char* key, std::string_view expected) const {
    if (const element* v = find(key)) return *v;
    fail(at_, fmt::format("missing field '{}' ({})", key, expected));
  }

 private:
  const Path& at_;
  std::array<std::pair<std::string_view, element>, 16> members_{};
  std::size_t count_ = 0;
  std::vector<std::string_view> unknown_;
};

std::int64_t positive_int(const element& v, const Path& at) {
  std::int64_t x = 0;
  if (v.type() == element_type::INT64 && v.get_int64().get(x) == simdjson::SUCCESS && x >= 1) return x;
  fail(at, fmt::format("expected a positive integer, got {}", found(v)));
}

std::string string_field(const element& v, const Path& at) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) fail(at, fmt::format("expected a string, got {}", found(v)));
  return std::string(s);
}

template <typename Parse>
auto enum_field(const element& v, const Path& at, const char* choices, Parse parse) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) fail(at, fmt::format("expected {}, got {}", choices, found(v)));
  try {
    return parse(s);
  } catch (const Error&) {
    fail(at, fmt::format("expected {}, got {}", choices, found(v)));
  }
}

struct Context {
  bool strict;
  const Warn& warn_unknown;
  const Locator& loc;
};

Problem parse_problem(const element& v, const Path& at, const Context& cx) {
  if (v.type() != element_type::OBJECT) fail(at, fmt::format("expected a problem object, got {}", found(v)));
  Fields f(v, at, {"device", "op", "dtype", "layout", "m", "n", "k", "batch"}, cx.strict, cx.warn_unknown, cx.loc);
  Problem p;
  if (auto d = f.find("device")) p.device = string_field(*d, at.child("device"));
  if (auto o = f.find("op")) p.op = enum_field(*o, at.child("op"), "mm, addmm or bmm", parse_op);
  p.dtype = enum_field(f.require("dtype", "bf16, fp16 or fp32"), at.child("dtype"), "bf16, fp16 or fp32", parse_dtype);
  p.layout = enum_field(f.require("layout", "NN, NT, TN or TT"), at.child("layout"), "NN, NT, TN or TT", parse_layout);
  p.m = positive_int(f.require("m", "a positive integer"), at.child("m"));
  p.n = positive_int(f.require("n", "a positive integer"), at.child("n"));
  p.k = positive_int(f.require("k", "a positive integer"), at.child("k"));
  if (auto b = f.find("batch")) p.batch = positive_int(*b, at.child("batch"));
  if (p.op != Op::bmm && p.batch != 1) {
    fail(at.child("batch"), fmt::format("expected 1 for op {} (batch is for bmm), got {}", to_string(p.op), p.batch));
  }
  return p;
}

LutConfig parse_config(const element& v, const Path& at, const Context& cx) {
  if (v.type() != element_type::OBJECT) fail(at, fmt::format("expected a config object, got {}", found(v)));
  Fields f(v, at, {"template", "block_m", "block_n", "block_k", "group_m", "num_stages", "num_warps",
                   "measured_us", "source", "date", "note"},
           cx.strict, cx.warn_unknown, cx.loc);
  LutConfig c;
  if (auto t = f.find("template")) c.config.tmpl = enum_field(*t, at.child("template"), "triton_mm", parse_template);
  auto field = [&](const char* key, int& out, bool required) {
    const element* x = f.find(key);
    if (!x) {
      if (required) fail(at, fmt::format("missing field '{}' ({})", key, config_field_expectation(key)));
      return;
    }
    std::int64_t value = 0;
    if (x->type() != element_type::INT64 || x->get_int64().get(value) != simdjson::SUCCESS) {
      fail(at.child(key), fmt::format("expected {}, got {}", config_field_expectation(key), found(*x)));
    }
    std::string err = config_field_error(key, value);
    if (!err.empty()) fail(at.child(key), err);
    out = static_cast<int>(value);
  };
  field("block_m", c.config.block_m, true);
  field("block_n", c.config.block_n, true);
  field("block_k", c.config.block_k, true);
  field("group_m", c.config.group_m, false);
  field("num_stages", c.config.num_stages, true);
  field("num_warps", c.config.num_warps, true);
  if (auto x = f.find("measured_us")) {
    double us = 0;
    bool ok = x->is_number() && x->get_double().get(us) == simdjson::SUCCESS && us > 0 && std::isfinite(us);
    if (!ok) fail(at.child("measured_us"), fmt::format("expected a positive number of microseconds, got {}", found(*x)));
    c.measured_us = us;
  }
  if (auto x = f.find("source")) c.source = string_field(*x, at.child("source"));
  if (auto x = f.find("note")) c.note = string_field(*x, at.child("note"));
  if (auto x = f.find("date")) {
    c.date = string_field(*x, at.child("date"));
    const std::string& d = c.date;
    bool ok = d.size() >= 10 && d[4] == '-' && d[7] == '-';
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) ok = ok && std::isdigit(static_cast<unsigned char>(d[i]));
    if (!ok) fail(at.child("date"), fmt::format("expected an ISO 8601 date (YYYY-MM-DD...), got {}", found(*x)));
  }
  return c;
}

LutEntry parse_entry(const element& v, const Path& at, const Context& cx) {
  if (v.type() != element_type::OBJECT) {
    fail(at, fmt::format("expected an entry object with \"problem\" and \"configs\", got {}", found(v)));
  }
  Fields f(v, at, {"problem", "configs", "note"}, cx.strict, cx.warn_unknown, cx.loc);
  LutEntry e;
  e.problem = parse_problem(f.require("problem", "an object"), at.child("problem"), cx);
  const element& cs = f.require("configs", "a non-empty array of configs");
  const Path cat = at.child("configs");
  if (cs.type() != element_type::ARRAY) fail(cat, fmt::format("expected an array of configs, got {}", found(cs)));
  const simdjson::dom::array arr = cs.get_array().value_unsafe();
  if (arr.size() == 0) fail(cat, "expected at least one config, got an empty array");
  std::size_t i = 0;
  for (element c : arr) {
    const Path item = cat.item(i);
    LutConfig lc = parse_config(c, item, cx);
    for (std::size_t j = 0; j < e.configs.size(); ++j) {
      if (e.configs[j].config == lc.config) {
        const std::string first = cat.item(j).str();
        fail(item, fmt::format("duplicate config {}; first at {} {}", lc.config.to_string(), cx.loc.line_col(first), first));
      }
    }
    e.configs.push_back(std::move(lc));
    ++i;
  }
  if (auto n = f.find("note")) e.note = string_field(*n, at.child("note"));
  return e;
}

// simdjson says only that the JSON is malformed; nlohmann says what and where.
[[noreturn]] void malformed(std::string_view text, const std::string& name, simdjson::error_code code) {
  parse_json_text(text, name);  // throws with line:column
  throw Error(ErrorCode::parse, fmt::format("{}: invalid JSON: {}", name, simdjson::error_message(code)));
}

}  // namespace

LookupTable LookupTable::parse(std::string_view text, const std::string& name,
                               const LutLoadOptions& options, std::vector<std::string>* warnings) {
  return parse_text(text, name, options, warnings, false);
}

LookupTable LookupTable::parse_text(std::string_view text, const std::string& name,
                                    const LutLoadOptions& options, std::vector<std::string>* warnings,
                                    bool padded) {
  Locator loc(text, name);
  auto emit = [&](const std::string& message) {
    if (warnings) warnings->push_back(message);
    else warn(message);
  };
  simdjson::dom::parser parser;
  element root;
  if (auto code = parser.parse(text.data(), text.size(), !padded).get(root); code != simdjson::SUCCESS) {
    malformed(text, name, code);
  }

  LookupTable table;
  table.set_name(name);
  const Path top;
  Warn warn_unknown = [&](const Path& at, const std::string& m) {
    emit(fmt::format("{}: {}", loc.where(AtPointer{at.str(), "", ErrorCode::parse, std::nullopt}), m));
  };
  const Context cx{options.strict, warn_unknown, loc};
  try {
    if (root.type() != element_type::OBJECT) {
      fail(top, fmt::format("expected a JSON object with \"gemmsift_lut\" and \"entries\", got {}", found(root)),
           ErrorCode::parse);
    }
    Fields f(root, top, {"gemmsift_lut", "entries"}, options.strict, warn_unknown, loc);
    const element* ver = f.find("gemmsift_lut");
    if (!ver) {
      fail(top, fmt::format("missing field 'gemmsift_lut' (the format version; supported: {})", kLutFormatVersion),
           ErrorCode::parse);
    }
    std::int64_t v = 0;
    if (ver->type() != element_type::INT64 || ver->get_int64().get(v) != simdjson::SUCCESS || v != kLutFormatVersion) {
      fail(top.child("gemmsift_lut"),
           fmt::format("unsupported version {}; supported versions: {}", found(*ver), kLutFormatVersion),
           ErrorCode::mismatch);
    }
    const element* entries = f.find("entries");
    if (!entries) fail(top, "missing field 'entries' (an array of entries)", ErrorCode::parse);
    const Path eat = top.child("entries");
    if (entries->type() != element_type::ARRAY) {
      fail(eat, fmt::format("expected an array of entries, got {}", found(*entries)), ErrorCode::parse);
    }
    std::vector<std::size_t> file_index;  // table position -> index in the file
    std::size_t i = 0;
    const simdjson::dom::array list = entries->get_array().value_unsafe();
    for (element ev : list) {
      const Path at = eat.item(i);
      try {
        LutEntry e = parse_entry(ev, at, cx);
        if (const LutEntry* first = table.find_exact(e.problem)) {
          const std::string fp =
              eat.item(file_index[static_cast<std::size_t>(first - table.entries_.data())]).child("problem").str();
          fail(at.child("problem"),
               fmt::format("duplicate problem {}; first at {} {}", e.problem.to_string(), loc.line_col(fp), fp));
        }
        table.add(std::move(e));
        file_index.push_back(i);
      } catch (const AtPointer& e) {
        if (options.strict) throw;
        emit(fmt::format("{}: {} (entry skipped)", loc.where(e), e.message));
      }
      ++i;
    }
  } catch (const AtPointer& e) {
    throw Error(e.code, fmt::format("{}: {}", loc.where(e), e.message));
  }
  return table;
}

LutConfig lut_config_from_json(const nlohmann::json& j, std::string_view where) {
  const std::string text = j.dump();
  simdjson::dom::parser parser;
  element v;
  if (parser.parse(text).get(v) != simdjson::SUCCESS) {
    throw Error(ErrorCode::parse, fmt::format("{}: invalid JSON", where.empty() ? "/" : where));
  }
  Locator loc(text, "config");
  Warn none = [](const Path&, const std::string&) {};
  const Path root;
  const Path at = root.child(where.empty() ? std::string_view() : where);
  try {
    return parse_config(v, where.empty() ? root : at, Context{true, none, loc});
  } catch (const AtPointer& e) {
    // The pointer starts with "/<where>": show it as "<where>/..." (where is a name, not a key).
    std::string p = e.pointer;
    if (!where.empty() && p.rfind("/" + std::string(where), 0) == 0) p = p.substr(1);
    throw Error(e.code, fmt::format("{}: {}", p.empty() ? "/" : p, e.message));
  }
}

LookupTable LookupTable::load(const std::string& path, const LutLoadOptions& options,
                              std::vector<std::string>* warnings) {
  // simdjson's padded reader leaves the padding it needs after the text (no copy, no zero fill).
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text) != simdjson::SUCCESS) {
    detail::read_file(path);  // throws Error(io) with the reason
    throw Error(ErrorCode::io, fmt::format("{}: cannot read", path));
  }
  return parse_text(std::string_view(text.data(), text.size()), path, options, warnings, true);
}

}  // namespace gemmsift
