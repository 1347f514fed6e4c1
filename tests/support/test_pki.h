// A throwaway PKI for TLS tests, made with OpenSSL in memory: certificate
// authorities, a server certificate for localhost / 127.0.0.1, and client
// certificates (valid, expired, not yet valid, from another CA), plus the
// channel credentials a test client uses.
//
// Keys are ECDSA P-256 (fast to generate). Thread-safety: plain values.
#ifndef TESTS_SUPPORT_TEST_PKI_H_
#define TESTS_SUPPORT_TEST_PKI_H_

#include <memory>
#include <string>

#include "grpcpp/security/credentials.h"

namespace ledger::testing {

struct KeyAndCertificate {
  std::string private_key;  // PEM
  std::string certificate;  // PEM
};

// A self-signed CA certificate valid from an hour ago for ten years.
KeyAndCertificate MakeCertificateAuthority(const std::string& common_name);

// A leaf certificate signed by `ca`, valid from now + not_before_seconds to
// now + not_after_seconds (negative values lie in the past). Server
// certificates carry subjectAltName DNS:localhost, IP:127.0.0.1.
KeyAndCertificate IssueCertificate(const KeyAndCertificate& ca, const std::string& common_name,
                                   bool server, long not_before_seconds = -3600,
                                   long not_after_seconds = 86400);

// TLS channel credentials trusting `server_ca`, presenting `client` when it
// is non-empty.
std::shared_ptr<grpc::ChannelCredentials> ClientTlsCredentials(const std::string& server_ca,
                                                               const KeyAndCertificate& client = {});

}  // namespace ledger::testing

#endif  // TESTS_SUPPORT_TEST_PKI_H_
