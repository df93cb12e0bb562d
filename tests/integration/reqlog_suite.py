"""reqlog_suite.py - the request log and the log level against a real
`secondnum serve` (docs/http-api.md, "Request log"):

- `--request-log FILE`: one valid JSON line per answered request (N
  requests, N lines), errors (400, 401, 404, 405) included, with the
  fields the docs name (time in RFC 3339 UTC with milliseconds, the route's
  pattern, method, status, latency_us, key and app for a key, the session
  marker for a subscriber, the x-correlator echoed, the client, bytes);
  requests refused from their head before routing (401, 413, 431) too;
- no phone number, ID digits, sign-in code, session token or API key in
  the log after a subscriber signs in and checks are made, and no path:
  a number in a path is logged as the route's pattern or "no-route";
- SIGHUP after the file was renamed: the old file holds exactly the lines
  before, the new one exactly those after, none lost; SIGHUP without a
  request log leaves serve running;
- `--request-log -` writes the lines to stderr, between serve's own lines;
- a log nobody reads (a FIFO) does not hold up answers: the lines over
  SN_REQLOG_BUFFER_BYTES are dropped and a "dropped" line says how many;
- `--log-level warn` drops the startup lines and keeps warnings, `error`
  drops warnings too; a bad level is a usage error (exit 2), a request
  log that cannot be opened a startup error (exit 1); both settings from
  the [serve] section of --config too.

Runs on SQLite and on PostgreSQL (tests/pg/run.sh). Environment:
SECONDNUM, CASE_FILTER, KEEP_TMP (harness.py).
"""

import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402

RANGE = "+86137"
N1, N2 = "+8613700000001", "+8613700000002"
ID6 = {N1: "135791", N2: "24680X"}
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CAMARA = "/number-recycling/v0.2/check"
FIELDS = {"time", "route", "method", "status", "latency_us", "bytes"}
OPTIONAL = {"key", "app", "subscriber", "correlator", "client"}


def at(days=0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def read_lines(path):
    """The log's lines, parsed; each must be one JSON object."""
    try:
        with open(path, "rb") as f:
            data = f.read().decode()
    except FileNotFoundError:
        return []
    assert data == "" or data.endswith("\n"), "a line cut short: %r" % data[-200:]
    out = []
    for line in data.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            raise AssertionError("not a JSON line: %r" % line)
    return out


def check_shape(e):
    missing = FIELDS - set(e)
    assert not missing, "fields missing %s: %r" % (sorted(missing), e)
    extra = set(e) - FIELDS - OPTIONAL
    assert not extra, "fields not documented %s: %r" % (sorted(extra), e)
    assert TIME_RE.match(e["time"]), "time %r" % e["time"]
    for k in ("status", "latency_us", "bytes"):
        assert isinstance(e[k], int) and e[k] >= 0, "%s %r" % (k, e)


class World:
    """A store (carrier cm owns +86137; two active numbers with ID digits),
    an app key, a carrier key and an admin key."""

    def __init__(self):
        self.env = h.Env()
        self.env.add_carrier("cm", RANGE)
        feed = self.env.path("feed.csv")
        with open(feed, "w") as f:
            f.write("number,event,at,event_id,id6\n")
            for i, n in enumerate((N1, N2)):
                f.write("%s,activate,%s,a%d,%s\n" % (n, at(400), i, ID6[n]))
        h.run_cli("import", "--db", self.env.db, "--carrier", "cm", feed)
        self.bank = self.env.key("app", "bank")
        self.cm = self.env.key("carrier", "cm-feed", carrier="cm")
        self.ids = self.env.key_ids()
        self.log = self.env.path("requests.log")
        self.srv = None

    def start(self, *extra):
        self.srv = h.Server(self.env, extra=list(extra)).start()
        return self.srv

    def stop(self):
        if self.srv is not None:
            self.srv.stop()
            text = self.srv.stderr()
            assert not h.SANITIZER_RE.search(text), "sanitizer report:\n" + text[-4000:]

    def cleanup(self):
        if self.srv is not None:
            self.srv.kill()
        self.env.cleanup()


def probes(lines):
    """The harness's readiness probes: GET /healthz without a correlator."""
    return [e for e in lines if e["route"] == "/healthz" and "correlator" not in e
            and e["status"] == 200 and e["method"] == "GET"]


# ---------------------------------------------------------------------------


def case_one_json_line_per_request_errors_included(_):
    w = World()
    try:
        srv = w.start("--request-log", w.log)
        bank = srv.client(w.bank)
        anon = srv.client()
        sent = []  # (correlator, route, method, status, key name or None)

        def do(client, method, path, status, route, who=None, **kw):
            corr = "corr-%d" % len(sent)
            r = client.request(method, path, correlator=corr, **kw)
            eq("%s %s" % (method, path), status, r.status)
            sent.append((corr, route, method, status, who, len(r.body)))

        do(anon, "GET", "/healthz", 200, "/healthz")
        do(bank, "POST", "/v1/check", 200, "/v1/check", "bank",
           json_body={"number": N1, "date": "2024-01-01"})
        do(bank, "POST", CAMARA, 200, CAMARA, "bank",
           json_body={"phoneNumber": N2, "specifiedDate": "2024-01-01"})
        # refused from its head, before its body is read (conn.c)
        do(anon, "POST", "/v1/check", 401, "/v1/check",
           json_body={"number": N1, "date": "2024-01-01"})
        do(anon, "GET", "/v1/check", 405, "/v1/check")
        do(bank, "POST", "/v1/check", 400, "/v1/check", "bank", body="{not json")
        do(bank, "GET", "/v1/notices/8613700000001", 404, "/v1/notices/{id}", "bank")
        do(anon, "GET", "/nothing/here/8613700000001", 404, "no-route")
        do(anon, "PATCH", "/v1/check", 405, "/v1/check")
        do(anon, "GET", "/", 200, "portal")
        do(anon, "HEAD", "/healthz", 200, "/healthz")
        r = anon.request("GET", "/healthz", correlator="bad correlator!")
        eq("a bad x-correlator", 400, r.status)
        sent.append((None, "/healthz", "GET", 400, None, len(r.body)))

        def written():
            lines = read_lines(w.log)
            return lines if len(lines) >= len(probes(lines)) + len(sent) else None
        h.wait_until(written, 5, "the lines written while serving (every %d ms)" % 100)
        w.stop()
        lines = read_lines(w.log)
        ours = [e for e in lines if e not in probes(lines)]
        eq("one line per request", len(sent), len(ours))
        for e, (corr, route, method, status, who, body_len) in zip(ours, sent):
            check_shape(e)
            eq("route of %s" % corr, route, e["route"])
            eq("method of %s" % corr, method, e["method"])
            eq("status of %s" % corr, status, e["status"])
            eq("correlator echoed", corr, e.get("correlator"))
            eq("client of %s" % corr, "127.0.0.1", e.get("client"))
            eq("bytes of %s" % corr, 0 if method == "HEAD" else body_len, e["bytes"])
            if who is None:
                assert "key" not in e and "app" not in e, "no key: %r" % e
            else:
                eq("key id of %s" % corr, w.ids[who], e.get("key"))
                eq("app of %s" % corr, who, e.get("app"))
            assert "subscriber" not in e, e
    finally:
        w.cleanup()


def raw_status(port, data):
    """Send data on a new connection; the status of the one answer."""
    s = socket.create_connection((h.HOST, port), timeout=10)
    try:
        s.sendall(data)
        got = b""
        while b"\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        return int(got.split(b" ")[1])
    finally:
        s.close()


def case_refusals_before_routing_are_logged(_):
    """Requests conn.c refuses from their head, before any body is read (and
    the router never sees), have their lines too."""
    w = World()
    try:
        srv = w.start("--request-log", w.log)
        sent = [
            (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"x-correlator: no-key\r\nContent-Length: 100\r\n\r\n",
             401, "/v1/events", "POST", "no-key"),
            (b"POST /healthz HTTP/1.1\r\nHost: x\r\nx-correlator: too-big\r\n"
             b"Content-Length: 10000000\r\n\r\n", 413, "/healthz", "POST", "too-big"),
            (b"POST /nowhere/8613700000001 HTTP/1.1\r\nHost: x\r\nx-correlator: big-anon\r\n"
             b"Content-Length: 10000000\r\n\r\n", 413, "no-route", "POST", "big-anon"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nx-correlator: huge-head\r\nX-Pad: "
             + b"a" * (40 * 1024), 431, "refused", "OTHER", "huge-head"),
        ]
        for data, status, *_ in sent:
            eq("refused", status, raw_status(srv.port, data))
        w.stop()
        lines = [e for e in read_lines(w.log) if e not in probes(read_lines(w.log))]
        eq("one line per refusal", len(sent), len(lines))
        for e, (_, status, route, method, corr) in zip(lines, sent):
            check_shape(e)
            eq("status of %s" % corr, status, e["status"])
            eq("route of %s" % corr, route, e["route"])
            eq("method of %s" % corr, method, e["method"])
            eq("client of %s" % corr, "127.0.0.1", e.get("client"))
            assert e["bytes"] > 0, e
        with open(w.log) as f:
            assert "8613700000001" not in f.read()
    finally:
        w.cleanup()


def sms_code(w, number):
    out = h.run_cli("sms", "list", "--db", w.env.db, "--number", number, "--json").stdout
    texts = [json.loads(x)["text"] for x in out.splitlines() if x.strip()]
    texts = [t for t in texts if t]
    m = CODE_RE.search(texts[-1])
    assert m, "no code in %r" % texts[-1]
    return m.group(1)


def case_no_number_id_digits_code_or_secret_in_the_log(_):
    w = World()
    try:
        srv = w.start("--request-log", w.log)
        anon = srv.client()
        bank = srv.client(w.bank)
        cm = srv.client(w.cm)
        corr = "subscriber-flow"   # no digits of our own
        expect_json(anon.request("POST", "/v1/subscriber/otp", json_body={"number": N1},
                                 correlator=corr), 200, "otp")
        code = sms_code(w, N1)
        wrong = "000000" if code != "000000" else "111111"
        r = anon.request("POST", "/v1/subscriber/session", correlator=corr,
                         json_body={"number": N1, "code": wrong, "id6": ID6[N1]})
        eq("a wrong code", 401, r.status)
        d = expect_json(anon.request("POST", "/v1/subscriber/session", correlator=corr,
                                     json_body={"number": N1, "code": code, "id6": ID6[N1]}),
                        201, "sign in")
        token = d["token"]
        sub = srv.client(token)
        expect_json(sub.request("GET", "/v1/subscriber/session", correlator=corr), 200, "session")
        expect_json(sub.request("GET", "/v1/subscriber/bindings", correlator=corr), 200, "bindings")
        expect_json(sub.request("POST", CAMARA, correlator=corr,
                                json_body={"specifiedDate": "2024-01-01"}), 200, "3-legged")
        expect_json(bank.request("POST", "/v1/check", correlator=corr,
                                 json_body={"number": N2, "date": "2024-01-01"}), 200, "check")
        expect_json(bank.request("POST", "/v1/check/batch", correlator=corr, json_body={
            "items": [{"number": N1, "date": "2024-01-01"}, {"number": N2, "date": "2024-01-01"}]}),
            200, "batch")
        bank.request("GET", "/v1/bindings?number=%2B8613700000002", correlator=corr)
        bank.request("GET", "/v1/notices/13700000001", correlator=corr)
        anon.request("GET", "/%2B8613700000001/" + ID6[N2], correlator=corr)
        expect_json(cm.request("POST", "/v1/events", correlator=corr, json_body={"events": [
            {"number": N2, "event": "cancel", "at": at(0)}]}), 200, "events")
        w.stop()
        with open(w.log, "rb") as f:
            raw = f.read().decode()
        lines = read_lines(w.log)
        assert len(lines) >= 12, "%d lines" % len(lines)
        sub_lines = [e for e in lines if e.get("subscriber") == "session"]
        assert len(sub_lines) >= 3, "the session marker on the session's requests: %r" % lines
        secrets = {"number": [N1, N2, N1[1:], N2[1:], N1[3:], N2[3:]],
                   "ID digits": list(ID6.values()), "code": [code, wrong], "token": [token],
                   "API key": [w.bank, w.cm]}
        for what, texts in secrets.items():
            for t in texts:
                assert t not in raw, "%s %r in the request log" % (what, t)
        for e in lines:
            check_shape(e)
            for k in ("route", "method", "app", "subscriber", "correlator", "client"):
                v = e.get(k, "")
                assert not re.search(r"\d{4}", v if k != "client" else ""), \
                    "digits in %s: %r" % (k, e)
    finally:
        w.cleanup()


def case_sighup_reopens_the_file_none_lost(_):
    w = World()
    try:
        srv = w.start("--request-log", w.log)
        c = srv.client()
        for i in range(20):
            eq("before", 200, c.request("GET", "/healthz", correlator="before-%d" % i).status)
        rotated = w.log + ".1"
        os.rename(w.log, rotated)
        srv.proc.send_signal(signal.SIGHUP)
        h.wait_until(lambda: os.path.exists(w.log), 5, "the file opened again")
        for i in range(30):
            eq("after", 200, c.request("GET", "/healthz", correlator="after-%d" % i).status)
        assert srv.alive(), "serve died of SIGHUP"
        w.stop()
        old = [e.get("correlator") for e in read_lines(rotated)]
        new = [e.get("correlator") for e in read_lines(w.log)]
        eq("the old file: the lines before", ["before-%d" % i for i in range(20)],
           [x for x in old if x is not None])
        eq("the new file: exactly the lines after", ["after-%d" % i for i in range(30)], new)
        assert "request log reopened" in srv.stderr(), srv.stderr()
    finally:
        w.cleanup()


def case_sighup_without_a_request_log_is_harmless(_):
    w = World()
    try:
        srv = w.start()
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert srv.alive(), "serve died of SIGHUP"
        eq("still serving", 200, srv.client().get("/healthz").status)
        w.stop()
        assert not os.path.exists(w.log)
        assert '"route"' not in srv.stderr(), "a request log by default: " + srv.stderr()
    finally:
        w.cleanup()


def case_dash_writes_the_lines_to_stderr(_):
    w = World()
    try:
        srv = w.start("--request-log", "-")
        c = srv.client(w.bank)
        for i in range(5):
            c.request("POST", "/v1/check", correlator="dash-%d" % i,
                      json_body={"number": N1, "date": "2024-01-01"})
        w.stop()
        text = srv.stderr()
        lines = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
        got = [e["correlator"] for e in lines if e.get("correlator", "").startswith("dash-")]
        eq("the lines on stderr", ["dash-%d" % i for i in range(5)], got)
        for e in lines:
            check_shape(e)
        others = [x for x in text.splitlines() if not x.startswith("{")]
        assert all(x.startswith("secondnum serve: ") for x in others), others
        assert any("listening on" in x for x in others), others
    finally:
        w.cleanup()


def pipelined(port, n, correlator):
    """n GET /healthz pipelined on one connection; the answers read back."""
    req = ("GET /healthz HTTP/1.1\r\nHost: t\r\nx-correlator: %s\r\n\r\n" % correlator).encode()
    s = socket.create_connection((h.HOST, port), timeout=20)
    try:
        s.sendall(req * n)
        data, got = b"", 0
        while got < n:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
            got = data.count(b"HTTP/1.1 200")
        return got
    finally:
        s.close()


@h.timeout(120)
def case_a_log_nobody_reads_drops_lines_and_says_so(_):
    """The log is a FIFO its reader does not read: answers go on, lines over
    SN_REQLOG_BUFFER_BYTES (1 MiB) are dropped and counted."""
    w = World()
    fifo = w.env.path("fifo")
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)   # a reader that is stuck
    drained = []
    try:
        srv = w.start("--request-log", fifo)
        corr = "x" * 256   # long lines: the bound is crossed sooner
        total, t0 = 0, time.monotonic()
        for _ in range(12):
            total += pipelined(srv.port, 1000, corr)
        eq("every request answered", 12000, total)
        elapsed = time.monotonic() - t0
        os.set_blocking(rfd, True)

        def drain():
            while True:
                b = os.read(rfd, 1 << 16)
                if not b:
                    break
                drained.append(b)
        t = threading.Thread(target=drain)
        t.start()
        w.stop()
        t.join(30)
        text = b"".join(drained).decode()
        lines = [json.loads(x) for x in text.splitlines()]
        said = sum(e["dropped"] for e in lines if "dropped" in e)
        logged = [e for e in lines if "route" in e]
        ours = [e for e in logged if e.get("correlator") == corr]
        assert said > 0, "nothing dropped (%d lines): the bound was not crossed" % len(lines)
        eq("lines written + dropped = requests", 12000 + len(probes(logged)),
           len(logged) + said)
        assert len(ours) < 12000
        assert "request log line(s) dropped" in srv.stderr(), srv.stderr()[-2000:]
        print("# 12000 answers in %.1f s with the log stuck; %d lines dropped" % (elapsed, said))
    finally:
        os.close(rfd)
        w.cleanup()


def case_log_level_warn_and_error(_):
    w = World()
    try:
        for level, want_warning in (("warn", True), ("error", False)):
            srv = w.start("--log-level", level, "--max-connections", "1")
            def served():   # once the readiness probe's connection is gone
                c = srv.client(check_correlator=False)
                if c.get("/healthz").status == 200:
                    return c
                c.close()
                time.sleep(0.1)
            held = h.wait_until(served, 5, "the one connection served")
            extra = socket.create_connection((h.HOST, srv.port), timeout=10)
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b" 503 " in extra.recv(4096), "no 503 over --max-connections"
            extra.close()
            held.close()
            time.sleep(0.3)
            w.stop()
            text = srv.stderr()
            for quiet in ("listening on", "numbers indexed", "open-files limit", "stopped"):
                assert quiet not in text, "%s: an info line: %s" % (level, text)
            eq("%s: the warning" % level, want_warning, "refusing more" in text)
            w.srv = None
    finally:
        w.cleanup()


def case_log_level_debug_and_info(_):
    w = World()
    try:
        srv = w.start("--log-level", "debug", "--request-log", w.log)
        srv.proc.send_signal(signal.SIGHUP)
        h.wait_until(lambda: "request log reopened" in srv.stderr(), 5, "the reopen said")
        w.stop()
        text = srv.stderr()
        for line in ("listening on", "request log: ", "SIGHUP: reopening the request log"):
            assert line in text, "debug: no %r in %s" % (line, text)
        srv = w.start()   # info, the default
        w.stop()
        text = srv.stderr()
        assert "listening on" in text and "stopped" in text, text
        assert "SIGHUP" not in text and "request log: " not in text, text
    finally:
        w.cleanup()


def case_settings_from_the_config_file(_):
    """request-log and log-level in the [serve] section of --config."""
    w = World()
    try:
        conf = w.env.path("secondnum.conf")
        with open(conf, "w") as f:
            f.write("[serve]\nrequest-log = %s\nlog-level = warn\n" % w.log)
        srv = w.start("--config", conf)
        eq("healthz", 200, srv.client().request("GET", "/healthz", correlator="from-conf").status)
        w.stop()
        eq("the line", ["from-conf"], [e.get("correlator") for e in read_lines(w.log)
                                       if "correlator" in e])
        assert "listening on" not in srv.stderr(), srv.stderr()
        with open(conf, "w") as f:
            f.write("[serve]\nlog-level = loud\n")
        p = h.run_cli("serve", "--db", w.env.db, "--config", conf, check=False)
        eq("a bad log-level in the file: exit", 2, p.returncode)
        assert "--log-level must be" in p.stderr, p.stderr
    finally:
        w.cleanup()


def case_bad_values_are_refused(_):
    env = h.Env()
    try:
        p = h.run_cli("serve", "--db", env.db, "--log-level", "loud", check=False)
        eq("bad --log-level: exit", 2, p.returncode)
        assert "--log-level must be error, warn, info or debug" in p.stderr, p.stderr
        p = h.run_cli("serve", "--db", env.db, "--request-log", "", check=False)
        eq("empty --request-log: exit", 2, p.returncode)
        p = h.run_cli("serve", "--db", env.db, "--listen", "127.0.0.1:%d" % h.free_port(),
                      "--request-log", env.path("no/such/dir/requests.log"), check=False,
                      timeout=30)
        eq("a request log that cannot be opened: exit", 1, p.returncode)
        assert "cannot open the request log" in p.stderr, p.stderr
        p = h.run_cli("serve", "--help", check=False)
        for flag in ("--request-log FILE", "--log-level"):
            assert flag in p.stdout + p.stderr, "usage lacks " + flag
    finally:
        env.cleanup()


if __name__ == "__main__":
    h.main(globals())
