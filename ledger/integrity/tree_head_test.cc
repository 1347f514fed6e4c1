// Signed tree heads: signatures verify with the right key only, cover every
// field, and the key file is created 0600, reloaded, and refused when others
// can read it or when it is not a key.
#include "ledger/integrity/tree_head.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/integrity/sha256.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

TreeHead Head(uint64_t size) { return TreeHead{size, 1720569600000000, Sha256("root")}; }

TEST(TreeHeadTest, ASignatureVerifiesWithItsKeyAndCoversEveryField) {
  TempDir dir;
  auto signer = HeadSigner::LoadOrCreate(dir.Sub("head.key"));
  ASSERT_TRUE(signer.ok()) << signer.status();
  SignedTreeHead signed_head = (*signer)->Sign(Head(42));
  EXPECT_EQ(signed_head.signature.size(), kEd25519SignatureBytes);
  EXPECT_EQ(signed_head.key_id, (*signer)->key_id());
  EXPECT_TRUE(VerifyTreeHead(signed_head, (*signer)->public_key()));

  SignedTreeHead other_size = signed_head;
  other_size.head.tree_size = 41;
  EXPECT_FALSE(VerifyTreeHead(other_size, (*signer)->public_key()));
  SignedTreeHead other_time = signed_head;
  other_time.head.timestamp_micros += 1;
  EXPECT_FALSE(VerifyTreeHead(other_time, (*signer)->public_key()));
  SignedTreeHead other_root = signed_head;
  other_root.head.root_hash = Sha256("another root");
  EXPECT_FALSE(VerifyTreeHead(other_root, (*signer)->public_key()));
  SignedTreeHead bad_signature = signed_head;
  bad_signature.signature[10] ^= 1;
  EXPECT_FALSE(VerifyTreeHead(bad_signature, (*signer)->public_key()));

  TempDir other_dir;
  auto other = HeadSigner::LoadOrCreate(other_dir.Sub("head.key"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(VerifyTreeHead(signed_head, (*other)->public_key()));
  SignedTreeHead relabelled = signed_head;
  relabelled.key_id = (*other)->key_id();
  EXPECT_FALSE(VerifyTreeHead(relabelled, (*other)->public_key()));
  EXPECT_FALSE(VerifyTreeHead(signed_head, "short"));
}

TEST(TreeHeadTest, TheSigningInputIsFixedAndVersioned) {
  const std::string input = TreeHeadSigningInput(TreeHead{1, 2, std::string(32, 'r')});
  EXPECT_EQ(input.substr(0, 26), std::string("sakip-ledger/tree-head/v1\0", 26));
  EXPECT_EQ(input.size(), 26u + 8 + 8 + 32);
  EXPECT_EQ(input.substr(26, 8), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_EQ(input.substr(34, 8), std::string("\0\0\0\0\0\0\0\2", 8));
}

TEST(TreeHeadTest, TheKeyFileIsCreatedPrivateAndReloaded) {
  TempDir dir;
  const std::string path = dir.Sub("head.key");
  std::string public_key;
  {
    auto created = HeadSigner::LoadOrCreate(path);
    ASSERT_TRUE(created.ok()) << created.status();
    public_key = (*created)->public_key();
  }
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_EQ(std::filesystem::file_size(path), 64u);
  std::ifstream pub(path + ".pub");
  std::string pub_hex;
  pub >> pub_hex;
  EXPECT_EQ(pub_hex, HexEncode(public_key));
  auto reloaded = HeadSigner::LoadOrCreate(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ((*reloaded)->public_key(), public_key);
  EXPECT_TRUE(VerifyTreeHead((*reloaded)->Sign(Head(7)), public_key));
}

TEST(TreeHeadTest, RefusesAKeyOthersCanReadOrThatIsNotAKey) {
  TempDir dir;
  const std::string path = dir.Sub("head.key");
  ASSERT_TRUE(HeadSigner::LoadOrCreate(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_THAT(HeadSigner::LoadOrCreate(path).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  const std::string garbage = dir.Sub("garbage.key");
  std::ofstream(garbage) << "not a key";
  ASSERT_EQ(::chmod(garbage.c_str(), 0600), 0);
  EXPECT_THAT(HeadSigner::LoadOrCreate(garbage).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not an Ed25519 secret key")));
}

}  // namespace
}  // namespace ledger
