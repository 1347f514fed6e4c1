// The ledger's system streams: what the ledger itself records in its log,
// next to the clients' streams, so that it is hash-chained, in the Merkle
// tree, replicated and never rewritten like everything else.
//
//   "$tree-heads"    one "TreeHeadSigned" event per signed tree head
//                    (payload ledger.v1.SignedTreeHead), event id
//                    "tree-head/<tree_size>";
//   "$report-seals"  one "ReportSealed" event per submitted report (payload
//                    sakip.v1.ReportSeal), event id
//                    "report-seal/<submission position>".
//
// Stream ids starting with '$' are reserved: clients may not append to them
// (IsReservedStreamId; the services refuse such appends).
//
// Thread-safety: constants and pure functions.
#ifndef LEDGER_ATTEST_SYSTEM_STREAMS_H_
#define LEDGER_ATTEST_SYSTEM_STREAMS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/v1/tree_head.pb.h"

namespace ledger::attest {

inline constexpr char kTreeHeadsStream[] = "$tree-heads";
inline constexpr char kTreeHeadSignedType[] = "TreeHeadSigned";
inline constexpr char kTreeHeadContentType[] =
    "application/x-protobuf;proto=ledger.v1.SignedTreeHead";

inline constexpr char kReportSealsStream[] = "$report-seals";
inline constexpr char kReportSealedType[] = "ReportSealed";
inline constexpr char kReportSealContentType[] =
    "application/x-protobuf;proto=sakip.v1.ReportSeal";

// True for stream ids the ledger keeps for itself ("$...").
inline bool IsReservedStreamId(std::string_view stream_id) {
  return !stream_id.empty() && stream_id.front() == '$';
}

std::string TreeHeadEventId(uint64_t tree_size);
std::string ReportSealEventId(uint64_t submission_position);

v1::SignedTreeHead ToProto(const SignedTreeHead& head);
// InvalidArgument naming the field when the root or signature has the wrong
// length.
absl::StatusOr<SignedTreeHead> FromProto(const v1::SignedTreeHead& head);

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_SYSTEM_STREAMS_H_
