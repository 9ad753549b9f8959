#include <gtest/gtest.h>

#include "gemmsift/error.h"
#include "gemmsift/json.h"

using namespace gemmsift;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Json, ProblemRoundTrip) {
  Problem p;
  p.m = 7;
  p.n = 8;
  p.k = 9;
  p.dtype = DType::fp16;
  p.layout = Layout::TT;
  p.device = "H200";
  EXPECT_EQ(problem_from_json(to_json(p)), p);
  p.op = Op::bmm;
  p.batch = 3;
  EXPECT_EQ(problem_from_json(to_json(p)), p);
}

TEST(Json, ConfigRoundTripAndErrors) {
  Config c{Template::triton_mm, 64, 32, 16, 4, 2, 2};
  EXPECT_EQ(config_from_json(to_json(c)), c);
  auto j = to_json(c);
  j["block_m"] = 48;
  EXPECT_EQ(error_of([&] { config_from_json(j, "/entries/3/configs/0"); }),
            "/entries/3/configs/0/block_m: expected a power of two from 16 to 256, got 48");
  j = to_json(c);
  j.erase("num_warps");
  EXPECT_EQ(error_of([&] { config_from_json(j, "/c"); }), "/c: missing field 'num_warps'");
  j = to_json(c);
  j["num_warps"] = 4.5;
  EXPECT_EQ(error_of([&] { config_from_json(j, "/c"); }), "/c/num_warps: expected an integer, got 4.5");
  j = to_json(c);
  j["num_warps"] = 4.0;  // an integral float is an integer
  EXPECT_EQ(config_from_json(j, "/c").num_warps, 4);
}

TEST(Json, ParseErrorsCarryLineAndColumn) {
  EXPECT_EQ(error_of([] { parse_json_text("{\n  \"m\": 1,\n  \"n\": ]\n}", "p.json"); }).rfind("p.json:3:8: invalid JSON:", 0), 0u);
  EXPECT_EQ(error_of([] { parse_json_text("", "empty"); }).rfind("empty:1:1: invalid JSON:", 0), 0u);
}

TEST(Json, WrongTypes) {
  EXPECT_EQ(error_of([] { problem_from_json(nlohmann::json::array(), "/problem"); }),
            "/problem: expected a problem object, got array");
  EXPECT_EQ(error_of([] { problem_from_json(nlohmann::json::parse(R"({"m": 1, "n": 1, "k": 1, "dtype": 16})")); }),
            "/dtype: expected a string, got 16");
}
