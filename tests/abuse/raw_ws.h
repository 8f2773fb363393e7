// RawWs: a WebSocket client written by hand over a plain POSIX TCP socket,
// for tests that must send what no well-behaved client library would:
// unmasked frames, reserved bits, unknown opcodes, fragmented or oversized
// control frames, non-canonical or 64-bit lengths, bad close codes, broken
// UTF-8. Frames are built byte by byte per RFC 6455 section 5.2 (`encode`),
// and the server's frames are parsed the same way, so a test sees exactly
// what went over the wire (a close frame's code, an unmasked pong).
//
// Every operation has a deadline and reports failure as a value; nothing
// here asserts, so the benchmark uses it too. Nothing sleeps.
//
// Thread safety: one object per thread.
#ifndef RUNBOT_TESTS_ABUSE_RAW_WS_H_
#define RUNBOT_TESTS_ABUSE_RAW_WS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runbot::abuse {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// RFC 6455 opcodes, and two it leaves reserved.
enum Opcode : std::uint8_t {
  kCont = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kReservedData = 0x3,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
  kReservedControl = 0xB,
};

// RSV bits as they sit in the first byte.
inline constexpr std::uint8_t kRsv1 = 0x40, kRsv2 = 0x20, kRsv3 = 0x10;

enum class LengthForm { kShortest, k16, k64 };

// One frame as a client would put it on the wire.
struct FrameSpec {
  std::uint8_t opcode = kText;
  std::string payload;
  bool fin = true;
  std::uint8_t rsv = 0;          // kRsv1 | kRsv2 | kRsv3
  bool mask = true;              // RFC 6455: a client must mask every frame
  std::uint32_t key = 0x37fa213d;
  LengthForm length_form = LengthForm::kShortest;  // k16/k64 may be non-canonical on purpose
  std::optional<std::uint64_t> declared_length = std::nullopt;  // a header length other than payload.size()
};

// The bytes of `f`: header, extended length, masking key, masked payload.
std::string encode(const FrameSpec& f);

// Shorthands for the common frames, masked and final unless told.
std::string text_frame(std::string_view payload, bool fin = true);
std::string cont_frame(std::string_view payload, bool fin);
std::string ping_frame(std::string_view payload = "");
// A close frame with `code` (none when negative) and `reason`.
std::string close_frame(int code, std::string_view reason = "");

// A frame from the server, as parsed.
struct Frame {
  bool fin = false;
  std::uint8_t rsv = 0;
  std::uint8_t opcode = 0;
  bool masked = false;  // a server must never mask
  std::string payload;
  // For a close frame: its status code, 1005 (no status) when the payload is empty.
  int close_code() const;
  std::string close_reason() const;
};

enum class ReadStatus { kFrame, kEof, kTimeout, kError };

// How a connection ended, from the client's side.
struct CloseResult {
  std::vector<Frame> before;  // data and control frames read before the close frame
  bool got_close = false;     // a close frame came
  int code = -1;              // its code (1005 when it had none)
  bool eof = false;           // the server then closed the TCP connection
};

class RawWs {
 public:
  RawWs() = default;
  ~RawWs();
  RawWs(RawWs&& other) noexcept;
  RawWs& operator=(RawWs&& other) noexcept;
  RawWs(const RawWs&) = delete;
  RawWs& operator=(const RawWs&) = delete;

  // Opens a TCP connection to 127.0.0.1:port. False on failure.
  bool connect(unsigned short port, Millis timeout = 5s);
  // The upgrade request of a well-behaved client (the RFC's sample key).
  static std::string upgrade_request(unsigned short port, const std::string& target = "/chat");
  // Sends upgrade_request() and reads the response header: its HTTP status
  // (101 when the WebSocket is open), 0 when none came in time. On 101 the
  // Sec-WebSocket-Accept must be the RFC's answer to the key, else 0.
  int handshake(unsigned short port, Millis timeout = 5s);
  // Reads an HTTP response header (up to the blank line) that the server
  // sends after a request written by hand; "" when none came in time.
  std::string read_http_header(Millis timeout = 5s);
  // connect() + handshake() == 101.
  bool open(unsigned short port, Millis timeout = 5s);

  // Writes all of `bytes`. False when the peer has gone or on timeout.
  bool send(std::string_view bytes, Millis timeout = 5s);
  bool send_frame(const FrameSpec& f, Millis timeout = 5s) { return send(encode(f), timeout); }
  bool send_text(std::string_view payload) { return send(text_frame(payload)); }

  // The next frame from the server (control frames included).
  ReadStatus read_frame(Frame* out, Millis timeout = 5s);
  // The next data frame's payload, answering nothing and skipping pongs and
  // pings; nullopt on close, EOF, timeout or a protocol violation by the server.
  std::optional<std::string> read_text(Millis timeout = 5s);
  // Reads until the server's close frame and then its EOF (or until the
  // deadline), keeping what came before.
  CloseResult read_until_close(Millis timeout = 5s);
  // True when the server closed the TCP connection within `timeout`
  // (bytes that come first are discarded).
  bool wait_eof(Millis timeout);
  // True when the server closed or reset the connection within `timeout`,
  // found without reading: for clients that must look as if they never read.
  bool wait_hangup(Millis timeout);

  // The bytes received but not yet parsed (e.g. the body after an HTTP error header).
  const std::string& pending() const { return rbuf_; }
  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Closes the socket with a FIN; abort() with a RST (SO_LINGER 0), as a
  // client whose process died mid-connection.
  void close();
  void abort();

 private:
  // Reads more bytes into rbuf_: >0 on data, 0 on EOF, -1 on error, -2 on timeout.
  int fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string rbuf_;
};

// The UTF-8 encoding of code point `cp` (no checks: surrogates encode too).
std::string utf8(char32_t cp);

}  // namespace runbot::abuse

#endif  // RUNBOT_TESTS_ABUSE_RAW_WS_H_
