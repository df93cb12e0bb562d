"""webhook_receiver.py - a real webhook receiver on loopback for the notice
tests (stdlib only).

    rec = WebhookReceiver(secret="...").start()      # a free 127.0.0.1 port
    rec.url                                           # http://127.0.0.1:PORT/hook
    rec.status = 500                                  # answer every POST with 500
    rec.fail_first_per_id = 1                         # 500 to each notice's first attempt
    rec.fail_next = 3                                 # 500 to the next 3 POSTs
    rec.stop(); rec.start()                           # down (connection refused), back on the same port
    rec.wait_delivered(3, timeout=30)                 # at least 3 answered 2xx
    rec.attempts() / rec.delivered()                  # Attempt records

Every POST is recorded as an Attempt (time, path, lower-cased headers, raw
body, parsed JSON, the status answered, whether its Secondnum-Signature
verified with the app's secret and why not). The signature is checked as
docs/http-api.md defines it:
    Secondnum-Signature: t=UNIX_TIME,v1=HEX(HMAC-SHA256(secret, t + "." + body))
The receiver answers whatever the test configured even when the signature is
wrong; the test asserts on Attempt.sig_ok.

It is threaded (one thread per connection, keep-alive supported) and stop()
also closes the connections the sender keeps alive, so that a stopped
receiver really is down: every new attempt is refused until start().

Run alone for manual testing:
    python3 webhook_receiver.py --port 9000 --secret S [--status 500]
prints one line per POST.
"""

import hashlib
import hmac
import http.server
import json
import socket
import socketserver
import threading
import time

HOST = "127.0.0.1"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def parse_signature(header):
    """'t=123,v1=abc[,v1=...]' -> (t_text, [v1 hex, ...]); raises ValueError."""
    if not header:
        raise ValueError("no Secondnum-Signature header")
    t = None
    v1 = []
    for part in header.split(","):
        k, sep, v = part.strip().partition("=")
        if not sep:
            raise ValueError("malformed element %r in %r" % (part, header))
        if k == "t":
            if t is not None:
                raise ValueError("two t= elements in %r" % header)
            t = v
        elif k == "v1":
            v1.append(v)
    if t is None or not t.isdigit():
        raise ValueError("no numeric t= in %r" % header)
    if not v1:
        raise ValueError("no v1= in %r" % header)
    return t, v1


def expected_signature(secret, t, body):
    """HEX(HMAC-SHA256(secret, t + "." + body)) computed here, independently."""
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, t.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret, header, body, now=None, tolerance=600):
    """(ok, reason). ok when one v1 equals the HMAC and t is within tolerance
    seconds of now."""
    try:
        t, v1s = parse_signature(header)
    except ValueError as e:
        return False, str(e)
    want = expected_signature(secret, t, body)
    if not any(hmac.compare_digest(want, v.lower()) for v in v1s):
        return False, "v1 %r != HMAC-SHA256(secret, t.body) %s" % (v1s, want)
    now = time.time() if now is None else now
    if abs(now - int(t)) > tolerance:
        return False, "t=%s is %.0f s away from the receiver's clock" % (t, now - int(t))
    return True, ""


class Attempt:
    """One POST the receiver saw."""

    def __init__(self, t, path, headers, body, status, sig_ok, sig_reason):
        self.time = t                 # time.time() when the body was read
        self.mono = time.monotonic()
        self.path = path
        self.headers = headers        # {lower-case name: value}
        self.body = body              # bytes
        self.status = status          # what the receiver answered
        self.sig_ok = sig_ok
        self.sig_reason = sig_reason
        try:
            self.json = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.json = None

    @property
    def ok(self):
        return 200 <= self.status < 300

    @property
    def header_id(self):
        return self.headers.get("secondnum-notice-id")

    @property
    def notice_id(self):
        """The body's id (as a string), else the header's."""
        if isinstance(self.json, dict) and "id" in self.json:
            return str(self.json["id"])
        return self.header_id

    def __repr__(self):
        return "<POST %s -> %d id=%s sig_ok=%s %r>" % (self.path, self.status, self.notice_id,
                                                       self.sig_ok, self.body[:200])


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # resets and closes by the sender, or by stop(), are expected


class WebhookReceiver:
    def __init__(self, secret=None, port=None, path="/hook"):
        self.secret = secret
        self.port = port or free_port()
        self.path = path
        self.status = 200            # answer to a POST not failed by the rules below
        self.fail_status = 500       # answer when failing on purpose
        self.fail_first_per_id = 0   # fail this many first attempts of each notice id
        self.fail_next = 0           # fail this many next POSTs, whatever they are
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self._attempts = []
        self._per_id = {}
        self._server = None
        self._thread = None
        self._conns = set()
        self._generation = 0
        self.starts = 0

    # -- life cycle ---------------------------------------------------------

    @property
    def url(self):
        return "http://%s:%d%s" % (HOST, self.port, self.path)

    @property
    def running(self):
        return self._server is not None

    def start(self, timeout=10.0):
        """Listen on self.port (the same port after a stop)."""
        if self._server is not None:
            return self
        handler = self._handler_class()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._server = _Server((HOST, self.port), handler)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with self.lock:
            self._generation += 1
        self.starts += 1
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening and close every open connection: the port refuses
        connections until start()."""
        srv = self._server
        if srv is None:
            return
        self._server = None
        with self.lock:
            self._generation += 1
            conns = list(self._conns)
            self._conns.clear()
        srv.shutdown()
        srv.server_close()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def restart(self):
        self.stop()
        return self.start()

    # -- what was received --------------------------------------------------

    def attempts(self):
        with self.lock:
            return list(self._attempts)

    def delivered(self):
        """The attempts answered 2xx, in arrival order."""
        return [a for a in self.attempts() if a.ok]

    def delivered_ids(self):
        return [a.notice_id for a in self.delivered()]

    def clear(self):
        with self.lock:
            self._attempts = []
            self._per_id = {}

    def wait_for(self, pred, timeout=30.0, what="condition"):
        """Wait until pred(attempts) is true; raises AssertionError naming what."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if pred(list(self._attempts)):
                    return list(self._attempts)
                left = deadline - time.monotonic()
                if left <= 0:
                    got = list(self._attempts)
                    raise AssertionError(
                        "receiver on port %d: %s not met within %.0f s; %d attempts (%d delivered): %s"
                        % (self.port, what, timeout, len(got), sum(1 for a in got if a.ok),
                           [(a.notice_id, a.status) for a in got][-30:]))
                self.cond.wait(min(left, 0.2))

    def wait_delivered(self, count, timeout=30.0):
        """At least count POSTs answered 2xx; returns them."""
        self.wait_for(lambda at: sum(1 for a in at if a.ok) >= count, timeout,
                      "%d deliveries" % count)
        return self.delivered()

    def wait_delivered_ids(self, ids, timeout=30.0):
        """Every id in ids (strings) delivered at least once."""
        ids = {str(i) for i in ids}
        self.wait_for(lambda at: ids <= {a.notice_id for a in at if a.ok}, timeout,
                      "delivery of notices %s" % sorted(ids, key=_idkey))
        return self.delivered()

    def wait_attempts(self, count, timeout=30.0):
        self.wait_for(lambda at: len(at) >= count, timeout, "%d attempts" % count)
        return self.attempts()

    # -- the handler --------------------------------------------------------

    def _decide(self, notice_id):
        """Status to answer (called under the lock)."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_status
        if notice_id is not None and self.fail_first_per_id > 0:
            seen = self._per_id.get(notice_id, 0)
            self._per_id[notice_id] = seen + 1
            if seen < self.fail_first_per_id:
                return self.fail_status
        elif notice_id is not None:
            self._per_id[notice_id] = self._per_id.get(notice_id, 0) + 1
        return self.status

    def _handler_class(self):
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30

            def setup(self):
                super().setup()
                with rec.lock:
                    self._gen = rec._generation
                    rec._conns.add(self.connection)

            def finish(self):
                try:
                    super().finish()
                finally:
                    with rec.lock:
                        rec._conns.discard(self.connection)

            def _read_body(self):
                te = (self.headers.get("Transfer-Encoding") or "").lower()
                if "chunked" in te:
                    body = b""
                    while True:
                        line = self.rfile.readline(65537)
                        size = int(line.split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                                pass
                            return body
                        body += self.rfile.read(size)
                        self.rfile.readline(65537)
                n = int(self.headers.get("Content-Length") or "0")
                return self.rfile.read(n) if n > 0 else b""

            def _answer(self, status, body=b""):
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def do_POST(self):
                body = self._read_body()
                now = time.time()
                headers = {k.lower(): v for k, v in self.headers.items()}
                if rec.secret is not None:
                    ok, why = verify_signature(rec.secret, headers.get("secondnum-signature"),
                                               body, now)
                else:
                    ok, why = None, "no secret configured"
                with rec.cond:
                    if self._gen != rec._generation:   # stopped meanwhile: act as down
                        self.close_connection = True
                        return
                    a = Attempt(now, self.path, headers, body, 0, ok, why)
                    a.status = rec._decide(a.notice_id)
                    rec._attempts.append(a)
                    rec.cond.notify_all()
                    status = a.status
                self._answer(status, b"ok\n" if 200 <= status < 300 else b"failing on purpose\n")

            def do_GET(self):
                self._answer(405)

            def log_message(self, *a):
                pass

        return Handler


def _idkey(s):
    try:
        return (0, int(s))
    except (TypeError, ValueError):
        return (1, str(s))


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="a loopback webhook receiver that checks signatures")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--secret")
    ap.add_argument("--status", type=int, default=200)
    args = ap.parse_args()
    r = WebhookReceiver(secret=args.secret, port=args.port or None)
    r.status = args.status
    r.start()
    print("listening on %s" % r.url, flush=True)
    seen = 0
    try:
        while True:
            at = r.wait_for(lambda a: len(a) > seen, timeout=3600, what="a POST")
            for a in at[seen:]:
                print("%.3f %s -> %d sig_ok=%s %s %s" % (a.time, a.path, a.status, a.sig_ok,
                                                        a.sig_reason, a.body.decode("utf-8", "replace")),
                      flush=True)
            seen = len(at)
    except KeyboardInterrupt:
        r.stop()
