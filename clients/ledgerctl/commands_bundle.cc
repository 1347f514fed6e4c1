// The auditor bundle (proto/sakip/v1/attestation.proto):
//   bundle --unit U --year Y --report R --out FILE   saves it, byte for byte
//   verify-bundle FILE --public_key K                 checks it offline
// verify-bundle never talks to a server: it needs the file and the key only.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/commands_trust.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/report_text.h"
#include "clients/ledgerctl/times.h"
#include "ledger/attest/bundle_verifier.h"
#include "ledger/domain/exact.h"
#include "ledger/util/durable_file.h"

namespace ledgerctl {
namespace {

namespace pb = ::sakip::v1;

// Between two tries while the server is still sealing or signing a report.
constexpr auto kBundleRetryInterval = std::chrono::milliseconds(200);

std::string RequiredFlag(const ParsedArgs& args, const std::string& name) {
  std::optional<std::string> value = args.Get(name);
  if (!value || value->empty()) throw UsageError("--" + name + ": required; see 'ledgerctl bundle --help'");
  return *value;
}

// GetAuditorBundle; an UNAVAILABLE that ledgerd itself answers ("the seal is
// not recorded or signed yet") is retried until --timeout-ms has passed.
pb::GetAuditorBundleResponse FetchBundle(CommandContext& context, const pb::GetAuditorBundleRequest& request) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(context.args.GetUint("timeout-ms").value_or(kDefaultTimeoutMs));
  while (true) {
    pb::GetAuditorBundleResponse response;
    auto call = context.client.UnaryContext();
    grpc::Status status = context.client.audit().GetAuditorBundle(call.get(), request, &response);
    const bool not_yet = status.error_code() == grpc::StatusCode::UNAVAILABLE && context.client.Connected();
    if (!not_yet || std::chrono::steady_clock::now() + kBundleRetryInterval > deadline) {
      if (not_yet) throw CliError(kExitServerError, "UNAVAILABLE: " + status.error_message());
      context.client.Check(status);
      return response;
    }
    std::this_thread::sleep_for(kBundleRetryInterval);
  }
}

// Names in the tables are cut to this many characters.
constexpr size_t kBundleNameChars = 40;

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError("FILE: cannot read " + path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// A figure in Indonesian notation with two decimals ("57,45"), or "-".
std::string FigureCell(const ledger::projections::Figure& figure) {
  return figure.value ? ledger::domain::FormatIndonesian(*figure.value, 2) : "-";
}

// The headline figures of the recomputed report: per indicator the target,
// the quarter's realization and capaian, the year to date and its predicate;
// per programme the allocation, what was spent through the quarter and the
// absorption. Every figure is in the canonical text (--figures).
std::string VerifiedFiguresText(const ledger::projections::QuarterlyReport& report) {
  const std::string quarter = QuarterName(report.quarter);
  const size_t q = static_cast<size_t>(report.quarter - 1);
  TextTable indicators({"No", "Indikator", "Target", "Real. " + quarter, "Capaian " + quarter + " %",
                        "Real. s.d. " + quarter, "Capaian %", "Predikat"},
                       {true, false, true, true, true, true, true, false});
  for (const auto& row : report.indicators) {
    indicators.AddRow({std::to_string(row.number), Truncate(row.name, kBundleNameChars), FigureCell(row.target),
                       FigureCell(row.quarters[q].realization), FigureCell(row.quarters[q].capaian),
                       FigureCell(row.year_end_realization), FigureCell(row.year_end_capaian),
                       row.predicate.value_or("-")});
  }
  indicators.AddSeparator();
  indicators.AddRow({"", "Capaian rata-rata", FigureCell(report.average.target),
                     FigureCell(report.average.quarters[q].realization),
                     FigureCell(report.average.quarters[q].capaian),
                     FigureCell(report.average.year_end_realization), FigureCell(report.average.year_end_capaian),
                     ""});
  TextTable budget({"No", "Program", "Anggaran (Rp)", "Realisasi s.d. " + quarter + " (Rp)", "Serapan %"},
                   {true, false, true, true, true});
  auto budget_row = [&](const ledger::projections::BudgetRow& row, const std::string& number,
                        const std::string& name) {
    budget.AddRow({number, Truncate(name, kBundleNameChars), FigureCell(row.allocation),
                   FigureCell(row.cumulative_realized), FigureCell(row.cumulative_absorption)});
  };
  for (const auto& row : report.programmes) budget_row(row, std::to_string(row.number), row.name);
  budget.AddSeparator();
  budget_row(report.total, "", "JUMLAH");
  return absl::StrCat("Pengukuran Kinerja (recomputed from the bundle's events)\n", indicators.Render(),
                      "\nAnggaran\n", budget.Render());
}

std::string FiguresJson(const ledger::projections::QuarterlyReport& report) {
  std::string json = "{";
  for (const auto& [key, figure] : ledger::projections::IndexFigures(report)) {
    if (json.size() > 1) json += ",";
    json += JsonQuote(key) + ":";
    json += figure->value ? JsonObject()
                                .String("exact", figure->value->ToString())
                                .String("plain", ledger::domain::FormatPlain(*figure->value, 2))
                                .Build()
                          : "null";
  }
  return json + "}";
}

}  // namespace

int RunVerifyBundle(CommandContext& context) {
  const std::string path = context.args.positionals[0];
  const std::string key = TrustedPublicKey(context.args, "verify-bundle");
  const std::string bytes = ReadWholeFile(path);
  absl::StatusOr<ledger::attest::VerifiedBundle> verified = ledger::attest::VerifyAuditorBundle(bytes, key);
  if (!verified.ok()) {
    if (context.json_output) {
      context.out << JsonObject()
                         .Bool("verified", false)
                         .String("file", path)
                         .String("message", std::string(verified.status().message()))
                         .Build()
                  << "\n";
    }
    throw CliError(kExitRefused, absl::StrCat("bundle ", path, " does NOT verify: ", verified.status().message()));
  }
  const ledger::attest::VerifiedBundle& bundle = *verified;
  const ledger::SignedTreeHead& head = bundle.signed_head;
  if (context.json_output) {
    context.out << JsonObject()
                       .Bool("verified", true)
                       .String("file", path)
                       .String("unit_code", bundle.unit_code)
                       .Int("fiscal_year", bundle.fiscal_year)
                       .String("report_id", bundle.report_id)
                       .Int("quarter", bundle.quarter)
                       .Uint("tree_size", head.head.tree_size)
                       .String("root_hash", Hex(head.head.root_hash))
                       .String("head_timestamp", FormatUtc(head.head.timestamp_micros))
                       .String("key_id", head.key_id)
                       .Uint("event_count", bundle.event_count)
                       .Uint("submission_position", bundle.submission_position)
                       .Uint("seal_position", bundle.seal_position)
                       .String("report_sha256", Hex(bundle.report_sha256))
                       .Raw("figures", FiguresJson(bundle.report))
                       .Build()
                << "\n";
    return kExitOk;
  }
  context.out << "auditor bundle " << path << ": VERIFIED offline with the key you trust (" << head.key_id
              << "); no server was contacted\n"
              << "  report       " << bundle.report_id << ", Triwulan " << bundle.quarter << " ("
              << QuarterName(bundle.quarter) << ") of " << bundle.unit_code << "/" << bundle.fiscal_year << "\n"
              << "  signed head  " << head.head.tree_size << " events, root " << Hex(head.head.root_hash) << "\n"
              << "               signed " << FormatWib(head.head.timestamp_micros) << ", key id " << head.key_id
              << "\n"
              << "  events       " << bundle.event_count << " (the whole unit-year stream through the submission at "
              << "position " << bundle.submission_position << "), each proven in the signed tree\n"
              << "  seal         position " << bundle.seal_position << ", report SHA-256 " << Hex(bundle.report_sha256)
              << "\n"
              << "  report       recomputed from the events: identical to the sealed canonical text\n\n"
              << VerifiedFiguresText(bundle.report);
  if (context.args.Has("figures")) {
    context.out << "\nEvery figure (canonical text):\n";
    for (absl::string_view line : absl::StrSplit(bundle.report_text, '\n')) {
      if (absl::StartsWith(line, "figure ")) context.out << "  " << line << "\n";
    }
  }
  return kExitOk;
}

int RunBundle(CommandContext& context) {
  pb::GetAuditorBundleRequest request;
  request.set_unit_code(RequiredFlag(context.args, "unit"));
  request.set_fiscal_year(ParseFiscalYear(RequiredFlag(context.args, "year"), "--year"));
  request.set_report_id(RequiredFlag(context.args, "report"));
  const std::string out = RequiredFlag(context.args, "out");

  const pb::GetAuditorBundleResponse response = FetchBundle(context, request);
  if (absl::Status written = ledger::WriteFileDurably(out, response.bundle(), 0644); !written.ok()) {
    throw UsageError("--out: " + std::string(written.message()));
  }
  if (context.json_output) {
    context.out << JsonObject()
                       .String("unit_code", request.unit_code())
                       .Int("fiscal_year", request.fiscal_year())
                       .String("report_id", request.report_id())
                       .String("file", out)
                       .Uint("bytes", response.bundle().size())
                       .Build()
                << "\n";
    return kExitOk;
  }
  context.out << "wrote the auditor bundle of " << request.report_id() << " (" << request.unit_code() << "/"
              << request.fiscal_year() << "): " << response.bundle().size() << " bytes to " << out << "\n"
              << "check it offline (no server needed): ledgerctl verify-bundle " << out
              << " --public_key <the server's .pub file>\n";
  return kExitOk;
}

}  // namespace ledgerctl
