// Fuzzes the model-file loader end to end: any bytes either load as a model whose estimates can be
// taken, or are refused with gemmsift::Error (never a crash, a hang or another exception).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "gemmsift/error.h"
#include "gemmsift/model.h"
#include "gemmsift/space.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/gemmsift_model_fuzz_" + std::to_string(::getpid()) + ".safetensors";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  gemmsift::set_warning_handler([](std::string_view) {});
  try {
    auto model = gemmsift::create_model(path);
    gemmsift::Problem p;
    p.m = 100;
    p.n = 4096;
    p.k = 1000;
    auto configs = gemmsift::search_space(p, gemmsift::SpaceKind::DEFAULT);
    (void)model->estimate(p, configs);
  } catch (const gemmsift::Error&) {
  }
  return 0;
}
