#!/usr/bin/env bash
# A ready access-control example for one kabupaten (docs/ACCESS.md): a CA,
# the server's certificate, a client certificate for the Inspektorat, bearer
# tokens for one kecamatan's operator, signer (the Camat) and supervisor, an
# admin token, and the principals file that ties them together.
#
#   deploy/access-example/make-example.sh OUT_DIR [LEDGERCTL] [SERVER_NAME]
#
# OUT_DIR must not exist. LEDGERCTL defaults to ./build/clients/ledgerctl/ledgerctl;
# SERVER_NAME (default: localhost) goes into the server certificate's
# subjectAltName together with 127.0.0.1. Needs the openssl command (Debian:
# package openssl, a dependency of ca-certificates). Private keys and tokens
# are written mode 0600; hand each to its holder and delete your copy.
set -euo pipefail
out=${1:?usage: make-example.sh OUT_DIR [LEDGERCTL] [SERVER_NAME]}
ledgerctl=${2:-./build/clients/ledgerctl/ledgerctl}
server_name=${3:-localhost}
if [ -e "$out" ]; then echo "make-example.sh: $out exists; choose a new directory" >&2; exit 2; fi
ledgerctl=$(command -v "$ledgerctl" || true)
if [ -z "$ledgerctl" ] || [ ! -x "$ledgerctl" ]; then
  echo "make-example.sh: ledgerctl not found (build it, or pass its path)" >&2; exit 2
fi
ledgerctl=$(realpath "$ledgerctl")
mkdir -p "$out"
umask 077
cd "$out"

# The CA that signs the server's and the clients' certificates (for a real
# deployment: your organisation's CA, kept offline).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -subj "/O=Pemerintah Kabupaten Lumajang/CN=SAKIP ledger CA" \
  -keyout ca.key -out ca.crt 2>/dev/null

# The server's certificate: clients check its name (subjectAltName).
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/O=Pemerintah Kabupaten Lumajang/CN=$server_name" \
  -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' "$server_name" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
  -extfile server.ext -out server.crt 2>/dev/null

# The Inspektorat connects with a client certificate; its common name is
# what the principals file names.
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/O=Inspektorat Kabupaten Lumajang/CN=inspektorat.lumajang" \
  -keyout inspektorat.key -out inspektorat.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in inspektorat.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
  -extfile client.ext -out inspektorat.crt 2>/dev/null
rm -f ./*.csr ./*.ext ca.srl

# Bearer tokens: the file keeps the token, the principals file only its SHA-256.
token_sha256() { "$ledgerctl" token-new "$1" --output=json > "$1.token.json"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(d["token"]+"\n"); print(d["token_sha256"])' \
    "$1.token.json" "$1.token"
  rm -f "$1.token.json"; }
operator_sha=$(token_sha256 operator.klakah) && [ -n "$operator_sha" ]
camat_sha=$(token_sha256 camat.klakah) && [ -n "$camat_sha" ]
sekda_sha=$(token_sha256 sekda.lumajang) && [ -n "$sekda_sha" ]
admin_sha=$(token_sha256 bappeda.lumajang) && [ -n "$admin_sha" ]

cat > principals.json <<JSON
{"principals": [
  {"name": "inspektorat.lumajang", "roles": ["inspector"], "scopes": ["35.08"],
   "certificate_common_names": ["inspektorat.lumajang"],
   "comment": "Inspektorat Kabupaten Lumajang: audits every unit of the kabupaten"},
  {"name": "operator.klakah", "roles": ["operator"], "scopes": ["35.08.19"],
   "token_sha256": ["$operator_sha"],
   "comment": "Operator of Kecamatan Klakah: realizations, disbursements, checklist"},
  {"name": "camat.klakah", "nip": "19730415 199803 1 011", "roles": ["signer"],
   "scopes": ["35.08.19"], "token_sha256": ["$camat_sha"],
   "comment": "Camat Klakah: submits the quarterly report (NIP must match the report)"},
  {"name": "sekda.lumajang", "nip": "19680512 199403 1 004", "roles": ["supervisor"],
   "scopes": ["35.08"], "token_sha256": ["$sekda_sha"],
   "comment": "Direct supervisor: records dispositions (Tanggapan Atasan Langsung)"},
  {"name": "bappeda.lumajang", "roles": ["admin"], "scopes": ["35.08"],
   "token_sha256": ["$admin_sha"],
   "comment": "Manages agreements, indicators, programmes and budgets"}
]}
JSON
chmod 0644 ca.crt server.crt inspektorat.crt principals.json
echo "written to $out:"
ls -l
