// Signed tree heads, the head witness at open, report seals and auditor
// bundles over a real RocksDB log with the reference report.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/attest/bundle_builder.h"
#include "ledger/attest/bundle_verifier.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/attest/report_digest.h"
#include "ledger/attest/report_sealer.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/integrity/sha256.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/fault_injection_fs.h"
#include "ledger/testing/temp_dir.h"
#include "sakip/v1/attestation.pb.h"

namespace ledger::attest {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;
namespace reference = ::ledger::projections::testing;

ProposedDomainEvent FromDomainEvent(const projections::DomainEvent& event) {
  return ProposedDomainEvent{event.event_id, event.reason, "", "", event.event};
}

AppendRequest OneEvent(const std::string& stream, const std::string& id) {
  AppendRequest request;
  request.stream_id = stream;
  request.actor = "test";
  request.events.push_back(ProposedEvent{id, "Noted", "{}", "application/json", "", "", ""});
  return request;
}

class AttestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = HeadSigner::LoadOrCreate(dir_.Sub("signing.key"));
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = *std::move(signer);
    OpenLog();
  }

  void OpenLog() {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.clock = &clock_;
    options.head_witness_path = witness_path();
    auto log = OpenRocksEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    sakip_ = std::make_unique<SakipLedger>(log_.get(), &clock_);
  }

  void CloseLog() {
    sealer_.reset();
    publisher_.reset();
    sakip_.reset();
    if (log_ != nullptr) log_->Close();
    log_.reset();
  }

  void StartPublisher() {
    HeadPublisherOptions options;
    options.witness_path = witness_path();
    options.interval = absl::ZeroDuration();  // the test decides when
    options.clock = &clock_;
    auto publisher = HeadPublisher::Start(log_.get(), signer_.get(), options);
    ASSERT_TRUE(publisher.ok()) << publisher.status();
    publisher_ = *std::move(publisher);
  }

  void StartSealer() {
    auto sealer = ReportSealer::Start(log_.get(), sakip_.get(), publisher_.get());
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    sealer_ = *std::move(sealer);
  }

  // Returns the position of the reference's last event (its submission). Read
  // from the append, not the head: the sealer may already have appended a seal.
  uint64_t ImportReference() {
    uint64_t last_position = 0;
    for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
      auto result = sakip_->Record("operator:test", {FromDomainEvent(event)});
      EXPECT_TRUE(result.ok()) << event.event_id << ": " << result.status();
      if (!result.ok()) return 0;
      last_position = result->last_position;
    }
    return last_position;
  }

  std::string witness_path() { return dir_.Sub("head.witness"); }

  absl::StatusOr<std::string> Bundle() {
    return BuildAuditorBundle(BundleSources{log_.get(), sakip_.get(), publisher_.get(), sealer_.get()},
                              reference::kKlakahUnitCode, reference::kKlakahFiscalYear,
                              reference::kKlakahReportId);
  }

  void TearDown() override { CloseLog(); }

  TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1719792000)};
  std::unique_ptr<HeadSigner> signer_;
  std::unique_ptr<ClosableEventLog> log_;
  std::unique_ptr<SakipLedger> sakip_;
  std::unique_ptr<HeadPublisher> publisher_;
  std::unique_ptr<ReportSealer> sealer_;
};

// --- Signed tree heads ------------------------------------------------------

TEST_F(AttestTest, AHeadIsSignedRecordedInItsStreamAndWitnessedOutsideRocksDb) {
  StartPublisher();
  EXPECT_THAT(publisher_->Latest(), StatusIs(absl::StatusCode::kFailedPrecondition));
  for (int i = 0; i < 5; ++i) ASSERT_THAT(log_->Append(OneEvent("s/1", absl::StrCat("e", i))).status(), IsOk());

  auto head = publisher_->PublishNow();
  ASSERT_THAT(head.status(), IsOk());
  EXPECT_EQ(head->signed_head.head.tree_size, 5u);
  EXPECT_EQ(head->signed_head.head.root_hash, *log_->TreeRoot(5));
  EXPECT_EQ(head->recorded_at_position, 6u);
  EXPECT_TRUE(VerifyTreeHead(head->signed_head, signer_->public_key()));

  auto recorded = log_->GetEvent(TreeHeadEventId(5));
  ASSERT_THAT(recorded.status(), IsOk());
  EXPECT_EQ(recorded->envelope.stream_id(), kTreeHeadsStream);
  EXPECT_EQ(recorded->envelope.payload(), ToProto(head->signed_head).SerializeAsString());
  auto witness = ReadHeadWitness(witness_path());
  ASSERT_THAT(witness.status(), IsOk());
  ASSERT_TRUE(witness->has_value());
  EXPECT_EQ(**witness, head->signed_head);
}

// A witness that cannot be replaced (here: its rename fails) stays the old
// one, whole; the failure is reported, and the next head replaces it.
TEST_F(AttestTest, AWitnessThatCannotBeReplacedStaysTheOldOneAndTheFailureIsReported) {
  auto fs = std::make_shared<testing::FaultInjectionFileSystem>();
  std::unique_ptr<DurableFileOps> ops = testing::DurableFileOpsOn(fs.get());
  HeadPublisherOptions options;
  options.witness_path = witness_path();
  options.witness_file_ops = ops.get();
  options.interval = absl::ZeroDuration();
  options.clock = &clock_;
  auto publisher = HeadPublisher::Start(log_.get(), signer_.get(), options);
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  auto first = (*publisher)->PublishNow();
  ASSERT_THAT(first.status(), IsOk());

  ASSERT_THAT(log_->Append(OneEvent("s/1", "e2")).status(), IsOk());
  fs->FailNext({testing::FileOperation::kRename, "head.witness", 0, 1, false});
  auto failed = (*publisher)->PublishNow();
  EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("rename")));
  EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(witness_path())));
  auto witness = ReadHeadWitness(witness_path());
  ASSERT_THAT(witness.status(), IsOk());
  ASSERT_TRUE(witness->has_value());
  EXPECT_EQ((*witness)->head.tree_size, first->signed_head.head.tree_size);

  auto next = (*publisher)->PublishNow();
  ASSERT_THAT(next.status(), IsOk());
  witness = ReadHeadWitness(witness_path());
  ASSERT_THAT(witness.status(), IsOk());
  EXPECT_EQ((*witness)->head.tree_size, next->signed_head.head.tree_size);
  EXPECT_GT(next->signed_head.head.tree_size, first->signed_head.head.tree_size);
}

TEST_F(AttestTest, ALogThatDidNotGrowGetsNoNewHeadAndAGrownOneDoes) {
  StartPublisher();
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  auto first = publisher_->PublishNow();
  ASSERT_THAT(first.status(), IsOk());
  // Only the head's own event came after it: nothing new to sign.
  auto again = publisher_->PublishNow();
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->recorded_at_position, first->recorded_at_position);
  EXPECT_EQ(log_->GetHead().position, 2u);

  ASSERT_THAT(log_->Append(OneEvent("s/1", "e2")).status(), IsOk());
  auto grown = publisher_->PublishNow();
  ASSERT_THAT(grown.status(), IsOk());
  EXPECT_EQ(grown->signed_head.head.tree_size, 3u);  // e1, the first head, e2
  EXPECT_EQ(grown->recorded_at_position, 4u);
}

TEST_F(AttestTest, RequestsSignAtMostOncePerMinimumInterval) {
  StartPublisher();
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  auto first = publisher_->PublishNow(/*from_request=*/true);
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e2")).status(), IsOk());
  auto too_soon = publisher_->PublishNow(/*from_request=*/true);
  ASSERT_THAT(too_soon.status(), IsOk());
  EXPECT_EQ(too_soon->signed_head.head.tree_size, first->signed_head.head.tree_size);
  clock_.Advance(absl::Seconds(1));
  auto later = publisher_->PublishNow(/*from_request=*/true);
  ASSERT_THAT(later.status(), IsOk());
  EXPECT_GT(later->signed_head.head.tree_size, first->signed_head.head.tree_size);
}

TEST_F(AttestTest, TheLatestHeadSurvivesARestart) {
  StartPublisher();
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  auto head = publisher_->PublishNow();
  ASSERT_THAT(head.status(), IsOk());
  CloseLog();
  OpenLog();
  EXPECT_TRUE(log_->GetWriteState().writable) << log_->GetWriteState().refusal_reason;
  StartPublisher();
  auto loaded = publisher_->Latest();
  ASSERT_THAT(loaded.status(), IsOk());
  EXPECT_EQ(loaded->signed_head, head->signed_head);
  EXPECT_EQ(loaded->recorded_at_position, head->recorded_at_position);
}

TEST_F(AttestTest, StreamIdsStartingWithDollarAreReservedForTheLedger) {
  EXPECT_TRUE(IsReservedStreamId(kTreeHeadsStream));
  EXPECT_TRUE(IsReservedStreamId(kReportSealsStream));
  EXPECT_FALSE(IsReservedStreamId("35.08.19/2024"));
  EXPECT_FALSE(IsReservedStreamId(""));
}

// --- The head witness at open ------------------------------------------------

TEST_F(AttestTest, AnOlderCopyOfTheDatabaseIsRefusedAtOpen) {
  StartPublisher();
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  CloseLog();
  std::filesystem::copy(dir_.Sub("ledger"), dir_.Sub("older"), std::filesystem::copy_options::recursive);
  OpenLog();
  StartPublisher();
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e2")).status(), IsOk());
  ASSERT_THAT(publisher_->PublishNow().status(), IsOk());  // witnesses size 2
  CloseLog();
  std::filesystem::remove_all(dir_.Sub("ledger"));
  std::filesystem::rename(dir_.Sub("older"), dir_.Sub("ledger"));

  OpenLog();
  WriteState state = log_->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_THAT(state.refusal_reason, HasSubstr("head witness"));
  EXPECT_THAT(state.refusal_reason, HasSubstr("1 events"));
  EXPECT_THAT(log_->Append(OneEvent("s/1", "e3")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Nothing can be signed over a refused log.
  StartPublisher();
  EXPECT_THAT(publisher_->PublishNow().status(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AttestTest, ALogWhoseTreeDiffersFromTheWitnessIsRefusedAtOpen) {
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  CloseLog();
  TreeHead forged{1, 1, std::string(32, '\x42')};
  ASSERT_THAT(WriteHeadWitness(witness_path(), signer_->Sign(forged)), IsOk());
  OpenLog();
  WriteState state = log_->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_THAT(state.refusal_reason, HasSubstr("root"));
}

TEST_F(AttestTest, AMalformedWitnessRefusesWritesAndAMatchingOneDoesNot) {
  ASSERT_THAT(log_->Append(OneEvent("s/1", "e1")).status(), IsOk());
  CloseLog();
  { std::ofstream(witness_path()) << "not a witness\n"; }
  OpenLog();
  EXPECT_FALSE(log_->GetWriteState().writable);
  CloseLog();
  std::filesystem::remove(witness_path());
  OpenLog();
  StartPublisher();
  ASSERT_THAT(publisher_->PublishNow().status(), IsOk());
  CloseLog();
  OpenLog();
  EXPECT_TRUE(log_->GetWriteState().writable) << log_->GetWriteState().refusal_reason;
}

// --- Report seals and auditor bundles ----------------------------------------

class SealedReferenceTest : public AttestTest {
 protected:
  void SetUp() override {
    AttestTest::SetUp();
    StartPublisher();
    StartSealer();
    submission_position_ = ImportReference();
    ASSERT_GT(submission_position_, 0u);
    ASSERT_THAT(sealer_->WaitUntilSealed(submission_position_, absl::Seconds(30)), IsOk());
  }
  uint64_t submission_position_ = 0;
};

TEST_F(SealedReferenceTest, TheSubmissionIsSealedWithTheHashOfTheReportAsSubmitted) {
  auto seal_event = log_->GetEvent(ReportSealEventId(submission_position_));
  ASSERT_THAT(seal_event.status(), IsOk());
  sakip::v1::ReportSeal seal;
  ASSERT_TRUE(seal.ParseFromString(seal_event->envelope.payload()));
  EXPECT_EQ(seal.report_id(), reference::kKlakahReportId);
  EXPECT_EQ(seal.quarter(), 2);
  EXPECT_EQ(seal.submission_position(), submission_position_);
  auto report = sakip_->Report(reference::kKlakahUnitCode, reference::kKlakahFiscalYear, 2,
                               AsOf::Position(submission_position_));
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_EQ(seal.report_sha256(), ReportSha256(*report));
  // ...and a signed head covers the seal.
  auto head = publisher_->Latest();
  ASSERT_THAT(head.status(), IsOk());
  EXPECT_GE(head->signed_head.head.tree_size, seal_event->envelope.position());
}

TEST_F(SealedReferenceTest, ARestartedSealerDoesNotSealAgain) {
  const uint64_t head_before = log_->GetHead().position;
  sealer_.reset();
  StartSealer();
  ASSERT_THAT(sealer_->WaitUntilSealed(head_before, absl::Seconds(30)), IsOk());
  auto seals = log_->ReadStream(kReportSealsStream, 0, Direction::kForward, 100);
  ASSERT_THAT(seals.status(), IsOk());
  EXPECT_EQ(seals->events.size(), 1u);
}

TEST_F(SealedReferenceTest, TheBundleVerifiesOfflineAndRecomputesTheReport) {
  auto bundle = Bundle();
  ASSERT_THAT(bundle.status(), IsOk());
  auto verified = VerifyAuditorBundle(*bundle, signer_->public_key());
  ASSERT_THAT(verified.status(), IsOk());
  EXPECT_EQ(verified->report_id, reference::kKlakahReportId);
  EXPECT_EQ(verified->quarter, 2);
  EXPECT_EQ(verified->submission_position, submission_position_);
  EXPECT_EQ(verified->event_count, submission_position_);  // the only stream
  EXPECT_THAT(verified->report_text, HasSubstr("figure indicator/IKU-1/q2/capaian"));
}

TEST_F(SealedReferenceTest, ACorrectionAfterSubmissionDoesNotChangeTheBundlesReport) {
  auto before = Bundle();
  ASSERT_THAT(before.status(), IsOk());
  ProposedDomainEvent correction;
  correction.event_id = "late-correction";
  correction.reason = "typo found by the inspector";
  correction.event.set_unit_code(reference::kKlakahUnitCode);
  correction.event.set_fiscal_year(reference::kKlakahFiscalYear);
  auto* realization = correction.event.mutable_realization_recorded();
  realization->set_indicator_id("IKU-1");
  realization->set_quarter(3);
  realization->set_value("1");
  ASSERT_THAT(sakip_->Record("operator:test", {correction}).status(), IsOk());
  auto after = Bundle();
  ASSERT_THAT(after.status(), IsOk());
  auto verified_before = VerifyAuditorBundle(*before, signer_->public_key());
  auto verified_after = VerifyAuditorBundle(*after, signer_->public_key());
  ASSERT_THAT(verified_after.status(), IsOk());
  EXPECT_EQ(verified_after->report_text, verified_before->report_text);
}

TEST_F(SealedReferenceTest, AnotherKeyOrAnIncompleteBundleIsRefusedWithTheReason) {
  auto bundle = Bundle();
  ASSERT_THAT(bundle.status(), IsOk());
  auto other = HeadSigner::LoadOrCreate(dir_.Sub("other.key"));
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_THAT(VerifyAuditorBundle(*bundle, (*other)->public_key()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not the trusted key")));
  EXPECT_THAT(VerifyAuditorBundle(*bundle, "short"), StatusIs(absl::StatusCode::kInvalidArgument));

  sakip::v1::AuditorBundle parsed;
  ASSERT_TRUE(parsed.ParseFromString(*bundle));
  parsed.mutable_events()->DeleteSubrange(3, 1);  // an operator hides an event
  EXPECT_THAT(VerifyAuditorBundle(parsed.SerializeAsString(), signer_->public_key()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("expected version 4")));
}

// Every byte of the bundle is covered by a check. The suite flips every 5th
// byte (about 30,000 verifications, ~1 ms each); set
// LEDGER_EXHAUSTIVE_BUNDLE_FLIPS=1 to flip every byte (about 5 minutes on 2
// cores; last run: all 162,637 bytes of the reference bundle refused).
TEST_F(SealedReferenceTest, EverySingleByteChangeOfTheBundleIsRefused) {
  auto bundle = Bundle();
  ASSERT_THAT(bundle.status(), IsOk());
  const char* exhaustive = std::getenv("LEDGER_EXHAUSTIVE_BUNDLE_FLIPS");
  const size_t stride = exhaustive != nullptr && std::string(exhaustive) == "1" ? 1 : 5;
  // Two threads, each on its own copy, taking alternate bytes of the stride.
  std::atomic<size_t> accepted{0};
  auto flip_every = [&](size_t first) {
    std::string copy = *bundle;
    for (size_t i = first; i < copy.size(); i += 2 * stride) {
      copy[i] ^= 0x01;
      if (VerifyAuditorBundle(copy, signer_->public_key()).ok()) {
        ++accepted;
        ADD_FAILURE() << "byte " << i << " changed and the bundle still verifies";
      }
      copy[i] ^= 0x01;
    }
  };
  std::thread second(flip_every, stride);
  flip_every(0);
  second.join();
  EXPECT_EQ(accepted.load(), 0u) << "of " << bundle->size() << " bytes";
  std::printf("bundle of %zu bytes: a single-byte change at every %zu. byte refused\n", bundle->size(), stride);
}

TEST_F(SealedReferenceTest, ABundleOfAReportNeverSubmittedIsNotFound) {
  auto missing = BuildAuditorBundle(BundleSources{log_.get(), sakip_.get(), publisher_.get(), sealer_.get()},
                                    reference::kKlakahUnitCode, reference::kKlakahFiscalYear, "NO-SUCH");
  EXPECT_THAT(missing.status(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("report_id")));
  auto bad_unit = BuildAuditorBundle(BundleSources{log_.get(), sakip_.get(), publisher_.get(), sealer_.get()},
                                     "35.x", reference::kKlakahFiscalYear, reference::kKlakahReportId);
  EXPECT_THAT(bad_unit.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_code")));
}

// --- The canonical report text ----------------------------------------------

TEST(ReportDigestTest, TheTextIsVersionedDeterministicAndEscapesNames) {
  projections::UnitYearState state;
  for (const projections::DomainEvent& event : reference::KlakahTw2Events()) ASSERT_THAT(state.Apply(event), IsOk());
  auto report = projections::ComputeReport(state, 2);
  ASSERT_THAT(report.status(), IsOk());
  const std::string text = CanonicalReportText(*report);
  EXPECT_EQ(text.rfind(absl::StrCat(kReportDigestFormat, "\n"), 0), 0u);
  EXPECT_EQ(CanonicalReportText(*report), text);
  EXPECT_EQ(ReportSha256(*report), Sha256(text));

  projections::QuarterlyReport renamed = *report;
  renamed.unit_name = "Kecamatan\nKlakah\"";
  const std::string renamed_text = CanonicalReportText(renamed);
  EXPECT_NE(renamed_text, text);
  EXPECT_THAT(renamed_text, HasSubstr("unit_name=\"Kecamatan\\nKlakah\\\"\""));

  projections::QuarterlyReport changed = *report;
  changed.indicators[0].quarters[0].realization.event_ids.push_back("x");
  EXPECT_NE(CanonicalReportText(changed), text);
  auto other_quarter = projections::ComputeReport(state, 1);
  ASSERT_THAT(other_quarter.status(), IsOk());
  EXPECT_NE(CanonicalReportText(*other_quarter), text);
}

}  // namespace
}  // namespace ledger::attest
