// The checks of a restored log (restore_check.h): its latest signed head
// must verify with the server's key; a log that rolls back or forks from the
// head witness, or from a published head given in a file, is refused with
// both sizes named, unless rollback is allowed.
#include "ledger/attest/restore_check.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::attest {
namespace {

namespace fs = std::filesystem;
using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::unique_ptr<ClosableEventLog> Open(const std::string& dir) {
  RocksEventLogOptions options;
  options.data_dir = dir;
  return *OpenRocksEventLog(options);
}

void AppendEvents(EventLog& log, int count, const std::string& prefix) {
  for (int i = 0; i < count; ++i) {
    AppendRequest request{"s", ExpectedVersion::Any(), {}, "local:test"};
    request.events.push_back(ProposedEvent{absl::StrCat(prefix, i), "Noted", "{}", "application/json", "", "", ""});
    ASSERT_THAT(log.Append(std::move(request)), IsOk());
  }
}

// Signs and records a head of `log` now, and writes it to `witness`.
SignedTreeHead Publish(EventLog& log, const HeadSigner& signer, const std::string& witness) {
  HeadPublisherOptions options;
  options.witness_path = witness;
  options.interval = absl::ZeroDuration();
  auto publisher = HeadPublisher::Start(&log, &signer, options);
  EXPECT_THAT(publisher, IsOk());
  absl::StatusOr<PublishedHead> head = (*publisher)->PublishNow();
  EXPECT_THAT(head, IsOk());
  return head->signed_head;
}

class RestoreCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = *HeadSigner::LoadOrCreate(dir_.Sub("key"));
    other_signer_ = *HeadSigner::LoadOrCreate(dir_.Sub("other-key"));
    // "old": 10 events and their head (11 events); then the live ledger goes
    // on to 20 events and a head covering 21.
    std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("live"));
    AppendEvents(*log, 10, "e");
    Publish(*log, *signer_, Witness());
    log.reset();
    fs::copy(dir_.Sub("live"), dir_.Sub("old"), fs::copy_options::recursive);
    log = Open(dir_.Sub("live"));
    AppendEvents(*log, 9, "f");
    latest_ = Publish(*log, *signer_, Witness());
  }

  std::string Witness() const { return dir_.Sub("live.head-witness"); }

  RestoreCheckOptions Options() const {
    RestoreCheckOptions options;
    options.public_key = signer_->public_key();
    options.witness_path = Witness();
    return options;
  }

  TempDir dir_;
  std::unique_ptr<HeadSigner> signer_;
  std::unique_ptr<HeadSigner> other_signer_;
  SignedTreeHead latest_;
};

TEST_F(RestoreCheckTest, ALogThatExtendsThePublishedHeadPasses) {
  ASSERT_EQ(latest_.head.tree_size, 20u);
  std::unique_ptr<ClosableEventLog> live = Open(dir_.Sub("live"));
  absl::StatusOr<RestoreCheckResult> result = CheckRestoredLog(*live, Options());
  ASSERT_THAT(result, IsOk());
  ASSERT_TRUE(result->latest_signed_head.has_value());
  EXPECT_EQ(*result->latest_signed_head, latest_);
  EXPECT_TRUE(result->rollbacks.empty());
}

TEST_F(RestoreCheckTest, ARollbackIsRefusedNamingBothSizesUnlessAllowed) {
  std::unique_ptr<ClosableEventLog> old = Open(dir_.Sub("old"));
  ASSERT_EQ(old->GetHead().position, 11u);
  EXPECT_THAT(CheckRestoredLog(*old, Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("restore refused"), HasSubstr("holds 11 events"),
                             HasSubstr("covering 20 events"), HasSubstr("--allow_rollback"))));
  RestoreCheckOptions allowed = Options();
  allowed.allow_rollback = true;
  absl::StatusOr<RestoreCheckResult> result = CheckRestoredLog(*old, allowed);
  ASSERT_THAT(result, IsOk());
  ASSERT_EQ(result->rollbacks.size(), 1u);
  EXPECT_TRUE(result->witness_rolled_back);
  EXPECT_THAT(result->rollbacks[0], HasSubstr("rolls back 9 published events"));
  ASSERT_TRUE(result->latest_signed_head.has_value());
  EXPECT_EQ(result->latest_signed_head->head.tree_size, 10u);
}

TEST_F(RestoreCheckTest, AForkIsRefused) {
  std::unique_ptr<ClosableEventLog> other = Open(dir_.Sub("other"));
  AppendEvents(*other, 25, "x");
  RestoreCheckOptions options = Options();
  options.public_key.clear();  // no signed heads in this log
  EXPECT_THAT(CheckRestoredLog(*other, options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("restored log (25 events)"), HasSubstr("forks from the published one"))));
}

TEST_F(RestoreCheckTest, APublishedHeadFromAFileIsCheckedToo) {
  std::unique_ptr<ClosableEventLog> old = Open(dir_.Sub("old"));
  RestoreCheckOptions options = Options();
  options.witness_path.clear();
  options.published_head_path = dir_.Sub("inspector.head");
  EXPECT_THAT(CheckRestoredLog(*old, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("published_head:")));
  ASSERT_THAT(WriteHeadWitness(options.published_head_path, latest_), IsOk());
  EXPECT_THAT(CheckRestoredLog(*old, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("the published head")));

  SignedTreeHead forged = latest_;
  forged.signature[3] ^= 0x01;
  ASSERT_THAT(WriteHeadWitness(options.published_head_path, forged), IsOk());
  options.allow_rollback = true;  // never lets a bad signature through
  EXPECT_THAT(CheckRestoredLog(*old, options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("does not verify")));
}

TEST_F(RestoreCheckTest, HeadsOfAnotherKeyAreRefused) {
  std::unique_ptr<ClosableEventLog> live = Open(dir_.Sub("live"));
  RestoreCheckOptions options = Options();
  options.public_key = other_signer_->public_key();
  EXPECT_THAT(CheckRestoredLog(*live, options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("signed by key " + signer_->key_id()), HasSubstr(other_signer_->key_id()))));
}

}  // namespace
}  // namespace ledger::attest
