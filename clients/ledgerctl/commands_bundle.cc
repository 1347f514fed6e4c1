// The auditor bundle (proto/sakip/v1/attestation.proto):
//   bundle --unit U --year Y --report R --out FILE   saves it, byte for byte
//   verify-bundle FILE --public_key K                 checks it offline
// verify-bundle never talks to a server: it needs the file and the key only.
#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/json_text.h"
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

}  // namespace

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
