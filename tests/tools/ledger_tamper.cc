// ledger_tamper: a TEST-ONLY tool that damages a ledger on purpose, so that
// tests can check that verification finds the damage. Built in tests/, never
// installed.
//
//   ledger_tamper --data_dir D --position P [--offset K] [--xor M] [--rehash]
//   ledger_tamper --data_dir D --position P --delete
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
};

int Usage(const char* message) {
  std::fprintf(stderr,
               "ledger_tamper: %s\n"
               "usage: ledger_tamper --data_dir D --position P [--offset K] [--xor M] "
               "[--rehash]\n"
               "       ledger_tamper --data_dir D --position P --delete\n",
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
    } else if (name == "--rehash" && !value) {
      flags.rehash = true;
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
  if (!flags.position || *flags.position == 0) {
    *error = "--position is required (>= 1)";
    return std::nullopt;
  }
  if (flags.remove && (flags.offset || flags.rehash)) {
    *error = "--delete cannot be combined with --offset or --rehash";
    return std::nullopt;
  }
  return flags;
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

  const uint64_t position = *flags->position;
  const std::string key = ledger::keys::EventKey(position);
  std::string value;
  status = db->Get(ledger::LedgerReadOptions(), events, key, &value);
  if (!status.ok()) {
    std::fprintf(stderr, "ledger_tamper: position %llu: %s\n",
                 static_cast<unsigned long long>(position), status.ToString().c_str());
    return close(1);
  }

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
