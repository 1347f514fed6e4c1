#include "ledger/integrity/sha256.h"

#include <openssl/sha.h>

#include "ledger/util/check.h"

namespace ledger {

std::string Sha256(std::string_view data) {
  std::string digest(kHashBytes, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

std::string Sha256Parts(std::initializer_list<std::string_view> parts) {
  SHA256_CTX ctx;
  LEDGER_CHECK(SHA256_Init(&ctx) == 1, "SHA256_Init");
  for (std::string_view part : parts) {
    LEDGER_CHECK(SHA256_Update(&ctx, part.data(), part.size()) == 1, "SHA256_Update");
  }
  std::string digest(kHashBytes, '\0');
  LEDGER_CHECK(SHA256_Final(reinterpret_cast<unsigned char*>(digest.data()), &ctx) == 1,
               "SHA256_Final");
  return digest;
}

const std::string& GenesisHash() {
  static const std::string* zero = new std::string(kHashBytes, '\0');
  return *zero;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

}  // namespace ledger
