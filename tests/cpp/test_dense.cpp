// The MLP's dense-layer kernels (portable and AVX2+FMA) against a double-precision reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "models/dense.h"

namespace gemmsift {
namespace {

struct Case {
  std::size_t rows, in, out, x_stride;
  bool relu;
};

void check(const Case& c, DenseIsa isa) {
  std::mt19937 rng(static_cast<unsigned>(c.rows * 1000 + c.in * 10 + c.out));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> w(c.out * c.in), b(c.out), x(c.rows * c.x_stride, 1e30f);  // padding poisoned
  for (auto& v : w) v = nd(rng);
  for (auto& v : b) v = nd(rng);
  for (std::size_t i = 0; i < c.rows; ++i) {
    for (std::size_t k = 0; k < c.in; ++k) x[i * c.x_stride + k] = nd(rng);
  }
  const DenseLayer l = DenseLayer::from_row_major(w.data(), b.data(), c.out, c.in);
  ASSERT_EQ(l.out_stride % 16, 0u);
  ASSERT_GE(l.out_stride, c.out);
  std::vector<float> y(c.rows * l.out_stride, std::nanf(""));
  dense_forward(l, x.data(), c.rows, c.x_stride, c.relu, y.data(), isa);
  for (std::size_t i = 0; i < c.rows; ++i) {
    for (std::size_t o = 0; o < c.out; ++o) {
      double ref = b[o];
      double mag = std::fabs(ref);
      for (std::size_t k = 0; k < c.in; ++k) {
        ref += static_cast<double>(x[i * c.x_stride + k]) * w[o * c.in + k];
        mag += std::fabs(static_cast<double>(x[i * c.x_stride + k]) * w[o * c.in + k]);
      }
      if (c.relu) ref = std::max(ref, 0.0);
      EXPECT_NEAR(y[i * l.out_stride + o], ref, 1e-5 * mag + 1e-6)
          << "rows " << c.rows << " in " << c.in << " out " << c.out << " at (" << i << ", " << o << ")";
    }
  }
}

const Case kCases[] = {{1, 1, 1, 1, false},    {3, 5, 1, 7, false},     {4, 25, 64, 25, true},
                       {5, 25, 17, 32, true},  {9, 64, 64, 64, true},   {128, 25, 128, 25, true},
                       {7, 128, 128, 128, true}, {130, 128, 1, 128, false}, {2, 33, 15, 40, false}};

TEST(Dense, PortableKernelMatchesReference) {
  for (const auto& c : kCases) check(c, DenseIsa::portable);
}

TEST(Dense, Avx2KernelMatchesReference) {
  if (!dense_avx2_available()) GTEST_SKIP() << "no AVX2+FMA on this processor";
  for (const auto& c : kCases) check(c, DenseIsa::avx2);
}

TEST(Dense, AutomaticChoiceMatchesReference) {
  for (const auto& c : kCases) check(c, DenseIsa::automatic);
}

TEST(Dense, ZeroRowsWritesNothing) {
  const std::vector<float> w(6, 1.0f), b(2, 1.0f);
  const DenseLayer l = DenseLayer::from_row_major(w.data(), b.data(), 2, 3);
  float y = 42.0f;
  dense_forward(l, nullptr, 0, 3, true, &y);
  EXPECT_EQ(y, 42.0f);
}

}  // namespace
}  // namespace gemmsift
