// The inspector's tamper-evidence subcommands (docs/INSPECTORS.md, "Checking
// the ledger yourself"):
//   public-key               the server's key as it says (for comparison only)
//   signed-head              a signed tree head, verified and checked against
//                            the last one this client verified
//   verify-event EVENT_ID    an event's exact bytes proven in a verified head
// Every verification uses the key given with --public_key (never one fetched
// over the same connection) and the trust store of trusted_heads.h; a
// refusal exits kExitRefused and stores nothing.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/commands_trust.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/times.h"
#include "ledger/auth/principals.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"

namespace ledgerctl {
namespace {

namespace pb = ::sakip::v1;

// Between two requests for a head that covers an event.
constexpr auto kHeadRetryInterval = std::chrono::milliseconds(250);

// AuditService over ledgerctl's connection; a failed call throws CliError.
class GrpcHeadFetcher : public HeadFetcher {
 public:
  explicit GrpcHeadFetcher(Client& client) : client_(client) {}

  FetchedHead SignedHead(bool sign_now) override {
    pb::GetSignedTreeHeadRequest request;
    request.set_sign_now(sign_now);
    pb::GetSignedTreeHeadResponse response;
    auto call = client_.UnaryContext();
    client_.Check(client_.audit().GetSignedTreeHead(call.get(), request, &response));
    const ledger::v1::SignedTreeHead& head = response.signed_head();
    FetchedHead fetched;
    fetched.signed_head.head.tree_size = head.tree_size();
    fetched.signed_head.head.timestamp_micros = head.timestamp_micros();
    fetched.signed_head.head.root_hash = head.root_hash();
    fetched.signed_head.key_id = head.key_id();
    fetched.signed_head.signature = head.signature();
    fetched.recorded_at_position = response.recorded_at_position();
    return fetched;
  }

  std::vector<std::string> ConsistencyProof(uint64_t old_size, uint64_t new_size) override {
    pb::GetConsistencyProofRequest request;
    request.set_old_size(old_size);
    request.set_new_size(new_size);
    pb::GetConsistencyProofResponse response;
    auto call = client_.UnaryContext();
    client_.Check(client_.audit().GetConsistencyProof(call.get(), request, &response));
    // Only the proof is used: the roots next to it come over the same
    // connection and prove nothing; the check uses the signed ones.
    return {response.proof().begin(), response.proof().end()};
  }

 private:
  Client& client_;
};

std::string RelationName(HeadRelation relation) {
  switch (relation) {
    case HeadRelation::kFirst: return "first";
    case HeadRelation::kSame: return "same";
    case HeadRelation::kExtends: return "extends";
  }
  return "";
}

// What the check said about the head before it, in a sentence.
std::string RelationText(const HeadCheck& check) {
  if (!check.previous) {
    return "the first head verified with this key; stored as the one later heads must extend";
  }
  const std::string before = absl::StrCat(
      "(size ", check.previous->signed_head.head.tree_size, ", verified ",
      FormatWib(absl::ToUnixMicros(check.previous->verified_at)), ")");
  if (check.relation == HeadRelation::kSame) return "the same tree as the head you verified before " + before;
  return "extends the head you verified before " + before + ": consistency proof checked";
}

JsonObject& HeadFields(JsonObject& json, const ledger::SignedTreeHead& head) {
  return json.Uint("tree_size", head.head.tree_size)
      .String("root_hash", Hex(head.head.root_hash))
      .String("timestamp", FormatUtc(head.head.timestamp_micros))
      .Int("timestamp_micros", head.head.timestamp_micros)
      .String("key_id", head.key_id);
}

}  // namespace

std::string TrustedPublicKey(const ParsedArgs& args, const std::string& command) {
  std::optional<std::string> given = args.Get("public_key");
  if (!given) {
    throw UsageError(
        "--public_key: required: " + command +
        " checks the server against the Ed25519 public key you trust, obtained from the ledger's operator "
        "out of band (the .pub file next to ledgerd's signing key): --public_key FILE or 64 hex digits. "
        "A key fetched from the server being checked proves nothing ('ledgerctl public-key' shows it for "
        "comparison only)");
  }
  absl::StatusOr<std::string> key = ParsePublicKeyArg(*given);
  if (!key.ok()) throw UsageError(std::string(key.status().message()));
  return *key;
}

TrustStore TrustStoreFromArgs(const ParsedArgs& args) {
  std::string dir = args.GetOr("trust_dir", DefaultTrustDir());
  if (dir.empty()) throw UsageError("--trust_dir: required when HOME is not set (where verified heads are kept)");
  return TrustStore(dir);
}

HeadCheck VerifiedHead(CommandContext& context, const std::string& public_key, const TrustStore& store,
                       bool sign_now) {
  GrpcHeadFetcher fetcher(context.client);
  absl::StatusOr<HeadCheck> check = CheckSignedHead(fetcher, public_key, store, sign_now);
  if (!check.ok()) throw UsageError(std::string(check.status().message()));
  if (check->accepted()) return *std::move(check);
  if (context.json_output) {
    JsonObject json;
    json.Bool("verified", false).String("refusal", RefusalName(*check->refusal)).String("message", check->message);
    HeadFields(json, check->fetched.signed_head).String("trust_file", check->trust_file);
    context.out << json.Build() << "\n";
  }
  throw CliError(kExitRefused, check->message + "\n(refused: the trusted head in " + check->trust_file +
                                   " is unchanged)");
}

int RunPublicKey(CommandContext& context) {
  pb::GetPublicKeyResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.audit().GetPublicKey(call.get(), pb::GetPublicKeyRequest(), &response));
  std::string comparison;
  if (context.args.Has("public_key")) {
    const std::string trusted = TrustedPublicKey(context.args, "public-key");
    comparison = trusted == response.public_key() ? "matches" : "differs";
  }
  if (context.json_output) {
    JsonObject json;
    json.String("public_key", Hex(response.public_key())).String("key_id", response.key_id());
    if (!comparison.empty()) json.Bool("matches_trusted_key", comparison == "matches");
    context.out << json.Build() << "\n";
  } else {
    context.out << "public key  " << Hex(response.public_key()) << "\n"
                << "key id      " << response.key_id() << "\n";
    if (comparison == "matches") context.out << "this is the key you trust (--public_key)\n";
    if (comparison == "differs") context.out << "this is NOT the key you trust (--public_key)\n";
  }
  context.err << "(as the server says: a key fetched over the connection it is meant to check proves nothing; "
                 "compare it with the .pub file the operator gave you)\n";
  return comparison == "differs" ? kExitRefused : kExitOk;
}

int RunSignedHead(CommandContext& context) {
  const std::string key = TrustedPublicKey(context.args, "signed-head");
  const TrustStore store = TrustStoreFromArgs(context.args);
  const HeadCheck check = VerifiedHead(context, key, store, context.args.Has("sign_now"));
  const ledger::SignedTreeHead& head = check.fetched.signed_head;
  if (context.json_output) {
    JsonObject json;
    json.Bool("verified", true);
    HeadFields(json, head)
        .Uint("recorded_at_position", check.fetched.recorded_at_position)
        .String("relation", RelationName(check.relation))
        .Uint("previous_tree_size", check.previous ? check.previous->signed_head.head.tree_size : 0)
        .String("trust_file", check.trust_file);
    context.out << json.Build() << "\n";
    return kExitOk;
  }
  context.out << "signed tree head: verified\n"
              << "  size        " << head.head.tree_size << " events\n"
              << "  root        " << Hex(head.head.root_hash) << "\n"
              << "  signed at   " << FormatWib(head.head.timestamp_micros) << "\n"
              << "  key id      " << head.key_id << " (the key you trust)\n"
              << "  recorded    at position " << check.fetched.recorded_at_position << " (stream $tree-heads)\n"
              << "  history     " << RelationText(check) << "\n"
              << "  kept in     " << check.trust_file << "\n";
  return kExitOk;
}

int RunVerifyEvent(CommandContext& context) {
  const std::string key = TrustedPublicKey(context.args, "verify-event");
  const TrustStore store = TrustStoreFromArgs(context.args);
  const std::string event_id = context.args.positionals[0];

  ledger::v1::GetEventRequest request;
  request.set_event_id(event_id);
  request.set_include_stored_bytes(true);
  ledger::v1::GetEventResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.stub().GetEvent(call.get(), request, &response));
  const ledger::v1::RecordedEvent& event = response.event();

  // The event as the stored bytes say, never as the server's other fields say.
  const std::string& stored = event.stored_bytes();
  if (stored.empty()) throw CliError(kExitRefused, "event " + event_id + ": the server sent no stored bytes");
  const std::string hash = ledger::Sha256(stored);
  if (hash != event.hash()) {
    throw CliError(kExitRefused, absl::StrCat("event ", event_id, ": its ", stored.size(),
                                              " stored bytes hash to ", Hex(hash), ", not to the hash ",
                                              Hex(event.hash()), " the server claims"));
  }
  ledger::v1::EventEnvelope envelope;
  if (!envelope.ParseFromString(stored) || envelope.event_id() != event_id || envelope.position() == 0) {
    throw CliError(kExitRefused, absl::StrCat("event ", event_id, ": the stored bytes are not an envelope of ",
                                              "that event id with a position (they name '", envelope.event_id(),
                                              "' at position ", envelope.position(), ")"));
  }
  const uint64_t position = envelope.position();

  // A head that covers the event: the latest, else one signed on request;
  // the server signs at most one per short interval on request, so ask again
  // until --timeout-ms has passed.
  HeadCheck check = VerifiedHead(context, key, store, /*sign_now=*/false);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(context.args.GetUint("timeout-ms").value_or(kDefaultTimeoutMs));
  while (check.fetched.signed_head.head.tree_size < position) {
    if (std::chrono::steady_clock::now() + kHeadRetryInterval > deadline) {
      throw CliError(kExitServerError,
                     absl::StrCat("event ", event_id, " is at position ", position,
                                  " but the latest signed head covers ", check.fetched.signed_head.head.tree_size,
                                  " events; the server signs new heads at intervals: try again shortly"));
    }
    check = VerifiedHead(context, key, store, /*sign_now=*/true);
    if (check.fetched.signed_head.head.tree_size < position) std::this_thread::sleep_for(kHeadRetryInterval);
  }
  const ledger::SignedTreeHead& head = check.fetched.signed_head;

  pb::GetInclusionProofRequest proof_request;
  proof_request.set_position(position);
  proof_request.set_tree_size(head.head.tree_size);
  pb::GetInclusionProofResponse proof;
  auto proof_call = context.client.UnaryContext();
  context.client.Check(context.client.audit().GetInclusionProof(proof_call.get(), proof_request, &proof));
  const std::vector<std::string> path(proof.proof().begin(), proof.proof().end());
  const std::string leaf = ledger::merkle::LeafHash(hash);
  if (!ledger::merkle::VerifyInclusion(leaf, position - 1, head.head.tree_size, path, head.head.root_hash)) {
    throw CliError(kExitRefused,
                   absl::StrCat("event ", event_id, ": the inclusion proof of position ", position,
                                " does not verify against the signed root of ", head.head.tree_size,
                                " events: the server's log does not hold these bytes there"));
  }

  if (context.json_output) {
    JsonObject json;
    json.Bool("verified", true)
        .String("event_id", event_id)
        .Uint("position", position)
        .String("stream_id", envelope.stream_id())
        .Uint("stream_version", envelope.stream_version())
        .String("event_type", envelope.event_type())
        .String("recorded_at", FormatUtc(envelope.recorded_at_micros()))
        .Uint("stored_bytes", stored.size())
        .String("hash", Hex(hash))
        .String("leaf_hash", Hex(leaf))
        .Uint("proof_hashes", path.size());
    HeadFields(json, head).String("head_relation", RelationName(check.relation));
    context.out << json.Build() << "\n";
    return kExitOk;
  }
  context.out << "event " << event_id << ": proven in the signed log\n"
              << "  position     " << position << "  (" << envelope.stream_id() << "@" << envelope.stream_version()
              << ", " << envelope.event_type() << ", recorded " << FormatWib(envelope.recorded_at_micros()) << ")\n"
              << "  stored bytes " << stored.size() << " bytes, SHA-256 " << Hex(hash)
              << " (recomputed here; the server's hash agrees)\n"
              << "  signed head  " << head.head.tree_size << " events, root " << Hex(head.head.root_hash) << "\n"
              << "               signed " << FormatWib(head.head.timestamp_micros) << " by key " << head.key_id
              << " (the key you trust)\n"
              << "  history      " << RelationText(check) << "\n"
              << "  proof        inclusion proof of " << path.size()
              << " hashes, checked against the signed root\n"
              << "proven: these exact bytes are the event at position " << position
              << " of the log whose first " << head.head.tree_size
              << " events the holder of your key signed; the log can no longer drop or change them "
                 "without this client refusing its later heads.\n";
  return kExitOk;
}

int RunTokenNew(CommandContext& context) {
  const std::string& name = context.args.positionals[0];
  // A name ledgerd would refuse is caught here, before a token is handed out.
  if (absl::Status valid = ledger::auth::CheckPrincipalName("NAME", name); !valid.ok()) {
    throw UsageError("token-new: " + std::string(valid.message()));
  }
  absl::StatusOr<std::string> token = ledger::auth::NewBearerToken();
  if (!token.ok()) throw CliError(kExitServerError, std::string(token.status().message()));
  const std::string digest = ledger::auth::TokenSha256Hex(*token);
  if (context.json_output) {
    context.out << "{\"principal\":" << JsonQuote(name) << ",\"token\":" << JsonQuote(*token)
                << ",\"token_sha256\":" << JsonQuote(digest) << "}\n";
    return kExitOk;
  }
  context.out << *token << "\n";
  context.err << "token_sha256 for principal '" << name << "' (put this in the principals file):\n  \""
              << digest << "\"\n";
  return kExitOk;
}

}  // namespace ledgerctl
