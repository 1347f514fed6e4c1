// ledgerctl: the command-line client of the ledger. See docs/CLI.md or
// `ledgerctl --help`.
#include <iostream>
#include <string>
#include <vector>

#include "clients/ledgerctl/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return ledgerctl::LedgerctlMain(args, std::cout, std::cerr);
}
