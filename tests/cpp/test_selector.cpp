#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "gemmsift/error.h"
#include "gemmsift/selector.h"
#include "gemmsift/space.h"

using namespace gemmsift;

namespace {

// Predicts block_k + stages/10 microseconds: easy to reason about, with ties on warps.
class FakeModel : public PerformanceModel {
 public:
  std::vector<double> estimate(const Problem&, std::span<const Config> cs) const override {
    std::vector<double> v;
    for (const auto& c : cs) {
      if (c.block_m == 256 && c.block_n == 256) v.push_back(std::numeric_limits<double>::infinity());
      else if (c.block_m == 16 && c.block_n == 256) v.push_back(std::numeric_limits<double>::quiet_NaN());
      else v.push_back(1000.0 / c.block_m + 1000.0 / c.block_n + c.num_stages * 0.1);
    }
    return v;
  }
  std::string name() const override { return "fake"; }
  nlohmann::json metadata() const override { return {{"kind", "fake"}}; }
};

class FakePins : public PinnedConfigs {
 public:
  std::vector<PinnedConfig> pinned(const Problem&) const override {
    return {{Config{Template::triton_mm, 32, 32, 16, 8, 1, 2}, "table.json:/entries/0"},
            {Config{Template::triton_mm, 32, 32, 16, 8, 1, 2}, "table.json:/entries/0 (again)"}};
  }
};

Problem make(std::int64_t m, std::int64_t n, std::int64_t k) {
  Problem p;
  p.m = m;
  p.n = n;
  p.k = k;
  return p;
}

}  // namespace

TEST(BenchmarkSpace, Parses) {
  EXPECT_EQ(BenchmarkSpace::parse("SAME"), BenchmarkSpace::same());
  EXPECT_EQ(BenchmarkSpace::parse("default"), BenchmarkSpace::default_count());
  EXPECT_EQ(BenchmarkSpace::parse("fast"), BenchmarkSpace::top(1));
  EXPECT_EQ(BenchmarkSpace::parse(" 7 "), BenchmarkSpace::top(7));
  EXPECT_EQ(BenchmarkSpace::top(7).to_string(), "7");
  try {
    BenchmarkSpace::parse("0");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "benchmark space '0': expected SAME, DEFAULT, fast or a positive integer");
  }
}

TEST(Selector, TopKIsOrderedByPrediction) {
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(5);
  Selector s(std::make_shared<FakeModel>(), o);
  auto sel = s.select(make(4096, 4096, 4096));
  ASSERT_EQ(sel.candidates.size(), 5u);
  EXPECT_EQ(sel.search_space_size, 1400u);
  EXPECT_EQ(sel.default_count, 20u);
  EXPECT_EQ(sel.model, "fake");
  EXPECT_FALSE(sel.skip_benchmark);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(sel.candidates[i].model_rank, static_cast<int>(i));
    EXPECT_EQ(sel.candidates[i].source, Source::model);
    if (i) {
      EXPECT_LE(sel.candidates[i - 1].predicted_us, sel.candidates[i].predicted_us);
    }
  }
  // 256x256 is "cannot launch" (inf): best is 256x128 or 128x256, one stage.
  const auto& top = sel.candidates[0].config;
  EXPECT_EQ(top.block_m * top.block_n, 256 * 128);
  EXPECT_EQ(top.num_stages, 1);
}

TEST(Selector, TiesKeepInductorsOrder) {
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(3);
  Selector s(std::make_shared<FakeModel>(), o);
  auto sel = s.select(make(4096, 4096, 4096));
  // The fake ignores warps and block_k: equal predictions must come out in space order.
  auto space = search_space(make(4096, 4096, 4096), SpaceKind::EXHAUSTIVE);
  auto pos = [&](const Config& c) { return std::find(space.begin(), space.end(), c) - space.begin(); };
  EXPECT_LT(pos(sel.candidates[0].config), pos(sel.candidates[1].config));
  EXPECT_LT(pos(sel.candidates[1].config), pos(sel.candidates[2].config));
}

TEST(Selector, NaNAndInfinityRankLast) {
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(100000);
  Selector s(std::make_shared<FakeModel>(), o);
  auto sel = s.select(make(4096, 4096, 4096));
  ASSERT_EQ(sel.candidates.size(), 1400u);
  bool tail = false;
  for (const auto& c : sel.candidates) {
    bool bad = !std::isfinite(c.predicted_us);
    if (tail) {
      EXPECT_TRUE(bad);
    }
    tail = tail || bad;
  }
  EXPECT_TRUE(tail);
}

TEST(Selector, DefaultBenchmarksAsManyAsTheDefaultList) {
  Selector s(std::make_shared<FakeModel>());
  EXPECT_EQ(s.select(make(4096, 4096, 4096)).candidates.size(), 20u);
  EXPECT_EQ(s.select(make(1, 1, 1)).candidates.size(), 5u);  // DEFAULT collapses to 5 configs there
}

TEST(Selector, SameIsTheSpaceInOrderWithoutAModel) {
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::same();
  o.search_space = SpaceKind::DEFAULT;
  Selector s(nullptr, o);
  auto sel = s.select(make(512, 512, 512));
  auto space = search_space(make(512, 512, 512), SpaceKind::DEFAULT);
  ASSERT_EQ(sel.candidates.size(), space.size());
  for (std::size_t i = 0; i < space.size(); ++i) {
    EXPECT_EQ(sel.candidates[i].config, space[i]);
    EXPECT_EQ(sel.candidates[i].source, Source::space);
    EXPECT_TRUE(std::isnan(sel.candidates[i].predicted_us));
  }
  EXPECT_TRUE(sel.model.empty());
}

TEST(Selector, ModelRequiredUnlessSame) {
  try {
    Selector s(nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "benchmark space DEFAULT needs a model");
  }
}

TEST(Selector, PinnedConfigsComeFirstOnceAndOnTopOfK) {
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(1);
  Selector s(std::make_shared<FakeModel>(), o);
  s.set_pinned(std::make_shared<FakePins>());
  auto sel = s.select(make(4096, 4096, 4096));
  ASSERT_EQ(sel.candidates.size(), 2u);
  EXPECT_EQ(sel.candidates[0].source, Source::lut);
  EXPECT_EQ(sel.candidates[0].origin, "table.json:/entries/0");
  EXPECT_GT(sel.candidates[0].model_rank, 0);  // the model ranks pinned configs too
  EXPECT_EQ(sel.candidates[1].source, Source::model);
  EXPECT_EQ(sel.candidates[1].model_rank, 0);
}

TEST(Selector, FastIsASingleChoice) {
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::parse("fast");
  Selector s(std::make_shared<FakeModel>(), o);
  auto sel = s.select(make(300, 300, 300));
  EXPECT_EQ(sel.candidates.size(), 1u);
  EXPECT_TRUE(sel.skip_benchmark);
}

TEST(ModelPicks, TopThenTheDefaultListsBestRanked) {
  auto c = [](int bm) { return Config{Template::triton_mm, bm, 64, 64, 8, 3, 4}; };
  // The model's order: 16, 32, 64, 128, 256; the DEFAULT list holds 64 and 256.
  const std::vector<Config> ranked{c(16), c(32), c(64), c(128), c(256)};
  auto in_default = [](const Config& x) { return x.block_m == 64 || x.block_m == 256; };
  auto indices = [](const std::vector<Pick>& ps) {
    std::vector<std::pair<std::size_t, bool>> out;
    for (const auto& p : ps) out.emplace_back(p.index, p.anchor);
    return out;
  };
  using V = std::vector<std::pair<std::size_t, bool>>;
  EXPECT_EQ(indices(model_picks(ranked, 3, 0, in_default)), (V{{0, false}, {1, false}, {2, false}}));
  // Two anchors of three: the model's first, then the list's 64 and 256.
  EXPECT_EQ(indices(model_picks(ranked, 3, 2, in_default)), (V{{0, false}, {2, true}, {4, true}}));
  // An anchor already among the top picks is not counted twice: 64 is the model's third.
  EXPECT_EQ(indices(model_picks(ranked, 4, 1, in_default)), (V{{0, false}, {1, false}, {2, false}, {4, true}}));
  // At most k - 1 anchors: k = 1 is the model's own pick.
  EXPECT_EQ(indices(model_picks(ranked, 1, 3, in_default)), (V{{0, false}}));
  // The list runs out: the model's next ones fill the k.
  EXPECT_EQ(indices(model_picks(ranked, 5, 4, [](const Config& x) { return x.block_m == 256; })),
            (V{{0, false}, {4, true}, {1, false}, {2, false}, {3, false}}));
  // Taken (pinned) configs are skipped and do not count.
  EXPECT_EQ(indices(model_picks(ranked, 2, 1, in_default, [](const Config& x) { return x.block_m == 16; })),
            (V{{1, false}, {2, true}}));
  EXPECT_TRUE(model_picks(ranked, 0, 2, in_default).empty());
}

TEST(Selector, DefaultAnchorsAreTheListsConfigsTheModelRanksHighest) {
  const Problem p = make(4096, 4096, 4096);
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(5);
  o.anchors = 2;
  Selector s(std::make_shared<FakeModel>(), o);
  auto sel = s.select(p);
  ASSERT_EQ(sel.candidates.size(), 5u);
  const auto defaults = search_space(p, SpaceKind::DEFAULT);
  auto in_default = [&](const Config& c) { return std::find(defaults.begin(), defaults.end(), c) != defaults.end(); };
  // The plain top 3 first.
  o.anchors = 0;
  auto plain = Selector(std::make_shared<FakeModel>(), o).select(p);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sel.candidates[i].config, plain.candidates[i].config);
    EXPECT_EQ(sel.candidates[i].source, Source::model);
  }
  // Then the two DEFAULT configs with the best predictions outside the top 3.
  double best_other = std::numeric_limits<double>::infinity();
  for (std::size_t i = 3; i < 5; ++i) {
    EXPECT_EQ(sel.candidates[i].source, Source::anchor);
    EXPECT_EQ(to_string(sel.candidates[i].source), "anchor");
    EXPECT_TRUE(in_default(sel.candidates[i].config));
    EXPECT_GE(sel.candidates[i].model_rank, 3);
  }
  FakeModel m;
  const auto space = search_space(p, SpaceKind::EXHAUSTIVE);
  const auto pred = m.estimate(p, space);
  for (std::size_t i = 0; i < space.size(); ++i) {
    bool chosen = false;
    for (const auto& c : sel.candidates) chosen |= c.config == space[i];
    if (!chosen && in_default(space[i]) && !std::isnan(pred[i])) best_other = std::min(best_other, pred[i]);
  }
  EXPECT_LE(sel.candidates[4].predicted_us, best_other);
  // Not with a DEFAULT search space (the list is the space), and never a negative count.
  o.anchors = 2;
  o.search_space = SpaceKind::DEFAULT;
  auto on_default = Selector(std::make_shared<FakeModel>(), o).select(p);
  for (const auto& c : on_default.candidates) EXPECT_EQ(c.source, Source::model);
  o.anchors = -1;
  try {
    Selector bad(std::make_shared<FakeModel>(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "anchors: expected a count of at least 0, got -1");
  }
}
