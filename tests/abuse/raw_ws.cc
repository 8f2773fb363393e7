#include "tests/abuse/raw_ws.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runbot::abuse {

using Clock = std::chrono::steady_clock;

namespace {

// The RFC 6455 section 1.3 sample key and the accept value it must get.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

std::string encode(const FrameSpec& f) {
  std::string out;
  out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv & 0x70) | (f.opcode & 0x0F)));
  const std::uint64_t len = f.declared_length.value_or(f.payload.size());
  const std::uint8_t mask_bit = f.mask ? 0x80 : 0;
  LengthForm form = f.length_form;
  if (form == LengthForm::kShortest) form = len < 126 ? LengthForm::kShortest : len <= 0xFFFF ? LengthForm::k16 : LengthForm::k64;
  if (form == LengthForm::kShortest) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if (form == LengthForm::k16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((len >> 8) & 0xFF));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xFF));
  }
  if (!f.mask) return out + f.payload;
  const char key[4] = {static_cast<char>(f.key >> 24), static_cast<char>(f.key >> 16), static_cast<char>(f.key >> 8),
                       static_cast<char>(f.key)};
  out.append(key, 4);
  for (size_t i = 0; i < f.payload.size(); ++i) out.push_back(static_cast<char>(f.payload[i] ^ key[i % 4]));
  return out;
}

std::string text_frame(std::string_view payload, bool fin) {
  return encode(FrameSpec{.opcode = kText, .payload = std::string(payload), .fin = fin});
}

std::string cont_frame(std::string_view payload, bool fin) {
  return encode(FrameSpec{.opcode = kCont, .payload = std::string(payload), .fin = fin});
}

std::string ping_frame(std::string_view payload) {
  return encode(FrameSpec{.opcode = kPing, .payload = std::string(payload)});
}

std::string close_frame(int code, std::string_view reason) {
  std::string payload;
  if (code >= 0) {
    payload.push_back(static_cast<char>((code >> 8) & 0xFF));
    payload.push_back(static_cast<char>(code & 0xFF));
  }
  payload.append(reason);
  return encode(FrameSpec{.opcode = kClose, .payload = payload});
}

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

int Frame::close_code() const {
  if (payload.size() < 2) return 1005;
  return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

std::string Frame::close_reason() const { return payload.size() > 2 ? payload.substr(2) : std::string(); }

RawWs::~RawWs() { close(); }

RawWs::RawWs(RawWs&& other) noexcept : fd_(other.fd_), rbuf_(std::move(other.rbuf_)) { other.fd_ = -1; }

RawWs& RawWs::operator=(RawWs&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    rbuf_ = std::move(other.rbuf_);
    other.fd_ = -1;
  }
  return *this;
}

bool RawWs::connect(unsigned short port, Millis timeout) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  // Small frames go out at once: latency samples must not wait for Nagle.
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
  if (errno != EINPROGRESS) {
    close();
    return false;
  }
  pollfd p{fd_, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1 || getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
      err != 0) {
    close();
    return false;
  }
  return true;
}

std::string RawWs::upgrade_request(unsigned short port, const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + std::string(kKey) +
         "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

std::string RawWs::read_http_header(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = rbuf_.find("\r\n\r\n")) == std::string::npos)
    if (fill(deadline) <= 0) return "";
  std::string header = rbuf_.substr(0, end + 4);
  rbuf_.erase(0, end + 4);
  return header;
}

int RawWs::handshake(unsigned short port, Millis timeout) {
  if (!send(upgrade_request(port), timeout)) return 0;
  const std::string header = read_http_header(timeout);
  int status = 0;
  if (header.rfind("HTTP/1.1 ", 0) == 0) status = std::atoi(header.c_str() + 9);
  if (status != 101) return status;
  return header.find("Sec-WebSocket-Accept: " + std::string(kAccept) + "\r\n") == std::string::npos ? 0 : 101;
}

bool RawWs::open(unsigned short port, Millis timeout) { return connect(port, timeout) && handshake(port, timeout) == 101; }

bool RawWs::send(std::string_view bytes, Millis timeout) {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) != 1) return false;
      continue;
    }
    return false;
  }
  return true;
}

int RawWs::fill(Clock::time_point deadline) {
  if (fd_ < 0) return -1;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      rbuf_.append(buf, static_cast<size_t>(n));
      return static_cast<int>(n);
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return errno == ECONNRESET ? 0 : -1;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r == 0) return -2;
    if (r < 0 && errno != EINTR) return -1;
  }
}

ReadStatus RawWs::read_frame(Frame* out, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // Parse what is buffered: 2 header bytes, the extended length, then the payload.
    if (rbuf_.size() >= 2) {
      const auto* b = reinterpret_cast<const unsigned char*>(rbuf_.data());
      size_t need = 2;
      std::uint64_t len = b[1] & 0x7F;
      const bool masked = b[1] & 0x80;
      if (len == 126) need += 2;
      if (len == 127) need += 8;
      if (masked) need += 4;
      if (rbuf_.size() >= need) {
        if (len == 126) len = (std::uint64_t{b[2]} << 8) | b[3];
        if (len == 127) {
          len = 0;
          for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
        }
        if (rbuf_.size() >= need + len) {
          out->fin = b[0] & 0x80;
          out->rsv = b[0] & 0x70;
          out->opcode = b[0] & 0x0F;
          out->masked = masked;
          out->payload = rbuf_.substr(need, static_cast<size_t>(len));
          if (masked)
            for (size_t i = 0; i < out->payload.size(); ++i) out->payload[i] ^= rbuf_[need - 4 + i % 4];
          rbuf_.erase(0, need + static_cast<size_t>(len));
          return ReadStatus::kFrame;
        }
      }
    }
    int n = fill(deadline);
    if (n == 0) return ReadStatus::kEof;
    if (n == -2) return ReadStatus::kTimeout;
    if (n < 0) return ReadStatus::kError;
  }
}

std::optional<std::string> RawWs::read_text(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    Frame f;
    if (read_frame(&f, std::chrono::duration_cast<Millis>(deadline - Clock::now())) != ReadStatus::kFrame)
      return std::nullopt;
    if (f.opcode == kPing || f.opcode == kPong) continue;
    if (f.opcode != kText || !f.fin || f.masked || f.rsv) return std::nullopt;
    return f.payload;
  }
}

CloseResult RawWs::read_until_close(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  CloseResult r;
  for (;;) {
    Frame f;
    ReadStatus s = read_frame(&f, std::chrono::duration_cast<Millis>(deadline - Clock::now()));
    if (s == ReadStatus::kEof) {
      r.eof = true;
      return r;
    }
    if (s != ReadStatus::kFrame) return r;
    if (f.opcode != kClose) {
      r.before.push_back(std::move(f));
      continue;
    }
    r.got_close = true;
    r.code = f.close_code();
    // After its close frame the server closes the TCP connection (RFC 6455
    // 7.1.1: the server closes first).
    r.eof = wait_eof(std::chrono::duration_cast<Millis>(deadline - Clock::now()));
    return r;
  }
}

bool RawWs::wait_eof(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    rbuf_.clear();
    int n = fill(deadline);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

bool RawWs::wait_hangup(Millis timeout) {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // No POLLIN: unread data must not wake us, only the end of the stream.
    pollfd p{fd_, POLLRDHUP, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return true;
    if (r == 0) return false;
  }
}

void RawWs::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  rbuf_.clear();
}

void RawWs::abort() {
  if (fd_ >= 0) {
    linger l{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close();
}

}  // namespace runbot::abuse
