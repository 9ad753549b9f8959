// Cost of scoring (EVALUATION.md): scoring the whole EXHAUSTIVE space of one problem on one core.
// Run: build/bench/bench_scoring --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include "gemmsift/model.h"
#include "gemmsift/selector.h"
#include "gemmsift/space.h"

using namespace gemmsift;

namespace {

Problem problem() {
  Problem p;
  p.m = 4096;
  p.n = 4096;
  p.k = 4096;
  p.dtype = DType::bf16;
  p.layout = Layout::NT;
  return p;
}

void BM_SearchSpaceExhaustive(benchmark::State& state) {
  const Problem p = problem();
  for (auto _ : state) benchmark::DoNotOptimize(search_space(p, SpaceKind::EXHAUSTIVE));
}
BENCHMARK(BM_SearchSpaceExhaustive)->Unit(benchmark::kMicrosecond);

void BM_AnalyticalScoreExhaustive(benchmark::State& state) {
  const Problem p = problem();
  const auto space = search_space(p, SpaceKind::EXHAUSTIVE);
  auto model = create_model("analytical");
  for (auto _ : state) benchmark::DoNotOptimize(model->estimate(p, space));
  state.counters["configs"] = static_cast<double>(space.size());
}
BENCHMARK(BM_AnalyticalScoreExhaustive)->Unit(benchmark::kMicrosecond);

void BM_SelectTop5Analytical(benchmark::State& state) {
  const Problem p = problem();
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(5);
  Selector s(create_model("analytical"), o);
  for (auto _ : state) benchmark::DoNotOptimize(s.select(p));
}
BENCHMARK(BM_SelectTop5Analytical)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
