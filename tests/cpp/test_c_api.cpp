// C API: every call checks both the status and the error text.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "gemmsift/c_api.h"

#include <cstdio>

namespace {

const char* kProblem = R"({"m": 4096, "n": 4096, "k": 4096, "dtype": "bf16", "layout": "NT"})";

std::string take(char* s) {
  std::string out(s);
  gs_free_string(s);
  return out;
}

}  // namespace

TEST(CApi, Version) {
  const char* v = nullptr;
  int abi = 0;
  ASSERT_EQ(gs_version(&v, &abi), GS_OK);
  EXPECT_STREQ(v, "0.1.0");
  EXPECT_EQ(abi, GS_ABI_VERSION);
}

TEST(CApi, SpaceJsonAndTypedAgree) {
  char* out = nullptr;
  ASSERT_EQ(gs_space(kProblem, R"({"space": "EXHAUSTIVE"})", &out), GS_OK) << gs_last_error();
  auto j = nlohmann::json::parse(take(out));
  ASSERT_EQ(j["configs"].size(), 1400u);
  std::size_t count = 0;
  ASSERT_EQ(gs_space_configs(kProblem, nullptr, nullptr, 0, &count), GS_OK);
  ASSERT_EQ(count, 1400u);
  std::vector<gs_config> cs(count);
  ASSERT_EQ(gs_space_configs(kProblem, nullptr, cs.data(), cs.size(), &count), GS_OK);
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_EQ(cs[i].block_m, j["configs"][i]["block_m"]);
    EXPECT_EQ(cs[i].num_warps, j["configs"][i]["num_warps"]);
  }
}

TEST(CApi, BadProblemJsonNamesThePlace) {
  char* out = nullptr;
  EXPECT_EQ(gs_space(R"({"m": 1, "n": 2,})", nullptr, &out), GS_ERR_PARSE);
  EXPECT_EQ(gs_last_error_code(), GS_ERR_PARSE);
  EXPECT_EQ(std::string(gs_last_error()).rfind("problem:1:17: invalid JSON: syntax error while parsing object key", 0), 0u)
      << gs_last_error();
  EXPECT_EQ(gs_space(R"({"m": 1, "n": 2, "k": "x"})", nullptr, &out), GS_ERR_PARSE);
  EXPECT_STREQ(gs_last_error(), "problem/k: expected an integer, got string \"x\"");
  EXPECT_EQ(gs_space(R"({"m": 1, "n": 2, "k": 3, "dtype": "int4"})", nullptr, &out), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "problem/dtype: unknown dtype 'int4': expected bf16, fp16 or fp32");
  EXPECT_EQ(gs_space(R"({"m": -1, "n": 2, "k": 3})", nullptr, &out), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "problem: m must be a positive integer, got -1");
  EXPECT_EQ(gs_space(R"({"m": 1, "n": 2, "k": 3, "kk": 3})", nullptr, &out), GS_ERR_PARSE);
  EXPECT_STREQ(gs_last_error(),
               "problem/kk: unknown field; expected one of device, op, dtype, layout, m, n, k, batch");
  EXPECT_EQ(gs_space(kProblem, R"({"space": "ALL"})", &out), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "unknown search space 'ALL': expected DEFAULT or EXHAUSTIVE");
  EXPECT_EQ(gs_space(kProblem, R"({"spaec": "DEFAULT"})", &out), GS_ERR_PARSE);
  EXPECT_STREQ(gs_last_error(), "options/spaec: unknown field; expected one of space, shared_memory_limit");
  EXPECT_EQ(gs_space(nullptr, nullptr, &out), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "gs_space: problem_json must not be NULL");
}

TEST(CApi, ModelLifecycleAndEstimate) {
  gs_model* m = nullptr;
  ASSERT_EQ(gs_model_create("analytical", nullptr, &m), GS_OK) << gs_last_error();
  char* info = nullptr;
  ASSERT_EQ(gs_model_info(m, &info), GS_OK);
  auto j = nlohmann::json::parse(take(info));
  EXPECT_EQ(j["kind"], "analytical");
  EXPECT_EQ(j["name"], "analytical");
  gs_config cs[2] = {{0, 128, 128, 64, 8, 3, 4}, {0, 256, 256, 128, 8, 5, 8}};
  double us[2] = {0, 0};
  ASSERT_EQ(gs_model_estimate(m, kProblem, cs, 2, us), GS_OK);
  EXPECT_TRUE(std::isfinite(us[0]) && us[0] > 0);
  EXPECT_TRUE(std::isinf(us[1]));
  cs[0].template_id = 9;
  EXPECT_EQ(gs_model_estimate(m, kProblem, cs, 1, us), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "configs[0].template_id: unknown template 9");
  EXPECT_EQ(gs_model_free(m), GS_OK);
}

TEST(CApi, Off16OptionDefaultsToPadded) {
  // The shipped H200 model (the arguments kernel's data) on 777x3000x1500 NT: without "off16" it
  // scores the problem as 777x3008x1504 ("padded"), with "learned" as it is; a bad value refuses.
  const std::string path = std::string(GEMMSIFT_SOURCE_DIR) + "/models/h200_bf16.safetensors";
  const char* odd = R"({"m": 777, "n": 3000, "k": 1500, "dtype": "bf16", "layout": "NT"})";
  const char* padded = R"({"m": 777, "n": 3008, "k": 1504, "dtype": "bf16", "layout": "NT"})";
  gs_config cs[3] = {{0, 128, 128, 64, 8, 3, 4}, {0, 64, 128, 32, 8, 4, 4}, {0, 128, 256, 64, 8, 4, 8}};
  auto estimate = [&](const char* options, const char* problem) {
    gs_model* m = nullptr;
    EXPECT_EQ(gs_model_create(path.c_str(), options, &m), GS_OK) << gs_last_error();
    std::vector<double> us(3, 0.0);
    EXPECT_EQ(gs_model_estimate(m, problem, cs, 3, us.data()), GS_OK) << gs_last_error();
    gs_model_free(m);
    return us;
  };
  const auto by_default = estimate(nullptr, odd);
  EXPECT_EQ(by_default, estimate(R"({"off16": "padded"})", odd));
  EXPECT_EQ(by_default, estimate(R"({"off16": "learned"})", padded));
  EXPECT_NE(by_default, estimate(R"({"off16": "learned"})", odd));
  gs_model* m = nullptr;
  EXPECT_EQ(gs_model_create(path.c_str(), R"({"off16": "always"})", &m), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "off16 'always': expected padded (the default), learned or analytical");
}

TEST(CApi, ModelErrors) {
  gs_model* m = reinterpret_cast<gs_model*>(0x1);
  EXPECT_EQ(gs_model_create("nonsense", nullptr, &m), GS_ERR_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(std::string(gs_last_error()).rfind("unknown model 'nonsense': known kinds are analytical", 0), 0u);
  EXPECT_EQ(gs_model_create("/no/such/model.safetensors", nullptr, &m), GS_ERR_IO);
  EXPECT_STREQ(gs_last_error(), "/no/such/model.safetensors: cannot open: No such file or directory");
  EXPECT_EQ(gs_model_create("analytical", R"({"mismatch_policy": "ignore"})", &m), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "mismatch policy 'ignore': expected warn or refuse");
}

TEST(CApi, Select) {
  gs_model* m = nullptr;
  ASSERT_EQ(gs_model_create("analytical", nullptr, &m), GS_OK);
  char* out = nullptr;
  ASSERT_EQ(gs_select(m, kProblem, R"({"benchmark_space": 5})", &out), GS_OK) << gs_last_error();
  auto j = nlohmann::json::parse(take(out));
  ASSERT_EQ(j["candidates"].size(), 5u);
  EXPECT_EQ(j["candidates"][0]["model_rank"], 0);
  EXPECT_EQ(j["search_space_size"], 1400);
  EXPECT_EQ(gs_select(nullptr, kProblem, R"({"benchmark_space": "fast"})", &out), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "benchmark space 1 needs a model");
  ASSERT_EQ(gs_select(nullptr, kProblem, R"({"benchmark_space": "SAME", "space": "DEFAULT"})", &out), GS_OK);
  EXPECT_EQ(nlohmann::json::parse(take(out))["candidates"].size(), 20u);
  // DEFAULT anchors: the last two of the five are the DEFAULT list's best-ranked others.
  ASSERT_EQ(gs_select(m, kProblem, R"({"benchmark_space": 5, "anchors": 2})", &out), GS_OK) << gs_last_error();
  j = nlohmann::json::parse(take(out));
  ASSERT_EQ(j["candidates"].size(), 5u);
  EXPECT_EQ(j["candidates"][2]["source"], "model");
  EXPECT_EQ(j["candidates"][3]["source"], "anchor");
  EXPECT_EQ(j["candidates"][4]["source"], "anchor");
  EXPECT_EQ(gs_select(m, kProblem, R"({"benchmark_space": 5, "anchors": -1})", &out), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "options: \"anchors\" must be a count from 0 to 1000000, got -1");
  EXPECT_EQ(gs_select(m, kProblem, R"({"benchmark_space": 5, "anchors": true})", &out), GS_ERR_PARSE);
  EXPECT_NE(std::string(gs_last_error()).find("anchors"), std::string::npos) << gs_last_error();
  gs_model_free(m);
}

TEST(CApi, LastErrorIsPerThread) {
  char* out = nullptr;
  EXPECT_EQ(gs_space(nullptr, nullptr, &out), GS_ERR_INVALID_ARGUMENT);
  std::string other;
  int other_code = -1;
  std::thread t([&] {
    other = gs_last_error();
    other_code = gs_last_error_code();
  });
  t.join();
  EXPECT_EQ(other, "");
  EXPECT_EQ(other_code, GS_OK);
  EXPECT_STREQ(gs_last_error(), "gs_space: problem_json must not be NULL");
}

TEST(CApi, LookupTableLoadLookupAndSelector) {
  const std::string dir = std::string(GEMMSIFT_SOURCE_DIR) + "/tests/lut";
  gs_lut* lut = nullptr;
  char* warnings = nullptr;
  ASSERT_EQ(gs_lut_load((dir + "/bad/unknown_field.json").c_str(), nullptr, &lut, &warnings), GS_OK) << gs_last_error();
  auto w = nlohmann::json::parse(take(warnings));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].get<std::string>().find("unknown field 'blockm'") != std::string::npos, true);
  gs_lut_free(lut);
  EXPECT_EQ(gs_lut_load((dir + "/bad/unknown_field.json").c_str(), R"({"strict": true})", &lut, nullptr), GS_ERR_PARSE);
  EXPECT_EQ(std::string(gs_last_error()).rfind(dir + "/bad/unknown_field.json:13:98 /entries/1/configs/0/blockm: unknown field 'blockm'", 0), 0u)
      << gs_last_error();
  EXPECT_EQ(lut, nullptr);

  ASSERT_EQ(gs_lut_load((dir + "/good/example.json").c_str(), nullptr, &lut, nullptr), GS_OK);
  char* out = nullptr;
  ASSERT_EQ(gs_lut_lookup(lut, R"({"m": 4096, "n": 4096, "k": 4096, "layout": "NT", "device": "NVIDIA H100 80GB HBM3"})", &out), GS_OK);
  auto hit = nlohmann::json::parse(take(out));
  EXPECT_TRUE(hit["found"].get<bool>());
  EXPECT_EQ(hit["entry"]["configs"][0]["measured_us"], 198.25);
  ASSERT_EQ(gs_lut_lookup(lut, R"({"m": 1, "n": 1, "k": 1})", &out), GS_OK);
  EXPECT_FALSE(nlohmann::json::parse(take(out))["found"].get<bool>());

  gs_model* m = nullptr;
  ASSERT_EQ(gs_model_create("analytical", nullptr, &m), GS_OK);
  gs_selector* sel = nullptr;
  ASSERT_EQ(gs_selector_create(m, lut, R"({"benchmark_space": 3})", &sel), GS_OK) << gs_last_error();
  gs_model_free(m);  // the selector keeps what it needs
  gs_lut_free(lut);
  ASSERT_EQ(gs_selector_select(sel, R"({"m": 4096, "n": 4096, "k": 4096, "layout": "NT"})", &out), GS_OK);
  auto s = nlohmann::json::parse(take(out));
  ASSERT_EQ(s["candidates"].size(), 5u);
  EXPECT_EQ(s["candidates"][0]["source"], "lut");
  EXPECT_EQ(s["candidates"][2]["source"], "model");
  gs_selector_free(sel);
  EXPECT_EQ(gs_selector_create(nullptr, nullptr, R"({"pinned_only": "yes"})", &sel), GS_ERR_PARSE);
  EXPECT_STREQ(gs_last_error(), "options/pinned_only: expected true or false, got string \"yes\"");
}

TEST(CApi, RecordIntoATable) {
  const std::string path = testing::TempDir() + "gs_capi_record.json";
  std::remove(path.c_str());
  int changed = -1;
  const char* p = R"({"m": 64, "n": 64, "k": 64, "layout": "NT"})";
  ASSERT_EQ(gs_lut_record(path.c_str(), p, R"({"block_m": 64, "block_n": 64, "block_k": 32, "num_stages": 2, "num_warps": 4, "measured_us": 7.5})", nullptr, &changed), GS_OK) << gs_last_error();
  EXPECT_EQ(changed, 1);
  ASSERT_EQ(gs_lut_record(path.c_str(), p, R"({"block_m": 64, "block_n": 64, "block_k": 32, "num_stages": 2, "num_warps": 4, "measured_us": 7.5})", nullptr, &changed), GS_OK);
  EXPECT_EQ(changed, 0);
  EXPECT_EQ(gs_lut_record(path.c_str(), p, R"({"block_m": 48, "block_n": 64, "block_k": 32, "num_stages": 2, "num_warps": 4})", nullptr, &changed), GS_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(gs_last_error(), "config/block_m: expected a power of two from 16 to 256, got 48");
  std::remove(path.c_str());
  std::remove((path + ".lock").c_str());
}
