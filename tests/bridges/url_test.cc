// parse_url: the base URLs of --api-base and --server.
#include <doctest/doctest.h>

#include "bot/bridges/url.h"

namespace runbot::telegram {

TEST_SUITE("url") {
  TEST_CASE("an https URL without a port gets 443 and no path") {
    auto u = parse_url("https://api.telegram.org");
    REQUIRE(u);
    CHECK(u->tls);
    CHECK(u->host == "api.telegram.org");
    CHECK(u->port == "443");
    CHECK(u->path == "");
    CHECK(u->host_header() == "api.telegram.org");
    CHECK(!u->host_is_ip());
  }

  TEST_CASE("a port and a base path are kept, trailing slashes dropped") {
    auto u = parse_url("http://127.0.0.1:8081/proxy/tg//");
    REQUIRE(u);
    CHECK(!u->tls);
    CHECK(u->port == "8081");
    CHECK(u->path == "/proxy/tg");
    CHECK(u->host_header() == "127.0.0.1:8081");
    CHECK(u->host_is_ip());
    CHECK(u->to_string() == "http://127.0.0.1:8081/proxy/tg");
  }

  TEST_CASE("an IPv6 literal is unbracketed for connecting and bracketed in Host") {
    auto u = parse_url("http://[::1]:9000");
    REQUIRE(u);
    CHECK(u->host == "::1");
    CHECK(u->host_is_ip());
    CHECK(u->host_header() == "[::1]:9000");
  }

  TEST_CASE("the scheme is case-insensitive and the default port is not repeated in Host") {
    auto u = parse_url("HTTPS://example.org:443");
    REQUIRE(u);
    CHECK(u->tls);
    CHECK(u->host_header() == "example.org");
  }

  TEST_CASE("anything but a plain http or https base URL is refused") {
    for (const char* bad : {"", "api.telegram.org", "ftp://x.org", "https://", "https://:443", "http://x.org:0",
                            "http://x.org:65536", "http://x.org:80a", "http://user:pw@x.org", "http://x.org/?q=1",
                            "http://x.org/#f", "http://[::1", "http://[::1]x", "http://ex ample.org", "http://x.org/a b"}) {
      CAPTURE(bad);
      CHECK(!parse_url(bad));
    }
  }
}

}  // namespace runbot::telegram
