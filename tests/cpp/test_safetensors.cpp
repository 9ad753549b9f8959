#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "gemmsift/error.h"
#include "gemmsift/safetensors.h"

using namespace gemmsift;

namespace {

SafetensorsFile sample() {
  SafetensorsFile f;
  f.metadata["format"] = "test";
  f.tensors["w"] = Tensor::from_floats({1, 2, 3, 4, 5, 6}, {2, 3});
  f.tensors["b"] = Tensor::from_doubles({0.5}, {1});
  return f;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_safetensors(bytes, "m.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string with_header(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

}  // namespace

TEST(Safetensors, RoundTrip) {
  auto bytes = serialize_safetensors(sample());
  EXPECT_EQ((bytes.size() - 8 - 32) % 8, 0u);  // header padded to 8 bytes; 32 data bytes
  auto back = parse_safetensors(bytes, "x");
  EXPECT_EQ(back.metadata.at("format"), "test");
  EXPECT_EQ(back.tensors.at("w").shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(back.tensors.at("w").to_floats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(back.tensors.at("b").dtype, "F64");
  EXPECT_THROW(back.tensors.at("b").to_floats(), Error);
}

TEST(Safetensors, FileRoundTripIsAtomic) {
  auto dir = std::filesystem::temp_directory_path() / "gemmsift_st_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / "m.safetensors").string();
  write_safetensors(path, sample());
  auto back = read_safetensors(path);
  EXPECT_EQ(back.tensors.size(), 2u);
  int leftovers = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) leftovers += e.path().string().find(".tmp.") != std::string::npos;
  EXPECT_EQ(leftovers, 0);
  std::filesystem::remove_all(dir);
}

TEST(Safetensors, TruncatedAndCorruptFilesAreRefusedWithReasons) {
  auto bytes = serialize_safetensors(sample());
  EXPECT_EQ(error_of("abc"), "m.safetensors: not a valid safetensors file: truncated: 3 bytes, need at least 8");
  EXPECT_EQ(error_of(bytes.substr(0, bytes.size() - 4)),
            "m.safetensors: not a valid safetensors file: tensor 'w': data_offsets [8, 32] outside the 28 data bytes (truncated?)");
  std::string huge = bytes;
  std::uint64_t big = 1ull << 40;
  std::memcpy(huge.data(), &big, 8);
  EXPECT_EQ(error_of(huge), "m.safetensors: not a valid safetensors file: header length 1099511627776 is over the limit of 104857600");
  EXPECT_EQ(error_of(with_header("{not json", "")),
            "m.safetensors: not a valid safetensors file: header is not valid JSON (byte 3)");
  EXPECT_EQ(error_of(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "12345678")),
            "m.safetensors: not a valid safetensors file: tensor 'a': 4 bytes for 2 elements of F32");
  EXPECT_EQ(error_of(with_header(R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}})", "1234")),
            "m.safetensors: not a valid safetensors file: tensor 'a': unknown dtype 'Q7'");
  EXPECT_EQ(error_of(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", "123456")),
            "m.safetensors: not a valid safetensors file: tensors overlap");
  EXPECT_EQ(error_of(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "12345")),
            "m.safetensors: not a valid safetensors file: 1 trailing bytes after the last tensor");
  EXPECT_EQ(error_of(with_header(R"({"__metadata__":{"x":1}})", "")),
            "m.safetensors: not a valid safetensors file: __metadata__/x is not a string");
}

TEST(Safetensors, MissingFileIsAnIoError) {
  try {
    read_safetensors("/nonexistent/dir/m.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_STREQ(e.what(), "/nonexistent/dir/m.safetensors: cannot open: No such file or directory");
  }
}
