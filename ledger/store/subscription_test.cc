// Subscriptions: catch up from disk, follow live appends, in order, with no
// gap and no duplicate, whatever the timing; a slow subscriber costs writers
// nothing.
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;

class SubscriptionTest : public ::testing::Test {
 protected:
  void Open(size_t recent_events_cached, size_t max_subscriptions = 64) {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.recent_events_cached = recent_events_cached;
    options.max_subscriptions = max_subscriptions;
    auto log = OpenRocksEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  void AppendOne(const std::string& stream, const std::string& id) {
    AppendRequest request{stream, ExpectedVersion::Any(),
                          {ProposedEvent{id, "Happened", "x", "", "", "", ""}}, "local:test"};
    absl::StatusOr<AppendResult> result = log_->Append(std::move(request));
    ASSERT_TRUE(result.ok()) << result.status();
  }

  // Reads from `subscription` until it has delivered through `last_position`,
  // checking that positions arrive exactly once and in order.
  static void Drain(Subscription* subscription, uint64_t first_position, uint64_t last_position,
                    std::vector<uint64_t>* seen) {
    absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (seen->size() < last_position - first_position + 1 && absl::Now() < give_up) {
      auto events = subscription->Next(64, absl::Now() + absl::Milliseconds(100));
      ASSERT_TRUE(events.ok()) << events.status();
      for (const RecordedEvent& event : *events) seen->push_back(event.envelope.position());
    }
  }

  static void ExpectExactly(const std::vector<uint64_t>& seen, uint64_t first, uint64_t last) {
    ASSERT_EQ(seen.size(), last - first + 1);
    for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], first + i) << "at index " << i;
  }

  TempDir dir_;
  std::unique_ptr<ClosableEventLog> log_;
};

TEST_F(SubscriptionTest, SubscribersBeforeDuringAndAfterConcurrentAppendsSeeExactlyTheLog) {
  Open(/*recent_events_cached=*/128);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 250;
  constexpr uint64_t kTotal = kWriters * kPerWriter;
  std::vector<std::vector<uint64_t>> seen(3);
  std::vector<std::thread> readers;
  auto start_reader = [&](int index) {
    auto subscription = log_->Subscribe(1);
    ASSERT_TRUE(subscription.ok()) << subscription.status();
    readers.emplace_back([&, index, sub = std::shared_ptr<Subscription>(
                                        std::move(*subscription))]() mutable {
      Drain(sub.get(), 1, kTotal, &seen[index]);
      sub.reset();
    });
  };
  start_reader(0);  // before
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) AppendOne(absl::StrCat("s", w), absl::StrCat(w, "-", i));
    });
  }
  while (log_->GetHead().position < kTotal / 3) absl::SleepFor(absl::Milliseconds(1));
  start_reader(1);  // during
  for (auto& writer : writers) writer.join();
  start_reader(2);  // after
  for (auto& reader : readers) reader.join();
  for (const auto& positions : seen) ExpectExactly(positions, 1, kTotal);
}

TEST_F(SubscriptionTest, ASlowSubscriberFallsBackToDiskWithoutGaps) {
  Open(/*recent_events_cached=*/8);
  auto subscription = log_->Subscribe(0);
  ASSERT_TRUE(subscription.ok());
  for (int i = 0; i < 300; ++i) AppendOne("s", absl::StrCat("slow-", i));  // writers never wait
  std::vector<uint64_t> seen;
  Drain(subscription->get(), 1, 300, &seen);
  ExpectExactly(seen, 1, 300);
}

TEST_F(SubscriptionTest, StartsAtAnyPositionAndWaitsForLiveEvents) {
  Open(16);
  for (int i = 0; i < 20; ++i) AppendOne("s", absl::StrCat("p-", i));
  auto subscription = log_->Subscribe(15);
  ASSERT_TRUE(subscription.ok());
  std::vector<uint64_t> seen;
  Drain(subscription->get(), 15, 20, &seen);
  ExpectExactly(seen, 15, 20);
  // Nothing new: Next returns empty at the deadline.
  auto none = (*subscription)->Next(10, absl::Now() + absl::Milliseconds(20));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    AppendOne("s", "live");
  });
  auto live = (*subscription)->Next(10, absl::Now() + absl::Seconds(10));
  writer.join();
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].envelope.event_id(), "live");
  EXPECT_EQ((*subscription)->next_position(), 22u);
}

TEST_F(SubscriptionTest, CancelWakesAWaitingSubscriber) {
  Open(16);
  auto subscription = log_->Subscribe(1);
  ASSERT_TRUE(subscription.ok());
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(50));
    (*subscription)->Cancel();
  });
  absl::Time start = absl::Now();
  auto result = (*subscription)->Next(10, absl::Now() + absl::Seconds(30));
  canceller.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(SubscriptionTest, CloseDeliversWhatIsLeftThenEnds) {
  Open(16);
  AppendOne("s", "last");
  auto subscription = log_->Subscribe(1);
  ASSERT_TRUE(subscription.ok());
  log_->Close();
  auto events = (*subscription)->Next(10, absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  EXPECT_THAT((*subscription)->Next(10, absl::Now() + absl::Seconds(1)),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(log_->Subscribe(1), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(SubscriptionTest, SubscriptionsAreLimited) {
  Open(16, /*max_subscriptions=*/2);
  auto a = log_->Subscribe(1);
  auto b = log_->Subscribe(1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_THAT(log_->Subscribe(1), StatusIs(absl::StatusCode::kResourceExhausted));
  a->reset();
  EXPECT_TRUE(log_->Subscribe(1).ok());
}

}  // namespace
}  // namespace ledger
