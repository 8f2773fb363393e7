// HttpClient against loopback servers: responses, keep-alive, deadlines,
// cancellation, dropped connections, limits, and HTTPS certificate checks
// (a self-signed certificate made for the test).
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "bot/bridges/http_client.h"
#include "tests/bridges/loopback_server.h"
#include "tests/bridges/test_tls.h"

namespace runbot::telegram {

using namespace std::chrono_literals;
using test::LoopbackServer;
using test::ReplyOut;
using test::RequestIn;

namespace {

// A gate a handler waits at until the test opens it (or a guard passes).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool entered = false;
  void wait() {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, 10s, [&] { return open; });
  }
  bool wait_entered() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] { return entered; });
  }
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

Url url_of(const std::string& text) {
  auto u = parse_url(text);
  REQUIRE(u);
  return *u;
}

std::string https_url(const char* host, unsigned short port) {
  std::string u = "https://";
  u += host;
  u += ':';
  u += std::to_string(port);
  return u;
}

}  // namespace

TEST_SUITE("http client") {
  TEST_CASE("a POST arrives with its path and body, the response comes back, and the connection is reused") {
    std::vector<RequestIn> seen;
    std::mutex mu;
    LoopbackServer server([&](const RequestIn& req) {
      std::lock_guard lock(mu);
      seen.push_back(req);
      return ReplyOut{201, R"({"echo":true})", {{"Retry-After", "3"}}, false};
    });
    HttpClient client(url_of(server.url() + "/base"));
    for (int i = 0; i < 3; ++i) {
      HttpResult r = client.post_json("/api/message", R"({"text":"hi"})", 2s, std::stop_token());
      REQUIRE(r.ok());
      CHECK(r.response.status == 201);
      CHECK(r.response.body == R"({"echo":true})");
      CHECK(r.response.retry_after == "3");
    }
    std::lock_guard lock(mu);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].method == "POST");
    CHECK(seen[0].target == "/base/api/message");
    CHECK(seen[0].body == R"({"text":"hi"})");
    CHECK(server.connections() == 1);
  }

  TEST_CASE("a server that never answers fails by the deadline") {
    Gate gate;
    LoopbackServer server([&](const RequestIn&) {
      gate.wait();
      return ReplyOut{};
    });
    HttpClient client(url_of(server.url()));
    auto start = std::chrono::steady_clock::now();
    HttpResult r = client.post_json("/x", "{}", 200ms, std::stop_token());
    CHECK(r.error == HttpError::kTimeout);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    gate.release();
    server.stop();
  }

  TEST_CASE("a stop request ends a request in flight at once") {
    Gate gate;
    LoopbackServer server([&](const RequestIn&) {
      gate.wait();
      return ReplyOut{};
    });
    HttpClient client(url_of(server.url()));
    std::stop_source stop;
    std::thread stopper([&] {
      gate.wait_entered();
      stop.request_stop();
    });
    HttpResult r = client.post_json("/x", "{}", 30s, stop.get_token());
    CHECK(r.error == HttpError::kCancelled);
    stopper.join();
    CHECK(client.post_json("/x", "{}", 1s, stop.get_token()).error == HttpError::kCancelled);
    gate.release();
    server.stop();
  }

  TEST_CASE("a connection closed without an answer is reported as dropped, and the next request reconnects") {
    int n = 0;
    LoopbackServer server([&](const RequestIn&) {
      ReplyOut out{200, "{}", {}, false};
      out.drop = n++ == 0;
      return out;
    });
    HttpClient client(url_of(server.url()));
    HttpResult first = client.post_json("/x", "{}", 2s, std::stop_token());
    CHECK(first.error == HttpError::kDropped);
    CHECK(first.detail.find("receive") == 0);
    HttpResult second = client.post_json("/x", "{}", 2s, std::stop_token());
    CHECK(second.ok());
    CHECK(server.connections() == 2);
  }

  TEST_CASE("a kept-alive connection the server closed while idle is replaced before use, without an error") {
    LoopbackServer server([](const RequestIn&) {
      ReplyOut out{200, "{}", {}, false};
      out.close_after = true;
      return out;
    });
    HttpClient client(url_of(server.url()));
    REQUIRE(client.post_json("/x", "{}", 2s, std::stop_token()).ok());
    REQUIRE(server.wait_closed(1));
    HttpResult second = client.post_json("/x", "{}", 2s, std::stop_token());
    INFO(second.detail);
    CHECK(second.ok());
    CHECK(server.connections() == 2);
  }

  TEST_CASE("nothing listening is a connect error") {
    unsigned short port;
    {
      LoopbackServer gone([](const RequestIn&) { return ReplyOut{}; });
      port = gone.port();
    }
    std::string u = "http://127.0.0.1:";
    u += std::to_string(port);
    HttpClient client(url_of(u));
    CHECK(client.post_json("/x", "{}", 2s, std::stop_token()).error == HttpError::kConnect);
  }

  TEST_CASE("a response over the body limit is a protocol error, not a crash") {
    LoopbackServer server([](const RequestIn&) { return ReplyOut{200, std::string(5000, 'x'), {}, false}; });
    HttpClientOptions options;
    options.body_limit = 1000;
    HttpClient client(url_of(server.url()), options);
    HttpResult r = client.post_json("/x", "{}", 2s, std::stop_token());
    INFO(r.detail, " status ", r.response.status, " size ", r.response.body.size());
    CHECK(r.error == HttpError::kProtocol);
  }

  TEST_CASE("https: a certificate the system does not trust is refused") {
    auto cert = test::make_self_signed("localhost");
    LoopbackServer server([](const RequestIn&) { return ReplyOut{200, "{}", {}, false}; }, test::server_context(cert));
    HttpClient client(url_of(https_url("localhost", server.port())));
    HttpResult r = client.post_json("/x", "{}", 5s, std::stop_token());
    CHECK(r.error == HttpError::kTls);
    CHECK(r.detail.find("certificate") != std::string::npos);
  }

  TEST_CASE("https: a trusted certificate for the host is accepted, and SNI names the host") {
    auto cert = test::make_self_signed("localhost");
    LoopbackServer server([](const RequestIn&) { return ReplyOut{200, R"({"ok":true})", {}, false}; },
                          test::server_context(cert));
    HttpClientOptions options;
    options.extra_ca_pem = cert.cert_pem;
    HttpClient client(url_of(https_url("localhost", server.port())), options);
    HttpResult r = client.post_json("/x", "{}", 5s, std::stop_token());
    INFO(r.detail);
    REQUIRE(r.ok());
    CHECK(r.response.body == R"({"ok":true})");
    CHECK(server.sni_names() == std::vector<std::string>{"localhost"});
  }

  TEST_CASE("https: a trusted certificate for another name or address is refused") {
    auto cert = test::make_self_signed("api.example.test");
    LoopbackServer server([](const RequestIn&) { return ReplyOut{200, "{}", {}, false}; }, test::server_context(cert));
    HttpClientOptions options;
    options.extra_ca_pem = cert.cert_pem;
    for (const char* host : {"localhost", "127.0.0.1"}) {
      CAPTURE(host);
      HttpClient client(url_of(https_url(host, server.port())), options);
      HttpResult r = client.post_json("/x", "{}", 5s, std::stop_token());
      CHECK(r.error == HttpError::kTls);
      CHECK(r.detail.find("mismatch") != std::string::npos);
    }
  }
}

}  // namespace runbot::telegram
