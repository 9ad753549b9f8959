// gemmsift: feature encoding for learned models, as named, versioned schemas.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "gemmsift/config.h"
#include "gemmsift/problem.h"

namespace gemmsift {

enum class Transform : std::uint8_t { none, log };

struct FeatureSpec {
  std::string name;  // one of known_features()
  Transform transform = Transform::log;
  friend bool operator==(const FeatureSpec&, const FeatureSpec&) = default;
};

// Rows are configs, columns are features.
using FeatureMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A feature schema: which raw features, how each is transformed, and the standardisation
// (mean and sample standard deviation per column, after the transform) fitted on training data.
class FeatureSchema {
 public:
  FeatureSchema() = default;
  FeatureSchema(std::string name, std::vector<FeatureSpec> specs, int sm_count = 132);

  // "proposal12": the fast_autotune proposal's 12 features (dtype bits, M, N, K, total GB,
  // total GFLOP, FLOP per byte, BLOCK_K, BLOCK_M, BLOCK_N, stages, warps), all log-transformed.
  static FeatureSchema named(std::string_view name, int sm_count = 132);
  static std::vector<std::string> schema_names();

  const std::string& name() const noexcept { return name_; }
  const std::vector<FeatureSpec>& specs() const noexcept { return specs_; }
  std::size_t size() const noexcept { return specs_.size(); }
  int sm_count() const noexcept { return sm_count_; }
  bool fitted() const noexcept { return mean_.size() == static_cast<Eigen::Index>(specs_.size()); }
  const Eigen::VectorXf& mean() const noexcept { return mean_; }
  const Eigen::VectorXf& stddev() const noexcept { return std_; }

  // Transformed, not yet standardised features into `out` (configs.size() x size()).
  void compute(const Problem& problem, std::span<const Config> configs,
               Eigen::Ref<FeatureMatrix> out) const;
  // Standardises in place; requires fitted().
  void standardize(Eigen::Ref<FeatureMatrix> x) const;
  // compute + standardize.
  FeatureMatrix encode(const Problem& problem, std::span<const Config> configs) const;

  // Fits mean and sample standard deviation (ddof 1; a constant column gets 1) on the rows.
  void fit(const FeatureMatrix& transformed);
  void set_normalization(Eigen::VectorXf mean, Eigen::VectorXf stddev);

  nlohmann::json to_json() const;
  static FeatureSchema from_json(const nlohmann::json& j);

  friend bool operator==(const FeatureSchema& a, const FeatureSchema& b);

 private:
  std::string name_;
  std::vector<FeatureSpec> specs_;
  std::vector<int> ids_;  // resolved feature ids, parallel to specs_
  int sm_count_ = 132;
  Eigen::VectorXf mean_;
  Eigen::VectorXf std_;
};

// Names of every raw feature the encoder knows, with a one-line description each.
std::vector<std::pair<std::string, std::string>> known_features();

}  // namespace gemmsift
