// Writes the generated part of the seed corpus (fuzz/corpus/{record,bundle,
// store_values}) from a real ledger: a temporary RocksDB log is loaded with
// the reference report (ledger/projections/testing), heads are signed with
// the fuzzing key (fuzz/fuzz_key.h), the report is sealed, and its auditor
// bundle is built. The reference events' records come out the same on every
// run (manual clock, fixed key); the seal's and the signed heads' do not
// quite (they depend on when the sealer and publisher threads ran), so
// regenerate only when the formats change:
//
//   build-fuzz/fuzz/fuzz_make_seeds fuzz/corpus
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fuzz/fuzz_key.h"
#include "ledger/attest/bundle_builder.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/attest/report_sealer.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/record.h"
#include "ledger/integrity/sha256.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/util/clock.h"

namespace {

namespace fs = std::filesystem;
namespace reference = ledger::projections::testing;

void Write(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
}

template <typename T>
T OrDie(absl::StatusOr<T> value, std::string_view what) {
  if (!value.ok()) {
    std::cerr << what << ": " << value.status() << "\n";
    std::exit(1);
  }
  return *std::move(value);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds CORPUS_DIR\n";
    return 2;
  }
  const fs::path corpus = argv[1];
  const fs::path work = fs::temp_directory_path() / absl::StrCat("fuzz_make_seeds.", getpid());
  fs::create_directories(work);

  const fuzz::FuzzKey key;
  const std::string key_path = (work / "signing.key").string();
  Write(key_path, key.secret_key);
  chmod(key_path.c_str(), 0600);
  std::unique_ptr<ledger::HeadSigner> signer = OrDie(ledger::HeadSigner::LoadOrCreate(key_path), "key");

  ledger::ManualClock clock(absl::FromUnixSeconds(1719792000));
  ledger::RocksEventLogOptions options;
  options.data_dir = (work / "ledger").string();
  options.clock = &clock;
  options.head_witness_path = (work / "head.witness").string();
  std::unique_ptr<ledger::ClosableEventLog> log = OrDie(ledger::OpenRocksEventLog(options), "open");
  {
    ledger::SakipLedger sakip(log.get(), &clock);
    ledger::attest::HeadPublisherOptions publisher_options;
    publisher_options.witness_path = options.head_witness_path;
    publisher_options.interval = absl::ZeroDuration();
    publisher_options.clock = &clock;
    std::unique_ptr<ledger::attest::HeadPublisher> publisher =
        OrDie(ledger::attest::HeadPublisher::Start(log.get(), signer.get(), publisher_options), "publisher");
    std::unique_ptr<ledger::attest::ReportSealer> sealer =
        OrDie(ledger::attest::ReportSealer::Start(log.get(), &sakip, publisher.get()), "sealer");
    for (const ledger::projections::DomainEvent& event : reference::KlakahTw2Events()) {
      OrDie(sakip.Record("operator:seeds", {ledger::ProposedDomainEvent{event.event_id, event.reason, "", "", event.event}}),
            event.event_id);
      clock.Advance(absl::Seconds(1));
    }
    const std::string bundle = OrDie(
        ledger::attest::BuildAuditorBundle(
            ledger::attest::BundleSources{log.get(), &sakip, publisher.get(), sealer.get()},
            reference::kKlakahUnitCode, reference::kKlakahFiscalYear, reference::kKlakahReportId),
        "bundle");
    Write(corpus / "bundle" / "reference-as-is", absl::StrCat(std::string(1, '\0'), bundle));
    Write(corpus / "bundle" / "reference-fixed-up", absl::StrCat(std::string(1, '\1'), bundle));

    // Every stored value of the log, as RocksDB holds it.
    std::vector<ledger::RecordedEvent> events;
    for (uint64_t from = 1;;) {
      ledger::ReadPage page = OrDie(log->ReadAll(from, ledger::Direction::kForward, 1000), "read");
      for (ledger::RecordedEvent& event : page.events) events.push_back(std::move(event));
      if (page.end_of_range || page.events.empty()) break;
      from = page.next_from;
    }
    std::vector<std::string> values;
    ledger::merkle::MerkleFrontier frontier;
    for (const ledger::RecordedEvent& event : events) {
      values.push_back(ledger::EncodeRecord(event.stored_bytes));
      frontier.Append(ledger::merkle::LeafHash(event.hash));
    }
    // A few single records of each kind, and one stream prefix that folds.
    std::vector<std::string> seen_types;
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string& type = events[i].envelope.event_type();
      if (std::find(seen_types.begin(), seen_types.end(), type) != seen_types.end()) continue;
      seen_types.push_back(type);
      Write(corpus / "record" / absl::StrCat("position-", events[i].envelope.position(), "-", type), values[i]);
    }
    std::vector<std::string> prefix(values.begin(), values.begin() + std::min<size_t>(values.size(), 24));
    Write(corpus / "record" / "stream-prefix-24", absl::StrJoin(prefix, "\n@@record@@\n"));

    // store_values: selector byte, then the value (store_values_fuzzer.cc).
    const ledger::RecordedEvent& last = events.back();
    auto store = [&](std::string name, char selector, std::string bytes) {
      Write(corpus / "store_values" / name, absl::StrCat(std::string(1, selector), bytes));
    };
    store("event-key", 0, ledger::keys::EventKey(last.envelope.position()));
    store("stream-key", 1, ledger::keys::StreamKey(last.envelope.stream_id(), last.envelope.stream_version()));
    store("position-value", 2, ledger::keys::PositionValue(last.envelope.position()));
    store("id-value", 3, ledger::keys::IdValue({last.envelope.position(), last.envelope.stream_version(),
                                                ledger::Sha256("digest")}));
    store("by-time-key", 4, ledger::keys::ByTimeKey(static_cast<uint64_t>(last.envelope.recorded_at_micros())));
    store("merkle-node-key", 5, ledger::keys::MerkleNodeKey(4, 7));
    store("head", 6, ledger::keys::EncodeHead({last.envelope.position(),
                                               static_cast<uint64_t>(last.envelope.recorded_at_micros()), last.hash}));
    store("merkle-frontier", 7, frontier.Serialize());
    store("proofs", 8, absl::StrCat(std::string("\x2a\x07\x13", 3), std::string(16, '\0'),
                                    ledger::Sha256("a"), ledger::Sha256("b")));
    sealer.reset();
    publisher.reset();
  }
  log->Close();
  log.reset();
  fs::remove_all(work);
  std::cout << "seeds written under " << corpus << "\n";
  return 0;
}
