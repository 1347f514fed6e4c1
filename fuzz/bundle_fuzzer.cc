// Fuzz target: offline verification of auditor bundles,
// VerifyAuditorBundle (ledger/attest/bundle_verifier.h): the bytes an
// inspector receives from outside and checks with only a public key.
//
// Input: a mode byte, then bundle bytes.
//   even: the bytes are verified as they are, against the fuzzing key
//         (fuzz/corpus/bundle holds real bundles signed by it, made by
//         fuzz_make_seeds);
//   odd:  the bytes are parsed as a bundle and made to pass the checks a
//         fuzzer cannot satisfy by chance -- the seal's digest of
//         report_text, the Merkle tree, the inclusion proofs and the head's
//         signature are recomputed with the fuzzing key -- so that the
//         mutated events reach the stream-shape checks, the fold and the
//         report computation (step 4 to 6).
//
// Properties: a refusal is DataLoss; an accepted bundle is in its canonical
// encoding, its report_text is the recomputed report and its digest, its
// counts match; and changing any one byte of an accepted bundle, or cutting
// it short, makes it refused (no byte is outside the verified content).
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/quiet_protobuf.h"
#include "fuzz/fuzz_key.h"
#include "ledger/attest/bundle_verifier.h"
#include "ledger/attest/report_digest.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/v1/event.pb.h"
#include "sakip/v1/attestation.pb.h"

namespace {

namespace merkle = ledger::merkle;

// Trees larger than this are left as they are (the fix-up is per input).
constexpr uint64_t kMaxFixedTreeSize = 4096;

// Every level of a tree held in memory.
class LevelTable : public merkle::NodeSource {
 public:
  explicit LevelTable(std::vector<std::string> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() > 1) {
      const std::vector<std::string>& below = levels_.back();
      std::vector<std::string> level;
      for (size_t i = 0; i + 1 < below.size(); i += 2) level.push_back(merkle::NodeHash(below[i], below[i + 1]));
      levels_.push_back(std::move(level));
    }
  }
  absl::StatusOr<std::string> PerfectNode(int level, uint64_t index) override {
    if (static_cast<size_t>(level) >= levels_.size() || index >= levels_[level].size()) {
      return absl::NotFoundError("outside the tree");
    }
    return levels_[level][index];
  }

 private:
  std::vector<std::vector<std::string>> levels_;
};

// The seal's digest of report_text, recomputed.
void FixSealDigest(sakip::v1::AuditorBundle& bundle) {
  ledger::v1::EventEnvelope envelope;
  if (!envelope.ParseFromString(bundle.seal().stored_bytes())) return;
  sakip::v1::ReportSeal seal;
  if (!seal.ParseFromString(envelope.payload())) return;
  seal.set_report_sha256(ledger::Sha256(bundle.report_text()));
  envelope.set_payload(seal.SerializeAsString());
  bundle.mutable_seal()->set_stored_bytes(envelope.SerializeAsString());
}

// Inclusion proofs and a signed head over a tree whose leaves are the
// bundle's events at their positions (other positions get filler leaves).
void FixTreeAndSignature(sakip::v1::AuditorBundle& bundle, const fuzz::FuzzKey& key) {
  uint64_t size = bundle.seal().position();
  for (const sakip::v1::ProvenEvent& event : bundle.events()) size = std::max(size, event.position());
  if (size == 0 || size > kMaxFixedTreeSize) return;
  std::vector<std::string> leaves;
  leaves.reserve(size);
  for (uint64_t i = 0; i < size; ++i) leaves.push_back(merkle::LeafHash(ledger::Sha256(absl::StrCat("filler ", i))));
  auto place = [&](const sakip::v1::ProvenEvent& event) {
    if (event.position() != 0) leaves[event.position() - 1] = merkle::LeafHash(ledger::Sha256(event.stored_bytes()));
  };
  for (const sakip::v1::ProvenEvent& event : bundle.events()) place(event);
  place(bundle.seal());
  merkle::MerkleFrontier frontier;
  for (const std::string& leaf : leaves) frontier.Append(leaf);
  LevelTable table(leaves);
  auto prove = [&](sakip::v1::ProvenEvent& event) {
    event.clear_inclusion_proof();
    if (event.position() == 0) return;
    absl::StatusOr<std::vector<std::string>> proof = merkle::InclusionProof(table, event.position() - 1, size);
    FUZZ_CHECK(proof.ok(), proof.status().ToString());
    for (std::string& hash : *proof) event.add_inclusion_proof(std::move(hash));
  };
  for (sakip::v1::ProvenEvent& event : *bundle.mutable_events()) prove(event);
  prove(*bundle.mutable_seal());

  ledger::TreeHead head;
  head.tree_size = size;
  head.timestamp_micros = bundle.signed_head().timestamp_micros();
  head.root_hash = frontier.Root();
  ledger::v1::SignedTreeHead* signed_head = bundle.mutable_signed_head();
  signed_head->set_tree_size(head.tree_size);
  signed_head->set_root_hash(head.root_hash);
  signed_head->set_key_id(ledger::KeyIdOf(key.public_key));
  signed_head->set_signature(key.Sign(ledger::TreeHeadSigningInput(head)));
}

void CheckVerified(std::string_view bytes, const ledger::attest::VerifiedBundle& verified, const fuzz::FuzzKey& key) {
  sakip::v1::AuditorBundle bundle;
  FUZZ_CHECK(bundle.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())), "an accepted bundle parses");
  FUZZ_CHECK(ledger::attest::CanonicalBundleBytes(bundle) == bytes, "an accepted bundle is canonical");
  FUZZ_CHECK(verified.report_text == bundle.report_text(), "report_text is the recomputed report");
  FUZZ_CHECK(verified.report_text == ledger::attest::CanonicalReportText(verified.report), "the report's text");
  FUZZ_CHECK(verified.report_sha256 == ledger::Sha256(bundle.report_text()), "the digest is of report_text");
  FUZZ_CHECK(verified.event_count == static_cast<size_t>(bundle.events_size()), "event count");
  FUZZ_CHECK(verified.unit_code == bundle.unit_code() && verified.report_id == bundle.report_id() &&
                 verified.quarter == bundle.quarter() && verified.fiscal_year == bundle.fiscal_year(),
             "the verified names are the bundle's");
  FUZZ_CHECK(verified.seal_position == bundle.seal().position(), "seal position");

  // No byte is outside the verified content: change one (chosen from the
  // bytes themselves, so the run is deterministic) or cut the bundle short.
  const size_t at = std::hash<std::string_view>()(bytes) % bytes.size();
  for (unsigned char flip : {0x01, 0x80, 0xFF}) {
    std::string changed(bytes);
    changed[at] = static_cast<char>(static_cast<unsigned char>(changed[at]) ^ flip);
    absl::StatusOr<ledger::attest::VerifiedBundle> again = ledger::attest::VerifyAuditorBundle(changed, key.public_key);
    FUZZ_CHECK(!again.ok(), absl::StrCat("the bundle still verifies with byte ", at, " of ", bytes.size(),
                                         " changed (xor ", static_cast<int>(flip), ")"));
  }
  absl::StatusOr<ledger::attest::VerifiedBundle> cut =
      ledger::attest::VerifyAuditorBundle(bytes.substr(0, at), key.public_key);
  FUZZ_CHECK(!cut.ok(), absl::StrCat("the bundle cut to ", at, " bytes still verifies"));
}

void Verify(std::string_view bytes, const fuzz::FuzzKey& key) {
  absl::StatusOr<ledger::attest::VerifiedBundle> verified = ledger::attest::VerifyAuditorBundle(bytes, key.public_key);
  if (fuzz::Debug()) std::fprintf(stderr, "bundle: %s\n", verified.status().ToString().c_str());
  if (!verified.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(verified.status()), verified.status().ToString());
    return;
  }
  CheckVerified(bytes, *verified, key);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::FuzzKey& key = *new fuzz::FuzzKey();
  if (size == 0) return 0;
  const std::string_view bytes = fuzz::AsText(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    Verify(bytes, key);
    return 0;
  }
  sakip::v1::AuditorBundle bundle;
  if (!bundle.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return 0;
  bundle.set_public_key(key.public_key);
  FixSealDigest(bundle);
  FixTreeAndSignature(bundle, key);
  Verify(ledger::attest::CanonicalBundleBytes(bundle), key);
  return 0;
}
