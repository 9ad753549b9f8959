// gemmsift lut validate|show|fmt|merge|convert|record
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "cli/common.h"
#include "core/file_util.h"
#include "gemmsift/error.h"
#include "gemmsift/json.h"
#include "gemmsift/lut.h"

namespace gemmsift::cli {

namespace {

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) fmt::print(stderr, "gemmsift: warning: {}\n", w);
}

std::string today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void print_entry(const LutEntry& e) {
  fmt::print("{}{}\n", e.problem.to_string(), e.note.empty() ? "" : "  # " + e.note);
  for (const auto& c : e.configs) {
    fmt::print("    {:<24} {:>12} {} {}\n", c.config.to_string(),
               c.measured_us ? fmt::format("{:.2f} us", *c.measured_us) : "-", c.source, c.date);
  }
}

// A table is read as JSON once; its format decides how to load it.
bool is_gemmsift_table(const nlohmann::json& j) { return j.is_object() && j.contains("gemmsift_lut"); }

}  // namespace

void add_lut_commands(CLI::App& app) {
  auto* lut = app.add_subcommand("lut", "kernel lookup tables: validate, show, fmt, merge, convert, record");
  lut->require_subcommand(1);

  {
    auto* cmd = lut->add_subcommand("validate", "check a table; errors name file:line:column and the JSON pointer");
    auto file = std::make_shared<std::string>();
    auto strict = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "table (gemmsift format)")->required();
    cmd->add_flag("--strict", *strict, "fail on the first problem, unknown fields included");
    cmd->callback([=] {
      std::vector<std::string> warnings;
      auto t = LookupTable::load(*file, LutLoadOptions{*strict}, &warnings);
      print_warnings(warnings);
      fmt::print("{}: {} entries loaded, {} warning{}\n", *file, t.size(), warnings.size(),
                 warnings.size() == 1 ? "" : "s");
      if (!warnings.empty()) throw Error(ErrorCode::invalid_argument, fmt::format("{}: not valid ({} problems)", *file, warnings.size()));
    });
  }
  {
    auto* cmd = lut->add_subcommand("show", "list a table's entries, or the entry for one problem");
    auto file = std::make_shared<std::string>();
    auto args = std::make_shared<ProblemArgs>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "table")->required();
    args->add(cmd, false);
    cmd->add_flag("--json", *json, "print JSON");
    cmd->callback([=] {
      std::vector<std::string> warnings;
      auto t = LookupTable::load(*file, {}, &warnings);
      print_warnings(warnings);
      if (args->has_problem()) {
        const LutEntry* e = t.find(args->problem());
        if (*json) {
          nlohmann::json out = {{"found", e != nullptr}};
          if (e) out["entry"] = to_json(*e);
          fmt::print("{}\n", out.dump(2));
        } else if (e) {
          print_entry(*e);
        } else {
          fmt::print("no entry for {}\n", args->problem().to_string());
        }
        return;
      }
      if (*json) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& e : t.entries()) all.push_back(to_json(e));
        fmt::print("{}\n", all.dump(2));
        return;
      }
      for (const auto& e : t.entries()) print_entry(e);
      fmt::print("{} entries\n", t.size());
    });
  }
  {
    auto* cmd = lut->add_subcommand("fmt", "rewrite a table canonically (sorted, one config per line)");
    auto file = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto check = std::make_shared<bool>(false);
    cmd->add_option("file", *file, "table")->required();
    cmd->add_option("-o,--output", *out, "write here instead of rewriting the file");
    cmd->add_flag("--check", *check, "only check: exit 1 if the file is not canonical");
    cmd->callback([=] {
      // Strict: never rewrite a table that has entries fmt would have to drop.
      auto t = LookupTable::load(*file, LutLoadOptions{true});
      std::string text = t.serialize();
      if (*check) {
        if (detail::read_file(*file) != text) {
          throw Error(ErrorCode::invalid_argument, fmt::format("{}: not canonical (run gemmsift lut fmt)", *file));
        }
        fmt::print("{}: canonical\n", *file);
        return;
      }
      detail::write_file_atomic(out->empty() ? *file : *out, text);
      fmt::print("wrote {} ({} entries)\n", out->empty() ? *file : *out, t.size());
    });
  }
  {
    auto* cmd = lut->add_subcommand("merge", "merge two tables with an explicit conflict policy");
    auto a = std::make_shared<std::string>();
    auto b = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto policy = std::make_shared<std::string>("fail");
    cmd->add_option("first", *a, "first table")->required();
    cmd->add_option("second", *b, "second table")->required();
    cmd->add_option("-o,--output", *out, "merged table")->required();
    cmd->add_option("--policy", *policy, "on conflicts: keep-first, keep-faster or fail")->capture_default_str();
    cmd->callback([=] {
      auto p = parse_merge_policy(*policy);
      auto ta = LookupTable::load(*a, LutLoadOptions{true});
      auto tb = LookupTable::load(*b, LutLoadOptions{true});
      std::vector<MergeConflict> conflicts;
      auto merged = merge(ta, tb, p, &conflicts);
      for (const auto& c : conflicts) fmt::print("conflict: {}: {}\n", c.problem.to_string(), c.resolution);
      merged.save(*out);
      fmt::print("wrote {}: {} entries ({} from {}, {} from {}), {} conflict{}\n", *out, merged.size(), ta.size(),
                 *a, tb.size(), *b, conflicts.size(), conflicts.size() == 1 ? "" : "s");
    });
  }
  {
    auto* cmd = lut->add_subcommand("convert", "convert to or from torch._inductor.config.lookup_table.table");
    auto in = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto device_key = std::make_shared<std::string>();
    auto agnostic = std::make_shared<bool>(false);
    cmd->add_option("input", *in, "table in either format (detected)")->required();
    cmd->add_option("-o,--output", *out, "output file")->required();
    cmd->add_option("--to", *to, "torch or gemmsift")->required()->check(CLI::IsMember({"torch", "gemmsift"}));
    cmd->add_option("--device-key", *device_key,
                    "device key for torch (torch.cuda.get_device_properties().gcnArchName); "
                    "default: each entry's device as written");
    cmd->add_flag("--agnostic", *agnostic, "write device-agnostic torch keys");
    cmd->callback([=] {
      std::string text = detail::read_file(*in);
      nlohmann::json j = parse_json_text(text, *in);
      std::vector<std::string> warnings;
      LookupTable t = is_gemmsift_table(j) ? LookupTable::parse(text, *in, LutLoadOptions{true}, &warnings)
                                           : from_torch_table(j, *in, &warnings);
      print_warnings(warnings);
      if (*to == "torch") {
        TorchExportOptions o;
        o.device_key = *device_key;
        o.agnostic = *agnostic;
        detail::write_file_atomic(*out, to_torch_table(t, o).dump(2) + "\n");
      } else {
        t.save(*out);
      }
      fmt::print("wrote {} ({} entries{})\n", *out, t.size(),
                 warnings.empty() ? "" : fmt::format(", {} skipped with warnings", warnings.size()));
    });
  }
  {
    auto* cmd = lut->add_subcommand("record", "add or update a measured config (file locked, atomic write)");
    auto file = std::make_shared<std::string>();
    auto args = std::make_shared<ProblemArgs>();
    auto config = std::make_shared<std::string>();
    auto us = std::make_shared<double>(0);
    auto source = std::make_shared<std::string>("gemmsift lut record");
    auto date = std::make_shared<std::string>();
    auto note = std::make_shared<std::string>();
    auto max_configs = std::make_shared<std::size_t>(0);
    cmd->add_option("file", *file, "table (created if missing)")->required();
    args->add(cmd);
    cmd->add_option("--config", *config, "the config, e.g. \"128x128x64 g8 s3 w4\"")->required();
    cmd->add_option("--measured-us", *us, "measured time in microseconds");
    cmd->add_option("--source", *source, "who measured it")->capture_default_str();
    cmd->add_option("--date", *date, "ISO date (default: today, UTC)");
    cmd->add_option("--note", *note, "free text");
    cmd->add_option("--max-configs", *max_configs, "keep only the fastest this many (0: all)")->capture_default_str();
    cmd->callback([=] {
      LutConfig c;
      c.config = Config::parse(*config);
      if (*us > 0) c.measured_us = *us;
      else if (*us < 0) throw Error(ErrorCode::invalid_argument, "--measured-us must be positive");
      c.source = *source;
      c.date = date->empty() ? today() : *date;
      c.note = *note;
      RecordOptions ro;
      ro.max_configs = *max_configs;
      bool changed = record_measurement(*file, args->problem(), c, ro);
      fmt::print("{}: {}\n", *file, changed ? "recorded" : "unchanged");
    });
  }
}

}  // namespace gemmsift::cli
