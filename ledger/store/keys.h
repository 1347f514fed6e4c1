// The one file that owns the RocksDB key layout of the ledger.
//
// Grammar (all integers big-endian, so that byte order is numeric order):
//
//   column family "events":   key := position:u64                value := record (see integrity/record.h)
//   column family "streams":  key := stream_id 0x00 version:u64  value := position:u64
//   column family "ids":      key := event_id                    value := position:u64 version:u64 digest:32
//   column family "by_time":  key := recorded_at_micros:u64     value := last_position:u64
//   column family "merkle":   key := level:u8 index:u64          value := hash:32
//   column family "meta":     key := "head"                      value := position:u64 recorded_at_micros:u64 hash:32
//                             key := "merkle_frontier"           value := integrity/merkle.h MerkleFrontier::Serialize
//                             key := "schema_version"            value := version:u32
//
// Positions and versions start at 1; 0 means "none". Stream ids never contain
// 0x00 (validated on append), so the separator keeps one stream's keys
// contiguous and streams sorted by id, which a prefix scan over unit codes
// ("35.08.") relies on. `digest` is SHA-256 over the event's proposed content
// (see IdempotencyDigest) and lets a retry be recognized without reading the
// event. Recorded times are never negative (the writer clamps to >= 0).
// `by_time` has one entry per recorded time, not per event: every event of a
// group commit shares one time, and times never decrease along the log, so
// "the last position at or before T" is the value of the last key <= T.
//
// `merkle` holds the perfect nodes of the RFC 9162 tree over the events'
// hashes (leaf i = LeafHash(hash of position i + 1)) at levels >=
// merkle::kStoredNodeLevel only: node (level, index) covers leaves
// [index << level, (index + 1) << level); lower nodes are recomputed from the
// events. `merkle_frontier` is the tree's right edge at the head, written with
// it in the same batch (checked as a pair at open).
//
// Thread-safety: pure functions.
#ifndef LEDGER_STORE_KEYS_H_
#define LEDGER_STORE_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/util/big_endian.h"

namespace ledger::keys {

inline constexpr char kEventsFamily[] = "events";
inline constexpr char kStreamsFamily[] = "streams";
inline constexpr char kIdsFamily[] = "ids";
inline constexpr char kByTimeFamily[] = "by_time";
inline constexpr char kMetaFamily[] = "meta";
inline constexpr char kMerkleFamily[] = "merkle";

inline constexpr char kMetaHeadKey[] = "head";
inline constexpr char kMetaMerkleFrontierKey[] = "merkle_frontier";
inline constexpr char kMetaSchemaVersionKey[] = "schema_version";
inline constexpr uint32_t kSchemaVersion = 1;

// Reads 8 (or 4) bytes at `offset`; the caller checks the size.
using ::ledger::GetBigEndian32;
using ::ledger::GetBigEndian64;
using ::ledger::PutBigEndian32;
using ::ledger::PutBigEndian64;

// events
std::string EventKey(uint64_t position);
std::optional<uint64_t> ParseEventKey(std::string_view key);

// streams
std::string StreamKey(std::string_view stream_id, uint64_t version);
// The same key written into `out` (replacing its contents), so that a writer
// can reuse one buffer for every key.
void StreamKeyTo(std::string* out, std::string_view stream_id, uint64_t version);
// The smallest key above every key of `stream_id` (an exclusive upper bound).
std::string StreamUpperBound(std::string_view stream_id);
struct StreamKeyParts {
  std::string_view stream_id;
  uint64_t version;
};
std::optional<StreamKeyParts> ParseStreamKey(std::string_view key);
// The smallest key above every key that starts with `prefix` (an exclusive
// upper bound for a prefix scan); nullopt when there is none (empty prefix or
// all 0xFF bytes: scan to the end).
std::optional<std::string> PrefixUpperBound(std::string_view prefix);
std::string PositionValue(uint64_t position);
std::optional<uint64_t> ParsePositionValue(std::string_view value);

// ids
struct IdEntry {
  uint64_t position = 0;
  uint64_t version = 0;
  std::string digest;  // 32 bytes
};
std::string IdValue(const IdEntry& entry);
// The same value written into `out` (replacing its contents).
void IdValueTo(std::string* out, uint64_t position, uint64_t version, std::string_view digest);
std::optional<IdEntry> ParseIdValue(std::string_view value);

// by_time (the value is PositionValue of the last position at that time)
std::string ByTimeKey(uint64_t recorded_at_micros);
std::optional<uint64_t> ParseByTimeKey(std::string_view key);

// merkle
std::string MerkleNodeKey(int level, uint64_t index);
struct MerkleNodeKeyParts {
  int level;
  uint64_t index;
};
std::optional<MerkleNodeKeyParts> ParseMerkleNodeKey(std::string_view key);

// meta
struct HeadValue {
  uint64_t position = 0;
  uint64_t recorded_at_micros = 0;
  std::string hash;  // 32 bytes
};
std::string EncodeHead(const HeadValue& head);
std::optional<HeadValue> ParseHead(std::string_view value);

}  // namespace ledger::keys

#endif  // LEDGER_STORE_KEYS_H_
