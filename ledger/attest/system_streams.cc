#include "ledger/attest/system_streams.h"

#include "absl/strings/str_cat.h"

namespace ledger::attest {

std::string TreeHeadEventId(uint64_t tree_size) { return absl::StrCat("tree-head/", tree_size); }

std::string ReportSealEventId(uint64_t submission_position) {
  return absl::StrCat("report-seal/", submission_position);
}

v1::SignedTreeHead ToProto(const SignedTreeHead& head) {
  v1::SignedTreeHead proto;
  proto.set_tree_size(head.head.tree_size);
  proto.set_timestamp_micros(head.head.timestamp_micros);
  proto.set_root_hash(head.head.root_hash);
  proto.set_key_id(head.key_id);
  proto.set_signature(head.signature);
  return proto;
}

absl::StatusOr<SignedTreeHead> FromProto(const v1::SignedTreeHead& proto) {
  if (proto.root_hash().size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat("signed_head.root_hash: ", proto.root_hash().size(),
                                                   " bytes, expected 32"));
  }
  if (proto.signature().size() != kEd25519SignatureBytes) {
    return absl::InvalidArgumentError(absl::StrCat("signed_head.signature: ",
                                                   proto.signature().size(), " bytes, expected ",
                                                   kEd25519SignatureBytes));
  }
  SignedTreeHead head;
  head.head.tree_size = proto.tree_size();
  head.head.timestamp_micros = proto.timestamp_micros();
  head.head.root_hash = proto.root_hash();
  head.key_id = proto.key_id();
  head.signature = proto.signature();
  return head;
}

}  // namespace ledger::attest
