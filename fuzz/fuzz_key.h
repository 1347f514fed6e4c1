// The fuzzing key: a fixed Ed25519 key pair (derived from a fixed seed), so
// that fuzz/corpus/bundle can hold real bundles signed by it and the bundle
// target can sign the heads it fixes up. It signs nothing outside fuzz/.
#ifndef FUZZ_FUZZ_KEY_H_
#define FUZZ_FUZZ_KEY_H_

#include <sodium.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

struct FuzzKey {
  FuzzKey() {
    if (sodium_init() < 0) std::abort();
    unsigned char seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < sizeof seed; ++i) seed[i] = static_cast<unsigned char>(0x5A ^ i);
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed);
    public_key.assign(reinterpret_cast<const char*>(pk), sizeof pk);
    secret_key.assign(reinterpret_cast<const char*>(sk), sizeof sk);
  }

  std::string Sign(std::string_view message) const {
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), reinterpret_cast<const unsigned char*>(secret_key.data()));
    return std::string(reinterpret_cast<const char*>(signature), sizeof signature);
  }

  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes, libsodium's layout (the key file's)
};

}  // namespace fuzz

#endif  // FUZZ_FUZZ_KEY_H_
