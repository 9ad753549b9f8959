// gemmsift: a GEMM problem to tune.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gemmsift {

enum class DType : std::uint8_t { bf16, fp16, fp32 };
enum class Op : std::uint8_t { mm, addmm, bmm };

// C[M,N] = A[M,K] @ B[K,N]. First letter for A, second for B: N = row-major (contiguous rows),
// T = stored transposed (column-major). nn.Linear is NT: its weight B is stored [N,K].
enum class Layout : std::uint8_t { NN, NT, TN, TT };

std::string_view to_string(DType) noexcept;
std::string_view to_string(Op) noexcept;
std::string_view to_string(Layout) noexcept;
// Parsers accept the canonical names and common aliases ("bfloat16", "float16", "half",
// "float32", "float"), case-insensitively; they throw Error(invalid_argument) naming the choices.
DType parse_dtype(std::string_view);
Op parse_op(std::string_view);
Layout parse_layout(std::string_view);

int dtype_bytes(DType) noexcept;
inline bool a_transposed(Layout l) noexcept { return l == Layout::TN || l == Layout::TT; }
inline bool b_transposed(Layout l) noexcept { return l == Layout::NT || l == Layout::TT; }

struct Problem {
  std::string device;  // device name as the driver reports it ("NVIDIA H100 80GB HBM3"); empty: any
  Op op = Op::mm;
  DType dtype = DType::bf16;
  Layout layout = Layout::NN;
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  std::int64_t batch = 1;  // bmm only; 1 otherwise

  // Throws Error(invalid_argument) when a dimension is not positive or batch is not 1 for mm.
  void validate() const;

  double flops() const noexcept;  // 2*M*N*K*batch
  // Bytes of A, B and C each moved once (the physical floor of EVALUATION.md).
  double min_bytes() const noexcept;

  // "mm bf16 NT 4096x4096x4096" (+ " batch 8", + " on <device>")
  std::string to_string() const;

  friend bool operator==(const Problem&, const Problem&) = default;
};

}  // namespace gemmsift
