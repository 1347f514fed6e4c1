// FilteredReplay over a real RocksDB log: filtering by unit prefix and type,
// resuming from next_position, progress through non-matching stretches, and
// following live appends.
#include "ledger/audit/replay.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::audit {
namespace {

using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    auto log = OpenRocksEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  // Appends one event to `stream`; returns its position.
  uint64_t Append(const std::string& stream, const std::string& type = "RealizationRecorded") {
    AppendRequest request{stream, ExpectedVersion::Any(),
                          {ProposedEvent{absl::StrCat("e-", ++counter_), type, "{}", "application/json", "", "", ""}},
                          "local:test"};
    auto result = log_->Append(std::move(request));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->last_position : 0;
  }

  // Appends `count` events to `stream` in appends of up to 1000.
  void AppendMany(const std::string& stream, int count) {
    while (count > 0) {
      AppendRequest request{stream, ExpectedVersion::Any(), {}, "local:test"};
      for (int i = 0; i < std::min(count, 1000); ++i) {
        request.events.push_back(
            ProposedEvent{absl::StrCat("e-", ++counter_), "RealizationRecorded", "{}", "application/json", "", "", ""});
      }
      count -= static_cast<int>(request.events.size());
      ASSERT_TRUE(log_->Append(std::move(request)).ok());
    }
  }

  // Reads `replay` to its end (or `max_chunks`); returns the delivered positions.
  std::vector<uint64_t> Drain(FilteredReplay& replay, std::vector<ReplayChunk>* chunks = nullptr,
                              size_t max_chunks = 1 << 20) {
    std::vector<uint64_t> positions;
    for (size_t i = 0; i < max_chunks; ++i) {
      auto chunk = replay.Next(absl::Now() + absl::Seconds(5));
      EXPECT_TRUE(chunk.ok()) << chunk.status();
      if (!chunk.ok() || !chunk->has_value()) break;
      for (const RecordedEvent& event : (*chunk)->events) positions.push_back(event.envelope.position());
      const bool end = (*chunk)->end;
      if (chunks != nullptr) chunks->push_back(std::move(**chunk));
      if (end) break;
    }
    return positions;
  }

  TempDir dir_;
  std::unique_ptr<ClosableEventLog> log_;
  int counter_ = 0;
};

TEST_F(ReplayTest, DeliversOnlyTheUnitsUnderThePrefixInOrderAndEnds) {
  std::vector<uint64_t> expected;
  for (int i = 0; i < 30; ++i) {
    expected.push_back(Append("35.08.19/2024"));
    Append("35.09.01/2024");
    expected.push_back(Append("35.08/2024"));
    Append("35.080/2024");  // not under 35.08: another code
    Append("ledger-internal");
  }
  auto replay = FilteredReplay::Start(log_.get(), 0, {{"35.08"}, {}}, /*follow=*/false);
  ASSERT_TRUE(replay.ok()) << replay.status();
  std::vector<ReplayChunk> chunks;
  EXPECT_EQ(Drain(**replay, &chunks), expected);
  ASSERT_FALSE(chunks.empty());
  EXPECT_TRUE(chunks.back().end);
  EXPECT_TRUE(chunks.back().caught_up);
  EXPECT_EQ(chunks.back().next_position, 151u);
}

TEST_F(ReplayTest, FiltersByEventTypeToo) {
  Append("35.08.19/2024", "RealizationRecorded");
  const uint64_t wanted = Append("35.08.19/2024", "ReportSubmitted");
  Append("35.09.01/2024", "ReportSubmitted");
  auto replay = FilteredReplay::Start(log_.get(), 1, {{"35.08"}, {"ReportSubmitted"}}, false);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(Drain(**replay), std::vector<uint64_t>{wanted});
}

TEST_F(ReplayTest, ResumingFromAnyNextPositionGivesTheRestOnceEach) {
  std::vector<uint64_t> expected;
  for (int i = 0; i < 700; ++i) {
    const uint64_t position = Append(i % 3 == 0 ? "35.08.19/2024" : "35.09.01/2024");
    if (i % 3 == 0) expected.push_back(position);
  }
  // Take one chunk at a time, reconnecting from its next_position each time.
  std::vector<uint64_t> delivered;
  uint64_t from = 0;
  for (int connections = 0; connections < 100; ++connections) {
    auto replay = FilteredReplay::Start(log_.get(), from, {{"35.08"}, {}}, false);
    ASSERT_TRUE(replay.ok()) << replay.status();
    auto chunk = (*replay)->Next(absl::Now() + absl::Seconds(5));
    ASSERT_TRUE(chunk.ok() && chunk->has_value());
    for (const RecordedEvent& event : (*chunk)->events) delivered.push_back(event.envelope.position());
    from = (*chunk)->next_position;
    if ((*chunk)->end) break;
  }
  EXPECT_EQ(delivered, expected);
}

TEST_F(ReplayTest, ProgressAdvancesThroughLongStretchesOfOtherUnits) {
  AppendMany("35.09.01/2024", 10000);
  const uint64_t wanted = Append("35.08.19/2024");
  auto replay = FilteredReplay::Start(log_.get(), 0, {{"35.08"}, {}}, false);
  ASSERT_TRUE(replay.ok());
  std::vector<ReplayChunk> chunks;
  EXPECT_EQ(Drain(**replay, &chunks), std::vector<uint64_t>{wanted});
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_TRUE(chunks[0].events.empty());
  EXPECT_GT(chunks[0].next_position, 1u);
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_GT(chunks[i].next_position, chunks[i - 1].next_position);
}

TEST_F(ReplayTest, FollowsLiveAppendsAfterCatchingUp) {
  const uint64_t first = Append("35.08.19/2024");
  auto replay = FilteredReplay::Start(log_.get(), 0, {{"35.08"}, {}}, /*follow=*/true);
  ASSERT_TRUE(replay.ok());
  auto caught_up = (*replay)->Next(absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(caught_up.ok() && caught_up->has_value());
  EXPECT_TRUE((*caught_up)->caught_up);
  EXPECT_FALSE((*caught_up)->end);
  ASSERT_EQ((*caught_up)->events.size(), 1u);
  EXPECT_EQ((*caught_up)->events[0].envelope.position(), first);
  std::vector<uint64_t> expected;
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      Append("35.09.01/2024");
      expected.push_back(Append("35.08.19/2025"));
    }
  });
  std::vector<uint64_t> delivered;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (delivered.size() < 50 && absl::Now() < give_up) {
    auto chunk = (*replay)->Next(absl::Now() + absl::Milliseconds(200));
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk->has_value()) continue;
    EXPECT_FALSE((*chunk)->caught_up);
    for (const RecordedEvent& event : (*chunk)->events) delivered.push_back(event.envelope.position());
  }
  writer.join();
  EXPECT_EQ(delivered, expected);
  // Nothing new: the wait ends without a chunk once progress is reported.
  auto idle = (*replay)->Next(absl::Now() + absl::Milliseconds(50));
  ASSERT_TRUE(idle.ok());
  if (idle->has_value()) {
    EXPECT_TRUE((*idle)->events.empty());
    idle = (*replay)->Next(absl::Now() + absl::Milliseconds(50));
    ASSERT_TRUE(idle.ok());
  }
  EXPECT_FALSE(idle->has_value());
}

TEST_F(ReplayTest, AnEmptyLogOrAStartAtTheHeadEndsAtOnce) {
  auto empty = FilteredReplay::Start(log_.get(), 0, {}, false);
  ASSERT_TRUE(empty.ok());
  std::vector<ReplayChunk> chunks;
  EXPECT_TRUE(Drain(**empty, &chunks).empty());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].end);
  EXPECT_EQ(chunks[0].next_position, 1u);
}

TEST_F(ReplayTest, RefusesBadFiltersAndPositionsNamingTheField) {
  Append("35.08.19/2024");
  EXPECT_THAT(FilteredReplay::Start(log_.get(), 0, {{"35.08", "x"}, {}}, false).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_prefixes[1]")));
  EXPECT_THAT(FilteredReplay::Start(log_.get(), 0, {{}, {""}}, false).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("event_types[0]")));
  EXPECT_THAT(FilteredReplay::Start(log_.get(), 5, {}, false).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from_position")));
}

}  // namespace
}  // namespace ledger::audit
