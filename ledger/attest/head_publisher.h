// The head publisher: signs tree heads of the log with the server's key and
// publishes them, so that clients can hold the server to what it showed.
//
// Each head is recorded twice, in this order:
//   1. as a "TreeHeadSigned" event of "$tree-heads" (system_streams.h), with
//      the stream's version as the expected version, so that two publishers
//      never interleave and a head is never rewritten;
//   2. once that append is durable, in the head witness file outside RocksDB
//      (integrity/head_witness.h), which the store checks at open: a database
//      restored from an older copy, or a log that lost acknowledged events,
//      is refused instead of served.
//
// A head is signed when the log has grown since the latest head (events
// other than that head's own event): every `interval` by a background
// thread, and on request (PublishNow). A log that does not grow gets no new
// heads, so an idle ledger does not fill itself with heads.
//
// Thread-safety: thread-safe. PublishNow calls are serialized by publish_mu_.
#ifndef LEDGER_ATTEST_HEAD_PUBLISHER_H_
#define LEDGER_ATTEST_HEAD_PUBLISHER_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/store/event_log.h"
#include "ledger/util/clock.h"
#include "ledger/util/durable_file.h"

namespace ledger::attest {

struct HeadPublisherOptions {
  // Where the latest head is also kept outside RocksDB; empty: nowhere.
  std::string witness_path;
  // How the witness is written (tests: through a fault-injecting file system).
  DurableFileOps* witness_file_ops = PosixFileOps();
  // How often the background thread signs a head of a grown log; zero: never
  // (heads are signed only on request).
  absl::Duration interval = absl::Seconds(1);
  // Requests (PublishNow with from_request) sign at most this often; a
  // request in between gets the latest head, so clients cannot make the
  // server write a head per call.
  absl::Duration min_interval_on_request = absl::Milliseconds(200);
  Clock* clock = SystemClock::Get();
};

struct PublishedHead {
  SignedTreeHead signed_head;
  uint64_t recorded_at_position = 0;  // of its "TreeHeadSigned" event
};

class HeadPublisher {
 public:
  // Loads the latest head recorded in "$tree-heads" (DataLoss if it does not
  // decode or is not signed by `signer` while naming its key), then starts
  // the background thread. `log` and `signer` must outlive the publisher.
  static absl::StatusOr<std::unique_ptr<HeadPublisher>> Start(EventLog* log, const HeadSigner* signer,
                                                              HeadPublisherOptions options);
  ~HeadPublisher();  // Stop()

  HeadPublisher(const HeadPublisher&) = delete;
  HeadPublisher& operator=(const HeadPublisher&) = delete;

  // The latest head; FailedPrecondition when none was ever signed.
  absl::StatusOr<PublishedHead> Latest();

  // Signs, records and witnesses a head of the current log if it grew since
  // the latest head, and returns the latest head. With `from_request`, at
  // most one new head per min_interval_on_request. FailedPrecondition when
  // the log refuses writes and there is no head yet.
  absl::StatusOr<PublishedHead> PublishNow(bool from_request = false);

  const HeadSigner& signer() const { return *signer_; }

  // Stops the background thread. Idempotent.
  void Stop();

 private:
  HeadPublisher(EventLog* log, const HeadSigner* signer, HeadPublisherOptions options)
      : log_(log), signer_(signer), options_(std::move(options)) {}
  absl::Status LoadLatest();
  absl::Status Witness(const PublishedHead& published) ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_);
  absl::StatusOr<PublishedHead> SignAndRecord() ABSL_EXCLUSIVE_LOCKS_REQUIRED(publish_mu_);
  void Loop();

  EventLog* const log_;
  const HeadSigner* const signer_;
  const HeadPublisherOptions options_;

  absl::Mutex publish_mu_;  // serializes signing and recording
  absl::Time last_requested_sign_ ABSL_GUARDED_BY(publish_mu_) = absl::InfinitePast();
  uint64_t head_stream_version_ ABSL_GUARDED_BY(publish_mu_) = 0;
  // Whether the witness file holds latest_ (false after a failed witness
  // write, and at start: the next publication writes it again).
  bool latest_witnessed_ ABSL_GUARDED_BY(publish_mu_) = false;

  absl::Mutex mu_;
  std::optional<PublishedHead> latest_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_HEAD_PUBLISHER_H_
