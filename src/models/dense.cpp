#include "models/dense.h"

#include <Eigen/Core>

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gemmsift {

DenseLayer DenseLayer::from_row_major(const float* w, const float* b, std::size_t out, std::size_t in) {
  DenseLayer l;
  l.in = in;
  l.out = out;
  l.out_stride = (out + 15) / 16 * 16;
  l.wt.assign(in * l.out_stride, 0.0f);
  l.bias.assign(l.out_stride, 0.0f);
  for (std::size_t o = 0; o < out; ++o) {
    for (std::size_t k = 0; k < in; ++k) l.wt[k * l.out_stride + o] = w[o * in + k];
    l.bias[o] = b[o];
  }
  if (out == 1) l.w1.assign(w, w + in);
  return l;
}

namespace {

// Eigen's product (SSE2 in a generic x86-64 build) where AVX2 is missing.
void forward_portable(const DenseLayer& l, const float* x, std::size_t rows, std::size_t x_stride, bool relu,
                      float* y) {
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto r = static_cast<Eigen::Index>(rows);
  const auto in = static_cast<Eigen::Index>(l.in);
  const auto os = static_cast<Eigen::Index>(l.out_stride);
  Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>> xm(x, r, in, Eigen::OuterStride<>(static_cast<Eigen::Index>(x_stride)));
  Eigen::Map<const RowMatrix> wt(l.wt.data(), in, os);
  Eigen::Map<const Eigen::RowVectorXf> b(l.bias.data(), os);
  Eigen::Map<RowMatrix> ym(y, r, os);
  ym.noalias() = xm * wt;
  ym.rowwise() += b;
  if (relu) ym = ym.cwiseMax(0.0f);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GEMMSIFT_DENSE_AVX2 1

// R rows x 16 outputs of accumulators in registers (2R of the 16 ymm registers), one pass over
// the inputs: per input, two weight loads and R broadcasts feed 2R fused multiply-adds.
template <int R>
__attribute__((target("avx2,fma"))) void avx2_rows(const DenseLayer& l, const float* x, std::size_t x_stride,
                                                   bool relu, float* y) {
  const std::size_t in = l.in, os = l.out_stride;
  const float* wt = l.wt.data();
  const __m256 zero = _mm256_setzero_ps();
  for (std::size_t o0 = 0; o0 < os; o0 += 16) {
    __m256 acc[R][2];
    const __m256 b0 = _mm256_loadu_ps(l.bias.data() + o0), b1 = _mm256_loadu_ps(l.bias.data() + o0 + 8);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = b0;
      acc[r][1] = b1;
    }
    const float* w = wt + o0;
    for (std::size_t k = 0; k < in; ++k, w += os) {
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 xv = _mm256_broadcast_ss(x + r * x_stride + k);
        acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      float* yr = y + r * os + o0;
      _mm256_storeu_ps(yr, relu ? _mm256_max_ps(acc[r][0], zero) : acc[r][0]);
      _mm256_storeu_ps(yr + 8, relu ? _mm256_max_ps(acc[r][1], zero) : acc[r][1]);
    }
  }
}

// One output (a network's last layer): a dot product per row, over the inputs.
__attribute__((target("avx2,fma"))) void avx2_dot(const DenseLayer& l, const float* x, std::size_t rows,
                                                  std::size_t x_stride, bool relu, float* y) {
  const std::size_t in = l.in, os = l.out_stride, vec = in / 8 * 8;
  const float* w = l.w1.data();
  for (std::size_t i = 0; i < rows; ++i) {
    const float* xi = x + i * x_stride;
    __m256 acc = _mm256_setzero_ps();
    for (std::size_t k = 0; k < vec; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(xi + k), _mm256_loadu_ps(w + k), acc);
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    float sum = _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1))) + l.bias[0];
    for (std::size_t k = vec; k < in; ++k) sum += xi[k] * w[k];
    y[i * os] = relu ? std::max(sum, 0.0f) : sum;
  }
}

__attribute__((target("avx2,fma"))) void forward_avx2(const DenseLayer& l, const float* x, std::size_t rows,
                                                      std::size_t x_stride, bool relu, float* y) {
  if (l.out == 1) {
    avx2_dot(l, x, rows, x_stride, relu, y);
    return;
  }
  constexpr std::size_t kRows = 6;
  std::size_t i = 0;
  for (; i + kRows <= rows; i += kRows) avx2_rows<kRows>(l, x + i * x_stride, x_stride, relu, y + i * l.out_stride);
  for (; i < rows; ++i) avx2_rows<1>(l, x + i * x_stride, x_stride, relu, y + i * l.out_stride);
}
#endif

}  // namespace

bool dense_avx2_available() {
#ifdef GEMMSIFT_DENSE_AVX2
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return ok;
#else
  return false;
#endif
}

void dense_forward(const DenseLayer& layer, const float* x, std::size_t rows, std::size_t x_stride, bool relu,
                   float* y, DenseIsa isa) {
#ifdef GEMMSIFT_DENSE_AVX2
  if (isa != DenseIsa::portable && dense_avx2_available()) {
    forward_avx2(layer, x, rows, x_stride, relu, y);
    return;
  }
#endif
  forward_portable(layer, x, rows, x_stride, relu, y);
}

}  // namespace gemmsift
