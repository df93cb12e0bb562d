"""dashboard_suite.py - issue 14, the dashboard's JSON (GET /v1/admin/stats/...)
against a real `secondnum serve`, with figures the suite seeds and computes
itself: numbers by carrier and status, events and reissues per day (and
the reissues the guard held, which the log never has), notices
per app (issued, acknowledged, overdue, nearest-rank median and 95th
percentile of the time to acknowledge, below a threshold), complaints by
kind, desk and deadline; coverage demand (subscribers naming apps the
registry lacks: normalized, one vote per subscriber, the registry's own
apps refused, a name's length and a subscriber's count capped, the
ranking); the limits of the query (at most 366 days, a threshold from 0 to
1, a ranking of 1 to 100) and admin-only access.

One store is seeded once (setup): carriers cm (+86137) and ct (+86133),
history imported with the CLI, notices made the real way (bindings, then
cancellations over POST /v1/events, acknowledgements over the API); then
the notices' issue and acknowledgement times and a few complaints are
written straight into the store (`sqlite3 DB SQL`, which tests/pg/bin
answers on PostgreSQL) so that the expected times are exact.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
Runs on SQLite and, through tests/pg/run.sh, on PostgreSQL.
"""

import datetime
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_error, expect_json  # noqa: E402

UTC = datetime.timezone.utc
TZ = datetime.timezone(datetime.timedelta(hours=8))  # the store's default zone
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
DAY = 86400


def at(days=0, hours=0):
    return NOW - datetime.timedelta(days=days, hours=hours)


def text(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def day_of(t):
    return t.astimezone(TZ).date().isoformat()


def rank(n, p):
    """The nearest-rank position (0-based) of the p-th percentile of n values."""
    import math
    return max(int(math.ceil(p * n)) - 1, 0)


def nearest(values, p):
    v = sorted(values)
    return v[rank(len(v), p)]


def sql(env, statement):
    # a busy timeout: serve's writer or audit thread may hold the write lock
    p = subprocess.run(["sqlite3", "-cmd", ".timeout 10000", env.db, statement],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "sqlite3 %r: %s" % (statement, p.stderr)
    return p.stdout


# the history: (number, carrier, [(kind, time)])
CM, CT = "+86137", "+86133"
HISTORY = [
    ("+8613700000001", "cm", [("activate", at(400)), ("cancel", at(200)), ("activate", at(2, 3))]),
    ("+8613700000002", "cm", [("activate", at(400)), ("cancel", at(200)), ("release", at(100))]),
    ("+8613700000003", "cm", [("activate", at(400)), ("suspend", at(3, 1))]),
    ("+8613700000004", "cm", [("activate", at(2, 5))]),
    ("+8613300000005", "ct", [("activate", at(400))]),
]
NOTICED = ["+861370000001%d" % i for i in range(5)]  # bound, then cancelled over the API
HELD = "+8613700000020"  # app-c's, cancelled 200 days ago: its reissue now is held
SUBSCRIBERS = [("+86137000002%02d" % i, "%06d" % (123450 + i)) for i in range(1, 4)]
GENEROUS = ["--otp-per-address", "100000", "--signin-per-address", "100000",
            "--otp-per-number", "1000"]
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
A_TIMES = [60, 600, 3600]  # app-a acknowledges three of its five notices this fast
B_TIMES = [30, 90]         # app-b both of its two


class World:
    pass


def setup():
    w = World()
    w.env = h.Env()
    w.env.add_carrier("cm", CM)
    w.env.add_carrier("ct", CT)
    for carrier in ("cm", "ct"):
        rows = [(n, kind, text(t)) for n, c, evs in HISTORY if c == carrier for kind, t in evs]
        if carrier == "cm":
            rows += [(n, "activate", text(at(400))) for n in NOTICED + [HELD]]
        w.env.import_feed(rows, carrier=carrier)
    feed = w.env.path("subscribers.csv")
    with open(feed, "w") as f:
        f.write("number,event,at,event_id,id6\n")
        for i, (n, id6) in enumerate(SUBSCRIBERS):
            f.write("%s,activate,%s,s%d,%s\n" % (n, text(at(400)), i, id6))
    h.run_cli("import", "--db", w.env.db, "--carrier", "cm", feed)
    w.cm = w.env.key("carrier", "cm-feed", carrier="cm")
    w.admin = w.env.key("admin", "ops")
    w.a = w.env.key("app", "app-a")
    w.b = w.env.key("app", "app-b")
    w.c = w.env.key("app", "app-c")
    w.srv = h.Server(w.env, extra=GENEROUS).start()
    w.tokens = [sign_in(w, n, id6) for n, id6 in SUBSCRIBERS]
    bound = text(at(300))
    for key, numbers in ((w.a, NOTICED), (w.b, NOTICED[:2])):
        items = [{"number": n, "account": "acct-" + n[-2:], "bound_at": bound} for n in numbers]
        expect_json(w.srv.client(key).request("PUT", "/v1/bindings", json_body={"bindings": items}))
    w.cancel_at = at(0, 1)
    d = expect_json(w.srv.client(w.cm).post("/v1/events", {"events": [
        {"number": n, "event": "cancel", "at": text(w.cancel_at)} for n in NOTICED]}))
    eq("cancellations applied", len(NOTICED), d["applied"])
    seed_held(w)
    seed_notices(w)
    seed_complaints(w)
    return w


def seed_held(w):
    """app-c's number is cancelled 200 days ago (a notice open for days): the
    guard holds its reissue an hour ago, which the log never records."""
    expect_json(w.srv.client(w.c).request("PUT", "/v1/bindings", json_body={"bindings": [
        {"number": HELD, "account": "c-1", "bound_at": text(at(300))}]}))
    d = expect_json(w.srv.client(w.cm).post("/v1/events", {"events": [
        {"number": HELD, "event": "cancel", "at": text(at(200))}]}))
    eq("the cancellation", 1, d["applied"])
    w.held_at = at(0, 1)
    d = expect_json(w.srv.client(w.cm).post("/v1/events", {"events": [
        {"number": HELD, "event": "activate", "at": text(w.held_at)}]}))
    eq("the reissue is held", ["REISSUE_HELD"], [r["code"] for r in d["rejected"]])


def sign_in(w, number, id6):
    expect_json(w.srv.client(None).post("/v1/subscriber/otp", {"number": number}), 200, "otp")
    out = h.run_cli("sms", "outbox", "--db", w.env.db, "--number", number, "--json").stdout
    msgs = [json.loads(x) for x in out.splitlines() if x.strip()]
    code = CODE_RE.search([m for m in msgs if m["purpose"] == "otp"][-1]["text"]).group(1)
    d = expect_json(w.srv.client(None).post("/v1/subscriber/session", {
        "number": number, "code": code, "id6": id6}), 201, "sign in")
    return d["token"]


def ask(w, i, name):
    return w.srv.client(w.tokens[i]).post("/v1/subscriber/app-requests", {"name": name})


def notice_ids(w, key):
    d = expect_json(w.srv.client(key).get("/v1/notices?limit=100"))
    return sorted(int(n["id"]) for n in d["notices"])


def seed_notices(w):
    """Acknowledge over the API, then set the times exactly in the store."""
    w.a_ids, w.b_ids = notice_ids(w, w.a), notice_ids(w, w.b)
    eq("app-a's notices", 5, len(w.a_ids))
    eq("app-b's notices", 2, len(w.b_ids))
    created = int(at(1).timestamp())
    for key, ids, times in ((w.a, w.a_ids, A_TIMES), (w.b, w.b_ids, B_TIMES)):
        for i, secs in zip(ids, times):
            expect_json(w.srv.client(key).post("/v1/notices/%d/ack" % i, {"outcome": "reverified"}))
            sql(w.env, "UPDATE notices SET created = %d, acked_at = %d WHERE id = %d"
                % (created, created + secs, i))
    # app-a: one open notice past its deadline, one before it
    sql(w.env, "UPDATE notices SET deadline = %d WHERE id = %d" % (created, w.a_ids[3]))
    sql(w.env, "UPDATE notices SET deadline = %d WHERE id = %d"
        % (int(at(-3).timestamp()), w.a_ids[4]))


def seed_complaints(w):
    """(kind, app named, created, period, resolved level or 0)."""
    app_a = int(sql(w.env, "SELECT id FROM apps WHERE name = 'app-a'").strip())
    now = int(NOW.timestamp())
    rows = [
        (1, app_a, now - 3600, 7 * DAY, 0),        # at app-a, due within the week
        (3, 0, now - 3600, 12 * 3600, 0),          # no app: at the carrier, due within the day
        (4, app_a, now - 30 * DAY, 7 * DAY, 0),    # two periods passed: at the regulator
        (1, app_a, now - 2 * DAY, 7 * DAY, 1),     # resolved by the app
        (2, app_a, now - 20 * DAY, 7 * DAY, 2),    # resolved by the carrier
    ]
    for i, (kind, app, created, period, level) in enumerate(rows, 1):
        sql(w.env, "INSERT INTO complaints(id, number, tenure, app, carrier, kind, body, created, "
            "period, resolved_at, resolved_level, resolution) VALUES (%d, 8613700000001, 1, %d, 1, "
            "%d, 'seeded', %d, %d, %d, %d, %s)"
            % (i, app, kind, created, period, created + 60 if level else 0, level,
               "'done'" if level else "NULL"))


def teardown(w):
    w.srv.stop()


def get(w, path, key=None):
    return expect_json(w.srv.client(key or w.admin).get(path), 200, path)


# ---------------------------------------------------------------------------


def case_numbers_by_carrier_and_status(w):
    d = get(w, "/v1/admin/stats/numbers")
    by = {c["carrier"]: c for c in d["carriers"]}
    eq("carriers", {"cm", "ct"}, set(by))
    eq("cm", {"active": 5, "suspended": 1, "frozen": 6, "pool": 1},
       by["cm"]["statuses"])
    eq("cm total", 13, by["cm"]["total"])
    eq("ct", {"active": 1, "suspended": 0, "frozen": 0, "pool": 0}, by["ct"]["statuses"])
    eq("all", {"active": 6, "suspended": 1, "frozen": 6, "pool": 1}, d["statuses"])
    eq("total", 14, d["total"])


def expected_days(first, last):
    days = {}
    d = first
    while d <= last:
        days[d.isoformat()] = {"events": {}, "reissues": 0}
        d += datetime.timedelta(days=1)
    evs = [(kind, t) for _, _, hist in HISTORY for kind, t in hist]
    evs += [("activate", at(400)) for _ in NOTICED]
    evs += [("cancel", w_cancel) for w_cancel in [CANCEL_AT[0]] * len(NOTICED)]
    for kind, t in evs:
        day = day_of(t)
        if day in days:
            days[day]["events"][kind] = days[day]["events"].get(kind, 0) + 1
    reissue = HISTORY[0][2][2][1]
    if day_of(reissue) in days:
        days[day_of(reissue)]["reissues"] += 1
    return days


CANCEL_AT = [None]


def case_events_and_reissues_per_day(w):
    CANCEL_AT[0] = w.cancel_at
    today = NOW.astimezone(TZ).date()
    first = today - datetime.timedelta(days=6)
    d = get(w, "/v1/admin/stats/events?from=%s&to=%s" % (first.isoformat(), today.isoformat()))
    eq("from", first.isoformat(), d["from"])
    eq("to", today.isoformat(), d["to"])
    eq("one entry a day", 7, len(d["days"]))
    want = expected_days(first, today)
    kinds = ["activate", "suspend", "resume", "cancel", "reclaim", "release", "port_in", "port_out"]
    for day in d["days"]:
        exp = want[day["date"]]
        eq("%s: kinds" % day["date"], set(kinds), set(day["events"]))
        eq("%s: events" % day["date"], {k: exp["events"].get(k, 0) for k in kinds}, day["events"])
        eq("%s: reissues" % day["date"], exp["reissues"], day["reissues"])
        eq("%s: forced" % day["date"], 0, day["forced"] + day["reissues_forced"])
        eq("%s: held" % day["date"], 1 if day["date"] == day_of(w.held_at) else 0,
           day["reissues_held"])
    eq("reissues in the week", 1, sum(x["reissues"] for x in d["days"]))
    # the default: the last 30 days up to today
    d = get(w, "/v1/admin/stats/events")
    eq("default days", 30, len(d["days"]))
    eq("default to", today.isoformat(), d["to"])


def case_events_query_limits(w):
    c = w.srv.client(w.admin)
    today = NOW.astimezone(TZ).date()
    first = today - datetime.timedelta(days=365)
    d = get(w, "/v1/admin/stats/events?from=%s&to=%s" % (first.isoformat(), today.isoformat()))
    eq("366 days are taken", 366, len(d["days"]))
    over = today - datetime.timedelta(days=366)
    expect_error(c.get("/v1/admin/stats/events?from=%s&to=%s" % (over.isoformat(), today.isoformat())),
                 400, "INVALID_ARGUMENT", "367 days")
    expect_error(c.get("/v1/admin/stats/events?from=%s&to=%s" % (today.isoformat(), first.isoformat())),
                 400, "INVALID_ARGUMENT", "from after to")
    expect_error(c.get("/v1/admin/stats/events?from=2026-02-30"), 400, "INVALID_ARGUMENT",
                 "an impossible date")
    expect_error(c.get("/v1/admin/stats/notices?threshold=1.5"), 400, "INVALID_ARGUMENT",
                 "threshold above 1")
    expect_error(c.get("/v1/admin/stats/notices?threshold=abc"), 400, "INVALID_ARGUMENT",
                 "threshold not a number")


def case_notices_per_app(w):
    d = get(w, "/v1/admin/stats/notices")
    eq("threshold", 0.9, d["threshold"])
    by = {a["app"]: a for a in d["apps"]}
    eq("apps", {"app-a", "app-b", "app-c"}, set(by))
    eq("app-c, nothing acknowledged", (1, 0, 0, 0.0, None, None, True), tuple(
        by["app-c"][k] for k in ("issued", "acknowledged", "overdue", "ack_rate",
                                 "median_ack_seconds", "p95_ack_seconds", "below_threshold")))
    a, b = by["app-a"], by["app-b"]
    eq("app-a counts", (5, 3, 1), (a["issued"], a["acknowledged"], a["overdue"]))
    eq("app-b counts", (2, 2, 0), (b["issued"], b["acknowledged"], b["overdue"]))
    eq("app-a rate", 0.6, a["ack_rate"])
    eq("app-b rate", 1.0, b["ack_rate"])
    eq("app-a median", nearest(A_TIMES, 0.5), a["median_ack_seconds"])
    eq("app-a p95", nearest(A_TIMES, 0.95), a["p95_ack_seconds"])
    eq("app-b median", nearest(B_TIMES, 0.5), b["median_ack_seconds"])
    eq("app-b p95", nearest(B_TIMES, 0.95), b["p95_ack_seconds"])
    eq("below 0.9", (True, False), (a["below_threshold"], b["below_threshold"]))
    d = get(w, "/v1/admin/stats/notices?threshold=0.5")
    eq("below 0.5", {"app-a": False, "app-b": False, "app-c": True},
       {x["app"]: x["below_threshold"] for x in d["apps"]})
    d = get(w, "/v1/admin/stats/notices?threshold=1")
    eq("below 1", {"app-a": True, "app-b": False, "app-c": True},
       {x["app"]: x["below_threshold"] for x in d["apps"]})


def case_complaints_by_kind_desk_deadline(w):
    d = get(w, "/v1/admin/stats/complaints")
    eq("total", 5, d["total"])
    eq("by kind", {"harassment": {"open": 1, "resolved": 1},
                   "cannot_register": {"open": 0, "resolved": 1},
                   "takeover": {"open": 1, "resolved": 0},
                   "other": {"open": 1, "resolved": 0}}, d["by_kind"])
    eq("open by desk", {"app": 1, "carrier": 1, "regulator": 1}, d["open_by_level"])
    eq("resolved by", {"app": 1, "carrier": 1, "regulator": 0}, d["resolved_by"])
    eq("deadlines", {"overdue": 0, "within_day": 1, "within_week": 1, "later": 0, "none": 1},
       d["open_by_deadline"])


def case_admin_only(w):
    for path in ("numbers", "events", "notices", "complaints", "demand"):
        p = "/v1/admin/stats/" + path
        expect_error(w.srv.client(None).get(p), 401, "UNAUTHENTICATED", p + " without a key")
        expect_error(w.srv.client(w.a).get(p), 403, "PERMISSION_DENIED", p + " with an app key")
        expect_error(w.srv.client(w.cm).get(p), 403, "PERMISSION_DENIED", p + " with a carrier key")


def case_figures_follow_the_store(w):
    """Nothing is cached: a new event shows in the next answer."""
    today = NOW.astimezone(TZ).date().isoformat()
    path = "/v1/admin/stats/events?from=%s&to=%s" % (today, today)
    before = get(w, path)["days"][0]["events"]["activate"]
    n = "+8613700000099"
    expect_json(w.srv.client(w.cm).post("/v1/events", {"events": [
        {"number": n, "event": "activate", "at": text(datetime.datetime.now(UTC) -
                                                      datetime.timedelta(seconds=5))}]}))
    time.sleep(0.05)
    after = get(w, path)["days"][0]["events"]["activate"]
    eq("activations today", before + 1, after)


@h.sqlite_only("holds SQLite's write lock from outside")
def case_figures_do_not_wait_for_the_writer(w):
    """A report runs on its own thread and store handle: with the store's
    write lock held from outside, an event waits for it on the writer,
    while the dashboard's figures and the audit export still answer."""
    import sqlite3
    import threading
    db = sqlite3.connect(w.env.db, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    out = {}

    def post():
        out["event"] = w.srv.client(w.cm).post("/v1/events", {"events": [
            {"number": "+8613700000098", "event": "activate", "at": text(at(0, 1))}]})
    t = threading.Thread(target=post)
    try:
        t.start()
        time.sleep(0.5)  # the writer has the event, waiting for the lock
        for path in ("/v1/admin/stats/numbers", "/v1/admin/audit?limit=1"):
            get(w, path)
            assert t.is_alive(), "the event was answered before the lock was released"
    finally:
        db.execute("ROLLBACK")
        db.close()
        t.join(30)
    eq("the event, once the lock is free", 1, expect_json(out["event"])["applied"])


def case_demand_normalized_one_vote_each_and_ranked(w):
    for i, name in ((0, "WeChat"), (1, "  wechat "), (2, "WECHAT"), (0, "Ali   Pay"), (1, "ali pay")):
        d = expect_json(ask(w, i, name), 201, "ask %r" % name)
        eq("%r: counted as" % name, "wechat" if "chat" in name.lower() else "ali pay", d["name"])
        eq("%r: added" % name, True, d["added"])
    d = expect_json(ask(w, 0, "WECHAT  "), 200, "asking again")
    eq("asking again adds nothing", (False, 3), (d["added"], d["votes"]))
    d = get(w, "/v1/admin/stats/demand")
    top = [(a["name"], a["votes"]) for a in d["apps"]]
    eq("the ranking", [("wechat", 3), ("ali pay", 2)], top[:2])
    for a in d["apps"]:
        assert a["first_asked_at"] <= a["last_asked_at"], "first and last asked: %r" % a
    eq("limit 1", [("wechat", 3)], [(a["name"], a["votes"]) for a in
                                    get(w, "/v1/admin/stats/demand?limit=1")["apps"]])
    c = w.srv.client(w.admin)
    for bad in ("0", "101", "x"):
        expect_error(c.get("/v1/admin/stats/demand?limit=" + bad), 400, "INVALID_ARGUMENT",
                     "limit " + bad)
    eq("limit 100 is taken", 2, len(get(w, "/v1/admin/stats/demand?limit=100")["apps"]))


def case_demand_refuses_registry_apps_and_bad_names(w):
    expect_error(ask(w, 0, "APP-A"), 409, "CONFLICT", "an app of the registry")
    expect_error(ask(w, 0, "   "), 400, "INVALID_ARGUMENT", "a blank name")
    expect_error(ask(w, 0, "x" * 65), 400, "INVALID_ARGUMENT", "65 bytes")
    expect_error(ask(w, 0, "a\u007fb"), 400, "INVALID_ARGUMENT", "a control character")
    d = expect_json(ask(w, 0, "y" * 64), 201, "64 bytes")
    eq("64 bytes", "y" * 64, d["name"])
    names = [a["name"] for a in get(w, "/v1/admin/stats/demand?limit=100")["apps"]]
    assert "app-a" not in names and "x" * 64 not in names, "refused names counted: %r" % names
    expect_error(w.srv.client(None).post("/v1/subscriber/app-requests", {"name": "zoom"}), 401,
                 "UNAUTHENTICATED", "no session")
    expect_error(w.srv.client(w.admin).post("/v1/subscriber/app-requests", {"name": "zoom"}), 401,
                 "UNAUTHENTICATED", "an admin key is no session")


def case_demand_per_subscriber_cap(w):
    """Subscriber 3 has asked for one name; up to 20 in all, the 21st is refused."""
    for i in range(19):
        expect_json(ask(w, 2, "app %02d" % i), 201, "name %d" % (i + 2))
    expect_error(ask(w, 2, "one too many"), 400, "INVALID_ARGUMENT", "the 21st name")
    d = expect_json(ask(w, 2, "wechat"), 200, "a name asked before still answers")
    eq("votes", 3, d["votes"])
    names = [a["name"] for a in get(w, "/v1/admin/stats/demand?limit=100")["apps"]]
    assert "one too many" not in names, "the refused name was counted"
    eq("names ranked", 2 + 1 + 19, len(names))


def case_server_stops_cleanly(w):
    """Last: serve exits 0 on SIGTERM with no sanitizer report."""
    w.srv.stop()
    assert not h.SANITIZER_RE.search(w.srv.stderr()), "sanitizer report:\n" + w.srv.stderr()[-4000:]


if __name__ == "__main__":
    h.main(globals(), setup=setup, teardown=teardown)
