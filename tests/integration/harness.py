"""harness.py - shared helpers for the HTTP integration suites (stdlib only).

A suite module defines functions named case_*(ctx) and ends with
    harness.main(globals(), setup=..., teardown=...)
Each case runs under a time limit and prints "ok NAME" or "not ok NAME" and
the reason. Servers listen on a free 127.0.0.1 port picked at start-up, each
in its own temporary directory; nothing uses fixed ports or 0.0.0.0.

Environment:
  SECONDNUM    the binary under test (required)
  CASE_FILTER  run only the cases whose name contains this (debugging)
  KEEP_TMP     keep the temporary directories (debugging)
"""

import csv
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

SECONDNUM = os.environ.get("SECONDNUM", "")
# tests/pg/run.sh runs the suites again with every --db PATH mapped to a
# PostgreSQL database; cases that open the SQLite file itself are marked
# sqlite_only and skipped there (each backend has its own file-level tests).
ON_POSTGRES = bool(os.environ.get("SN_PG_DIR"))
HOST = "127.0.0.1"
STORE_TZ = datetime.timezone(datetime.timedelta(hours=8))  # the store default
DEFAULT_CASE_TIMEOUT = 120

_live_servers = []  # every Server started, killed at exit whatever happens
_tmp_dirs = []


class CaseTimeout(Exception):
    pass


# ---------------------------------------------------------------------------
# dates and numbers


def today_in_store():
    """Today's calendar day in the store's time zone (+08:00 by default)."""
    return datetime.datetime.now(STORE_TZ).date()


def store_date(delta_days=0):
    return (today_in_store() + datetime.timedelta(days=delta_days)).isoformat()


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def md5_hex(text):
    return hashlib.md5(text.encode()).hexdigest()


def new_correlator():
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------
# the CLI


def run_cli(*args, timeout=60, check=True, stdin=None):
    """Run `secondnum ARGS`; with check, a non-zero exit is a failure."""
    if not SECONDNUM:
        raise AssertionError("SECONDNUM is not set")
    p = subprocess.run([SECONDNUM, *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, input=stdin)
    if check and p.returncode != 0:
        raise AssertionError("secondnum %s: exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(map(str, args)), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p


class Env:
    """A temporary directory with a store in it."""

    def __init__(self, country=None, min_aging=None, tz=None, init=True):
        self.dir = tempfile.mkdtemp(prefix="sn-it.", dir=os.environ.get("TMPDIR"))
        _tmp_dirs.append(self.dir)
        self.db = os.path.join(self.dir, "ledger.db")
        self._feeds = 0
        if init:
            args = ["init", "--db", self.db]
            if country is not None:
                args += ["--country", country]
            if min_aging is not None:
                args += ["--min-aging-days", min_aging]
            if tz is not None:
                args += ["--tz", tz]
            run_cli(*args)

    def path(self, name):
        return os.path.join(self.dir, name)

    def import_feed(self, rows, carrier=None, expect_rc=0):
        """rows: (number, event, at[, event_id]) tuples. Returns the process."""
        self._feeds += 1
        f = self.path("feed%d.csv" % self._feeds)
        with open(f, "w") as out:
            out.write("number,event,at,event_id\n")
            for i, r in enumerate(rows):
                r = list(r)
                if len(r) == 3:
                    r.append("f%d-%d" % (self._feeds, i))
                out.write(",".join(r) + "\n")
        args = ["import", "--db", self.db]
        if carrier:
            args += ["--carrier", carrier]
        p = run_cli(*args, f, check=False, timeout=300)
        if expect_rc is not None and p.returncode != expect_rc:
            raise AssertionError("import: exit %d (expected %d)\n%s%s" % (
                p.returncode, expect_rc, p.stdout, p.stderr[-3000:]))
        return p

    def key(self, role, name, carrier=None):
        """Create a key with the CLI; returns the key (first line of stdout)."""
        args = ["keys", "create", "--db", self.db, "--role", role, "--name", name]
        if carrier:
            args += ["--carrier", carrier]
        out = run_cli(*args).stdout
        k = out.splitlines()[0].strip() if out else ""
        if not k:
            raise AssertionError("keys create printed no key: %r" % out)
        return k

    def key_ids(self):
        """{name: id} from `keys list` (tab-separated, header first)."""
        out = run_cli("keys", "list", "--db", self.db).stdout
        ids = {}
        for line in out.splitlines()[1:]:
            f = line.split("\t")
            if len(f) >= 3 and f[0].strip().isdigit():
                ids[f[2]] = int(f[0])
        return ids

    def add_carrier(self, name, *ranges):
        args = ["carriers", "add", "--db", self.db, "--name", name]
        for r in ranges:
            args += ["--range", r]
        run_cli(*args)

    def cleanup(self):
        if os.environ.get("KEEP_TMP"):
            return
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# the server


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                          r"ThreadSanitizer|Segmentation fault|SUMMARY: \w+Sanitizer")


class Server:
    """`secondnum serve` on a free loopback port. private_webhooks passes
    --allow-private-webhooks, which suites with a webhook receiver on
    127.0.0.1 need: without it serve refuses webhooks to non-public
    addresses (docs/http-api.md, "Webhooks")."""

    def __init__(self, env, threads=2, extra=(), preexec_fn=None, private_webhooks=False):
        self.env = env
        self.threads = threads
        self.extra = list(extra) + (["--allow-private-webhooks"] if private_webhooks else [])
        self.preexec_fn = preexec_fn  # run in the child before exec (resource limits)
        self.proc = None
        self.port = None
        self.n = 0
        self.stderr_path = None
        self._stderr_seen = 0

    @property
    def base(self):
        return "http://%s:%d" % (HOST, self.port)

    def start(self, timeout=10.0):
        last = None
        for _attempt in range(3):  # the free port may be taken in the meantime
            self.port = free_port()
            self.n += 1
            self.stderr_path = self.env.path("serve%d.err" % self.n)
            self._stderr_seen = 0
            err = open(self.stderr_path, "wb")
            out = open(self.env.path("serve%d.out" % self.n), "wb")
            args = [SECONDNUM, "serve", "--db", self.env.db,
                    "--listen", "%s:%d" % (HOST, self.port),
                    "--threads", str(self.threads), *self.extra]
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         preexec_fn=self.preexec_fn)
            err.close()
            out.close()
            _live_servers.append(self)
            try:
                self.wait_ready(timeout)
                return self
            except AssertionError as e:
                last = e
                text = self.stderr()
                if self.proc.poll() is not None and "in use" in text.lower():
                    continue
                self.kill()
                raise
        raise last

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("serve exited %s before answering /healthz; stderr:\n%s"
                                     % (self.proc.returncode, self.stderr()[-3000:]))
            try:
                c = http.client.HTTPConnection(HOST, self.port, timeout=1)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise AssertionError("serve did not answer /healthz within %.0f s; stderr:\n%s"
                             % (timeout, self.stderr()[-3000:]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def new_stderr(self):
        """The stderr written since the last call."""
        text = self.stderr()
        new = text[self._stderr_seen:]
        self._stderr_seen = len(text)
        return new

    def terminate(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout=10.0):
        """The exit status, or None when still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0, expect_rc=0):
        """SIGTERM, then the process must exit (with expect_rc) within timeout."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            if expect_rc is not None and rc != expect_rc:
                raise AssertionError("serve had already exited with %d; stderr:\n%s"
                                     % (rc, self.stderr()[-3000:]))
            return rc
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
            raise AssertionError("serve did not exit within %.0f s of SIGTERM; stderr:\n%s"
                                 % (timeout, self.stderr()[-3000:]))
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError("serve exited %d after SIGTERM (expected %d); stderr:\n%s"
                                 % (rc, expect_rc, self.stderr()[-3000:]))
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def client(self, key=None, **kw):
        return Client(self.port, key=key, **kw)

    def raw(self, timeout=20.0):
        return Raw(self.port, timeout=timeout)


# ---------------------------------------------------------------------------
# HTTP client

AUTO = object()   # generate a correlator
NONE = object()   # send no header / no body


class Response:
    def __init__(self, status, reason, headers, body, sent_correlator=None):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body        # bytes
        self.sent_correlator = sent_correlator
        self._json = NONE

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def media_type(self):
        ct = self.header("content-type") or ""
        return ct.split(";")[0].strip().lower()

    def json(self):
        if self._json is NONE:
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise AssertionError("response body is not JSON (%s): %r" % (e, self.body[:300]))
        return self._json

    def __repr__(self):
        return "<HTTP %s %s %r>" % (self.status, self.header("content-type"), self.body[:300])


class Client:
    """HTTP/1.1 over one keep-alive connection (http.client).

    Every request carries a fresh x-correlator unless told otherwise, and the
    response must echo it (check_correlator)."""

    def __init__(self, port, key=None, timeout=60.0, check_correlator=True):
        self.port = port
        self.key = key
        self.timeout = timeout
        self.check_correlator = check_correlator
        self.conn = None
        self.connects = 0
        self.requests_on_conn = 0

    def _connect(self):
        self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        self.conn.connect()
        self.connects += 1
        self.requests_on_conn = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=NONE, *, json_body=NONE, headers=None, key=AUTO,
                content_type=AUTO, correlator=AUTO):
        hdrs = {}
        if json_body is not NONE:
            body = json.dumps(json_body).encode()
        if isinstance(body, str):
            body = body.encode()
        k = self.key if key is AUTO else key
        if k is not None and k is not NONE:
            hdrs["Authorization"] = "Bearer " + k
        if content_type is AUTO:
            if body is not NONE:
                hdrs["Content-Type"] = "application/json"
        elif content_type is not None and content_type is not NONE:
            hdrs["Content-Type"] = content_type
        corr = new_correlator() if correlator is AUTO else correlator
        if corr is not None and corr is not NONE:
            hdrs["x-correlator"] = corr
        else:
            corr = None
        if body is not NONE:
            hdrs["Content-Length"] = str(len(body))
        elif method in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = "0"
        if headers:
            hdrs.update(headers)
        payload = None if body is NONE else body
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            stale = self.requests_on_conn > 0
            try:
                self.conn.request(method, path, body=payload, headers=hdrs)
                r = self.conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                # the server may close an idle keep-alive connection: retry
                # once on a new one, never a request on a fresh connection
                self.close()
                if attempt == 0 and stale:
                    continue
                raise
            self.requests_on_conn += 1
            resp = Response(r.status, r.reason, r.getheaders(), data, corr)
            if r.will_close:
                self.close()
            break
        if self.check_correlator and corr is not None and valid_correlator(corr):
            got = resp.header("x-correlator")
            if got != corr:
                raise AssertionError("%s %s -> %d: x-correlator not echoed: sent %r, got %r"
                                     % (method, path, resp.status, corr, got))
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, obj=NONE, **kw):
        """obj: bytes or str are sent as they are, anything else as JSON."""
        if isinstance(obj, (bytes, str)):
            kw["body"] = obj
        elif obj is not NONE:
            kw["json_body"] = obj
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


CORRELATOR_RE = re.compile(r"^[a-zA-Z0-9\-_:;./<>{}]{0,256}$")


def valid_correlator(c):
    return CORRELATOR_RE.match(c) is not None


class Raw:
    """A plain socket, for malformed, oversized or slow requests."""

    def __init__(self, port, timeout=20.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.closed_by_peer = False
        self.send_error = None

    def send(self, data):
        """Send data; returns False (and records why) when the peer refused it."""
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
            return True
        except OSError as e:
            self.send_error = e
            return False

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed_by_peer = True
            return False
        self.buf += chunk
        return True

    def poll(self, timeout):
        """Wait up to timeout for data or close; True if either happened."""
        if self.buf or self.closed_by_peer:
            return True
        try:
            self._fill(timeout)
            return True
        except socket.timeout:
            return False

    def read_response(self, timeout=20.0):
        """Parse one HTTP response; None when the peer closed before sending one."""
        deadline = time.monotonic() + timeout

        def need(cond):
            while not cond():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("no complete response within %.0f s" % timeout)
                if not self._fill(left):
                    return False
            return True

        if not need(lambda: b"\r\n\r\n" in self.buf):
            if not self.buf:
                return None
            raise AssertionError("connection closed inside a response head: %r" % self.buf[:500])
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
        if not m:
            raise AssertionError("bad status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        resp = Response(int(m.group(1)), m.group(2), headers, b"")
        te = (resp.header("transfer-encoding") or "").lower()
        cl = resp.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                if not need(lambda: b"\r\n" in self.buf):
                    raise AssertionError("closed inside a chunked body")
                size_line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if not need(lambda: len(self.buf) >= size + 2):
                    raise AssertionError("closed inside a chunk")
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
            resp.body = body
        elif cl is not None:
            n = int(cl)
            if not need(lambda: len(self.buf) >= n):
                raise AssertionError("closed inside a body of %d bytes" % n)
            resp.body, self.buf = self.buf[:n], self.buf[n:]
        elif resp.status in (204, 304) or 100 <= resp.status < 200:
            pass
        else:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not self._fill(left):
                    break
            resp.body, self.buf = self.buf, b""
        return resp

    def wait_closed(self, timeout):
        """Read (and keep) whatever arrives until the peer closes.
        Returns the seconds it took, or None if still open after timeout."""
        start = time.monotonic()
        deadline = start + timeout
        while not self.closed_by_peer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self._fill(left)
            except socket.timeout:
                return None
            except OSError:
                self.closed_by_peer = True
        return time.monotonic() - start

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def request_bytes(method, path, body=b"", headers=None, key=None, content_type="application/json",
                  correlator=None, content_length=None):
    """A complete HTTP/1.1 request as bytes."""
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % HOST]
    if key:
        lines.append("Authorization: Bearer " + key)
    if content_type:
        lines.append("Content-Type: " + content_type)
    if correlator:
        lines.append("x-correlator: " + correlator)
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    if content_length is not None:
        lines.append("Content-Length: %d" % content_length)
    elif body is not None:
        lines.append("Content-Length: %d" % len(body))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head + (body or b"")


# ---------------------------------------------------------------------------
# assertions

ERROR_KEYS = {"status", "code", "message"}


def check_error_shape(resp):
    """Any error response: CAMARA ErrorInfo, exactly status/code/message."""
    assert resp.media_type() == "application/json", \
        "error %d: Content-Type %r, expected application/json; body %r" % (
            resp.status, resp.header("content-type"), resp.body[:200])
    body = resp.json()
    assert isinstance(body, dict), "error body is not an object: %r" % body
    assert set(body) == ERROR_KEYS, "error body keys %s, expected %s: %r" % (
        sorted(body), sorted(ERROR_KEYS), body)
    assert type(body["status"]) is int and body["status"] == resp.status, \
        "error body status %r != HTTP status %d" % (body["status"], resp.status)
    assert isinstance(body["code"], str) and re.match(r"^[A-Z_]+$", body["code"]), \
        "bad code %r" % body["code"]
    assert isinstance(body["message"], str) and body["message"], "bad message %r" % body["message"]
    return body


def expect_error(resp, status, code, what=""):
    """resp is the CAMARA-shaped error status/code."""
    w = what + ": " if what else ""
    if resp.status != status:
        raise AssertionError("%sexpected %d %s, got %d: %r" % (w, status, code, resp.status,
                                                                resp.body[:400]))
    body = check_error_shape(resp)
    assert body["code"] == code, "%sexpected code %s, got %r" % (w, code, body)
    return body


def expect_json(resp, status=200, what=""):
    if resp.status != status:
        raise AssertionError("%sexpected %d, got %d: %r" % (
            what + ": " if what else "", status, resp.status, resp.body[:400]))
    assert resp.media_type() == "application/json", "%sContent-Type %r" % (
        what + ": " if what else "", resp.header("content-type"))
    return resp.json()


def eq(what, expected, actual):
    if expected != actual:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


# ---------------------------------------------------------------------------
# the case runner


def wait_until(fn, timeout, what, interval=0.1):
    """Poll fn() until it returns a true value; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except AssertionError as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s (last: %r)" % (what, timeout, last))
        time.sleep(interval)


def _on_alarm(signum, frame):
    raise CaseTimeout("case exceeded its time limit")


def timeout(seconds):
    """Decorator: a case's own time limit."""
    def deco(fn):
        fn.timeout = seconds
        return fn
    return deco


def _indent(text, n=60):
    lines = text.rstrip("\n").splitlines()[-n:]
    return "\n".join("    " + line for line in lines)


def sqlite_only(reason):
    """Decorator: the case reads or edits the SQLite file itself."""
    def deco(fn):
        fn.sqlite_only = reason
        return fn
    return deco


def main(module_globals, setup=None, teardown=None, after_case=None):
    """Run every case_* of the module in source order; exit 1 if any failed."""
    if not SECONDNUM or not os.access(SECONDNUM, os.X_OK):
        print("not ok setup\n    SECONDNUM (%r) is not an executable" % SECONDNUM)
        sys.exit(1)
    signal.signal(signal.SIGALRM, _on_alarm)
    cases = [(n, f) for n, f in module_globals.items() if n.startswith("case_") and callable(f)]
    cases.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    flt = os.environ.get("CASE_FILTER", "")
    cases = [(n, f) for n, f in cases if flt in n]
    failed = 0
    ctx = None
    setup_error = None
    if setup is not None:
        signal.alarm(180)
        try:
            ctx = setup()
        except BaseException:
            setup_error = traceback.format_exc()
        finally:
            signal.alarm(0)
    try:
        for name, fn in cases:
            short = name[len("case_"):]
            if ON_POSTGRES and getattr(fn, "sqlite_only", None):
                print("skip %s: %s" % (short, fn.sqlite_only), flush=True)
                continue
            if setup_error:
                print("not ok %s\n    setup failed:\n%s" % (short, _indent(setup_error)), flush=True)
                failed += 1
                continue
            err = None
            t0 = time.monotonic()
            signal.alarm(int(getattr(fn, "timeout", DEFAULT_CASE_TIMEOUT)))
            try:
                fn(ctx)
            except BaseException as e:  # noqa: B902 - report everything
                if isinstance(e, KeyboardInterrupt):
                    raise
                err = traceback.format_exc()
            finally:
                signal.alarm(0)
            if after_case is not None:
                try:
                    extra = after_case(ctx, short)
                except BaseException:
                    extra = traceback.format_exc()
                if extra:
                    err = (err or "") + extra
            dt = time.monotonic() - t0
            if err is None:
                print("ok %s" % short, flush=True)
            else:
                failed += 1
                print("not ok %s (%.1f s)\n%s" % (short, dt, _indent(err)), flush=True)
    finally:
        if teardown is not None and ctx is not None:
            signal.alarm(60)
            try:
                teardown(ctx)
            except BaseException:
                print("not ok teardown\n%s" % _indent(traceback.format_exc()), flush=True)
                failed += 1
            finally:
                signal.alarm(0)
        for s in _live_servers:
            s.kill()
        if not os.environ.get("KEEP_TMP"):
            for d in _tmp_dirs:
                shutil.rmtree(d, ignore_errors=True)
    sys.exit(1 if failed else 0)


def server_health_check(server, restart=True):
    """For after_case: the shared server must still run and its stderr hold no
    sanitizer report. Returns a failure text or None (restarting a dead server)."""
    if server is None:
        return None
    problems = []
    new = server.new_stderr()
    if SANITIZER_RE.search(new):
        problems.append("sanitizer report on the server's stderr:\n" + new[-4000:])
    if not server.alive():
        problems.append("the shared server died (exit %s); stderr:\n%s"
                        % (server.proc.returncode, server.stderr()[-4000:]))
        if restart:
            server.start()
    return "\n".join(problems) if problems else None


# ---------------------------------------------------------------------------
# the standard store both suites use (carrier cmcc owns +86138)

# Each tuple: number, event, at. Calendar days are in +08:00.
N_SAME = "+8613800000001"      # scenario 1: one subscriber since 2023-10-09
N_NEW = "+8613800000002"       # scenario 2: cancelled, then a new subscriber
N_DISC = "+8613800000003"      # cancelled, not reissued
N_MIDSTREAM = "+8613800000004"  # first record is a suspension
N_SUSPEND = "+8613800000005"   # suspended and resumed: one tenure
N_RECLAIM = "+8613800000006"   # cancelled, reclaimed by the same subscriber
N_TWICE = "+8613800000007"     # reissued once, then cancelled again
N_TZ = "+8613800000008"        # activated at 16:30Z: the next day in +08:00
N_NEVER = "+8613899999999"     # never reported

STANDARD_FEED = [
    (N_SAME, "activate", "2023-10-09T10:00:00+08:00"),
    (N_NEW, "activate", "2023-10-09"),
    (N_NEW, "cancel", "2024-02-25T12:00:00+08:00"),
    (N_NEW, "activate", "2024-09-21T09:00:00+08:00"),
    (N_DISC, "activate", "2023-01-01"),
    (N_DISC, "cancel", "2024-03-01T10:00:00+08:00"),
    (N_MIDSTREAM, "suspend", "2024-01-10"),
    (N_SUSPEND, "activate", "2023-01-01"),
    (N_SUSPEND, "suspend", "2023-05-01"),
    (N_SUSPEND, "resume", "2023-06-01"),
    (N_RECLAIM, "activate", "2023-01-01"),
    (N_RECLAIM, "cancel", "2023-03-01"),
    (N_RECLAIM, "reclaim", "2023-04-01"),
    (N_TWICE, "activate", "2022-01-01"),
    (N_TWICE, "cancel", "2022-06-01"),
    (N_TWICE, "activate", "2022-12-01"),
    (N_TWICE, "cancel", "2023-07-01"),
    (N_TZ, "activate", "2023-10-09T16:30:00Z"),
]
STANDARD_NUMBERS = len({r[0] for r in STANDARD_FEED})


def standard_env():
    env = Env()
    env.add_carrier("cmcc", "+86138")
    env.import_feed(STANDARD_FEED, carrier="cmcc")
    return env


# ---- differential checks: the server's answers against the store's --------------

def answers_from_server(server, app, asked, batch=1000):
    """The server's answers to (number, date) pairs, by batch checks of `batch`
    items: a result, or an item's error code."""
    client = server.client(app)
    got = []
    for i in range(0, len(asked), batch):
        items = [{"number": n, "date": d} for n, d in asked[i:i + batch]]
        body = expect_json(client.post("/v1/check/batch", {"items": items}), 200, "batch")
        got += [r.get("result") or r["error"]["code"] for r in body["results"]]
    return got


def answers_from_store(env, asked, timeout=600):
    """The same pairs answered by `secondnum check --file` from the store itself."""
    path = env.path("pairs.csv")
    with open(path, "w") as f:
        f.write("number,date\n")
        for n, d in asked:
            f.write("%s,%s\n" % (n, d))
    out = run_cli("check", "--db", env.db, "--file", path, timeout=timeout).stdout
    rows = list(csv.reader(out.splitlines()))
    if rows and rows[0][:2] == ["number", "date"]:
        rows = rows[1:]
    eq("store answers", len(asked), len(rows))
    return [r[2] for r in rows]


def same_answers(what, asked, server, store, seed=None):
    """Fail naming a few pairs where the server and the store answer apart."""
    wrong = [(asked[i], server[i], store[i]) for i in range(len(asked)) if server[i] != store[i]]
    if wrong:
        raise AssertionError("%s: %d of %d answers differ from the store's, e.g. %r%s" % (
            what, len(wrong), len(asked), wrong[:5], "" if seed is None else " (seed %d)" % seed))
    print("%s: %d answers equal the store's (%s)" % (what, len(asked), ", ".join(sorted(set(server)))))
