"""hashed_suite.py - checks that do not name the number in clear, against a
real `secondnum serve`: number_sm3 next to number_sha256 and number_md5
(single and batch; digests computed by `openssl dgst` run here), and the
range check POST /v1/check/range (k-anonymity: only the first 5 hex digits
of SHA-256 go to the server; the app picks its own number from the answer).

The shared store is generated: STORE_NUMBERS random numbers of +86138 with
random histories (activated, some cancelled, some reactivated). The seed is
printed in failure messages (SEED in the environment repeats a run). The
cases on the answer's bound and on the key's limits make their own store and
server.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP, SEED.
"""

import datetime
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_error, expect_json  # noqa: E402

STORE_NUMBERS = 3000
RANGE = "/v1/check/range"
VERDICTS = {"unknown", "unchanged", "disconnected", "reassigned"}
HEX59 = re.compile(r"^[0-9a-f]{59}$")


def sha256(number):
    return hashlib.sha256(number.encode()).hexdigest()


def openssl_digest(alg, number):
    """`openssl dgst -<alg>` of the E.164 text, lowercase hex."""
    p = subprocess.run(["openssl", "dgst", "-" + alg], input=number.encode(),
                       capture_output=True, check=True)
    return p.stdout.decode().strip().split("= ")[-1].lower()


def day(d):
    return d.strftime("%Y-%m-%d")


def random_history(rng, number):
    """A number's events: activated, maybe cancelled, maybe activated again."""
    t = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(1200))
    rows = [(number, "activate", day(t))]
    if rng.random() < 0.6:
        t += datetime.timedelta(days=1 + rng.randrange(300))
        rows.append((number, "cancel", day(t)))
        if rng.random() < 0.6:  # after the 90 days of minimum aging
            t += datetime.timedelta(days=91 + rng.randrange(300))
            rows.append((number, "activate", day(t)))
    return rows


def random_numbers(rng, k, taken=()):
    out, seen = [], set(taken)
    while len(out) < k:
        n = "+86138%08d" % rng.randrange(10 ** 8)
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


def random_date(rng):
    return day(datetime.date(2019, 6, 1) + datetime.timedelta(days=rng.randrange(2200)))


class Ctx:
    pass


def setup():
    c = Ctx()
    c.seed = int(os.environ.get("SEED", time.time_ns() % 1000003))
    c.rng = random.Random(c.seed)
    c.env = h.Env()
    c.env.add_carrier("cmcc", "+86138")
    c.numbers = random_numbers(c.rng, STORE_NUMBERS)
    rows = []
    for n in c.numbers:
        rows += random_history(c.rng, n)
    c.env.import_feed(rows, carrier="cmcc")
    c.app = c.env.key("app", "hashed-app")
    c.carrier = c.env.key("carrier", "hashed-cmcc", carrier="cmcc")
    c.admin = c.env.key("admin", "hashed-admin")
    c.server = h.Server(c.env).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


def single(client, number, date):
    r = client.post("/v1/check", {"number": number, "date": date})
    return expect_json(r, 200, "check %s %s" % (number, date))["result"]


# ---- SM3 ------------------------------------------------------------------


def case_sm3_single_check_matches_openssl(c):
    client = c.server.client(c.app)
    # a digest computed here must name the same number as the server's SM3
    eq("openssl sm3 of +8613800000001",
       "d8688690cf3affc6c20b3b36e151dd4faf611dce9849e49f36b0a188daf70242",
       openssl_digest("sm3", "+8613800000001"))
    for n in c.rng.sample(c.numbers, 25):
        date = random_date(c.rng)
        hx = openssl_digest("sm3", n)
        r = client.post("/v1/check", {"number_sm3": hx, "date": date})
        eq("sm3 %s %s (seed %d)" % (n, date, c.seed),
           {"number_sm3": hx, "date": date, "result": single(client, n, date)},
           expect_json(r, 200, "sm3"))
    n = c.numbers[0]
    upper = openssl_digest("sm3", n).upper()
    body = expect_json(client.post("/v1/check", {"number_sm3": upper, "date": "2025-01-01"}), 200)
    eq("upper-case sm3 echoed in lowercase", upper.lower(), body["number_sm3"])
    eq("upper-case sm3", single(client, n, "2025-01-01"), body["result"])


def case_sm3_unknown_digest_is_unknown(c):
    client = c.server.client(c.app)
    absent = random_numbers(c.rng, 1, c.numbers)[0]
    for hx in (openssl_digest("sm3", absent), openssl_digest("sm3", c.numbers[0][1:]),
               "ab" * 32):
        r = client.post("/v1/check", {"number_sm3": hx, "date": "2024-01-01"})
        eq("unknown sm3 %s" % hx, "unknown", expect_json(r, 200, "unknown sm3")["result"])
    # SHA-256 and SM3 are different digests: one's hex is not the other's
    r = client.post("/v1/check", {"number_sm3": sha256(c.numbers[0]), "date": "2024-01-01"})
    eq("sha256 given as sm3", "unknown", expect_json(r, 200)["result"])


def case_sm3_bad_hex_or_length_is_400(c):
    client = c.server.client(c.app)
    n = c.numbers[1]
    good = openssl_digest("sm3", n)
    for bad in ("0" * 63, "0" * 65, "g" * 64, openssl_digest("md5", n), good[:-1] + "x", "",
                12345):
        r = client.post("/v1/check", {"number_sm3": bad, "date": "2024-01-01"})
        expect_error(r, 400, "INVALID_ARGUMENT", "sm3 %r" % (bad,))
    for both in ({"number_sm3": good, "number": n}, {"number_sm3": good, "number_sha256": sha256(n)},
                 {"number_sm3": good, "number_md5": openssl_digest("md5", n)}):
        both["date"] = "2024-01-01"
        body = expect_error(client.post("/v1/check", both), 400, "INVALID_ARGUMENT", str(both))
        assert "number_sm3" in body["message"], body
    r = client.post("/v1/check", {"number_sm3": good, "date": "2099-01-01"})
    expect_error(r, 400, "OUT_OF_RANGE", "sm3, future date")


def checks_counted(c, api):
    text = c.server.client(c.admin).get("/metrics").body.decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("secondnum_checks_total{") and 'api="%s"' % api in line
               and 'app="hashed-app"' in line)


def case_sm3_checks_count_as_hashed_in_the_metrics(c):
    client = c.server.client(c.app)
    before = checks_counted(c, "hashed")
    hx = openssl_digest("sm3", c.numbers[3])
    expect_json(client.post("/v1/check", {"number_sm3": hx, "date": "2024-01-01"}), 200)
    r = client.post("/v1/check/batch", {"items": [{"number_sm3": hx, "date": "2024-01-01"}] * 2})
    expect_json(r, 200)
    eq("sm3 checks counted as hashed", before + 3, checks_counted(c, "hashed"))


def case_batch_items_in_all_three_digests(c):
    client = c.server.client(c.app)
    items, want = [], []
    picked = c.rng.sample(c.numbers, 12) + random_numbers(c.rng, 2, c.numbers)
    for i, n in enumerate(picked):
        date = random_date(c.rng)
        result = single(client, n, date)
        for field, alg in (("number_sha256", "sha256"), ("number_md5", "md5"),
                           ("number_sm3", "sm3")):
            hx = openssl_digest(alg, n)
            items.append({field: hx, "date": date})
            want.append({field: hx, "date": date, "result": result})
    items.append({"number_sm3": "f" * 63, "date": "2024-01-01"})
    r = client.post("/v1/check/batch", {"items": items})
    got = expect_json(r, 200, "batch")["results"]
    eq("batch answers (seed %d)" % c.seed, want, got[:-1])
    eq("bad sm3 item", "INVALID_ARGUMENT", got[-1]["error"]["code"])


# ---- the range check ------------------------------------------------------


def range_body(prefix, date):
    return json.dumps({"prefix": prefix, "date": date}).encode()


def assert_says_nothing_of(body, number):
    """What was sent names neither the number nor a full digest of it."""
    text = body.decode()
    sent = json.loads(text)
    eq("range request fields", {"prefix", "date"}, set(sent))
    assert re.fullmatch(r"[0-9a-f]{5}", sent["prefix"]), text
    for secret in (number, number[1:], number[3:], sha256(number),
                   hashlib.md5(number.encode()).hexdigest(), openssl_digest("sm3", number),
                   sha256(number)[:6]):
        assert secret not in text, "the request %r carries %r" % (text, secret)


def pick(answer, number):
    """The app's side: its own entry of a range answer, or None."""
    suffix = sha256(number)[5:]
    mine = [e["result"] for e in answer["results"] if e["suffix"] == suffix]
    assert len(mine) <= 1, answer
    return mine[0] if mine else None


def check_answer_shape(answer, prefix, date, stored):
    eq("answer fields", {"prefix", "date", "results"}, set(answer))
    eq("answer prefix", prefix, answer["prefix"])
    eq("answer date", date, answer["date"])
    suffixes = [e["suffix"] for e in answer["results"]]
    for e in answer["results"]:
        eq("entry fields", {"suffix", "result"}, set(e))
        assert HEX59.match(e["suffix"]) and e["result"] in VERDICTS, e
    eq("entries sorted by digest", sorted(suffixes), suffixes)
    # exactly the stored numbers with that prefix
    eq("numbers listed for %s" % prefix, sorted(sha256(n)[5:] for n in stored), sorted(suffixes))


def case_range_pick_equals_the_single_check(c):
    client = c.server.client(c.app)
    by_prefix = {}
    for n in c.numbers:
        by_prefix.setdefault(sha256(n)[:5], []).append(n)
    asked = c.rng.sample(c.numbers, 150) + random_numbers(c.rng, 40, c.numbers)
    listed = 0
    for n in asked:
        date = random_date(c.rng)
        prefix = sha256(n)[:5]
        body = range_body(prefix, date)
        assert_says_nothing_of(body, n)
        answer = expect_json(client.post(RANGE, body), 200, "range %s" % prefix)
        check_answer_shape(answer, prefix, date, by_prefix.get(prefix, []))
        listed += len(answer["results"])
        mine = pick(answer, n)
        want = single(client, n, date)
        eq("range pick of %s on %s (seed %d)" % (n, date, c.seed),
           want, mine if mine is not None else "unknown")
        if n in c.numbers:
            assert mine is not None, "stored number %s missing from its range" % n
    assert listed >= 150, listed


def case_range_upper_case_prefix_and_empty_prefix(c):
    client = c.server.client(c.app)
    n = c.numbers[2]
    prefix = sha256(n)[:5]
    answer = expect_json(client.post(RANGE, {"prefix": prefix.upper(), "date": "2025-02-03"}), 200)
    eq("prefix echoed in lowercase", prefix, answer["prefix"])
    eq("upper-case prefix pick", single(client, n, "2025-02-03"), pick(answer, n))
    used = {sha256(x)[:5] for x in c.numbers}
    empty = next("%05x" % p for p in range(1 << 20) if "%05x" % p not in used)
    answer = expect_json(client.post(RANGE, {"prefix": empty, "date": "2025-02-03"}), 200)
    eq("a prefix of no number", [], answer["results"])
    for edge in ("00000", "fffff"):
        answer = expect_json(client.post(RANGE, {"prefix": edge, "date": "2025-02-03"}), 200)
        check_answer_shape(answer, edge, "2025-02-03",
                           [x for x in c.numbers if sha256(x).startswith(edge)])


def case_range_bad_requests_are_400(c):
    client = c.server.client(c.app)
    for bad in ({"prefix": "abcd", "date": "2024-01-01"}, {"prefix": "abcdef", "date": "2024-01-01"},
                {"prefix": "abcdg", "date": "2024-01-01"}, {"prefix": "", "date": "2024-01-01"},
                {"prefix": 12345, "date": "2024-01-01"}, {"date": "2024-01-01"},
                {"prefix": "abcde"}, {"prefix": "abcde", "date": "2024-13-01"},
                {"prefix": "abcde", "date": "2024-01-01", "number": c.numbers[0]},
                {"prefix": sha256(c.numbers[0]), "date": "2024-01-01"}):
        expect_error(client.post(RANGE, bad), 400, "INVALID_ARGUMENT", "range %r" % (bad,))
    for raw in (b"", b"[]", b"{", b'{"prefix":"abcde","date":"2024-01-01"} x'):
        expect_error(client.post(RANGE, raw), 400, "INVALID_ARGUMENT", "range %r" % raw)
    # the body's bound (RANGE_BODY_MAX, 248 bytes): spaces make it longer
    fits = b'{"prefix":"abcde","date":"2024-01-01"' + b" " * (248 - 38) + b"}"
    eq("a body of 248 bytes", 248, len(fits))
    expect_json(client.post(RANGE, fits), 200, "248 bytes")
    body = expect_error(client.post(RANGE, fits[:-1] + b" }"), 400, "INVALID_ARGUMENT", "249")
    assert "longer than 248 bytes" in body["message"], body
    expect_error(client.post(RANGE, {"prefix": "abcde", "date": "2099-01-01"}), 400,
                 "OUT_OF_RANGE", "range, future date")


def case_range_needs_an_app_key(c):
    body = {"prefix": "abcde", "date": "2024-01-01"}
    expect_error(c.server.client(None).post(RANGE, body), 401, "UNAUTHENTICATED", "no key")
    expect_error(c.server.client("sn_" + "x" * 40).post(RANGE, body), 401, "UNAUTHENTICATED",
                 "bad key")
    expect_error(c.server.client(c.carrier).post(RANGE, body), 403, "PERMISSION_DENIED",
                 "carrier key")


def colliding_pair(rng):
    """Two numbers whose SHA-256 share their first 5 hex digits, and one
    more number of another prefix."""
    seen = {}
    while True:
        n = random_numbers(rng, 1)[0]
        p = sha256(n)[:5]
        if p in seen and seen[p] != n:
            other = next(x for x in seen.values() if sha256(x)[:5] != p)
            return seen[p], n, other
        seen[p] = n


def small_store(rng, numbers):
    env = h.Env()
    env.add_carrier("cmcc", "+86138")
    rows = []
    for n in numbers:
        rows += random_history(rng, n)
    env.import_feed(rows, carrier="cmcc")
    return env


def case_range_past_the_bound_is_413(c):
    a, b, other = colliding_pair(c.rng)
    env = small_store(c.rng, [a, b, other])
    app = env.key("app", "bound-app")
    server = h.Server(env, extra=["--range-max", "1"]).start()
    try:
        client = server.client(app)
        r = client.post(RANGE, {"prefix": sha256(a)[:5], "date": "2025-01-01"})
        body = expect_error(r, 413, "PAYLOAD_TOO_LARGE", "two numbers past --range-max 1")
        assert "more than 1 numbers" in body["message"], body
        assert "suffix" not in r.body.decode(), r.body  # refused whole, nothing listed
        answer = expect_json(client.post(RANGE, {"prefix": sha256(other)[:5],
                                                 "date": "2025-01-01"}), 200, "one number")
        eq("at the bound", 1, len(answer["results"]))
    finally:
        server.stop(expect_rc=0)
    server = h.Server(env, extra=["--range-max", "2"]).start()
    try:
        answer = expect_json(server.client(app).post(RANGE, {"prefix": sha256(a)[:5],
                                                             "date": "2025-01-01"}), 200)
        eq("two numbers within --range-max 2", 2, len(answer["results"]))
        eq("both picked", single(server.client(app), b, "2025-01-01"), pick(answer, b))
    finally:
        server.stop(expect_rc=0)
    for bad in ("0", "65537", "x"):
        p = h.run_cli("serve", "--db", env.db, "--range-max", bad, check=False)
        eq("serve --range-max %s: exit" % bad, 2, p.returncode)
        assert "--range-max must be 1 to 65536" in p.stderr or bad == "x", p.stderr


def case_range_counts_against_the_key_by_numbers_listed(c):
    a, b, other = colliding_pair(c.rng)
    env = small_store(c.rng, [a, b, other])
    out = h.run_cli("keys", "create", "--db", env.db, "--role", "app", "--name", "daily3",
                    "--daily", "3").stdout
    app = out.splitlines()[0].strip()
    admin = env.key("admin", "range-admin")
    server = h.Server(env).start()
    try:
        client = server.client(app)
        pair = {"prefix": sha256(a)[:5], "date": "2025-01-01"}
        eq("two listed", 2, len(expect_json(client.post(RANGE, pair), 200)["results"]))
        # two more would pass the day's 3: refused whole
        expect_error(client.post(RANGE, pair), 429, "TOO_MANY_REQUESTS", "2 more of 3")
        used = {sha256(x)[:5] for x in (a, b, other)}
        empty = next("%05x" % p for p in range(1 << 20) if "%05x" % p not in used)
        answer = expect_json(client.post(RANGE, {"prefix": empty, "date": "2025-01-01"}), 200)
        eq("an empty answer", [], answer["results"])  # costs one: the third
        expect_error(client.post("/v1/check", {"number": a, "date": "2025-01-01"}), 429,
                     "TOO_MANY_REQUESTS", "the day's 3 are used")
        text = server.client(admin).get("/metrics").body.decode()
        listed = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                     if line.startswith("secondnum_checks_total{") and 'api="range"' in line
                     and 'app="daily3"' in line)
        eq("range checks counted in the metrics (2 listed + 1 empty)", 3.0, listed)
    finally:
        server.stop(expect_rc=0)


def index_bytes(server, admin):
    text = server.client(admin).get("/metrics").body.decode()
    return next(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("secondnum_index_bytes "))


def case_hashed_checks_off(c):
    """serve --hashed-checks off: digests and ranges answered 422, numbers
    as before, and the index smaller by its digest maps."""
    server = h.Server(c.env, extra=["--hashed-checks", "off"]).start()
    try:
        client = server.client(c.app)
        n = c.numbers[5]
        eq("a check by number", single(c.server.client(c.app), n, "2025-01-01"),
           single(client, n, "2025-01-01"))
        for field, alg in (("number_sha256", "sha256"), ("number_md5", "md5"),
                           ("number_sm3", "sm3")):
            r = client.post("/v1/check", {field: openssl_digest(alg, n), "date": "2025-01-01"})
            body = expect_error(r, 422, "SERVICE_NOT_APPLICABLE", field)
            assert "--hashed-checks off" in body["message"], body
        r = client.post("/v1/check/batch", {"items": [
            {"number": n, "date": "2025-01-01"},
            {"number_sha256": sha256(n), "date": "2025-01-01"}]})
        got = expect_json(r, 200, "batch")["results"]
        eq("batch: the number answered", single(client, n, "2025-01-01"), got[0]["result"])
        eq("batch: the digest refused", "SERVICE_NOT_APPLICABLE", got[1]["error"]["code"])
        expect_error(client.post(RANGE, {"prefix": sha256(n)[:5], "date": "2025-01-01"}), 422,
                     "SERVICE_NOT_APPLICABLE", "range")
        # an event after start: its number is checked, its digest still refused
        fresh = random_numbers(c.rng, 1, c.numbers)[0]
        r = server.client(c.carrier).post("/v1/events", {"events": [
            {"number": fresh, "event": "activate", "at": "2024-03-01T00:00:00Z"}]})
        expect_json(r, 200, "event")
        eq("a new number", "unchanged", single(client, fresh, "2024-04-01"))
        expect_error(client.post("/v1/check", {"number_sha256": sha256(fresh),
                                               "date": "2024-04-01"}),
                     422, "SERVICE_NOT_APPLICABLE", "a new number's digest")
        off, on = index_bytes(server, c.admin), index_bytes(c.server, c.admin)
        print("index bytes: %d with hashed checks, %d without" % (on, off))
        assert off < on, (off, on)
    finally:
        server.stop(expect_rc=0)
    for bad in ("", "yes", "OFF"):
        p = h.run_cli("serve", "--db", c.env.db, "--hashed-checks", bad, check=False)
        eq("serve --hashed-checks %r: exit" % bad, 2, p.returncode)
        assert "--hashed-checks must be on or off" in p.stderr, p.stderr


if __name__ == "__main__":
    h.main(globals(), setup, teardown, after_case)
