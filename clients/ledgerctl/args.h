// A small command-line parser: `ledgerctl [global flags] SUBCOMMAND [args]`.
//
// Flags are `--name value` or `--name=value`; boolean flags take no value
// (`--backward`). `--` ends the flags. Flags may come before or after the
// positional arguments. Unknown or repeated flags are usage errors.
#ifndef CLIENTS_LEDGERCTL_ARGS_H_
#define CLIENTS_LEDGERCTL_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ledgerctl {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
};

// What was given on the command line for one subcommand.
class ParsedArgs {
 public:
  std::vector<std::string> positionals;

  bool Has(const std::string& name) const { return flags_.count(name) > 0; }
  // The flag's value, or std::nullopt when the flag was not given.
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  // Parses the flag as an unsigned decimal; usage error naming the flag if not.
  std::optional<uint64_t> GetUint(const std::string& name) const;
  void Set(const std::string& name, const std::string& value) { flags_[name] = value; }

 private:
  std::map<std::string, std::string> flags_;
};

// Parses `args` (the tokens after the subcommand, or before it for global
// flags) against `specs`. Throws a usage CliError naming the offending token.
ParsedArgs ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
                      const std::string& command);

// Parses an unsigned decimal number, or throws a usage error naming `what`.
uint64_t ParseUint(const std::string& text, const std::string& what);

// A fiscal year 2000..2100, or a usage error naming `what`.
int ParseFiscalYear(const std::string& text, const std::string& what);

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_ARGS_H_
