// Access control end to end, through real processes only (issue #6): a
// throwaway PKI written as PEM files, bearer tokens made by `ledgerctl
// token-new`, a principals file for one kabupaten (Lumajang, 35.08), and a
// ledgerd child started with TLS, client certificates and the principals.
// The real ledgerctl then calls it:
//   - with a token over TLS: an allowed call succeeds, a call outside the
//     principal's role or scope exits 1 with PERMISSION_DENIED;
//   - with no token: UNAUTHENTICATED; in plaintext: exit 3;
//   - with a client certificate (mutual TLS) and no token: identified by CN;
//   - through the LEDGER_TLS_CA / LEDGER_TOKEN environment, and with
//     --tls-server-name;
//   - after a principal is removed and ledgerd gets SIGHUP: its token is
//     refused, the others still work; after an invalid file and SIGHUP: the
//     file is refused (and logged) and the previous principals stay;
//   - and the denied-attempt log (--denied_log) holds one JSON line per
//     refusal.
// Plus ledgerd's start-up check: a non-loopback --listen without TLS exits
// non-zero naming --tls_cert, unless --insecure.
//
// The reference report (tests/data/klakah-tw2-2024.jsonl) is imported first
// through a ledgerd without authentication: the importer sends plan,
// operation, submission and disposition events in one stream, which no
// single principal of a four-eyes setup may record (signer and supervisor
// are different people with their own NIPs). The same data directory is then
// served with access control.
#include <openssl/sha.h>

#include <cctype>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/ledgerctl/ledgerctl_e2e.h"
#include "tests/support/test_pki.h"

namespace {

using ledgerctl_e2e::Child;
using ledgerctl_e2e::Json;
using ledgerctl_e2e::JsonLines;
using ledgerctl_e2e::ReadFile;
using ledgerctl_e2e::Result;
using ledgerctl_e2e::Str;
using ledgerctl_e2e::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUnit[] = "35.08.19";          // Kecamatan Klakah
constexpr char kOtherUnit[] = "35.09.01";     // outside Kabupaten Lumajang
constexpr char kInspectorCn[] = "inspektorat.lumajang.go.id";

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  char byte[3];
  for (unsigned char b : digest) {
    std::snprintf(byte, sizeof(byte), "%02x", b);
    hex += byte;
  }
  return hex;
}

std::string TrimmedLine(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

bool IsLowerHex(const std::string& text) {
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

int CountOf(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

class AccessE2eTest : public ledgerctl_e2e::LedgerctlTest {
 protected:
  // A principal of the test's principals file, with its token.
  struct Holder {
    std::string name;
    std::string roles;   // JSON array text
    std::string scopes;  // JSON array text
    std::string nip;
    std::string token;
    std::string token_sha256;
    std::string certificate_cn;
  };

  void SetUp() override {
    MakeTempDir();
    server_address_ = "127.0.0.1:1";  // token-new needs no server
    WritePki();
    MakeHolders();
    WritePrincipals(holders_);

    // The reference report, imported without authentication (see the top).
    std::unique_ptr<ledgerctl_e2e::Child> plain;
    const std::string plain_address = StartLedgerd("data", {"--sign_heads=false"}, &plain);
    ASSERT_FALSE(plain_address.empty());
    Result imported = RunAt(plain_address, {"import", ledgerctl_e2e::kReferenceJsonl});
    ASSERT_EQ(imported.code, 0) << imported.err;
    StopLedgerd("data", plain);

    server_address_ = StartLedgerd("data", ServerFlags(), &server_);
    ASSERT_FALSE(server_address_.empty());
  }

  std::vector<std::string> ServerFlags() const override {
    return {"--sign_heads=false",
            "--tls_cert=" + Path("server.pem"),
            "--tls_key=" + Path("server.key"),
            "--tls_client_ca=" + Path("ca.pem"),
            "--principals=" + Path("principals.json"),
            "--denied_log=" + Path("denied.jsonl")};
  }

  void WritePki() {
    using namespace ledger::testing;
    KeyAndCertificate ca = MakeCertificateAuthority("Test CA Kabupaten Lumajang");
    KeyAndCertificate server = IssueCertificate(ca, "ledgerd.lumajang.test", /*server=*/true);
    KeyAndCertificate client = IssueCertificate(ca, kInspectorCn, /*server=*/false);
    WriteFile(Path("ca.pem"), ca.certificate);
    WriteFile(Path("server.pem"), server.certificate);
    WriteFile(Path("server.key"), server.private_key);
    WriteFile(Path("client.pem"), client.certificate);
    WriteFile(Path("client.key"), client.private_key);
  }

  // Tokens from `ledgerctl token-new`, checked as they are made: the token
  // alone on stdout and its SHA-256 on stderr; or, with --output=json, one
  // object holding both.
  void MakeHolders() {
    holders_ = {
        {"inspektorat.lumajang", R"(["inspector"])", R"(["35.08"])", "", "", "", kInspectorCn},
        {"operator.klakah", R"(["operator"])", R"(["35.08.19"])", "", "", "", ""},
        {"camat.klakah", R"(["signer"])", R"(["35.08.19"])", "197506152000031004", "", "", ""},
        {"sekcam.klakah", R"(["supervisor"])", R"(["35.08.19"])", "198003102005011002", "", "", ""},
        {"admin.kabupaten", R"(["admin"])", R"(["*"])", "", "", "", ""},
    };
    for (size_t i = 0; i < holders_.size(); ++i) {
      Holder& holder = holders_[i];
      if (i % 2 == 0) {
        Result made = Run({"token-new", holder.name});
        ASSERT_EQ(made.code, 0) << made.err;
        holder.token = TrimmedLine(made.out);
        ASSERT_THAT(made.out, Not(HasSubstr(" "))) << "stdout holds the token only";
        ASSERT_EQ(CountOf(made.out, "\n"), 1) << made.out;
        ASSERT_GE(holder.token.size(), 32u) << made.out;
        holder.token_sha256 = Sha256Hex(holder.token);
        EXPECT_THAT(made.err, HasSubstr(holder.name));
        EXPECT_THAT(made.err, HasSubstr("\"" + holder.token_sha256 + "\""));
        EXPECT_THAT(made.err, Not(HasSubstr(holder.token))) << "the token only on stdout";
      } else {
        Result made = Run({"--output=json", "token-new", holder.name});
        ASSERT_EQ(made.code, 0) << made.err;
        std::vector<Json> objects = JsonLines(made.out);
        ASSERT_EQ(objects.size(), 1u) << made.out;
        EXPECT_EQ(Str(objects[0], "principal"), holder.name);
        holder.token = Str(objects[0], "token");
        holder.token_sha256 = Str(objects[0], "token_sha256");
        ASSERT_GE(holder.token.size(), 32u) << made.out;
        EXPECT_EQ(holder.token_sha256, Sha256Hex(holder.token));
      }
      EXPECT_EQ(holder.token_sha256.size(), 64u);
      EXPECT_TRUE(IsLowerHex(holder.token_sha256)) << holder.token_sha256;
      WriteFile(Path(holder.name + ".token"), holder.token + "\n");
    }
    // A name the principals file would refuse gets no token (exit 2).
    for (const char* bad : {"bad name", "quote\"name", ""}) {
      Result refused = Run({"--output=json", "token-new", bad});
      EXPECT_EQ(refused.code, 2) << bad << ": " << refused.out;
      EXPECT_EQ(refused.out, "") << bad;
    }
    // Every token is new.
    for (size_t i = 0; i < holders_.size(); ++i) {
      for (size_t j = i + 1; j < holders_.size(); ++j) EXPECT_NE(holders_[i].token, holders_[j].token);
    }
  }

  void WritePrincipals(const std::vector<Holder>& holders) {
    std::string entries;
    for (const Holder& holder : holders) {
      if (!entries.empty()) entries += ",\n";
      entries += absl::StrCat("  {\"name\": \"", holder.name, "\", \"roles\": ", holder.roles,
                              ", \"scopes\": ", holder.scopes, ", \"token_sha256\": [\"",
                              holder.token_sha256, "\"]");
      if (!holder.nip.empty()) entries += absl::StrCat(", \"nip\": \"", holder.nip, "\"");
      if (!holder.certificate_cn.empty()) {
        entries += absl::StrCat(", \"certificate_common_names\": [\"", holder.certificate_cn, "\"]");
      }
      entries += "}";
    }
    WriteFile(Path("principals.json"), "{\"principals\": [\n" + entries + "\n]}\n");
  }

  const Holder& Named(const std::string& name) const {
    for (const Holder& holder : holders_) {
      if (holder.name == name) return holder;
    }
    ADD_FAILURE() << "no holder " << name;
    return holders_.front();
  }

  // ledgerctl over TLS with `name`'s token file.
  Result As(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> all = {"--tls-ca=" + Path("ca.pem"), "--token-file=" + Path(name + ".token")};
    all.insert(all.end(), args.begin(), args.end());
    return Run(all);
  }

  // ledgerctl with extra environment variables.
  Result RunWithEnvironment(const std::vector<std::string>& environment,
                            const std::vector<std::string>& args) {
    std::string out = Path("env" + std::to_string(++env_runs_) + ".out");
    std::string err = Path("env" + std::to_string(env_runs_) + ".err");
    Child child(Argv(args, server_address_), "", out, err, environment);
    int code = child.Wait();
    return {code, ReadFile(out), ReadFile(err)};
  }

  std::string ServerLog() const { return ReadFile(Path("data.err")); }

  // Sends SIGHUP and waits until ledgerd's log shows `marker` once more.
  void Hangup(const std::string& marker) {
    const int before = CountOf(ServerLog(), marker);
    server_->Signal(SIGHUP);
    auto deadline = std::chrono::steady_clock::now() + ledgerctl_e2e::kWaitLimit;
    while (CountOf(ServerLog(), marker) <= before) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "ledgerd logged no '" << marker << "' after SIGHUP:\n" << ServerLog();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::vector<Json> DeniedLog() const { return JsonLines(ReadFile(Path("denied.jsonl"))); }

  std::vector<Holder> holders_;
  int env_runs_ = 0;
};

TEST_F(AccessE2eTest, TokensOverTlsAreAuthorizedByRoleAndScope) {
  // Allowed: every role reads its unit's report; the tree head is open to all.
  for (const char* name : {"operator.klakah", "inspektorat.lumajang", "camat.klakah", "admin.kabupaten"}) {
    Result report = As(name, {"report", kUnit, "2024", "2"});
    EXPECT_EQ(report.code, 0) << name << ": " << report.err;
    EXPECT_THAT(report.out, HasSubstr("Klakah")) << name;
  }
  Result head = As("sekcam.klakah", {"head"});
  EXPECT_EQ(head.code, 0) << head.err;
  // The inspector audits in the kabupaten.
  Result history = As("inspektorat.lumajang", {"history", kUnit, "--indicator", "IKU-1"});
  EXPECT_EQ(history.code, 0) << history.err;
  EXPECT_FALSE(history.out.empty());

  // Refused: the operator has no audit role; the inspector's scope ends at
  // 35.08; nobody but an admin with "*" appends raw events.
  Result audit = As("operator.klakah", {"history", kUnit});
  EXPECT_EQ(audit.code, 1) << audit.out;
  EXPECT_THAT(audit.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(audit.err, HasSubstr("operator.klakah"));
  Result outside = As("inspektorat.lumajang", {"report", kOtherUnit, "2024", "2"});
  EXPECT_EQ(outside.code, 1) << outside.out;
  EXPECT_THAT(outside.err, HasSubstr("PERMISSION_DENIED"));
  Result raw = As("operator.klakah", {"append", "notes", "--type", "NoteTaken", "--json", "{}"});
  EXPECT_EQ(raw.code, 1) << raw.out;
  EXPECT_THAT(raw.err, HasSubstr("PERMISSION_DENIED"));
  // Nothing was written by the refused append.
  Result log = As("admin.kabupaten", {"log", "--from", "1", "--all-pages", "--json"});
  ASSERT_EQ(log.code, 0) << log.err;
  EXPECT_THAT(log.out, Not(HasSubstr("NoteTaken")));

  // No token, an unknown token: UNAUTHENTICATED (exit 1).
  Result anonymous = Run({"--tls-ca=" + Path("ca.pem"), "head"});
  EXPECT_EQ(anonymous.code, 1) << anonymous.out;
  EXPECT_THAT(anonymous.err, HasSubstr("UNAUTHENTICATED"));
  WriteFile(Path("stranger.token"), "not-a-token-anyone-holds\n");
  Result stranger = As("stranger", {"head"});
  EXPECT_EQ(stranger.code, 1) << stranger.out;
  EXPECT_THAT(stranger.err, HasSubstr("UNAUTHENTICATED"));

  // Plaintext against the TLS server: no connection, exit 3.
  Result plaintext = Run({"--timeout-ms=3000", "head"});
  EXPECT_EQ(plaintext.code, 3) << plaintext.out << plaintext.err;

  // A token is never sent in clear: ledgerctl refuses before connecting.
  Result clear = Run({"--token-file=" + Path("operator.klakah.token"), "head"});
  EXPECT_EQ(clear.code, 2) << clear.err;
  EXPECT_THAT(clear.err, HasSubstr("--tls-ca"));
}

TEST_F(AccessE2eTest, ClientCertificateIdentifiesThePrincipal) {
  const std::vector<std::string> mtls = {"--tls-ca=" + Path("ca.pem"), "--tls-cert=" + Path("client.pem"),
                                         "--tls-key=" + Path("client.key")};
  auto with_certificate = [&](std::vector<std::string> args) {
    std::vector<std::string> all = mtls;
    all.insert(all.end(), args.begin(), args.end());
    return Run(all);
  };
  Result history = with_certificate({"history", kUnit, "--indicator", "IKU-1"});
  EXPECT_EQ(history.code, 0) << history.err;
  // The certificate's principal is the inspector of 35.08, nothing more.
  Result outside = with_certificate({"report", kOtherUnit, "2024", "2"});
  EXPECT_EQ(outside.code, 1);
  EXPECT_THAT(outside.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(outside.err, HasSubstr("inspektorat.lumajang"));
  Result raw = with_certificate({"append", "notes", "--type", "NoteTaken", "--json", "{}"});
  EXPECT_EQ(raw.code, 1);
  EXPECT_THAT(raw.err, HasSubstr("PERMISSION_DENIED"));
  // A certificate without its key is a usage error, nothing is sent.
  Result half = Run({"--tls-ca=" + Path("ca.pem"), "--tls-cert=" + Path("client.pem"), "head"});
  EXPECT_EQ(half.code, 2) << half.err;
}

TEST_F(AccessE2eTest, EnvironmentAndServerNameOverride) {
  Result by_environment = RunWithEnvironment(
      {"LEDGER_TLS_CA=" + Path("ca.pem"), "LEDGER_TOKEN=" + Named("operator.klakah").token},
      {"report", kUnit, "2024", "2"});
  EXPECT_EQ(by_environment.code, 0) << by_environment.err;
  Result by_token_file = RunWithEnvironment(
      {"LEDGER_TLS_CA=" + Path("ca.pem"), "LEDGER_TOKEN_FILE=" + Path("operator.klakah.token")},
      {"history", kUnit});
  EXPECT_EQ(by_token_file.code, 1);
  EXPECT_THAT(by_token_file.err, HasSubstr("PERMISSION_DENIED"));
  // The certificate names localhost and 127.0.0.1; another name fails the
  // handshake, and --tls-server-name=localhost passes it.
  Result wrong_name = As("admin.kabupaten", {"--timeout-ms=3000", "--tls-server-name=ledger.example", "head"});
  EXPECT_EQ(wrong_name.code, 3) << wrong_name.err;
  Result right_name = As("admin.kabupaten", {"--tls-server-name=localhost", "head"});
  EXPECT_EQ(right_name.code, 0) << right_name.err;
}

TEST_F(AccessE2eTest, SighupReloadsPrincipalsAndRefusesAnInvalidFile) {
  ASSERT_EQ(As("operator.klakah", {"report", kUnit, "2024", "2"}).code, 0);

  // The operator leaves: its token is refused once ledgerd re-reads the file.
  std::vector<Holder> remaining;
  for (const Holder& holder : holders_) {
    if (holder.name != "operator.klakah") remaining.push_back(holder);
  }
  WritePrincipals(remaining);
  Hangup("principals reloaded");
  Result gone = As("operator.klakah", {"report", kUnit, "2024", "2"});
  EXPECT_EQ(gone.code, 1) << gone.out;
  EXPECT_THAT(gone.err, HasSubstr("UNAUTHENTICATED"));
  Result still = As("camat.klakah", {"report", kUnit, "2024", "2"});
  EXPECT_EQ(still.code, 0) << still.err;
  Result certificate = Run({"--tls-ca=" + Path("ca.pem"), "--tls-cert=" + Path("client.pem"),
                            "--tls-key=" + Path("client.key"), "history", kUnit});
  EXPECT_EQ(certificate.code, 0) << certificate.err;

  // An invalid file (an unknown role) is refused, logged, and the principals
  // in force stay: camat still works, the operator is still refused.
  WriteFile(Path("principals.json"),
            R"({"principals": [{"name": "root.kabupaten", "roles": ["root"], "scopes": ["*"]}]})");
  Hangup("principals NOT reloaded");
  EXPECT_THAT(ServerLog(), HasSubstr("root"));
  Result kept = As("camat.klakah", {"report", kUnit, "2024", "2"});
  EXPECT_EQ(kept.code, 0) << kept.err;
  Result admin = As("admin.kabupaten", {"head"});
  EXPECT_EQ(admin.code, 0) << admin.err;
  Result refused = As("operator.klakah", {"head"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("UNAUTHENTICATED"));

  // Not JSON at all: refused the same way.
  WriteFile(Path("principals.json"), "{\"principals\": [");
  Hangup("principals NOT reloaded");
  Result after_garbage = As("admin.kabupaten", {"head"});
  EXPECT_EQ(after_garbage.code, 0) << after_garbage.err;
}

TEST_F(AccessE2eTest, DeniedLogHoldsOneJsonLinePerRefusal) {
  ASSERT_EQ(As("operator.klakah", {"history", kUnit}).code, 1);
  ASSERT_EQ(Run({"--tls-ca=" + Path("ca.pem"), "head"}).code, 1);
  ASSERT_EQ(As("inspektorat.lumajang", {"report", kOtherUnit, "2024", "2"}).code, 1);
  ASSERT_EQ(As("admin.kabupaten", {"head"}).code, 0);

  std::vector<Json> lines;
  auto deadline = std::chrono::steady_clock::now() + ledgerctl_e2e::kWaitLimit;
  while ((lines = DeniedLog()).size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(lines.size(), 3u) << ReadFile(Path("denied.jsonl"));
  // Fields of ledger.v1.DeniedAttempt in the protobuf JSON mapping (either
  // spelling of the field names).
  auto field = [](const Json& line, const std::string& snake, const std::string& camel) {
    if (line.fields().contains(snake)) return line.fields().at(snake);
    if (line.fields().contains(camel)) return line.fields().at(camel);
    return google::protobuf::Value();
  };
  const Json& audit = lines[0];
  EXPECT_EQ(Str(audit, "principal"), "operator.klakah");
  EXPECT_EQ(Str(audit, "code"), "PERMISSION_DENIED");
  EXPECT_THAT(Str(audit, "method"), HasSubstr("AuditService"));
  EXPECT_EQ(Str(audit, "unit"), kUnit);
  EXPECT_THAT(Str(audit, "peer"), HasSubstr("127.0.0.1"));
  EXPECT_FALSE(Str(audit, "reason").empty());
  // int64 fields are strings in the protobuf JSON mapping.
  const google::protobuf::Value at = field(audit, "at_micros", "atMicros");
  EXPECT_TRUE(at.has_string_value() || at.has_number_value()) << "no at_micros";

  const Json& anonymous = lines[1];
  EXPECT_FALSE(anonymous.fields().contains("principal") && !Str(anonymous, "principal").empty())
      << "an unauthenticated caller has no principal";
  EXPECT_EQ(Str(anonymous, "code"), "UNAUTHENTICATED");
  EXPECT_THAT(Str(anonymous, "method"), HasSubstr("LedgerService"));

  const Json& outside = lines[2];
  EXPECT_EQ(Str(outside, "principal"), "inspektorat.lumajang");
  EXPECT_EQ(Str(outside, "code"), "PERMISSION_DENIED");
  EXPECT_EQ(Str(outside, "unit"), kOtherUnit);
  // Sequence numbers count up (int64/uint64 are strings in protobuf JSON).
  auto sequence = [&](const Json& line) {
    google::protobuf::Value value = field(line, "sequence", "sequence");
    return value.has_string_value() ? std::stod(value.string_value()) : value.number_value();
  };
  EXPECT_LT(sequence(lines[0]), sequence(lines[1]));
  EXPECT_LT(sequence(lines[1]), sequence(lines[2]));
  // The tokens themselves are never logged.
  const std::string text = ReadFile(Path("denied.jsonl"));
  for (const Holder& holder : holders_) EXPECT_THAT(text, Not(HasSubstr(holder.token)));
}

// ledgerd's start-up check, without the fixture's server.
class ListenCheckTest : public ledgerctl_e2e::LedgerctlTest {
 protected:
  void SetUp() override { MakeTempDir(); }
};

TEST_F(ListenCheckTest, NonLoopbackWithoutTlsNeedsInsecure) {
  {
    Child refused({LEDGERD_PATH, "--data_dir=" + Path("refused"), "--listen=0.0.0.0:0",
                   "--sign_heads=false"},
                  "", Path("refused.out"), Path("refused.err"));
    EXPECT_NE(refused.Wait(), 0);
    EXPECT_THAT(ReadFile(Path("refused.err")), HasSubstr("--tls_cert"));
    EXPECT_THAT(ReadFile(Path("refused.err")), HasSubstr("--insecure"));
  }
  // --insecure: it starts, serves plaintext, and warns.
  const std::string port_file = Path("insecure.port");
  server_ = std::make_unique<Child>(
      std::vector<std::string>{LEDGERD_PATH, "--data_dir=" + Path("insecure"), "--listen=0.0.0.0:0",
                               "--insecure", "--sign_heads=false", "--port_file=" + port_file},
      "", Path("insecure.out"), Path("data.err"));
  auto deadline = std::chrono::steady_clock::now() + ledgerctl_e2e::kWaitLimit;
  while (!std::filesystem::exists(port_file) || ReadFile(port_file).empty()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadFile(Path("data.err"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string address = "127.0.0.1:" + std::to_string(std::stoi(ReadFile(port_file)));
  Result head = RunAt(address, {"head"});
  EXPECT_EQ(head.code, 0) << head.err;
  EXPECT_THAT(ReadFile(Path("data.err")), HasSubstr("TLS is OFF"));
  // TearDown stops it with SIGTERM and expects exit 0.
}

}  // namespace
