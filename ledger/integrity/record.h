// The stored form of one event, and the hash that chains it.
//
// Stored value (the `events` column family, see ledger/store/keys.h):
//
//   value  := format hash body
//   format := 0x01                      one byte; the frame version
//   hash   := SHA-256(body)             32 bytes
//   body   := serialized EventEnvelope  exactly the bytes that were hashed
//
// Field order in the body is not canonical and has changed: records written
// by earlier builds hold the fields the writer assigns (position,
// stream_version, recorded_at_micros, prev_hash) first and the client's
// fields after them; later records hold the client's fields first, so that the
// writer appends its four fields in place instead of copying the payload.
// Any protobuf parser reads fields in any order, and nothing ever depends on
// a canonical order because the hash covers exactly the stored bytes.
//
// The log's committer writes this frame in place from its three parts
// (rocks_event_log.cc, PutStaged) instead of calling EncodeRecord; every
// read goes through SplitRecord / DecodeRecord, which check it.
//
// The body carries prev_hash, so hash(n) covers hash(n-1): a chain. The body is
// serialized once, on append, and never again: verification hashes the stored
// bytes, never a re-serialization.
//
// Thread-safety: pure functions.
#ifndef LEDGER_INTEGRITY_RECORD_H_
#define LEDGER_INTEGRITY_RECORD_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ledger/v1/event.pb.h"

namespace ledger {

inline constexpr char kRecordFormatV1 = 0x01;

// Frames serialized envelope bytes: format byte, their SHA-256, the bytes.
std::string EncodeRecord(std::string_view body);

struct RecordView {
  std::string_view hash;  // as stored
  std::string_view body;  // as stored
};

// Splits a stored value into hash and body. DataLoss if the frame is malformed.
// Does not recompute the hash: see CheckRecord.
absl::StatusOr<RecordView> SplitRecord(std::string_view value);

// A decoded, hash-checked record.
struct DecodedRecord {
  v1::EventEnvelope envelope;
  std::string hash;
  std::string body;
};

// Splits, recomputes the hash over the stored body, and parses the envelope.
// DataLoss names what is wrong (malformed frame, hash mismatch, undecodable).
absl::StatusOr<DecodedRecord> DecodeRecord(std::string_view value);

}  // namespace ledger

#endif  // LEDGER_INTEGRITY_RECORD_H_
