#include "ledger/auth/principals.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/domain/identifiers.h"
#include "ledger/integrity/sha256.h"
#include "ledger/limits.h"
#include "ledger/util/strings.h"
#include "ledger/v1/access.pb.h"
#include "openssl/rand.h"

namespace ledger::auth {
namespace {

constexpr std::string_view kRoleNames[kRoleCount] = {"operator",  "signer", "supervisor",
                                                     "inspector", "system", "admin"};
constexpr size_t kMaxNameBytes = 64;
constexpr char kTokenPrefix[] = "sakip_";

std::string AllRoleNames() {
  std::string names;
  for (std::string_view name : kRoleNames) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", Absl(name));
  }
  return names;
}

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

bool IsNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
         c == '-';
}

}  // namespace

absl::Status CheckPrincipalName(std::string_view field, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return Invalid(field, absl::StrCat("must be 1..", kMaxNameBytes, " characters"));
  }
  for (char c : name) {
    if (!IsNameCharacter(c)) {
      return Invalid(field, absl::StrCat("'", Absl(name), "' may hold only letters, digits and . _ @ -"));
    }
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<uint32_t> ParseRoles(std::string_view field,
                                    const google::protobuf::RepeatedPtrField<std::string>& roles) {
  if (roles.empty()) return Invalid(field, "at least one role is required");
  uint32_t bits = 0;
  for (int i = 0; i < roles.size(); ++i) {
    int found = -1;
    for (int r = 0; r < kRoleCount; ++r) {
      if (roles[i] == kRoleNames[r]) found = r;
    }
    if (found < 0) {
      return Invalid(absl::StrCat(Absl(field), "[", i, "]"),
                     absl::StrCat("'", roles[i], "' is not a role (one of ",
                                  AllRoleNames(), ")"));
    }
    bits |= 1u << found;
  }
  return bits;
}

absl::Status CheckScopes(std::string_view field,
                         const google::protobuf::RepeatedPtrField<std::string>& scopes) {
  if (scopes.empty()) {
    return Invalid(field, "at least one scope is required (a Kemendagri code prefix, or \"*\")");
  }
  for (int i = 0; i < scopes.size(); ++i) {
    if (scopes[i] == kEveryUnit) continue;
    std::string item = absl::StrCat(Absl(field), "[", i, "]");
    if (absl::StatusOr<domain::AreaLevel> level = domain::ParseAreaCode(item, scopes[i]);
        !level.ok()) {
      return Invalid(item, absl::StrCat("'", scopes[i],
                                        "' is not a Kemendagri code prefix of whole segments "
                                        "(\"35\", \"35.08\", \"35.08.19\") or \"*\""));
    }
  }
  return absl::OkStatus();
}

bool IsLowerHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// One entry, checked and converted; `field` is "principals[i]".
absl::StatusOr<Principal> ToPrincipal(const std::string& field, const v1::PrincipalEntry& entry) {
  Principal principal;
  if (absl::Status status = CheckPrincipalName(field + ".name", entry.name()); !status.ok()) return status;
  principal.name = entry.name();
  absl::StatusOr<uint32_t> roles = ParseRoles(field + ".roles", entry.roles());
  if (!roles.ok()) return roles.status();
  principal.roles = *roles;
  if (!entry.nip().empty()) {
    absl::StatusOr<std::string> nip = domain::NormalizeNip(field + ".nip", entry.nip());
    if (!nip.ok()) return nip.status();
    principal.nip = *nip;
  } else if (principal.Has(Role::kSigner) || principal.Has(Role::kSupervisor)) {
    return Invalid(field + ".nip",
                   "is required for signers and supervisors: their NIP must match the report "
                   "or disposition they record");
  }
  if (absl::Status status = CheckScopes(field + ".scopes", entry.scopes()); !status.ok()) {
    return status;
  }
  principal.scopes.assign(entry.scopes().begin(), entry.scopes().end());
  if (entry.token_sha256().empty() && entry.certificate_common_names().empty()) {
    return Invalid(field, "has no credential: give token_sha256 or certificate_common_names");
  }
  return principal;
}

}  // namespace

std::string_view RoleName(Role role) { return kRoleNames[static_cast<int>(role)]; }

bool Principal::CoversEveryUnit() const {
  for (const std::string& scope : scopes) {
    if (scope == kEveryUnit) return true;
  }
  return false;
}

bool Principal::Covers(std::string_view unit_code) const {
  for (const std::string& scope : scopes) {
    if (scope == kEveryUnit || domain::AreaCodeIsUnder(unit_code, scope)) return true;
  }
  return false;
}

std::string Principal::RolesText() const {
  std::vector<std::string> names;
  for (int r = 0; r < kRoleCount; ++r) {
    if (Has(static_cast<Role>(r))) names.emplace_back(kRoleNames[r]);
  }
  return absl::StrJoin(names, ",");
}

std::string Principal::ScopesText() const { return absl::StrJoin(scopes, ","); }

absl::StatusOr<std::shared_ptr<const PrincipalDirectory>> PrincipalDirectory::Parse(
    std::string_view json) {
  if (json.size() > limits::kMaxPrincipalsFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("principals file: ", json.size(),
                                                   " bytes is more than the limit of ",
                                                   limits::kMaxPrincipalsFileBytes));
  }
  v1::PrincipalsFile file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field must not silently drop a rule
  if (auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &file, options);
      !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("principals file: not a valid PrincipalsFile in JSON: ", status.ToString()));
  }
  auto directory = std::shared_ptr<PrincipalDirectory>(new PrincipalDirectory());
  for (int i = 0; i < file.principals_size(); ++i) {
    const v1::PrincipalEntry& entry = file.principals(i);
    const std::string field = absl::StrCat("principals[", i, "]");
    absl::StatusOr<Principal> parsed = ToPrincipal(field, entry);
    if (!parsed.ok()) return parsed.status();
    auto principal = std::make_unique<Principal>(*std::move(parsed));
    if (!directory->by_name_.emplace(principal->name, principal.get()).second) {
      return Invalid(field + ".name", absl::StrCat("'", principal->name, "' is given twice"));
    }
    for (int t = 0; t < entry.token_sha256_size(); ++t) {
      const std::string item = absl::StrCat(field, ".token_sha256[", t, "]");
      if (!IsLowerHex64(entry.token_sha256(t))) {
        return Invalid(item, "must be 64 lowercase hex digits (ledgerctl token-new prints it)");
      }
      if (!directory->by_token_sha256_.emplace(entry.token_sha256(t), principal.get()).second) {
        return Invalid(item, "is already the token of another principal");
      }
    }
    for (int c = 0; c < entry.certificate_common_names_size(); ++c) {
      const std::string item = absl::StrCat(field, ".certificate_common_names[", c, "]");
      const std::string& name = entry.certificate_common_names(c);
      if (name.empty() || name.size() > 256) return Invalid(item, "must be 1..256 characters");
      if (!directory->by_certificate_.emplace(name, principal.get()).second) {
        return Invalid(item, absl::StrCat("'", name, "' already identifies another principal"));
      }
    }
    directory->principals_.push_back(std::move(principal));
  }
  return std::shared_ptr<const PrincipalDirectory>(std::move(directory));
}

absl::StatusOr<std::shared_ptr<const PrincipalDirectory>> PrincipalDirectory::Load(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("principals file ", path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::shared_ptr<const PrincipalDirectory>> directory = Parse(text.str());
  if (!directory.ok()) {
    return absl::Status(directory.status().code(),
                        absl::StrCat(path, ": ", directory.status().message()));
  }
  return directory;
}

const Principal* PrincipalDirectory::FindByToken(std::string_view token) const {
  auto it = by_token_sha256_.find(TokenSha256Hex(token));
  return it == by_token_sha256_.end() ? nullptr : it->second;
}

const Principal* PrincipalDirectory::FindByCertificate(std::string_view common_name) const {
  auto it = by_certificate_.find(Absl(common_name));
  return it == by_certificate_.end() ? nullptr : it->second;
}

const Principal* PrincipalDirectory::FindByName(std::string_view name) const {
  auto it = by_name_.find(Absl(name));
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<std::string> NewBearerToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("token: the OS random source failed");
  }
  return absl::StrCat(kTokenPrefix,
                      HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

std::string TokenSha256Hex(std::string_view token) { return HexEncode(Sha256(token)); }

}  // namespace ledger::auth
