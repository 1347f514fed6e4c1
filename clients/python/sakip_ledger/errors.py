"""The one exception the wrapper raises for a refused or failed call."""

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
