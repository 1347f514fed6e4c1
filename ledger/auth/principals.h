// Principals: who may call the ledger, how a caller is recognized (a bearer
// token's SHA-256 or a verified client certificate's common name), its roles
// and the units it may act for (docs/ACCESS.md).
//
// A PrincipalDirectory is immutable once parsed; the server swaps a whole new
// directory in on reload, so readers never see a half-applied file.
//
// Thread-safety: Principal and PrincipalDirectory are immutable values, safe
// to share between threads. The free functions are pure (NewBearerToken reads
// the OS random source).
#ifndef LEDGER_AUTH_PRINCIPALS_H_
#define LEDGER_AUTH_PRINCIPALS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace ledger::auth {

// What a principal may do (docs/ACCESS.md has the full matrix).
enum class Role : uint8_t {
  kOperator = 0,    // records realizations, disbursements, checklist entries
  kSigner = 1,      // submits a unit's report (the Camat); needs a NIP
  kSupervisor = 2,  // records dispositions on reports; needs a NIP
  kInspector = 3,   // reads everything in its scope (Inspektorat, BPK)
  kSystem = 4,      // another government system: reads and subscribes
  kAdmin = 5,       // manages agreements, indicators, programmes, budgets
};
inline constexpr int kRoleCount = 6;

std::string_view RoleName(Role role);

// The scope that covers every unit.
inline constexpr char kEveryUnit[] = "*";

struct Principal {
  std::string name;  // the actor written into the events it records
  std::string nip;   // 18 digits, or empty
  uint32_t roles = 0;  // bit (1 << Role)
  // Kemendagri code prefixes of whole segments, or kEveryUnit.
  std::vector<std::string> scopes;

  bool Has(Role role) const { return (roles >> static_cast<int>(role)) & 1u; }
  bool CoversEveryUnit() const;
  // True if `unit_code` (a unit or village code) lies in one of the scopes.
  bool Covers(std::string_view unit_code) const;
  // "operator,signer" and "35.08.19,35.08.20", for messages and logs.
  std::string RolesText() const;
  std::string ScopesText() const;
};

// The principals of one principals file, indexed by credential.
class PrincipalDirectory {
 public:
  // Parses the JSON text of a ledger.v1.PrincipalsFile and checks every
  // entry; InvalidArgument names the entry and field
  // ("principals[2].scopes[0]: '35.8' is not ...") and nothing is returned.
  static absl::StatusOr<std::shared_ptr<const PrincipalDirectory>> Parse(std::string_view json);
  // Reads and parses a file; the error names the path.
  static absl::StatusOr<std::shared_ptr<const PrincipalDirectory>> Load(const std::string& path);

  // The principal a bearer token identifies, or nullptr. Only the token's
  // SHA-256 is compared (a lookup of the digest, which reveals nothing about
  // other tokens).
  const Principal* FindByToken(std::string_view token) const;
  // The principal a verified client certificate's common name identifies.
  const Principal* FindByCertificate(std::string_view common_name) const;
  const Principal* FindByName(std::string_view name) const;

  size_t size() const { return principals_.size(); }

 private:
  std::vector<std::unique_ptr<Principal>> principals_;
  absl::flat_hash_map<std::string, const Principal*> by_token_sha256_;
  absl::flat_hash_map<std::string, const Principal*> by_certificate_;
  absl::flat_hash_map<std::string, const Principal*> by_name_;
};

// Checks a principal name: 1..64 characters of [A-Za-z0-9._@-].
// InvalidArgument names `field`.
absl::Status CheckPrincipalName(std::string_view field, std::string_view name);

// A new bearer token: "sakip_" and 64 hex digits of 32 random bytes.
absl::StatusOr<std::string> NewBearerToken();
// Lowercase hex SHA-256 of the token text, as the principals file stores it.
std::string TokenSha256Hex(std::string_view token);

}  // namespace ledger::auth

#endif  // LEDGER_AUTH_PRINCIPALS_H_
