#include "tests/support/test_pki.h"

#include <cstdlib>
#include <iostream>

#include "grpcpp/security/credentials.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace ledger::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "test PKI: " << what << " failed\n";
    std::abort();
  }
}

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertificateDeleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Certificate = std::unique_ptr<X509, CertificateDeleter>;

std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "key PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, size);
  BIO_free(bio);
  return pem;
}

std::string CertificatePem(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  Check(PEM_write_bio_X509(bio, certificate) == 1, "certificate PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, size);
  BIO_free(bio);
  return pem;
}

Key ParseKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Key key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  Check(key != nullptr, "parse key");
  return key;
}

Certificate ParseCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Certificate certificate(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  Check(certificate != nullptr, "parse certificate");
  return certificate;
}

void AddExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  Check(extension != nullptr, "extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// A certificate for `key` named `common_name`, signed by `issuer_key` as
// `issuer` (itself when null).
Certificate MakeCertificate(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                            EVP_PKEY* issuer_key, long not_before_seconds, long not_after_seconds) {
  static long serial = 1;
  Certificate certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), not_before_seconds);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), not_after_seconds);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("sakip-ledger tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(certificate.get(),
                       issuer != nullptr ? X509_get_subject_name(issuer) : name);
  return certificate;
}

}  // namespace

KeyAndCertificate MakeCertificateAuthority(const std::string& common_name) {
  Key key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "CA key");
  Certificate certificate =
      MakeCertificate(key.get(), common_name, nullptr, key.get(), -3600, 10L * 365 * 86400);
  AddExtension(certificate.get(), certificate.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(certificate.get(), certificate.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(certificate.get(), certificate.get(), NID_subject_key_identifier, "hash");
  Check(X509_sign(certificate.get(), key.get(), EVP_sha256()) > 0, "CA sign");
  return {KeyPem(key.get()), CertificatePem(certificate.get())};
}

KeyAndCertificate IssueCertificate(const KeyAndCertificate& ca, const std::string& common_name,
                                   bool server, long not_before_seconds, long not_after_seconds) {
  Key ca_key = ParseKey(ca.private_key);
  Certificate ca_certificate = ParseCertificate(ca.certificate);
  Key key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "leaf key");
  Certificate certificate = MakeCertificate(key.get(), common_name, ca_certificate.get(),
                                            ca_key.get(), not_before_seconds, not_after_seconds);
  AddExtension(certificate.get(), ca_certificate.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(certificate.get(), ca_certificate.get(), NID_ext_key_usage,
               server ? "serverAuth" : "clientAuth");
  if (server) {
    AddExtension(certificate.get(), ca_certificate.get(), NID_subject_alt_name,
                 "DNS:localhost,IP:127.0.0.1");
  }
  Check(X509_sign(certificate.get(), ca_key.get(), EVP_sha256()) > 0, "leaf sign");
  return {KeyPem(key.get()), CertificatePem(certificate.get())};
}

std::shared_ptr<grpc::ChannelCredentials> ClientTlsCredentials(const std::string& server_ca,
                                                               const KeyAndCertificate& client) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = server_ca;
  options.pem_private_key = client.private_key;
  options.pem_cert_chain = client.certificate;
  return grpc::SslCredentials(options);
}

}  // namespace ledger::testing
