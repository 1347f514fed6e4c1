// Fuzz target: the identifier parsers of ledger/domain/identifiers.h (NIP,
// area codes, ISO dates), which every SAKIP event's text goes through.
//
// Input: text; the whole input goes to each parser, and, split at the first
// newline, its two parts to AreaCodeIsUnder.
// Properties: a normalized NIP is 18 digits and normalizes to itself; an
// accepted area code has as many parts as its level, and is under itself and
// under each of its shorter prefixes; "under" is antisymmetric; a refusal is
// InvalidArgument naming the field, whose message quotes the input escaped
// and shortened (printable and bounded); an accepted date is YYYY-MM-DD.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "ledger/domain/identifiers.h"
#include "ledger/util/strings.h"

namespace {

using ledger::Absl;
namespace domain = ledger::domain;

void CheckRefusal(const absl::Status& status) {
  FUZZ_CHECK(absl::IsInvalidArgument(status), status.ToString());
  FUZZ_CHECK(absl::StartsWith(status.message(), "fuzz.field: "), status.ToString());
  FUZZ_CHECK(fuzz::IsSafeMessage(std::string_view(status.message().data(), status.message().size())),
             absl::StrCat("the message does not quote the input escaped and shortened: ", status.message().substr(0, 200)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::AsText(data, size);

  absl::StatusOr<std::string> nip = domain::NormalizeNip("fuzz.field", input);
  if (nip.ok()) {
    FUZZ_CHECK(nip->size() == 18 && nip->find_first_not_of("0123456789") == std::string::npos, *nip);
    absl::StatusOr<std::string> again = domain::NormalizeNip("fuzz.field", *nip);
    FUZZ_CHECK(again.ok() && *again == *nip, absl::StrCat("NIP not idempotent: ", *nip));
  } else {
    CheckRefusal(nip.status());
  }

  absl::StatusOr<domain::AreaLevel> level = domain::ParseAreaCode("fuzz.field", input);
  if (level.ok()) {
    const size_t parts = static_cast<size_t>(std::count(input.begin(), input.end(), '.')) + 1;
    FUZZ_CHECK(static_cast<size_t>(*level) == parts, std::string(input));
    FUZZ_CHECK(domain::AreaCodeIsUnder(input, input), std::string(input));
    for (size_t dot = input.find('.'); dot != std::string_view::npos; dot = input.find('.', dot + 1)) {
      const std::string_view prefix = input.substr(0, dot);
      FUZZ_CHECK(domain::ParseAreaCode("fuzz.field", prefix).ok(), std::string(prefix));
      FUZZ_CHECK(domain::AreaCodeIsUnder(input, prefix), std::string(input));
      FUZZ_CHECK(!domain::AreaCodeIsUnder(prefix, input), std::string(input));
    }
  } else {
    CheckRefusal(level.status());
  }

  absl::Status date = domain::CheckIsoDate("fuzz.field", input);
  if (date.ok()) {
    FUZZ_CHECK(input.size() == 10 && input[4] == '-' && input[7] == '-', std::string(input));
  } else {
    CheckRefusal(date);
  }

  const size_t newline = input.find('\n');
  if (newline != std::string_view::npos) {
    const std::string_view a = input.substr(0, newline);
    const std::string_view b = input.substr(newline + 1);
    if (domain::AreaCodeIsUnder(a, b) && domain::AreaCodeIsUnder(b, a)) {
      FUZZ_CHECK(a == b, absl::StrCat("'", Absl(a), "' and '", Absl(b), "' are under each other"));
    }
  }
  return 0;
}
