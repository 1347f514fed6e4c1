// Bridges std::string_view to absl::string_view: in Debian's abseil 20220623
// build they are distinct types, so absl::StrCat does not take std::string_view.
#ifndef LEDGER_UTIL_STRINGS_H_
#define LEDGER_UTIL_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ledger {

inline absl::string_view Absl(std::string_view view) {
  return absl::string_view(view.data(), view.size());
}

}  // namespace ledger

#endif  // LEDGER_UTIL_STRINGS_H_
