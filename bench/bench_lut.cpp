// Lookup-table costs (EVALUATION.md "Cost of scoring"): load time of a 100,000-entry table and
// lookup latency. Run: build/bench/bench_lut --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "core/file_util.h"
#include "gemmsift/lut.h"

using namespace gemmsift;

namespace {

Problem problem_of(std::int64_t i) {
  Problem p;
  p.m = 1 + i % 977;
  p.n = 64 + (i / 977) % 512;
  p.k = 4096;
  p.layout = i % 2 ? Layout::NT : Layout::NN;
  p.device = i % 3 ? "NVIDIA H100 80GB HBM3" : "";
  return p;
}

const std::string& table_path(std::int64_t entries) {
  static std::map<std::int64_t, std::string> paths;
  auto& path = paths[entries];
  if (path.empty()) {
    LookupTable t;
    for (std::int64_t i = 0; i < entries; ++i) {
      LutConfig c;
      c.config = Config{Template::triton_mm, 128, 128, 64, 8, 3, 4};
      c.measured_us = 10.0 + static_cast<double>(i % 100);
      c.source = "bench";
      c.date = "2026-11-27";
      t.add(LutEntry{problem_of(i), {c}, ""});
    }
    path = (std::filesystem::temp_directory_path() / ("gemmsift_bench_lut_" + std::to_string(entries) + ".json")).string();
    t.save(path);
  }
  return path;
}

void BM_LutLoad(benchmark::State& state) {
  const std::string& path = table_path(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(LookupTable::load(path));
  state.counters["entries"] = static_cast<double>(state.range(0));
  state.counters["MB"] = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
}
BENCHMARK(BM_LutLoad)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_LutLookup(benchmark::State& state) {
  auto t = LookupTable::load(table_path(100000));
  std::int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.find(problem_of(i)));
    i = (i + 7919) % 200000;  // half hits, half misses
  }
}
BENCHMARK(BM_LutLookup)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
