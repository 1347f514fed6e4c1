// The tamper suite of issue #5: real ledgerd processes with signed tree heads
// on, ledgers damaged by the test-only ledger_tamper tool (a separate process,
// on the closed ledger) or by replacing files as an operator could, and each
// damage DETECTED AND NAMED: by Verify, by the server refusing writes at open
// (the head witness), or by a client that kept an earlier signed head and
// trusts nothing but the public key from the key's .pub file.
//
// Prints one line "tamper cases detected: N of N" and fails unless every
// case was detected with the expected message.
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "tests/support/ledgerd_process.h"
#include "tests/support/subprocess.h"

namespace ledger {
namespace {

namespace fs = std::filesystem;
namespace pb = ::sakip::v1;
using ::ledger::testing::IsOk;
using ::ledger::testing::LedgerdProcess;
using ::ledger::testing::SetDeadline;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

constexpr absl::Duration kRpcTimeout = absl::Seconds(10);

// --- The client side: trusts only the public key and the last head it kept --

// The hex public key of a .pub file as raw bytes; empty when it is not one.
std::string ReadPublicKey(const std::string& pub_path) {
  std::string hex = testing::ReadFileOrEmpty(pub_path);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  if (hex.size() != 2 * kEd25519PublicKeyBytes) return "";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    if (std::sscanf(hex.substr(i, 2).c_str(), "%2x", &value) != 1) return "";
    bytes.push_back(static_cast<char>(value));
  }
  return bytes;
}

// Asks `server` for a signed head of its current log (sign_now). Requests
// sign at most once per 200 ms (HeadPublisherOptions): retried until the
// head covers the log as it was before the call, apart from its own event.
absl::StatusOr<SignedTreeHead> FetchSignedHead(pb::AuditService::Stub* audit, uint64_t log_size) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::GetSignedTreeHeadRequest request;
    request.set_sign_now(true);
    pb::GetSignedTreeHeadResponse response;
    grpc::Status status = audit->GetSignedTreeHead(&context, request, &response);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    absl::StatusOr<SignedTreeHead> head = attest::FromProto(response.signed_head());
    if (!head.ok()) return head.status();
    const bool covers = head->head.tree_size >= log_size ||
                        (response.recorded_at_position() == log_size && head->head.tree_size + 1 == log_size);
    if (covers) return head;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return absl::DeadlineExceededError("the server signed no head covering its log");
}

absl::StatusOr<std::vector<std::string>> FetchConsistencyProof(pb::AuditService::Stub* audit, uint64_t old_size,
                                                               uint64_t new_size) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  pb::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  pb::GetConsistencyProofResponse response;
  grpc::Status status = audit->GetConsistencyProof(&context, request, &response);
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  return std::vector<std::string>(response.proof().begin(), response.proof().end());
}

// An inspector's client: it holds the public key (from the .pub file, never
// from the server) and the last head it verified, and accepts a new head
// only if it is signed by that key and extends the kept one. The roots it
// checks the proof against are the SIGNED roots, never the server's answer.
class InspectorClient {
 public:
  explicit InspectorClient(std::string public_key) : public_key_(std::move(public_key)) {}

  // OK (and keeps the new head) or FailedPrecondition naming the refusal.
  absl::Status Observe(pb::AuditService::Stub* audit, uint64_t log_size) {
    absl::StatusOr<SignedTreeHead> next = FetchSignedHead(audit, log_size);
    if (!next.ok()) return next.status();
    if (!VerifyTreeHead(*next, public_key_)) {
      return absl::FailedPreconditionError(
          absl::StrCat("refused: the head of size ", next->head.tree_size, " is not signed by key ",
                       KeyIdOf(public_key_)));
    }
    if (kept_) {
      if (absl::Status extends = CheckExtends(audit, *next); !extends.ok()) return extends;
    }
    kept_ = *next;
    return absl::OkStatus();
  }

  const std::optional<SignedTreeHead>& kept() const { return kept_; }

 private:
  absl::Status CheckExtends(pb::AuditService::Stub* audit, const SignedTreeHead& next) {
    const TreeHead& old_head = kept_->head;
    const TreeHead& new_head = next.head;
    if (new_head.tree_size < old_head.tree_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refused: rollback: the server signed a tree of ", new_head.tree_size,
          " events, smaller than the tree of ", old_head.tree_size, " events it signed before"));
    }
    if (new_head.tree_size == old_head.tree_size && new_head.root_hash != old_head.root_hash) {
      return absl::FailedPreconditionError(absl::StrCat("refused: fork: two different signed roots for size ",
                                                        new_head.tree_size));
    }
    absl::StatusOr<std::vector<std::string>> proof =
        FetchConsistencyProof(audit, old_head.tree_size, new_head.tree_size);
    if (!proof.ok()) return proof.status();
    if (!merkle::VerifyConsistency(old_head.tree_size, new_head.tree_size, old_head.root_hash,
                                   new_head.root_hash, *proof)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refused: fork: the consistency proof from the signed tree of ", old_head.tree_size, " events (root ",
          HexEncode(old_head.root_hash), ") to the signed tree of ", new_head.tree_size, " events (root ",
          HexEncode(new_head.root_hash), ") does not verify"));
    }
    return absl::OkStatus();
  }

  std::string public_key_;
  std::optional<SignedTreeHead> kept_;
};

// --- The server side: one ledgerd with heads on ------------------------------

// A ledgerd over `name` in `root`: data directory, key and witness files as
// siblings (so that replacing the data directory keeps them), heads signed
// on request and at shutdown only (--head_interval_ms=0), so that the test
// knows which heads exist.
class Ledger {
 public:
  Ledger(const TempDir& root, const std::string& name, std::string key_path = "")
      : data_dir_(root.Sub(name)),
        key_path_(key_path.empty() ? root.Sub(name + ".signing-key") : std::move(key_path)),
        witness_path_(root.Sub(name + ".head-witness")),
        work_dir_(root.Sub(name + ".work")) {
    fs::create_directories(work_dir_);
    process_ = std::make_unique<LedgerdProcess>(
        data_dir_, work_dir_,
        std::vector<std::string>{"--signing_key=" + key_path_, "--head_witness=" + witness_path_,
                                 "--head_interval_ms=0"});
  }

  const std::string& data_dir() const { return data_dir_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& witness_path() const { return witness_path_; }

  void Start() {
    ASSERT_THAT(process_->Start(), IsOk());
    channel_ = process_->NewChannel();
    ledger_ = v1::LedgerService::NewStub(channel_);
    audit_ = pb::AuditService::NewStub(channel_);
  }

  // SIGTERM: the server signs a last head (if the log grew) and witnesses it
  // before it exits. The client disconnects first: while a client channel
  // stays connected, ledgerd's graceful shutdown waits out its whole grace
  // period (5 s) even with no call in flight.
  void Stop() {
    ledger_.reset();
    audit_.reset();
    channel_.reset();
    std::optional<int> status = process_->Terminate(absl::Seconds(30));
    ASSERT_TRUE(status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << process_->LogTail();
  }

  // Appends `count` events "<prefix>-1".. to `stream`.
  void Append(const std::string& stream, const std::string& prefix, int count) {
    for (int i = 1; i <= count; ++i) {
      grpc::ClientContext context;
      SetDeadline(&context, kRpcTimeout);
      v1::AppendRequest request;
      request.set_stream_id(stream);
      request.mutable_expected_version()->mutable_any();
      *request.add_events() = testing::MakeEvent(absl::StrCat(prefix, "-", i),
                                                 absl::StrCat("{\"", prefix, "\":", i, ",\"pad\":\"0123456789\"}"));
      v1::AppendResponse response;
      grpc::Status status = ledger_->Append(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  grpc::Status TryAppend(const std::string& event_id) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::AppendRequest request;
    request.set_stream_id("35.08.19/2024");
    request.mutable_expected_version()->mutable_any();
    *request.add_events() = testing::MakeEvent(event_id, "{}");
    v1::AppendResponse response;
    return ledger_->Append(&context, request, &response);
  }

  v1::GetHeadResponse Head() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::GetHeadResponse head;
    grpc::Status status = ledger_->GetHead(&context, v1::GetHeadRequest(), &head);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return head;
  }

  v1::VerifyResponse Verify() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::VerifyResponse verify;
    grpc::Status status = ledger_->Verify(&context, v1::VerifyRequest(), &verify);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return verify;
  }

  // The stored body of `position` (what its hash covers).
  std::string StoredBody(uint64_t position) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::ReadAllRequest request;
    request.set_from_position(position);
    request.set_max_count(1);
    request.set_include_stored_bytes(true);
    v1::ReadResponse response;
    grpc::Status status = ledger_->ReadAll(&context, request, &response);
    EXPECT_TRUE(status.ok() && response.events_size() == 1) << status.error_message();
    return response.events_size() == 1 ? response.events(0).stored_bytes() : "";
  }

  // The client observes this server's current log.
  absl::Status ObservedBy(InspectorClient* client) { return client->Observe(audit_.get(), Head().position()); }

 private:
  std::string data_dir_;
  std::string key_path_;
  std::string witness_path_;
  std::string work_dir_;
  std::unique_ptr<LedgerdProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
  std::unique_ptr<pb::AuditService::Stub> audit_;
};

// Runs ledger_tamper on a closed ledger; fails the test unless it succeeds.
void Tamper(const TempDir& root, const std::string& data_dir, const std::vector<std::string>& args) {
  static int runs = 0;
  std::vector<std::string> argv = {LEDGER_TAMPER_PATH, "--data_dir", data_dir};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<testing::ProcessResult> result =
      testing::RunProcess(argv, root.Sub(absl::StrCat("tamper.", ++runs, ".log")));
  ASSERT_THAT(result.status(), IsOk());
  ASSERT_TRUE(result->exited && result->exit_code == 0) << result->output;
}

// --- The cases ---------------------------------------------------------------

// Each case damages a ledger and asserts that the damage is detected with a
// message that names it; `named` gets that message for the summary.
using Case = std::function<void(const TempDir& root, std::string* named)>;

// 1. A payload byte changed in RocksDB: Verify names exactly that position,
// and the reopened server refuses writes naming it.
void PayloadByteChanged(const TempDir& root, std::string* named) {
  Ledger ledger(root, "payload");
  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.19/2024", "p", 8));
  constexpr uint64_t kDamaged = 4;
  const std::string body = ledger.StoredBody(kDamaged);
  const size_t payload_at = body.find("\"p\":4");
  ASSERT_NE(payload_at, std::string::npos);
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());

  // The stored value is 0x01 hash:32 body; change the payload's digit.
  const size_t offset = 1 + kHashBytes + payload_at + 4;
  ASSERT_NO_FATAL_FAILURE(Tamper(root, ledger.data_dir(),
                                 {"--position", absl::StrCat(kDamaged), "--offset", absl::StrCat(offset), "--xor", "1"}));

  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  v1::VerifyResponse verify = ledger.Verify();
  EXPECT_FALSE(verify.ok());
  EXPECT_EQ(verify.first_bad_position(), kDamaged) << verify.detail();
  EXPECT_EQ(verify.problem(), "HASH_MISMATCH") << verify.detail();
  EXPECT_EQ(verify.verified_count(), kDamaged - 1);
  v1::GetHeadResponse head = ledger.Head();
  EXPECT_FALSE(head.writable());
  EXPECT_THAT(head.write_refusal_reason(), HasSubstr(absl::StrCat("position ", kDamaged, ":")));
  *named = absl::StrCat("Verify: position ", verify.first_bad_position(), ": ", verify.problem(), ": ",
                        verify.detail());
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());
}

// The log in `data_dir`, opened in this process without a witness, verifies
// whole and accepts writes: the forgery is internally consistent.
void ExpectInternallyConsistent(const std::string& data_dir, uint64_t events) {
  RocksEventLogOptions options;
  options.data_dir = data_dir;
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
  ASSERT_THAT(log.status(), IsOk());
  EXPECT_TRUE((*log)->GetWriteState().writable) << (*log)->GetWriteState().refusal_reason;
  absl::StatusOr<VerifyReport> report = (*log)->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->ok()) << report->finding->detail;
  EXPECT_EQ(report->verified_count, events);
  (*log)->Close();
}

// 2. An event removed and the chain rebuilt without it, every later hash,
// index, Merkle node and the head recomputed: Verify alone passes; the head
// witness makes the server refuse writes naming the fork; and, once the
// operator also discards the witness, a client that kept a signed head
// refuses the server's new head (the consistency proof does not verify).
void EventRemovedAndChainRebuilt(const TempDir& root, std::string* named) {
  Ledger ledger(root, "rebuilt");
  ASSERT_NO_FATAL_FAILURE(ledger.Start());  // creates the key pair
  InspectorClient client(ReadPublicKey(ledger.key_path() + ".pub"));
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.19/2024", "a", 6));
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.20/2024", "b", 6));
  ASSERT_THAT(ledger.ObservedBy(&client), IsOk());  // the client keeps a head over all 12
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());           // that head is the witnessed one
  // The head's own event follows it; at shutdown nothing new needs a head.
  const uint64_t witnessed = client.kept()->head.tree_size;
  const uint64_t log_size = witnessed + 1;

  ASSERT_NO_FATAL_FAILURE(Tamper(root, ledger.data_dir(), {"--position", "5", "--remove_and_rebuild"}));
  ASSERT_NO_FATAL_FAILURE(ExpectInternallyConsistent(ledger.data_dir(), log_size - 1));

  // (a) The server, holding the witness, refuses writes and names the fork.
  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  v1::GetHeadResponse head = ledger.Head();
  EXPECT_EQ(head.position(), log_size - 1);
  EXPECT_FALSE(head.writable());
  EXPECT_THAT(head.write_refusal_reason(), HasSubstr(absl::StrCat("Merkle root at size ", witnessed)));
  EXPECT_THAT(head.write_refusal_reason(), HasSubstr("rewritten (a fork)"));
  EXPECT_EQ(ledger.TryAppend("after-rebuild").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());

  // (b) The operator removes the witness too: the server accepts writes and
  // signs heads of the forged log with its real key; the client refuses them.
  ASSERT_TRUE(fs::remove(ledger.witness_path()));
  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  EXPECT_TRUE(ledger.Head().writable()) << ledger.Head().write_refusal_reason();
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.19/2024", "c", 2));
  absl::Status refused = ledger.ObservedBy(&client);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("fork: the consistency proof"));
  *named = absl::StrCat("server: ", head.write_refusal_reason(), "; client without the witness: ", refused.message());
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());
}

// 3. The database replaced by an older copy (the witness file kept): the
// server refuses writes at open naming the rollback, and a client that kept
// a later head refuses the smaller tree.
void RestoredFromAnOlderCopy(const TempDir& root, std::string* named) {
  Ledger ledger(root, "rollback");
  ASSERT_NO_FATAL_FAILURE(ledger.Start());  // creates the key pair
  InspectorClient client(ReadPublicKey(ledger.key_path() + ".pub"));
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.19/2024", "old", 5));
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());
  const std::string old_copy = root.Sub("rollback.old-copy");
  fs::copy(ledger.data_dir(), old_copy, fs::copy_options::recursive);

  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.19/2024", "new", 5));
  ASSERT_THAT(ledger.ObservedBy(&client), IsOk());
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());

  fs::remove_all(ledger.data_dir());
  fs::rename(old_copy, ledger.data_dir());
  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  v1::GetHeadResponse head = ledger.Head();
  EXPECT_FALSE(head.writable());
  EXPECT_THAT(head.write_refusal_reason(), HasSubstr(absl::StrCat("the log holds ", head.position(), " events but")));
  EXPECT_THAT(head.write_refusal_reason(), HasSubstr("restored from an older copy"));
  EXPECT_EQ(ledger.TryAppend("after-restore").error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  // The refused server serves no signed head at all (it says why); a server
  // that did serve one would be refused by the client as a rollback.
  absl::Status refused = ledger.ObservedBy(&client);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), ::testing::AnyOf(HasSubstr("rollback"), HasSubstr("restored from an older copy")));
  *named = absl::StrCat("server: ", head.write_refusal_reason(), "; client: ", refused.message());
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());
}

// Copies the key pair so that a second server signs with the same key.
void ShareKey(const std::string& from, const std::string& to) {
  fs::copy_file(from, to);
  fs::copy_file(from + ".pub", to + ".pub");
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write);  // the key refuses wider modes
}

// 4. Two different logs shown to two clients, both signed with the same key:
// each head verifies on its own, but a client that verified the first
// server's head refuses the second's.
void TwoLogsOneKey(const TempDir& root, std::string* named) {
  Ledger first(root, "first");
  ASSERT_NO_FATAL_FAILURE(first.Start());  // creates the key
  Ledger second(root, "second", root.Sub("second.signing-key"));
  ASSERT_NO_FATAL_FAILURE(ShareKey(first.key_path(), second.key_path()));
  ASSERT_NO_FATAL_FAILURE(second.Start());
  const std::string public_key = ReadPublicKey(first.key_path() + ".pub");
  ASSERT_EQ(public_key, ReadPublicKey(second.key_path() + ".pub"));

  ASSERT_NO_FATAL_FAILURE(first.Append("35.08.19/2024", "first", 5));
  ASSERT_NO_FATAL_FAILURE(second.Append("35.08.19/2024", "second", 7));
  InspectorClient shown_first(public_key);
  InspectorClient shown_second(public_key);
  ASSERT_THAT(first.ObservedBy(&shown_first), IsOk());
  ASSERT_THAT(second.ObservedBy(&shown_second), IsOk());  // the second log's head is validly signed
  // The first client then talks to the second server (or compares notes).
  absl::Status refused = second.ObservedBy(&shown_first);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("fork"));
  *named = absl::StrCat("client: ", refused.message());
  ASSERT_NO_FATAL_FAILURE(first.Stop());
  ASSERT_NO_FATAL_FAILURE(second.Stop());
}

int FailedParts() {
  const ::testing::TestResult* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int failed = 0;
  for (int i = 0; i < result->total_part_count(); ++i) failed += result->GetTestPartResult(i).failed() ? 1 : 0;
  return failed;
}

// A stored Merkle node (the first 16-leaf subtree, level 4) changed in
// RocksDB: Verify recomputes the tree from the events and names the node.
void MerkleNodeChanged(const TempDir& root, std::string* named) {
  Ledger ledger(root, "merkle");
  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  ASSERT_NO_FATAL_FAILURE(ledger.Append("35.08.19/2024", "m", 40));
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());
  ASSERT_NO_FATAL_FAILURE(Tamper(root, ledger.data_dir(), {"--merkle_node", "4:0"}));
  ASSERT_NO_FATAL_FAILURE(ledger.Start());
  v1::VerifyResponse verify = ledger.Verify();
  EXPECT_FALSE(verify.ok());
  EXPECT_EQ(verify.problem(), "MERKLE_MISMATCH") << verify.detail();
  *named = absl::StrCat("Verify: ", verify.problem(), ": ", verify.detail());
  ASSERT_NO_FATAL_FAILURE(ledger.Stop());
}

TEST(TamperSuiteTest, EveryCaseIsDetectedAndNamed) {
  const std::vector<std::pair<std::string, Case>> cases = {
      {"payload byte changed in RocksDB", PayloadByteChanged},
      {"event removed, chain rebuilt", EventRemovedAndChainRebuilt},
      {"database replaced by an older copy", RestoredFromAnOlderCopy},
      {"two logs shown to two clients", TwoLogsOneKey},
      {"a stored Merkle node changed in RocksDB", MerkleNodeChanged},
  };
  int detected = 0;
  for (const auto& [name, run] : cases) {
    TempDir root;
    std::string named;
    const int failed_before = FailedParts();
    const absl::Time start = absl::Now();
    {
      SCOPED_TRACE(name);
      run(root, &named);
    }
    const bool ok = FailedParts() == failed_before;
    detected += ok ? 1 : 0;
    std::printf("  %s (%.1f s): %s: %s\n", name.c_str(), absl::ToDoubleSeconds(absl::Now() - start),
                ok ? "detected" : "NOT DETECTED", named.c_str());
  }
  std::printf("tamper cases detected: %d of %zu\n", detected, cases.size());
  EXPECT_EQ(detected, static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace ledger
