"""metrics_suite.py - issue 18, Prometheus metrics: Debian's prometheus
scrapes a running serve on its --metrics-listen address and the counts of
checks (by verdict) and carrier events (applied, duplicate, rejected) read
back through Prometheus's HTTP query API equal what was sent; /metrics on
the API's address needs an admin key; the metrics address serves nothing
else; the text parses (a parser here, and promtool when installed); no
phone number appears in it; --metrics-listen's usage errors.
"""

import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import json

import harness as h
from harness import eq, expect_json

RANGE = "+86139"
KNOWN = ["+86139%08d" % i for i in range(1, 6)]      # activated: "unchanged"
UNKNOWN = ["+86139%08d" % i for i in range(50, 53)]  # never reported: "unknown"
PROM_TIMEOUT = 20.0


class Ctx:
    pass


def setup():
    c = Ctx()
    c.env = h.Env()
    c.env.add_carrier("cm", RANGE)
    c.app = c.env.key("app", "metrics-app")
    c.carrier = c.env.key("carrier", "metrics-carrier", carrier="cm")
    c.admin = c.env.key("admin", "metrics-admin")
    c.mport = h.free_port()
    c.server = h.Server(c.env, threads=2,
                        extra=["--metrics-listen", "%s:%d" % (h.HOST, c.mport)]).start()
    c.prom = None
    return c


def teardown(c):
    stop_prometheus(c)
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


def scrape(c):
    """GET /metrics on the metrics address, no credential: (status, headers, text)."""
    with urllib.request.urlopen("http://%s:%d/metrics" % (h.HOST, c.mport), timeout=10) as r:
        return r.status, r.headers, r.read().decode("utf-8")


def day(delta=0):
    return h.store_date(delta)


# ---------------------------------------------------------------------------
# Prometheus


def start_prometheus(c):
    c.prom_dir = c.env.path("prometheus")
    os.makedirs(c.prom_dir)
    conf = os.path.join(c.prom_dir, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: secondnum\n    static_configs:\n"
                "      - targets: ['%s:%d']\n" % (h.HOST, c.mport))
    for _attempt in range(3):
        c.prom_port = h.free_port()
        log = open(os.path.join(c.prom_dir, "prometheus.log"), "wb")
        c.prom = subprocess.Popen(
            ["/usr/bin/prometheus", "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(c.prom_dir, "data"),
             "--web.listen-address=%s:%d" % (h.HOST, c.prom_port)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + PROM_TIMEOUT
        while time.monotonic() < deadline and c.prom.poll() is None:
            try:
                with urllib.request.urlopen("http://%s:%d/-/ready" % (h.HOST, c.prom_port),
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        stop_prometheus(c, keep_dir=True)
    with open(os.path.join(c.prom_dir, "prometheus.log"), "rb") as f:
        raise AssertionError("prometheus did not become ready:\n%s"
                             % f.read().decode("utf-8", "replace")[-3000:])


def stop_prometheus(c, keep_dir=False):
    if c.prom is not None and c.prom.poll() is None:
        c.prom.terminate()
        try:
            c.prom.wait(timeout=15)
        except subprocess.TimeoutExpired:
            c.prom.kill()
            c.prom.wait(timeout=10)
    c.prom = None
    if not keep_dir and getattr(c, "prom_dir", None):
        shutil.rmtree(c.prom_dir, ignore_errors=True)


def query(c, expr):
    """The value of a PromQL expression with one result (None: no result)."""
    url = "http://%s:%d/api/v1/query?query=%s" % (h.HOST, c.prom_port, urllib.parse.quote(expr))
    with urllib.request.urlopen(url, timeout=10) as r:
        d = json.loads(r.read().decode("utf-8"))
    assert d.get("status") == "success", d
    result = d["data"]["result"]
    if not result:
        return None
    assert len(result) == 1, "%s: %d series" % (expr, len(result))
    return float(result[0]["value"][1])


def wait_for(c, want):
    """Poll until every expression of want reads its value; the last reads."""
    deadline = time.monotonic() + PROM_TIMEOUT
    while True:
        got = {e: query(c, e) for e in want}
        if all(got[e] == want[e] for e in want):
            return got
        if time.monotonic() > deadline:
            raise AssertionError("Prometheus reads %r, expected %r" % (got, want))
        time.sleep(0.5)


# ---------------------------------------------------------------------------
# cases


def send_traffic(c):
    """Activations, a duplicate, rejects; checks by verdict. Returns counts."""
    carrier = c.server.client(c.carrier)
    events = [{"number": n, "event": "activate", "at": day(-30) + "T08:00:00+08:00",
               "event_id": "m-%d" % i} for i, n in enumerate(KNOWN)]
    d = expect_json(carrier.request("POST", "/v1/events", json_body={"events": events}), 200)
    eq("applied", len(KNOWN), d["applied"])
    d = expect_json(carrier.request("POST", "/v1/events", json_body={"events": [
        events[0],                                                          # duplicate
        {"number": "+861", "event": "activate", "at": day(-1) + "T08:00:00+08:00",
         "event_id": "bad-1"},                                              # rejected
        {"number": KNOWN[1], "event": "dance", "at": day(-1) + "T08:00:00+08:00",
         "event_id": "bad-2"}]}), 200)                                      # rejected
    eq("duplicates", 1, d["duplicates"])
    eq("rejected", 2, len(d["rejected"]))
    app = c.server.client(c.app)
    for n in KNOWN:
        eq("verdict", "unchanged", expect_json(app.request("POST", "/v1/check", json_body={
            "number": n, "date": day(-1)}), 200)["result"])
    for n in UNKNOWN:
        eq("verdict", "unknown", expect_json(app.request("POST", "/v1/check", json_body={
            "number": n, "date": day(-1)}), 200)["result"])
    return {"applied": len(KNOWN), "duplicate": 1, "rejected": 2,
            "unchanged": len(KNOWN), "unknown": len(UNKNOWN)}


def case_prometheus_reads_the_counts(c):
    assert os.access("/usr/bin/prometheus", os.X_OK), \
        "no /usr/bin/prometheus: apt-get install prometheus (Makefile DEB_PKGS)"
    sent = send_traffic_once(c)
    start_prometheus(c)
    try:
        want = {
            'sum(secondnum_checks_total{api="native",app="metrics-app",verdict="unchanged"})':
                sent["unchanged"],
            'sum(secondnum_checks_total{api="native",app="metrics-app",verdict="unknown"})':
                sent["unknown"],
            'sum(secondnum_events_total{carrier="1",outcome="applied"})': sent["applied"],
            'sum(secondnum_events_total{carrier="1",outcome="duplicate"})': sent["duplicate"],
            'sum(secondnum_events_total{carrier="1",outcome="rejected"})': sent["rejected"],
            'sum(secondnum_http_requests_total{route="/v1/check",status="200"})':
                sent["unchanged"] + sent["unknown"],
            'secondnum_index_numbers': len(KNOWN),
            'up{job="secondnum"}': 1,
        }
        wait_for(c, want)
        # the latency histogram of the check route counts every check
        n = query(c, 'sum(secondnum_http_request_duration_seconds_count{route="/v1/check"})')
        eq("histogram count", sent["unchanged"] + sent["unknown"], n)
    finally:
        stop_prometheus(c)
    assert not os.path.exists(c.prom_dir), "prometheus's directory was not removed"


def case_main_listener_needs_an_admin_key(c):
    r = c.server.client(None).request("GET", "/metrics")
    eq("without a key", 401, r.status)
    h.check_error_shape(r)
    r = c.server.client(c.app).request("GET", "/metrics")
    eq("with an app key", 403, r.status)
    eq("code", "PERMISSION_DENIED", r.json()["code"])
    r = c.server.client(c.carrier).request("GET", "/metrics")
    eq("with a carrier key", 403, r.status)
    r = c.server.client(c.admin).request("GET", "/metrics")
    eq("with the admin key", 200, r.status)
    eq("content type", "text/plain; version=0.0.4; charset=utf-8", r.header("content-type"))
    assert "# TYPE secondnum_http_requests_total counter" in r.body.decode(), r.body[:300]
    assert r.header("x-correlator") == r.sent_correlator, "x-correlator not echoed"


def case_metrics_address_serves_only_metrics(c):
    status, headers, text = scrape(c)
    eq("GET /metrics", 200, status)
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    assert "secondnum_store_up 1" in text, text[-2000:]
    mc = h.Client(c.mport, check_correlator=False)
    for method, path, key in [("GET", "/healthz", None), ("GET", "/v1/admin/keys", c.admin),
                              ("POST", "/v1/check", c.app), ("GET", "/metrics/x", None),
                              ("POST", "/metrics", None), ("GET", "/", None)]:
        r = mc.request(method, path, key=key)
        eq("%s %s on the metrics address" % (method, path), 404, r.status)
    # a body is refused from the head: 404, the connection closed unread
    r = mc.request("POST", "/metrics", body=b"x" * 100000, key=None)
    eq("POST /metrics with a body", 404, r.status)
    h.check_error_shape(r)
    r = mc.request("HEAD", "/metrics")
    eq("HEAD /metrics", 200, r.status)
    eq("HEAD body", b"", r.body)


def parse_exposition(text):
    """{(name, labels): value} of the text format, checking HELP/TYPE order,
    counter names, and cumulative buckets ending at +Inf == _count."""
    sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    samples, types, family = {}, {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            family = line.split()[2]
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert name == family, "TYPE %s after HELP %s" % (name, family)
            assert kind in ("counter", "gauge", "histogram"), line
            assert kind != "counter" or name.endswith("_total"), line
            types[name] = kind
            continue
        m = sample_re.match(line)
        assert m, "not a sample line: %r" % line
        name, _, labels, value = m.groups()
        assert family and name.startswith(family), "%s outside its family %s" % (name, family)
        lab = tuple(label_re.findall(labels or ""))
        samples[(name, tuple((k, v) for k, v, _ in lab))] = float(value)
    for (name, labels), value in samples.items():
        if name.endswith("_count") and types.get(name[:-6]) == "histogram":
            inf = samples[(name[:-6] + "_bucket", labels + (("le", "+Inf"),))]
            eq("+Inf bucket of %s%s" % (name, labels), value, inf)
    return samples, types


def case_format_parses(c):
    send_traffic_once(c)
    _, _, text = scrape(c)
    samples, types = parse_exposition(text)
    for name in ("secondnum_http_requests_total", "secondnum_http_request_duration_seconds",
                 "secondnum_checks_total", "secondnum_events_total", "secondnum_sms_total",
                 "secondnum_webhook_attempts_total", "secondnum_rate_limited_total",
                 "secondnum_writer_queue_jobs", "secondnum_index_numbers",
                 "secondnum_index_bytes", "secondnum_notices_open", "secondnum_notices_overdue",
                 "secondnum_deliveries_pending", "secondnum_deliveries_retrying",
                 "secondnum_deliveries_dead", "secondnum_store_up"):
        assert name in types, "no %s in the scrape" % name
    assert len(samples) > 30, len(samples)
    if shutil.which("promtool"):
        p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
        assert p.returncode == 0, "promtool check metrics: %s%s" % (
            p.stdout.decode(), p.stderr.decode())
        print("# promtool check metrics: clean", flush=True)


_sent = {}


def send_traffic_once(c):
    if "done" not in _sent:
        _sent["done"] = send_traffic(c)
    return _sent["done"]


def case_no_phone_number_in_the_scrape(c):
    send_traffic_once(c)
    # a CAMARA check and a batch by digest too
    app = c.server.client(c.app)
    expect_json(app.request("POST", "/number-recycling/v0.2/check", json_body={
        "phoneNumber": KNOWN[2], "specifiedDate": day(-1)}), 200)
    expect_json(app.request("POST", "/v1/check/batch", json_body={"items": [
        {"number_sha256": h.sha256_hex(KNOWN[3]), "date": day(-1)},
        {"number": KNOWN[4], "date": day(-1)}]}), 200)
    _, _, text = scrape(c)
    r = c.server.client(c.admin).request("GET", "/metrics")
    for body in (text, r.body.decode()):
        for n in KNOWN + UNKNOWN:
            for form in (n, n[1:], n[-8:]):
                assert form not in body, "%s appears in the scrape" % form
        assert h.sha256_hex(KNOWN[3]) not in body
    assert 'api="camara",app="metrics-app",verdict="unchanged"' in text, text
    assert 'api="hashed",app="metrics-app",verdict="unchanged"' in text, text
    assert 'api="batch",app="metrics-app",verdict="unchanged"' in text, text


def sample(text, series):
    """The value of one sample line (its name and labels exactly), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line[len(series) + 1:])
    return 0.0


def case_rate_limit_refusals_counted_by_reason(c):
    series = 'secondnum_rate_limited_total{reason="key_per_second"}'
    out = h.run_cli("keys", "create", "--db", c.env.db, "--role", "app", "--name",
                    "metrics-slow", "--rate", "1/s").stdout
    cl = c.server.client(out.splitlines()[0].strip())
    deadline = time.monotonic() + 10  # the writer reloads the keys every second
    while cl.request("POST", "/v1/check", json_body={"number": KNOWN[0], "date": day(-1)}
                     ).status == 401:
        assert time.monotonic() < deadline, "the new key never worked"
        time.sleep(0.2)
    before = sample(scrape(c)[2], series)
    refused = 0
    for _ in range(5):
        r = cl.request("POST", "/v1/check", json_body={"number": KNOWN[0], "date": day(-1)})
        assert r.status in (200, 429), r
        refused += r.status == 429
    assert refused >= 3, "only %d of 5 checks at 1/s were refused" % refused
    eq("429s counted", refused, sample(scrape(c)[2], series) - before)


def case_refused_from_the_head_counted(c):
    series = 'secondnum_http_refused_total{status="401"}'
    before = sample(scrape(c)[2], series)
    r = c.server.client("sn_" + "0" * 64).request("POST", "/v1/check", json_body={
        "number": KNOWN[0], "date": day(-1), "pad": "x" * (70 << 10)})
    eq("a bad key with a body over 64 KiB", 401, r.status)
    eq("counted before routing", 1, sample(scrape(c)[2], series) - before)
    # a small body that came whole with its head (one write: the client's
    # own sends of head and body may arrive apart) goes to the router: the
    # same 401, counted as a routed request, the connection kept
    body = json.dumps({"number": KNOWN[0], "date": day(-1)})
    raw = c.server.raw()
    raw.send("POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sn_%s\r\n"
             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
             % ("0" * 64, len(body), body))
    r = raw.read_response()
    eq("a bad key with a small body", 401, r.status)
    eq("not counted before routing", 1, sample(scrape(c)[2], series) - before)
    eq("the connection kept", "keep-alive", r.header("connection"))


def case_notice_and_store_gauges(c):
    n = "+8613900000099"
    carrier, app = c.server.client(c.carrier), c.server.client(c.app)
    expect_json(carrier.request("POST", "/v1/events", json_body={"events": [
        {"number": n, "event": "activate", "at": day(-40) + "T08:00:00+08:00",
         "event_id": "g-1"}]}), 200)
    expect_json(app.request("PUT", "/v1/bindings", json_body={"bindings": [
        {"number": n, "account": "acct-g", "bound_at": day(-20) + "T08:00:00+08:00"}]}), 200)
    before = scrape(c)[2]
    expect_json(carrier.request("POST", "/v1/events", json_body={"events": [
        {"number": n, "event": "cancel", "at": day(0) + "T00:00:01+08:00",
         "event_id": "g-2"}]}), 200)
    after = scrape(c)[2]
    eq("an open notice more", 1, sample(after, "secondnum_notices_open") -
       sample(before, "secondnum_notices_open"))
    eq("store up", 1, sample(after, "secondnum_store_up"))
    for g in ("secondnum_notices_overdue", "secondnum_deliveries_pending",
              "secondnum_deliveries_retrying", "secondnum_deliveries_dead"):
        assert re.search(r"^%s \d+$" % g, after, re.M), "no %s" % g
    if h.ON_POSTGRES:  # a store other nodes can write: the follower's lag
        assert re.search(r"^secondnum_follower_lag_changes \d+$", after, re.M), after[-1500:]
    else:
        assert "secondnum_follower_lag_changes" not in after
    assert n not in after and n[1:] not in after


def case_metrics_listen_usage_errors(c):
    for value in ("nohost", "127.0.0.1:0", "127.0.0.1:99999"):
        p = h.run_cli("serve", "--db", c.env.db, "--metrics-listen", value, check=False)
        eq("exit for --metrics-listen %s" % value, 2, p.returncode)
        assert "--metrics-listen" in p.stderr, p.stderr
        eq("one error line", 1, len([ln for ln in p.stderr.splitlines() if "error" in ln
                                     or "must" in ln]))
    p = h.run_cli("serve", "--db", c.env.db, "--listen", "127.0.0.1:18099", "--metrics-listen",
                  "127.0.0.1:18099", check=False)
    eq("exit for the same address", 2, p.returncode)
    assert "differ" in p.stderr, p.stderr
    # the address in use (the running server's API port): startup fails, said
    p = h.run_cli("serve", "--db", c.env.db, "--listen", "%s:%d" % (h.HOST, h.free_port()),
                  "--metrics-listen", "%s:%d" % (h.HOST, c.server.port), check=False,
                  timeout=30)
    eq("exit for an address in use", 1, p.returncode)
    assert "in use" in p.stderr.lower(), p.stderr


if __name__ == "__main__":
    h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
