#include "cli/commands.h"
#include "cli/common.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gemmsift/device.h"
#include "gemmsift/error.h"
#include "gemmsift/json.h"
#include "gemmsift/lut.h"
#include "gemmsift/model.h"
#include "gemmsift/selector.h"
#include "gemmsift/space.h"
#include "gemmsift/version.h"

namespace gemmsift::cli {

Problem ProblemArgs::problem() const {
  Problem p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.batch = batch;
  p.dtype = parse_dtype(dtype);
  p.layout = parse_layout(layout);
  p.op = parse_op(op);
  p.device = device;
  p.validate();
  return p;
}

namespace {

std::string fmt_us(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return "no launch";
  return fmt::format("{:.2f}", v);
}

// How the model scored a problem with a leading stride that is even but not a multiple of 16
// (ModelOptions::off16), for select's output: {policy, what it did}; nothing when the model scored
// the problem as it is with its networks, or the problem has no such stride.
std::optional<std::pair<std::string, std::string>> off16_scoring(const PerformanceModel* model, const Problem& p) {
  if (!model || applied_off16(*model).empty() || !even_stride_off16(p)) return std::nullopt;
  std::string policy(applied_off16(*model));
  if (policy == "analytical") return std::pair{policy, std::string("scored by the analytical model")};
  const Problem padded = off16_padded(p);
  if (padded == p) return std::pair{policy, std::string("scored as it is, its stride 4-byte aligned only")};
  return std::pair{policy, fmt::format("scored as {}x{}x{}", padded.m, padded.n, padded.k)};
}

void print_configs_table(const std::vector<Config>& configs) {
  fmt::print("{:>5}  {:>7} {:>7} {:>7} {:>7} {:>6} {:>5}\n", "#", "block_m", "block_n", "block_k",
             "group_m", "stages", "warps");
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const auto& c = configs[i];
    fmt::print("{:>5}  {:>7} {:>7} {:>7} {:>7} {:>6} {:>5}\n", i, c.block_m, c.block_n, c.block_k,
               c.group_m, c.num_stages, c.num_warps);
  }
}

void add_space_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("space", "list the search space of a problem (Inductor's, exactly)");
  auto args = std::make_shared<ProblemArgs>();
  auto space = std::make_shared<std::string>("EXHAUSTIVE");
  auto json = std::make_shared<bool>(false);
  auto smem = std::make_shared<std::int64_t>(0);
  args->add(cmd);
  cmd->add_option("--space", *space, "DEFAULT or EXHAUSTIVE")->capture_default_str();
  cmd->add_option("--shared-memory-limit", *smem,
                  "apply Inductor's optional shared-memory prune with this many bytes");
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([=] {
    Problem p = args->problem();
    SpaceKind kind = parse_space_kind(*space);
    SpaceOptions so;
    if (*smem > 0) so.shared_memory_limit = *smem;
    auto configs = search_space(p, kind, so);
    if (*json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& c : configs) list.push_back(to_json(c));
      nlohmann::json out = {{"problem", to_json(p)}, {"space", to_string(kind)}, {"configs", list}};
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{} search space for {}: {} configs\n", to_string(kind), p.to_string(), configs.size());
    print_configs_table(configs);
  });
}

void add_select_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("select", "rank the configs worth benchmarking for a problem");
  auto args = std::make_shared<ProblemArgs>();
  auto model = std::make_shared<std::string>("auto");
  auto triton = std::make_shared<std::string>();
  auto space = std::make_shared<std::string>("EXHAUSTIVE");
  auto bspace = std::make_shared<std::string>("DEFAULT");
  auto topk = std::make_shared<int>(0);
  auto json = std::make_shared<bool>(false);
  auto lut = std::make_shared<std::string>();
  auto lut_only = std::make_shared<bool>(false);
  args->add(cmd);
  cmd->add_option("--model", *model,
                  "model spec or .safetensors file; auto: the shipped model for the device and dtype, "
                  "else the analytical model (with a warning)")
      ->capture_default_str();
  cmd->add_option("--triton-version", *triton, "running Triton version: warn when the model's data used another");
  cmd->add_option("--lut", *lut, "lookup table whose configs for the problem are always benchmarked");
  cmd->add_flag("--lut-only", *lut_only,
                "when the table has the problem, use only its configs (one config: no benchmarking)");
  cmd->add_option("--space", *space, "search space the model chooses from: DEFAULT or EXHAUSTIVE")
      ->capture_default_str();
  auto* bs = cmd->add_option("--benchmark-space", *bspace,
                             "how many to benchmark: SAME, DEFAULT, fast (=1) or an integer k")
                 ->capture_default_str();
  cmd->add_option("--topk", *topk, "benchmark the model's top k (same as --benchmark-space k)")
      ->excludes(bs);
  auto anchors = std::make_shared<int>(0);
  cmd->add_option("--anchors", *anchors,
                  "DEFAULT anchors: this many of the k picks (at most k - 1) are the DEFAULT-list configs the "
                  "model ranks highest, so some of the stock list is always benchmarked")
      ->capture_default_str();
  auto off16 = add_off16_option(cmd);
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([=] {
    Problem p = args->problem();
    SelectOptions so;
    so.anchors = *anchors;
    so.search_space = parse_space_kind(*space);
    so.benchmark_space = *topk > 0 ? BenchmarkSpace::top(*topk) : BenchmarkSpace::parse(*bspace);
    so.pinned_only = *lut_only;
    so.triton_version = *triton;
    std::shared_ptr<const PerformanceModel> m;
    if (so.benchmark_space.kind != BenchmarkSpace::Kind::same) {
      ModelOptions mo;
      mo.dtype = p.dtype;
      mo.expect_device = p.device;
      mo.off16 = *off16;
      m = create_model(*model, mo);
    }
    Selector selector(m, so);
    if (!lut->empty()) selector.set_pinned(std::make_shared<LookupTable>(LookupTable::load(*lut)));
    else if (*lut_only) throw Error(ErrorCode::invalid_argument, "--lut-only needs --lut");
    Selection s = selector.select(p);
    const auto scoring = off16_scoring(m.get(), p);
    if (*json) {
      auto j = to_json(s);
      if (scoring) j["off16"] = {{"policy", scoring->first}, {"scoring", scoring->second}};
      fmt::print("{}\n", j.dump(2));
      return;
    }
    fmt::print("problem:         {}\n", p.to_string());
    fmt::print("model:           {}\n", s.model.empty() ? "(none: SAME)" : s.model);
    if (scoring) {
      fmt::print("off16:           {}: a leading stride is even but not a multiple of 16; {} (docs/inductor.md)\n",
                 scoring->first, scoring->second);
    }
    fmt::print("search space:    {} ({} configs; DEFAULT has {})\n", to_string(so.search_space),
               s.search_space_size, s.default_count);
    const auto anchored = std::count_if(s.candidates.begin(), s.candidates.end(),
                                        [](const Candidate& c) { return c.source == Source::anchor; });
    fmt::print("benchmark space: {} -> {} to benchmark{}{}\n\n", so.benchmark_space.to_string(),
               s.candidates.size(), anchored ? fmt::format(", {} of them DEFAULT anchors", anchored) : "",
               s.skip_benchmark ? " (a single choice: no benchmarking needed)" : "");
    fmt::print("{:>4}  {:<6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>5}  {:>10} {:>12}\n", "#", "source",
               "block_m", "block_n", "block_k", "group_m", "stages", "warps", "model_rank",
               "predicted_us");
    for (std::size_t i = 0; i < s.candidates.size(); ++i) {
      const auto& c = s.candidates[i];
      fmt::print("{:>4}  {:<6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>5}  {:>10} {:>12}\n", i + 1,
                 to_string(c.source), c.config.block_m, c.config.block_n, c.config.block_k,
                 c.config.group_m, c.config.num_stages, c.config.num_warps,
                 c.model_rank >= 0 ? std::to_string(c.model_rank) : "-", fmt_us(c.predicted_us));
    }
  });
}

void add_model_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("model", "inspect performance models");
  cmd->require_subcommand(1);
  auto* info = cmd->add_subcommand("info", "show a model's metadata (kind, device, versions, schema)");
  auto spec = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  info->add_option("spec", *spec, "model spec or .safetensors file")->required();
  info->add_flag("--json", *json, "print JSON");
  info->callback([=] {
    auto m = create_model(*spec);
    nlohmann::json meta = m->metadata();
    if (*json) {
      meta["name"] = m->name();
      fmt::print("{}\n", meta.dump(2));
      return;
    }
    fmt::print("name: {}\n", m->name());
    for (auto it = meta.begin(); it != meta.end(); ++it) {
      fmt::print("{}: {}\n", it.key(), it->is_string() ? it->get<std::string>() : it->dump());
    }
  });
  auto* list = cmd->add_subcommand("list", "list the model kinds this build knows");
  list->callback([] {
    for (const auto& k : model_kinds()) fmt::print("{:<12} {}\n", k.kind, k.description);
  });
  auto* save = cmd->add_subcommand("save", "write a model created from a spec to a .safetensors file");
  auto save_spec = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  save->add_option("spec", *save_spec, "model spec")->required();
  save->add_option("-o,--output", *out, "output file")->required();
  save->callback([=] {
    create_model(*save_spec)->save(*out);
    fmt::print("wrote {}\n", *out);
  });
}

void add_device_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("device", "the built-in device table");
  cmd->require_subcommand(1);
  auto* list = cmd->add_subcommand("list", "list built-in devices");
  list->callback([] {
    fmt::print("{:<10} {:>4} {:>8} {:>10} {:>12} {:>8}\n", "name", "SMs", "L2 MiB", "DRAM TB/s",
               "bf16 TFLOP/s", "smem KiB");
    for (const auto& d : builtin_devices()) {
      fmt::print("{:<10} {:>4} {:>8} {:>10.2f} {:>12.1f} {:>8}\n", d.name, d.sm_count,
                 d.l2_bytes / (1024 * 1024), d.mem_bandwidth / 1e12, d.peak_flops_bf16 / 1e12,
                 d.smem_per_block_optin / 1024);
    }
  });
  auto* show = cmd->add_subcommand("show", "show one device as JSON");
  auto name = std::make_shared<std::string>();
  show->add_option("name", *name, "canonical or driver name")->required();
  show->callback([=] { fmt::print("{}\n", device_to_json(get_device(*name)).dump(2)); });
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"gemmsift: cheap GEMM autotuning. Ranks Triton matmul configs so an autotuner "
               "benchmarks a handful instead of hundreds."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(version()));
  add_select_command(app);
  add_space_command(app);
  add_model_command(app);
  add_device_command(app);
  add_lut_commands(app);
  add_data_commands(app);
  add_eval_command(app);
  add_train_commands(app);
  auto* ver = app.add_subcommand("version", "print the version");
  ver->callback([] { fmt::print("gemmsift {}\n", version()); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    fmt::print(stderr, "gemmsift: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gemmsift: internal error: {}\n", e.what());
    return 2;
  }
  return 0;
}

}  // namespace gemmsift::cli
