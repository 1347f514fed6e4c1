// Helpers shared by the subcommands that verify what a server says against
// the key the inspector trusts (commands_trust.cc, commands_bundle.cc).
#ifndef CLIENTS_LEDGERCTL_COMMANDS_TRUST_H_
#define CLIENTS_LEDGERCTL_COMMANDS_TRUST_H_

#include <string>

#include "clients/ledgerctl/args.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/trusted_heads.h"

namespace ledgerctl {

// The 32-byte key of --public_key (a .pub file or 64 hex digits); a usage
// error, saying where to get it, when it is missing or malformed.
std::string TrustedPublicKey(const ParsedArgs& args, const std::string& command);

// The trust store of --trust_dir, else $HOME/.sakip-ledger/trusted-heads.
TrustStore TrustStoreFromArgs(const ParsedArgs& args);

// The server's signed head, checked by CheckSignedHead against the store and
// stored. A refusal prints its JSON (with --json) and throws CliError with
// kExitRefused; a store that cannot be read or written is a usage error.
HeadCheck VerifiedHead(CommandContext& context, const std::string& public_key, const TrustStore& store,
                       bool sign_now);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_COMMANDS_TRUST_H_
