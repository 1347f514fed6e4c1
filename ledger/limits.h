// Every limit of the ledger, in one place, with the reason for its value.
//
// Limits bound memory and latency per request and make abuse cheap to refuse.
// The gRPC layer's own limits (message size, deadlines) are derived from these.
#ifndef LEDGER_LIMITS_H_
#define LEDGER_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace ledger::limits {

// Stream ids are unit code and fiscal year ("35.08.19/2024"); 128 bytes leaves
// room for longer schemes without letting keys grow without bound.
inline constexpr size_t kMaxStreamIdBytes = 128;
// Event ids are client-chosen idempotency keys (UUIDs are 36 bytes).
inline constexpr size_t kMaxEventIdBytes = 128;
inline constexpr size_t kMaxEventTypeBytes = 128;
inline constexpr size_t kMaxContentTypeBytes = 128;
inline constexpr size_t kMaxCorrelationIdBytes = 128;
inline constexpr size_t kMaxActorBytes = 256;
// A reason is a sentence or a paragraph written by a person.
inline constexpr size_t kMaxReasonBytes = 4096;
// A domain event is a few hundred bytes; 1 MiB leaves room for narratives
// (evaluation, follow-up plan) while keeping one event far below gRPC's 4 MiB.
inline constexpr size_t kMaxPayloadBytes = 1 << 20;
// One append lands in one WriteBatch; bound it so that one client cannot
// monopolize a group commit.
inline constexpr size_t kMaxEventsPerAppend = 1000;
// Sum of payloads and strings of one append; below gRPC's default 4 MiB
// message limit with room for framing.
inline constexpr size_t kMaxAppendBytes = (4 << 20) - (64 << 10);

// Group commit: at most this many events / bytes are staged as one group and
// merged into one synced WriteBatch, so that one sync never takes
// unboundedly long. The writer also stops staging while this much waits for
// the committer, so that staging runs at most about one write ahead.
inline constexpr size_t kMaxGroupCommitEvents = 16384;
inline constexpr size_t kMaxGroupCommitBytes = 64 << 20;
// Appends waiting for the writer. Past this, Append answers
// RESOURCE_EXHAUSTED at once instead of queueing without bound.
inline constexpr size_t kMaxPendingAppends = 8192;
// While the committer is writing, the writer stages queued appends only once
// at least this many events are queued; otherwise it waits until the
// committer is idle and then stages everything queued as one group. Appends
// that arrive one by one thus cost one staging round (lookups, wake-ups, a
// time-index entry) per synced write rather than one each, while large
// appends are staged during the synced write before them.
inline constexpr size_t kMinEventsToStageAhead = 256;
// Written units (one synced write each) waiting to be published and answered
// by the completer thread (the committer blocks past this; a few suffice to
// overlap the two).
inline constexpr size_t kMaxGroupsAwaitingCompletion = 4;

// Reads are paged.
inline constexpr size_t kDefaultPageSize = 100;
inline constexpr size_t kMaxPageSize = 1000;
// A page stops growing past this many stored bytes (it always holds at least
// one event), so that a page, even with stored bytes included, fits in gRPC's
// default 4 MiB receive limit of a client.
inline constexpr size_t kMaxPageBytes = 1 << 20;
// gRPC message limits of the server: requests up to one full append; replies
// up to one page with stored bytes included.
inline constexpr size_t kMaxGrpcReceiveBytes = 4 << 20;
inline constexpr size_t kMaxGrpcSendBytes = 4 << 20;
// Threads of the synchronous gRPC server that may poll for new calls. Every
// append handler blocks until its group commit is synced; gRPC's default of
// two pollers makes concurrent appenders queue behind the pollers instead of
// joining the same group commit (measured: 0.22x of raw RocksDB at 64 clients
// with the default, about 0.5x with 128; docs/BENCHMARKS.md).
inline constexpr int kGrpcMaxPollers = 128;

// Stream ids per ListStreams page.
inline constexpr size_t kMaxListStreams = 1000;

// Audit (ledger/audit): history entries per page, the unit-years one history,
// diff or late-entries request may fold, and the events one of them may fold
// in all (a request past these is refused with a message naming the bound,
// never answered partially).
inline constexpr size_t kDefaultHistoryPageSize = 50;
inline constexpr size_t kMaxHistoryPageSize = 1000;
inline constexpr size_t kMaxAuditUnitYears = 2000;
inline constexpr size_t kMaxAuditEvents = 2'000'000;
// A replay sends a progress message (its next_position, no events) at least
// this often while it scans events that do not match its filter.
inline constexpr size_t kReplayProgressEveryScanned = 4096;
// Events per replay message (and a message stops growing past kMaxPageBytes).
inline constexpr size_t kReplayBatch = 256;
// Unit prefixes, and event types, one replay may filter on.
inline constexpr size_t kMaxReplayFilterValues = 64;

// An auditor bundle travels as one gRPC message and one file: it must fit
// the send limit with room for the message around it. A unit-year too large
// for one bundle is refused, never cut short (a partial bundle would not
// prove the report).
inline constexpr size_t kMaxAuditorBundleBytes = kMaxGrpcSendBytes - (64 << 10);

// Recent events kept in memory for live subscribers. A subscriber that falls
// further behind reads from disk instead; writers never wait for subscribers.
inline constexpr size_t kRecentEventsCached = 65536;
// Live subscriptions per server.
inline constexpr size_t kMaxSubscriptions = 1024;
// Events handed to a subscriber per wake-up.
inline constexpr size_t kSubscriptionBatch = 256;

// Stream head versions cached by the writer (a cache: misses read RocksDB).
inline constexpr size_t kStreamVersionCacheEntries = 1 << 18;

// Unit-years whose folded state the SAKIP ledger caches (a cache: a miss
// folds the stream from the log), and the events folded into them all. A
// folded unit-year takes about 0.4 KB per event (measured: the soak's
// 400-event unit-years fold into ~154 KB each, and a soak grew by about that
// per unit-year it touched while the cache was bounded only in unit-years:
// 4096 of them would have been ~630 MB). The events bound keeps the cache
// near 25 MiB whatever the unit-years' sizes; 65,536 events are the working
// set of ~160 unit-years of 400 events.
inline constexpr size_t kMaxCachedUnitYears = 4096;
inline constexpr uint64_t kMaxCachedUnitYearEvents = 65536;

// RocksDB block cache shared by every column family of a process.
inline constexpr size_t kBlockCacheBytes = size_t{256} << 20;

// Events whose chain is re-verified when the log is opened.
inline constexpr size_t kOpenTailVerifyEvents = 1024;

// Access control (ledger/auth). A principals file for a province with every
// kecamatan's operators is a few thousand entries; 4 MiB is far beyond that
// and still cheap to parse on SIGHUP.
inline constexpr size_t kMaxPrincipalsFileBytes = 4 << 20;
// Denied attempts kept in memory for AuditService.ListDeniedAttempts (about
// 300 bytes each: ~3 MiB), and the size past which the log file is rotated
// to "<file>.1" (two files at most on disk).
inline constexpr size_t kDeniedAttemptsKept = 10000;
inline constexpr uint64_t kMaxDeniedLogBytes = uint64_t{64} << 20;
// At start, only this much of the end of each denied-attempt file is read back
// (an attempt is at most ~1.5 KiB: the reason is cut at 1 KiB), so that start-up
// does not parse two full 64 MiB files to keep 10 000 lines.
inline constexpr uint64_t kDeniedReadBackBytes = uint64_t{16} << 20;
// Denied attempts one ListDeniedAttempts call returns.
inline constexpr size_t kMaxDeniedAttemptsPerPage = 1000;
// Live subscriptions (Subscribe, following Replay) one principal may hold:
// one integrating system needs a few; this stops one credential from taking
// the server's kMaxSubscriptions for itself.
inline constexpr size_t kMaxSubscriptionsPerPrincipal = 16;
// A bearer token is "sakip_" and 64 hex digits; metadata longer than this is
// refused before it is hashed.
inline constexpr size_t kMaxBearerTokenBytes = 256;
// --- Limits against abuse (services/server_limits.cc applies them; the
// reasons are in docs/DESIGN.md, "Limits against abuse"). ---
//
// Request headers (metadata) per call, summed over all keys and values.
// gRPC's own default is 8 KiB; twice that leaves room for a bearer token or a
// client certificate's identity on top of gRPC's own headers, while a client
// still cannot make the server buffer megabytes of headers per call.
inline constexpr int kGrpcMaxMetadataBytes = 16 << 10;
// Calls open at once on one HTTP/2 connection. A legitimate client runs a few
// subscriptions and at most a benchmark's 128 appenders per connection; past
// this, further calls wait in the client for a free stream instead of
// costing the server memory.
inline constexpr int kGrpcMaxConcurrentStreamsPerConnection = 256;
// Memory the gRPC transport may use for all connections (read and write
// buffers, HPACK tables). Under pressure gRPC shrinks read buffers and cancels
// streams instead of growing; 512 MiB holds 128 concurrent appends of the
// full 4 MiB receive size, and with the 256 MiB block cache and a 64 MiB
// group commit keeps the whole server within about 1 GiB.
inline constexpr size_t kGrpcMemoryQuotaBytes = size_t{512} << 20;
// Threads the synchronous server may run at once (pollers and handlers
// together). Past it a call is answered RESOURCE_EXHAUSTED at once instead of
// each call getting a thread (and a stack, and its fold's memory). Every live
// subscription or followed replay holds a handler thread for as long as it
// runs, so: all kMaxSubscriptions of them, plus the pollers, plus as many
// again for unary calls running beside them.
inline constexpr int kGrpcMaxThreads = static_cast<int>(kMaxSubscriptions) + 2 * kGrpcMaxPollers;
// A new connection must finish its HTTP/2 (later TLS) handshake within this;
// gRPC's default of 120 s lets a slow client hold sockets open for minutes.
inline constexpr int64_t kGrpcHandshakeTimeoutMillis = 20'000;
// The server pings a connection that has been quiet this long and closes it
// when no answer comes within the timeout: a peer that vanished without a
// FIN (laptop closed, NAT entry dropped) does not hold a subscription, its
// buffers and a handler thread forever. One minute is far below common NAT
// timeouts; gRPC's default is two hours.
inline constexpr int64_t kGrpcKeepaliveTimeMillis = 60'000;
inline constexpr int64_t kGrpcKeepaliveTimeoutMillis = 20'000;
// Client pings: at most one per this interval while no data flows, else a
// strike; after kGrpcMaxPingStrikes strikes the connection is closed
// (GOAWAY too_many_pings). Pings are cheap to send and cost the server a
// write each; 10 s still allows aggressive client keepalives (gRPC
// recommends clients stay at or above 10 s).
inline constexpr int64_t kGrpcMinClientPingIntervalMillis = 10'000;
inline constexpr int kGrpcMaxPingStrikes = 2;
// A connection with no call open for this long is closed (clients reconnect
// transparently on their next call): idle connections otherwise hold buffers
// and a file descriptor each. Open subscriptions keep a connection busy.
inline constexpr int64_t kGrpcMaxConnectionIdleMillis = 5 * 60'000;
// How often ledgerd gives the allocator's free pages back to the system
// (util/memory_trimmer.h): often enough that a compaction's burst is not
// counted as resident for long, rarely enough that the few milliseconds a
// trim holds each malloc arena do not matter.
inline constexpr int64_t kMemoryTrimIntervalMillis = 10'000;
// Server-side time budget of one unary call whose work grows with the log
// (audit folds, reports, verification, auditor bundles): the client's
// deadline, but never more than the maximum, and the default when the client
// sent none. gRPC cannot impose a deadline on a client; the server stops its
// own work at min(client deadline, now + max) and answers DEADLINE_EXCEEDED.
// The largest legitimate request (an audit folding kMaxAuditEvents events)
// takes tens of seconds; five minutes leaves a wide margin, one minute is
// ample for anything a client did not bound itself. Live streams
// (Subscribe, Replay with follow) are exempt by design: they last as long as
// the client follows.
inline constexpr int64_t kDefaultOperationDeadlineSeconds = 60;
inline constexpr int64_t kMaxOperationDeadlineSeconds = 300;

// `ledgerctl import` (JSON Lines of SAKIP events): one line is one event, whose
// encoded form must fit kMaxPayloadBytes; its JSON text is at most a few
// times that (field names, quoted numbers), so 4 MiB refuses only lines no
// event could come from. Nesting: a SAKIP event is at most about five
// objects deep; 64 refuses a line of thousands of brackets before the
// recursive protobuf JSON parser sees it.
inline constexpr size_t kMaxImportLineBytes = 4 << 20;
inline constexpr size_t kMaxImportJsonDepth = 64;

}  // namespace ledger::limits

#endif  // LEDGER_LIMITS_H_
