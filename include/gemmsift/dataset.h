// gemmsift: measured datasets (DESIGN.md contract 5).
//
// CSV (optionally gzipped) with a fixed header, one row per (problem, config) measurement, and a
// sidecar .meta.json. A failed compile or launch is a row with a status, not a gap.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemmsift/config.h"
#include "gemmsift/problem.h"

namespace gemmsift {

// The header, in order.
const std::vector<std::string>& dataset_header();

enum class RowStatus : std::uint8_t { ok, abandoned, compile_error, launch_error, wrong_result, timeout };
std::string_view to_string(RowStatus) noexcept;

struct Measurement {
  Config config;
  RowStatus status = RowStatus::ok;
  std::optional<double> time_us_min;     // ok and abandoned rows
  std::optional<double> time_us_median;
  int iterations = 0;
  std::string note;
  // A time that counts: ok or abandoned (abandoned rows were timed with fewer launches, and
  // only when already several times slower than the best).
  bool timed() const noexcept { return time_us_min.has_value(); }
};

struct ProblemData {
  Problem problem;  // problem.device: the device of the rows
  std::vector<Measurement> rows;
  // Smallest time of any timed row; nullopt when nothing was timed.
  std::optional<double> best_us() const;
  // Smallest time of the timed rows of these configs (e.g. Inductor's DEFAULT list); nullopt
  // when none of them was timed. Linear in rows x configs: for short lists.
  std::optional<double> fastest_of(std::span<const Config> configs) const;
};

struct Dataset {
  std::string path;
  nlohmann::json meta;                // the sidecar .meta.json (empty object when missing)
  std::vector<ProblemData> problems;  // in file order; rows of a problem are contiguous
  std::size_t rows() const;
};

// Reads a dataset (.csv or .csv.gz) and its sidecar (<stem>.meta.json). Errors name the file, the
// line and the column (field) and what was expected: Error(parse), Error(io).
Dataset load_dataset(const std::string& path);

struct DatasetCheck {
  std::size_t rows = 0;
  std::size_t problems = 0;
  std::vector<std::string> errors;  // "file:line: ..." each
  bool ok() const noexcept { return errors.empty(); }
};

// How the dataset's kernels took M, N and K (the sidecar's kernel_sizes): "arguments" (also when
// the sidecar predates the field) or "literal" (`--literal-sizes`, Inductor's way). The two
// kernels' times differ. Error(invalid_argument) naming the sidecar for any other value.
std::string kernel_sizes_of(const Dataset& dataset);

// Everything `gemmsift data check` verifies: the header, the sidecar's required fields (device,
// SM count, torch, triton and CUDA versions, timing method, date), every row's fields and status,
// the device of every row against the sidecar, no (problem, config) twice, and that no time is
// below EVALUATION.md's physical floor on the device's datasheet peaks.
DatasetCheck check_dataset(const std::string& path);

}  // namespace gemmsift
