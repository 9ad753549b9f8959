// gemmsift: the dense layer of MLP inference, y = x * W^T + b (ReLU optional), with a kernel for
// AVX2+FMA chosen at run time on processors that have it and a portable one elsewhere.
//
// Hand-written rather than Eigen: Eigen's kernels are fixed at compile time (SSE2 for a generic
// x86-64 build), and compiling Eigen code for AVX2 in one file would give the linker two
// different instantiations of the same templates to choose from.
#pragma once

#include <cstddef>
#include <vector>

namespace gemmsift {

// A layer's weights, transposed and padded for the kernels: wt[k * out_stride + o] = W[o][k] for
// k < in, o < out, zero for out <= o < out_stride (out_stride: out rounded up to 16).
struct DenseLayer {
  std::size_t in = 0, out = 0, out_stride = 0;
  std::vector<float> wt;    // in x out_stride
  std::vector<float> bias;  // out_stride (zero-padded)
  std::vector<float> w1;    // out == 1 only: W[0][k], contiguous (the dot-product kernel's weights)

  // w: out x in, row-major; b: out.
  static DenseLayer from_row_major(const float* w, const float* b, std::size_t out, std::size_t in);
};

enum class DenseIsa { automatic, portable, avx2 };

// Whether this processor runs the AVX2+FMA kernel (and the build has it).
bool dense_avx2_available();

// x: rows x layer.in, row stride x_stride; y: rows x layer.out_stride (the columns from layer.out
// on are scratch: callers ignore them). Throws nothing; avx2 on a processor without it falls back
// to portable.
void dense_forward(const DenseLayer& layer, const float* x, std::size_t rows, std::size_t x_stride,
                   bool relu, float* y, DenseIsa isa = DenseIsa::automatic);

}  // namespace gemmsift
