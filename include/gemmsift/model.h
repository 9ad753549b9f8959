// gemmsift: performance models and the registry that creates them.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemmsift/config.h"
#include "gemmsift/problem.h"

namespace gemmsift {

// Predicts the runtime of configs for a problem. Batch scoring is the primary path.
class PerformanceModel {
 public:
  virtual ~PerformanceModel() = default;

  // Predicted runtime of each config, in microseconds, in the order given. A config the model
  // knows cannot launch (too much shared memory, say) gets +infinity.
  virtual std::vector<double> estimate(const Problem& problem,
                                       std::span<const Config> configs) const = 0;

  // A spec string that recreates this model through create_model() ("analytical:device=H100-SXM"),
  // or the file it was loaded from.
  virtual std::string name() const = 0;

  // Kind, device, versions, feature schema, training data, validation metrics: whatever the
  // model knows about itself. Always has "kind".
  virtual nlohmann::json metadata() const = 0;

  // Writes the model as a safetensors file. Throws Error(unsupported) for models without one.
  virtual void save(const std::string& path) const;
};

// Options for creating a model, shared by every kind.
struct ModelOptions {
  // Policy for a model file whose device or versions do not match the running ones: "warn"
  // (default) or "refuse". The schema of features must always match.
  std::string mismatch_policy = "warn";
  std::string expect_device;  // driver name of the running device; empty: don't check
  std::string expect_triton;  // running Triton version; empty: don't check
  DType dtype = DType::bf16;  // for the "auto" spec: which shipped model to pick
  // For the "auto" spec when no shipped model matches: true, the analytical model (with a
  // warning); false, an Error(not_found) naming the device, dtype and folders searched.
  bool auto_fallback = true;
  // How a learned model whose training data measured the kernel that takes the sizes as arguments
  // (training.kernel_sizes "arguments", and models that do not say) scores a problem with a
  // leading stride that is even but not a multiple of 16 (even_stride_off16): "padded" (default:
  // its networks, on off16_padded(problem): scored as the aligned problem that Inductor's kernel,
  // which compiles the strides in, runs like when they are 8-byte aligned), "learned" (its
  // networks on the problem as it is) or "analytical" (its base analytical model, which counts
  // alignment in bytes). There the arguments kernel spills where Inductor's does not, up to 23
  // times slower, and the learned ranking followed it (docs/inductor.md, session 16). Timed with
  // Inductor's kernel on 48 such shapes no model had seen (H200, session 18), "padded" ranked best
  // (quality@1 0.867, @5 0.961 against "learned"'s 0.802 and 0.928), hence the default. Models
  // trained on literal-size data score every problem with their networks whatever this says.
  std::string off16 = "padded";
};

// Whether a leading stride of the problem (A's: K, or M when A is transposed; B's: N, or K when B
// is transposed; C's: N) is even but not a multiple of 16.
bool even_stride_off16(const Problem& problem) noexcept;

// Throws Error(invalid_argument) "<option> '<policy>': expected learned, analytical or padded"
// unless policy is one of ModelOptions::off16's choices.
void require_off16_policy(std::string_view policy, std::string_view option = "off16");

// The problem with each dimension that is such a stride, and whose stride in bytes is a multiple
// of 8, rounded up to a multiple of 16 (ModelOptions::off16 "padded"); the others as they are.
Problem off16_padded(const Problem& problem) noexcept;

using ModelFactory = std::function<std::unique_ptr<PerformanceModel>(
    const std::vector<std::pair<std::string, std::string>>& params, const ModelOptions&)>;
using ModelLoader = std::function<std::unique_ptr<PerformanceModel>(
    const std::string& path, const nlohmann::json& metadata, const ModelOptions&)>;

struct ModelKindInfo {
  std::string kind;
  std::string description;
  ModelFactory factory;  // from a spec string; may be empty (file-only kinds)
  ModelLoader loader;    // from a safetensors file; may be empty
};

// Registers a kind. Built-in kinds are registered before main. Throws on a duplicate kind.
void register_model_kind(ModelKindInfo info);
std::vector<ModelKindInfo> model_kinds();

// Creates a model from a spec string ("analytical", "analytical:device=H200,launch_us=4") or a
// path to a model file (anything ending in .safetensors, or an existing file). An unknown kind is
// answered with Error(not_found) listing the known kinds.
std::unique_ptr<PerformanceModel> create_model(std::string_view spec,
                                               const ModelOptions& options = {});

// Why a model's training environment differs from the running one: the device (compared as
// built-in devices when both are known, else by name) and the Triton version. Each entry is one
// sentence; empty when nothing differs or nothing is known.
std::vector<std::string> model_staleness(const nlohmann::json& metadata, std::string_view running_device,
                                         std::string_view running_triton);

// Applies options.mismatch_policy to model_staleness(): "warn" warns once per file and reason,
// "refuse" throws Error(mismatch) naming `path`.
void check_model_environment(const nlohmann::json& metadata, const std::string& path,
                             const ModelOptions& options);

// Shipped models (models/<device>_<dtype>.safetensors, trained by `gemmsift train`) are searched
// in $GEMMSIFT_MODEL_DIR (':'-separated), then in models/ beside the gemmsift library or program,
// one folder up, and ../share/gemmsift/models.
std::vector<std::string> model_search_dirs();

// The shipped model whose device matches `device` (the same built-in device, or the same name)
// and whose training dtypes include `dtype`; empty when there is none. device empty: H100-SXM.
std::string find_shipped_model(std::string_view device, DType dtype);

// The spec "auto": the shipped model for options.expect_device and options.dtype, or, when none
// matches, the analytical model of that device with a warning (once per device and dtype), or
// Error(not_found) when options.auto_fallback is false.
std::unique_ptr<PerformanceModel> default_model(const ModelOptions& options);

// Reads the metadata of a model file without building the model.
nlohmann::json read_model_metadata(const std::string& path);

}  // namespace gemmsift
