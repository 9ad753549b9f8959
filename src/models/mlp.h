// gemmsift: learned multilayer-perceptron models (kind "mlp"), trained by `gemmsift train`.
//
// Inference is one or more networks of a few dense layers with ReLU, averaged (BatchNorm is
// folded into the layers when training ends). Inputs are a feature schema's standardised
// features, optionally followed by the standardised log of a base model's estimate. The output
// is a standardised target: the log runtime ("log_us"), or the log of measured over base runtime
// ("log_residual"). Configs the device's analytical model knows cannot launch (shared memory) are
// predicted +infinity.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "gemmsift/features.h"
#include "gemmsift/model.h"
#include "models/analytical.h"
#include "models/dense.h"

namespace gemmsift {

struct MlpLayer {
  FeatureMatrix weight;  // out x in
  Eigen::RowVectorXf bias;
};

struct MlpParts {
  FeatureSchema schema;               // fitted
  std::string device;                 // device name of the training data (driver name)
  bool base_input = false;            // log(base estimate) is the last input column
  float base_mean = 0, base_std = 1;  // its standardisation
  std::string target = "log_us";      // or "log_residual"
  float target_mean = 0, target_std = 1;
  // One or more networks over the same inputs (an ensemble: trained from different initialisations
  // on the same split), each with ReLU between layers and none after the last (1 output). The
  // prediction is the mean of their outputs, i.e. the geometric mean of their runtime estimates.
  std::vector<std::vector<MlpLayer>> members;
  nlohmann::json info = nlohmann::json::object();  // versions, training, validation metrics, ...
};

class MlpModel final : public PerformanceModel {
 public:
  // Throws Error(invalid_argument) when the parts do not fit together.
  explicit MlpModel(MlpParts parts, std::string source = "");

  std::vector<double> estimate(const Problem& problem,
                               std::span<const Config> configs) const override;
  std::string name() const override;
  nlohmann::json metadata() const override;
  void save(const std::string& path) const override;

  const MlpParts& parts() const noexcept { return parts_; }
  // Multiply-adds per scored config (the scoring cost).
  std::size_t macs_per_config() const;
  // ModelOptions::off16: "analytical" scores problems with an even leading stride off 16 with the
  // base analytical model, "padded" scores them as off16_padded(problem), when the training data's
  // kernel took the sizes as arguments; otherwise (and for "learned") the networks score the
  // problem as it is. Throws Error(invalid_argument) on another value.
  void set_off16(std::string_view policy);
  // The policy in effect: "learned" for models of literal-size data whatever was asked.
  std::string_view off16() const noexcept;

 private:
  MlpParts parts_;
  std::string source_;
  std::unique_ptr<AnalyticalModel> base_;       // the device's analytical model: mask and base input
  std::vector<std::vector<DenseLayer>> dense_;  // each member's layers, laid out for the kernels
  bool arguments_data_ = true;     // training.kernel_sizes is "arguments" (or not recorded)
  enum class Off16 : std::uint8_t { learned, analytical, padded };
  // set_off16. "learned" until then: a model fresh from training (train_model) scores as its
  // networks do, which its validation on the arguments kernel's data needs; create_model applies
  // ModelOptions::off16 ("padded" by default) to every model it loads.
  Off16 off16_ = Off16::learned;
};

ModelKindInfo mlp_model_kind();

}  // namespace gemmsift
