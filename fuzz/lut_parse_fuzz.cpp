// Fuzzes the lookup-table parser: any input either loads or is refused with gemmsift::Error, and
// whatever loads survives a canonical round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gemmsift/error.h"
#include "gemmsift/lut.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool strict : {false, true}) {
    std::vector<std::string> warnings;
    try {
      auto t = gemmsift::LookupTable::parse(text, "fuzz.json", gemmsift::LutLoadOptions{strict}, &warnings);
      const std::string canonical = t.serialize();
      auto again = gemmsift::LookupTable::parse(canonical, "canonical.json", gemmsift::LutLoadOptions{true});
      if (!(again == t) || again.serialize() != canonical) std::abort();
      for (const auto& e : t.entries()) (void)t.find(e.problem);
    } catch (const gemmsift::Error&) {
    }
  }
  return 0;
}
