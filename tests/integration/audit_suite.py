"""audit_suite.py - issue 14, the audit trail and the usage per app, against
a real `secondnum serve` (docs/operations.md, "Audit trail").

  - every route of src/http/routes.c (parsed as roles_suite.py parses it) is
    called once, and its audit row must be there afterwards: a route added
    without an audit record fails case_every_route_is_audited, naming it;
  - checks record who (the app and its key), the number as a keyed hash
    (never in clear), the day asked and the verdict; a batch one record per
    item; the export filters by from/to, app and number, in CSV and JSON,
    over HTTP (GET /v1/admin/audit) and with `secondnum audit export`;
  - GET /v1/usage: an app's checks per day by verdict, conclusive against
    unknown; an app sees only its own, an admin every app's
    (GET /v1/admin/usage);
  - retention: rows older than --audit-retention-days go at start, newer
    ones stay;
  - back-pressure: with --audit-buffer 1 every request still gets its row,
    and the waits are counted in /metrics;
  - kill -9 right after acknowledged writes: each has its audit row.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
Runs on SQLite and, through tests/pg/run.sh, on PostgreSQL (the `sqlite3`
look-ups go to the PostgreSQL database there).
"""

import csv
import datetime
import io
import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402
import roles_suite  # noqa: E402  (the route table's parser)

RANGE = "+86137"
N1 = "+8613700000001"  # activated long ago: unchanged since 2024
N2 = "+8613700000002"  # reissued after 2024-01-01: reassigned
N3 = "+8613700000003"  # never reported: unknown


def today():
    return datetime.datetime.now(h.STORE_TZ).strftime("%Y-%m-%d")


def days_ago(n):
    return (datetime.datetime.now(h.STORE_TZ) - datetime.timedelta(days=n)).strftime("%Y-%m-%d")


class World:
    def __init__(self, extra=()):
        self.env = h.Env()
        e = self.env
        e.add_carrier("c1", RANGE)
        e.import_feed([(N1, "activate", "2020-01-01T00:00:00Z"),
                       (N2, "activate", "2020-01-01T00:00:00Z"),
                       (N2, "cancel", "2023-01-01T00:00:00Z"),
                       (N2, "activate", "2024-05-01T00:00:00Z")], carrier="c1")
        self.app = e.key("app", "app-one")
        self.app2 = e.key("app", "app-two")
        self.carrier = e.key("carrier", "c1", carrier="c1")
        self.admin = e.key("admin", "boss")
        self.server = h.Server(e, extra=list(extra)).start()

    def client(self, key):
        return self.server.client(key)

    def settle(self):
        """Wait until the audit thread has committed every record handed to
        it (checks and reads are not held for their rows, so a read right
        after them may come first): /metrics' pending gauge at 0."""
        c = self.client(self.admin)

        def drained():
            m = c.get("/metrics").body.decode()
            return "\nsecondnum_audit_pending 0\n" in m
        h.wait_until(drained, 10, "the audit buffer drained")

    def export(self, query=""):
        """Every record GET /v1/admin/audit gives (JSON, followed page by page)."""
        self.settle()
        c = self.client(self.admin)
        out, after = [], "0"
        while True:
            q = "from=%s&to=%s&limit=1000&after=%s%s" % (days_ago(1), today(), after, query)
            body = expect_json(c.get("/v1/admin/audit?" + q), 200, "audit export")
            out += body["records"]
            if body["next"] is None:
                return out
            after = body["next"]

    def stop(self):
        self.server.stop()
        self.env.cleanup()


def sql(env, text):
    # a busy timeout: serve's writer or audit thread may hold the write lock
    p = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", env.db, text], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, "sqlite3 %r: %s" % (text, p.stderr)
    return p.stdout.strip()


def q(number):
    return urllib.parse.quote(number, safe="")


# ---------------------------------------------------------------------------


def case_every_route_is_audited(_ctx):
    """Each route of the route table called once (with whatever caller: the
    answer may be a refusal, which is audited too), then one audit row per
    route, with its method, status and caller."""
    routes = roles_suite.routes_in_code()
    assert len(routes) >= 40, "parsed only %d routes" % len(routes)
    w = World()
    try:
        keys = {"app": w.app, "carrier": w.carrier, "admin": w.admin}
        sent = {}
        for (method, path), (auth, role) in sorted(routes.items()):
            key = keys.get(role) if auth in ("key", "key_or_session") else None
            c = w.client(key)
            body = h.NONE if method in ("GET", "DELETE") else {}
            r = c.request(method, path.replace("{id}", "999"), json_body=body)
            sent[(method, path)] = r.status
        records = w.export()
        seen = {}
        for rec in records:
            seen.setdefault((rec["method"], rec["route"]), rec)
        missing = ["%s %s (answered %d)" % (m, p, s) for (m, p), s in sorted(sent.items())
                   if (m, p) not in seen]
        assert not missing, "routes without an audit row:\n  " + "\n  ".join(missing)
        for (m, p), status in sent.items():
            eq("status of %s %s's row" % (m, p), status, seen[(m, p)]["status"])
        eq("who of the admin route", "admin", seen[("GET", "/v1/admin/keys")]["who_kind"])
        eq("app of an app route", "app-one", seen[("GET", "/v1/profile")]["app"])
        print("# %d routes called, %d audit records" % (len(sent), len(records)))
    finally:
        w.stop()


def case_checks_record_number_hash_day_and_verdict(_ctx):
    w = World()
    try:
        a = w.client(w.app)
        expect_json(a.post("/number-recycling/v0.2/check",
                           {"phoneNumber": N2, "specifiedDate": "2024-01-01"}), 200, "camara")
        expect_json(a.post("/v1/check", {"number": N1, "date": "2024-06-01"}), 200, "check")
        expect_json(a.post("/v1/check/batch", {"items": [
            {"number": N1, "date": "2024-06-01"}, {"number": N2, "date": "2024-01-01"},
            {"number": N3, "date": "2024-01-01"}, {"number": "nope"}]}), 200, "batch")
        r = expect_json(a.post("/v1/check/range", {"prefix": "abcde", "date": "2024-01-01"}),
                        200, "range")
        recs = w.export()
        for rec in recs:
            for v in rec.values():
                assert N1[1:] not in str(v) and N2[1:] not in str(v), "a number in clear: %r" % rec
        camara = [x for x in recs if x["route"] == "/number-recycling/v0.2/check"]
        eq("camara records", 1, len(camara))
        eq("camara answer", "reassigned", camara[0]["answer"])
        eq("camara day", "2024-01-01", camara[0]["date"])
        eq("camara who", ("app", "app-one"), (camara[0]["who_kind"], camara[0]["app"]))
        assert camara[0]["number_hash"] and len(camara[0]["number_hash"]) == 16, camara[0]
        batch = [x for x in recs if x["route"] == "/v1/check/batch"]
        eq("batch items, one record each", [1, 2, 3, 4], [x["item"] for x in batch])
        eq("batch answers", ["unchanged", "reassigned", "unknown", "error"],
           [x["answer"] for x in batch])
        eq("batch item 2's hash is the camara check's", camara[0]["number_hash"],
           batch[1]["number_hash"])
        rng = [x for x in recs if x["route"] == "/v1/check/range"]
        eq("range: a day, no number", ("2024-01-01", None), (rng[0]["date"], rng[0]["number_hash"]))
        del r
        # the number filter: N2's records are the camara check (item 1 of
        # its group row) and batch item 2
        only = w.export("&number=" + q(N2))
        eq("records of N2", [("/number-recycling/v0.2/check", 1), ("/v1/check/batch", 2)],
           sorted((x["route"], x["item"]) for x in only))
        # the CLI agrees, in both formats (once the export's own record is
        # written: a read is answered before its record is committed)
        w.settle()
        p = h.run_cli("audit", "export", "--db", w.env.db, "--from", days_ago(1), "--to", today(),
                      "--number", N2, "--format", "json")
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        # the export asked by number is audited too, with the number's hash
        eq("CLI records of N2", [(x["id"], x["item"]) for x in only] + [("/v1/admin/audit", 0)],
           [(x["id"], x["item"]) for x in lines[:2]] + [(lines[2]["route"], lines[2]["item"])])
        p = h.run_cli("audit", "export", "--db", w.env.db, "--from", days_ago(1), "--to", today())
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        checks = [(x["id"], x["item"]) for x in w.export() if x["route"].startswith(("/v1/check",
                                                                                  "/number"))]
        eq("CLI CSV records of the checks", [str(i) + "/" + str(t) for i, t in checks],
           [x["id"] + "/" + x["item"] for x in rows if x["route"].startswith(("/v1/check",
                                                                             "/number"))])
        eq("CSV header", "id,item,at,route,method,status,who_kind,who,app,number_hash,date,answer,"
           "request", p.stdout.splitlines()[0])
        csv_batch = [x for x in rows if x["route"] == "/v1/check/batch"]
        eq("CSV batch answers", ["unchanged", "reassigned", "unknown", "error"],
           [x["answer"] for x in csv_batch])
    finally:
        w.stop()


def case_checks_share_group_rows_each_keeping_its_own(_ctx):
    """Single checks of one app and route within a second share a group
    row; exported, each is its own record: its number's hash, day, verdict,
    time and x-correlator, in the order asked; counted one each."""
    w = World()
    try:
        a = w.client(w.app)
        camara = "/number-recycling/v0.2/check"
        for i in range(40):
            n, day = (N1, "2024-06-01") if i % 2 == 0 else (N2, "2024-01-01")
            expect_json(a.post(camara, {"phoneNumber": n, "specifiedDate": day},
                               correlator="corr-%02d" % i), 200, "camara %d" % i)
        recs = [x for x in w.export() if x["route"] == camara]
        eq("a record per check, in the order asked", ["corr-%02d" % i for i in range(40)],
           sorted(x["request"] for x in recs))
        by = {x["request"]: x for x in recs}
        eq("answers", ["unchanged" if i % 2 == 0 else "reassigned" for i in range(40)],
           [by["corr-%02d" % i]["answer"] for i in range(40)])
        eq("days", ["2024-06-01" if i % 2 == 0 else "2024-01-01" for i in range(40)],
           [by["corr-%02d" % i]["date"] for i in range(40)])
        ats = [by["corr-%02d" % i]["at"] for i in range(40)]
        eq("times in the order asked", sorted(ats), ats)
        eq("two hashes", 2, len({x["number_hash"] for x in recs}))
        rows = sql(w.env, "SELECT id, at, items, CASE WHEN item_meta IS NULL THEN 0 ELSE 1 END"
                   " FROM audit WHERE route = '%s' ORDER BY id" % camara).split()
        print("# 40 checks in %d group rows" % len(rows))
        for line in rows:
            rid, at, items, meta = line.split("|")
            eq("a group row has meta", "1", meta)
            mine = [x for x in recs if str(x["id"]) == rid]
            eq("row %s's records" % rid, list(range(1, int(items) + 1)), [x["item"] for x in mine])
            assert all(int(at) <= x["at"] < int(at) + 1000 for x in mine), (at, mine)
        eq("records", 40, sum(int(x.split("|")[2]) for x in rows))
        w.server.stop()  # count and export read the same rows
        p = h.run_cli("audit", "count", "--db", w.env.db, "--from", days_ago(1), "--to", today())
        e = h.run_cli("audit", "export", "--db", w.env.db, "--from", days_ago(1), "--to", today())
        eq("count: a record per exported line (batch items apart)",
           "records %d items 0" % (len(e.stdout.splitlines()) - 1), p.stdout.strip())
        w.server = h.Server(w.env).start()
    finally:
        w.stop()


def case_export_filters(_ctx):
    w = World()
    try:
        a, b = w.client(w.app), w.client(w.app2)
        expect_json(a.post("/v1/check", {"number": N1, "date": "2024-06-01"}), 200, "a")
        expect_json(b.post("/v1/check", {"number": N1, "date": "2024-06-01"}), 200, "b")
        expect_json(b.post("/v1/check", {"number": N2, "date": "2024-06-01"}), 200, "b")
        r = a.request("PUT", "/v1/bindings", json_body={"bindings": [
            {"number": N1, "account": "acct-1", "bound_at": "2024-06-01T00:00:00Z"},
            {"number": N2, "account": "acct-2", "bound_at": "2024-06-01T00:00:00Z"}]})
        eq("bindings", 200, r.status)
        eq("N1's binding, one record of the PUT", [("/v1/bindings", "PUT", 1, "ok")],
           [(x["route"], x["method"], x["item"], x["answer"]) for x in w.export(
               "&number=" + q(N1)) if x["route"] == "/v1/bindings"])
        eq("app-two's checks", 2, len([x for x in w.export("&app=app-two")
                                       if x["route"] == "/v1/check"]))
        eq("app-one's checks", 1, len([x for x in w.export("&app=app-one")
                                       if x["route"] == "/v1/check"]))
        adm = w.client(w.admin)
        body = expect_json(adm.get("/v1/admin/audit?from=2020-01-01&to=2020-01-02"), 200, "past")
        eq("nothing in 2020", [], body["records"])
        r = adm.get("/v1/admin/audit?format=csv&from=%s&to=%s&app=app-two" % (days_ago(1), today()))
        eq("csv status", 200, r.status)
        eq("csv type", "text/csv", r.media_type())
        rows = list(csv.DictReader(io.StringIO(r.body.decode())))
        eq("csv rows of app-two's checks", 2, len([x for x in rows if x["route"] == "/v1/check"]))
        # paging: limit 1 walks every row once
        all_ids = [x["id"] for x in w.export()]
        got, after = [], "0"
        while True:
            body = expect_json(adm.get("/v1/admin/audit?from=%s&to=%s&limit=1&after=%s"
                                       % (days_ago(1), today(), after)), 200, "page")
            got += [x["id"] for x in body["records"]]
            if body["next"] is None or len(got) > len(all_ids) + 5:
                break
            after = body["next"]
        eq("paged ids", all_ids, got[:len(all_ids)])
        for bad in ("format=xml", "from=2024-13-01", "limit=0", "limit=1001", "number=12ab",
                    "from=2024-02-01&to=2024-01-01"):
            h.expect_error(adm.get("/v1/admin/audit?" + bad), 400, "INVALID_ARGUMENT", bad)
        h.expect_error(a.get("/v1/admin/audit"), 403, "PERMISSION_DENIED", "an app")
        p = h.run_cli("audit", "export", "--db", w.env.db, "--from", today(), "--to",
                      days_ago(1), check=False)
        eq("CLI: from after to is a usage error", 2, p.returncode)
    finally:
        w.stop()


def case_usage_per_app(_ctx):
    w = World()
    try:
        a, b = w.client(w.app), w.client(w.app2)
        expect_json(a.post("/v1/check/batch", {"items": [
            {"number": N1, "date": "2024-06-01"}, {"number": N2, "date": "2024-01-01"},
            {"number": N3, "date": "2024-01-01"}, {"number": "bad"}]}), 200, "batch")
        expect_json(a.post("/number-recycling/v0.2/check",
                           {"phoneNumber": N2, "specifiedDate": "2024-01-01"}), 200, "camara")
        expect_json(b.post("/v1/check", {"number": N1, "date": "2024-06-01"}), 200, "b")
        h.expect_error(a.get("/v1/usage?app=app-two"), 400, "INVALID_ARGUMENT", "app= of an app")
        w.settle()
        mine = expect_json(a.get("/v1/usage"), 200, "usage")["days"]
        eq("app-one sees its own day only", [(today(), "app-one")],
           [(d["date"], d["app"]) for d in mine])
        eq("verdicts", {"reassigned": 2, "disconnected": 0, "unchanged": 1, "unknown": 1},
           mine[0]["verdicts"])
        eq("conclusive, total", (3, 4), (mine[0]["conclusive"], mine[0]["total"]))
        adm = w.client(w.admin)
        every = expect_json(adm.get("/v1/admin/usage"), 200, "admin usage")["days"]
        eq("admin sees both apps", ["app-one", "app-two"], [d["app"] for d in every])
        one = expect_json(adm.get("/v1/admin/usage?app=app-two&from=%s&to=%s"
                                  % (today(), today())), 200, "one")["days"]
        eq("app-two", [(1, 1)], [(d["conclusive"], d["total"]) for d in one])
        h.expect_error(adm.get("/v1/admin/usage?from=2020-01-01&to=2022-01-01"), 400,
                       "INVALID_ARGUMENT", "over 366 days")
        h.expect_error(a.get("/v1/admin/usage"), 403, "PERMISSION_DENIED", "an app")
    finally:
        w.stop()


def case_retention_purge(_ctx):
    w = World()
    try:
        a = w.client(w.app)
        for i in range(5):  # rows of their own, but for the checks' group row
            if i == 2:
                expect_json(a.post("/v1/check", {"number": N1, "date": "2024-06-01"}), 200,
                            "check")
            else:
                expect_json(a.get("/v1/usage"), 200, "usage")
            if i == 0:  # a batch among the aged rows: its unpacked items go with it
                expect_json(a.post("/v1/check/batch", {"items": [
                    {"number": N1, "date": "2024-06-01"}, {"number": N2, "date": "2024-06-01"}]}),
                    200, "batch")
        w.server.stop()
        n = int(sql(w.env, "SELECT count(*) FROM audit"))
        assert n >= 6, n
        # the batch row's items indexed by the trail's indexer, or still pending
        batch = "(SELECT id FROM audit WHERE route = '/v1/check/batch')"
        eq("the batch's items indexed or pending", "yes", sql(
            w.env, "SELECT CASE WHEN (SELECT count(*) FROM audit_items WHERE audit IN %s) = 2 OR"
            " (SELECT count(*) FROM audit_pending WHERE id IN %s) = 1 THEN 'yes' ELSE 'no' END"
            % (batch, batch)))
        # age every row but the newest two: 200 days, then 179 for one of them
        sql(w.env, "UPDATE audit SET at = at - %d WHERE id <= %d" % (200 * 86400000, n - 2))
        sql(w.env, "UPDATE audit SET at = at + %d WHERE id = 1" % (21 * 86400000))
        w.server = h.Server(w.env, extra=["--audit-retention-days", "180"]).start()
        h.wait_until(lambda: int(sql(w.env, "SELECT count(*) FROM audit WHERE at < %d" % (
            (datetime.datetime.now().timestamp() - 180 * 86400) * 1000))) == 0, 10,
            "rows past 180 days purged")
        left = sql(w.env, "SELECT id FROM audit WHERE id <= %d ORDER BY id" % n).split()
        eq("kept: the 179-day row and the two newest", ["1", str(n - 1), str(n)], left)
        eq("the index and the pending rows purged with their rows", "0|0", sql(
            w.env, "SELECT (SELECT count(*) FROM audit_items WHERE audit NOT IN (SELECT id FROM"
            " audit)), (SELECT count(*) FROM audit_pending WHERE id NOT IN (SELECT id FROM audit))"))
        m = w.client(w.admin).get("/metrics").body.decode()
        assert "secondnum_audit_purged_total %d" % (n - 3) in m, [
            x for x in m.splitlines() if "purged" in x]
        # 0 keeps everything
        w.server.stop()
        sql(w.env, "UPDATE audit SET at = at - %d" % (400 * 86400000))
        before = int(sql(w.env, "SELECT count(*) FROM audit"))
        w.server = h.Server(w.env, extra=["--audit-retention-days", "0"]).start()
        w.client(w.admin).get("/metrics")
        w.server.stop()
        assert int(sql(w.env, "SELECT count(*) FROM audit")) >= before
        w.server = h.Server(w.env).start()
    finally:
        w.stop()


def case_backpressure_keeps_every_row(_ctx):
    w = World(extra=["--audit-buffer", "1"])
    try:
        clients = [w.client(w.app) for _ in range(4)]
        import threading
        done = []

        def run(c):
            for i in range(50):
                expect_json(c.post("/v1/check/batch", {"items": [
                    {"number": N1, "date": "2024-06-01"}] * 20}), 200, "batch")
                done.append(1)
        ts = [threading.Thread(target=run, args=(c,)) for c in clients]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        eq("answered", 200, len(done))
        m = w.client(w.admin).get("/metrics").body.decode()
        waits = [x for x in m.splitlines() if x.startswith("secondnum_audit_backpressure_total")]
        print("# " + waits[0])
        assert int(waits[0].split()[1]) > 0, "no request waited with a buffer of 1"
        w.server.stop()
        p = h.run_cli("audit", "count", "--db", w.env.db, "--from", days_ago(1), "--to", today())
        rows = [x for x in sql(w.env, "SELECT count(*) FROM audit WHERE route = "
                               "'/v1/check/batch'").split()]
        eq("a row per batch", "200", rows[0])
        assert "items 4000" in p.stdout, p.stdout
        w.server = h.Server(w.env).start()
    finally:
        w.stop()


def case_acknowledged_writes_survive_kill_9(_ctx):
    w = World()
    try:
        adm = w.client(w.admin)
        acked = []
        for i in range(20):
            r = adm.post("/v1/admin/carriers", {"name": "k%d" % i, "ranges": ["+8619%d" % (10 + i)]},
                         correlator="write-%d" % i)
            eq("carrier %d" % i, 201, r.status)
            acked.append("write-%d" % i)
        w.server.kill()
        got = sql(w.env, "SELECT request FROM audit WHERE route = '/v1/admin/carriers'").split()
        missing = sorted(set(acked) - set(got))
        assert not missing, "acknowledged writes without an audit row: %s" % missing
        w.server = h.Server(w.env).start()
    finally:
        w.stop()


def case_events_rows_commit_with_the_events(_ctx):
    """An events request's row of its success answer is written in the
    events' own transaction: every acknowledged request has exactly one
    row (status 200, the carrier's key) right after a kill -9, with no
    wait for the trail's thread; a request refused before the write (400)
    has its row by the trail as any other."""
    w = World()
    try:
        c = w.client(w.carrier)
        acked = []
        for i in range(20):
            evs = [{"number": "+86137%08d" % (1000 + 10 * i + k), "event": "activate",
                    "at": "2024-02-01T00:00:00Z"} for k in range(10)]
            r = c.post("/v1/events", {"events": evs}, correlator="events-%d" % i)
            expect_json(r, 200, "events %d" % i)
            acked.append("events-%d" % i)
        expect_json(c.post("/v1/events", {"events": []}, correlator="events-bad"), 400,
                    "no events")
        w.settle()
        w.server.kill()
        rows = sql(w.env, "SELECT request, status, who_kind, answer FROM audit "
                   "WHERE route = '/v1/events' ORDER BY id").splitlines()
        got = [x.split("|") for x in rows]
        eq("one row per acknowledged request", acked,
           [x[0] for x in got if x[0].startswith("events-") and x[0] != "events-bad"])
        eq("their status, who and answer", [["200", "carrier", "ok"]] * len(acked),
           [x[1:] for x in got if x[0] != "events-bad"])
        eq("the refused request's row", [["events-bad", "400", "carrier", "error"]],
           [x for x in got if x[0] == "events-bad"])
        w.server = h.Server(w.env).start()
    finally:
        w.stop()


def case_audit_off_records_nothing(_ctx):
    w = World(extra=["--audit", "off"])
    try:
        expect_json(w.client(w.app).post("/v1/check", {"number": N1, "date": "2024-06-01"}),
                    200, "check")
        m = w.client(w.admin).get("/metrics").body.decode()
        assert "secondnum_audit_pending" not in m
        w.server.stop()
        eq("rows", "0", sql(w.env, "SELECT count(*) FROM audit"))
        p = h.run_cli("serve", "--db", w.env.db, "--audit", "maybe", check=False)
        eq("--audit maybe", 2, p.returncode)
        p = h.run_cli("serve", "--db", w.env.db, "--audit-buffer", "0", check=False)
        eq("--audit-buffer 0", 2, p.returncode)
        p = h.run_cli("serve", "--db", w.env.db, "--audit-retention-days", "36501", check=False)
        eq("--audit-retention-days 36501", 2, p.returncode)
        w.server = h.Server(w.env).start()
    finally:
        w.stop()


if __name__ == "__main__":
    h.main(globals())
