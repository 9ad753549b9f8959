#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gemmsift/device.h"
#include "gemmsift/error.h"

using namespace gemmsift;

TEST(Device, BuiltinTableIsValid) {
  auto devs = builtin_devices();
  ASSERT_EQ(devs.size(), 4u);
  for (const auto& d : devs) EXPECT_NO_THROW(d.validate()) << d.name;
}

TEST(Device, MatchesDriverNames) {
  EXPECT_EQ(find_device("NVIDIA H100 80GB HBM3")->name, "H100-SXM");
  EXPECT_EQ(find_device("NVIDIA H100 PCIe")->name, "H100-PCIe");
  EXPECT_EQ(find_device("NVIDIA H200")->name, "H200");
  EXPECT_EQ(find_device("NVIDIA A100-SXM4-80GB")->name, "A100");
  EXPECT_EQ(find_device("h100-sxm")->name, "H100-SXM");
  EXPECT_FALSE(find_device("NVIDIA GeForce RTX 4090").has_value());
  EXPECT_FALSE(find_device("").has_value());
}

TEST(Device, UnknownDeviceListsKnownOnes) {
  try {
    get_device("MI300X");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_STREQ(e.what(),
                 "unknown device 'MI300X': known devices are H200, H100-PCIe, H100-SXM, A100 "
                 "(or describe it in JSON)");
  }
}

TEST(Device, DatasheetPeaks) {
  auto h100 = get_device("H100-SXM");
  EXPECT_EQ(h100.sm_count, 132);
  EXPECT_DOUBLE_EQ(h100.peak_flops(DType::bf16), 989.4e12);
  EXPECT_DOUBLE_EQ(h100.peak_flops(DType::fp32), 66.9e12);
  EXPECT_DOUBLE_EQ(h100.peak_flops(DType::fp32, true), 494.7e12);
  EXPECT_DOUBLE_EQ(get_device("H200").mem_bandwidth, 4.8e12);
}

TEST(Device, DescribedInJsonOverABase) {
  auto j = nlohmann::json::parse(R"({"base": "H100-SXM", "name": "H100-cut", "sm_count": 100})");
  Device d = device_from_json(j);
  EXPECT_EQ(d.name, "H100-cut");
  EXPECT_EQ(d.sm_count, 100);
  EXPECT_DOUBLE_EQ(d.mem_bandwidth, 3.35e12);
  auto back = device_from_json(device_to_json(d));
  EXPECT_EQ(back.sm_count, 100);
  EXPECT_EQ(back.name, "H100-cut");
}

TEST(Device, JsonErrorsNameTheField) {
  try {
    device_from_json(nlohmann::json::parse(R"({"base": "H100-SXM", "sm_cuont": 4})"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/sm_cuont: unknown device field");
  }
  try {
    device_from_json(nlohmann::json::parse(R"({"base": "H100-SXM", "sm_count": "many"})"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/sm_count: expected a number, got string");
  }
  try {
    device_from_json(nlohmann::json::parse(R"({"name": "x"})"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "device field sm_count must be positive, got 0");
  }
}
