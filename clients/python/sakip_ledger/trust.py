"""Tamper evidence on the client: check the ledger without trusting its operator.

The server keeps an RFC 9162 Merkle tree over its log (leaf *i* is
``SHA-256(0x00 || hash of the event at position i + 1)``) and signs *tree
heads* with its Ed25519 key: "the first N events have root R". This module
verifies, with nothing but the answers and the public key the inspector got
from the operator out of band:

- inclusion proofs (an event is at its position in a signed tree) and
  consistency proofs (a larger signed tree extends a smaller one), written
  here from the definitions of RFC 9162 sections 2.1.3.2 and 2.1.4.2;
- the signature of a head over its exact signing input
  (``ledger/integrity/tree_head.h``)::

      b"sakip-ledger/tree-head/v1" 0x00 || tree_size:u64 || timestamp_micros:i64 || root_hash:32

  integers big-endian;
- a new head against the last head this client verified with the same key,
  kept in ``<trust dir>/<key_id>.head`` (default
  ``~/.sakip-ledger/trusted-heads``) in the head-witness format of
  ``ledger/integrity/head_witness.h``, the same files ``ledgerctl
  signed-head`` reads and writes: a smaller tree is a rollback, the same size
  with another root or a larger tree without a valid consistency proof is a
  fork. A head replaces the stored one only once it is verified.

``LedgerClient.verified_head`` and ``LedgerClient.verify_event`` put these
together; the functions here need no server (tests use them directly).
Ed25519 comes from Debian's python3-cryptography.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Union

from .errors import BadSignatureError, ForkError, RollbackError, TrustStoreError
from .times import format_wib

HASH_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

#: The root of the empty tree: SHA-256 of nothing.
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: What a head's signature covers starts with this domain, NUL included.
SIGNING_DOMAIN = b"sakip-ledger/tree-head/v1\x00"

#: The first line of a head-witness file.
HEAD_WITNESS_MAGIC = "sakip-ledger head witness v1"


# -- RFC 9162 hashes and proofs ---------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of a leaf (RFC 9162 2.1.1). The ledger's
    leaf data is the event's hash."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node (RFC 9162 2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _shift_until_odd_or_zero(fn: int, sn: int):
    while fn & 1 == 0 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """True when ``proof`` (the PATH, leaf side first) shows the leaf with hash
    ``leaf`` at ``index`` (0-based: position - 1) in the tree of ``tree_size``
    leaves whose root is ``root``. RFC 9162 2.1.3.2."""
    if index < 0 or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """True when ``proof`` (RFC 9162 PROOF) shows that the tree of ``old_size``
    leaves with root ``old_root`` is a prefix of the tree of ``new_size``
    leaves with root ``new_root``. RFC 9162 2.1.4.2; equal sizes need equal
    roots and an empty proof, and the empty tree (root ``EMPTY_ROOT``) is a
    prefix of every tree, as in ledger/integrity/merkle.h."""
    if old_size < 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# -- Signed tree heads ------------------------------------------------------------------

@dataclass(frozen=True)
class SignedHead:
    """A signed tree head (``ledger.v1.SignedTreeHead``)."""
    tree_size: int
    timestamp_micros: int
    root_hash: bytes
    key_id: str
    signature: bytes

    @classmethod
    def from_proto(cls, message) -> "SignedHead":
        """From a ``ledger.v1.SignedTreeHead``."""
        return cls(message.tree_size, message.timestamp_micros, bytes(message.root_hash),
                   message.key_id, bytes(message.signature))

    def signing_input(self) -> bytes:
        """The exact bytes the signature covers."""
        return SIGNING_DOMAIN + struct.pack(">Qq", self.tree_size, self.timestamp_micros) + self.root_hash

    def describe(self) -> str:
        """``"237 events, root 5d2f..., signed 2026-11-28 23:51:22 WIB"``."""
        return (f"{self.tree_size} events, root {self.root_hash.hex()}, "
                f"signed {format_wib(self.timestamp_micros)}")


def key_id_of(public_key: bytes) -> str:
    """Hex of the first 8 bytes of SHA-256(public key): how heads and files
    name a key."""
    return hashlib.sha256(public_key).digest()[:8].hex()


def _ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise ImportError("verifying signed tree heads needs Debian's python3-cryptography "
                          "(scripts/install-deps.sh): " + str(error)) from error
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def head_problem(head: SignedHead, public_key: bytes) -> Optional[str]:
    """None when ``head`` is signed by ``public_key`` and names it; otherwise
    what is wrong, naming the field."""
    if len(head.root_hash) != HASH_BYTES:
        return f"signed_head.root_hash has {len(head.root_hash)} bytes, expected {HASH_BYTES}"
    if len(head.signature) != SIGNATURE_BYTES:
        return f"signed_head.signature has {len(head.signature)} bytes, expected {SIGNATURE_BYTES}"
    if not 0 <= head.tree_size < 1 << 64:
        return f"signed_head.tree_size {head.tree_size} is not a uint64"
    if not -(1 << 63) <= head.timestamp_micros < 1 << 63:
        return f"signed_head.timestamp_micros {head.timestamp_micros} is not an int64"
    trusted = key_id_of(public_key)
    if head.key_id != trusted:
        return (f"the head names key {head.key_id}, not the key you trust ({trusted}): "
                f"the server signs with another key")
    if not _ed25519_verify(public_key, head.signature, head.signing_input()):
        return (f"the head of {head.tree_size} events is not signed by key {trusted} "
                f"(the signature does not verify)")
    return None


def verify_signed_head(head: SignedHead, public_key: bytes) -> bool:
    """True when ``head`` carries a valid Ed25519 signature by ``public_key``
    over its signing input and names that key."""
    return head_problem(head, public_key) is None


KeyLike = Union[bytes, str, "os.PathLike[str]"]


def load_public_key(key: KeyLike) -> bytes:
    """The trusted Ed25519 public key (32 bytes) from: the 32 bytes
    themselves, 64 hex digits, or the path of the server's ``.pub`` file
    (``<signing key>.pub``: hex and a newline). ``ValueError`` naming what is
    wrong."""
    if isinstance(key, (bytes, bytearray)):
        if len(key) != PUBLIC_KEY_BYTES:
            raise ValueError(f"public_key: {len(key)} bytes, expected {PUBLIC_KEY_BYTES}")
        return bytes(key)
    text = os.fspath(key)
    if len(text) == 2 * PUBLIC_KEY_BYTES and _is_hex(text) and not os.path.exists(text):
        return bytes.fromhex(text)
    try:
        with open(text, "r", encoding="ascii") as stream:
            content = stream.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"public_key: {text!r} is neither 64 hex digits nor a readable .pub "
                         f"file ({error})") from None
    if len(content) != 2 * PUBLIC_KEY_BYTES or not _is_hex(content):
        raise ValueError(f"public_key: file {text} does not hold {2 * PUBLIC_KEY_BYTES} hex digits "
                         f"(an Ed25519 public key); it has {len(content)} characters")
    return bytes.fromhex(content)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


# -- The trust store --------------------------------------------------------------------

def default_trust_dir() -> str:
    """``~/.sakip-ledger/trusted-heads``, as ``ledgerctl`` uses."""
    return os.path.join(os.path.expanduser("~"), ".sakip-ledger", "trusted-heads")


def format_head_witness(head: SignedHead) -> str:
    """The head-witness text of ledger/integrity/head_witness.h."""
    return (f"{HEAD_WITNESS_MAGIC}\n"
            f"tree_size {head.tree_size}\n"
            f"timestamp_micros {head.timestamp_micros}\n"
            f"root_hash {head.root_hash.hex()}\n"
            f"key_id {head.key_id}\n"
            f"signature {head.signature.hex()}\n")


def parse_head_witness(text: str, path: str = "head witness") -> SignedHead:
    """Parses the head-witness text; ``TrustStoreError`` naming the file and
    the field when it is not one."""
    def bad(what: str) -> TrustStoreError:
        return TrustStoreError(f"head witness {path}: {what}")

    lines = [line for line in text.split("\n") if line]
    if not lines or lines[0] != HEAD_WITNESS_MAGIC:
        raise bad("not a head witness (first line)")
    fields = {}
    for line in lines[1:]:
        name, space, value = line.partition(" ")
        if not space or name in fields:
            raise bad(f"malformed line {line}")
        fields[name] = value

    def lower_hex(name: str, size: int) -> bytes:
        value = fields.get(name, "")
        if len(value) != 2 * size or not all(c in "0123456789abcdef" for c in value):
            raise bad(name)
        return bytes.fromhex(value)

    def integer(name: str) -> int:
        value = fields.get(name, "")
        digits = value[1:] if value.startswith("-") else value
        if not digits.isdigit() or not digits.isascii():
            raise bad(name)
        return int(value)

    tree_size = integer("tree_size")
    if tree_size < 0:
        raise bad("tree_size")
    timestamp = integer("timestamp_micros")
    root = lower_hex("root_hash", HASH_BYTES)
    key_id = lower_hex("key_id", 8).hex()
    signature = lower_hex("signature", SIGNATURE_BYTES)
    return SignedHead(tree_size, timestamp, root, key_id, signature)


@dataclass(frozen=True)
class TrustedHead:
    """A head this client verified, and when it stored it (the file's time)."""
    head: SignedHead
    verified_at_micros: int

    def describe(self) -> str:
        return (f"the head of {self.head.tree_size} events you verified on "
                f"{format_wib(self.verified_at_micros)} (signed {format_wib(self.head.timestamp_micros)})")


class TrustStore:
    """The last verified head per server key: ``<directory>/<key_id>.head``.

    The directory (default ``default_trust_dir()``) and its missing parents
    are created with mode 0700 on the first store. Writes are atomic and
    synced (temporary file, fsync, rename, fsync of the directory)."""

    def __init__(self, directory: Optional[str] = None):
        self.directory = os.fspath(directory) if directory is not None else default_trust_dir()

    def path_for(self, key_id: str) -> str:
        return os.path.join(self.directory, f"{key_id}.head")

    def load(self, key_id: str) -> Optional[TrustedHead]:
        """The last head verified with key ``key_id``, or None."""
        path = self.path_for(key_id)
        try:
            with open(path, "r", encoding="ascii") as stream:
                text = stream.read()
            verified_at = os.stat(path).st_mtime_ns // 1000
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise TrustStoreError(f"head witness {path}: cannot read it: {error}") from None
        return TrustedHead(parse_head_witness(text, path), verified_at)

    def store(self, head: SignedHead) -> None:
        """Replaces the head of ``head.key_id``."""
        try:
            self._make_private_dirs(self.directory)
            path = self.path_for(head.key_id)
            descriptor, temporary = tempfile.mkstemp(prefix=f".{head.key_id}.", suffix=".tmp",
                                                     dir=self.directory)
            try:
                with os.fdopen(descriptor, "w", encoding="ascii") as stream:
                    stream.write(format_head_witness(head))
                    stream.flush()
                    os.fsync(stream.fileno())
                os.chmod(temporary, 0o644)
                os.replace(temporary, path)
            except BaseException:
                if os.path.exists(temporary):
                    os.remove(temporary)
                raise
            directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise TrustStoreError(f"cannot store the verified head in {self.directory}: {error}") from None

    @staticmethod
    def _make_private_dirs(directory: str) -> None:
        # os.makedirs gives its mode to the last directory only; the parents
        # (~/.sakip-ledger) say which servers this person checks too.
        missing = []
        current = os.path.abspath(directory)
        while not os.path.isdir(current):
            missing.append(current)
            current = os.path.dirname(current)
        for path in reversed(missing):
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass


# -- Checking a head against the store --------------------------------------------------

@dataclass(frozen=True)
class VerifiedHead:
    """A signed head that verified with the trusted key and extends (or is)
    the last head the client verified with it.

    ``relation``: ``"first"`` (nothing was stored for this key), ``"same"``
    (the same tree as the stored head) or ``"extends"`` (a larger tree, with
    a verified consistency proof). ``previous``: the stored head it was
    checked against. ``trust_file``: where the head of this key is kept."""
    head: SignedHead
    relation: str
    previous: Optional[TrustedHead]
    trust_file: str
    recorded_at_position: int = 0


ConsistencyProofFetcher = Callable[[int, int], Sequence[bytes]]


def check_signed_head(head: SignedHead, public_key: bytes, store: TrustStore,
                      consistency_proof: ConsistencyProofFetcher,
                      recorded_at_position: int = 0) -> VerifiedHead:
    """Verifies ``head`` with ``public_key`` and against the store's head of
    that key, then stores it (when it is new). ``consistency_proof(old_size,
    new_size)`` returns the server's RFC 9162 PROOF; it is checked against
    the two SIGNED roots, never roots sent next to it.

    Raises ``BadSignatureError``, ``RollbackError`` or ``ForkError`` (the
    store is then untouched), or ``TrustStoreError``."""
    problem = head_problem(head, public_key)
    if problem is not None:
        raise BadSignatureError(f"bad signature: {problem}")
    trust_file = store.path_for(head.key_id)
    previous = store.load(head.key_id)
    if previous is None:
        store.store(head)
        return VerifiedHead(head, "first", None, trust_file, recorded_at_position)
    if head_problem(previous.head, public_key) is not None:
        # Comparing against an edited file would prove nothing.
        raise TrustStoreError(f"trusted head {trust_file} is not signed by the key you trust: the file "
                              f"was edited or damaged; move it away to start again from the server's "
                              f"next head")
    old = previous.head
    if head.tree_size < old.tree_size:
        raise RollbackError(f"rollback: the server's signed tree has {head.tree_size} events, fewer "
                            f"than {previous.describe()}: the log was rolled back or truncated")
    if head.tree_size == old.tree_size:
        if head.root_hash != old.root_hash:
            raise ForkError(f"fork: the server's signed tree of {head.tree_size} events has root "
                            f"{head.root_hash.hex()}, but {previous.describe()} has root "
                            f"{old.root_hash.hex()}: two different histories of the same size")
        if head.timestamp_micros > old.timestamp_micros:
            store.store(head)
        return VerifiedHead(head, "same", previous, trust_file, recorded_at_position)
    proof = [bytes(h) for h in consistency_proof(old.tree_size, head.tree_size)]
    if not verify_consistency(old.tree_size, head.tree_size, old.root_hash, head.root_hash, proof):
        raise ForkError(f"fork: the server's tree of size {head.tree_size} does not extend the one of "
                        f"size {old.tree_size} you verified (on {format_wib(previous.verified_at_micros)}): "
                        f"its consistency proof does not verify against the two signed roots")
    store.store(head)
    return VerifiedHead(head, "extends", previous, trust_file, recorded_at_position)


@dataclass(frozen=True)
class ProvenEvent:
    """An event whose exact stored bytes are proven at ``position`` of the log
    the verified head signs: ``envelope`` is parsed from ``stored_bytes``
    (never from the server's other fields), ``hash`` = SHA-256 of them,
    ``proof`` the inclusion path checked against the signed root."""
    event_id: str
    position: int
    envelope: object
    stored_bytes: bytes
    hash: bytes
    leaf_hash: bytes
    proof: List[bytes]
    verified_head: VerifiedHead
