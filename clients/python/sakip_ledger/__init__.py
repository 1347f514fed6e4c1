"""sakip_ledger: a small Python client of the SAKIP audit ledger (ledgerd).

    from sakip_ledger import LedgerClient, SubmissionOf, WIB, connect

    with LedgerClient("127.0.0.1:7070") as client:
        print(client.head().position)

    # TLS and a bearer token (or the LEDGER_* environment, as ledgerctl):
    with connect("ledger.example:7070", tls_ca="ca.pem", token_file="me.token") as client:
        print(client.head().position)

Modules: ``client`` (LedgerClient: LedgerService, ReportService,
AuditService), ``connection`` (connect: TLS, client certificates, bearer
tokens, the LEDGER_* environment), ``replay`` (resumable filtered replay), ``events`` (decoding
and building SAKIP events, figure keys), ``numbers`` (exact figures,
Indonesian formatting), ``times`` (epoch microseconds, WIB), ``trust`` (RFC 9162 proofs, signed
tree heads and the store of verified heads: check the ledger without
trusting its operator), ``errors`` (LedgerError, VerificationError and its
subclasses). The generated stubs (``ledger.v1``, ``sakip.v1``) must be on
``sys.path``: see docs/INTEGRATORS.md.
"""

from ._stubs import (  # noqa: F401  (re-exported for convenience)
    audit_service_pb2,
    event_pb2,
    events_pb2,
    ledger_pb2,
    report_service_pb2,
)
from .client import DEFAULT_ADDRESS, LedgerClient, SubmissionOf, to_moment
from .connection import (ConnectionSettings, add_connection_arguments, channel_credentials, connect,
                         connect_from_arguments, resolve_settings)
from .errors import (BadSignatureError, EventProofError, ForkError, LedgerError, RollbackError,
                     TrustStoreError, VerificationError)
from .events import (
    SAKIP_CONTENT_TYPE,
    changed_figure_keys,
    decode_sakip,
    describe_event,
    event_to_dict,
    index_figures,
    is_sakip,
    parse_interchange_line,
    proposed,
    read_interchange,
    sakip_case,
    sakip_event,
    stream_matches,
    unit_is_under,
)
from .numbers import figure_fraction, figure_text, format_id, format_plain, format_rupiah, to_fraction
from .replay import Replay, ReplayBatch, ResilientReplay, resilient_replay
from .times import WIB, format_wib, from_micros, parse_moment_text, to_micros
from .trust import (ProvenEvent, SignedHead, TrustedHead, TrustStore, VerifiedHead, load_public_key,
                    verify_consistency, verify_inclusion, verify_signed_head)

__all__ = [
    "DEFAULT_ADDRESS", "LedgerClient", "ConnectionSettings", "add_connection_arguments", "channel_credentials", "connect",
    "connect_from_arguments",
    "resolve_settings", "LedgerError", "Replay", "ReplayBatch", "ResilientReplay", "SubmissionOf",
    "SAKIP_CONTENT_TYPE", "WIB", "changed_figure_keys", "decode_sakip", "describe_event",
    "event_to_dict", "figure_fraction", "figure_text", "format_id", "format_plain",
    "format_rupiah", "format_wib", "from_micros", "index_figures", "is_sakip",
    "parse_interchange_line", "parse_moment_text", "proposed", "read_interchange",
    "resilient_replay", "sakip_case", "sakip_event", "stream_matches", "to_fraction",
    "to_micros", "to_moment", "unit_is_under",
    "BadSignatureError", "EventProofError", "ForkError", "RollbackError", "TrustStoreError",
    "VerificationError", "ProvenEvent", "SignedHead", "TrustedHead", "TrustStore", "VerifiedHead",
    "load_public_key", "verify_consistency", "verify_inclusion", "verify_signed_head",
]
