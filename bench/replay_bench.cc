// replay_bench: how fast another system can take the ledger's events through
// gRPC: AuditService.Replay of the whole log and filtered (one kabupaten; one
// kabupaten and one event type), and LedgerService.Subscribe (one message per
// event) for comparison, next to the baseline measured in the same run: plain
// RocksDB iterating the same number of records of the same size, and the
// store's own paged ReadAll.
//
// The ledger: --events events (default 1 million) of realistic size spread
// over unit-years of three kabupaten (35.08, 35.09, 35.10), 9 event types,
// appended in batches of 1000. The client runs in the same process as the
// server (2 cores: they share the CPU), over a real TCP channel on 127.0.0.1.
//
// A program, not a test. Figures: docs/BENCHMARKS.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "bench/bench_ledger.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "ledger/store/rocks_event_log.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "services/server.h"

ABSL_FLAG(uint64_t, events, 1000000, "events in the ledger");
ABSL_FLAG(int, repeat, 2, "rounds of every case; the fastest round is reported");
ABSL_FLAG(std::string, dir, "", "parent of the temporary data directories (default $TMPDIR or /tmp)");
ABSL_FLAG(int, payload_bytes, 300, "payload size of every event");

namespace ledger::bench {
namespace {

constexpr size_t kBatch = 1000;
constexpr int kUnitsPerKabupaten = 20;
const char* const kKabupaten[] = {"35.08", "35.09", "35.10"};
const char* const kTypes[] = {"RealizationRecorded", "RealizationCorrected", "DisbursementRecorded",
                              "DisbursementReversed", "ChecklistEntryRecorded", "TargetRevised",
                              "BudgetRevised", "ReportSubmitted", "ReportDisposed"};

std::string TempParent() { return bench::TempParent(absl::GetFlag(FLAGS_dir)); }

std::string Payload(uint64_t serial) {
  return JsonPayload(serial, static_cast<size_t>(absl::GetFlag(FLAGS_payload_bytes)));
}

// Appends `count` events: batch i goes to one unit-year of kabupaten i % 3.
void Fill(EventLog* log, uint64_t count) {
  uint64_t serial = 0;
  for (uint64_t batch = 0; serial < count; ++batch) {
    const std::string stream = absl::StrCat(kKabupaten[batch % 3], ".", 10 + (batch / 3) % kUnitsPerKabupaten,
                                            "/2024");
    AppendRequest request{stream, ExpectedVersion::Any(), {}, "operator:bench"};
    for (size_t i = 0; i < kBatch && serial < count; ++i, ++serial) {
      request.events.push_back(ProposedEvent{absl::StrCat("event-", serial), kTypes[serial % 9], Payload(serial),
                                             "application/json", absl::StrCat("batch-", batch), "", ""});
    }
    absl::StatusOr<AppendResult> result = log->Append(std::move(request));
    if (!result.ok()) {
      std::fprintf(stderr, "fill: %s\n", result.status().ToString().c_str());
      std::exit(1);
    }
    if (serial % 100000 == 0) std::fprintf(stderr, "  filled %llu events\n", static_cast<unsigned long long>(serial));
  }
}

struct Figure {
  std::string name;
  uint64_t delivered = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(delivered) / seconds : 0; }
};

// Plain RocksDB: `count` records of `record_bytes` under 8-byte keys, written
// unsynced, then read back by one iterator (the floor of reading the log).
Figure RawIteration(const std::string& parent, uint64_t count, size_t record_bytes) {
  const std::string path = parent + "/replay_bench_raw";
  std::filesystem::remove_all(path);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, path, &raw).ok()) std::exit(1);
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value(record_bytes, 'r');
  for (uint64_t position = 1; position <= count;) {
    rocksdb::WriteBatch batch;
    for (size_t i = 0; i < kBatch && position <= count; ++i, ++position) {
      std::string key(8, '\0');
      for (int b = 0; b < 8; ++b) key[7 - b] = static_cast<char>((position >> (8 * b)) & 0xFF);
      batch.Put(key, value);
    }
    db->Write(rocksdb::WriteOptions(), &batch);
  }
  db->Flush(rocksdb::FlushOptions());
  Figure figure{"raw RocksDB iterator"};
  for (int round = 0; round < absl::GetFlag(FLAGS_repeat); ++round) {
    const absl::Time start = absl::Now();
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    uint64_t seen = 0;
    size_t bytes = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      bytes += it->value().size();
      ++seen;
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (bytes == 0) std::exit(1);
    if (figure.seconds == 0 || seconds < figure.seconds) figure = {figure.name, seen, seconds};
  }
  db.reset();
  std::filesystem::remove_all(path);
  return figure;
}

Figure StoreReadAll(EventLog* log) {
  Figure figure{"store ReadAll pages of 1000 (no gRPC)"};
  for (int round = 0; round < absl::GetFlag(FLAGS_repeat); ++round) {
    const absl::Time start = absl::Now();
    uint64_t seen = 0;
    for (uint64_t from = 1;;) {
      absl::StatusOr<ReadPage> page = log->ReadAll(from, Direction::kForward, 1000);
      if (!page.ok()) std::exit(1);
      seen += page->events.size();
      if (page->end_of_range) break;
      from = page->next_from;
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (figure.seconds == 0 || seconds < figure.seconds) figure = {figure.name, seen, seconds};
  }
  return figure;
}

Figure GrpcReplay(sakip::v1::AuditService::Stub& stub, const std::string& name,
                  const std::vector<std::string>& prefixes, const std::vector<std::string>& types) {
  Figure figure{name};
  for (int round = 0; round < absl::GetFlag(FLAGS_repeat); ++round) {
    sakip::v1::ReplayRequest request;
    for (const std::string& prefix : prefixes) request.add_unit_prefixes(prefix);
    for (const std::string& type : types) request.add_event_types(type);
    grpc::ClientContext context;
    const absl::Time start = absl::Now();
    auto reader = stub.Replay(&context, request);
    sakip::v1::ReplayResponse chunk;
    uint64_t seen = 0;
    while (reader->Read(&chunk)) seen += chunk.events_size();
    grpc::Status status = reader->Finish();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (!status.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), status.error_message().c_str());
      std::exit(1);
    }
    if (figure.seconds == 0 || seconds < figure.seconds) figure = {figure.name, seen, seconds};
  }
  return figure;
}

Figure GrpcSubscribe(v1::LedgerService::Stub& stub, uint64_t head) {
  Figure figure{"gRPC LedgerService.Subscribe (1 event/message)"};
  for (int round = 0; round < absl::GetFlag(FLAGS_repeat); ++round) {
    v1::SubscribeRequest request;
    grpc::ClientContext context;
    const absl::Time start = absl::Now();
    auto reader = stub.Subscribe(&context, request);
    v1::SubscribeResponse item;
    uint64_t seen = 0;
    while (reader->Read(&item)) {
      if (item.has_event() && ++seen == head) break;
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    context.TryCancel();
    reader->Finish();
    if (figure.seconds == 0 || seconds < figure.seconds) figure = {figure.name, seen, seconds};
  }
  return figure;
}

void Print(const Figure& figure, const Figure& baseline, uint64_t examined) {
  const double examined_per_second = figure.seconds > 0 ? static_cast<double>(examined) / figure.seconds : 0;
  std::printf("| %-52s | %9llu | %7.2f | %11.0f | %11.0f | %5.2f |\n", figure.name.c_str(),
              static_cast<unsigned long long>(figure.delivered), figure.seconds, figure.per_second(),
              examined_per_second, examined_per_second / baseline.per_second());
}

int Main() {
  const uint64_t count = absl::GetFlag(FLAGS_events);
  const std::string parent = TempParent();
  const std::string data_dir = parent + "/replay_bench_ledger";
  std::filesystem::remove_all(data_dir);
  RocksEventLogOptions options;
  options.data_dir = data_dir;
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "filling a ledger of %llu events in %s\n", static_cast<unsigned long long>(count),
               data_dir.c_str());
  const absl::Time fill_start = absl::Now();
  Fill(log->get(), count);
  std::fprintf(stderr, "  filled in %.1f s\n", absl::ToDoubleSeconds(absl::Now() - fill_start));
  absl::StatusOr<RecordedEvent> sample = (*log)->GetEvent("event-0");
  const size_t record_bytes = sample.ok() ? sample->stored_bytes.size() : 600;

  services::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<services::LedgerServer>> server =
      services::LedgerServer::Start(log->get(), server_options);
  if (!server.ok()) return 1;
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(16 << 20);
  auto channel = grpc::CreateCustomChannel((*server)->address(), grpc::InsecureChannelCredentials(), arguments);
  auto audit = sakip::v1::AuditService::NewStub(channel);
  auto ledger = v1::LedgerService::NewStub(channel);

  const Figure raw = RawIteration(parent, count, record_bytes);
  std::vector<Figure> figures = {
      StoreReadAll(log->get()),
      GrpcReplay(*audit, "gRPC AuditService.Replay, whole log", {}, {}),
      GrpcReplay(*audit, "gRPC Replay, one kabupaten (35.08, 1/3)", {"35.08"}, {}),
      GrpcReplay(*audit, "gRPC Replay, 35.08 x RealizationRecorded (1/27)", {"35.08"}, {"RealizationRecorded"}),
      GrpcSubscribe(*ledger, count),
  };
  std::printf("\nledger: %llu events, stored record %zu bytes; client and server in one process\n\n",
              static_cast<unsigned long long>(count), record_bytes);
  std::printf("| %-52s | %9s | %7s | %11s | %11s | %5s |\n", "case (fastest of --repeat rounds)", "delivered",
              "seconds", "delivered/s", "examined/s", "x raw");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(54, '-').c_str(), std::string(11, '-').c_str(),
              std::string(9, '-').c_str(), std::string(13, '-').c_str(), std::string(13, '-').c_str(),
              std::string(7, '-').c_str());
  Print(raw, raw, count);
  for (const Figure& figure : figures) Print(figure, raw, count);
  std::printf("\ndelivered/s: events the client received per second; examined/s: events of the log the\n"
              "server went through per second (all %llu for every case); x raw: examined/s against the\n"
              "raw iterator.\n",
              static_cast<unsigned long long>(count));
  (*server)->Shutdown(absl::Seconds(2));
  server->reset();
  (*log)->Close();
  log->reset();
  std::filesystem::remove_all(data_dir);
  return 0;
}

}  // namespace
}  // namespace ledger::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("replay throughput through gRPC against raw RocksDB iteration");
  absl::ParseCommandLine(argc, argv);
  return ledger::bench::Main();
}
