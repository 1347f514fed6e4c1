"""The exceptions of the wrapper: ``LedgerError`` for a refused or failed
call; ``VerificationError`` and its subclasses when what the server answered
does not verify against the key and the head the client trusts (trust.py);
``TrustStoreError`` when the client's own store of verified heads is
unusable."""

from __future__ import annotations

import grpc

#: Codes after which the same call may simply be retried (appends with the
#: same event ids are idempotent; see proto/ledger/v1/ledger.proto).
RETRYABLE_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
})


class LedgerError(Exception):
    """A call to ledgerd failed.

    Attributes:
        code: the ``grpc.StatusCode`` (``INVALID_ARGUMENT``, ``NOT_FOUND``, ...).
        message: the server's message; for ``INVALID_ARGUMENT`` and
            ``FAILED_PRECONDITION`` it names the field, e.g.
            ``"events[0].realization_recorded.quarter: 5 is outside 1..4"``.
        method: the RPC, e.g. ``"ReportService.RecordEvents"``.

    ``str(error)`` is ``"ReportService.RecordEvents: INVALID_ARGUMENT: events[0]..."``.
    """

    def __init__(self, code: grpc.StatusCode, message: str, method: str = ""):
        self.code = code
        self.message = message
        self.method = method
        prefix = f"{method}: " if method else ""
        super().__init__(f"{prefix}{code.name}: {message}")

    @property
    def code_name(self) -> str:
        """The code's name, ``"NOT_FOUND"``."""
        return self.code.name

    @property
    def retryable(self) -> bool:
        """True for codes after which retrying the same call is the answer
        (UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED)."""
        return self.code in RETRYABLE_CODES

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, method: str = "") -> "LedgerError":
        """Wraps the ``grpc.RpcError`` that a stub raised."""
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else str(error)
        return cls(code or grpc.StatusCode.UNKNOWN, details or "", method)


class VerificationError(Exception):
    """What the server answered does not verify: a signed head, a proof or an
    event's bytes. The server is wrong, or lying; nothing was stored in the
    trust store. Catch this to refuse the server whatever the reason; catch
    a subclass to tell the reasons apart.

    Attributes:
        message: what failed, e.g. ``"rollback: the server's signed tree has
            12 events, fewer than the head of 20 events you verified on ..."``.
    """

    #: "bad signature", "rollback", "fork", "bad event" (the subclasses).
    kind = "verification failed"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class BadSignatureError(VerificationError):
    """The signed head is not signed by the trusted key (or names another key,
    or is malformed)."""
    kind = "bad signature"


class RollbackError(VerificationError):
    """The server's signed tree is smaller than the last head the client
    verified: its log was rolled back or truncated."""
    kind = "rollback"


class ForkError(VerificationError):
    """The server's signed tree does not extend the last head the client
    verified (same size with another root, or no valid consistency proof):
    it shows this client another history."""
    kind = "fork"


class EventProofError(VerificationError):
    """An event's stored bytes do not hash to what the server claims, or its
    inclusion proof does not verify against the signed root."""
    kind = "bad event"


class TrustStoreError(Exception):
    """The client's own trust store cannot be used: a head file that is not a
    head, or that no longer verifies with the trusted key (edited or
    damaged), or a directory that cannot be written. Not the server's fault;
    move the file away to start again (losing the protection it gave)."""
