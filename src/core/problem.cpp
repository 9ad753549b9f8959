#include "gemmsift/problem.h"

#include <fmt/format.h>

#include <array>

#include "core/strings.h"
#include "gemmsift/error.h"

namespace gemmsift {

std::string_view to_string(DType d) noexcept {
  switch (d) {
    case DType::bf16: return "bf16";
    case DType::fp16: return "fp16";
    case DType::fp32: return "fp32";
  }
  return "?";
}

std::string_view to_string(Op op) noexcept {
  switch (op) {
    case Op::mm: return "mm";
    case Op::addmm: return "addmm";
    case Op::bmm: return "bmm";
  }
  return "?";
}

std::string_view to_string(Layout l) noexcept {
  switch (l) {
    case Layout::NN: return "NN";
    case Layout::NT: return "NT";
    case Layout::TN: return "TN";
    case Layout::TT: return "TT";
  }
  return "?";
}

DType parse_dtype(std::string_view s) {
  std::string v = detail::lower(detail::trim(s));
  if (v == "bf16" || v == "bfloat16" || v == "torch.bfloat16") return DType::bf16;
  if (v == "fp16" || v == "float16" || v == "half" || v == "torch.float16") return DType::fp16;
  if (v == "fp32" || v == "float32" || v == "float" || v == "torch.float32") return DType::fp32;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown dtype '{}': expected bf16, fp16 or fp32", s));
}

Op parse_op(std::string_view s) {
  std::string v = detail::lower(detail::trim(s));
  if (v == "mm") return Op::mm;
  if (v == "addmm") return Op::addmm;
  if (v == "bmm") return Op::bmm;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown op '{}': expected mm, addmm or bmm", s));
}

Layout parse_layout(std::string_view s) {
  std::string v = detail::lower(detail::trim(s));
  if (v == "nn") return Layout::NN;
  if (v == "nt") return Layout::NT;
  if (v == "tn") return Layout::TN;
  if (v == "tt") return Layout::TT;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("unknown layout '{}': expected NN, NT, TN or TT", s));
}

int dtype_bytes(DType d) noexcept { return d == DType::fp32 ? 4 : 2; }

void Problem::validate() const {
  const std::array<std::pair<const char*, std::int64_t>, 4> dims{
      {{"m", m}, {"n", n}, {"k", k}, {"batch", batch}}};
  for (auto [name, value] : dims) {
    if (value <= 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{} must be a positive integer, got {}", name, value));
    }
  }
  if (op != Op::bmm && batch != 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("batch must be 1 for op {}, got {}", gemmsift::to_string(op), batch));
  }
}

double Problem::flops() const noexcept {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) *
         static_cast<double>(batch);
}

double Problem::min_bytes() const noexcept {
  double elems = static_cast<double>(m) * static_cast<double>(k) +
                 static_cast<double>(k) * static_cast<double>(n) +
                 static_cast<double>(m) * static_cast<double>(n);
  return elems * dtype_bytes(dtype) * static_cast<double>(batch);
}

std::string Problem::to_string() const {
  std::string s = fmt::format("{} {} {} {}x{}x{}", gemmsift::to_string(op),
                              gemmsift::to_string(dtype), gemmsift::to_string(layout), m, n, k);
  if (batch != 1) s += fmt::format(" batch {}", batch);
  if (!device.empty()) s += fmt::format(" on {}", device);
  return s;
}

}  // namespace gemmsift
