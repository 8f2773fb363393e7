// A throwaway TLS identity for the HTTPS tests: a self-signed certificate
// made at run time (no key material in the repository), and a server
// context that presents it.
#ifndef RUNBOT_TESTS_BRIDGES_TEST_TLS_H_
#define RUNBOT_TESTS_BRIDGES_TEST_TLS_H_

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace runbot::telegram::test {

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

// A P-256 certificate for `dns_name` (subject CN and subjectAltName DNS),
// self-signed, valid from a minute ago for a day.
TestCertificate make_self_signed(const std::string& dns_name);

std::shared_ptr<boost::asio::ssl::context> server_context(const TestCertificate& cert);

}  // namespace runbot::telegram::test

#endif  // RUNBOT_TESTS_BRIDGES_TEST_TLS_H_
