#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "gemmsift/device.h"
#include "gemmsift/error.h"
#include "gemmsift/model.h"
#include "gemmsift/space.h"
#include "models/analytical.h"
#include "problems.h"

using namespace gemmsift;

namespace {

Problem make(std::int64_t m, std::int64_t n, std::int64_t k, DType dt = DType::bf16,
             Layout l = Layout::NT) {
  return test_util::make_problem(m, n, k, dt, l);
}

double best(const PerformanceModel& model, const Problem& p, Config* arg = nullptr) {
  auto space = search_space(p, SpaceKind::EXHAUSTIVE);
  auto pred = model.estimate(p, space);
  auto it = std::min_element(pred.begin(), pred.end());
  if (arg) *arg = space[static_cast<std::size_t>(it - pred.begin())];
  return *it;
}

// EVALUATION.md's physical floor.
double floor_us(const Problem& p, const Device& d) {
  return std::max(p.flops() / d.peak_flops(p.dtype), p.min_bytes() / d.mem_bandwidth) * 1e6;
}

}  // namespace

TEST(Registry, KnowsAnalytical) {
  auto kinds = model_kinds();
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds[0].kind, "analytical");
  auto m = create_model("analytical");
  EXPECT_EQ(m->name(), "analytical");
  EXPECT_EQ(m->metadata()["kind"], "analytical");
}

TEST(Registry, UnknownKindListsKnownOnes) {
  try {
    create_model("xgboost");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_EQ(std::string(e.what()).rfind("unknown model 'xgboost': known kinds are analytical", 0), 0u);
  }
}

TEST(Registry, SpecParametersAndRoundTrip) {
  auto m = create_model("analytical:device=H200, launch_us=4.5");
  EXPECT_EQ(m->name(), "analytical:device=H200,launch_us=4.5");
  auto again = create_model(m->name());
  EXPECT_EQ(again->name(), m->name());
  try {
    create_model("analytical:speed=fast");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "analytical parameter speed: expected a number, got 'fast'");
  }
  try {
    create_model("analytical:launch_us");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "model spec 'analytical:launch_us': expected key=value, got 'launch_us'");
  }
  try {
    create_model("analytical:warp_speed=2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("unknown analytical parameter 'warp_speed': known parameters are launch_us,", 0), 0u);
  }
}

TEST(Registry, SaveAndLoadGivesIdenticalPredictions) {
  auto dir = std::filesystem::temp_directory_path() / "gemmsift_model_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / "a.safetensors").string();
  auto m = create_model("analytical:device=H200,load_latency_us=0.7");
  m->save(path);
  auto meta = read_model_metadata(path);
  EXPECT_EQ(meta["kind"], "analytical");
  EXPECT_EQ(meta["device"], "H200");
  auto loaded = create_model(path);
  EXPECT_EQ(loaded->name(), path);
  Problem p = make(3000, 5000, 700);
  auto space = search_space(p, SpaceKind::EXHAUSTIVE);
  EXPECT_EQ(m->estimate(p, space), loaded->estimate(p, space));
  std::filesystem::remove_all(dir);
}

TEST(Registry, NonModelFileIsRefused) {
  auto dir = std::filesystem::temp_directory_path() / "gemmsift_model_test2";
  std::filesystem::create_directories(dir);
  auto path = (dir / "x.safetensors").string();
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    const char hdr[] = "\x02\0\0\0\0\0\0\0{}";
    std::fwrite(hdr, 1, 10, f);
    std::fclose(f);
  }
  try {
    create_model(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": not a gemmsift model file (__metadata__.format must be 'gemmsift-model')");
  }
  std::filesystem::remove_all(dir);
}

TEST(Analytical, CannotLaunchWithTooMuchSharedMemory) {
  AnalyticalModel m(get_device("H100-SXM"));
  Config big{Template::triton_mm, 256, 256, 128, 8, 3, 8};  // 3 * 512 * 128 * 2 = 384 KiB
  Config ok{Template::triton_mm, 128, 128, 64, 8, 3, 4};
  auto pred = m.estimate(make(4096, 4096, 4096), std::vector<Config>{big, ok});
  EXPECT_TRUE(std::isinf(pred[0]));
  EXPECT_TRUE(std::isfinite(pred[1]));
  EXPECT_FALSE(m.explain(make(4096, 4096, 4096), big).launchable);
}

TEST(Analytical, LargeSquareBf16IsNearTheTensorPeak) {
  AnalyticalModel m(get_device("H100-SXM"));
  Problem p = make(4096, 4096, 4096);
  Config arg;
  double t = best(m, p, &arg);
  double fl = floor_us(p, m.device());
  EXPECT_GT(t, fl);
  EXPECT_LT(t, 2.5 * fl) << arg.to_string();
  EXPECT_GE(arg.block_m * arg.block_n, 64 * 128) << arg.to_string();
  EXPECT_STREQ(m.explain(p, arg).path, "wgmma");
}

TEST(Analytical, Fp32WithoutTf32UsesCudaCores) {
  AnalyticalModel m(get_device("H100-SXM"));
  Problem p = make(4096, 4096, 4096, DType::fp32);
  Config c{Template::triton_mm, 128, 128, 32, 8, 3, 8};
  EXPECT_STREQ(m.explain(p, c).path, "fma");
  double t = best(m, p);
  EXPECT_GT(t, p.flops() / 66.9e12 * 1e6);
  auto tf32 = create_model("analytical:allow_tf32=1");
  EXPECT_LT(best(*tf32, p), t / 3);
}

TEST(Analytical, SkinnyProblemsAreMemoryOrLaunchBound) {
  AnalyticalModel m(get_device("H100-SXM"));
  Problem p = make(1, 4096, 4096);
  double t = best(m, p);
  double bytes_us = p.min_bytes() / 3.35e12 * 1e6;
  EXPECT_GT(t, bytes_us);
  EXPECT_LT(t, 20 * bytes_us + 20);
}

TEST(Analytical, FollowsTheProblemsDevice) {
  AnalyticalModel m(get_device("H100-SXM"));
  Problem p = make(1, 8192, 8192);  // memory-bound: the H200's bandwidth shows
  double h100 = best(m, p);
  p.device = "NVIDIA H200";
  double h200 = best(m, p);
  EXPECT_LT(h200, h100);
  p.device = "Some Unknown GPU";
  EXPECT_DOUBLE_EQ(best(m, p), h100);
}

TEST(Analytical, MoreWorkTakesLonger) {
  AnalyticalModel m(get_device("H100-SXM"));
  EXPECT_LT(best(m, make(1024, 1024, 1024)), best(m, make(2048, 2048, 2048)));
  EXPECT_LT(best(m, make(2048, 2048, 2048)), best(m, make(4096, 4096, 4096)));
}

RC_GTEST_PROP(AnalyticalProperties, NeverBelowThePhysicalFloor, ()) {
  static const AnalyticalModel m(get_device("H100-SXM"));
  const auto dim = rc::gen::map(rc::gen::inRange(1, 15), [](int e) { return std::int64_t{1} << e; });
  Problem p = make(*dim + *rc::gen::inRange(0, 3), *dim, *dim,
                   *rc::gen::element(DType::bf16, DType::fp16, DType::fp32),
                   *rc::gen::element(Layout::NN, Layout::NT, Layout::TN, Layout::TT));
  auto space = search_space(p, SpaceKind::DEFAULT);
  auto pred = m.estimate(p, space);
  const double fl = floor_us(p, m.device());
  for (double t : pred) {
    RC_ASSERT(!std::isnan(t));
    RC_ASSERT(t >= fl);
  }
}

TEST(Analytical, SharedMemoryFollowsTritonsPipelining) {
  AnalyticalModel m(get_device("H100-SXM"));
  // Measured on an H100: 64x64x256 with 4 stages and 4 warps (wgmma: 4 buffers) needs 256 KiB
  // and fails; with 2 warps (mma.sync: 3 buffers) it needs 192 KiB and runs.
  Problem p = make(2048, 2048, 2048);
  EXPECT_FALSE(m.explain(p, Config{Template::triton_mm, 64, 64, 256, 8, 4, 4}).launchable);
  auto two = m.explain(p, Config{Template::triton_mm, 64, 64, 256, 8, 4, 2});
  EXPECT_TRUE(two.launchable);
  EXPECT_DOUBLE_EQ(two.smem_bytes, 3.0 * 128 * 256 * 2);
  // Rows that are not 16-byte aligned (K = 777 in bf16) are not pipelined through shared memory:
  // nothing failed to launch for such a problem.
  EXPECT_TRUE(m.explain(make(1000, 3000, 777), Config{Template::triton_mm, 128, 256, 128, 8, 5, 8}).launchable);
}

TEST(Registry, AnyDeviceFromAJsonFile) {
  auto dir = std::filesystem::temp_directory_path() / "gemmsift_device_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "gpu.json").string();
  {
    std::ofstream(path) << R"({"base": "H100-SXM", "name": "H100-half", "sm_count": 66})";
  }
  auto m = create_model("analytical:device_file=" + path);
  EXPECT_EQ(m->metadata()["device"], "H100-half");
  EXPECT_EQ(m->metadata()["sm_count"], 66);
  {
    std::ofstream(path) << R"({"base": "H100-SXM", "sm_count": "many"})";
  }
  try {
    create_model("analytical:device_file=" + path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ": /sm_count: expected a number, got string");
  }
  std::filesystem::remove_all(dir);
}
