#include <gtest/gtest.h>

#include "gemmsift/config.h"
#include "gemmsift/error.h"
#include "gemmsift/problem.h"

using namespace gemmsift;

TEST(Problem, ParsesNamesAndAliases) {
  EXPECT_EQ(parse_dtype("bf16"), DType::bf16);
  EXPECT_EQ(parse_dtype("BFloat16"), DType::bf16);
  EXPECT_EQ(parse_dtype("half"), DType::fp16);
  EXPECT_EQ(parse_dtype("torch.float32"), DType::fp32);
  EXPECT_EQ(parse_layout("nt"), Layout::NT);
  EXPECT_EQ(parse_op("bmm"), Op::bmm);
  EXPECT_EQ(to_string(Layout::TN), "TN");
}

TEST(Problem, UnknownNamesListTheChoices) {
  try {
    parse_dtype("int8");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_STREQ(e.what(), "unknown dtype 'int8': expected bf16, fp16 or fp32");
  }
  try {
    parse_layout("NX");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown layout 'NX': expected NN, NT, TN or TT");
  }
}

TEST(Problem, ValidateRejectsBadDimensions) {
  Problem p;
  p.m = 16;
  p.n = 0;
  p.k = 16;
  try {
    p.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "n must be a positive integer, got 0");
  }
  p.n = 16;
  p.batch = 4;
  try {
    p.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "batch must be 1 for op mm, got 4");
  }
  p.op = Op::bmm;
  EXPECT_NO_THROW(p.validate());
}

TEST(Problem, FlopsBytesAndText) {
  Problem p;
  p.m = 128;
  p.n = 256;
  p.k = 64;
  p.dtype = DType::fp32;
  p.layout = Layout::NT;
  EXPECT_DOUBLE_EQ(p.flops(), 2.0 * 128 * 256 * 64);
  EXPECT_DOUBLE_EQ(p.min_bytes(), (128.0 * 64 + 64 * 256 + 128 * 256) * 4);
  EXPECT_EQ(p.to_string(), "mm fp32 NT 128x256x64");
  p.device = "H200";
  EXPECT_EQ(p.to_string(), "mm fp32 NT 128x256x64 on H200");
}

TEST(Config, ValidateNamesTheField) {
  Config c{Template::triton_mm, 128, 48, 32, 8, 3, 4};
  try {
    c.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "block_n: expected a power of two from 16 to 256, got 48");
  }
  c.block_n = 64;
  c.num_warps = 3;
  try {
    c.validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "num_warps: expected one of 1, 2, 4, 8, 16, 32, got 3");
  }
  c.num_warps = 4;
  c.num_stages = 9;
  EXPECT_THROW(c.validate(), Error);
  c.num_stages = 8;
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.to_string(), "128x64x32 g8 s8 w4");
}

TEST(Config, HashAndOrderFollowEveryField) {
  Config a{Template::triton_mm, 64, 64, 32, 8, 3, 4};
  Config b = a;
  EXPECT_EQ(ConfigHash{}(a), ConfigHash{}(b));
  b.group_m = 4;
  EXPECT_NE(a, b);
  EXPECT_NE(ConfigHash{}(a), ConfigHash{}(b));
  EXPECT_LT(b, a);
}
