"""conn_suite.py - the HTTP server's connections: framing (request
smuggling), the head judged before the body, lingering close, the
open-files limit and --max-connections (docs/http-api.md, "Connections").

One shared server on the standard store for the protocol cases; the cases
that measure the server's memory or CPU, or change its limits, start their
own. Raw sockets (harness.Raw) throughout: these are what a client library
would not send.
"""

import json
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import N_NEW, N_SAME, eq, expect_error, expect_json  # noqa: E402

MIB = 1024 * 1024
BODY = json.dumps({"number": N_SAME, "date": "2023-12-22"}).encode()
SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


class Ctx:
    pass


def setup():
    c = Ctx()
    c.env = h.standard_env()
    c.app = c.env.key("app", "conn-app")
    c.cmcc = c.env.key("carrier", "conn-cmcc", carrier="cmcc")
    c.revoked = c.env.key("app", "conn-revoked")
    h.run_cli("keys", "revoke", "--db", c.env.db, c.env.key_ids()["conn-revoked"])
    c.server = h.Server(c.env).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


# ---------------------------------------------------------------------------
# helpers


def head(lines, version="HTTP/1.1", path="/v1/check", method="POST"):
    """A request head: the request line, then the lines given, then a blank line."""
    return ("%s %s %s\r\n" % (method, path, version) + "".join(l + "\r\n" for l in lines)
            + "\r\n").encode()


def keyed(c, *lines, key=None, correlator=None):
    out = ["Host: 127.0.0.1", "Authorization: Bearer " + (key or c.app),
           "Content-Type: application/json"]
    if correlator:
        out.append("x-correlator: " + correlator)
    return out + list(lines)


def chunked(data, size=16):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def all_responses(raw, timeout=5.0):
    """Every response the server sends until it closes (or timeout passes)."""
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = raw.read_response(max(0.1, deadline - time.monotonic()))
        except socket.timeout:
            break
        if r is None:
            break
        out.append(r)
    return out


def expect_refused_and_closed(raw, status, code, what, correlator=None):
    """Exactly one response, the CAMARA error, Connection: close, and the
    connection closed by the server with nothing after it."""
    rs = all_responses(raw)
    assert rs, "%s: no response" % what
    assert len(rs) == 1, "%s: %d responses (%s): a second request was read" % (
        what, len(rs), [r.status for r in rs])
    expect_error(rs[0], status, code, what)
    eq("%s: Connection" % what, "close", (rs[0].header("connection") or "").lower())
    if correlator:
        eq("%s: x-correlator" % what, correlator, rs[0].header("x-correlator"))
    assert raw.wait_closed(5) is not None, "%s: the connection stayed open" % what
    return rs[0]


def proc_cpu(pid):
    """The process's user + system CPU seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS for %d" % pid)


def fd_limit(soft, hard):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def healthz_within(server, seconds):
    """GET /healthz on a new connection answers 200 within seconds (retrying)."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            r = server.client(check_correlator=False, timeout=2).get("/healthz")
            if r.status == 200:
                return
            last = r.status
        except (OSError, AssertionError) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError("GET /healthz did not answer 200 within %.0f s (last: %r)" % (seconds, last))


# ---------------------------------------------------------------------------
# framing: one reading of every request, or 400 and close


def smuggling_payloads(c):
    """(what, bytes): each a request whose body framing has two readings,
    followed by a request of its own (SMUGGLED) that must never be answered."""
    n = len(BODY)
    te_body = chunked(BODY)
    return [
        ("Content-Length and Transfer-Encoding",
         head(keyed(c, "Content-Length: %d" % len(te_body), "Transfer-Encoding: chunked"))
         + te_body + SMUGGLED),
        ("Transfer-Encoding then Content-Length",
         head(keyed(c, "Transfer-Encoding: chunked", "Content-Length: 5")) + te_body + SMUGGLED),
        ("two Content-Lengths",
         head(keyed(c, "Content-Length: %d" % n, "Content-Length: %d" % (n + len(SMUGGLED))))
         + BODY + SMUGGLED),
        ("two equal Content-Lengths",
         head(keyed(c, "Content-Length: %d" % n, "Content-Length: %d" % n)) + BODY + SMUGGLED),
        ("a Content-Length list",
         head(keyed(c, "Content-Length: %d, %d" % (n, n))) + BODY + SMUGGLED),
        ("a signed Content-Length", head(keyed(c, "Content-Length: +%d" % n)) + BODY + SMUGGLED),
        ("Transfer-Encoding chunked, identity",
         head(keyed(c, "Transfer-Encoding: chunked, identity")) + te_body + SMUGGLED),
        ("Transfer-Encoding identity",
         head(keyed(c, "Transfer-Encoding: identity", "Content-Length: %d" % n)) + BODY + SMUGGLED),
        ("two Transfer-Encodings",
         head(keyed(c, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked")) + te_body
         + SMUGGLED),
        ("Transfer-Encoding in HTTP/1.0",
         head(keyed(c, "Transfer-Encoding: chunked"), version="HTTP/1.0") + te_body + SMUGGLED),
        ("a folded header line",
         head(keyed(c, "X-Note: a", " Transfer-Encoding: chunked", "Content-Length: %d" % n))
         + BODY + SMUGGLED),
        ("two Hosts",
         head(keyed(c, "Host: other", "Content-Length: %d" % n)) + BODY + SMUGGLED),
        ("HTTP/1.1 without Host",
         head(keyed(c, "Content-Length: %d" % n)[1:]) + BODY + SMUGGLED),
    ]


def case_ambiguous_framing_is_400_and_the_connection_closes(c):
    for what, payload in smuggling_payloads(c):
        corr = h.new_correlator()
        echoed = b"Host: 127.0.0.1\r\n" in payload  # the correlator goes in after it
        payload = payload.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nx-correlator: %s\r\n"
                                  % corr.encode(), 1)
        raw = c.server.raw(timeout=10)
        raw.send(payload)
        try:
            expect_refused_and_closed(raw, 400, "INVALID_ARGUMENT", what, corr if echoed else None)
        finally:
            raw.close()
    expect_json(c.server.client().get("/healthz"), 200, "healthz afterwards")


def case_smuggling_behind_a_pipelined_request_is_400(c):
    """The second request arrives whole with the first, so h2o has read its
    body before the server's reader sees its head: the handler judges it."""
    first = head(keyed(c, "Content-Length: %d" % len(BODY))) + BODY
    te_body = chunked(BODY)
    second = head(keyed(c, "Content-Length: %d" % len(te_body), "Transfer-Encoding: chunked")) \
        + te_body
    raw = c.server.raw(timeout=10)
    raw.send(first + second + SMUGGLED)
    rs = all_responses(raw)
    raw.close()
    eq("statuses", [200, 400], [r.status for r in rs])
    expect_error(rs[1], 400, "INVALID_ARGUMENT", "the pipelined request")
    assert raw.closed_by_peer, "the connection stayed open"


def case_chunked_and_plain_bodies_keep_the_connection(c):
    raw = c.server.raw(timeout=10)
    reqs = [
        head(keyed(c, "Transfer-Encoding: chunked")) + chunked(BODY, 7),
        head(keyed(c, "Transfer-Encoding: Chunked")) + chunked(BODY, 100),
        head(keyed(c, "Content-Length: %d" % len(BODY))) + BODY,
        head(["Host: 127.0.0.1"], method="GET", path="/healthz"),
        head(keyed(c, "Content-Length: 0"), path="/v1/check"),
    ]
    for i, req in enumerate(reqs):
        raw.send(req)
        r = raw.read_response(10)
        assert r is not None, "request %d: closed" % i
        if i < 3:
            eq("request %d: verdict" % i, "unchanged", expect_json(r, 200, "req %d" % i)["result"])
        elif i == 3:
            expect_json(r, 200, "healthz")
        else:
            expect_error(r, 400, "INVALID_ARGUMENT", "empty body")
        eq("request %d: Connection" % i, "keep-alive", (r.header("connection") or "").lower())
    # all five, and pipelined too
    raw.send(b"".join(reqs[:4]))
    eq("pipelined", [200, 200, 200, 200], [raw.read_response(10).status for _ in range(4)])
    assert not raw.poll(0.5), "the connection closed after good requests"
    raw.close()


def case_oversized_head_is_431(c):
    raw = c.server.raw(timeout=10)
    raw.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (40 * 1024))
    expect_refused_and_closed(raw, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "40 KiB head")
    raw.close()


# ---------------------------------------------------------------------------
# the head is judged before the body is read


def case_bad_credentials_are_refused_before_the_body(c):
    cases = [(None, 401, "UNAUTHENTICATED"), ("sn_nosuchkey", 401, "UNAUTHENTICATED"),
             (c.revoked, 401, "UNAUTHENTICATED"), ("Basic", 401, "UNAUTHENTICATED"),
             (c.cmcc, 403, "PERMISSION_DENIED")]
    for key, status, code in cases:
        lines = ["Host: 127.0.0.1", "Content-Type: application/json", "Content-Length: %d" % (8 * MIB)]
        if key == "Basic":
            lines.append("Authorization: Basic dTpw")
        elif key:
            lines.append("Authorization: Bearer " + key)
        corr = h.new_correlator()
        lines.append("x-correlator: " + corr)
        raw = c.server.raw(timeout=10)
        t0 = time.monotonic()
        raw.send(head(lines, path="/v1/check/batch"))  # the head only: no byte of the body
        expect_refused_and_closed(raw, status, code, "key %r" % (key and key[:8]), corr)
        took = time.monotonic() - t0
        assert took < 3, "key %r: the answer took %.1f s" % (key and key[:8], took)
        raw.close()
    # a good key: the server waits for the body, then answers it
    body = json.dumps({"items": [{"number": N_NEW, "date": "2023-12-22"}]}).encode()
    body += b" " * (MIB - len(body))
    raw = c.server.raw(timeout=20)
    raw.send(head(keyed(c, "Content-Length: %d" % len(body)), path="/v1/check/batch"))
    assert not raw.poll(1.0), "a good key was answered before its body: %r" % raw.buf[:200]
    raw.send(body)
    d = expect_json(raw.read_response(20), 200, "1 MiB body with a good key")
    eq("result", "reassigned", d["results"][0]["result"])
    raw.close()


def case_bodies_without_a_key_are_small(c):
    """A public route, an unknown path: no more than 64 KiB, refused from the
    Content-Length, or as a chunked body grows."""
    for path in ("/v1/subscriber/otp", "/no/such/path", "/healthz"):
        raw = c.server.raw(timeout=10)
        raw.send(head(["Host: x", "Content-Type: application/json",
                       "Content-Length: %d" % (64 * 1024 + 1)], path=path))
        expect_refused_and_closed(raw, 413, "PAYLOAD_TOO_LARGE", "%s, Content-Length" % path)
        raw.close()
    raw = c.server.raw(timeout=10)
    raw.send(head(["Host: x", "Content-Type: application/json", "Transfer-Encoding: chunked"],
                  path="/no/such/path"))
    sent = 0
    block = b"%x\r\n" % (32 * 1024) + b"x" * (32 * 1024) + b"\r\n"
    while sent < 4 * MIB and raw.send(block) and not raw.poll(0.01):
        sent += 32 * 1024
    assert sent < MIB, "a chunked body without a key was read up to %d bytes" % sent
    expect_refused_and_closed(raw, 413, "PAYLOAD_TOO_LARGE", "chunked, no key")
    raw.close()
    # small bodies without a key are still read (and answered by the route)
    r = c.server.client().post("/no/such/path", b"{}")
    expect_error(r, 404, "NOT_FOUND", "a small body to an unknown path")


@h.timeout(120)
def case_unauthenticated_bodies_do_not_pin_memory(c):
    """100 connections each sending 8 MiB slowly with a bad key: every one is
    answered 401 and the server's memory stays where it was (before the
    head was judged first, it buffered every body: about 800 MB)."""
    env = h.Env()
    s = h.Server(env).start()
    try:
        base = proc_rss_mb(s.proc.pid)
        n, total = 100, 8 * MIB
        conns = []
        for _ in range(n):
            sock = socket.create_connection((h.HOST, s.port), timeout=10)
            sock.sendall(head(["Host: x", "Authorization: Bearer sn_stranger",
                               "Content-Type: application/json", "Content-Length: %d" % total],
                              path="/v1/check/batch"))
            sock.setblocking(False)
            conns.append({"sock": sock, "sent": 0, "got": b"", "eof": False})
        block = b" " * (128 * 1024)
        peak = base
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for st in conns:
                if st["eof"]:
                    continue
                if st["sent"] < total:
                    try:
                        st["sent"] += st["sock"].send(block[:min(len(block), total - st["sent"])])
                    except BlockingIOError:
                        pass
                    except OSError:
                        st["eof"] = True
                try:
                    data = st["sock"].recv(65536)
                    if data:
                        st["got"] += data
                    else:
                        st["eof"] = True
                except BlockingIOError:
                    pass
                except OSError:
                    st["eof"] = True
            peak = max(peak, proc_rss_mb(s.proc.pid))
            if all(b"\r\n\r\n" in st["got"] for st in conns):
                break
            time.sleep(0.02)
        for st in conns:
            st["sock"].close()
        statuses = {}
        for st in conns:
            line = st["got"].split(b"\r\n", 1)[0].decode("latin-1")
            statuses[line] = statuses.get(line, 0) + 1
        print("    rss: %.0f MB at start, %.0f MB at most" % (base, peak))
        eq("answers", {"HTTP/1.1 401 Unauthorized": n}, statuses)
        assert peak - base < 64, "the server grew from %.0f MB to %.0f MB" % (base, peak)
        healthz_within(s, 5)
    finally:
        s.stop(expect_rc=0)


# ---------------------------------------------------------------------------
# lingering close: an early error reaches a client that is still sending


def _send_all_then_read(port, data):
    """sendall, then read to the end: (response bytes, error or None)."""
    sock = socket.create_connection((h.HOST, port), timeout=30)
    try:
        sock.sendall(data)
        got = b""
        while True:
            part = sock.recv(65536)
            if not part:
                return got, None
            got += part
    except OSError as e:
        return b"", e
    finally:
        sock.close()


@h.timeout(120)
def case_early_413_reaches_a_client_still_sending(c):
    total = 20 * MIB
    for i in range(3):
        corr = h.new_correlator()
        data = head(keyed(c, "Content-Length: %d" % total, correlator=corr),
                    path="/v1/check/batch") + b" " * total
        got, err = _send_all_then_read(c.server.port, data)
        assert err is None, "attempt %d: %r before the 413 was read" % (i, err)
        status_line, _, rest = got.partition(b"\r\n")
        eq("attempt %d: status line" % i, b"HTTP/1.1 413 Payload Too Large", status_line)
        hdrs, _, body = rest.partition(b"\r\n\r\n")
        d = json.loads(body)
        eq("attempt %d: code" % i, "PAYLOAD_TOO_LARGE", d["code"])
        assert ("x-correlator: " + corr).encode() in hdrs, "attempt %d: no x-correlator" % i
    # h2o's own 413, as a chunked body grows past 8 MiB
    chunk = b"%x\r\n" % MIB + b" " * MIB + b"\r\n"
    data = head(keyed(c, "Transfer-Encoding: chunked"), path="/v1/check/batch") + chunk * 12 \
        + b"0\r\n\r\n"
    got, err = _send_all_then_read(c.server.port, data)
    assert err is None, "chunked: %r before the 413 was read" % err
    assert got.startswith(b"HTTP/1.1 413 "), "chunked: %r" % got[:200]
    # and a 401 to a stranger sending a large body
    data = head(["Host: x", "Authorization: Bearer sn_stranger", "Content-Type: application/json",
                 "Content-Length: %d" % (4 * MIB)], path="/v1/events") + b" " * (4 * MIB)
    got, err = _send_all_then_read(c.server.port, data)
    assert err is None, "401: %r before it was read" % err
    assert got.startswith(b"HTTP/1.1 401 "), "401: %r" % got[:200]
    expect_json(c.server.client().get("/healthz"), 200, "healthz afterwards")


# ---------------------------------------------------------------------------
# file descriptors and --max-connections


def _saturate_and_measure(s, n=100):
    """Open n idle connections, then the server's CPU seconds over 3 s."""
    conns = [socket.create_connection((h.HOST, s.port), timeout=10) for _ in range(n)]
    time.sleep(0.5)
    t0 = proc_cpu(s.proc.pid)
    time.sleep(3)
    return conns, proc_cpu(s.proc.pid) - t0


@h.timeout(90)
def case_out_of_descriptors_the_server_backs_off(c):
    """At an open-files limit of 64, 100 idle connections: the loops neither
    spin (they did: 100% of both cores) nor stop serving once some close."""
    for extra in ((), ("--max-connections", "100000")):
        env = h.Env()
        s = h.Server(env, extra=extra, preexec_fn=fd_limit(64, 64)).start()
        try:
            conns, cpu = _saturate_and_measure(s)
            print("    %s: %.2f s of CPU in 3 s" % (" ".join(extra) or "default", cpu))
            assert cpu < 0.5, "%s: the server used %.2f s of CPU in 3 s with nothing to do" % (
                " ".join(extra) or "default limit", cpu)
            for sock in conns[10:]:
                sock.close()
            healthz_within(s, 5)
            for sock in conns[:10]:
                sock.close()
            err = s.stderr()
            assert "open-files limit 64" in err, "no word of the limit: %s" % err[-1000:]
            if extra:
                assert "cannot accept connections (Too many open files)" in err, err[-1000:]
        finally:
            s.stop(expect_rc=0)


def case_the_open_files_limit_is_raised_at_start(c):
    env = h.Env()
    s = h.Server(env, preexec_fn=fd_limit(256, 4096)).start()
    try:
        with open("/proc/%d/limits" % s.proc.pid) as f:
            line = [l for l in f if l.startswith("Max open files")][0]
        eq("soft limit", "4096", line.split()[3])
        err = s.stderr()
        assert "open-files limit raised from 256 to 4096; at most 3960 connections" in err, err
    finally:
        s.stop(expect_rc=0)


def case_connections_over_the_maximum_get_503(c):
    s = h.Server(c.env, extra=("--max-connections", "5")).start()
    try:
        clients = [s.client(c.app) for _ in range(5)]
        for cl in clients:
            expect_json(cl.get("/healthz"), 200, "one of the first five")
        for attempt in range(2):
            raw = s.raw(timeout=10)
            raw.send(head(["Host: x"], method="GET", path="/healthz"))
            r = expect_refused_and_closed(raw, 503, "UNAVAILABLE", "the sixth (%d)" % attempt)
            eq("Retry-After", "1", r.header("retry-after"))
            raw.close()
        for cl in clients:
            eq("check on a served connection", "unchanged",
               expect_json(cl.post("/v1/check", {"number": N_SAME, "date": "2023-12-22"}))["result"])
            eq("connections of a served client", 1, cl.connects)
        clients[0].close()
        healthz_within(s, 5)
        for cl in clients[1:]:
            cl.close()
        assert "5 connections (--max-connections): refusing more" in s.stderr()
    finally:
        s.stop(expect_rc=0)


def case_max_connections_is_checked(c):
    for v in ("0", "-1", "x", "1000001"):
        p = h.run_cli("serve", "--db", c.env.db, "--max-connections", v, check=False)
        eq("--max-connections %s: exit" % v, 2, p.returncode)
        assert "--max-connections" in p.stderr, p.stderr


h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
