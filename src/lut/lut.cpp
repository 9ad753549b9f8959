#include "gemmsift/lut.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/file_util.h"
#include "core/strings.h"
#include "gemmsift/device.h"
#include "gemmsift/error.h"
#include "gemmsift/json.h"

namespace gemmsift {

std::string lut_device_key(std::string_view device) {
  std::string_view d = detail::trim(device);
  if (d.empty()) return {};
  // Tables repeat a handful of device names many times: remember what each one resolved to.
  thread_local std::unordered_map<std::string, std::string> cache;
  if (auto it = cache.find(std::string(d)); it != cache.end()) return it->second;
  std::string key = detail::lower(d);
  if (auto known = find_device(d)) key = known->name;
  if (cache.size() > 256) cache.clear();
  cache.emplace(std::string(d), key);
  return key;
}

LookupTable::Key LookupTable::key_of(const Problem& p, bool with_device) {
  return Key{with_device ? lut_device_key(p.device) : std::string(), p.op, p.dtype, p.layout, p.m, p.n, p.k, p.batch};
}

std::size_t LookupTable::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t h = std::hash<std::string>{}(k.device);
  for (std::uint64_t v : {static_cast<std::uint64_t>(k.op) | static_cast<std::uint64_t>(k.dtype) << 8 |
                              static_cast<std::uint64_t>(k.layout) << 16,
                          static_cast<std::uint64_t>(k.m), static_cast<std::uint64_t>(k.n),
                          static_cast<std::uint64_t>(k.k), static_cast<std::uint64_t>(k.batch)}) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return static_cast<std::size_t>(h);
}

const LutEntry* LookupTable::find(const Problem& problem) const {
  Key key = key_of(problem, true);
  if (!key.device.empty()) {
    if (auto it = index_.find(key); it != index_.end()) return &entries_[it->second];
    key.device.clear();
  }
  if (auto it = index_.find(key); it != index_.end()) return &entries_[it->second];
  return nullptr;
}

const LutEntry* LookupTable::find_exact(const Problem& problem) const {
  auto it = index_.find(key_of(problem, true));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

void LookupTable::put(LutEntry entry) {
  auto it = index_.find(key_of(entry.problem, true));
  if (it == index_.end()) {
    add(std::move(entry));
    return;
  }
  if (entry.configs.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lookup table entry {} has no configs", entry.problem.to_string()));
  }
  entries_[it->second] = std::move(entry);
}

void LookupTable::add(LutEntry entry) {
  entry.problem.validate();
  if (entry.configs.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lookup table entry {} has no configs", entry.problem.to_string()));
  }
  Key key = key_of(entry.problem, true);
  if (index_.count(key)) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lookup table already has an entry for {}", entry.problem.to_string()));
  }
  index_.emplace(std::move(key), entries_.size());
  entries_.push_back(std::move(entry));
}

namespace {

void sort_by_time(std::vector<LutConfig>& configs) {
  std::stable_sort(configs.begin(), configs.end(), [](const LutConfig& a, const LutConfig& b) {
    double ta = a.measured_us.value_or(std::numeric_limits<double>::infinity());
    double tb = b.measured_us.value_or(std::numeric_limits<double>::infinity());
    return ta < tb;
  });
}

auto sort_key(const LutEntry& e) {
  return std::make_tuple(lut_device_key(e.problem.device), e.problem.device, e.problem.op,
                         e.problem.dtype, e.problem.layout, e.problem.m, e.problem.n, e.problem.k,
                         e.problem.batch);
}

std::vector<const LutEntry*> sorted(const std::vector<LutEntry>& entries) {
  std::vector<const LutEntry*> v;
  v.reserve(entries.size());
  for (const auto& e : entries) v.push_back(&e);
  std::stable_sort(v.begin(), v.end(), [](const LutEntry* a, const LutEntry* b) { return sort_key(*a) < sort_key(*b); });
  return v;
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

std::string problem_line(const Problem& p) {
  std::string s = "{";
  if (!p.device.empty()) s += fmt::format("\"device\": {}, ", quoted(p.device));
  s += fmt::format("\"op\": \"{}\", \"dtype\": \"{}\", \"layout\": \"{}\", \"m\": {}, \"n\": {}, \"k\": {}",
                   to_string(p.op), to_string(p.dtype), to_string(p.layout), p.m, p.n, p.k);
  if (p.batch != 1) s += fmt::format(", \"batch\": {}", p.batch);
  return s + "}";
}

std::string config_line(const LutConfig& c) {
  const Config& k = c.config;
  std::string s = fmt::format(
      "{{\"template\": \"{}\", \"block_m\": {}, \"block_n\": {}, \"block_k\": {}, \"group_m\": {}, "
      "\"num_stages\": {}, \"num_warps\": {}",
      to_string(k.tmpl), k.block_m, k.block_n, k.block_k, k.group_m, k.num_stages, k.num_warps);
  if (c.measured_us) s += fmt::format(", \"measured_us\": {}", nlohmann::json(*c.measured_us).dump());
  if (!c.source.empty()) s += fmt::format(", \"source\": {}", quoted(c.source));
  if (!c.date.empty()) s += fmt::format(", \"date\": {}", quoted(c.date));
  if (!c.note.empty()) s += fmt::format(", \"note\": {}", quoted(c.note));
  return s + "}";
}

}  // namespace

nlohmann::json to_json(const LutEntry& e) {
  // The canonical text is the one JSON form; reuse it so the two cannot drift.
  nlohmann::json j = {{"problem", nlohmann::json::parse(problem_line(e.problem))}};
  nlohmann::json cs = nlohmann::json::array();
  for (const auto& c : e.configs) cs.push_back(nlohmann::json::parse(config_line(c)));
  j["configs"] = std::move(cs);
  if (!e.note.empty()) j["note"] = e.note;
  return j;
}

bool LookupTable::upsert(const Problem& problem, const LutConfig& config, std::size_t max_configs) {
  problem.validate();
  config.config.validate();
  auto it = index_.find(key_of(problem, true));
  if (it == index_.end()) {
    add(LutEntry{problem, {config}, ""});
    return true;
  }
  LutEntry& e = entries_[it->second];
  const auto before = e.configs;
  auto same = std::find_if(e.configs.begin(), e.configs.end(),
                           [&](const LutConfig& c) { return c.config == config.config; });
  if (same != e.configs.end()) {
    *same = config;
  } else {
    e.configs.push_back(config);
  }
  sort_by_time(e.configs);
  if (max_configs > 0 && e.configs.size() > max_configs) e.configs.resize(max_configs);
  return e.configs != before;
}

std::string LookupTable::serialize() const {
  std::string out = fmt::format("{{\n  \"gemmsift_lut\": {},\n  \"entries\": [", kLutFormatVersion);
  auto order = sorted(entries_);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const LutEntry& e = *order[i];
    out += i ? ",\n" : "\n";
    out += "    {\n      \"problem\": " + problem_line(e.problem) + ",\n      \"configs\": [\n";
    for (std::size_t j = 0; j < e.configs.size(); ++j) {
      out += "        " + config_line(e.configs[j]) + (j + 1 < e.configs.size() ? ",\n" : "\n");
    }
    out += "      ]";
    if (!e.note.empty()) out += ",\n      \"note\": " + quoted(e.note);
    out += "\n    }";
  }
  out += order.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

void LookupTable::save(const std::string& path) const { detail::write_file_atomic(path, serialize()); }

std::vector<PinnedConfig> LookupTable::pinned(const Problem& problem) const {
  std::vector<PinnedConfig> out;
  const LutEntry* e = find(problem);
  if (!e) return out;
  const auto index = static_cast<std::size_t>(e - entries_.data());
  for (const auto& c : e->configs) {
    out.push_back({c.config, fmt::format("{}#/entries/{}", name_.empty() ? "lut" : name_, index)});
  }
  return out;
}

bool operator==(const LookupTable& a, const LookupTable& b) {
  if (a.size() != b.size()) return false;
  auto sa = sorted(a.entries_), sb = sorted(b.entries_);
  for (std::size_t i = 0; i < sa.size(); ++i) {
    if (!(*sa[i] == *sb[i])) return false;
  }
  return true;
}

MergePolicy parse_merge_policy(std::string_view s) {
  std::string v = detail::lower(detail::trim(s));
  if (v == "keep-first" || v == "keep_first") return MergePolicy::keep_first;
  if (v == "keep-faster" || v == "keep_faster") return MergePolicy::keep_faster;
  if (v == "fail") return MergePolicy::fail;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("merge policy '{}': expected keep-first, keep-faster or fail", s));
}

namespace {
std::optional<double> fastest(const LutEntry& e) {
  std::optional<double> best;
  for (const auto& c : e.configs) {
    if (c.measured_us && (!best || *c.measured_us < *best)) best = c.measured_us;
  }
  return best;
}
}  // namespace

LookupTable merge(const LookupTable& first, const LookupTable& second, MergePolicy policy,
                  std::vector<MergeConflict>* conflicts) {
  LookupTable out = first;
  std::vector<MergeConflict> found;
  for (const auto& e : second.entries()) {
    // Exact keys only: a device-agnostic entry does not conflict with a device-specific one.
    const LutEntry* mine = out.find_exact(e.problem);
    if (!mine) {
      out.add(e);
      continue;
    }
    if (mine->configs == e.configs) continue;
    MergeConflict c{e.problem, "kept first"};
    if (policy == MergePolicy::keep_faster) {
      auto ta = fastest(*mine), tb = fastest(e);
      if (tb && (!ta || *tb < *ta)) {
        c.resolution = ta ? fmt::format("kept second (faster: {:.4g} us < {:.4g} us)", *tb, *ta)
                          : fmt::format("kept second (measured {:.4g} us; first has no time)", *tb);
        out.put(e);
      } else if (ta) {
        c.resolution = tb ? fmt::format("kept first (faster: {:.4g} us <= {:.4g} us)", *ta, *tb)
                          : fmt::format("kept first (measured {:.4g} us; second has no time)", *ta);
      } else {
        c.resolution = "kept first (neither has a measured time)";
      }
    }
    found.push_back(std::move(c));
  }
  if (policy == MergePolicy::fail && !found.empty()) {
    std::vector<std::string> keys;
    for (const auto& c : found) keys.push_back(c.problem.to_string());
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} conflicting entr{} (policy fail): {}", found.size(),
                            found.size() == 1 ? "y" : "ies", detail::join(keys, "; ")));
  }
  if (conflicts) *conflicts = std::move(found);
  return out;
}

}  // namespace gemmsift
