// SHA-256 (OpenSSL's implementation).
//
// Thread-safety: free functions, no shared state.
#ifndef LEDGER_INTEGRITY_SHA256_H_
#define LEDGER_INTEGRITY_SHA256_H_

#include <string>
#include <string_view>

namespace ledger {

inline constexpr size_t kHashBytes = 32;

// The 32-byte digest of `data`.
std::string Sha256(std::string_view data);

// The 32-byte digest of the concatenation of `parts`.
std::string Sha256Parts(std::initializer_list<std::string_view> parts);

// 32 zero bytes: the previous hash of the first event.
const std::string& GenesisHash();

// Lower-case hex, for messages and CLIs.
std::string HexEncode(std::string_view bytes);

}  // namespace ledger

#endif  // LEDGER_INTEGRITY_SHA256_H_
