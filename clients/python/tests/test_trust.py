"""Unit tests of sakip_ledger.trust: no server needed.

- The RFC 9162 verifiers against ledger/integrity/testdata/merkle_vectors.py,
  the independent implementation of the RFC's definitions (MTH, PATH, PROOF)
  that the C++ test's vectors come from: its printed vectors (the eight
  leaves of the Certificate Transparency suite), then every proof its
  functions give for every tree of up to 64 leaves, each also tampered.
- Hand-built proofs on a tree of three leaves, written out hash by hash.
- Signed heads: the signing input byte for byte, Ed25519 with a key made
  here, every field covered by the signature.
- The trust store: the head-witness format, the private directory, and the
  check of a new head (first, same, extends; rollback, fork, bad proof, bad
  signature refused with the store untouched).
"""

import contextlib
import hashlib
import io
import os
import runpy
import shutil
import stat
import struct
import tempfile
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sakip_ledger import (BadSignatureError, ForkError, RollbackError, TrustStoreError,
                          VerificationError)
from sakip_ledger import trust
from sakip_ledger.trust import (EMPTY_ROOT, SignedHead, TrustStore, check_signed_head, leaf_hash,
                                node_hash, verify_consistency, verify_inclusion)

from support import SOURCE_DIR

VECTORS_PATH = os.path.join(SOURCE_DIR, "ledger/integrity/testdata/merkle_vectors.py")


def load_vectors():
    """Runs merkle_vectors.py: its functions and the lines it prints."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        module = runpy.run_path(VECTORS_PATH)
    return module, output.getvalue().splitlines()


def parse_printed_vectors(lines):
    """{size: root}, [(m, n, path)], [(m, n, proof)] from the printed lines."""
    roots, paths, proofs = {}, [], []
    for line in lines:
        if line.startswith("{"):
            size, root = line.strip("{},").split(", ")
            roots[int(size)] = bytes.fromhex(root.strip('"'))
        else:
            kind, m, n, hashes = line.split(" ", 3)
            hashes = [bytes.fromhex(h) for h in eval(hashes)]  # a Python list literal of hex strings
            (paths if kind == "path" else proofs).append((int(m), int(n), hashes))
    return roots, paths, proofs


def tampered(proof):
    """Every way of spoiling a proof a test tries: each hash changed in one
    bit, one hash dropped from either end, one hash too many."""
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        yield f"hash {i} changed", bad
    if proof:
        yield "last hash dropped", proof[:-1]
        yield "first hash dropped", proof[1:]
    yield "a hash too many", list(proof) + [EMPTY_ROOT]


class RfcVectorsTest(unittest.TestCase):
    """Against the vectors printed by merkle_vectors.py (pasted into merkle_test.cc)."""

    @classmethod
    def setUpClass(cls):
        cls.module, lines = load_vectors()
        cls.roots, cls.paths, cls.proofs = parse_printed_vectors(lines)
        cls.leaves = cls.module["LEAVES"]

    def test_the_printed_vectors_are_the_ones_the_cpp_test_uses(self):
        self.assertEqual(len(self.roots), 9)
        self.assertEqual(self.roots[0].hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        self.assertEqual(self.roots[8].hex(), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        self.assertEqual(self.roots[0], EMPTY_ROOT)
        self.assertEqual(self.roots[1], leaf_hash(self.leaves[0]))
        self.assertEqual(self.roots[2], node_hash(leaf_hash(self.leaves[0]), leaf_hash(self.leaves[1])))

    def test_inclusion_paths_verify_and_fail_when_anything_changes(self):
        self.assertEqual(len(self.paths), 5)
        for m, n, path in self.paths:
            leaf, root = leaf_hash(self.leaves[m]), self.roots[n]
            self.assertTrue(verify_inclusion(leaf, m, n, path, root), (m, n))
            self.assertFalse(verify_inclusion(leaf_hash(b"other"), m, n, path, root))
            self.assertFalse(verify_inclusion(leaf, m, n, path, self.roots[n - 1]))
            self.assertFalse(verify_inclusion(leaf, n, n, path, root))       # index past the end
            if n > 1:
                self.assertFalse(verify_inclusion(leaf, (m + 1) % n, n, path, root))
            for what, bad in tampered(path):
                self.assertFalse(verify_inclusion(leaf, m, n, bad, root), (m, n, what))

    def test_consistency_proofs_verify_and_fail_when_anything_changes(self):
        self.assertEqual(len(self.proofs), 6)
        for m, n, proof in self.proofs:
            old, new = self.roots[m], self.roots[n]
            self.assertTrue(verify_consistency(m, n, old, new, proof), (m, n))
            if m < n:
                self.assertFalse(verify_consistency(m, n, new, old, proof))
                self.assertFalse(verify_consistency(m, n, self.roots[m - 1], new, proof))
                self.assertFalse(verify_consistency(m, n, old, self.roots[n - 1], proof))
                self.assertFalse(verify_consistency(m + 1, n, old, new, proof))
                for what, bad in tampered(proof):
                    self.assertFalse(verify_consistency(m, n, old, new, bad), (m, n, what))

    def test_every_proof_of_every_tree_up_to_64_leaves(self):
        mth, path, subproof = self.module["mth"], self.module["path"], self.module["subproof"]
        data = [f"leaf {i}".encode() for i in range(64)]
        roots = [mth(data[:n]) for n in range(65)]
        for n in range(1, 65):
            for m in range(n):
                proof = path(m, data[:n])
                self.assertTrue(verify_inclusion(leaf_hash(data[m]), m, n, proof, roots[n]), (m, n))
                if n in (1, 2, 7, 16, 33, 64):
                    for what, bad in tampered(proof):
                        self.assertFalse(verify_inclusion(leaf_hash(data[m]), m, n, bad, roots[n]),
                                         (m, n, what))
            for m in range(1, n + 1):
                proof = subproof(m, data[:n], True)
                self.assertTrue(verify_consistency(m, n, roots[m], roots[n], proof), (m, n))
                if m < n:
                    self.assertFalse(verify_consistency(m, n, roots[m - 1] if m > 1 else EMPTY_ROOT,
                                                        roots[n], proof), (m, n))
                    for what, bad in tampered(proof):
                        self.assertFalse(verify_consistency(m, n, roots[m], roots[n], bad), (m, n, what))

    def test_the_empty_tree_and_equal_sizes(self):
        root = self.roots[5]
        self.assertTrue(verify_consistency(0, 5, EMPTY_ROOT, root, []))
        self.assertFalse(verify_consistency(0, 5, root, root, []))
        self.assertFalse(verify_consistency(0, 5, EMPTY_ROOT, root, [root]))
        self.assertTrue(verify_consistency(5, 5, root, root, []))
        self.assertFalse(verify_consistency(5, 5, root, self.roots[4], []))
        self.assertFalse(verify_consistency(5, 5, root, root, [root]))
        self.assertFalse(verify_consistency(6, 5, root, root, []))
        self.assertFalse(verify_inclusion(leaf_hash(b""), 0, 0, [], EMPTY_ROOT))


class HandBuiltProofsTest(unittest.TestCase):
    """A tree of three leaves a, b, c, every hash written out from RFC 9162:

            root = H(01 | ab | C)
             /                \\
      ab = H(01 | A | B)        C = H(00 | c)
       /          \\
    A = H(00|a)  B = H(00|b)
    """

    def setUp(self):
        sha = lambda data: hashlib.sha256(data).digest()  # noqa: E731
        self.A, self.B, self.C = sha(b"\x00a"), sha(b"\x00b"), sha(b"\x00c")
        self.ab = sha(b"\x01" + self.A + self.B)
        self.root3 = sha(b"\x01" + self.ab + self.C)

    def test_leaf_and_node_hashes(self):
        self.assertEqual(leaf_hash(b"a"), self.A)
        self.assertEqual(node_hash(self.A, self.B), self.ab)
        self.assertNotEqual(leaf_hash(self.A + self.B), self.ab)  # domain separation

    def test_inclusion_of_each_leaf(self):
        self.assertTrue(verify_inclusion(self.A, 0, 3, [self.B, self.C], self.root3))
        self.assertTrue(verify_inclusion(self.B, 1, 3, [self.A, self.C], self.root3))
        self.assertTrue(verify_inclusion(self.C, 2, 3, [self.ab], self.root3))
        # The right proof in the wrong order, or for the wrong leaf.
        self.assertFalse(verify_inclusion(self.A, 0, 3, [self.C, self.B], self.root3))
        self.assertFalse(verify_inclusion(self.B, 0, 3, [self.B, self.C], self.root3))
        # An interior node passed off as a leaf of the signed tree of 3: the
        # size (signed with the root) fixes the shape, so the path is too short.
        self.assertFalse(verify_inclusion(self.ab, 0, 3, [self.C], self.root3))
        self.assertFalse(verify_inclusion(leaf_hash(self.A + self.B), 0, 3, [self.C], self.root3))

    def test_consistency_of_two_and_three(self):
        # Old size 2 is a power of two: its root is a node of the new tree; the proof is [C].
        self.assertTrue(verify_consistency(2, 3, self.ab, self.root3, [self.C]))
        # ... and the old root is not repeated in it.
        self.assertFalse(verify_consistency(2, 3, self.ab, self.root3, [self.ab, self.C]))
        self.assertFalse(verify_consistency(2, 3, self.ab, self.root3, []))
        self.assertFalse(verify_consistency(2, 3, self.ab, self.root3, [self.B]))
        # Old size 1: the proof is [B, C].
        self.assertTrue(verify_consistency(1, 3, self.A, self.root3, [self.B, self.C]))
        self.assertFalse(verify_consistency(1, 3, self.B, self.root3, [self.B, self.C]))
        self.assertFalse(verify_consistency(1, 3, self.A, self.root3, [self.C, self.B]))


def signer():
    """A fresh Ed25519 key pair: (sign(bytes) -> signature, public key bytes)."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private.sign, public


def signed(sign, public, size, root, timestamp=1_720_000_000_000_000):
    head = SignedHead(size, timestamp, root, trust.key_id_of(public), b"\0" * 64)
    return SignedHead(size, timestamp, root, head.key_id, sign(head.signing_input()))


class SignedHeadTest(unittest.TestCase):
    def test_the_signing_input_is_the_fixed_byte_string_of_tree_head_h(self):
        head = SignedHead(0x0102030405060708, -2, bytes(range(32)), "00" * 8, b"")
        self.assertEqual(head.signing_input(),
                         b"sakip-ledger/tree-head/v1\x00" + bytes.fromhex("0102030405060708")
                         + bytes.fromhex("fffffffffffffffe") + bytes(range(32)))
        self.assertEqual(len(head.signing_input()), 26 + 8 + 8 + 32)

    def test_key_id_is_the_hex_of_eight_bytes_of_the_keys_sha256(self):
        self.assertEqual(trust.key_id_of(b"\x01" * 32), hashlib.sha256(b"\x01" * 32).hexdigest()[:16])

    def test_every_field_is_covered_by_the_signature(self):
        sign, public = signer()
        head = signed(sign, public, 42, bytes(32))
        self.assertTrue(trust.verify_signed_head(head, public))
        changes = {
            "tree_size": dict(tree_size=43),
            "timestamp": dict(timestamp_micros=head.timestamp_micros + 1),
            "root": dict(root_hash=b"\x01" + bytes(31)),
            "signature": dict(signature=bytes([head.signature[0] ^ 1]) + head.signature[1:]),
            "key id": dict(key_id="ff" * 8),
            "short signature": dict(signature=head.signature[:63]),
            "short root": dict(root_hash=bytes(31)),
        }
        for what, change in changes.items():
            self.assertFalse(trust.verify_signed_head(SignedHead(**{**head.__dict__, **change}), public), what)
        _, other = signer()
        self.assertFalse(trust.verify_signed_head(head, other))
        self.assertIn("signed_head.signature has 63 bytes",
                      trust.head_problem(SignedHead(**{**head.__dict__, "signature": b"x" * 63}), public))

    def test_public_keys_from_bytes_hex_or_the_pub_file(self):
        _, public = signer()
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "data.signing-key.pub")
        with open(path, "w") as stream:
            stream.write(public.hex() + "\n")
        self.assertEqual(trust.load_public_key(public), public)
        self.assertEqual(trust.load_public_key(public.hex()), public)
        self.assertEqual(trust.load_public_key(public.hex().upper()), public)
        self.assertEqual(trust.load_public_key(path), public)
        for bad in (public[:31], public.hex()[1:], os.path.join(directory, "missing.pub")):
            with self.assertRaises(ValueError):
                trust.load_public_key(bad)
        with open(path, "w") as stream:
            stream.write(public.hex()[2:])
        with self.assertRaisesRegex(ValueError, "does not hold 64 hex digits"):
            trust.load_public_key(path)


class FakeServer:
    """Logs of leaf data, signed by one key, proving consistency with the
    vector module's PROOF (or a forced proof)."""

    def __init__(self, module):
        self.mth, self.subproof = module["mth"], module["subproof"]
        self.sign, self.public = signer()
        self.data = []
        self.forced_proof = None
        self.asked = []

    def head(self, size, variant=b"", timestamp=1_720_000_000_000_000):
        self.data = [variant + f"event {i}".encode() for i in range(1, size + 1)]
        return signed(self.sign, self.public, size, self.mth(self.data), timestamp)

    def consistency_proof(self, old_size, new_size):
        self.asked.append((old_size, new_size))
        if self.forced_proof is not None:
            return self.forced_proof
        return self.subproof(old_size, self.data[:new_size], True)


class TrustStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.module, _ = load_vectors()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="py-trust-")
        self.addCleanup(shutil.rmtree, self.home)
        self.store = TrustStore(os.path.join(self.home, ".sakip-ledger", "trusted-heads"))
        self.server = FakeServer(self.module)
        self.key_id = trust.key_id_of(self.server.public)

    def check(self, head):
        return check_signed_head(head, self.server.public, self.store, self.server.consistency_proof,
                                 head.tree_size + 1)

    def stored_bytes(self):
        try:
            with open(self.store.path_for(self.key_id), "rb") as stream:
                return stream.read()
        except FileNotFoundError:
            return None

    def assert_refused(self, head, error_type):
        before = self.stored_bytes()
        with self.assertRaises(error_type) as caught:
            self.check(head)
        self.assertIsInstance(caught.exception, VerificationError)
        self.assertEqual(self.stored_bytes(), before, "a refused head changed the store")
        return str(caught.exception)

    def test_the_first_head_is_stored_in_the_head_witness_format_in_a_private_directory(self):
        head = self.server.head(10)
        verified = self.check(head)
        self.assertEqual(verified.relation, "first")
        self.assertIsNone(verified.previous)
        self.assertEqual(verified.recorded_at_position, 11)
        self.assertEqual(verified.trust_file, os.path.join(self.store.directory, f"{self.key_id}.head"))
        self.assertEqual(self.stored_bytes().decode(), (
            "sakip-ledger head witness v1\n"
            "tree_size 10\n"
            "timestamp_micros 1720000000000000\n"
            f"root_hash {head.root_hash.hex()}\n"
            f"key_id {self.key_id}\n"
            f"signature {head.signature.hex()}\n"))
        self.assertEqual(self.store.load(self.key_id).head, head)
        for directory in (self.store.directory, os.path.dirname(self.store.directory)):
            self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700, directory)
        self.assertEqual([name for name in os.listdir(self.store.directory)], [f"{self.key_id}.head"])

    def test_extensions_are_accepted_and_replace_the_stored_head(self):
        self.check(self.server.head(10))
        for size in (11, 16, 17, 100):
            verified = self.check(self.server.head(size, timestamp=1_720_000_000_000_000 + size))
            self.assertEqual(verified.relation, "extends")
            self.assertEqual(self.store.load(self.key_id).head.tree_size, size)
        self.assertEqual(self.server.asked[-1], (17, 100))
        asked = len(self.server.asked)
        self.assertEqual(self.check(self.server.head(100, timestamp=1_720_000_000_000_100)).relation, "same")
        self.assertEqual(len(self.server.asked), asked)

    def test_a_smaller_tree_is_a_rollback_naming_both_sizes(self):
        self.check(self.server.head(20))
        message = self.assert_refused(self.server.head(12), RollbackError)
        self.assertTrue(message.startswith("rollback: the server's signed tree has 12 events, fewer than "
                                           "the head of 20 events you verified on "), message)
        self.assertIn("WIB", message)

    def test_the_same_size_with_another_root_is_a_fork(self):
        self.check(self.server.head(20))
        message = self.assert_refused(self.server.head(20, variant=b"rewritten "), ForkError)
        self.assertTrue(message.startswith("fork: the server's signed tree of 20 events has root "), message)

    def test_a_larger_tree_of_another_history_is_a_fork(self):
        self.check(self.server.head(20))
        message = self.assert_refused(self.server.head(30, variant=b"rewritten "), ForkError)
        self.assertTrue(message.startswith("fork: the server's tree of size 30 does not extend the one of "
                                           "size 20 you verified"), message)

    def test_bad_consistency_proofs_are_refused(self):
        self.check(self.server.head(20))
        head = self.server.head(37)
        good = self.server.subproof(20, self.server.data, True)
        for what, bad in tampered(good):
            self.server.forced_proof = bad
            self.assert_refused(head, ForkError)
        self.server.forced_proof = []
        self.assert_refused(head, ForkError)
        self.server.forced_proof = good
        self.assertEqual(self.check(head).relation, "extends")

    def test_bad_signatures_are_refused_before_any_comparison(self):
        self.check(self.server.head(8))
        good = self.server.head(9)
        fields = good.__dict__
        flipped = bytearray(good.signature)
        flipped[5] ^= 0x40
        for change in (dict(signature=bytes(flipped)), dict(tree_size=10), dict(timestamp_micros=good.timestamp_micros + 1),
                       dict(root_hash=bytes(32)), dict(signature=good.signature[:63])):
            self.assert_refused(SignedHead(**{**fields, **change}), BadSignatureError)
        other_sign, other_public = signer()
        by_other = signed(other_sign, other_public, 9, good.root_hash)
        self.assertIn("not the key you trust", self.assert_refused(by_other, BadSignatureError))
        self.assert_refused(SignedHead(**{**by_other.__dict__, "key_id": self.key_id}), BadSignatureError)
        self.assertEqual(self.server.asked, [])
        self.assertEqual(self.check(good).relation, "extends")

    def test_an_edited_store_file_is_a_trust_store_error(self):
        head = self.server.head(8)
        self.check(head)
        self.store.store(SignedHead(**{**head.__dict__, "tree_size": 2}))  # lowered to let a rollback pass
        with self.assertRaisesRegex(TrustStoreError, "not signed by the key you trust"):
            self.check(self.server.head(5))
        with open(self.store.path_for(self.key_id), "w") as stream:
            stream.write("not a head\n")
        with self.assertRaisesRegex(TrustStoreError, "not a head witness"):
            self.check(head)

    def test_witness_parsing_names_the_field(self):
        head = self.server.head(3)
        text = trust.format_head_witness(head)
        self.assertEqual(trust.parse_head_witness(text), head)
        for broken, field in ((text.replace("tree_size 3", "tree_size x"), "tree_size"),
                              (text.replace(head.root_hash.hex(), head.root_hash.hex().upper()), "root_hash"),
                              (text.replace(f"key_id {self.key_id}", "key_id 12"), "key_id"),
                              (text + "tree_size 4\n", "malformed line"),
                              (text.replace("v1", "v2", 1), "first line")):
            with self.assertRaisesRegex(TrustStoreError, field):
                trust.parse_head_witness(broken, "f.head")


if __name__ == "__main__":
    unittest.main()
