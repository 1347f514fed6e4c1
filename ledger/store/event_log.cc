// The parts of the event log's contract that are code rather than interface.
#include "ledger/store/event_log.h"

#include "absl/strings/str_cat.h"
#include "ledger/util/strings.h"

namespace ledger {

absl::Status EventNotRecordedError(std::string_view event_id) {
  return absl::NotFoundError(absl::StrCat("event_id: '", Absl(event_id), "' is not recorded"));
}

}  // namespace ledger
