#include "tests/bridges/test_tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <stdexcept>

namespace runbot::telegram::test {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

TestCertificate make_self_signed(const std::string& dns_name) {
  KeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "key");
  CertPtr cert(X509_new());
  check(cert != nullptr, "cert");
  X509* x = cert.get();
  check(X509_set_version(x, 2) == 1, "version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1, "serial");
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  check(X509_set_pubkey(x, key.get()) == 1, "pubkey");
  X509_NAME* name = X509_get_subject_name(x);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns_name.c_str()),
                                   -1, -1, 0) == 1,
        "cn");
  check(X509_set_issuer_name(x, name) == 1, "issuer");
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  std::string san = "DNS:";
  san += dns_name;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
  check(ext != nullptr, "san");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  check(X509_sign(x, key.get(), EVP_sha256()) > 0, "sign");

  TestCertificate out;
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(cert_bio.get(), x) == 1, "cert pem");
  out.cert_pem = bio_text(cert_bio.get());
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1, "key pem");
  out.key_pem = bio_text(key_bio.get());
  return out;
}

std::shared_ptr<boost::asio::ssl::context> server_context(const TestCertificate& cert) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->use_certificate_chain(boost::asio::buffer(cert.cert_pem));
  ctx->use_private_key(boost::asio::buffer(cert.key_pem), ssl::context::pem);
  return ctx;
}

}  // namespace runbot::telegram::test
