// The authorization matrix, through real TLS connections to a LedgerServer
// with authentication on: every role, with a scope covering one kabupaten
// ("35.08") and with scope "*", by bearer token and by client certificate,
// against every RPC of every service, for a unit inside and one outside the
// kabupaten; then every RPC with no credential, a certificate from another
// CA, an expired and a not-yet-valid certificate, an unknown token, a revoked
// token, a malformed authorization header and a plaintext connection; and
// requests whose body names another actor.
//
// Expectations are written here from docs/ACCESS.md, not computed by the
// policy code under test. A call that should be refused counts as an
// unauthorized success unless it ends UNAUTHENTICATED or PERMISSION_DENIED
// (or UNAVAILABLE where the TLS handshake itself refuses the peer). An
// allowed call must get past access control (any other status: validation,
// NOT_FOUND, ... are the handler's answer). The test prints
// "unauthorized successes: 0 of M" and fails on any.
#include <atomic>
#include <fstream>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "ledger/auth/principals.h"
#include "ledger/limits.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "ledger/util/strings.h"
#include "ledger/v1/admin.grpc.pb.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "sakip/v1/report_service.grpc.pb.h"
#include "services/server.h"
#include "tests/support/test_pki.h"

namespace ledger {
namespace {

namespace reference = ::ledger::projections::testing;
using testing::KeyAndCertificate;

constexpr char kInside[] = "35.08.19";   // Kecamatan Klakah, Kabupaten Lumajang
constexpr char kOutside[] = "35.09.01";  // a kecamatan of another kabupaten
constexpr char kRegency[] = "35.08";
constexpr char kOtherNip[] = "197001011995031999";

enum class Reach { kInScope, kEveryUnit, kAnyScope, kNobody };

struct Credential {
  std::string label;
  std::shared_ptr<grpc::Channel> channel;
  std::string authorization;  // metadata value, "" for none
};

struct Principal {
  std::string name;
  auth::Role role;
  bool every_unit;
  std::string nip;
  std::string token;
  KeyAndCertificate certificate;
};

// One RPC (or one kind of RecordEvents request), the roles allowed, how its
// unit is checked, and how to call it naming `unit` as `principal`.
struct Row {
  std::string method;  // "/package.Service/Method"
  std::string label;
  std::set<auth::Role> roles;
  Reach reach;
  std::function<grpc::Status(grpc::ClientContext*, const std::shared_ptr<grpc::Channel>&,
                             const std::string& unit, const Principal&)>
      call;
  // The method answers a refusal NOT_FOUND, as for an id never recorded, so
  // as not to tell that the id exists (GetEvent; docs/ACCESS.md).
  bool refuses_as_not_found = false;
};

std::string Nip(int serial) { return absl::StrFormat("19800101200501%d%03d", 1, serial); }

class AuthorizationMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { suite_ = new Suite(); }
  static void TearDownTestSuite() {
    delete suite_;
    suite_ = nullptr;
  }

  struct Suite {
    Suite();
    ~Suite() {
      server->Shutdown(absl::Seconds(2));
      server.reset();
      log->Close();
    }
    void WritePrincipals(bool include_revoked);
    std::shared_ptr<grpc::Channel> Channel(const KeyAndCertificate& client = {}) {
      // 127.0.0.1, not "localhost": a fresh machine may have no resolver for
      // it; the server certificate's name is checked as "localhost".
      grpc::ChannelArguments arguments;
      arguments.SetSslTargetNameOverride("localhost");
      return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server->port()),
                                       testing::ClientTlsCredentials(ca.certificate, client), arguments);
    }

    testing::TempDir dir;
    KeyAndCertificate ca = testing::MakeCertificateAuthority("sakip test CA");
    KeyAndCertificate rogue_ca = testing::MakeCertificateAuthority("rogue CA");
    std::vector<Principal> principals;
    std::string revoked_token;
    std::string dual_token = *auth::NewBearerToken();  // operator and supervisor
    std::string principals_path;
    std::unique_ptr<ClosableEventLog> log;
    std::unique_ptr<services::LedgerServer> server;
    std::string inside_event_id, outside_event_id;
  };

  static std::vector<Row> Rows();
  static grpc::Status Run(const Row& row, const Credential& credential, const std::string& unit,
                          const Principal& principal) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!credential.authorization.empty()) context.AddMetadata("authorization", credential.authorization);
    return row.call(&context, credential.channel, unit, principal);
  }
  // For a row whose method hides existence, NOT_FOUND of an id that exists.
  static bool IsRefusal(const Row& row, const grpc::Status& status) {
    return (row.refuses_as_not_found && status.error_code() == grpc::StatusCode::NOT_FOUND) ||
           IsRefusal(status, /*handshake_may_refuse=*/true);
  }
  static bool IsRefusal(const grpc::Status& status, bool handshake_may_refuse) {
    return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
           status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           (handshake_may_refuse && status.error_code() == grpc::StatusCode::UNAVAILABLE);
  }

  static Suite* suite_;
};

AuthorizationMatrixTest::Suite* AuthorizationMatrixTest::suite_ = nullptr;

AuthorizationMatrixTest::Suite::Suite() {
  const auth::Role roles[] = {auth::Role::kOperator,  auth::Role::kSigner, auth::Role::kSupervisor,
                              auth::Role::kInspector, auth::Role::kSystem, auth::Role::kAdmin};
  int serial = 1;
  for (bool every_unit : {false, true}) {
    for (auth::Role role : roles) {
      Principal principal;
      principal.name = absl::StrCat(Absl(auth::RoleName(role)), every_unit ? ".national" : ".lumajang");
      principal.role = role;
      principal.every_unit = every_unit;
      principal.nip = Nip(serial++);
      principal.token = *auth::NewBearerToken();
      principal.certificate = testing::IssueCertificate(ca, principal.name + ".cert", false);
      principals.push_back(std::move(principal));
    }
  }
  revoked_token = *auth::NewBearerToken();
  principals_path = dir.path() + "/principals.json";
  WritePrincipals(/*include_revoked=*/true);

  RocksEventLogOptions log_options;
  log_options.data_dir = dir.Sub("ledger");
  log = *OpenRocksEventLog(log_options);
  SakipLedger seed(log.get());
  for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
    auto recorded = seed.Record("seed", {ProposedDomainEvent{event.event_id, event.reason, "", "", event.event}});
    if (!recorded.ok()) ADD_FAILURE() << recorded.status();
    if (inside_event_id.empty()) inside_event_id = event.event_id;
    if (event.event.has_agreement_established()) {
      ProposedDomainEvent other{"outside-agreement", "", "", "", event.event};
      other.event.set_unit_code(kOutside);
      if (!seed.Record("seed", {other}).ok()) ADD_FAILURE() << "outside agreement";
      outside_event_id = other.event_id;
    }
  }

  services::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  KeyAndCertificate server_certificate = testing::IssueCertificate(ca, "localhost", true);
  options.tls.cert_chain = server_certificate.certificate;
  options.tls.private_key = server_certificate.private_key;
  options.tls.client_ca = ca.certificate;
  options.access.authentication = true;
  options.access.principals_path = principals_path;
  options.access.denied_log_path = dir.path() + "/denied.jsonl";
  options.service.subscription_poll = absl::Milliseconds(50);
  options.admin.backup_dir = dir.Sub("backups");
  options.admin.staging_dir = dir.Sub("ledger.backup-staging");
  auto started = services::LedgerServer::Start(log.get(), options);
  if (!started.ok()) {
    ADD_FAILURE() << started.status();
    std::abort();
  }
  server = *std::move(started);
}

void AuthorizationMatrixTest::Suite::WritePrincipals(bool include_revoked) {
  std::string entries;
  for (const Principal& principal : principals) {
    absl::StrAppend(&entries, entries.empty() ? "" : ",\n", "{\"name\": \"", principal.name,
                    "\", \"nip\": \"", principal.nip, "\", \"roles\": [\"", Absl(auth::RoleName(principal.role)),
                    "\"], \"scopes\": [\"", principal.every_unit ? "*" : kRegency,
                    "\"], \"token_sha256\": [\"", auth::TokenSha256Hex(principal.token),
                    "\"], \"certificate_common_names\": [\"", principal.name, ".cert\"]}");
  }
  absl::StrAppend(&entries, ",\n{\"name\": \"dual.lumajang\", \"nip\": \"", Nip(99),
                  "\", \"roles\": [\"operator\", \"supervisor\"], \"scopes\": [\"35.08\"], ",
                  "\"token_sha256\": [\"", auth::TokenSha256Hex(dual_token), "\"]}");
  if (include_revoked) {
    absl::StrAppend(&entries, ",\n{\"name\": \"leaver\", \"roles\": [\"inspector\"], \"scopes\": [\"*\"], ",
                    "\"token_sha256\": [\"", auth::TokenSha256Hex(revoked_token), "\"]}");
  }
  std::ofstream(principals_path, std::ios::trunc) << "{\"principals\": [" << entries << "]}";
}

// A SAKIP event of `unit`, 2024.
sakip::v1::SakipEvent Event(const std::string& unit) {
  sakip::v1::SakipEvent event;
  event.set_unit_code(unit);
  event.set_fiscal_year(reference::kKlakahFiscalYear);
  return event;
}

std::string UniqueId(const std::string& prefix) {
  static std::atomic<int> next{1};
  return absl::StrCat(prefix, "-", next++);
}

using Channel = std::shared_ptr<grpc::Channel>;

grpc::Status Record(grpc::ClientContext* context, const Channel& channel, sakip::v1::SakipEvent event) {
  sakip::v1::RecordEventsRequest request;
  sakip::v1::ProposedSakipEvent* proposed = request.add_events();
  proposed->set_event_id(UniqueId("matrix"));
  proposed->set_reason("authorization matrix");
  *proposed->mutable_event() = std::move(event);
  sakip::v1::RecordEventsResponse response;
  return sakip::v1::ReportService::NewStub(channel)->RecordEvents(context, request, &response);
}

// Reads one message of a server stream: OK if one arrived (the call got
// through; it is then cancelled), else the stream's status.
template <typename Response, typename Reader>
grpc::Status ReadOne(grpc::ClientContext* context, std::unique_ptr<Reader> reader) {
  Response response;
  if (reader->Read(&response)) {
    context->TryCancel();
    (void)reader->Finish();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

sakip::v1::SakipEvent Submission(const std::string& unit, const std::string& nip) {
  sakip::v1::SakipEvent event;
  for (const projections::DomainEvent& seeded : reference::KlakahTw2Events()) {
    if (seeded.event.has_report_submitted()) event = seeded.event;
  }
  event.set_unit_code(unit);
  event.mutable_report_submitted()->set_report_id(UniqueId("LK-MATRIX"));
  event.mutable_report_submitted()->set_signer_nip(nip);
  return event;
}

sakip::v1::SakipEvent Disposition(const std::string& unit, const std::string& nip) {
  sakip::v1::SakipEvent event = Event(unit);
  auto* disposed = event.mutable_report_disposed();
  disposed->set_report_id(reference::kKlakahReportId);
  disposed->add_options(sakip::v1::LAPORAN_SUDAH_BAIK);
  disposed->set_supervisor_name("Atasan");
  disposed->set_supervisor_nip(nip);
  return event;
}

std::vector<Row> AuthorizationMatrixTest::Rows() {
  using R = auth::Role;
  const std::set<R> every = {R::kOperator, R::kSigner, R::kSupervisor, R::kInspector, R::kSystem, R::kAdmin};
  const std::set<R> readers = {R::kInspector, R::kSystem};
  const std::set<R> log_readers = {R::kInspector, R::kSystem, R::kAdmin};
  const std::set<R> inspector = {R::kInspector};
  std::vector<Row> rows;
  auto ledger = [](const Channel& channel) { return v1::LedgerService::NewStub(channel); };
  auto report = [](const Channel& channel) { return sakip::v1::ReportService::NewStub(channel); };
  auto audit = [](const Channel& channel) { return sakip::v1::AuditService::NewStub(channel); };

  // ledger.v1.LedgerService
  rows.push_back({"/ledger.v1.LedgerService/Append", "raw append", {R::kAdmin}, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::AppendRequest request;
                    request.set_stream_id("integration/matrix");
                    request.mutable_expected_version()->mutable_any();
                    v1::ProposedEvent* event = request.add_events();
                    event->set_event_id(UniqueId("raw"));
                    event->set_event_type("Noted");
                    event->set_payload("x");
                    v1::AppendResponse response;
                    return ledger(channel)->Append(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/ReadStream", "unit-year stream", readers, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    v1::ReadStreamRequest request;
                    request.set_stream_id(absl::StrCat(unit, "/2024"));
                    v1::ReadResponse response;
                    return ledger(channel)->ReadStream(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/ReadStream", "other stream", log_readers, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::ReadStreamRequest request;
                    request.set_stream_id("$report-seals");
                    v1::ReadResponse response;
                    return ledger(channel)->ReadStream(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/ReadStream", "$tree-heads", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::ReadStreamRequest request;
                    request.set_stream_id("$tree-heads");
                    v1::ReadResponse response;
                    return ledger(channel)->ReadStream(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/ReadAll", "", log_readers, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::ReadAllRequest request;
                    v1::ReadResponse response;
                    return ledger(channel)->ReadAll(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/GetEvent", "", readers, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    v1::GetEventRequest request;
                    request.set_event_id(unit == kInside ? suite_->inside_event_id : suite_->outside_event_id);
                    v1::GetEventResponse response;
                    return ledger(channel)->GetEvent(context, request, &response);
                  },
                  /*refuses_as_not_found=*/true});
  rows.push_back({"/ledger.v1.LedgerService/GetPositionAt", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::GetPositionAtRequest request;
                    v1::GetPositionAtResponse response;
                    return ledger(channel)->GetPositionAt(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/GetHead", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::GetHeadRequest request;
                    v1::GetHeadResponse response;
                    return ledger(channel)->GetHead(context, request, &response);
                  }});
  rows.push_back({"/ledger.v1.LedgerService/Subscribe", "", log_readers, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::SubscribeRequest request;
                    return ReadOne<v1::SubscribeResponse>(context, ledger(channel)->Subscribe(context, request));
                  }});
  rows.push_back({"/ledger.v1.LedgerService/Verify", "", {R::kInspector, R::kAdmin}, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::VerifyRequest request;
                    request.set_to_position(10);
                    v1::VerifyResponse response;
                    return ledger(channel)->Verify(context, request, &response);
                  }});

  // sakip.v1.ReportService: one row per kind of event.
  rows.push_back({"/sakip.v1.ReportService/RecordEvents", "plan (village)", {R::kAdmin}, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::SakipEvent event = Event(unit);
                    auto* village = event.mutable_village_registered();
                    village->set_village_code(absl::StrCat(unit, ".2099"));
                    village->set_name("Desa Uji");
                    village->set_kind(sakip::v1::DESA);
                    return Record(context, channel, std::move(event));
                  }});
  rows.push_back({"/sakip.v1.ReportService/RecordEvents", "operation (realization)", {R::kOperator},
                  Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::SakipEvent event = Event(unit);
                    auto* realization = event.mutable_realization_recorded();
                    realization->set_indicator_id("IKU-2");
                    realization->set_quarter(4);
                    realization->set_value("1");
                    return Record(context, channel, std::move(event));
                  }});
  rows.push_back({"/sakip.v1.ReportService/RecordEvents", "submission", {R::kSigner}, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal& who) {
                    return Record(context, channel, Submission(unit, who.nip));
                  }});
  rows.push_back({"/sakip.v1.ReportService/RecordEvents", "disposition", {R::kSupervisor}, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal& who) {
                    return Record(context, channel, Disposition(unit, who.nip));
                  }});
  rows.push_back({"/sakip.v1.ReportService/RecordEvents", "submission naming another signer", {},
                  Reach::kNobody,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    return Record(context, channel, Submission(unit, kOtherNip));
                  }});
  rows.push_back({"/sakip.v1.ReportService/RecordEvents", "disposition naming another supervisor", {},
                  Reach::kNobody,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    return Record(context, channel, Disposition(unit, kOtherNip));
                  }});
  rows.push_back({"/sakip.v1.ReportService/GetReport", "", every, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::GetReportRequest request;
                    request.set_unit_code(unit);
                    request.set_fiscal_year(2024);
                    request.set_quarter(2);
                    sakip::v1::GetReportResponse response;
                    return report(channel)->GetReport(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.ReportService/Reconcile", "", every, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::ReconcileRequest request;
                    request.set_unit_code(unit);
                    request.set_fiscal_year(2024);
                    request.set_report_id(reference::kKlakahReportId);
                    sakip::v1::ReconcileResponse response;
                    return report(channel)->Reconcile(context, request, &response);
                  }});

  // sakip.v1.AuditService
  rows.push_back({"/sakip.v1.AuditService/GetHistory", "", inspector, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::GetHistoryRequest request;
                    request.set_unit_code(unit);
                    request.set_page_size(5);
                    sakip::v1::GetHistoryResponse response;
                    return audit(channel)->GetHistory(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/ExplainFigure", "", inspector, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::ExplainFigureRequest request;
                    request.set_unit_code(unit);
                    request.set_fiscal_year(2024);
                    request.set_quarter(2);
                    request.set_key("indicator/IKU-1/q1/capaian");
                    sakip::v1::ExplainFigureResponse response;
                    return audit(channel)->ExplainFigure(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/DiffReport", "", inspector, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::DiffReportRequest request;
                    request.set_unit_code(unit);
                    request.set_fiscal_year(2024);
                    request.set_quarter(2);
                    request.mutable_from()->set_position(5);
                    sakip::v1::DiffReportResponse response;
                    return audit(channel)->DiffReport(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/ListLateEntries", "", inspector, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::ListLateEntriesRequest request;
                    request.set_unit_code(unit);
                    sakip::v1::ListLateEntriesResponse response;
                    return audit(channel)->ListLateEntries(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/Replay", "", readers, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::ReplayRequest request;
                    request.add_unit_prefixes(unit);
                    return ReadOne<sakip::v1::ReplayResponse>(context, audit(channel)->Replay(context, request));
                  }});
  rows.push_back({"/sakip.v1.AuditService/Replay", "every unit", readers, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    sakip::v1::ReplayRequest request;
                    return ReadOne<sakip::v1::ReplayResponse>(context, audit(channel)->Replay(context, request));
                  }});
  rows.push_back({"/sakip.v1.AuditService/GetTreeRoot", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    sakip::v1::GetTreeRootRequest request;
                    sakip::v1::GetTreeRootResponse response;
                    return audit(channel)->GetTreeRoot(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/GetInclusionProof", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    sakip::v1::GetInclusionProofRequest request;
                    request.set_position(1);
                    sakip::v1::GetInclusionProofResponse response;
                    return audit(channel)->GetInclusionProof(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/GetConsistencyProof", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    sakip::v1::GetConsistencyProofRequest request;
                    request.set_old_size(1);
                    sakip::v1::GetConsistencyProofResponse response;
                    return audit(channel)->GetConsistencyProof(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/GetSignedTreeHead", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    sakip::v1::GetSignedTreeHeadRequest request;
                    sakip::v1::GetSignedTreeHeadResponse response;
                    return audit(channel)->GetSignedTreeHead(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/GetPublicKey", "", every, Reach::kAnyScope,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    sakip::v1::GetPublicKeyRequest request;
                    sakip::v1::GetPublicKeyResponse response;
                    return audit(channel)->GetPublicKey(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/GetAuditorBundle", "", inspector, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::GetAuditorBundleRequest request;
                    request.set_unit_code(unit);
                    request.set_fiscal_year(2024);
                    request.set_report_id(reference::kKlakahReportId);
                    sakip::v1::GetAuditorBundleResponse response;
                    return audit(channel)->GetAuditorBundle(context, request, &response);
                  }});
  rows.push_back({"/sakip.v1.AuditService/ListDeniedAttempts", "", inspector, Reach::kInScope,
                  [=](auto* context, const Channel& channel, const std::string& unit, const Principal&) {
                    sakip::v1::ListDeniedAttemptsRequest request;
                    request.set_unit_code(unit);
                    sakip::v1::ListDeniedAttemptsResponse response;
                    return audit(channel)->ListDeniedAttempts(context, request, &response);
                  }});

  // ledger.v1.AdminService: backups of the whole ledger.
  auto admin = [](const Channel& channel) { return v1::AdminService::NewStub(channel); };
  rows.push_back({"/ledger.v1.AdminService/CreateBackup", "", {R::kAdmin}, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::CreateBackupResponse response;
                    return admin(channel)->CreateBackup(context, {}, &response);
                  }});
  rows.push_back({"/ledger.v1.AdminService/ListBackups", "", {R::kAdmin}, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::ListBackupsResponse response;
                    return admin(channel)->ListBackups(context, {}, &response);
                  }});
  rows.push_back({"/ledger.v1.AdminService/VerifyBackup", "", {R::kAdmin}, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::VerifyBackupResponse response;
                    return admin(channel)->VerifyBackup(context, {}, &response);
                  }});
  rows.push_back({"/ledger.v1.AdminService/PruneBackups", "dry run", {R::kAdmin}, Reach::kEveryUnit,
                  [=](auto* context, const Channel& channel, const std::string&, const Principal&) {
                    v1::PruneBackupsRequest request;
                    request.set_keep_newest(1);
                    request.set_dry_run(true);  // the matrix deletes nothing
                    v1::PruneBackupsResponse response;
                    return admin(channel)->PruneBackups(context, request, &response);
                  }});
  return rows;
}

bool Expected(const Row& row, const Principal& principal, bool unit_inside) {
  if (row.reach == Reach::kNobody || row.roles.count(principal.role) == 0) return false;
  switch (row.reach) {
    case Reach::kAnyScope: return true;
    case Reach::kEveryUnit: return principal.every_unit;
    case Reach::kInScope: return principal.every_unit || unit_inside;
    case Reach::kNobody: break;
  }
  return false;
}

TEST_F(AuthorizationMatrixTest, EveryServiceMethodHasARow) {
  std::set<std::string> covered;
  for (const Row& row : Rows()) covered.insert(row.method);
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int methods = 0;
  for (const char* service :
       {"ledger.v1.LedgerService", "sakip.v1.ReportService", "sakip.v1.AuditService", "ledger.v1.AdminService"}) {
    const google::protobuf::ServiceDescriptor* descriptor = pool->FindServiceByName(service);
    ASSERT_NE(descriptor, nullptr) << service;
    for (int i = 0; i < descriptor->method_count(); ++i) {
      const std::string method = absl::StrCat("/", service, "/", descriptor->method(i)->name());
      EXPECT_TRUE(covered.count(method)) << method << " has no row in the authorization matrix";
      ++methods;
    }
  }
  EXPECT_EQ(methods, 8 + 3 + 12 + 4);
}

TEST_F(AuthorizationMatrixTest, EveryRoleAgainstEveryRpcInsideAndOutsideItsScope) {
  int unauthorized_attempts = 0, unauthorized_successes = 0;
  int authorized_attempts = 0, authorized_refused = 0;
  const std::vector<Row> rows = Rows();
  for (const Principal& principal : suite_->principals) {
    const Credential credentials[] = {
        {"token", suite_->Channel(), absl::StrCat("Bearer ", principal.token)},
        {"certificate", suite_->Channel(principal.certificate), ""},
    };
    for (const Credential& credential : credentials) {
      for (const Row& row : rows) {
        for (bool inside : {true, false}) {
          if (!inside && (row.reach == Reach::kAnyScope || row.reach == Reach::kEveryUnit)) continue;
          grpc::Status status = Run(row, credential, inside ? kInside : kOutside, principal);
          const std::string what = absl::StrCat(principal.name, " by ", credential.label, ": ", row.method,
                                                " ", row.label, inside ? " inside" : " outside", " -> ",
                                                status.error_code(), " ", status.error_message());
          if (Expected(row, principal, inside)) {
            ++authorized_attempts;
            if (IsRefusal(row, status)) {
              ++authorized_refused;
              ADD_FAILURE() << "authorized call refused: " << what;
            }
          } else {
            ++unauthorized_attempts;
            if (!IsRefusal(row, status) || status.error_code() == grpc::StatusCode::UNAVAILABLE) {
              ++unauthorized_successes;
              ADD_FAILURE() << "unauthorized success: " << what;
            }
          }
        }
      }
    }
  }
  std::printf("role matrix: unauthorized successes: %d of %d; authorized calls refused: %d of %d\n",
              unauthorized_successes, unauthorized_attempts, authorized_refused, authorized_attempts);
  EXPECT_EQ(unauthorized_successes, 0);
  EXPECT_EQ(authorized_refused, 0);
  EXPECT_GT(unauthorized_attempts, 500);
}

TEST_F(AuthorizationMatrixTest, BadCredentialsAreRefusedOnEveryRpc) {
  // Revoke "leaver" by rewriting the file and reloading (SIGHUP in ledgerd).
  suite_->WritePrincipals(/*include_revoked=*/false);
  ASSERT_TRUE(suite_->server->ReloadPrincipals().ok());
  const Principal& inspector = suite_->principals[9];  // inspector.national
  ASSERT_EQ(inspector.name, "inspector.national");
  const testing::KeyAndCertificate rogue =
      testing::IssueCertificate(suite_->rogue_ca, inspector.name + ".cert", false);
  const testing::KeyAndCertificate expired =
      testing::IssueCertificate(suite_->ca, inspector.name + ".cert", false, -7200, -3600);
  const testing::KeyAndCertificate not_yet_valid =
      testing::IssueCertificate(suite_->ca, inspector.name + ".cert", false, 3600, 7200);
  const testing::KeyAndCertificate unknown_name =
      testing::IssueCertificate(suite_->ca, "nobody.cert", false);
  struct Bad {
    Credential credential;
    bool handshake_may_refuse;
  };
  const Bad bad[] = {
      {{"no credential", suite_->Channel(), ""}, false},
      {{"certificate from another CA", suite_->Channel(rogue), ""}, true},
      {{"expired certificate", suite_->Channel(expired), ""}, true},
      {{"certificate not yet valid", suite_->Channel(not_yet_valid), ""}, true},
      {{"certificate naming no principal", suite_->Channel(unknown_name), ""}, false},
      {{"unknown token", suite_->Channel(), absl::StrCat("Bearer ", *auth::NewBearerToken())}, false},
      {{"revoked token", suite_->Channel(), absl::StrCat("Bearer ", suite_->revoked_token)}, false},
      {{"malformed authorization", suite_->Channel(), inspector.token}, false},
      {{"token and another principal's certificate", suite_->Channel(suite_->principals[0].certificate),
        absl::StrCat("Bearer ", inspector.token)}, false},
      {{"plaintext connection",
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", suite_->server->port()),
                            grpc::InsecureChannelCredentials()),
        absl::StrCat("Bearer ", inspector.token)}, true},
  };
  int attempts = 0, successes = 0;
  for (const Bad& b : bad) {
    for (const Row& row : Rows()) {
      grpc::Status status = Run(row, b.credential, kInside, inspector);
      ++attempts;
      if (!IsRefusal(status, b.handshake_may_refuse)) {
        ++successes;
        ADD_FAILURE() << b.credential.label << ": " << row.method << " " << row.label << " -> "
                      << status.error_code() << " " << status.error_message();
      }
    }
  }
  // The server still serves a good credential after all that.
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", inspector.token));
  v1::GetHeadResponse head;
  ASSERT_TRUE(v1::LedgerService::NewStub(suite_->Channel())->GetHead(&context, {}, &head).ok());
  std::printf("bad credentials: unauthorized successes: %d of %d\n", successes, attempts);
  EXPECT_EQ(successes, 0);
}

TEST_F(AuthorizationMatrixTest, RefusalsAreRecordedForInspectorsInScope) {
  // An operator of Lumajang tries to dispose; the refusal names the unit.
  const Principal& operator_lumajang = suite_->principals[0];
  grpc::ClientContext refused;
  refused.AddMetadata("authorization", absl::StrCat("Bearer ", operator_lumajang.token));
  grpc::Status status = Record(&refused, suite_->Channel(), Disposition(kInside, operator_lumajang.nip));
  ASSERT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("it needs the role supervisor"));

  // An unauthenticated call, and one outside the kabupaten.
  grpc::ClientContext anonymous;
  v1::GetHeadResponse head;
  EXPECT_EQ(v1::LedgerService::NewStub(suite_->Channel())->GetHead(&anonymous, {}, &head).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext outside;
  outside.AddMetadata("authorization", absl::StrCat("Bearer ", operator_lumajang.token));
  EXPECT_EQ(Record(&outside, suite_->Channel(), Disposition(kOutside, operator_lumajang.nip)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  auto list = [&](const Principal& who, const std::string& unit) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", who.token));
    sakip::v1::ListDeniedAttemptsRequest request;
    request.set_unit_code(unit);
    request.set_max_count(1000);
    sakip::v1::ListDeniedAttemptsResponse response;
    grpc::Status listed = sakip::v1::AuditService::NewStub(suite_->Channel())
                              ->ListDeniedAttempts(&context, request, &response);
    EXPECT_TRUE(listed.ok()) << listed.error_message();
    return response;
  };
  const Principal& inspector_lumajang = suite_->principals[3];
  ASSERT_EQ(inspector_lumajang.name, "inspector.lumajang");
  sakip::v1::ListDeniedAttemptsResponse regency = list(inspector_lumajang, kRegency);
  ASSERT_FALSE(regency.attempts().empty());
  const ledger::v1::DeniedAttempt& newest = regency.attempts(0);
  EXPECT_EQ(newest.principal(), "operator.lumajang");
  EXPECT_EQ(newest.method(), "/sakip.v1.ReportService/RecordEvents");
  EXPECT_EQ(newest.unit(), kInside);
  EXPECT_EQ(newest.code(), "PERMISSION_DENIED");
  EXPECT_THAT(newest.reason(), ::testing::HasSubstr("needs the role supervisor"));
  EXPECT_THAT(newest.peer(), ::testing::HasSubstr("127.0.0.1"));
  for (const auto& attempt : regency.attempts()) {
    EXPECT_TRUE(attempt.unit() == kRegency || absl::StartsWith(attempt.unit(), "35.08."))
        << "an attempt outside the inspector's scope: " << attempt.unit();
  }
  for (int bad : {-1, 1001}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", inspector_lumajang.token));
    sakip::v1::ListDeniedAttemptsRequest request;
    request.set_unit_code(kRegency);
    request.set_max_count(bad);
    sakip::v1::ListDeniedAttemptsResponse response;
    grpc::Status refused_count =
        sakip::v1::AuditService::NewStub(suite_->Channel())->ListDeniedAttempts(&context, request, &response);
    EXPECT_EQ(refused_count.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(refused_count.error_message(), ::testing::HasSubstr("max_count: must be 0..1000"));
  }
  sakip::v1::ListDeniedAttemptsResponse national = list(suite_->principals[9], "");
  EXPECT_GT(national.attempts_size(), regency.attempts_size());
  EXPECT_GE(national.denied_total(), national.unauthenticated_total() + national.permission_denied_total());
  EXPECT_GT(national.unauthenticated_total(), 0u);
  EXPECT_GT(national.permission_denied_total(), 0u);
}

// GetEvent must not tell a caller which event ids exist beyond what it may
// read: an event of another unit, or one the caller's role may not read, is
// answered exactly as an id never recorded. The real reason goes to the
// denied-attempt log, where the other unit's inspectors see it.
TEST_F(AuthorizationMatrixTest, GetEventAnswersAnEventTheCallerMayNotReadAsNeverRecorded) {
  auto get = [&](const Principal& who, const std::string& event_id) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", who.token));
    v1::GetEventRequest request;
    request.set_event_id(event_id);
    v1::GetEventResponse response;
    grpc::Status status = v1::LedgerService::NewStub(suite_->Channel())->GetEvent(&context, request, &response);
    EXPECT_FALSE(response.has_event()) << who.name << " got " << event_id;
    return status;
  };
  // The message names the id asked for; with the id taken out, the answers
  // for an existing and an unrecorded id must be the same bytes.
  auto answer = [](const grpc::Status& status, const std::string& event_id) {
    return absl::StrCat(status.error_code(), " ",
                        absl::StrReplaceAll(status.error_message(), {{event_id, "<id>"}}));
  };
  const std::string unrecorded = "no-such-event-" + suite_->outside_event_id;
  const Principal& inspector_lumajang = suite_->principals[3];
  const Principal& operator_lumajang = suite_->principals[0];
  ASSERT_EQ(inspector_lumajang.name, "inspector.lumajang");
  ASSERT_EQ(operator_lumajang.name, "operator.lumajang");

  const grpc::Status never = get(inspector_lumajang, unrecorded);
  ASSERT_EQ(never.error_code(), grpc::StatusCode::NOT_FOUND) << never.error_message();
  const grpc::Status other_unit = get(inspector_lumajang, suite_->outside_event_id);
  EXPECT_EQ(answer(other_unit, suite_->outside_event_id), answer(never, unrecorded));
  // A role that reads no unit's events: the same, inside its own scope too.
  EXPECT_EQ(answer(get(operator_lumajang, suite_->inside_event_id), suite_->inside_event_id),
            answer(get(operator_lumajang, unrecorded), unrecorded));
  // The control: in scope, the event is served.
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", inspector_lumajang.token));
  v1::GetEventRequest request;
  request.set_event_id(suite_->inside_event_id);
  v1::GetEventResponse served;
  ASSERT_TRUE(v1::LedgerService::NewStub(suite_->Channel())->GetEvent(&context, request, &served).ok());
  EXPECT_EQ(served.event().envelope().event_id(), suite_->inside_event_id);

  // The refusal is on record with its real reason, under the event's unit.
  grpc::ClientContext listing;
  listing.AddMetadata("authorization", absl::StrCat("Bearer ", suite_->principals[9].token));
  sakip::v1::ListDeniedAttemptsRequest list_request;
  list_request.set_unit_code(kOutside);
  list_request.set_max_count(1000);
  sakip::v1::ListDeniedAttemptsResponse denied;
  ASSERT_TRUE(sakip::v1::AuditService::NewStub(suite_->Channel())
                  ->ListDeniedAttempts(&listing, list_request, &denied)
                  .ok());
  bool found = false;
  for (const auto& attempt : denied.attempts()) {
    if (attempt.method() != "/ledger.v1.LedgerService/GetEvent" || attempt.principal() != "inspector.lumajang") {
      continue;
    }
    found = true;
    EXPECT_EQ(attempt.code(), "PERMISSION_DENIED");
    EXPECT_EQ(attempt.unit(), kOutside);
  }
  EXPECT_TRUE(found) << "the refused GetEvent is not in the denied-attempt log";
}

TEST_F(AuthorizationMatrixTest, OnePrincipalHoldsAtMostItsShareOfLiveSubscriptions) {
  const Principal& system = suite_->principals[10];  // system.national
  ASSERT_EQ(system.name, "system.national");
  std::shared_ptr<grpc::Channel> channel = suite_->Channel();
  struct Live {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader;
  };
  auto open = [&](Live* live) {
    live->context.AddMetadata("authorization", absl::StrCat("Bearer ", system.token));
    v1::SubscribeRequest request;
    request.set_from_head(true);
    live->reader = v1::LedgerService::NewStub(channel)->Subscribe(&live->context, request);
    v1::SubscribeResponse first;  // the caught-up marker: the subscription is live
    return live->reader->Read(&first);
  };
  std::vector<std::unique_ptr<Live>> held;
  for (size_t i = 0; i < limits::kMaxSubscriptionsPerPrincipal; ++i) {
    held.push_back(std::make_unique<Live>());
    ASSERT_TRUE(open(held.back().get())) << "subscription " << i + 1;
  }
  Live refused;
  EXPECT_FALSE(open(&refused));
  grpc::Status status = refused.reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("live subscriptions"));
  // Another principal is not affected.
  Live other;
  other.context.AddMetadata("authorization", absl::StrCat("Bearer ", suite_->principals[9].token));
  v1::SubscribeRequest request;
  request.set_from_head(true);
  other.reader = v1::LedgerService::NewStub(channel)->Subscribe(&other.context, request);
  v1::SubscribeResponse first;
  EXPECT_TRUE(other.reader->Read(&first));
  other.context.TryCancel();
  (void)other.reader->Finish();
  // Ending one frees its slot.
  held.back()->context.TryCancel();
  (void)held.back()->reader->Finish();
  held.pop_back();
  Live again;
  bool opened = false;
  for (int attempt = 0; attempt < 50 && !opened; ++attempt) {  // the server notices the cancel
    auto retry = std::make_unique<Live>();
    opened = open(retry.get());
    if (opened) {
      held.push_back(std::move(retry));
    } else {
      (void)retry->reader->Finish();
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  EXPECT_TRUE(opened);
  for (auto& live : held) {
    live->context.TryCancel();
    (void)live->reader->Finish();
  }
}

TEST_F(AuthorizationMatrixTest, FourEyesThroughGrpcRefusedWithTheReasonAndNothingWritten) {
  auto as = [](grpc::ClientContext* context, const std::string& token) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  };
  // dual.lumajang corrects a TW I realization, the Camat submits a report
  // containing it; dual.lumajang may not dispose of that report.
  std::string realization_id;
  for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
    if (event.event.has_realization_recorded() && event.event.realization_recorded().quarter() == 1 &&
        realization_id.empty()) {
      realization_id = event.event_id;
    }
  }
  sakip::v1::SakipEvent correction = Event(kInside);
  correction.mutable_realization_corrected()->set_corrects_event_id(realization_id);
  correction.mutable_realization_corrected()->set_value("38");
  grpc::ClientContext corrected;
  as(&corrected, suite_->dual_token);
  grpc::Status status = Record(&corrected, suite_->Channel(), correction);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const Principal& signer = suite_->principals[1];
  ASSERT_EQ(signer.name, "signer.lumajang");
  sakip::v1::SakipEvent submission = Submission(kInside, signer.nip);
  const std::string report_id = submission.report_submitted().report_id();
  grpc::ClientContext submitted;
  as(&submitted, signer.token);
  status = Record(&submitted, suite_->Channel(), submission);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const uint64_t head = suite_->log->GetHead().position;
  sakip::v1::SakipEvent disposition = Disposition(kInside, Nip(99));
  disposition.mutable_report_disposed()->set_report_id(report_id);
  grpc::ClientContext disposed;
  as(&disposed, suite_->dual_token);
  status = Record(&disposed, suite_->Channel(), disposition);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr("principal 'dual.lumajang' recorded realization event"));
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("(four-eyes rule)"));
  EXPECT_EQ(suite_->log->GetHead().position, head) << "a refused disposition wrote something";
  // The supervisor who recorded nothing in it may.
  const Principal& supervisor = suite_->principals[2];
  ASSERT_EQ(supervisor.name, "supervisor.lumajang");
  disposition.mutable_report_disposed()->set_supervisor_nip(supervisor.nip);
  grpc::ClientContext allowed;
  as(&allowed, supervisor.token);
  status = Record(&allowed, suite_->Channel(), disposition);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(AuthorizationMatrixTest, AnInvalidPrincipalsFileIsRefusedAndTheOldOneStays) {
  const std::string path = suite_->principals_path;
  std::ofstream(path, std::ios::trunc) << "{\"principals\": [{\"name\": \"x\", \"roles\": [\"root\"]}]}";
  absl::Status reloaded = suite_->server->ReloadPrincipals();
  EXPECT_THAT(std::string(reloaded.message()), ::testing::HasSubstr("principals[0].roles[0]: 'root'"));
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", suite_->principals[9].token));
  v1::GetHeadResponse head;
  EXPECT_TRUE(v1::LedgerService::NewStub(suite_->Channel())->GetHead(&context, {}, &head).ok());
  suite_->WritePrincipals(/*include_revoked=*/false);
  EXPECT_TRUE(suite_->server->ReloadPrincipals().ok());
}

}  // namespace
}  // namespace ledger
