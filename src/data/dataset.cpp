#include "gemmsift/dataset.h"

#include <csv.h>
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_set>

#include "core/file_util.h"
#include "core/strings.h"
#include "gemmsift/device.h"
#include "gemmsift/error.h"
#include "gemmsift/space.h"

namespace gemmsift {

namespace {

const std::vector<std::string> kHeader = {
    "device", "op",      "dtype",   "layout",  "m",          "n",         "k",
    "batch",  "template", "block_m", "block_n", "block_k",    "group_m",   "num_stages",
    "num_warps", "status", "time_us_min", "time_us_median", "iterations", "note"};

// Whole file, gunzipped when it ends in .gz (zlib).
std::string read_maybe_gz(const std::string& path) {
  if (!path.ends_with(".gz")) return detail::read_file(path);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(ErrorCode::io, fmt::format("{}: cannot open", path));
  std::string out;
  char buf[1 << 16];
  while (true) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      std::string msg = gzerror(f, &err);
      gzclose(f);
      throw Error(ErrorCode::io, fmt::format("{}: gzip error: {}", path, msg));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  gzclose(f);
  return out;
}

// libcsv gives fields and record ends through callbacks.
struct Records {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> current;
};

void on_field(void* s, std::size_t len, void* data) {
  auto* r = static_cast<Records*>(data);
  r->current.emplace_back(static_cast<const char*>(s), len);
}

void on_record(int, void* data) {
  auto* r = static_cast<Records*>(data);
  r->rows.push_back(std::move(r->current));
  r->current.clear();
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& path) {
  csv_parser p{};
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
    throw Error(ErrorCode::internal, "csv_init failed");
  }
  Records r;
  std::size_t n = csv_parse(&p, text.data(), text.size(), on_field, on_record, &r);
  if (n != text.size() || csv_fini(&p, on_field, on_record, &r) != 0) {
    std::string what = csv_strerror(csv_error(&p));
    csv_free(&p);
    throw Error(ErrorCode::parse, fmt::format("{}:{}: malformed CSV: {}", path, r.rows.size() + 1, what));
  }
  csv_free(&p);
  return std::move(r.rows);
}

RowStatus parse_status(std::string_view s) {
  if (s == "ok") return RowStatus::ok;
  if (s == "abandoned") return RowStatus::abandoned;
  if (s == "compile_error") return RowStatus::compile_error;
  if (s == "launch_error") return RowStatus::launch_error;
  if (s == "wrong_result") return RowStatus::wrong_result;
  if (s == "timeout") return RowStatus::timeout;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("expected ok, abandoned, compile_error, launch_error, wrong_result or timeout, got '{}'", s));
}

std::string sidecar_path(const std::string& path) {
  std::string stem = path;
  for (const char* ext : {".gz", ".csv"}) {
    if (stem.ends_with(ext)) stem.resize(stem.size() - std::string_view(ext).size());
  }
  return stem + ".meta.json";
}

// One row, with errors naming the field.
struct RowParser {
  const std::string& path;
  std::size_t line;
  const std::vector<std::string>& f;

  [[noreturn]] void bad(std::size_t col, const std::string& what) const {
    throw Error(ErrorCode::parse, fmt::format("{}:{}: field '{}': {}", path, line, kHeader[col], what));
  }
  std::int64_t integer(std::size_t col) const {
    auto v = detail::parse_int<std::int64_t>(f[col]);
    if (!v) bad(col, fmt::format("expected an integer, got '{}'", f[col]));
    return *v;
  }
  std::optional<double> time(std::size_t col) const {
    if (f[col].empty()) return std::nullopt;
    auto v = detail::parse_double(f[col]);
    if (!v || !std::isfinite(*v) || *v <= 0) bad(col, fmt::format("expected a positive number of microseconds, got '{}'", f[col]));
    return v;
  }
};

}  // namespace

const std::vector<std::string>& dataset_header() { return kHeader; }

std::string_view to_string(RowStatus s) noexcept {
  switch (s) {
    case RowStatus::ok: return "ok";
    case RowStatus::abandoned: return "abandoned";
    case RowStatus::compile_error: return "compile_error";
    case RowStatus::launch_error: return "launch_error";
    case RowStatus::wrong_result: return "wrong_result";
    case RowStatus::timeout: return "timeout";
  }
  return "?";
}

std::optional<double> ProblemData::fastest_of(std::span<const Config> configs) const {
  std::optional<double> t;
  for (const auto& r : rows) {
    if (!r.timed() || (t && *t <= *r.time_us_min)) continue;
    if (std::find(configs.begin(), configs.end(), r.config) != configs.end()) t = r.time_us_min;
  }
  return t;
}

std::optional<double> ProblemData::best_us() const {
  std::optional<double> best;
  for (const auto& r : rows) {
    if (r.timed() && (!best || *r.time_us_min < *best)) best = r.time_us_min;
  }
  return best;
}

std::size_t Dataset::rows() const {
  std::size_t n = 0;
  for (const auto& p : problems) n += p.rows.size();
  return n;
}

Dataset load_dataset(const std::string& path) {
  Dataset d;
  d.path = path;
  const std::string meta_path = sidecar_path(path);
  d.meta = nlohmann::json::object();
  if (detail::file_exists(meta_path)) {
    try {
      d.meta = nlohmann::json::parse(detail::read_file(meta_path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(ErrorCode::parse, fmt::format("{}: invalid JSON: {}", meta_path, e.what()));
    }
  }
  auto records = parse_csv(read_maybe_gz(path), path);
  if (records.empty()) throw Error(ErrorCode::parse, fmt::format("{}:1: empty file, expected the header", path));
  if (records[0] != kHeader) {
    throw Error(ErrorCode::parse, fmt::format("{}:1: header is not gemmsift's dataset header ({})", path,
                                              detail::join(kHeader, ",")));
  }
  std::map<std::tuple<std::string, Op, DType, Layout, std::int64_t, std::int64_t, std::int64_t, std::int64_t>, std::size_t> index;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& f = records[i];
    const std::size_t line = i + 1;
    if (f.size() != kHeader.size()) {
      throw Error(ErrorCode::parse, fmt::format("{}:{}: {} fields, expected {}", path, line, f.size(), kHeader.size()));
    }
    RowParser rp{path, line, f};
    Problem p;
    p.device = f[0];
    auto enum_at = [&](std::size_t col, auto parse) {
      try {
        return parse(f[col]);
      } catch (const Error& e) {
        rp.bad(col, e.what());
      }
    };
    p.op = enum_at(1, parse_op);
    p.dtype = enum_at(2, parse_dtype);
    p.layout = enum_at(3, parse_layout);
    p.m = rp.integer(4);
    p.n = rp.integer(5);
    p.k = rp.integer(6);
    p.batch = rp.integer(7);
    try {
      p.validate();
    } catch (const Error& e) {
      throw Error(ErrorCode::parse, fmt::format("{}:{}: {}", path, line, e.what()));
    }
    Measurement m;
    m.config.tmpl = enum_at(8, parse_template);
    const char* names[] = {"block_m", "block_n", "block_k", "group_m", "num_stages", "num_warps"};
    int* fields[] = {&m.config.block_m, &m.config.block_n, &m.config.block_k, &m.config.group_m,
                     &m.config.num_stages, &m.config.num_warps};
    for (std::size_t j = 0; j < 6; ++j) {
      std::int64_t v = rp.integer(9 + j);
      std::string err = config_field_error(names[j], v);
      if (!err.empty()) rp.bad(9 + j, err);
      *fields[j] = static_cast<int>(v);
    }
    m.status = enum_at(15, parse_status);
    m.time_us_min = rp.time(16);
    m.time_us_median = rp.time(17);
    m.iterations = static_cast<int>(rp.integer(18));
    m.note = f[19];
    const bool timed = m.status == RowStatus::ok || m.status == RowStatus::abandoned;
    if (timed != m.time_us_min.has_value()) {
      rp.bad(16, timed ? fmt::format("a {} row needs a time", to_string(m.status))
                       : fmt::format("a {} row has no time, got '{}'", to_string(m.status), f[16]));
    }
    auto key = std::make_tuple(p.device, p.op, p.dtype, p.layout, p.m, p.n, p.k, p.batch);
    auto [it, inserted] = index.emplace(key, d.problems.size());
    if (inserted) d.problems.push_back(ProblemData{p, {}});
    d.problems[it->second].rows.push_back(std::move(m));
  }
  return d;
}

std::string kernel_sizes_of(const Dataset& d) {
  const auto it = d.meta.find("kernel_sizes");
  if (it == d.meta.end()) return "arguments";
  if (!it->is_string() || (*it != "arguments" && *it != "literal")) {
    throw Error(ErrorCode::invalid_argument, fmt::format("{}: kernel_sizes is {}, not \"arguments\" or \"literal\"",
                                                         sidecar_path(d.path), it->dump()));
  }
  return it->get<std::string>();
}

DatasetCheck check_dataset(const std::string& path) {
  DatasetCheck c;
  Dataset d;
  try {
    d = load_dataset(path);
  } catch (const Error& e) {
    c.errors.push_back(e.what());
    return c;
  }
  c.rows = d.rows();
  c.problems = d.problems.size();
  const std::string meta_path = sidecar_path(path);
  if (d.meta.empty()) {
    c.errors.push_back(fmt::format("{}: missing (the sidecar of {})", meta_path, path));
  } else {
    for (const char* key : {"device", "sm_count", "torch", "triton", "cuda", "timing", "date", "format", "format_version"}) {
      if (!d.meta.contains(key)) c.errors.push_back(fmt::format("{}: missing field '{}'", meta_path, key));
    }
    try {
      kernel_sizes_of(d);
    } catch (const Error& e) {
      c.errors.push_back(e.what());
    }
    if (d.meta.contains("rows") && d.meta["rows"].is_number_integer() &&
        d.meta["rows"].get<std::size_t>() != c.rows) {
      c.errors.push_back(fmt::format("{}: says {} rows, the data has {}", meta_path, d.meta["rows"].dump(), c.rows));
    }
  }
  const std::string meta_device = d.meta.value("device", std::string());
  for (const auto& pd : d.problems) {
    const Problem& p = pd.problem;
    if (!meta_device.empty() && p.device != meta_device) {
      c.errors.push_back(fmt::format("{}: {} was measured on '{}', the sidecar says '{}'", path, p.to_string(), p.device, meta_device));
    }
    auto dev = find_device(p.device);
    if (!dev) {
      c.errors.push_back(fmt::format("{}: {}: unknown device '{}': cannot check the physical floor", path, p.to_string(), p.device));
    }
    std::unordered_set<Config, ConfigHash> seen;
    for (const auto& r : pd.rows) {
      if (!seen.insert(r.config).second) {
        c.errors.push_back(fmt::format("{}: {} config {} appears twice", path, p.to_string(), r.config.to_string()));
      }
      if (dev && r.time_us_min) {
        // The most generous peak (TF32 for fp32): a time under this floor cannot be real.
        const double peak = p.dtype == DType::fp32 ? dev->peak_flops_tf32 : dev->peak_flops(p.dtype);
        const double floor_us = std::max(p.flops() / peak, p.min_bytes() / dev->mem_bandwidth) * 1e6;
        if (*r.time_us_min < floor_us) {
          c.errors.push_back(fmt::format("{}: {} config {}: {} us is below the physical floor of {:.3f} us on {}",
                                         path, p.to_string(), r.config.to_string(), *r.time_us_min, floor_us, dev->name));
        }
        if (r.time_us_median && *r.time_us_median < *r.time_us_min) {
          c.errors.push_back(fmt::format("{}: {} config {}: median {} us below the minimum {} us", path,
                                         p.to_string(), r.config.to_string(), *r.time_us_median, *r.time_us_min));
        }
      }
    }
  }
  return c;
}

}  // namespace gemmsift
