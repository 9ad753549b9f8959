// A test model that predicts num_stages microseconds (ranks stage 1 first), for metric tests with
// known answers.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gemmsift/model.h"

namespace gemmsift::test_util {

class StagesModel : public PerformanceModel {
 public:
  std::vector<double> estimate(const Problem&, std::span<const Config> cs) const override {
    std::vector<double> v;
    for (const auto& c : cs) v.push_back(c.num_stages);
    return v;
  }
  std::string name() const override { return "stages"; }
  nlohmann::json metadata() const override { return {{"kind", "stages"}}; }
};

}  // namespace gemmsift::testing
