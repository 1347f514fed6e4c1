"""Access control from the Python client (issue #6): ``connect()`` with TLS,
a client certificate and a bearer token, or the LEDGER_* environment.

``ConnectionUnitTest`` needs no server: which credentials ``connect`` builds
from which arguments and variables, and the combinations it refuses before
sending anything.

``AccessEndToEndTest`` runs a real ledgerd with TLS, client certificates and
a principals file: a throwaway CA, server and client certificates made with
the ``openssl`` command (skipped without it), tokens made by ``ledgerctl
token-new``, the reference report imported before access control is turned
on. Then: a token over TLS reads its unit's report; an action outside the
principal's role is PERMISSION_DENIED; no token is UNAUTHENTICATED; the
client certificate alone identifies the inspector; the environment works
like ledgerctl's; plaintext against the TLS server is UNAVAILABLE.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import grpc

from sakip_ledger import LedgerClient, LedgerError, channel_credentials, connect, resolve_settings
from sakip_ledger.connection import ENVIRONMENT

from support import EXAMPLES_DIR, REFERENCE_REPORT, Ledgerd, ledgerctl, require_env

UNIT = "35.08.19"
OTHER_UNIT = "35.09.01"
INSPECTOR_CN = "inspektorat.lumajang.go.id"

# Syntactically a PEM certificate; never parsed by the unit tests (grpc
# parses it only when a channel connects).
FAKE_PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def write(path, text, mode="w"):
    with open(path, mode) as stream:
        stream.write(text)
    return path


class ConnectionUnitTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="py-connect-unit-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.ca = write(os.path.join(self.dir, "ca.pem"), FAKE_PEM, "wb")
        self.cert = write(os.path.join(self.dir, "client.pem"), FAKE_PEM, "wb")
        self.key = write(os.path.join(self.dir, "client.key"), b"-----BEGIN PRIVATE KEY-----\n", "wb")
        self.token_file = write(os.path.join(self.dir, "me.token"), "  s3cret-token\n")

    def test_plaintext_without_a_ca(self):
        self.assertIsNone(channel_credentials())
        settings = resolve_settings("h:1", environ={})
        self.assertFalse(settings.tls)
        self.assertIsNone(settings.channel_credentials())
        self.assertEqual(settings.channel_options(), [])

    def test_tls_certificate_and_token_are_composed(self):
        for kwargs in ({"tls_ca": self.ca},
                       {"tls_ca": FAKE_PEM, "token": "t"},
                       {"tls_ca": self.ca, "client_cert": self.cert, "client_key": self.key},
                       {"tls_ca": self.ca, "client_cert": self.cert, "client_key": self.key,
                        "token": "t"}):
            with self.subTest(kwargs=sorted(kwargs)):
                self.assertIsInstance(channel_credentials(**kwargs), grpc.ChannelCredentials)

    def test_refused_combinations(self):
        with self.assertRaisesRegex(ValueError, "tls_ca"):
            channel_credentials(token="t")
        with self.assertRaisesRegex(ValueError, "tls_ca"):
            channel_credentials(client_cert=self.cert, client_key=self.key)
        with self.assertRaisesRegex(ValueError, "both or neither"):
            channel_credentials(tls_ca=self.ca, client_cert=self.cert)
        with self.assertRaisesRegex(ValueError, "both or neither"):
            channel_credentials(tls_ca=self.ca, client_key=self.key)
        with self.assertRaises(OSError):
            channel_credentials(tls_ca=os.path.join(self.dir, "missing.pem"))
        empty = write(os.path.join(self.dir, "empty.pem"), "")
        with self.assertRaisesRegex(ValueError, "empty"):
            channel_credentials(tls_ca=empty)
        blank = write(os.path.join(self.dir, "blank.token"), "\n")
        with self.assertRaisesRegex(ValueError, "token: empty"):
            resolve_settings("h:1", tls_ca=self.ca, token_file=blank, environ={})
        # A token from the environment without a CA is refused too.
        with self.assertRaisesRegex(ValueError, "never in clear"):
            connect(environ={"LEDGER_TOKEN": "t"})

    def test_environment_like_ledgerctl(self):
        self.assertEqual(set(ENVIRONMENT.values()),
                         {"LEDGER_SERVER", "LEDGER_TLS_CA", "LEDGER_TLS_CERT", "LEDGER_TLS_KEY",
                          "LEDGER_TLS_SERVER_NAME", "LEDGER_TOKEN_FILE", "LEDGER_TOKEN"})
        env = {"LEDGER_SERVER": "ledger.example:7443", "LEDGER_TLS_CA": self.ca,
               "LEDGER_TLS_CERT": self.cert, "LEDGER_TLS_KEY": self.key,
               "LEDGER_TLS_SERVER_NAME": "ledgerd.internal", "LEDGER_TOKEN_FILE": self.token_file,
               "LEDGER_TOKEN": "ignored-when-a-token-file-is-set"}
        settings = resolve_settings(environ=env)
        self.assertEqual(settings.server, "ledger.example:7443")
        self.assertEqual(settings.tls_ca, FAKE_PEM)
        self.assertEqual(settings.client_cert, FAKE_PEM)
        self.assertEqual(settings.token, "s3cret-token")  # trimmed
        self.assertEqual(settings.channel_options(),
                         [("grpc.ssl_target_name_override", "ledgerd.internal")])
        # The token never shows in repr.
        self.assertNotIn("s3cret", repr(settings))
        # LEDGER_TOKEN when there is no token file.
        del env["LEDGER_TOKEN_FILE"]
        self.assertEqual(resolve_settings(environ=env).token, "ignored-when-a-token-file-is-set")
        # Arguments win over the environment; "" turns TLS off explicitly.
        settings = resolve_settings("h:2", tls_ca="", client_cert="", client_key="", token="",
                                    environ={"LEDGER_TLS_CA": self.ca})
        self.assertEqual(settings.server, "h:2")
        self.assertFalse(settings.tls)
        self.assertEqual(resolve_settings(token="direct", tls_ca=self.ca, environ=env).token, "direct")
        # No server anywhere: the default.
        self.assertEqual(resolve_settings(environ={}).server, "127.0.0.1:7070")

    def test_connect_returns_a_client_without_connecting(self):
        # Nothing listens there; building the client sends nothing.
        with connect("127.0.0.1:1", tls_ca=self.ca, token_file=self.token_file, environ={}) as client:
            self.assertIsInstance(client, LedgerClient)
            self.assertEqual(client.address, "127.0.0.1:1")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(directory):
    """ca.pem, server.pem/.key (SAN localhost, 127.0.0.1), client.pem/.key
    (CN inspektorat.lumajang.go.id), ECDSA P-256, valid for two days."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Test CA Kabupaten Lumajang",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    write(os.path.join(directory, "server.ext"),
          "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    write(os.path.join(directory, "client.ext"), "extendedKeyUsage=clientAuth\n")
    for name, cn in (("server", "ledgerd.lumajang.test"), ("client", INSPECTOR_CN)):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
                cwd=directory)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem",
                cwd=directory)


class AccessEndToEndTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_env("LEDGERD")
        require_env("LEDGERCTL")
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("no openssl command to make the test certificates")
        cls.work_dir = tempfile.mkdtemp(prefix="py-access-e2e-")
        try:
            cls._set_up()
        except BaseException:
            shutil.rmtree(cls.work_dir, ignore_errors=True)
            raise

    @classmethod
    def _set_up(cls):
        cls.pki = os.path.join(cls.work_dir, "pki")
        os.mkdir(cls.pki)
        make_pki(cls.pki)
        cls.ca = os.path.join(cls.pki, "ca.pem")

        # Tokens, as an administrator makes them.
        cls.tokens = {}
        principals = []
        for name, roles, scopes, cn in (("operator.klakah", ["operator"], [UNIT], None),
                                        ("inspektorat.lumajang", ["inspector"], ["35.08"], INSPECTOR_CN),
                                        ("admin.kabupaten", ["admin"], ["*"], None)):
            made = json.loads(ledgerctl("127.0.0.1:1", "--output=json", "token-new", name).stdout)
            cls.tokens[name] = made["token"]
            token_file = os.path.join(cls.work_dir, f"{name}.token")
            write(token_file, made["token"] + "\n")
            entry = {"name": name, "roles": roles, "scopes": scopes,
                     "token_sha256": [made["token_sha256"]]}
            if cn:
                entry["certificate_common_names"] = [cn]
            principals.append(entry)
        cls.principals = write(os.path.join(cls.work_dir, "principals.json"),
                               json.dumps({"principals": principals}, indent=1))

        # The reference report, imported before access control is on (the
        # importer records plan, operation, submission and disposition events
        # in one call, which no single four-eyes principal may).
        cls.ledgerd = Ledgerd(cls.work_dir, ("--sign_heads=false",))
        cls.ledgerd.start()
        try:
            ledgerctl(cls.ledgerd.address, "import", REFERENCE_REPORT)
        finally:
            cls.ledgerd.stop()
        cls.ledgerd.extra_flags = [
            "--sign_heads=false", f"--tls_cert={cls.pki}/server.pem",
            f"--tls_key={cls.pki}/server.key", f"--tls_client_ca={cls.ca}",
            f"--principals={cls.principals}",
            f"--denied_log={os.path.join(cls.work_dir, 'denied.jsonl')}"]
        cls.ledgerd.connect_kwargs = {"tls_ca": cls.ca}
        cls.ledgerd.start()

    @classmethod
    def tearDownClass(cls):
        cls.ledgerd.stop()
        if os.environ.get("KEEP_TEST_DIRS"):
            print(f"kept {cls.work_dir}")
        else:
            shutil.rmtree(cls.work_dir, ignore_errors=True)

    def token_file(self, name):
        return os.path.join(self.work_dir, f"{name}.token")

    def connect_as(self, name, **kwargs):
        return connect(self.ledgerd.address, tls_ca=self.ca, token_file=self.token_file(name),
                       environ={}, **kwargs)

    def assert_refused(self, code, call):
        with self.assertRaises(LedgerError) as caught:
            call()
        self.assertEqual(caught.exception.code, code, str(caught.exception))
        return caught.exception

    def test_token_over_tls(self):
        with self.connect_as("operator.klakah") as client:
            self.assertGreater(client.head().position, 200)
            report = client.get_report(UNIT, 2024, 2)
            self.assertEqual(report.report.unit_name, "Kecamatan Klakah")
            # The operator records; it does not audit.
            error = self.assert_refused(grpc.StatusCode.PERMISSION_DENIED,
                                        lambda: list(client.history(UNIT)))
            self.assertIn("operator.klakah", error.message)
        with self.connect_as("inspektorat.lumajang") as client:
            self.assertTrue(list(client.history(UNIT)))
            self.assert_refused(grpc.StatusCode.PERMISSION_DENIED,
                                lambda: client.get_report(OTHER_UNIT, 2024, 2))

    def test_no_or_unknown_token_is_unauthenticated(self):
        with connect(self.ledgerd.address, tls_ca=self.ca, environ={}) as client:
            self.assert_refused(grpc.StatusCode.UNAUTHENTICATED, client.head)
        with connect(self.ledgerd.address, tls_ca=self.ca, token="nobody-holds-this",
                     environ={}) as client:
            self.assert_refused(grpc.StatusCode.UNAUTHENTICATED, client.head)

    def test_client_certificate_identifies_the_inspector(self):
        with connect(self.ledgerd.address, tls_ca=self.ca,
                     client_cert=os.path.join(self.pki, "client.pem"),
                     client_key=os.path.join(self.pki, "client.key"), environ={}) as client:
            self.assertTrue(list(client.history(UNIT)))
            error = self.assert_refused(grpc.StatusCode.PERMISSION_DENIED,
                                        lambda: client.get_report(OTHER_UNIT, 2024, 2))
            self.assertIn("inspektorat.lumajang", error.message)

    def test_environment_and_server_name(self):
        env = {"LEDGER_SERVER": self.ledgerd.address, "LEDGER_TLS_CA": self.ca,
               "LEDGER_TOKEN": self.tokens["admin.kabupaten"]}
        with connect(environ=env) as client:
            self.assertGreater(client.head().position, 0)
        with self.connect_as("admin.kabupaten", tls_server_name="localhost") as client:
            self.assertGreater(client.head().position, 0)
        with self.connect_as("admin.kabupaten", tls_server_name="ledger.example",
                             timeout_s=3) as client:
            self.assert_refused(grpc.StatusCode.UNAVAILABLE, client.head)

    def test_report_example_over_tls(self):
        def run(*args, env=None):
            return subprocess.run(
                [sys.executable, os.path.join(EXAMPLES_DIR, "report_as_of.py"),
                 "--server", self.ledgerd.address, "--unit", UNIT, "--year", "2024",
                 "--quarter", "2", *args], capture_output=True, text=True, timeout=60,
                env={**os.environ, **(env or {})})
        flags = run("--tls-ca", self.ca, "--token-file", self.token_file("operator.klakah"))
        self.assertEqual(flags.returncode, 0, flags.stderr)
        self.assertIn("57,45", flags.stdout)  # as published: the reference report
        environment = run(env={"LEDGER_TLS_CA": self.ca,
                               "LEDGER_TOKEN_FILE": self.token_file("inspektorat.lumajang")})
        self.assertEqual(environment.returncode, 0, environment.stderr)
        refused = run("--tls-ca", self.ca)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn("UNAUTHENTICATED", refused.stderr)
        in_clear = run("--token-file", self.token_file("operator.klakah"))
        self.assertEqual(in_clear.returncode, 2, in_clear.stderr)
        self.assertIn("tls_ca", in_clear.stderr)

    def test_plaintext_against_tls_is_unavailable(self):
        with LedgerClient(self.ledgerd.address, timeout_s=3) as client:
            self.assert_refused(grpc.StatusCode.UNAVAILABLE, client.head)


if __name__ == "__main__":
    unittest.main()
