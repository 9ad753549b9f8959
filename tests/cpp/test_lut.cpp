#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "gemmsift/error.h"
#include "gemmsift/lut.h"
#include "gemmsift/model.h"
#include "gemmsift/selector.h"

using namespace gemmsift;

namespace {

const std::string kDir = std::string(GEMMSIFT_SOURCE_DIR) + "/tests/lut";

Problem make(std::int64_t m, std::int64_t n, std::int64_t k, Layout l = Layout::NT, std::string dev = "") {
  Problem p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.layout = l;
  p.device = std::move(dev);
  return p;
}

LutConfig lc(const char* text, std::optional<double> us = std::nullopt) {
  LutConfig c;
  c.config = Config::parse(text);
  c.measured_us = us;
  return c;
}

std::filesystem::path temp_dir(const char* name) {
  auto d = std::filesystem::temp_directory_path() / (std::string("gemmsift_") + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

TEST(Lut, MalformedTablesGiveTheirExactMessages) {
  std::ifstream in(kDir + "/bad/expected.json");
  auto expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.size(), 30u);
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    const std::string& name = it.key();
    const auto& want = it.value();
    std::string text = detail::read_file(kDir + "/bad/" + name);
    try {
      LookupTable::parse(text, name, LutLoadOptions{true});
      ADD_FAILURE() << name << ": strict parse succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.what(), want["strict"].get<std::string>()) << name;
    }
    std::vector<std::string> warnings;
    try {
      auto t = LookupTable::parse(text, name, {}, &warnings);
      ASSERT_TRUE(want.contains("graceful_entries")) << name << ": graceful parse should fail";
      EXPECT_EQ(t.size(), want["graceful_entries"].get<std::size_t>()) << name;
      EXPECT_EQ(warnings, want["graceful_warnings"].get<std::vector<std::string>>()) << name;
    } catch (const Error& e) {
      ASSERT_TRUE(want.contains("graceful_error")) << name << ": " << e.what();
      EXPECT_EQ(e.what(), want["graceful_error"].get<std::string>()) << name;
    }
  }
}

TEST(Lut, EveryBadFileHasAnExpectation) {
  std::ifstream in(kDir + "/bad/expected.json");
  auto expected = nlohmann::json::parse(in);
  for (const auto& f : std::filesystem::directory_iterator(kDir + "/bad")) {
    std::string name = f.path().filename().string();
    if (name == "expected.json") continue;
    EXPECT_TRUE(expected.contains(name)) << name;
  }
}

TEST(Lut, GoodTableLoadsAndLooksUp) {
  std::vector<std::string> warnings;
  auto t = LookupTable::load(kDir + "/good/example.json", {}, &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(t.size(), 3u);
  // Device-specific first (the driver's name and gemmsift's canonical name are the same device).
  for (const char* dev : {"NVIDIA H100 80GB HBM3", "H100-SXM"}) {
    const LutEntry* e = t.find(make(4096, 4096, 4096, Layout::NT, dev));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->configs.size(), 1u);
    EXPECT_EQ(*e->configs[0].measured_us, 198.25);
  }
  // Another device, or none: the device-agnostic entry.
  for (const char* dev : {"NVIDIA H200", ""}) {
    const LutEntry* e = t.find(make(4096, 4096, 4096, Layout::NT, dev));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->configs.size(), 2u);
    EXPECT_EQ(e->note, "nn.Linear 4096 -> 4096 at 4096 tokens");
  }
  EXPECT_EQ(t.find(make(4096, 4096, 4096, Layout::NN)), nullptr);
  Problem bmm = make(512, 512, 64, Layout::NN);
  bmm.op = Op::bmm;
  bmm.dtype = DType::fp16;
  bmm.batch = 32;
  ASSERT_NE(t.find(bmm), nullptr);
  EXPECT_EQ(t.find(bmm)->configs[0].note, "attention scores");
  bmm.batch = 16;
  EXPECT_EQ(t.find(bmm), nullptr);
}

TEST(Lut, CanonicalTextIsStableAndRoundTrips) {
  auto t = LookupTable::load(kDir + "/good/example.json");
  std::string text = t.serialize();
  auto again = LookupTable::parse(text, "canonical");
  EXPECT_TRUE(again == t);
  EXPECT_EQ(again.serialize(), text);
  // Sorted: the device-agnostic entries come before the device-specific one.
  EXPECT_LT(text.find("\"op\": \"bmm\""), text.find("NVIDIA H100 80GB HBM3"));
  EXPECT_NE(text.find(R"({"template": "triton_mm", "block_m": 128, "block_n": 256, "block_k": 64, "group_m": 8, "num_stages": 3, "num_warps": 8, "measured_us": 201.5, "source": "gemmsift collect", "date": "2026-11-27"})"),
            std::string::npos);
  EXPECT_EQ(text.rfind("{\n  \"gemmsift_lut\": 1,\n  \"entries\": [\n", 0), 0u);
  EXPECT_EQ(LookupTable().serialize(), "{\n  \"gemmsift_lut\": 1,\n  \"entries\": []\n}\n");
}

TEST(Lut, UpsertKeepsConfigsOrderedByTime) {
  LookupTable t;
  Problem p = make(256, 256, 256);
  EXPECT_TRUE(t.upsert(p, lc("64x64x32 s2 w4", 20.0)));
  EXPECT_TRUE(t.upsert(p, lc("128x64x32 s3 w4", 10.0)));
  EXPECT_TRUE(t.upsert(p, lc("32x32x32 s2 w2")));
  EXPECT_TRUE(t.upsert(p, lc("64x64x32 s2 w4", 5.0)));  // same config, new time
  const auto& cs = t.find(p)->configs;
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0].config.to_string(), "64x64x32 g8 s2 w4");
  EXPECT_EQ(cs[1].config.to_string(), "128x64x32 g8 s3 w4");
  EXPECT_FALSE(cs[2].measured_us.has_value());
  EXPECT_FALSE(t.upsert(p, lc("64x64x32 s2 w4", 5.0)));  // nothing new
  EXPECT_TRUE(t.upsert(p, lc("16x16x16 s1 w1", 1.0), 2));
  EXPECT_EQ(t.find(p)->configs.size(), 2u);
  EXPECT_EQ(t.find(p)->configs[0].config.block_m, 16);
}

TEST(Lut, MergePolicies) {
  LookupTable a, b;
  Problem p = make(512, 512, 512), q = make(1024, 1024, 1024);
  a.upsert(p, lc("64x64x32 s2 w4", 20.0));
  b.upsert(p, lc("128x128x32 s3 w4", 15.0));
  b.upsert(q, lc("128x128x64 s3 w8", 40.0));
  std::vector<MergeConflict> conflicts;
  auto first = merge(a, b, MergePolicy::keep_first, &conflicts);
  EXPECT_EQ(first.size(), 2u);
  EXPECT_EQ(first.find(p)->configs[0].config.block_m, 64);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].resolution, "kept first");
  auto faster = merge(a, b, MergePolicy::keep_faster, &conflicts);
  EXPECT_EQ(faster.find(p)->configs[0].config.block_m, 128);
  EXPECT_EQ(conflicts[0].resolution, "kept second (faster: 15 us < 20 us)");
  try {
    merge(a, b, MergePolicy::fail);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "1 conflicting entry (policy fail): mm bf16 NT 512x512x512");
  }
  // Identical entries are not conflicts.
  EXPECT_NO_THROW(merge(a, a, MergePolicy::fail));
  EXPECT_EQ(parse_merge_policy("keep-faster"), MergePolicy::keep_faster);
  EXPECT_THROW(parse_merge_policy("newest"), Error);
}

TEST(Lut, RecordingFromEightProcessesLosesNothing) {
  auto dir = temp_dir("record");
  const std::string path = (dir / "table.json").string();
  constexpr int kWriters = 8, kEach = 6;
  std::vector<pid_t> kids;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        for (int i = 0; i < kEach; ++i) {
          // Every writer has its own problems, and all share one problem (a config each).
          record_measurement(path, make(64 + w, 128 + i, 256), lc("64x64x32 s2 w4", 10.0 + i));
          LutConfig c = lc("64x64x32 s2 w4", 1.0 + w);
          c.config.group_m = 1 + w;
          record_measurement(path, make(999, 999, 999), c);
        }
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto t = LookupTable::load(path, LutLoadOptions{true});
  EXPECT_EQ(t.size(), static_cast<std::size_t>(kWriters * kEach + 1));
  EXPECT_EQ(t.find(make(999, 999, 999))->configs.size(), static_cast<std::size_t>(kWriters));
  std::filesystem::remove_all(dir);
}

TEST(Lut, RecordRefusesToRewriteABrokenTable) {
  auto dir = temp_dir("record_bad");
  const std::string path = (dir / "t.json").string();
  std::filesystem::copy_file(kDir + "/bad/bad_block.json", path);
  const std::string before = detail::read_file(path);
  try {
    record_measurement(path, make(64, 64, 64), lc("64x64x32 s2 w4", 3.0));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": not recording into a table with problems", 0), 0u) << e.what();
  }
  EXPECT_EQ(detail::read_file(path), before);
  std::filesystem::remove_all(dir);
}

TEST(LutTorch, KeysMatchInductorsFormat) {
  Problem nt = make(4096, 1024, 512, Layout::NT);
  EXPECT_EQ(torch_lookup_key(nt, ""),
            "((torch.bfloat16, [4096, 512], [512, 1]), (torch.bfloat16, [512, 1024], [1, 512]))+mm");
  Problem tn = make(8, 16, 32, Layout::TN);
  tn.dtype = DType::fp32;
  EXPECT_EQ(torch_lookup_key(tn, "NVIDIA H100 80GB HBM3"),
            "NVIDIA H100 80GB HBM3+((torch.float32, [8, 32], [1, 8]), (torch.float32, [32, 16], [16, 1]))+mm");
  Problem add = make(128, 256, 64, Layout::NN);
  add.op = Op::addmm;
  add.dtype = DType::fp16;
  EXPECT_EQ(torch_lookup_key(add, ""),
            "((torch.float16, [128, 256], [0, 1]), (torch.float16, [128, 64], [64, 1]), "
            "(torch.float16, [64, 256], [256, 1]))+alpha=1&beta=1+addmm");
  Problem bmm = make(64, 32, 16, Layout::NT);
  bmm.op = Op::bmm;
  bmm.batch = 4;
  EXPECT_EQ(torch_lookup_key(bmm, ""),
            "((torch.bfloat16, [4, 64, 16], [1024, 16, 1]), (torch.bfloat16, [4, 16, 32], [512, 1, 16]))+bmm");
}

TEST(LutTorch, ExportsTemplateParameters) {
  LookupTable t;
  t.upsert(make(4096, 4096, 4100), lc("128x128x64 g4 s3 w8", 10));
  auto j = to_torch_table(t);
  ASSERT_EQ(j.size(), 1u);
  const auto& c = j.begin().value()[0];
  EXPECT_EQ(c["template_id"], "triton::mm");
  EXPECT_EQ(c["BLOCK_M"], 128);
  EXPECT_EQ(c["GROUP_M"], 4);
  EXPECT_EQ(c["num_stages"], 3);
  EXPECT_EQ(c["num_warps"], 8);
  EXPECT_EQ(c["EVEN_K"], false);  // 4100 % 64 != 0
  EXPECT_EQ(c["ACC_TYPE"], "tl.float32");
  EXPECT_EQ(c["USE_FAST_ACCUM"], false);
  EXPECT_TRUE(c["hint_override"].is_null());
}

TEST(LutTorch, RoundTripThroughTorchsFormat) {
  auto t = LookupTable::load(kDir + "/good/example.json");
  std::vector<std::string> warnings;
  auto back = from_torch_table(to_torch_table(t), "torch.json", &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(back.size(), t.size());
  for (const auto& e : t.entries()) {
    const LutEntry* b = back.find_exact(e.problem);
    ASSERT_NE(b, nullptr) << e.problem.to_string();
    ASSERT_EQ(b->configs.size(), e.configs.size());
    for (std::size_t i = 0; i < e.configs.size(); ++i) EXPECT_EQ(b->configs[i].config, e.configs[i].config);
  }
}

TEST(LutTorch, UnusableEntriesAreSkippedWithAWarning) {
  auto j = nlohmann::json::parse(R"({
    "((torch.bfloat16, [64, 64], [64, 1]), (torch.bfloat16, [64, 64], [64, 1]))+mm": [
      {"template_id": "aten::mm"},
      {"template_id": "triton::mm", "BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "num_stages": 2, "num_warps": 4}],
    "((torch.int8, [64, 64], [64, 1]), (torch.int8, [64, 64], [64, 1]))+mm": [
      {"template_id": "triton::mm", "BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "num_stages": 2, "num_warps": 4}],
    "((torch.bfloat16, [64, 64], [64, 2]), (torch.bfloat16, [64, 64], [64, 1]))+mm": [
      {"template_id": "triton::mm", "BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "num_stages": 2, "num_warps": 4}]
  })");
  std::vector<std::string> w;
  auto t = from_torch_table(j, "t.json", &w);
  EXPECT_EQ(t.size(), 1u);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0], "t.json: key \"((torch.bfloat16, [64, 64], [64, 1]), (torch.bfloat16, [64, 64], [64, 1]))+mm\" config 0: template 'aten::mm' is not one gemmsift models (config skipped)");
  EXPECT_EQ(w[1], "t.json: key \"((torch.bfloat16, [64, 64], [64, 2]), (torch.bfloat16, [64, 64], [64, 1]))+mm\": A has strides [64, 2] with no contiguous dimension (entry skipped)");
  EXPECT_EQ(w[2], "t.json: key \"((torch.int8, [64, 64], [64, 1]), (torch.int8, [64, 64], [64, 1]))+mm\": dtype torch.int8 is not supported (bf16, fp16, fp32) (entry skipped)");
}

namespace {
class ConstModel : public PerformanceModel {
 public:
  std::vector<double> estimate(const Problem&, std::span<const Config> cs) const override {
    std::vector<double> v;
    for (const auto& c : cs) v.push_back(1000.0 / (c.block_m * c.block_n) + c.block_k * 1e-3 + c.num_stages * 1e-4 + c.num_warps * 1e-5);
    return v;
  }
  std::string name() const override { return "const"; }
  nlohmann::json metadata() const override { return {{"kind", "const"}}; }
};
}  // namespace

TEST(Lut, SelectorAlwaysBenchmarksTableHits) {
  auto table = std::make_shared<LookupTable>(LookupTable::load(kDir + "/good/example.json"));
  SelectOptions o;
  o.benchmark_space = BenchmarkSpace::top(2);
  Selector s(std::make_shared<ConstModel>(), o);
  s.set_pinned(table);
  auto sel = s.select(make(4096, 4096, 4096, Layout::NT));
  ASSERT_EQ(sel.candidates.size(), 4u);  // 2 pinned + k = 2
  EXPECT_EQ(sel.candidates[0].source, Source::lut);
  EXPECT_EQ(sel.candidates[1].source, Source::lut);
  EXPECT_EQ(sel.candidates[1].origin, kDir + "/good/example.json#/entries/0");
  EXPECT_EQ(sel.candidates[2].source, Source::model);
  EXPECT_FALSE(sel.skip_benchmark);
  // pinned_only: only the table's configs; the device-specific entry has one, so no benchmark.
  o.pinned_only = true;
  Selector only(std::make_shared<ConstModel>(), o);
  only.set_pinned(table);
  auto one = only.select(make(4096, 4096, 4096, Layout::NT, "NVIDIA H100 80GB HBM3"));
  ASSERT_EQ(one.candidates.size(), 1u);
  EXPECT_TRUE(one.skip_benchmark);
  // A miss selects as usual.
  EXPECT_EQ(only.select(make(100, 100, 100)).candidates.size(), 2u);
}

namespace {
rc::Gen<LutConfig> gen_lut_config() {
  return rc::gen::map(
      rc::gen::tuple(rc::gen::element(16, 32, 64, 128, 256), rc::gen::element(16, 32, 64, 128, 256),
                     rc::gen::element(16, 32, 64, 128, 256), rc::gen::inRange(1, 65), rc::gen::inRange(1, 9),
                     rc::gen::element(1, 2, 4, 8, 16, 32), rc::gen::maybe(rc::gen::inRange(1, 1000000)),
                     rc::gen::element(std::string(), std::string("x"), std::string("quo\"te\\ and \xc3\xa9"))),
      [](auto t) {
        LutConfig c;
        std::tie(c.config.block_m, c.config.block_n, c.config.block_k, c.config.group_m, c.config.num_stages,
                 c.config.num_warps) = std::make_tuple(std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t),
                                                       std::get<4>(t), std::get<5>(t));
        if (std::get<6>(t)) c.measured_us = *std::get<6>(t) / 7.0;
        c.source = std::get<7>(t);
        c.note = std::get<7>(t).empty() ? "" : "n";
        if (!c.source.empty()) c.date = "2026-11-27T10:00:00Z";
        return c;
      });
}
}  // namespace

RC_GTEST_PROP(LutProperties, ParseOfSerializeIsIdentity, ()) {
  LookupTable t;
  const int n = *rc::gen::inRange(0, 12);
  for (int i = 0; i < n; ++i) {
    LutEntry e;
    e.problem.m = *rc::gen::inRange<std::int64_t>(1, 100000);
    e.problem.n = *rc::gen::inRange<std::int64_t>(1, 100000);
    e.problem.k = *rc::gen::inRange<std::int64_t>(1, 100000);
    e.problem.dtype = *rc::gen::element(DType::bf16, DType::fp16, DType::fp32);
    e.problem.layout = *rc::gen::element(Layout::NN, Layout::NT, Layout::TN, Layout::TT);
    e.problem.op = *rc::gen::element(Op::mm, Op::addmm, Op::bmm);
    if (e.problem.op == Op::bmm) e.problem.batch = *rc::gen::inRange<std::int64_t>(1, 64);
    e.problem.device = *rc::gen::element(std::string(), std::string("NVIDIA H200"), std::string("My GPU/2"));
    auto configs = *rc::gen::container<std::vector<LutConfig>>(*rc::gen::inRange(1, 4), gen_lut_config());
    for (const auto& c : configs) {
      bool dup = false;
      for (const auto& have : e.configs) dup = dup || have.config == c.config;
      if (!dup) e.configs.push_back(c);
    }
    e.note = *rc::gen::element(std::string(), std::string("tuned\nby hand"));
    if (!t.find_exact(e.problem)) t.add(e);
  }
  const std::string text = t.serialize();
  auto back = LookupTable::parse(text, "rc", LutLoadOptions{true});
  RC_ASSERT(back == t);
  RC_ASSERT(back.serialize() == text);
}
