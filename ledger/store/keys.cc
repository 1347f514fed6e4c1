#include "ledger/store/keys.h"

#include "ledger/integrity/sha256.h"

namespace ledger::keys {

std::string EventKey(uint64_t position) {
  std::string key;
  PutBigEndian64(&key, position);
  return key;
}

std::optional<uint64_t> ParseEventKey(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return GetBigEndian64(key);
}

std::string StreamKey(std::string_view stream_id, uint64_t version) {
  std::string key;
  StreamKeyTo(&key, stream_id, version);
  return key;
}

void StreamKeyTo(std::string* out, std::string_view stream_id, uint64_t version) {
  out->clear();
  out->reserve(stream_id.size() + 9);
  out->append(stream_id);
  out->push_back('\0');
  PutBigEndian64(out, version);
}

std::string StreamUpperBound(std::string_view stream_id) {
  std::string key(stream_id);
  key.push_back('\x01');
  return key;
}

std::string MerkleNodeKey(int level, uint64_t index) {
  std::string key(1, static_cast<char>(level));
  PutBigEndian64(&key, index);
  return key;
}

std::optional<MerkleNodeKeyParts> ParseMerkleNodeKey(std::string_view key) {
  if (key.size() != 9 || static_cast<unsigned char>(key[0]) > 63) return std::nullopt;
  return MerkleNodeKeyParts{static_cast<unsigned char>(key[0]), GetBigEndian64(key, 1)};
}

std::optional<std::string> PrefixUpperBound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    unsigned char last = static_cast<unsigned char>(bound.back());
    if (last != 0xFF) {
      bound.back() = static_cast<char>(last + 1);
      return bound;
    }
    bound.pop_back();
  }
  return std::nullopt;
}

std::optional<StreamKeyParts> ParseStreamKey(std::string_view key) {
  if (key.size() < 10) return std::nullopt;
  size_t separator = key.size() - 9;
  if (key[separator] != '\0') return std::nullopt;
  std::string_view stream_id = key.substr(0, separator);
  if (stream_id.find('\0') != std::string_view::npos) return std::nullopt;
  return StreamKeyParts{stream_id, GetBigEndian64(key, separator + 1)};
}

std::string PositionValue(uint64_t position) { return EventKey(position); }

std::optional<uint64_t> ParsePositionValue(std::string_view value) {
  return ParseEventKey(value);
}

std::string IdValue(const IdEntry& entry) {
  std::string value;
  IdValueTo(&value, entry.position, entry.version, entry.digest);
  return value;
}

void IdValueTo(std::string* out, uint64_t position, uint64_t version, std::string_view digest) {
  out->clear();
  out->reserve(16 + kHashBytes);
  PutBigEndian64(out, position);
  PutBigEndian64(out, version);
  out->append(digest);
}

std::optional<IdEntry> ParseIdValue(std::string_view value) {
  if (value.size() != 16 + kHashBytes) return std::nullopt;
  return IdEntry{GetBigEndian64(value, 0), GetBigEndian64(value, 8),
                 std::string(value.substr(16))};
}

std::string ByTimeKey(uint64_t recorded_at_micros) { return EventKey(recorded_at_micros); }

std::optional<uint64_t> ParseByTimeKey(std::string_view key) { return ParseEventKey(key); }

std::string EncodeHead(const HeadValue& head) {
  std::string value;
  value.reserve(16 + kHashBytes);
  PutBigEndian64(&value, head.position);
  PutBigEndian64(&value, head.recorded_at_micros);
  value.append(head.hash);
  return value;
}

std::optional<HeadValue> ParseHead(std::string_view value) {
  if (value.size() != 16 + kHashBytes) return std::nullopt;
  return HeadValue{GetBigEndian64(value, 0), GetBigEndian64(value, 8),
                   std::string(value.substr(16))};
}

}  // namespace ledger::keys
