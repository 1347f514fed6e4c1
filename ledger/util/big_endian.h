// Big-endian integers in byte strings, so that byte order is numeric order
// (keys) and encodings do not depend on the machine (signed and hashed bytes).
//
// Thread-safety: pure functions. The Get* functions expect the caller to have
// checked that `in` holds the bytes at `offset`.
#ifndef LEDGER_UTIL_BIG_ENDIAN_H_
#define LEDGER_UTIL_BIG_ENDIAN_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ledger {

inline void PutBigEndian64(std::string* out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((value >> shift) & 0xFF));
}

inline void PutBigEndian32(std::string* out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((value >> shift) & 0xFF));
}

inline uint64_t GetBigEndian64(std::string_view in, size_t offset = 0) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(in[offset + i]);
  return value;
}

inline uint32_t GetBigEndian32(std::string_view in, size_t offset = 0) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(in[offset + i]);
  return value;
}

}  // namespace ledger

#endif  // LEDGER_UTIL_BIG_ENDIAN_H_
