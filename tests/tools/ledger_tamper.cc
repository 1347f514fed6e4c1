// ledger_tamper: a TEST-ONLY tool that damages a ledger on purpose, so that
// tests can check that verification finds the damage. Built in tests/, never
// installed.
//
//   ledger_tamper --data_dir D --position P [--offset K] [--xor M] [--rehash]
//   ledger_tamper --data_dir D --position P --delete
//   ledger_tamper --data_dir D --position P --remove_and_rebuild
//
// Opens the ledger's RocksDB directly (the same options and column families
// as the event log, ledger/store/rocks_options.h) while no server holds it,
// and rewrites the stored value of the event at position P:
//   default    flips byte K of the stored value (value := 0x01 hash:32 body,
//              see ledger/integrity/record.h) by XOR with M (default 0xFF).
//              K defaults to the middle of the envelope body (past the 1+32
//              byte frame header).
//   --rehash   after flipping, recomputes the frame's hash over the (changed)
//              body: a forger who knows the format. Only the chain can then
//              reveal the change. K must lie in the body.
//   --delete   deletes the event's record (its indexes are left alone).
//   --merkle_node LEVEL:INDEX
//              flips the first byte of a stored Merkle node (levels >= 4 are
//              stored, see integrity/merkle.h); no --position.
//   --remove_and_rebuild
//              what a malicious operator who knows the format would do:
//              removes the event at P and rewrites every later event one
//              position down (stream versions of its stream too), with
//              prev_hash and hash recomputed, and rebuilds every index
//              (streams, ids, by_time), the Merkle nodes, the frontier and
//              the stored head, so that the log is internally consistent and
//              passes Verify. Only something kept outside the database (a
//              signed tree head, the head witness) can reveal it. Loads the
//              whole log into memory: for test-sized ledgers.
// The write is synced. Prints one line saying what it did.
//
// Exit codes: 0 done, 1 the database or the position cannot be used, 2 usage.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/integrity/merkle.h"
#include "ledger/integrity/record.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_options.h"
#include "rocksdb/db.h"

namespace {

constexpr size_t kFrameHeaderBytes = 1 + ledger::kHashBytes;

struct Flags {
  std::string data_dir;
  std::optional<uint64_t> position;
  std::optional<uint64_t> offset;
  unsigned xor_mask = 0xFF;
  bool remove = false;
  bool rehash = false;
  bool rebuild = false;
  std::optional<std::pair<int, uint64_t>> merkle_node;  // level, index
};

int Usage(const char* message) {
  std::fprintf(stderr,
               "ledger_tamper: %s\n"
               "usage: ledger_tamper --data_dir D --position P [--offset K] [--xor M] "
               "[--rehash]\n"
               "       ledger_tamper --data_dir D --position P --delete\n"
               "       ledger_tamper --data_dir D --position P --remove_and_rebuild\n"
               "       ledger_tamper --data_dir D --merkle_node LEVEL:INDEX [--xor M]\n",
               message);
  return 2;
}

bool ParseUnsigned(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || end == nullptr || *end != '\0' || text[0] == '-') return false;
  *out = value;
  return true;
}

// Accepts --name=value and --name value.
std::optional<Flags> ParseFlags(int argc, char** argv, std::string* error) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string name = arg;
    std::optional<std::string> value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto take_value = [&]() -> std::optional<std::string> {
      if (value) return value;
      if (i + 1 < argc) return std::string(argv[++i]);
      *error = name + " needs a value";
      return std::nullopt;
    };
    if (name == "--delete" && !value) {
      flags.remove = true;
    } else if (name == "--remove_and_rebuild" && !value) {
      flags.rebuild = true;
    } else if (name == "--rehash" && !value) {
      flags.rehash = true;
    } else if (name == "--merkle_node") {
      auto v = take_value();
      if (!v) return std::nullopt;
      const size_t colon = v->find(':');
      uint64_t level = 0;
      uint64_t index = 0;
      if (colon == std::string::npos || !ParseUnsigned(v->substr(0, colon), &level) ||
          !ParseUnsigned(v->substr(colon + 1), &index) || level > 63) {
        *error = "--merkle_node: '" + *v + "' is not LEVEL:INDEX";
        return std::nullopt;
      }
      flags.merkle_node = std::make_pair(static_cast<int>(level), index);
    } else if (name == "--data_dir") {
      auto v = take_value();
      if (!v) return std::nullopt;
      flags.data_dir = *v;
    } else if (name == "--position" || name == "--offset" || name == "--xor") {
      auto v = take_value();
      if (!v) return std::nullopt;
      uint64_t number = 0;
      if (!ParseUnsigned(*v, &number)) {
        *error = name + ": '" + *v + "' is not a non-negative number";
        return std::nullopt;
      }
      if (name == "--position") flags.position = number;
      if (name == "--offset") flags.offset = number;
      if (name == "--xor") {
        if (number == 0 || number > 0xFF) {
          *error = "--xor: must be 1..255";
          return std::nullopt;
        }
        flags.xor_mask = static_cast<unsigned>(number);
      }
    } else {
      *error = "unknown argument '" + arg + "'";
      return std::nullopt;
    }
  }
  if (flags.data_dir.empty()) {
    *error = "--data_dir is required";
    return std::nullopt;
  }
  if (flags.merkle_node) {
    if (flags.position || flags.remove || flags.rebuild || flags.rehash || flags.offset) {
      *error = "--merkle_node takes no --position, --offset, --rehash, --delete or --remove_and_rebuild";
      return std::nullopt;
    }
    return flags;
  }
  if (!flags.position || *flags.position == 0) {
    *error = "--position is required (>= 1)";
    return std::nullopt;
  }
  if ((flags.remove || flags.rebuild) && (flags.offset || flags.rehash)) {
    *error = "--delete and --remove_and_rebuild cannot be combined with --offset or --rehash";
    return std::nullopt;
  }
  if (flags.remove && flags.rebuild) {
    *error = "--delete and --remove_and_rebuild exclude each other";
    return std::nullopt;
  }
  return flags;
}


// --- --remove_and_rebuild --------------------------------------------------

// One event of the rebuilt log: its stored frame and what indexes it.
struct Rebuilt {
  ledger::v1::EventEnvelope envelope;
  std::string hash;
  std::string value;  // the frame as stored
};

rocksdb::ColumnFamilyHandle* Family(const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                    const std::string& name) {
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == name) return handle;
  }
  return nullptr;
}

// Every record of the log, decoded, in position order; nullopt (after saying
// why) unless the log is contiguous from 1 and every record decodes: the tool
// forges a consistent log, it does not repair a damaged one.
std::optional<std::vector<ledger::DecodedRecord>> ReadWholeLog(rocksdb::DB* db,
                                                               rocksdb::ColumnFamilyHandle* events) {
  std::vector<ledger::DecodedRecord> records;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ledger::LedgerReadOptions(), events));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<ledger::DecodedRecord> record = ledger::DecodeRecord(it->value().ToStringView());
    if (!record.ok() || record->envelope.position() != records.size() + 1) {
      std::fprintf(stderr, "ledger_tamper: the log is not intact at position %zu\n", records.size() + 1);
      return std::nullopt;
    }
    records.push_back(*std::move(record));
  }
  if (!it->status().ok()) {
    std::fprintf(stderr, "ledger_tamper: reading the log: %s\n", it->status().ToString().c_str());
    return std::nullopt;
  }
  return records;
}

// The log without position `removed`: later events one position down (and
// one version down in the removed event's stream), each re-serialized with
// the previous event's hash and hashed again, as the writer would have.
std::vector<Rebuilt> Renumber(const std::vector<ledger::DecodedRecord>& records, uint64_t removed) {
  const ledger::v1::EventEnvelope& gone = records[removed - 1].envelope;
  std::vector<Rebuilt> log;
  std::string prev_hash = ledger::GenesisHash();
  for (const ledger::DecodedRecord& record : records) {
    ledger::v1::EventEnvelope envelope = record.envelope;
    if (envelope.position() == removed) continue;
    if (envelope.position() > removed) {
      envelope.set_position(envelope.position() - 1);
      if (envelope.stream_id() == gone.stream_id()) envelope.set_stream_version(envelope.stream_version() - 1);
      envelope.set_prev_hash(prev_hash);
    }
    std::string body = envelope.position() < removed ? record.body : envelope.SerializeAsString();
    std::string value = ledger::EncodeRecord(body);
    std::string hash = value.substr(1, ledger::kHashBytes);
    prev_hash = hash;
    log.push_back(Rebuilt{std::move(envelope), std::move(hash), std::move(value)});
  }
  return log;
}

// Deletes every key of `family` (the forged log replaces them all).
void ClearFamily(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, rocksdb::WriteBatch* batch) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ledger::LedgerReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) batch->Delete(family, it->key());
}

struct Families {
  rocksdb::ColumnFamilyHandle* events;
  rocksdb::ColumnFamilyHandle* streams;
  rocksdb::ColumnFamilyHandle* ids;
  rocksdb::ColumnFamilyHandle* by_time;
  rocksdb::ColumnFamilyHandle* merkle;
  rocksdb::ColumnFamilyHandle* meta;
};

// Puts the forged log with every index, Merkle node, the frontier and the
// head, exactly as the log's committer lays them out (ledger/store/keys.h).
// Idempotency digests do not depend on positions: they are carried over.
bool PutForgedLog(rocksdb::DB* db, const Families& f, const std::vector<Rebuilt>& log,
                  rocksdb::WriteBatch* batch) {
  ledger::merkle::MerkleFrontier frontier;
  for (const Rebuilt& event : log) {
    const ledger::v1::EventEnvelope& e = event.envelope;
    std::string id_value;
    if (!db->Get(ledger::LedgerReadOptions(), f.ids, e.event_id(), &id_value).ok()) return false;
    std::optional<ledger::keys::IdEntry> id = ledger::keys::ParseIdValue(id_value);
    if (!id) return false;
    batch->Put(f.events, ledger::keys::EventKey(e.position()), event.value);
    batch->Put(f.streams, ledger::keys::StreamKey(e.stream_id(), e.stream_version()),
               ledger::keys::PositionValue(e.position()));
    batch->Put(f.ids, e.event_id(), ledger::keys::IdValue({e.position(), e.stream_version(), id->digest}));
    // Later events at the same time overwrite: the entry names the last one.
    batch->Put(f.by_time, ledger::keys::ByTimeKey(static_cast<uint64_t>(e.recorded_at_micros())),
               ledger::keys::PositionValue(e.position()));
    for (const ledger::merkle::Node& node : frontier.Append(ledger::merkle::LeafHash(event.hash))) {
      if (ledger::merkle::IsStoredNode(node)) {
        batch->Put(f.merkle, ledger::keys::MerkleNodeKey(node.level, node.index), node.hash);
      }
    }
  }
  const Rebuilt& last = log.back();
  batch->Put(f.meta, ledger::keys::kMetaHeadKey,
             ledger::keys::EncodeHead({last.envelope.position(),
                                       static_cast<uint64_t>(last.envelope.recorded_at_micros()), last.hash}));
  batch->Put(f.meta, ledger::keys::kMetaMerkleFrontierKey, frontier.Serialize());
  return true;
}

int RemoveAndRebuild(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                     uint64_t position) {
  namespace k = ledger::keys;
  const Families f{Family(handles, k::kEventsFamily), Family(handles, k::kStreamsFamily),
                   Family(handles, k::kIdsFamily),    Family(handles, k::kByTimeFamily),
                   Family(handles, k::kMerkleFamily), Family(handles, k::kMetaFamily)};
  if (!f.events || !f.streams || !f.ids || !f.by_time || !f.merkle || !f.meta) {
    std::fprintf(stderr, "ledger_tamper: a column family is missing\n");
    return 1;
  }
  std::optional<std::vector<ledger::DecodedRecord>> records = ReadWholeLog(db, f.events);
  if (!records) return 1;
  if (records->size() < 2) {
    std::fprintf(stderr, "ledger_tamper: --remove_and_rebuild needs a log of at least 2 events\n");
    return 1;
  }
  const std::vector<Rebuilt> log = Renumber(*records, position);
  rocksdb::WriteBatch batch;
  for (rocksdb::ColumnFamilyHandle* family : {f.events, f.streams, f.by_time, f.merkle}) {
    ClearFamily(db, family, &batch);
  }
  // ids are read for their digests before being replaced; the removed event's
  // id goes with it.
  if (!PutForgedLog(db, f, log, &batch)) {
    std::fprintf(stderr, "ledger_tamper: an event id has no readable ids entry\n");
    return 1;
  }
  batch.Delete(f.ids, records->at(position - 1).envelope.event_id());
  rocksdb::Status status = db->Write(ledger::LedgerWriteOptions(), &batch);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger_tamper: write: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("removed position %llu ('%s') and rebuilt %zu events, their indexes, Merkle tree and head\n",
              static_cast<unsigned long long>(position), records->at(position - 1).envelope.event_id().c_str(),
              log.size());
  return 0;
}

// Flips the first byte of a stored Merkle node (XOR with --xor).
int FlipMerkleNode(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                   const Flags& flags) {
  rocksdb::ColumnFamilyHandle* merkle = nullptr;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == ledger::keys::kMerkleFamily) merkle = handle;
  }
  const auto [level, index] = *flags.merkle_node;
  const std::string key = ledger::keys::MerkleNodeKey(level, index);
  std::string value;
  rocksdb::Status status =
      merkle == nullptr ? rocksdb::Status::NotFound("no merkle family") : db->Get(ledger::LedgerReadOptions(), merkle, key, &value);
  if (!status.ok() || value.empty()) {
    std::fprintf(stderr, "ledger_tamper: Merkle node %d:%llu: %s\n", level, static_cast<unsigned long long>(index),
                 status.ToString().c_str());
    return 1;
  }
  value[0] = static_cast<char>(static_cast<unsigned char>(value[0]) ^ flags.xor_mask);
  status = db->Put(ledger::LedgerWriteOptions(), merkle, key, value);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger_tamper: write: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("flipped the first byte of Merkle node %d:%llu\n", level, static_cast<unsigned long long>(index));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  std::optional<Flags> flags = ParseFlags(argc, argv, &error);
  if (!flags) return Usage(error.c_str());

  rocksdb::DBOptions db_options = ledger::LedgerDbOptions();
  db_options.create_if_missing = false;  // never create a ledger by mistake
  db_options.create_missing_column_families = false;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, flags->data_dir,
                                             ledger::LedgerColumnFamilies(), &handles, &raw);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger_tamper: cannot open '%s': %s\n", flags->data_dir.c_str(),
                 status.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* events = nullptr;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == ledger::keys::kEventsFamily) events = handle;
  }
  auto close = [&](int code) {
    for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
    db->Close();
    return code;
  };
  if (events == nullptr) {
    std::fprintf(stderr, "ledger_tamper: no '%s' column family\n", ledger::keys::kEventsFamily);
    return close(1);
  }
  if (flags->merkle_node) return close(FlipMerkleNode(db.get(), handles, *flags));

  const uint64_t position = *flags->position;
  const std::string key = ledger::keys::EventKey(position);
  std::string value;
  status = db->Get(ledger::LedgerReadOptions(), events, key, &value);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger_tamper: position %llu: %s\n",
                 static_cast<unsigned long long>(position), status.ToString().c_str());
    return close(1);
  }

  if (flags->rebuild) return close(RemoveAndRebuild(db.get(), handles, position));

  if (flags->remove) {
    status = db->Delete(ledger::LedgerWriteOptions(), events, key);
    if (!status.ok()) {
      std::fprintf(stderr, "ledger_tamper: delete: %s\n", status.ToString().c_str());
      return close(1);
    }
    std::printf("deleted the record at position %llu (%zu bytes)\n",
                static_cast<unsigned long long>(position), value.size());
    return close(0);
  }

  const size_t body_bytes = value.size() > kFrameHeaderBytes ? value.size() - kFrameHeaderBytes : 0;
  const uint64_t offset =
      flags->offset.value_or(body_bytes > 0 ? kFrameHeaderBytes + body_bytes / 2 : 0);
  if (offset >= value.size()) {
    std::fprintf(stderr, "ledger_tamper: --offset %llu is past the %zu-byte stored value\n",
                 static_cast<unsigned long long>(offset), value.size());
    return close(1);
  }
  if (flags->rehash && offset < kFrameHeaderBytes) {
    std::fprintf(stderr, "ledger_tamper: --rehash needs an --offset in the body (>= %zu)\n",
                 kFrameHeaderBytes);
    return close(1);
  }
  const unsigned char before = static_cast<unsigned char>(value[offset]);
  value[offset] = static_cast<char>(before ^ flags->xor_mask);
  if (flags->rehash) {
    std::string hash =
        ledger::Sha256(std::string_view(value).substr(kFrameHeaderBytes));
    value.replace(1, ledger::kHashBytes, hash);
  }
  status = db->Put(ledger::LedgerWriteOptions(), events, key, value);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger_tamper: write: %s\n", status.ToString().c_str());
    return close(1);
  }
  std::printf("position %llu: byte %llu of %zu flipped 0x%02x -> 0x%02x%s\n",
              static_cast<unsigned long long>(position), static_cast<unsigned long long>(offset),
              value.size(), before, static_cast<unsigned char>(value[offset]),
              flags->rehash ? ", frame hash recomputed" : "");
  return close(0);
}
