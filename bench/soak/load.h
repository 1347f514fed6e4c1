// The soak's load against one ledger server, through gRPC only:
//   - "plan"    ReportService.RecordEvents of each unit-year's plan;
//   - "sakip"   RecordEvents of 1-3 events of a unit-year (UnitYearFeed), or
//               the next year's plan once a unit has recorded its year;
//   - "append"  LedgerService.Append of 1-5 JSON events to a raw stream with
//               the exact expected version, and now and then an idempotent
//               re-send of the previous append (must answer already_recorded
//               with the original positions);
//   - "report"  ReportService.GetReport as of the head (must include every
//               event acknowledged before the call) or as of a past position;
//   - "history" AuditService.GetHistory of a unit-year (every entry of the
//               unit, at least the events acknowledged before the call);
//   - "read"    LedgerService.ReadStream of a unit-year or raw stream, newest
//               first (contiguous versions, at least the acknowledged ones);
//   - "deliver" events delivered to live LedgerService.Subscribe followers
//               (latency: now - the event's recorded_at); checked in order,
//               no gap, no duplicate, each linked to the previous by prev_hash;
//               each subscription is cancelled after a lifetime and resumed
//               from the next position.
// Every operation kind but "deliver" is open-loop: operation i of a kind is
// due at start + i / rate, and its latency is measured from when it was due,
// so a slow server shows as latency instead of as a lower offered rate
// (no coordinated omission). Any failed call or failed check is an error.
//
// Thread-safety: PlanUnits, Start*, JoinWorkers and StopFollowers are called
// by one controlling thread, in that order; stats(), AckedSorted(),
// acked_count() and FollowerPositions() from any thread. Each unit and raw
// stream has its own mutex (calls to one unit are serialized, so that its
// feed's model matches the ledger); a follower's state is its thread's own.
#ifndef BENCH_SOAK_LOAD_H_
#define BENCH_SOAK_LOAD_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/soak/metrics.h"
#include "bench/soak/sakip_feed.h"
#include "grpcpp/channel.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "sakip/v1/report_service.grpc.pb.h"

namespace ledger::soak {

struct LoadOptions {
  std::string run_tag;  // makes event ids and raw stream ids unique to this run
  int units = 50;
  int first_fiscal_year = 2025;
  size_t events_per_unit_year = 400;
  int raw_streams = 16;
  double sakip_rate_per_s = 20;
  double append_rate_per_s = 20;
  double report_rate_per_s = 5;
  double history_rate_per_s = 2;
  double read_rate_per_s = 5;
  int workers_per_kind = 8;
  int subscribers = 4;
  absl::Duration subscription_lifetime = absl::Seconds(20);
  absl::Duration rpc_timeout = absl::Seconds(30);
  uint64_t seed = 1;
};

// One acknowledged event: where the ledger said it is, and its id's hash.
struct AckedEvent {
  uint64_t position = 0;
  uint64_t id_hash = 0;
};

// What one follower saw.
struct FollowerResult {
  uint64_t first_position = 0;  // the first position it asked for
  uint64_t last_position = 0;   // the last one delivered (first - 1 if none)
  uint64_t delivered = 0;
  uint64_t subscriptions = 0;  // subscribe calls (1 + resumptions)
  std::vector<std::string> errors;
  // The hash of the event at the final head, once the follower reached it.
  std::string hash_at_final;
};

uint64_t HashEventId(const std::string& event_id);

class Load {
 public:
  // Each call goes over one of `channels`, picked at random (several HTTP/2
  // connections, as several client systems would open).
  Load(LoadOptions options, std::vector<std::shared_ptr<grpc::Channel>> channels);
  ~Load();

  // Records every unit's plan (before the timed load).
  absl::Status PlanUnits();
  // Starts the followers from `from_position`; `prev_hash` is the hash of the
  // event before it (checked against the first event delivered).
  void StartFollowers(uint64_t from_position, const std::string& prev_hash);
  // Starts the open-loop workers, which run from `start` until `end`.
  void StartWorkers(absl::Time start, absl::Time end);
  // Waits for the open-loop workers to finish (at `end`).
  void JoinWorkers();
  // Tells the followers the final head; they stop once they have delivered
  // it (a follower waiting for more is cancelled), or at `deadline`. Returns
  // what each saw.
  std::vector<FollowerResult> StopFollowers(uint64_t final_position, absl::Time deadline);

  std::vector<OpStats*> stats();
  // Every acknowledged event, sorted by position.
  std::vector<AckedEvent> AckedSorted() const;
  uint64_t acked_count() const;
  // Follower positions right now (for the periodic report).
  std::vector<uint64_t> FollowerPositions() const;

 private:
  struct Unit;
  struct RawStream;
  struct Follower;
  // What a read checks against: a unit-year as acknowledged before the call.
  struct UnitYearSnapshot {
    std::string unit_code;
    int fiscal_year = 0;
    size_t events = 0;
    uint64_t last_position = 0;
    uint64_t past_position = 0;  // one of its acknowledged positions, at random
  };

  static UnitYearSnapshot Snapshot(Unit* unit, std::mt19937_64& random);

  void RunOpenLoop(OpStats* stats, double rate_per_s, int worker, absl::Time start, absl::Time end,
                   absl::Status (Load::*op)(std::mt19937_64&));
  void RunFollower(Follower* follower);
  // One subscription, until its lifetime ends or the follower is told to stop.
  void FollowOnce(Follower* follower);

  // With unit->mu held: records `batch` and folds it into the unit's model.
  absl::Status RecordBatch(Unit* unit, const std::vector<::sakip::v1::ProposedSakipEvent>& batch,
                           std::mt19937_64& random);
  absl::Status SakipOp(std::mt19937_64& random);
  absl::Status AppendOp(std::mt19937_64& random);
  absl::Status ReportOp(std::mt19937_64& random);
  absl::Status HistoryOp(std::mt19937_64& random);
  absl::Status ReadOp(std::mt19937_64& random);
  void Acknowledge(const std::vector<std::string>& event_ids, uint64_t first_position);
  void SetDeadline(grpc::ClientContext* context) const;

  const LoadOptions options_;
  // One stub of each service per channel; stubs are thread-safe.
  std::vector<std::unique_ptr<v1::LedgerService::Stub>> ledger_stubs_;
  std::vector<std::unique_ptr<::sakip::v1::ReportService::Stub>> report_stubs_;
  std::vector<std::unique_ptr<::sakip::v1::AuditService::Stub>> audit_stubs_;
  std::vector<std::unique_ptr<Unit>> units_;
  std::vector<std::unique_ptr<RawStream>> raw_streams_;
  std::vector<std::unique_ptr<Follower>> followers_;

  OpStats plan_stats_{"plan"};
  OpStats sakip_stats_{"sakip"};
  OpStats append_stats_{"append"};
  OpStats report_stats_{"report"};
  OpStats history_stats_{"history"};
  OpStats read_stats_{"read"};
  OpStats deliver_stats_{"deliver"};

  std::vector<std::thread> workers_;
  std::vector<std::thread> follower_threads_;
  std::atomic<uint64_t> final_position_{0};          // 0 until StopFollowers
  std::atomic<int64_t> follow_deadline_unix_ms_{0};  // 0 until StopFollowers

  mutable absl::Mutex acked_mu_;
  std::vector<AckedEvent> acked_ ABSL_GUARDED_BY(acked_mu_);
};

}  // namespace ledger::soak

#endif  // BENCH_SOAK_LOAD_H_
