#include "ledger/testing/temp_dir.h"

#include <cstdlib>
#include <filesystem>

#include "ledger/util/check.h"

namespace ledger::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/ledger-test-XXXXXX";
  LEDGER_CHECK(mkdtemp(pattern.data()) != nullptr, "mkdtemp");
  path_ = pattern;
}

TempDir::~TempDir() {
  if (std::getenv("LEDGER_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace ledger::testing
