// Implementation of the command-line parser (see args.h).
#include "clients/ledgerctl/args.h"

#include <charconv>

#include "clients/ledgerctl/errors.h"

namespace ledgerctl {
namespace {

// The spec named `name`, also under its other spelling ("public-key" finds
// "public_key", "timeout_ms" finds "timeout-ms"): most flags have hyphens,
// the trust flags underscores like ledgerd's (--public_key next to its
// --signing_key), and people mix them up.
const FlagSpec* FindSpec(const std::vector<FlagSpec>& specs, const std::string& name) {
  std::string other = name;
  for (char& c : other) c = c == '-' ? '_' : c == '_' ? '-' : c;
  for (const FlagSpec& spec : specs) {
    if (spec.name == name || spec.name == other) return &spec;
  }
  return nullptr;
}

std::string HelpHint(const std::string& command) {
  return command.empty() ? "see 'ledgerctl --help'"
                         : "see 'ledgerctl " + command + " --help'";
}

}  // namespace

std::optional<std::string> ParsedArgs::Get(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

std::string ParsedArgs::GetOr(const std::string& name, const std::string& fallback) const {
  return Get(name).value_or(fallback);
}

std::optional<uint64_t> ParsedArgs::GetUint(const std::string& name) const {
  std::optional<std::string> value = Get(name);
  if (!value) return std::nullopt;
  return ParseUint(*value, "--" + name);
}

uint64_t ParseUint(const std::string& text, const std::string& what) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end) {
    throw UsageError(what + ": '" + text + "' is not a non-negative whole number");
  }
  return value;
}

ParsedArgs ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs,
                      const std::string& command) {
  ParsedArgs parsed;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (flags_ended || token.size() < 2 || token.rfind("--", 0) != 0) {
      if (!flags_ended && token.size() > 1 && token[0] == '-' && token != "-") {
        throw UsageError("unknown option '" + token + "'; " + HelpHint(command));
      }
      parsed.positionals.push_back(token);
      continue;
    }
    if (token == "--") {
      flags_ended = true;
      continue;
    }
    size_t equals = token.find('=');
    std::string name = token.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const FlagSpec* spec = FindSpec(specs, name);
    if (spec == nullptr) {
      throw UsageError("unknown flag '--" + name + "'; " + HelpHint(command));
    }
    name = spec->name;
    if (parsed.Has(name)) throw UsageError("--" + name + " is given more than once");
    if (!spec->takes_value) {
      if (equals != std::string::npos) throw UsageError("--" + name + " takes no value");
      parsed.Set(name, "");
    } else if (equals != std::string::npos) {
      parsed.Set(name, token.substr(equals + 1));
    } else if (i + 1 < args.size()) {
      parsed.Set(name, args[++i]);
    } else {
      throw UsageError("--" + name + " needs a value; " + HelpHint(command));
    }
  }
  return parsed;
}

int ParseFiscalYear(const std::string& text, const std::string& what) {
  uint64_t year = ParseUint(text, what);
  if (year < 2000 || year > 2100) throw UsageError(what + ": " + text + " is outside 2000..2100");
  return static_cast<int>(year);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

}  // namespace ledgerctl
