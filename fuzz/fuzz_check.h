// What the fuzz targets share: FUZZ_CHECK, a property that must hold for
// every input. A failed property prints what it saw and aborts, which
// libFuzzer reports as a crash and saves the input that caused it.
#ifndef FUZZ_FUZZ_CHECK_H_
#define FUZZ_FUZZ_CHECK_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition, detail)                                                          \
  do {                                                                                         \
    if (!(condition)) ::fuzz::Fail(__FILE__, __LINE__, #condition, (detail));                  \
  } while (false)

namespace fuzz {

[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// FUZZ_DEBUG=1 in the environment: targets say what they concluded (for
// checking that a seed reaches as deep as intended).
inline bool Debug() {
  static const bool debug = std::getenv("FUZZ_DEBUG") != nullptr;
  return debug;
}

// A refusal's message quotes untrusted text escaped and shortened (as
// ParseDecimal does): printable ASCII only, and bounded whatever the input.
inline bool IsSafeMessage(std::string_view message, size_t max_bytes = 512) {
  if (message.size() > max_bytes) return false;
  for (char c : message) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace fuzz

#endif  // FUZZ_FUZZ_CHECK_H_
