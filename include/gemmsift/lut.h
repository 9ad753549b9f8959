// gemmsift: the kernel lookup table (LUT): hand-editable JSON that pins known-good configs.
//
// Format v1 (docs/lut-format.md):
//   {"gemmsift_lut": 1, "entries": [{"problem": {...}, "configs": [{...}, ...], "note": "..."}]}
// A problem key is device (optional: omitted = any device), op, dtype, layout, M, N, K (and batch
// for bmm). Each config may carry provenance: measured_us, source, date, note.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemmsift/config.h"
#include "gemmsift/problem.h"
#include "gemmsift/selector.h"

namespace gemmsift {

constexpr int kLutFormatVersion = 1;

struct LutConfig {
  Config config;
  std::optional<double> measured_us;
  std::string source;  // who produced it: "gemmsift collect", "inductor autotune", a person
  std::string date;    // ISO 8601
  std::string note;
  friend bool operator==(const LutConfig&, const LutConfig&) = default;
};

struct LutEntry {
  Problem problem;  // problem.device empty: any device
  std::vector<LutConfig> configs;
  std::string note;
  friend bool operator==(const LutEntry&, const LutEntry&) = default;
};

struct LutLoadOptions {
  // Strict: the first problem of any kind (an invalid entry, an unknown field) is an error.
  // Graceful (default): invalid entries are skipped with one warning each, unknown fields warned
  // about, and the valid entries load.
  bool strict = false;
};

// The normalised device part of a problem key: gemmsift's canonical name for a known device
// ("NVIDIA H100 80GB HBM3" and "H100-SXM" are the same device), else the trimmed, lowercased
// name; empty for "any device".
std::string lut_device_key(std::string_view device);

class LookupTable final : public PinnedConfigs {
 public:
  LookupTable() = default;

  // Reads and checks a table. Errors (Error(parse), Error(invalid_argument), Error(io)) name the
  // file, line:column and JSON pointer, what was expected and what was found. Warnings (skipped
  // entries, unknown fields) are appended to `warnings` when given, else passed to warn().
  static LookupTable load(const std::string& path, const LutLoadOptions& options = {},
                          std::vector<std::string>* warnings = nullptr);
  static LookupTable parse(std::string_view text, const std::string& name,
                           const LutLoadOptions& options = {},
                           std::vector<std::string>* warnings = nullptr);

  // The entry for a problem: a device-specific entry first, then a device-agnostic one.
  // Constant time. Null when neither exists.
  const LutEntry* find(const Problem& problem) const;

  // The entry with exactly this key (device included), without the device-agnostic fallback.
  const LutEntry* find_exact(const Problem& problem) const;

  // Adds an entry; Error(invalid_argument) when its key is already present or it has no configs.
  void add(LutEntry entry);
  // Adds an entry, or replaces the one with the same key.
  void put(LutEntry entry);
  // Adds `config` to the entry for `problem` (creating it), or updates the provenance of the
  // same config already there. Configs stay ordered by measured time (untimed last); with
  // max_configs > 0 only the fastest that many are kept. Returns true if the table changed.
  bool upsert(const Problem& problem, const LutConfig& config, std::size_t max_configs = 0);

  const std::vector<LutEntry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Canonical text: entries sorted by key, fields in a fixed order, one problem and one config
  // per line. parse(serialize(t)) == t.
  std::string serialize() const;
  void save(const std::string& path) const;  // atomic (temporary file + rename)

  // PinnedConfigs: the configs of the matching entry, origin "<file>#<entry pointer>".
  std::vector<PinnedConfig> pinned(const Problem& problem) const override;

  // Same entries (in any order) with the same contents.
  friend bool operator==(const LookupTable& a, const LookupTable& b);

 private:
  struct Key {
    std::string device;  // lut_device_key(); empty: any device
    Op op;
    DType dtype;
    Layout layout;
    std::int64_t m, n, k, batch;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  static Key key_of(const Problem& p, bool with_device);
  // `padded`: the text is followed by simdjson::SIMDJSON_PADDING readable bytes (no copy needed).
  static LookupTable parse_text(std::string_view text, const std::string& name,
                                const LutLoadOptions& options, std::vector<std::string>* warnings,
                                bool padded);
  std::vector<LutEntry> entries_;
  std::unordered_map<Key, std::size_t, KeyHash> index_;
  std::string name_;
};

// JSON forms: an entry as in the file format; a config with its provenance. lut_config_from_json
// errors name `where` (a JSON pointer) as the file parser's do.
nlohmann::json to_json(const LutEntry& entry);
LutConfig lut_config_from_json(const nlohmann::json& j, std::string_view where = "");

enum class MergePolicy : std::uint8_t { keep_first, keep_faster, fail };
MergePolicy parse_merge_policy(std::string_view);

struct MergeConflict {
  Problem problem;
  std::string resolution;  // "kept first", "kept second (faster: 12.0 us < 13.5 us)", ...
};

// Entries of both tables; where both have an entry for the same key with different configs, the
// policy decides. keep_faster compares the fastest measured time of each entry (an entry with a
// time beats one without; with no times on either side the first is kept). fail throws
// Error(invalid_argument) listing every conflict. Identical entries are not conflicts.
LookupTable merge(const LookupTable& first, const LookupTable& second, MergePolicy policy,
                  std::vector<MergeConflict>* conflicts = nullptr);

// Adds a measurement to the table file at `path` (created if missing) under an exclusive lock
// on `path + ".lock"`, writing atomically, so concurrent recorders lose nothing.
struct RecordOptions {
  std::size_t max_configs = 0;  // keep only the fastest this many per entry (0: all)
  bool strict = false;          // strict parsing of the existing file
};
bool record_measurement(const std::string& path, const Problem& problem, const LutConfig& config,
                        const RecordOptions& options = {});

// ---- PyTorch interop: torch 2.11's torch._inductor.config.lookup_table.table ----
//
// A torch table maps "[device+]((dtype, shape, stride), ...)[+scalars]+op" to a list of template
// parameter dicts ({"template_id": "triton::mm", "BLOCK_M": ..., "EVEN_K": ..., ...}).

struct TorchExportOptions {
  // Device key to use for gemmsift entries that name a device: torch compares it with
  // torch.cuda.get_device_properties().gcnArchName. Empty: use the entry's device string as is.
  std::string device_key;
  // Write every entry device-agnostic.
  bool agnostic = false;
};

// The input key of a problem in torch's format (no device, no op): e.g.
// "((torch.bfloat16, [4096, 4096], [4096, 1]), (torch.bfloat16, [4096, 4096], [1, 4096]))".
std::string torch_input_key(const Problem& problem);
std::string torch_lookup_key(const Problem& problem, std::string_view device_key);
nlohmann::json to_torch_table(const LookupTable& table, const TorchExportOptions& options = {});
// Entries gemmsift cannot represent (other templates, unusual strides) are skipped with a warning
// each; `name` names the source in messages.
LookupTable from_torch_table(const nlohmann::json& table, const std::string& name,
                             std::vector<std::string>* warnings = nullptr);

}  // namespace gemmsift
