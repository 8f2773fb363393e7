#!/usr/bin/env python3
"""Regression test (ctest stale_turn_refused): a message that reaches a
server late must not be applied to a session that has already moved past it.

Two `runbot serve` instances share one SQLite file (as instances share a
store). A client's connection A to instance 1 sends turn t1 while instance 1
is hung (SIGSTOP). The client times out, reconnects to instance 2, resends
t1 (answered), then sends t2 (answered). Instance 1 wakes and runs its copy
of t1: its write conflicts, it re-reads the session, finds last_id t2 (not
t1), and redoes t1 on top of t2. The turn is applied twice, and the session
no longer ends at the client's last answered turn (t2). Before the
compare-and-set change the same late write overwrote t2 instead (a lost
turn). Either way the retry rule ("a turn is never lost or repeated") fails
when the late copy arrives after the session has moved on by a turn. Fixed:
sessions keep the ids of their last 8 turns (Conversations::kRememberedIds)
and a late copy of one of them is refused with an error.

    tests/crash/stale_turn_repro.py build/runbot
Exit 0 if the session ends at t2 with t1 applied once, 1 if not.
"""
import base64, json, os, re, signal, socket, struct, subprocess, sys, tempfile, time


class WebSocket:
    """Just enough of a WebSocket client for JSON text frames over loopback."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(4096)
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n")[0], head

    def send(self, obj):
        data, mask = json.dumps(obj).encode(), os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, k):
        while len(self.buf) < k:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv(self):
        while True:
            self._need(2)
            n, off = self.buf[1] & 0x7F, 2
            if n == 126:
                self._need(4)
                n, off = struct.unpack("!H", self.buf[2:4])[0], 4
            self._need(off + n)
            opcode, payload = self.buf[0] & 0x0F, self.buf[off:off + n]
            self.buf = self.buf[off + n:]
            if opcode == 1:
                return json.loads(payload)

    def close(self):
        self.sock.close()


def start(binary, db, log):
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", "0", "--db", db, "--rate-limit", "0"],
                            stderr=open(log, "w"), stdout=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.search(r'"event":"listening".*?"port":(\d+)', open(log).read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit(f"runbot serve did not start: {open(log).read()}")


def hello(port, token=None):
    ws = WebSocket(port)
    ws.send({"type": "hello", "client": "test", **({"session": token} if token else {})})
    frame = ws.recv()
    assert frame["type"] == "session", frame
    return ws, frame


def turn(ws, id_, text):
    ws.send({"type": "message", "id": id_, "text": text})
    reply = ws.recv()
    assert reply.get("reply_to") == id_, reply
    return reply


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/runbot"
    work = tempfile.mkdtemp()
    db = os.path.join(work, "shared.db")
    one, port1 = start(binary, db, os.path.join(work, "one.log"))
    two, port2 = start(binary, db, os.path.join(work, "two.log"))
    try:
        ws, s = hello(port1)
        token = s["session"]
        r0 = turn(ws, "t0", "the back of my knee hurts after running")
        ws.close()
        print("t0 on instance 1: expecting", r0["expecting"])

        a, s = hello(port1, token)  # connection A, on instance 1
        one.send_signal(signal.SIGSTOP)  # instance 1 hangs with t1 unread
        a.send({"type": "message", "id": "t1", "text": "no"})

        b, s = hello(port2, token)  # the client gave up on A: instance 2
        assert s["resumed"], s
        r1 = turn(b, "t1", "no")  # the resend, with the same id
        r2 = turn(b, "t2", "no it never locks or gives way")
        print("t1 on instance 2: expecting", r1["expecting"], "| t2 on instance 2: expecting", r2["expecting"])

        one.send_signal(signal.SIGCONT)  # instance 1 wakes and runs its copy of t1
        late = a.recv()
        if late.get("type") == "error":
            # The fix: the session remembers the ids of its last turns, so
            # the late copy is refused rather than applied on top of t2.
            print("instance 1 refused its late copy of t1 with error", late.get("code"))
        else:
            print("instance 1's late answer to t1: expecting", late.get("expecting"),
                  "(instance 2 said", r1["expecting"] + ")")
        a.close()

        # Where is the session now? Resending t2's id must return t2's stored
        # reply if the session ends at t2; otherwise the probe text runs.
        c, s = hello(port2, token)
        probe = turn(c, "t2", "probe: is the session at t2?")
        c.close()
        at_t2 = probe == r2
        twice = late.get("type") != "error" and late.get("expecting") != r1["expecting"]
        print("session ends at the client's last answered turn t2:", at_t2)
        print("t1 applied a second time on instance 1:", twice)
        return 0 if at_t2 and not twice else 1
    finally:
        for p in (one, two):
            p.send_signal(signal.SIGCONT)
            p.terminate()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
