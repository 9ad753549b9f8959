// Conversion to and from torch 2.11's torch._inductor.config.lookup_table.table
// (torch/_inductor/lookup_table/choices.py: key "[device+]input_key[+scalars]+op", values are
// template parameter dicts with a "template_id").
#include <fmt/format.h>

#include <cctype>

#include "core/strings.h"
#include "gemmsift/error.h"
#include "gemmsift/lut.h"

namespace gemmsift {

namespace {

std::string_view torch_dtype(DType d) {
  switch (d) {
    case DType::bf16: return "torch.bfloat16";
    case DType::fp16: return "torch.float16";
    case DType::fp32: return "torch.float32";
  }
  return "?";
}

std::string list(std::initializer_list<std::int64_t> v) {
  std::string s = "[";
  bool first = true;
  for (auto x : v) {
    if (!first) s += ", ";
    s += std::to_string(x);
    first = false;
  }
  return s + "]";
}

std::string node(DType d, const std::string& shape, const std::string& stride) {
  return fmt::format("({}, {}, {})", torch_dtype(d), shape, stride);
}

// Operand shapes and strides as Inductor sees the inputs of torch.mm / addmm / bmm on contiguous
// tensors: N = row-major, T = the transpose of a row-major tensor.
std::string a_node(const Problem& p) {
  const bool t = a_transposed(p.layout);
  if (p.op == Op::bmm) {
    return node(p.dtype, list({p.batch, p.m, p.k}), t ? list({p.m * p.k, 1, p.m}) : list({p.m * p.k, p.k, 1}));
  }
  return node(p.dtype, list({p.m, p.k}), t ? list({1, p.m}) : list({p.k, 1}));
}

std::string b_node(const Problem& p) {
  const bool t = b_transposed(p.layout);
  if (p.op == Op::bmm) {
    return node(p.dtype, list({p.batch, p.k, p.n}), t ? list({p.k * p.n, 1, p.k}) : list({p.k * p.n, p.n, 1}));
  }
  return node(p.dtype, list({p.k, p.n}), t ? list({1, p.k}) : list({p.n, 1}));
}

nlohmann::json torch_config(const Problem& p, const Config& c) {
  return {{"template_id", p.op == Op::bmm ? "triton::bmm" : "triton::mm"},
          {"EVEN_K", p.k % c.block_k == 0},
          {"USE_FAST_ACCUM", false},
          {"ACC_TYPE", "tl.float32"},
          {"num_stages", c.num_stages},
          {"num_warps", c.num_warps},
          {"BLOCK_M", c.block_m},
          {"BLOCK_N", c.block_n},
          {"BLOCK_K", c.block_k},
          {"hint_override", nullptr},
          {"GROUP_M", c.group_m}};
}

// ---- parsing torch keys ----

struct Node {
  DType dtype;
  std::vector<std::int64_t> shape, stride;
};

class KeyParser {
 public:
  explicit KeyParser(std::string_view s) : s_(s) {}
  [[noreturn]] void bad(const std::string& what) const {
    throw Error(ErrorCode::parse, fmt::format("{} at character {}", what, pos_ + 1));
  }
  void ws() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  void expect(char c) {
    ws();
    if (pos_ >= s_.size() || s_[pos_] != c) bad(fmt::format("expected '{}'", c));
    ++pos_;
  }
  bool peek(char c) {
    ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  std::vector<std::int64_t> ints() {
    expect('[');
    std::vector<std::int64_t> v;
    while (!peek(']')) {
      ws();
      std::size_t start = pos_;
      if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      auto x = detail::parse_int<std::int64_t>(s_.substr(start, pos_ - start));
      if (!x) bad("expected an integer");
      v.push_back(*x);
      if (peek(',')) ++pos_;
    }
    expect(']');
    return v;
  }
  Node node() {
    expect('(');
    ws();
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ',') ++pos_;
    std::string_view dt = detail::trim(s_.substr(start, pos_ - start));
    Node n{};
    if (dt == "torch.bfloat16") n.dtype = DType::bf16;
    else if (dt == "torch.float16") n.dtype = DType::fp16;
    else if (dt == "torch.float32") n.dtype = DType::fp32;
    else throw Error(ErrorCode::unsupported, fmt::format("dtype {} is not supported (bf16, fp16, fp32)", dt));
    expect(',');
    n.shape = ints();
    expect(',');
    n.stride = ints();
    expect(')');
    return n;
  }
  std::vector<Node> nodes() {
    expect('(');
    std::vector<Node> v;
    while (!peek(')')) {
      v.push_back(node());
      if (peek(',')) ++pos_;
    }
    expect(')');
    return v;
  }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// 'N' when the last dim is contiguous, 'T' when the one before is; size-1 dims are ambiguous and
// read as N.
char layout_of(const Node& n, const std::string& which) {
  const std::size_t r = n.shape.size();
  if (n.stride[r - 1] == 1 || n.shape[r - 1] == 1) return 'N';
  if (n.stride[r - 2] == 1 || n.shape[r - 2] == 1) return 'T';
  throw Error(ErrorCode::unsupported,
              fmt::format("{} has strides {} with no contiguous dimension", which, list({n.stride[r - 2], n.stride[r - 1]})));
}

Problem problem_from_key(const std::string& key, std::string* device) {
  auto open = key.find("((");
  if (open == std::string::npos) throw Error(ErrorCode::parse, "no input tuple '((' in the key");
  *device = "";
  if (open > 0) {
    if (key[open - 1] != '+') throw Error(ErrorCode::parse, "expected '+' between the device and the inputs");
    *device = key.substr(0, open - 1);
  }
  KeyParser kp(std::string_view(key).substr(open));
  auto nodes = kp.nodes();
  std::string_view rest = std::string_view(key).substr(open + kp.pos());
  if (rest.empty() || rest[0] != '+') throw Error(ErrorCode::parse, "expected '+op' after the inputs");
  auto parts = detail::split(rest.substr(1), '+');
  std::string op_name(parts.back());
  Problem p;
  p.device = *device;
  p.op = parse_op(op_name);
  std::vector<Node> mats = nodes;
  if (p.op == Op::addmm) {
    if (nodes.size() != 3) throw Error(ErrorCode::parse, fmt::format("addmm needs 3 inputs, got {}", nodes.size()));
    mats.erase(mats.begin());  // the bias
  } else if (nodes.size() != 2) {
    throw Error(ErrorCode::parse, fmt::format("{} needs 2 inputs, got {}", op_name, nodes.size()));
  }
  const std::size_t rank = p.op == Op::bmm ? 3 : 2;
  for (const auto& n : mats) {
    if (n.shape.size() != rank || n.stride.size() != rank) {
      throw Error(ErrorCode::parse, fmt::format("{} inputs must have {} dimensions", op_name, rank));
    }
  }
  const Node& a = mats[0];
  const Node& b = mats[1];
  if (a.dtype != b.dtype) throw Error(ErrorCode::unsupported, "mixed input dtypes are not supported");
  p.dtype = a.dtype;
  p.m = a.shape[rank - 2];
  p.k = a.shape[rank - 1];
  p.n = b.shape[rank - 1];
  if (b.shape[rank - 2] != p.k) {
    throw Error(ErrorCode::parse, fmt::format("inner dimensions differ: A has K={}, B has {}", p.k, b.shape[rank - 2]));
  }
  if (p.op == Op::bmm) p.batch = a.shape[0];
  std::string layout{layout_of(a, "A"), layout_of(b, "B")};
  p.layout = parse_layout(layout);
  p.validate();
  return p;
}

std::int64_t int_param(const nlohmann::json& c, const char* key, std::int64_t fallback, bool required) {
  auto it = c.find(key);
  if (it == c.end()) {
    if (required) throw Error(ErrorCode::parse, fmt::format("missing {}", key));
    return fallback;
  }
  if (!it->is_number_integer()) throw Error(ErrorCode::parse, fmt::format("{} is not an integer", key));
  return it->get<std::int64_t>();
}

}  // namespace

std::string torch_input_key(const Problem& p) {
  p.validate();
  if (p.op == Op::addmm) {
    // Inductor sees the broadcast bias of nn.Linear as an [M, N] input with strides [0, 1].
    return fmt::format("({}, {}, {})", node(p.dtype, list({p.m, p.n}), list({0, 1})), a_node(p), b_node(p));
  }
  return fmt::format("({}, {})", a_node(p), b_node(p));
}

std::string torch_lookup_key(const Problem& p, std::string_view device_key) {
  std::string key = torch_input_key(p);
  if (p.op == Op::addmm) key += "+alpha=1&beta=1";
  key += "+";
  key += to_string(p.op);
  if (!device_key.empty()) key = fmt::format("{}+{}", device_key, key);
  return key;
}

nlohmann::json to_torch_table(const LookupTable& table, const TorchExportOptions& options) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& e : table.entries()) {
    std::string dev;
    if (!options.agnostic && !e.problem.device.empty()) {
      dev = options.device_key.empty() ? e.problem.device : options.device_key;
    }
    std::string key = torch_lookup_key(e.problem, dev);
    if (out.contains(key)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("two entries map to the same torch key {} (use separate tables per device)", key));
    }
    nlohmann::json configs = nlohmann::json::array();
    for (const auto& c : e.configs) configs.push_back(torch_config(e.problem, c.config));
    out[key] = std::move(configs);
  }
  return out;
}

LookupTable from_torch_table(const nlohmann::json& table, const std::string& name,
                             std::vector<std::string>* warnings) {
  auto emit = [&](const std::string& m) {
    if (warnings) warnings->push_back(m);
    else warn(m);
  };
  if (!table.is_object()) {
    throw Error(ErrorCode::parse, fmt::format("{}: expected a torch lookup table (a JSON object of key: [configs]), got {}",
                                              name, table.type_name()));
  }
  LookupTable out;
  out.set_name(name);
  for (auto it = table.begin(); it != table.end(); ++it) {
    const std::string& key = it.key();
    LutEntry e;
    std::string device;
    try {
      e.problem = problem_from_key(key, &device);
    } catch (const Error& err) {
      emit(fmt::format("{}: key \"{}\": {} (entry skipped)", name, key, err.what()));
      continue;
    }
    if (!it->is_array()) {
      emit(fmt::format("{}: key \"{}\": expected a list of configs (entry skipped)", name, key));
      continue;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& c = (*it)[i];
      std::string tid = c.is_object() && c.contains("template_id") && c["template_id"].is_string()
                            ? c["template_id"].get<std::string>()
                            : "";
      if (tid != "triton::mm" && tid != "triton::bmm") {
        emit(fmt::format("{}: key \"{}\" config {}: template '{}' is not one gemmsift models (config skipped)",
                         name, key, i, tid));
        continue;
      }
      try {
        LutConfig lc;
        lc.config.block_m = static_cast<int>(int_param(c, "BLOCK_M", 0, true));
        lc.config.block_n = static_cast<int>(int_param(c, "BLOCK_N", 0, true));
        lc.config.block_k = static_cast<int>(int_param(c, "BLOCK_K", 0, true));
        lc.config.group_m = static_cast<int>(int_param(c, "GROUP_M", 8, false));
        lc.config.num_stages = static_cast<int>(int_param(c, "num_stages", 0, true));
        lc.config.num_warps = static_cast<int>(int_param(c, "num_warps", 0, true));
        lc.config.validate();
        lc.source = "torch lookup table";
        bool dup = false;
        for (const auto& have : e.configs) dup = dup || have.config == lc.config;
        if (!dup) e.configs.push_back(lc);
      } catch (const Error& err) {
        emit(fmt::format("{}: key \"{}\" config {}: {} (config skipped)", name, key, i, err.what()));
      }
    }
    if (e.configs.empty()) {
      emit(fmt::format("{}: key \"{}\": no triton mm config gemmsift can use (entry skipped)", name, key));
      continue;
    }
    if (out.find_exact(e.problem)) {
      emit(fmt::format("{}: key \"{}\": same problem as an earlier key (entry skipped)", name, key));
      continue;
    }
    out.add(std::move(e));
  }
  return out;
}

}  // namespace gemmsift
