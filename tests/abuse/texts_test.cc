// Pathological texts inside well-formed frames: sizes at and over the
// limits, deep JSON nesting, every Unicode plane, bidirectional and
// zero-width characters, combining marks, NUL and lone surrogates as JSON
// escapes. Each gets a reply or the error frame of spec/protocol.md, and
// the connection stays open (only frames over the size limit close it).
#include <doctest/doctest.h>

#include "tests/abuse/abuse_test_util.h"

namespace runbot::abuse {

namespace {

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_SUITE("abuse: texts") {

TEST_CASE("one letter up to exactly 2,000 characters is answered, one more is too_long, in any plane") {
  Server s({"--rate-limit", "0"});
  RawWs ws = open_ws(s.port());
  for (size_t n : {1, 2, 1999, 2000}) check_answered(ws, message(std::string(n, 'a'), n), n);
  check_error(ws, message(std::string(2001, 'a')), "too_long");
  // Characters, not bytes: 2,000 four-byte characters (8,000 bytes) fit.
  const std::string emoji = utf8(0x1F600);
  check_answered(ws, message(repeat(emoji, 2000), "astral"), "astral");
  check_error(ws, message(repeat(emoji, 2001)), "too_long");
  // 16 KiB of one letter: the letters alone fill the frame limit, so with
  // the JSON around them the frame is over it (16 KiB exactly is read: see
  // the rfc 6455 suite).
  RawWs big = open_ws(s.port());
  big.send_text(message(std::string(16 * 1024, 'a')));
  check_closed_with(big, 1009, "16 KiB of one letter plus the JSON around it");
  check_answered(ws, message("still here", "after"), "after");
}

TEST_CASE("deep JSON nesting gets bad_json or bad_request, never a crash, and a frame of 100,000 brackets is closed with 1009") {
  Server s({"--rate-limit", "0"});
  RawWs ws = open_ws(s.port());
  // As deep as a 16 KiB frame allows: unclosed, closed, and inside a message.
  check_error(ws, std::string(16 * 1024, '['), "bad_json");
  check_error(ws, std::string(8 * 1024, '[') + std::string(8 * 1024, ']'), "bad_request");
  check_error(ws, std::string(4000, '{'), "bad_json");
  std::string objects;
  for (int i = 0; i < 1500; ++i) objects += R"({"a":)";
  objects += "1" + std::string(1500, '}');
  check_error(ws, objects, "bad_request");
  // A valid message carrying a deep extra field: extra fields are ignored.
  check_answered(ws,
                 R"({"type":"message","text":"hi","id":"deep","x":)" + std::string(7000, '[') +
                     std::string(7000, ']') + "}",
                 "deep");
  check_error(ws, R"({"type":"message","text":)" + std::string(7000, '[') + std::string(7000, ']') + "}",
              "bad_request");
  // 100,000 '[' are over the 16 KiB frame limit: closed before parsing.
  RawWs big = open_ws(s.port());
  big.send_text(std::string(100000, '['));
  check_closed_with(big, 1009, "100,000 '['");
  check_serves(s.port());
}

TEST_CASE("code points from every Unicode plane are answered and surrogates are rejected") {
  Server s({"--rate-limit", "0"});
  RawWs ws = open_ws(s.port());
  // Samples from planes 0 to 16: ASCII, Latin, Cyrillic, CJK, the BOM,
  // U+FFFD, the noncharacters U+FFFE/U+FFFF, emoji (1), CJK extension B
  // (2), extension G (3), an unassigned plane (4-13), tags (14), private
  // use (15, 16) up to U+10FFFF.
  std::vector<char32_t> points = {0x41,    0xE9,    0x416,   0x4E2D,  0xFEFF,   0xFFFD,  0xFFFE,  0xFFFF,
                                  0x1F600, 0x1D11E, 0x20000, 0x2A6D6, 0x30000,  0x3134A, 0xE0001, 0xE007F,
                                  0xF0000, 0xFFFFD, 0x100000, 0x10FFFF};
  for (char32_t plane = 4; plane <= 13; ++plane) points.push_back(plane * 0x10000 + 0x1234);
  std::string all;
  for (char32_t cp : points) {
    const std::string c = utf8(cp);
    all += c;
    check_answered(ws, message("knee " + c + " pain", static_cast<int>(cp)), static_cast<int>(cp));
  }
  check_answered(ws, message(all, "all"), "all");
  // The same as JSON escapes, astral ones as surrogate pairs.
  check_answered(ws, R"({"type":"message","text":"\u00e9 \ud83d\ude00 \udbff\udfff","id":"escaped"})", "escaped");
  // Surrogates encoded as UTF-8 are not UTF-8 (RFC 3629): 1007.
  RawWs raw = open_ws(s.port());
  raw.send_text(R"({"type":"message","text":")" + utf8(0xD83D) + utf8(0xDE00) + R"("})");
  check_closed_with(raw, 1007, "a surrogate pair encoded as two 3-byte sequences (CESU-8)");
  // Lone surrogates as JSON escapes: valid UTF-8 on the wire, invalid JSON text.
  for (const char* lone : {R"(\ud800)", R"(\udfff)", R"(\ud800x)", R"(\ude00\ud83d)", R"(\ud800\u0041)"})
    check_error(ws, std::string(R"({"type":"message","text":"a)") + lone + R"("})", "bad_json");
  check_answered(ws, message("still here", "after"), "after");
}

TEST_CASE("RTL marks, bidi overrides, zero-width and combining characters, NUL and controls are answered") {
  Server s({"--rate-limit", "0"});
  RawWs ws = open_ws(s.port());
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"RLM and LRM", utf8(0x200F) + "knee" + utf8(0x200E) + " hurts"},
      {"RLO override", utf8(0x202E) + "the back of my knee hurts" + utf8(0x202C)},
      {"RLI isolate", utf8(0x2067) + "knee" + utf8(0x2069)},
      {"Hebrew and Arabic", "\xD7\x91\xD7\xA8\xD7\x9A " + utf8(0x0631) + utf8(0x0643) + utf8(0x0628) + utf8(0x0629)},
      {"zero-width space inside a word", "kn" + utf8(0x200B) + "ee hu" + utf8(0x200B) + "rts"},
      {"only zero-width characters", repeat(utf8(0x200B) + utf8(0x200C) + utf8(0x200D) + utf8(0xFEFF), 100)},
      {"ZWJ emoji sequence", utf8(0x1F3C3) + utf8(0x200D) + utf8(0x2640) + utf8(0xFE0F) + " knee pain"},
      {"1,999 combining marks on one letter", "k" + repeat(utf8(0x0301), 1999)},
      {"combining marks on every letter", repeat("n" + utf8(0x0303) + utf8(0x0323), 600)},
      {"NUL byte", std::string("knee\0pain", 9)},
      {"every C0 control", [] {
         std::string c;
         for (char ch = 1; ch < 0x20; ++ch) c.push_back(ch);
         return c + "knee";
       }()},
      {"DEL and C1 controls", "\x7F" + utf8(0x85) + utf8(0x9F) + "knee"},
      {"line and paragraph separators", "knee" + utf8(0x2028) + "hurts" + utf8(0x2029)},
  };
  int id = 0;
  for (const auto& [what, text] : texts) {
    // A named copy: INFO is a lambda, and clang before 16 cannot capture
    // a structured binding (the sanitizer builds use clang 14).
    const std::string label = what;
    INFO(label);
    ++id;
    check_answered(ws, message(text, id), id);
  }
  // NUL and controls written as JSON escapes by hand.
  check_answered(ws, R"({"type":"message","text":"knee\u0000\u0000pain\u001f\u007f","id":"nul"})", "nul");
  check_answered(ws, R"({"type":"message","text":"\u0000","id":"only-nul"})", "only-nul");
  // A raw NUL or control byte inside a JSON string is not JSON.
  check_error(ws, std::string(R"({"type":"message","text":"a)") + std::string(1, '\0') + R"("})", "bad_json");
  check_error(ws, std::string(R"({"type":"message","text":"a)") + "\x01" + R"("})", "bad_json");
  // Whitespace only is empty; zero-width only is not whitespace (answered above).
  check_error(ws, message(" \t\r\n "), "bad_request");
  check_serves(s.port());
}

}  // TEST_SUITE

}  // namespace runbot::abuse
