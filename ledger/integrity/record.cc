#include "ledger/integrity/record.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ledger/integrity/sha256.h"

namespace ledger {

std::string EncodeRecord(std::string_view body) {
  std::string value;
  value.reserve(1 + kHashBytes + body.size());
  value.push_back(kRecordFormatV1);
  value.append(Sha256(body));
  value.append(body);
  return value;
}

absl::StatusOr<RecordView> SplitRecord(std::string_view value) {
  if (value.size() < 1 + kHashBytes) {
    return absl::DataLossError(
        absl::StrCat("record frame too short: ", value.size(), " bytes"));
  }
  if (value[0] != kRecordFormatV1) {
    return absl::DataLossError(absl::StrCat(
        "unknown record frame format ", static_cast<int>(static_cast<unsigned char>(value[0]))));
  }
  return RecordView{value.substr(1, kHashBytes), value.substr(1 + kHashBytes)};
}

absl::StatusOr<DecodedRecord> DecodeRecord(std::string_view value) {
  absl::StatusOr<RecordView> view = SplitRecord(value);
  if (!view.ok()) return view.status();
  std::string recomputed = Sha256(view->body);
  if (recomputed != view->hash) {
    return absl::DataLossError(absl::StrCat("hash mismatch: stored ", HexEncode(view->hash),
                                            ", recomputed ", HexEncode(recomputed)));
  }
  DecodedRecord record;
  if (!record.envelope.ParseFromArray(view->body.data(), static_cast<int>(view->body.size()))) {
    return absl::DataLossError("envelope bytes do not decode");
  }
  record.hash = std::string(view->hash);
  record.body = std::string(view->body);
  return record;
}

}  // namespace ledger
