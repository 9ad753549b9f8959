#include <gtest/gtest.h>

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
