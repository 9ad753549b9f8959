// Cost of scoring (EVALUATION.md): scoring the whole EXHAUSTIVE space of one problem on one core.
// Run: build/bench/bench_scoring --benchmark_min_time=1
// The learned models are the shipped ones (models/); the run ends with the ratio of the proposal's
// MLP architecture to gemmsift's model, both measured in this run.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <string>

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

const std::string kModels = std::string(GEMMSIFT_SOURCE_DIR) + "/models/";

void score_file(benchmark::State& state, const std::string& file) {
  const Problem p = problem();
  const auto space = search_space(p, SpaceKind::EXHAUSTIVE);
  auto model = create_model(file.starts_with("/") ? file : kModels + file);
  for (auto _ : state) benchmark::DoNotOptimize(model->estimate(p, space));
  state.counters["configs"] = static_cast<double>(space.size());
}

void BM_ProposalMlpScoreExhaustive(benchmark::State& state) {
  score_file(state, "baselines/h100-80gb-hbm3_bf16_proposal-mlp.safetensors");
}
BENCHMARK(BM_ProposalMlpScoreExhaustive)->Unit(benchmark::kMicrosecond);

void BM_GemmsiftMlpScoreExhaustive(benchmark::State& state) {
  score_file(state, "h100-80gb-hbm3_bf16.safetensors");
}
BENCHMARK(BM_GemmsiftMlpScoreExhaustive)->Unit(benchmark::kMicrosecond);


void BM_SelectTop5Analytical(benchmark::State& state) {
  const Problem p = problem();
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(5);
  Selector s(create_model("analytical"), o);
  for (auto _ : state) benchmark::DoNotOptimize(s.select(p));
}
BENCHMARK(BM_SelectTop5Analytical)->Unit(benchmark::kMicrosecond);

// Prints as usual and keeps each benchmark's time per iteration.
class Keeper : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type == Run::RT_Iteration) times[r.benchmark_name()] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> times;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (const char* path = std::getenv("GEMMSIFT_BENCH_MODEL")) {  // any other model file
    benchmark::RegisterBenchmark("BM_EnvModelScoreExhaustive", [path](benchmark::State& state) {
      score_file(state, path);
    })->Unit(benchmark::kMicrosecond);
  }
  Keeper keeper;
  benchmark::RunSpecifiedBenchmarks(&keeper);
  benchmark::Shutdown();
  auto a = keeper.times.find("BM_ProposalMlpScoreExhaustive"), b = keeper.times.find("BM_GemmsiftMlpScoreExhaustive");
  if (a != keeper.times.end() && b != keeper.times.end() && b->second > 0) {
    fmt::print("scoring the EXHAUSTIVE space of 4096^3: the proposal's MLP takes {:.1f} times as long as gemmsift's model\n",
               a->second / b->second);
  }
  return 0;
}
