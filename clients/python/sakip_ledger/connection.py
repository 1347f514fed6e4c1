"""Connecting to a ledgerd that has access control on (docs/ACCESS.md): TLS
trusting a CA, optionally a client certificate (mutual TLS), and a bearer
token sent as ``authorization: Bearer <token>`` on every call.

    from sakip_ledger import connect

    with connect("ledger.lumajang.go.id:7070", tls_ca="ca.pem",
                 token_file="operator.klakah.token") as client:
        print(client.head().position)

    # the same from the environment, as ledgerctl reads it:
    #   LEDGER_SERVER, LEDGER_TLS_CA, LEDGER_TLS_CERT, LEDGER_TLS_KEY,
    #   LEDGER_TLS_SERVER_NAME, LEDGER_TOKEN_FILE, LEDGER_TOKEN
    with connect() as client:
        ...

The rules are ledgerctl's: without a CA the connection is plaintext; a
client certificate needs its key; a token or a client certificate needs
TLS (a token is never sent in clear). A broken combination raises
``ValueError`` before anything is sent; an unreadable file raises ``OSError``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Union

import grpc

#: The environment variables ``connect`` reads (ledgerctl reads the same).
ENVIRONMENT = {
    "server": "LEDGER_SERVER",
    "tls_ca": "LEDGER_TLS_CA",
    "client_cert": "LEDGER_TLS_CERT",
    "client_key": "LEDGER_TLS_KEY",
    "tls_server_name": "LEDGER_TLS_SERVER_NAME",
    "token_file": "LEDGER_TOKEN_FILE",
    "token": "LEDGER_TOKEN",
}

PemLike = Union[None, str, bytes, os.PathLike]


def _read_pem(value: PemLike, what: str) -> Optional[bytes]:
    """PEM bytes from a file path (str or PathLike) or the PEM itself (bytes)."""
    if value is None or value == "" or value == b"":
        return None
    if isinstance(value, bytes):
        return value
    with open(value, "rb") as stream:
        data = stream.read()
    if not data.strip():
        raise ValueError(f"{what}: {os.fspath(value)} is empty")
    return data


def _read_token(token: Optional[str], token_file: Union[None, str, os.PathLike]) -> Optional[str]:
    """The token text, trimmed; None for no token ("" included). An empty
    token file is an error (a mistake, not a wish for no token)."""
    if token_file:
        with open(token_file, "r", encoding="utf-8") as stream:
            text = stream.read().strip()
        if not text:
            raise ValueError(f"token: empty ({os.fspath(token_file)})")
        return text
    return token.strip() or None if token is not None else None


@dataclass(frozen=True)
class ConnectionSettings:
    """What ``connect`` resolved from its arguments and the environment.
    Secrets stay out of ``repr``."""
    server: str
    tls_ca: Optional[bytes] = None
    client_cert: Optional[bytes] = None
    client_key: Optional[bytes] = None
    tls_server_name: Optional[str] = None
    token: Optional[str] = None

    @property
    def tls(self) -> bool:
        return self.tls_ca is not None

    def __repr__(self) -> str:
        return (f"ConnectionSettings(server={self.server!r}, tls={self.tls}, "
                f"client_certificate={self.client_cert is not None}, "
                f"tls_server_name={self.tls_server_name!r}, token={'set' if self.token else None})")

    def channel_credentials(self) -> Optional[grpc.ChannelCredentials]:
        """``None`` for plaintext; else TLS credentials, composed with the
        bearer token's call credentials when there is a token."""
        return channel_credentials(self.tls_ca, self.client_cert, self.client_key, self.token)

    def channel_options(self) -> list:
        if self.tls and self.tls_server_name:
            return [("grpc.ssl_target_name_override", self.tls_server_name)]
        return []


def channel_credentials(tls_ca: PemLike = None, client_cert: PemLike = None,
                        client_key: PemLike = None,
                        token: Optional[str] = None) -> Optional[grpc.ChannelCredentials]:
    """The ``grpc.ChannelCredentials`` of a connection to ledgerd, or ``None``
    for plaintext (no ``tls_ca``).

    ``tls_ca``, ``client_cert`` and ``client_key`` are file paths, or the PEM
    itself as bytes. ``token`` is the bearer token text.
    """
    ca = _read_pem(tls_ca, "tls_ca")
    cert = _read_pem(client_cert, "client_cert")
    key = _read_pem(client_key, "client_key")
    if (cert is None) != (key is None):
        raise ValueError("client_cert, client_key: give both or neither")
    if ca is None:
        if cert is not None or token:
            raise ValueError("tls_ca: needed to send a client certificate or a token "
                             "(never in clear)")
        return None
    credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                               certificate_chain=cert)
    if token:
        # "authorization: Bearer <token>" on every call of the channel.
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token))
    return credentials


def resolve_settings(server: Optional[str] = None, tls_ca: PemLike = None,
                     client_cert: PemLike = None, client_key: PemLike = None,
                     token: Optional[str] = None,
                     token_file: Union[None, str, os.PathLike] = None,
                     tls_server_name: Optional[str] = None,
                     environ: Optional[Mapping[str, str]] = None) -> ConnectionSettings:
    """The settings of a connection: each argument, or when it is ``None``
    its environment variable (``ENVIRONMENT``), read from ``environ``
    (default ``os.environ``; pass ``{}`` to ignore the environment).

    A token: ``token``, else ``token_file``, else ``$LEDGER_TOKEN_FILE``,
    else ``$LEDGER_TOKEN``.
    """
    from .client import DEFAULT_ADDRESS  # (client imports this module)

    env = os.environ if environ is None else environ

    def pick(value, name):
        return value if value is not None else (env.get(ENVIRONMENT[name]) or None)

    server = pick(server, "server") or DEFAULT_ADDRESS
    tls_ca = pick(tls_ca, "tls_ca")
    client_cert = pick(client_cert, "client_cert")
    client_key = pick(client_key, "client_key")
    tls_server_name = pick(tls_server_name, "tls_server_name")
    if token is None and token_file is None:
        token_file = env.get(ENVIRONMENT["token_file"]) or None
        if token_file is None:
            token = env.get(ENVIRONMENT["token"]) or None
    settings = ConnectionSettings(
        server=server,
        tls_ca=_read_pem(tls_ca, "tls_ca"),
        client_cert=_read_pem(client_cert, "client_cert"),
        client_key=_read_pem(client_key, "client_key"),
        tls_server_name=tls_server_name,
        token=_read_token(token, token_file))
    settings.channel_credentials()  # checks the combination now
    return settings


def connect(server: Optional[str] = None, tls_ca: PemLike = None, client_cert: PemLike = None,
            client_key: PemLike = None, token: Optional[str] = None,
            token_file: Union[None, str, os.PathLike] = None,
            tls_server_name: Optional[str] = None, timeout_s: float = 10.0,
            options: Sequence = (), environ: Optional[Mapping[str, str]] = None):
    """A ``LedgerClient`` to ``server`` with TLS, a client certificate and a
    bearer token as given, or as the environment says (``resolve_settings``).

    Args:
        server: ``"host:port"`` (default ``$LEDGER_SERVER``, else 127.0.0.1:7070).
        tls_ca: the CA that signed the server's certificate (PEM file, or
            bytes); without it the connection is plaintext.
        client_cert, client_key: a client certificate and its key (mutual TLS).
        token, token_file: the bearer token, or a file holding it (as made by
            ``ledgerctl token-new``).
        tls_server_name: the name to check in the server's certificate when
            it differs from the host in ``server``.
        timeout_s, options: as ``LedgerClient``.
        environ: where the ``LEDGER_*`` variables come from (default
            ``os.environ``; ``{}`` ignores them).

    Authentication failures surface on the first call: ``LedgerError`` with
    ``UNAUTHENTICATED`` (no or unknown token or certificate) or
    ``PERMISSION_DENIED`` (the principal's roles or scope do not allow it);
    a failed TLS handshake is ``UNAVAILABLE``.
    """
    from .client import LedgerClient

    settings = resolve_settings(server, tls_ca, client_cert, client_key, token, token_file,
                                tls_server_name, environ)
    return LedgerClient(settings.server, timeout_s=timeout_s,
                        options=[*settings.channel_options(), *options],
                        credentials=settings.channel_credentials())


def add_connection_arguments(parser) -> None:
    """Adds ledgerctl's connection flags to an ``argparse`` parser: --server,
    --tls-ca, --tls-cert, --tls-key, --tls-server-name, --token-file (each
    defaulting to its LEDGER_* variable). ``connect_from_arguments`` uses them."""
    from .client import DEFAULT_ADDRESS

    group = parser.add_argument_group(
        "connection (as ledgerctl; each defaults to its LEDGER_* environment variable)")
    group.add_argument("--server", default=os.environ.get("LEDGER_SERVER") or DEFAULT_ADDRESS,
                       help=f"ledgerd host:port (default: $LEDGER_SERVER or {DEFAULT_ADDRESS})")
    group.add_argument("--tls-ca", metavar="FILE",
                       help="connect with TLS trusting this CA (PEM); $LEDGER_TLS_CA; "
                            "without it: plaintext")
    group.add_argument("--tls-cert", metavar="FILE",
                       help="client certificate for mutual TLS; $LEDGER_TLS_CERT")
    group.add_argument("--tls-key", metavar="FILE", help="its private key; $LEDGER_TLS_KEY")
    group.add_argument("--tls-server-name", metavar="NAME",
                       help="name to check in the server's certificate; $LEDGER_TLS_SERVER_NAME")
    group.add_argument("--token-file", metavar="FILE",
                       help="file holding the bearer token; $LEDGER_TOKEN_FILE, or the token "
                            "in $LEDGER_TOKEN")


def connect_from_arguments(args, timeout_s: float = 10.0, environ: Optional[Mapping[str, str]] = None):
    """``connect`` with the flags of ``add_connection_arguments``."""
    return connect(args.server, tls_ca=args.tls_ca, client_cert=args.tls_cert,
                   client_key=args.tls_key, token_file=args.token_file,
                   tls_server_name=args.tls_server_name, timeout_s=timeout_s, environ=environ)
