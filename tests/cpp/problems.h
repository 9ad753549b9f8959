// Problems for the C++ tests: one builder instead of one per test file.
#pragma once

#include <cstdint>

#include "gemmsift/problem.h"

namespace gemmsift::test_util {

inline Problem make_problem(std::int64_t m, std::int64_t n, std::int64_t k, DType dtype = DType::bf16,
                            Layout layout = Layout::NN) {
  Problem p;
  p.m = m;
  p.n = n;
  p.k = k;
  p.dtype = dtype;
  p.layout = layout;
  return p;
}

}  // namespace gemmsift::test_util
