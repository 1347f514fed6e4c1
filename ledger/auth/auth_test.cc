// Tests of ledger/auth: the principals file (every refusal names its field),
// the policy's matrix in the core (the gRPC matrix test covers the
// services' mapping of RPCs to actions), and the denied-attempt log.
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/auth/denied_log.h"
#include "ledger/auth/policy.h"
#include "ledger/auth/principals.h"
#include "ledger/limits.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::auth {
namespace {

using ::testing::HasSubstr;

const std::string kHash = std::string(64, 'a');

std::string Entry(const std::string& fields) { return absl::StrCat("{", fields, "}"); }
std::string File(const std::string& entries) {
  return absl::StrCat("{\"principals\": [", entries, "]}");
}

absl::Status ParseStatus(const std::string& json) {
  return PrincipalDirectory::Parse(json).status();
}

TEST(PrincipalsFileTest, ParsesAndFindsByTokenCertificateAndName) {
  absl::StatusOr<std::string> token = NewBearerToken();
  ASSERT_TRUE(token.ok());
  EXPECT_THAT(*token, ::testing::StartsWith("sakip_"));
  EXPECT_EQ(token->size(), 6u + 64u);
  std::string json = File(absl::StrCat(
      Entry(absl::StrCat(R"("name": "operator.klakah", "roles": ["operator"], "scopes": ["35.08.19"],)",
                         R"("token_sha256": [")", TokenSha256Hex(*token), R"("])")),
      ",",
      Entry(R"("name": "camat.klakah", "nip": "19730415 199803 1 011", "roles": ["signer"],)"
            R"("scopes": ["35.08.19"], "certificate_common_names": ["camat.klakah"])")));
  auto directory = PrincipalDirectory::Parse(json);
  ASSERT_TRUE(directory.ok()) << directory.status();
  EXPECT_EQ((*directory)->size(), 2u);
  const Principal* by_token = (*directory)->FindByToken(*token);
  ASSERT_NE(by_token, nullptr);
  EXPECT_EQ(by_token->name, "operator.klakah");
  EXPECT_TRUE(by_token->Has(Role::kOperator));
  EXPECT_FALSE(by_token->Has(Role::kSigner));
  EXPECT_EQ((*directory)->FindByToken(*token + "x"), nullptr);
  EXPECT_EQ((*directory)->FindByToken(""), nullptr);
  const Principal* by_cert = (*directory)->FindByCertificate("camat.klakah");
  ASSERT_NE(by_cert, nullptr);
  EXPECT_EQ(by_cert->nip, "197304151998031011");
  EXPECT_EQ((*directory)->FindByCertificate("camat.ranuyoso"), nullptr);
  EXPECT_EQ((*directory)->FindByName("camat.klakah"), by_cert);
}

TEST(PrincipalsFileTest, RefusalsNameTheField) {
  const std::string ok_cred = absl::StrCat(R"("token_sha256": [")", kHash, R"("])");
  struct Case {
    std::string entry;
    std::string message;
  } cases[] = {
      {absl::StrCat(R"("name": "", "roles": ["operator"], "scopes": ["35"], )", ok_cred),
       "principals[0].name: must be 1..64"},
      {absl::StrCat(R"("name": "a b", "roles": ["operator"], "scopes": ["35"], )", ok_cred),
       "principals[0].name: 'a b' may hold only"},
      {absl::StrCat(R"("name": "x", "roles": [], "scopes": ["35"], )", ok_cred),
       "principals[0].roles: at least one role"},
      {absl::StrCat(R"("name": "x", "roles": ["operator", "camat"], "scopes": ["35"], )", ok_cred),
       "principals[0].roles[1]: 'camat' is not a role"},
      {absl::StrCat(R"("name": "x", "roles": ["signer"], "scopes": ["35"], )", ok_cred),
       "principals[0].nip: is required for signers"},
      {absl::StrCat(R"("name": "x", "nip": "123", "roles": ["supervisor"], "scopes": ["35"], )", ok_cred),
       "principals[0].nip"},
      {absl::StrCat(R"("name": "x", "roles": ["operator"], "scopes": [], )", ok_cred),
       "principals[0].scopes: at least one scope"},
      {absl::StrCat(R"("name": "x", "roles": ["operator"], "scopes": ["35.8"], )", ok_cred),
       "principals[0].scopes[0]: '35.8' is not a Kemendagri code prefix"},
      {absl::StrCat(R"("name": "x", "roles": ["operator"], "scopes": ["35.08."], )", ok_cred),
       "principals[0].scopes[0]"},
      {R"("name": "x", "roles": ["operator"], "scopes": ["35"])", "principals[0]: has no credential"},
      {R"("name": "x", "roles": ["operator"], "scopes": ["35"], "token_sha256": ["ABC"])",
       "principals[0].token_sha256[0]: must be 64 lowercase hex"},
      {R"("name": "x", "roles": ["operator"], "scopes": ["35"], "rolez": ["admin"])",
       "not a valid PrincipalsFile"},
  };
  for (const Case& c : cases) {
    absl::Status status = ParseStatus(File(Entry(c.entry)));
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.entry << " -> " << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.entry;
  }
  EXPECT_THAT(ParseStatus("{not json").message(), HasSubstr("not a valid PrincipalsFile"));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseStatus(std::string(limits::kMaxPrincipalsFileBytes + 1, ' '))));
}

TEST(PrincipalsFileTest, DuplicatesAreRefused) {
  const std::string first = Entry(absl::StrCat(
      R"("name": "a", "roles": ["operator"], "scopes": ["35"], "token_sha256": [")", kHash,
      R"("], "certificate_common_names": ["a.example"])"));
  EXPECT_THAT(ParseStatus(File(first + "," + Entry(absl::StrCat(
      R"("name": "a", "roles": ["operator"], "scopes": ["35"], "token_sha256": [")",
      std::string(64, 'b'), R"("])")))).message(),
              HasSubstr("principals[1].name: 'a' is given twice"));
  EXPECT_THAT(ParseStatus(File(first + "," + Entry(absl::StrCat(
      R"("name": "b", "roles": ["operator"], "scopes": ["35"], "token_sha256": [")", kHash,
      R"("])")))).message(),
              HasSubstr("principals[1].token_sha256[0]: is already the token of another"));
  EXPECT_THAT(ParseStatus(File(first + "," + Entry(
      R"("name": "b", "roles": ["operator"], "scopes": ["35"], "certificate_common_names": ["a.example"])"))).message(),
              HasSubstr("principals[1].certificate_common_names[0]: 'a.example' already identifies"));
}

TEST(PrincipalsFileTest, LoadNamesThePath) {
  EXPECT_THAT(PrincipalDirectory::Load("/nonexistent/principals.json").status().message(),
              HasSubstr("/nonexistent/principals.json"));
  testing::TempDir dir;
  std::string path = dir.path() + "/principals.json";
  std::ofstream(path) << File(Entry(R"("name": "x", "roles": ["root"], "scopes": ["35"], "token_sha256": [")" + kHash + "\"]"));
  absl::Status status = PrincipalDirectory::Load(path).status();
  EXPECT_THAT(status.message(), HasSubstr(path + ": principals[0].roles[0]"));
}

Principal Make(std::vector<Role> roles, std::vector<std::string> scopes) {
  Principal principal;
  principal.name = "p";
  for (Role role : roles) principal.roles |= 1u << static_cast<int>(role);
  principal.scopes = std::move(scopes);
  return principal;
}

TEST(PolicyTest, ScopeIsByWholeSegments) {
  Principal lumajang = Make({Role::kInspector}, {"35.08"});
  EXPECT_TRUE(lumajang.Covers("35.08"));
  EXPECT_TRUE(lumajang.Covers("35.08.19"));
  EXPECT_TRUE(lumajang.Covers("35.08.19.2001"));
  EXPECT_FALSE(lumajang.Covers("35.09.01"));
  EXPECT_FALSE(lumajang.Covers("35.081"));
  EXPECT_FALSE(lumajang.Covers("35"));
  EXPECT_FALSE(lumajang.Covers(""));
  EXPECT_TRUE(Make({Role::kInspector}, {"*"}).Covers("11.01"));
}

TEST(PolicyTest, EachEventTypeNeedsItsRole) {
  using Case = sakip::v1::SakipEvent::EventCase;
  EXPECT_EQ(ActionForEvent(Case::kRealizationRecorded), Action::kRecordOperation);
  EXPECT_EQ(ActionForEvent(Case::kRealizationCorrected), Action::kRecordOperation);
  EXPECT_EQ(ActionForEvent(Case::kDisbursementRecorded), Action::kRecordOperation);
  EXPECT_EQ(ActionForEvent(Case::kDisbursementReversed), Action::kRecordOperation);
  EXPECT_EQ(ActionForEvent(Case::kChecklistEntryRecorded), Action::kRecordOperation);
  EXPECT_EQ(ActionForEvent(Case::kReportSubmitted), Action::kSubmitReport);
  EXPECT_EQ(ActionForEvent(Case::kReportDisposed), Action::kDisposeReport);
  EXPECT_EQ(ActionForEvent(Case::kAgreementEstablished), Action::kRecordPlan);
  EXPECT_EQ(ActionForEvent(Case::kTargetRevised), Action::kRecordPlan);
  EXPECT_EQ(ActionForEvent(Case::kBudgetRevised), Action::kRecordPlan);
  EXPECT_EQ(ActionForEvent(Case::kChecklistActivityDefined), Action::kRecordPlan);
  EXPECT_EQ(ActionForEvent(Case::EVENT_NOT_SET), Action::kRecordPlan);
}

TEST(PolicyTest, Matrix) {
  // (role, action) -> allowed, for a principal in scope.
  const std::set<std::pair<Role, Action>> allowed = {
      {Role::kAdmin, Action::kRecordPlan},       {Role::kOperator, Action::kRecordOperation},
      {Role::kSigner, Action::kSubmitReport},    {Role::kSupervisor, Action::kDisposeReport},
      {Role::kOperator, Action::kReadReport},    {Role::kSigner, Action::kReadReport},
      {Role::kSupervisor, Action::kReadReport},  {Role::kInspector, Action::kReadReport},
      {Role::kSystem, Action::kReadReport},      {Role::kAdmin, Action::kReadReport},
      {Role::kInspector, Action::kAudit},        {Role::kInspector, Action::kReadUnitEvents},
      {Role::kSystem, Action::kReadUnitEvents},  {Role::kInspector, Action::kReadWholeLog},
      {Role::kSystem, Action::kReadWholeLog},    {Role::kAdmin, Action::kReadWholeLog},
      {Role::kAdmin, Action::kAppendRaw},        {Role::kInspector, Action::kVerifyLog},
      {Role::kAdmin, Action::kVerifyLog},        {Role::kAdmin, Action::kManageBackups},
  };
  const Action actions[] = {Action::kRecordPlan,   Action::kRecordOperation, Action::kSubmitReport,
                            Action::kDisposeReport, Action::kReadReport,     Action::kAudit,
                            Action::kReadUnitEvents, Action::kReadWholeLog,  Action::kAppendRaw,
                            Action::kVerifyLog,    Action::kReadTreeState,  Action::kManageBackups};
  int checked = 0;
  for (int r = 0; r < kRoleCount; ++r) {
    const Role role = static_cast<Role>(r);
    for (Action action : actions) {
      const bool expect = action == Action::kReadTreeState || allowed.count({role, action}) > 0;
      EXPECT_EQ(Authorize(Make({role}, {"*"}), action, "35.08.19").ok(), expect)
          << RoleName(role) << " " << ActionName(action);
      // Out of scope: only the content-free actions pass.
      absl::Status outside = Authorize(Make({role}, {"35.09"}), action, "35.08.19");
      const bool content_free = action == Action::kReadTreeState ||
                                (action == Action::kVerifyLog && expect);
      EXPECT_EQ(outside.ok(), content_free) << RoleName(role) << " " << ActionName(action);
      if (!outside.ok()) {
        EXPECT_TRUE(absl::IsPermissionDenied(outside));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, kRoleCount * 12);
}

TEST(PolicyTest, CrossUnitActionsNeedEveryUnit) {
  Principal regency = Make({Role::kInspector, Role::kAdmin}, {"35.08"});
  EXPECT_THAT(Authorize(regency, Action::kReadWholeLog, "").message(), HasSubstr("needs the scope \"*\""));
  EXPECT_THAT(Authorize(regency, Action::kAppendRaw, "").message(), HasSubstr("needs the scope \"*\""));
  EXPECT_THAT(Authorize(regency, Action::kManageBackups, "").message(), HasSubstr("needs the scope \"*\""));
  EXPECT_THAT(Authorize(regency, Action::kReadUnitEvents, "").message(), HasSubstr("name a unit"));
  EXPECT_TRUE(Authorize(regency, Action::kAudit, "35.08").ok());
  EXPECT_FALSE(Authorize(regency, Action::kAudit, "35").ok());
  EXPECT_TRUE(Authorize(Make({Role::kInspector}, {"*"}), Action::kAudit, "").ok());
}

TEST(PolicyTest, RefusalSaysWhoAndWhy) {
  Principal operator_klakah = Make({Role::kOperator}, {"35.08.19"});
  operator_klakah.name = "operator.klakah";
  absl::Status status = Authorize(operator_klakah, Action::kDisposeReport, "35.08.19");
  EXPECT_EQ(status.message(),
            "principal 'operator.klakah' (roles operator; scope 35.08.19) may not record a "
            "disposition: it needs the role supervisor");
  status = Authorize(operator_klakah, Action::kRecordOperation, "35.08.20");
  EXPECT_THAT(status.message(), HasSubstr("for unit 35.08.20: outside its scope"));
}

TEST(PolicyTest, UnitOfStream) {
  EXPECT_EQ(UnitOfStream("35.08.19/2024"), "35.08.19");
  EXPECT_EQ(UnitOfStream("35/2024"), "35");
  EXPECT_EQ(UnitOfStream("$tree-heads"), "");
  EXPECT_EQ(UnitOfStream("orders/2024"), "");
  EXPECT_EQ(UnitOfStream("35.08.19/24"), "");
  EXPECT_EQ(UnitOfStream("35.08.19/2024/x"), "");
}

DeniedAttempt Attempt(const std::string& principal, const std::string& code) {
  DeniedAttempt attempt;
  attempt.set_principal(principal);
  attempt.set_code(code);
  attempt.set_method("/sakip.v1.ReportService/RecordEvents");
  attempt.set_unit("35.08.19");
  attempt.set_reason("because");
  return attempt;
}

TEST(DeniedLogTest, KeepsCountsAndSurvivesReopen) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/denied.jsonl";
  {
    auto log = DeniedLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status();
    (*log)->Record(Attempt("", "UNAUTHENTICATED"));
    (*log)->Record(Attempt("operator.klakah", "PERMISSION_DENIED"));
    (*log)->Record(Attempt("system.x", "RESOURCE_EXHAUSTED"));
    DeniedCounts counts = (*log)->counts();
    EXPECT_EQ(counts.total, 3u);
    EXPECT_EQ(counts.unauthenticated, 1u);
    EXPECT_EQ(counts.permission_denied, 1u);
    EXPECT_EQ(counts.other, 1u);
  }
  std::ofstream(path, std::ios::app) << "{\"torn";  // a crash mid-line
  auto reopened = DeniedLog::Open(path);
  ASSERT_TRUE(reopened.ok());
  std::vector<DeniedAttempt> newest = (*reopened)->Newest(10, [](const DeniedAttempt&) { return true; });
  ASSERT_EQ(newest.size(), 3u);
  EXPECT_EQ(newest[0].principal(), "system.x");
  EXPECT_EQ(newest[0].sequence(), 3u);
  EXPECT_EQ(newest[2].code(), "UNAUTHENTICATED");
  (*reopened)->Record(Attempt("operator.klakah", "PERMISSION_DENIED"));
  newest = (*reopened)->Newest(1, [](const DeniedAttempt& a) { return a.principal() == "operator.klakah"; });
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].sequence(), 4u);
  EXPECT_EQ((*reopened)->counts().total, 1u);  // counters are per process
}

TEST(DeniedLogTest, RotatesPastItsSizeAndReadsBothFilesBack) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/denied.jsonl";
  {
    auto log = DeniedLog::Open(path, /*max_file_bytes=*/1000);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 12; ++i) (*log)->Record(Attempt(absl::StrCat("p", i), "PERMISSION_DENIED"));
  }
  std::ifstream rotated(path + ".1");
  ASSERT_TRUE(rotated.good()) << "no rotated file";
  std::ifstream current(path);
  std::string line;
  int current_lines = 0;
  while (std::getline(current, line)) ++current_lines;
  EXPECT_GT(current_lines, 0);
  EXPECT_LT(current_lines, 12);
  auto reopened = DeniedLog::Open(path, 1000);
  ASSERT_TRUE(reopened.ok());
  std::vector<DeniedAttempt> all = (*reopened)->Newest(100, [](const DeniedAttempt&) { return true; });
  // A second rotation drops the oldest file; what is on disk comes back, in
  // order, and the sequence goes on from the newest.
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().principal(), "p11");
  EXPECT_EQ(all.front().sequence(), 12u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].sequence() + 1, all[i - 1].sequence());
  (*reopened)->Record(Attempt("next", "PERMISSION_DENIED"));
  EXPECT_EQ((*reopened)->Newest(1, [](const DeniedAttempt&) { return true; }).front().sequence(), 13u);
}

TEST(DeniedLogTest, MemoryIsBounded) {
  auto log = DeniedLog::Open("");
  ASSERT_TRUE(log.ok());
  for (size_t i = 0; i < limits::kDeniedAttemptsKept + 10; ++i) {
    (*log)->Record(Attempt("x", "PERMISSION_DENIED"));
  }
  std::vector<DeniedAttempt> all =
      (*log)->Newest(limits::kDeniedAttemptsKept * 2, [](const DeniedAttempt&) { return true; });
  EXPECT_EQ(all.size(), limits::kDeniedAttemptsKept);
  EXPECT_EQ(all.front().sequence(), limits::kDeniedAttemptsKept + 10);
}

}  // namespace
}  // namespace ledger::auth
