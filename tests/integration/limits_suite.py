"""limits_suite.py - per-key limits on checks (numbers a second and a day)
against a real `secondnum serve`: the 429 in the CAMARA shape with
Retry-After on every check route, the daily limit, a key with higher limits,
a batch counting its items, the server's defaults and flags, `keys create
--rate/--daily` and their errors, the admin API's fields, the count starting
again with the server, and a version 3 store migrated.

Each case makes its own store and server. Rates are small so that a few
requests cross them; the cases that need a request to come within the same
second as the previous ones allow for a slow machine (a token comes back
every 1/rate seconds) by counting what passed against the time it took.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
"""

import hashlib
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import N_NEW, N_SAME, eq, expect_error, expect_json  # noqa: E402

CAMARA = "/number-recycling/v0.2/check"
DAY = "2023-12-22"


def app_key(env, name, *limits):
    """An app key made with `keys create` and the given --rate/--daily flags."""
    out = h.run_cli("keys", "create", "--db", env.db, "--role", "app", "--name", name,
                    *limits).stdout
    return out.splitlines()[0].strip()


def check(client, route="/v1/check", number=N_SAME):
    """One check on route; the request counts one number (a batch of one)."""
    if route == CAMARA:
        return client.post(CAMARA, {"phoneNumber": number, "specifiedDate": DAY})
    if route == "sha256":
        return client.post("/v1/check", {"number_sha256": hashlib.sha256(number.encode()).hexdigest(),
                                         "date": DAY})
    if route == "/v1/check/batch":
        return client.post(route, {"items": [{"number": number, "date": DAY}]})
    return client.post(route, {"number": number, "date": DAY})


def batch(client, n, number=N_SAME):
    return client.post("/v1/check/batch", {"items": [{"number": number, "date": DAY}] * n})


def expect_429(r, what, limit="a second"):
    """A 429 of the check limits: the CAMARA shape, a Retry-After of whole
    seconds; returns the seconds."""
    body = expect_error(r, 429, "TOO_MANY_REQUESTS", what)
    eq("%s: error fields" % what, {"status", "code", "message"}, set(body))
    eq("%s: status" % what, 429, body["status"])
    assert "with this key" in body["message"] and limit in body["message"], body
    retry = r.header("retry-after")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, \
        "%s: Retry-After %r" % (what, retry)
    return int(retry)


def until_429(client, route, rate, tries=40):
    """Checks on route until one is refused; how many passed before, checked
    against the rate (the bucket holds one second of it, refilled at the
    rate meanwhile). Returns the refused response."""
    t0 = time.monotonic()
    passed = 0
    for _ in range(tries):
        r = check(client, route)
        if r.status == 429:
            allowed = rate + rate * (time.monotonic() - t0) + 1
            assert passed <= allowed, "%d checks passed before the 429 (at most %.1f)" % (
                passed, allowed)
            return r
        expect_json(r, 200, "%s #%d" % (route, passed + 1))
        passed += 1
    raise AssertionError("%d checks on %s at %d a second, none refused" % (tries, route, rate))


# ---------------------------------------------------------------------------


def case_over_the_rate_is_429_with_retry_after(ctx):
    env = h.standard_env()
    key = app_key(env, "slow", "--rate", "3/s")
    s = h.Server(env).start()
    try:
        c = s.client(key)
        r = until_429(c, "/v1/check", 3)
        wait = expect_429(r, "over 3 a second")
        eq("Retry-After", 1, wait)
        assert "at most 3 numbers a second" in r.json()["message"], r.json()
        time.sleep(wait)
        expect_json(check(c), 200, "after Retry-After")
        # every check route counts against the one bucket of the key
        for route in (CAMARA, "/v1/check", "sha256", "/v1/check/batch"):
            time.sleep(1.05)  # a full bucket again
            expect_429(until_429(c, route, 3), route)
    finally:
        s.stop()


def case_every_check_route_shares_the_keys_bucket(ctx):
    env = h.standard_env()
    key = app_key(env, "four", "--rate", "4/s")
    s = h.Server(env).start()
    try:
        c = s.client(key)
        t0 = time.monotonic()
        answers = [check(c, route) for route in (CAMARA, "/v1/check", "sha256", "/v1/check/batch")]
        refused = [check(c, route) for route in (CAMARA, "/v1/check", "sha256", "/v1/check/batch")]
        if time.monotonic() - t0 < 0.2:  # no token came back meanwhile
            for r in answers:
                eq("within the bucket", 200, r.status)
            for r, route in zip(refused, (CAMARA, "/v1/check", "sha256", "/v1/check/batch")):
                expect_429(r, route)
    finally:
        s.stop()


def case_daily_limit(ctx):
    env = h.standard_env()
    key = app_key(env, "daily", "--rate", "100000/s", "--daily", "25")
    other = app_key(env, "other")
    s = h.Server(env).start()
    try:
        c = s.client(key)
        expect_json(batch(c, 20), 200, "20 of 25")
        r = batch(c, 6)
        wait = expect_429(r, "6 more", limit="a day")
        assert "at most 25 numbers a day on this server" in r.json()["message"], r.json()
        assert 1 <= wait <= 86400, wait
        expect_json(batch(c, 5), 200, "a request that would pass the limit counted nothing")
        for route in (CAMARA, "/v1/check", "sha256", "/v1/check/batch"):
            expect_429(check(c, route), route, limit="a day")
        expect_json(check(s.client(other)), 200, "another key")
    finally:
        s.stop()


def case_a_key_with_higher_limits_passes(ctx):
    env = h.standard_env()
    default = app_key(env, "default")
    daily_only = app_key(env, "daily-only", "--daily", "1000000")
    big = app_key(env, "big", "--rate", "100000/s", "--daily", "1000000")
    s = h.Server(env, extra=["--check-rate", "2/s", "--check-daily", "1000"]).start()
    try:
        expect_429(until_429(s.client(default), "/v1/check", 2), "the server's 2 a second")
        expect_429(until_429(s.client(daily_only), CAMARA, 2),
                   "its own daily limit, the server's rate")
        c = s.client(big)
        for i in range(40):
            expect_json(check(c, ("/v1/check", CAMARA)[i % 2]), 200, "#%d" % i)
        expect_json(batch(c, 5000), 200, "5000 numbers, over the server's daily 1000")
    finally:
        s.stop()


def case_a_batch_counts_its_items(ctx):
    env = h.standard_env()
    ten = app_key(env, "ten", "--rate", "10/s")
    debt = app_key(env, "debt", "--rate", "10/s")
    bad = app_key(env, "bad", "--rate", "10/s")
    s = h.Server(env).start()
    try:
        c = s.client(ten)
        t0 = time.monotonic()
        expect_json(batch(c, 10), 200, "a batch of the whole bucket")
        r = check(c)
        if time.monotonic() - t0 < 0.1:
            expect_429(r, "a single check after it")
        # a batch larger than the bucket passes when the bucket is full, then owes
        c = s.client(debt)
        expect_json(batch(c, 30), 200, "30 numbers at 10 a second")
        wait = expect_429(check(c), "while the batch is paid for")
        assert 2 <= wait <= 3, wait
        wait = expect_429(batch(c, 30), "another big batch waits for a full bucket")
        assert 2 <= wait <= 3, wait
        # items count whether valid or not; a body that is no batch counts nothing
        c = s.client(bad)
        expect_error(c.post("/v1/check/batch", {"items": [{"number": N_SAME, "date": DAY}] * 10001}),
                     400, "INVALID_ARGUMENT", "10001 items")
        expect_error(c.post("/v1/check/batch", {"items": "x"}), 400, "INVALID_ARGUMENT")
        res = expect_json(c.post("/v1/check/batch", {"items": [{"number": "x", "date": DAY}] * 10}),
                          200, "10 invalid items")["results"]
        eq("invalid items answered", 10, sum("error" in e for e in res))
        if time.monotonic() - t0 < 0.1:
            expect_429(check(c), "after 10 invalid items")
    finally:
        s.stop()


def case_defaults_let_a_full_batch_through(ctx):
    """The defaults (10,000 a second, a bucket of one second; 10,000,000 a
    day) take the largest batch, and a check right after it."""
    env = h.standard_env()
    key = app_key(env, "defaults")
    s = h.Server(env).start()
    try:
        c = s.client(key)
        res = expect_json(batch(c, 10000, number=N_NEW), 200, "10000 items")["results"]
        eq("answers", 10000, len(res))
        time.sleep(0.01)
        expect_json(check(c), 200, "a check after it")
        expect_json(check(c, CAMARA), 200, "a CAMARA check after it")
    finally:
        s.stop()


def case_keys_create_flags(ctx):
    env = h.Env()
    db = env.db
    for args in (["--rate", "abc"], ["--rate", "0/s"], ["--rate", "-5/s"], ["--rate", "5/m"],
                 ["--rate", "5 /s"], ["--rate", "1e3"], ["--rate", "100000001/s"], ["--rate", ""],
                 ["--rate", "/s"], ["--rate", "+5"], ["--daily", "0"], ["--daily", "-1"],
                 ["--daily", "x"], ["--daily", "1000000000001"], ["--daily", "5/s"]):
        p = h.run_cli("keys", "create", "--db", db, "--role", "app", "--name", "x", *args,
                      check=False)
        eq("exit of keys create %r" % (args,), 2, p.returncode)
        assert "--rate" in p.stderr or "--daily" in p.stderr, p.stderr
        eq("no key printed for %r" % (args,), "", p.stdout)
    for action in (["list"], ["revoke", "1"]):
        p = h.run_cli("keys", *action, "--db", db, "--rate", "5/s", check=False)
        eq("exit of keys %s --rate" % action[0], 2, p.returncode)
    app_key(env, "seven", "--rate", "7/s", "--daily", "99")
    app_key(env, "eight", "--rate", "8")
    app_key(env, "most", "--rate", "100000000/s", "--daily", "1000000000000")
    app_key(env, "plain")
    out = h.run_cli("keys", "list", "--db", db).stdout.splitlines()
    eq("header", "id\trole\tname\tcarrier\tstate\trate\tdaily", out[0])
    rows = {line.split("\t")[2]: line.split("\t")[5:] for line in out[1:]}
    eq("listed limits", {"seven": ["7/s", "99"], "eight": ["8/s", "default"],
                         "most": ["100000000/s", "1000000000000"],
                         "plain": ["default", "default"]}, rows)
    for args in (["--check-rate", "0"], ["--check-rate", "x/s"], ["--check-rate", "100000001"],
                 ["--check-daily", "0"], ["--check-daily", "1000000000001"]):
        p = h.run_cli("serve", "--db", db, "--listen", "127.0.0.1:1", *args, check=False)
        eq("exit of serve %r" % (args,), 2, p.returncode)
        assert "--check-" in p.stderr, p.stderr


def case_admin_api_limit_fields(ctx):
    env = h.standard_env()
    admin_key = env.key("admin", "ops")
    s = h.Server(env).start()
    try:
        admin = s.client(admin_key)
        d = expect_json(admin.post("/v1/admin/keys", {"role": "app", "name": "api-limited",
                                                      "rate_per_s": 3, "rate_per_day": 50}),
                        201, "create with limits")
        eq("answer", {"id": d["id"], "key": d["key"], "role": "app", "name": "api-limited",
                      "rate_per_s": 3, "rate_per_day": 50}, d)
        d2 = expect_json(admin.post("/v1/admin/keys", {"role": "app", "name": "api-daily",
                                                       "rate_per_day": 1000000000000}), 201)
        eq("only a day", (None, 1000000000000), (d2["rate_per_s"], d2["rate_per_day"]))
        listed = {e["name"]: e for e in expect_json(admin.get("/v1/admin/keys"), 200)["keys"]}
        eq("listed", (3, 50), (listed["api-limited"]["rate_per_s"],
                               listed["api-limited"]["rate_per_day"]))
        eq("listed default", (None, None), (listed["ops"]["rate_per_s"], listed["ops"]["rate_per_day"]))
        # in force at once, on the running server
        expect_429(until_429(s.client(d["key"]), "/v1/check", 3), "a key made by the API")
        out = h.run_cli("keys", "list", "--db", env.db).stdout
        assert "\tapi-limited\t-\tlive\t3/s\t50" in out, out
        for bad in ({"rate_per_s": 0}, {"rate_per_s": -1}, {"rate_per_s": "5"}, {"rate_per_s": 5.5},
                    {"rate_per_s": 100000001}, {"rate_per_s": True}, {"rate_per_s": None},
                    {"rate_per_day": 0}, {"rate_per_day": 1000000000001}, {"rate_per_day": "9"},
                    {"rate": 5}, {"daily": 5}):
            body = dict({"role": "app", "name": "bad"}, **bad)
            r = expect_error(admin.post("/v1/admin/keys", body), 400, "INVALID_ARGUMENT", repr(bad))
            if "rate_per_s" in bad or "rate_per_day" in bad:
                assert "must be an integer from 1 to" in r["message"], r
        names = [e["name"] for e in expect_json(admin.get("/v1/admin/keys"), 200)["keys"]]
        assert "bad" not in names, names
    finally:
        s.stop()


def case_counts_are_the_nodes_and_start_with_it(ctx):
    env = h.standard_env()
    key = app_key(env, "five", "--daily", "5")
    s = h.Server(env).start()
    try:
        expect_json(batch(s.client(key), 5), 200)
        expect_429(check(s.client(key)), "the day's five", limit="a day")
        s.stop()
        s.start()
        expect_json(batch(s.client(key), 5), 200, "a restarted server counts from nothing")
        expect_429(check(s.client(key)), "five again", limit="a day")
    finally:
        s.stop()


@h.sqlite_only("edits the SQLite file (tests/pg/test_pg.sh migrates a PostgreSQL store)")
def case_version_3_store_is_migrated(ctx):
    env = h.standard_env()
    key = env.key("app", "before")
    db = sqlite3.connect(env.db)
    db.executescript(
        "ALTER TABLE api_keys DROP COLUMN rate_per_s; ALTER TABLE api_keys DROP COLUMN rate_per_day;"
        "DROP TABLE ports; DROP TABLE events_more; DROP INDEX sms_codes; DROP TABLE oauth_clients;"
        "DROP TABLE receipt_keys; DROP INDEX numbers_seq; ALTER TABLE numbers DROP COLUMN seq;"
        "DROP TABLE audit; DROP TABLE audit_usage; DROP TABLE audit_items; DROP TABLE audit_pending;"
        "DROP TABLE app_demand; DROP TABLE guard_holds;"
        "UPDATE meta SET value = '3' WHERE key = 'schema_version';")
    db.commit()
    db.close()
    s = h.Server(env, extra=["--check-rate", "2/s"]).start()
    try:
        db = sqlite3.connect(env.db)
        eq("version", "12", db.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
        eq("limits of a key from before", (0, 0), db.execute(
            "SELECT rate_per_s, rate_per_day FROM api_keys WHERE name = 'before'").fetchone())
        db.close()
        expect_429(until_429(s.client(key), "/v1/check", 2), "the server's rate")
    finally:
        s.stop()
    out = h.run_cli("keys", "list", "--db", env.db).stdout
    assert "\tbefore\t-\tlive\tdefault\tdefault" in out, out


if __name__ == "__main__":
    h.main(globals())
