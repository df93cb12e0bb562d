"""subscriber_suite.py - issue 5 (subscriber self-service) against a real
`secondnum serve`: sign-in by SMS code and ID digits, sessions, the bindings
view split own/previous owner, unbind requests through the notice machinery,
complaints and their escalation, the report by SMS, the pre-cancellation
checklist, the CAMARA check with a session, the SMS drivers (outbox and a
fake Kannel on loopback), the portal's files; and every abuse case: wrong
code, expired code, too many attempts, wrong ID digits, a session used for
another number, a session after a cancellation or a reissue, enumeration
(same answers for known and unknown numbers, rate limited).

Each case makes its own store and server on a free loopback port. Codes are
read from the outbox with `secondnum sms outbox --db FILE --json`, as a
developer would. Everything comes from 127.0.0.1, so the per-address limits
are raised for every case but those that test them.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
"""

import datetime
import http.server
import json
import os
import re
import socket
import socketserver
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_error, expect_json  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

UTC = datetime.timezone.utc
RANGE = "+86137"
N_NEW = "+8613700000001"     # reissued: the subscriber of tenure 2 is "the new owner"
N_SAME = "+8613700000002"    # one subscriber since 200 days
N_NOID = "+8613700000003"    # active, but the carrier sent no ID digits
N_FROZEN = "+8613700000004"  # cancelled 10 days ago: nobody to send a code to
N_OLD = "+8613700000005"     # active since 300 days, for cancel/reissue during a session
N_UNKNOWN = "+8613799999999"  # never reported
ID6_NEW, ID6_PREVIOUS, ID6_SAME, ID6_OLD = "22222X", "111111", "333333", "555555"
TOKEN_RE = re.compile(r"^sns_[0-9a-f]{64}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
GENEROUS = ["--otp-per-address", "100000", "--signin-per-address", "100000",
            "--otp-per-number", "1000"]


def at(days=0, hours=0):
    t = datetime.datetime.now(UTC) - datetime.timedelta(days=days, hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    assert isinstance(text, str) and TIME_RE.match(text), "not an RFC 3339 UTC time: %r" % (text,)
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


FEED = [
    (N_NEW, "activate", at(400), "n1", ID6_PREVIOUS),
    (N_NEW, "cancel", at(300), "n2", ""),
    (N_NEW, "activate", at(100), "n3", ID6_NEW),
    (N_SAME, "activate", at(200), "s1", ID6_SAME),
    (N_NOID, "activate", at(200), "i1", ""),
    (N_FROZEN, "activate", at(400), "f1", "444444"),
    (N_FROZEN, "cancel", at(10), "f2", ""),
    (N_OLD, "activate", at(300), "o1", ID6_OLD),
]


class World:
    """A store (carrier cm owns +86137, with the feed above), keys for two
    apps, the carrier and an admin, bindings, and a server."""

    def __init__(self, extra=(), generous=True, bindings=True, start=True, min_aging=None):
        self.env = h.Env(min_aging=min_aging)
        self.env.add_carrier("cm", RANGE)
        path = self.env.path("feed.csv")
        with open(path, "w") as f:
            f.write("number,event,at,event_id,id6\n")
            for r in FEED:
                f.write(",".join(r) + "\n")
        h.run_cli("import", "--db", self.env.db, "--carrier", "cm", path)
        self.bank = self.env.key("app", "bank")
        self.shop = self.env.key("app", "shop")
        self.cm = self.env.key("carrier", "cm-feed", carrier="cm")
        self.admin = self.env.key("admin", "ops")
        self.server = h.Server(self.env, threads=2,
                               extra=(GENEROUS if generous else []) + list(extra))
        if start:
            self.server.start()
        if start and bindings:
            self.bind(self.bank, N_NEW, "old-owner-acct", at(350))   # tenure 1: previous owner
            self.bind(self.bank, N_NEW, "new-owner-acct", at(50))    # tenure 2: mine
            self.bind(self.shop, N_NEW, "shop-old", at(380))         # tenure 1
            self.bind(self.shop, N_SAME, "shop-same", at(20))        # tenure 1 of N_SAME: mine

    def client(self, key=None):
        return self.server.client(key)

    def bind(self, key, number, account, bound_at):
        r = self.client(key).request("PUT", "/v1/bindings", json_body={
            "bindings": [{"number": number, "account": account, "bound_at": bound_at}]})
        expect_json(r, 200, "bind")

    def outbox(self, number=None):
        args = ["sms", "outbox", "--db", self.env.db, "--json"]
        if number:
            args += ["--number", number]
        out = h.run_cli(*args).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def code_for(self, number):
        msgs = [m for m in self.outbox(number) if m["purpose"] == "otp"]
        assert msgs, "no code was sent to %s" % number
        m = CODE_RE.search(msgs[-1]["text"])
        assert m, "no 6-digit code in %r" % msgs[-1]["text"]
        return m.group(1)

    def request_code(self, number, lang=None, client=None):
        body = {"number": number}
        if lang:
            body["lang"] = lang
        return (client or self.client()).request("POST", "/v1/subscriber/otp", json_body=body)

    def session_attempt(self, number, code, id6, client=None):
        return (client or self.client()).request("POST", "/v1/subscriber/session", json_body={
            "number": number, "code": code, "id6": id6})

    def sign_in(self, number, id6):
        expect_json(self.request_code(number), 200, "otp")
        r = self.session_attempt(number, self.code_for(number), id6)
        d = expect_json(r, 201, "sign in")
        return d["token"]

    def sub(self, token):
        return self.client(token)


def stop(w):
    """Stop the case's server: it must exit 0 with no sanitizer report."""
    w.server.stop()
    text = w.server.stderr()
    assert not h.SANITIZER_RE.search(text), "sanitizer report:\n" + text[-4000:]


# ---------------------------------------------------------------------------
# sign-in


def case_code_request_answer_and_sms(ctx):
    w = World()
    d = expect_json(w.request_code(N_NEW), 200, "otp")
    eq("answer", {"status": "code_requested", "number": N_NEW, "expires_in": 300,
                  "max_attempts": 5}, d)
    msgs = w.outbox(N_NEW)
    eq("messages", 1, len(msgs))
    m = msgs[0]
    eq("lang (the store's country is 86)", "zh", m["lang"])
    assert "验证码" in m["text"] and CODE_RE.search(m["text"]), m
    expect_json(w.request_code("13700000002", lang="en"), 200, "national form, English")
    m = w.outbox(N_SAME)[-1]
    eq("lang", "en", m["lang"])
    assert "code" in m["text"] and CODE_RE.search(m["text"]), m
    stop(w)


def case_code_request_bad_input(ctx):
    w = World()
    c = w.client()
    for body, what in (({}, "no number"), ({"number": "12345"}, "bad number"),
                       ({"number": N_NEW, "x": 1}, "unknown property"),
                       ({"number": N_NEW, "lang": "fr"}, "bad lang"),
                       ({"number": 13700000001}, "number not a string")):
        expect_error(c.request("POST", "/v1/subscriber/otp", json_body=body), 400,
                     "INVALID_ARGUMENT", what)
    expect_error(c.request("POST", "/v1/subscriber/otp", body="{"), 400, "INVALID_ARGUMENT",
                 "broken JSON")
    expect_error(c.request("POST", "/v1/subscriber/otp", body="number=1",
                           content_type="application/x-www-form-urlencoded"), 415,
                 "UNSUPPORTED_MEDIA_TYPE", "form body")
    expect_error(c.request("GET", "/v1/subscriber/otp"), 405, "METHOD_NOT_ALLOWED", "GET")
    big = json.dumps({"number": N_NEW, "lang": "zh" + " " * (64 << 10)})
    expect_error(c.request("POST", "/v1/subscriber/otp", body=big), 413, "PAYLOAD_TOO_LARGE",
                 "a body over 64 KiB on a public route")
    eq("nothing sent", [], w.outbox())
    stop(w)


def case_enumeration_same_answers_for_known_and_unknown(ctx):
    w = World()
    answers = {}
    for n in (N_NEW, N_UNKNOWN, N_FROZEN, N_NOID):
        r = w.request_code(n)
        d = expect_json(r, 200, n)
        d.pop("number")
        answers[n] = (r.status, d)
    eq("same answer for a subscriber's, an unknown and a cancelled number",
       1, len({json.dumps(v, sort_keys=True) for v in answers.values()}))
    eq("a code went only to numbers with a subscriber", {N_NEW, N_NOID},
       {m["number"] for m in w.outbox()})
    # wrong answers read the same too, attempt by attempt
    for n in (N_NEW, N_UNKNOWN, N_FROZEN):
        r = w.session_attempt(n, "000000", "123456")
        body = expect_error(r, 401, "UNAUTHENTICATED", n)
        eq("message for %s" % n, "wrong code: 4 attempts left", body["message"])
    # and a number nobody asked a code for answers like one that has none
    bodies = set()
    for n in ("+8613700000099", "+8613799999998"):
        bodies.add(json.dumps(expect_error(w.session_attempt(n, "000000", "123456"), 401,
                                           "UNAUTHENTICATED", n)))
    eq("no code: one answer", 1, len(bodies))
    stop(w)


def case_sign_in_and_session(ctx):
    w = World()
    expect_json(w.request_code(N_NEW), 200)
    r = w.session_attempt(N_NEW, w.code_for(N_NEW), ID6_NEW)
    d = expect_json(r, 201, "session")
    assert TOKEN_RE.match(d["token"]), d
    eq("number", N_NEW, d["number"])
    eq("tenure", 2, d["tenure"])
    left = (parse_time(d["expires_at"]) - datetime.datetime.now(UTC)).total_seconds()
    assert 850 < left <= 901, "session lifetime %s s" % left
    s = expect_json(w.sub(d["token"]).request("GET", "/v1/subscriber/session"), 200)
    eq("session", {"number": N_NEW, "tenure": 2, "lang": "zh", "expires_at": d["expires_at"]}, s)
    # the token is kept only as a hash (the hashing is the backend's caller's,
    # the same for both stores; the file is read on SQLite)
    if not h.ON_POSTGRES:
        db = sqlite3.connect(w.env.db)
        rows = db.execute("SELECT token_hash FROM sessions").fetchall()
        eq("one session", 1, len(rows))
        assert d["token"].encode() not in rows[0][0] and d["token"][4:] != rows[0][0].hex(), rows
        codes = db.execute("SELECT code_hash FROM otp").fetchall()
        assert all(len(c[0]) == 32 for c in codes), codes
        db.close()
    stop(w)


def case_id6_x_in_lowercase_is_accepted(ctx):
    w = World()
    expect_json(w.request_code(N_NEW), 200)
    expect_json(w.session_attempt(N_NEW, w.code_for(N_NEW), ID6_NEW.lower()), 201)
    stop(w)


def case_sign_in_bad_input(ctx):
    w = World()
    c = w.client()
    for body, what in (({"number": N_NEW, "code": "12345", "id6": ID6_NEW}, "short code"),
                       ({"number": N_NEW, "code": "12345a", "id6": ID6_NEW}, "letter in code"),
                       ({"number": N_NEW, "code": "123456", "id6": "12345"}, "short id6"),
                       ({"number": N_NEW, "code": "123456", "id6": "X23456"}, "X first"),
                       ({"number": N_NEW, "code": "123456"}, "no id6"),
                       ({"code": "123456", "id6": ID6_NEW}, "no number"),
                       ({"number": N_NEW, "code": "123456", "id6": ID6_NEW, "x": "1"}, "extra")):
        expect_error(c.request("POST", "/v1/subscriber/session", json_body=body), 400,
                     "INVALID_ARGUMENT", what)
    stop(w)


def case_wrong_code_counts_down_then_right_code_works(ctx):
    w = World()
    expect_json(w.request_code(N_NEW), 200)
    code = w.code_for(N_NEW)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for left in (4, 3, 2, 1):
        body = expect_error(w.session_attempt(N_NEW, wrong, ID6_NEW), 401, "UNAUTHENTICATED")
        eq("message", "wrong code: %d attempt%s left" % (left, "" if left == 1 else "s"),
           body["message"])
    expect_json(w.session_attempt(N_NEW, code, ID6_NEW), 201, "the fifth answer, right")
    stop(w)


def case_too_many_attempts_lock_the_address_out_of_the_number(ctx):
    w = World(extra=["--lockout", "3"])
    expect_json(w.request_code(N_NEW), 200)
    code = w.code_for(N_NEW)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for _ in range(4):
        expect_error(w.session_attempt(N_NEW, wrong, ID6_NEW), 401, "UNAUTHENTICATED")
    body = expect_error(w.session_attempt(N_NEW, wrong, ID6_NEW), 429, "TOO_MANY_REQUESTS",
                        "fifth wrong answer")
    assert "from your address for this number: locked until" in body["message"], body
    parse_time(re.search(r"locked until (\S+?);", body["message"]).group(1))
    body = expect_error(w.session_attempt(N_NEW, code, ID6_NEW), 429, "TOO_MANY_REQUESTS",
                        "even the right code while locked")
    assert "locked until" in body["message"], body
    expect_error(w.request_code(N_NEW), 429, "TOO_MANY_REQUESTS", "no new code while locked")
    eq("one code sent", 1, len(w.outbox(N_NEW)))
    # another number from the same address is not locked
    expect_json(w.request_code(N_SAME), 200, "another number")
    time.sleep(3.5)
    # the lockout is over; the code took 5 of its 10 wrong answers and still works
    expect_json(w.session_attempt(N_NEW, code, ID6_NEW), 201, "the right code after the lockout")
    expect_json(w.request_code(N_NEW), 200, "a new code after the lockout")
    expect_json(w.session_attempt(N_NEW, w.code_for(N_NEW), ID6_NEW), 201)
    stop(w)


def case_lockout_is_the_same_for_unknown_numbers(ctx):
    w = World(extra=["--lockout", "600"])
    for n in (N_NEW, N_UNKNOWN):
        expect_json(w.request_code(n), 200)
        for _ in range(4):
            expect_error(w.session_attempt(n, "000000", "123456"), 401, "UNAUTHENTICATED")
        expect_error(w.session_attempt(n, "000000", "123456"), 429, "TOO_MANY_REQUESTS", n)
        body = expect_error(w.request_code(n), 429, "TOO_MANY_REQUESTS", n)
        assert "locked until" in body["message"], body
    stop(w)


PROXY = ["--client-ip-header", "X-Forwarded-For"]


def code_from(w, addr, number):
    return xff(w, number, "10.9.9.9, " + addr)


def attempt_from(w, addr, number, code, id6):
    """A sign-in attempt by a client at addr (as the trusted proxy names it)."""
    return w.client().request("POST", "/v1/subscriber/session", json_body={
        "number": number, "code": code, "id6": id6}, headers={"X-Forwarded-For": addr})


def case_an_attacker_cannot_lock_the_subscriber_out(ctx):
    w = World(extra=PROXY + ["--lockout", "600"])
    attacker, subscriber = "198.51.100.66", "2001:db8:5:6::1"
    expect_json(code_from(w, subscriber, N_NEW), 200, "the subscriber asks for a code")
    code = w.code_for(N_NEW)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    for left in (4, 3, 2, 1):
        body = expect_error(attempt_from(w, attacker, N_NEW, wrong, ID6_NEW), 401,
                            "UNAUTHENTICATED")
        eq("attacker's message", "wrong code: %d attempt%s left" % (left, "s"[:left > 1]),
           body["message"])
    body = expect_error(attempt_from(w, attacker, N_NEW, wrong, ID6_NEW), 429,
                        "TOO_MANY_REQUESTS", "the attacker's fifth wrong answer")
    assert "from your address for this number: locked until" in body["message"], body
    expect_error(attempt_from(w, attacker, N_NEW, code, ID6_NEW), 429, "TOO_MANY_REQUESTS",
                 "the attacker is locked out, even with the right code")
    expect_error(code_from(w, attacker, N_NEW), 429, "TOO_MANY_REQUESTS",
                 "the attacker cannot have codes sent either")
    # the subscriber, at another address (another /64), is not: its own
    # slips are counted for it alone, and the code still works
    body = expect_error(attempt_from(w, "2001:db8:5:6::2", N_NEW, wrong, ID6_NEW), 401,
                        "UNAUTHENTICATED", "the subscriber mistypes")
    eq("the subscriber's own attempts", "wrong code: 4 attempts left", body["message"])
    s = expect_json(attempt_from(w, subscriber, N_NEW, code, ID6_NEW), 201,
                    "the subscriber signs in with the right code")
    eq("number", N_NEW, s["number"])
    # and signs in again later with a new code, while the attacker is still locked out
    expect_json(code_from(w, subscriber, N_NEW), 200)
    expect_json(attempt_from(w, subscriber, N_NEW, w.code_for(N_NEW), ID6_NEW), 201)
    expect_error(attempt_from(w, attacker, N_NEW, "000000", ID6_NEW), 429, "TOO_MANY_REQUESTS")
    stop(w)


def case_guessing_from_many_addresses_is_bounded(ctx):
    """Every code takes at most 10 wrong answers, from any number of
    addresses; codes are 3 an hour here (--otp-per-number): 30 answers are
    checked in the hour, whatever the attacker does."""
    w = World(extra=PROXY + ["--otp-per-number", "3", "--lockout", "600"])
    checked = codes = 0
    addr = 0
    right_code = None
    while True:
        addr += 1
        r = code_from(w, "203.0.113.%d" % addr, N_SAME)
        if r.status == 429:
            body = expect_error(r, 429, "TOO_MANY_REQUESTS", "codes for this number")
            assert "codes for this number" in body["message"], body
            break
        expect_json(r, 200, "code #%d" % (codes + 1))
        codes += 1
        right_code = w.code_for(N_SAME)
        wrong = "%06d" % ((int(right_code) + 1) % 1000000)
        dead = False
        for a in range(addr + 1, addr + 8):  # seven more addresses, five guesses each
            for _ in range(5):
                r = attempt_from(w, "198.51.100.%d" % a, N_SAME, wrong, "000000")
                body = json.loads(r.body)
                if "no code is waiting" in body["message"]:
                    dead = True
                    break
                checked += 1
                assert r.status in (401, 429), body
            if dead:
                break
        addr += 8
        assert dead, "the code still takes answers after %d" % checked
        expect_error(attempt_from(w, "192.0.2.200", N_SAME, right_code, ID6_SAME), 401,
                     "UNAUTHENTICATED", "a killed code, even the right one")
    eq("codes sent in the hour", 3, codes)
    eq("answers checked in the hour", 3 * 10, checked)
    stop(w)


@h.timeout(60)
def case_expired_code(ctx):
    w = World(extra=["--otp-ttl", "2"])
    d = expect_json(w.request_code(N_NEW), 200)
    eq("expires_in", 2, d["expires_in"])
    code = w.code_for(N_NEW)
    time.sleep(3.2)
    body = expect_error(w.session_attempt(N_NEW, code, ID6_NEW), 401, "UNAUTHENTICATED")
    assert "expired" in body["message"], body
    expect_json(w.request_code(N_NEW), 200)
    expect_json(w.session_attempt(N_NEW, w.code_for(N_NEW), ID6_NEW), 201, "a fresh code")
    stop(w)


def case_code_is_single_use_and_replaced_by_a_new_one(ctx):
    w = World()
    expect_json(w.request_code(N_NEW), 200)
    first = w.code_for(N_NEW)
    expect_json(w.request_code(N_NEW), 200)
    second = w.code_for(N_NEW)
    if first != second:
        expect_error(w.session_attempt(N_NEW, first, ID6_NEW), 401, "UNAUTHENTICATED",
                     "the replaced code")
    expect_json(w.session_attempt(N_NEW, second, ID6_NEW), 201, "the new code")
    body = expect_error(w.session_attempt(N_NEW, second, ID6_NEW), 401, "UNAUTHENTICATED",
                        "the same code again")
    assert "request one" in body["message"], body
    stop(w)


def case_wrong_id6(ctx):
    w = World()
    expect_json(w.request_code(N_NEW), 200)
    code = w.code_for(N_NEW)
    body = expect_error(w.session_attempt(N_NEW, code, "654321"), 403, "PERMISSION_DENIED")
    eq("message", "the ID digits do not match the carrier's record: 4 attempts left",
       body["message"])
    # the previous owner's ID digits do not open the new owner's tenure
    body = expect_error(w.session_attempt(N_NEW, code, ID6_PREVIOUS), 403, "PERMISSION_DENIED")
    assert "3 attempts left" in body["message"], body
    expect_json(w.session_attempt(N_NEW, code, ID6_NEW), 201, "then the right ones")
    stop(w)


def case_wrong_id6_counts_toward_the_lockout(ctx):
    w = World()
    expect_json(w.request_code(N_SAME), 200)
    code = w.code_for(N_SAME)
    for i in range(4):
        expect_error(w.session_attempt(N_SAME, code, "%06d" % i), 403, "PERMISSION_DENIED")
    expect_error(w.session_attempt(N_SAME, code, "000009"), 429, "TOO_MANY_REQUESTS")
    expect_error(w.session_attempt(N_SAME, code, ID6_SAME), 429, "TOO_MANY_REQUESTS")
    stop(w)


def case_no_id6_on_record(ctx):
    w = World()
    expect_json(w.request_code(N_NOID), 200)
    body = expect_error(w.session_attempt(N_NOID, w.code_for(N_NOID), "123456"), 403,
                        "PERMISSION_DENIED")
    assert "no ID on record" in body["message"], body
    stop(w)


def case_a_session_is_for_its_own_number_only(ctx):
    w = World()
    # a code sent to one number does not sign in another
    expect_json(w.request_code(N_NEW), 200)
    expect_json(w.request_code(N_SAME), 200)
    expect_error(w.session_attempt(N_SAME, w.code_for(N_NEW), ID6_SAME), 401, "UNAUTHENTICATED",
                 "N_NEW's code for N_SAME")
    token = w.sign_in(N_SAME, ID6_SAME)
    s = w.sub(token)
    # there is no way to name another number with a session
    expect_error(s.request("GET", "/v1/subscriber/bindings?number=" +
                           urllib.parse.quote(N_NEW)), 400, "INVALID_ARGUMENT", "?number=")
    expect_error(s.request("POST", "/number-recycling/v0.2/check",
                           json_body={"phoneNumber": N_NEW, "specifiedDate": "2024-01-01"}),
                 422, "UNNECESSARY_IDENTIFIER", "CAMARA with another number")
    d = expect_json(s.request("GET", "/v1/subscriber/bindings"), 200)
    eq("the session's own number", N_SAME, d["number"])
    # a session is no API key and an API key is no session
    for method, path in (("GET", "/v1/notices"), ("GET", "/v1/bindings?number=" +
                                                   urllib.parse.quote(N_SAME)),
                         ("POST", "/v1/check"), ("GET", "/v1/admin/apps")):
        expect_error(s.request(method, path, json_body={"number": N_SAME, "date": "2024-01-01"}
                               if method == "POST" else h.NONE), 401, "UNAUTHENTICATED", path)
    expect_error(w.client(w.bank).request("GET", "/v1/subscriber/bindings"), 401,
                 "UNAUTHENTICATED", "app key on a subscriber route")
    expect_error(w.client().request("GET", "/v1/subscriber/bindings"), 401, "UNAUTHENTICATED",
                 "no token")
    fake = "sns_" + "0" * 64
    expect_error(w.client(fake).request("GET", "/v1/subscriber/bindings"), 401,
                 "UNAUTHENTICATED", "an unknown token")
    stop(w)


def case_session_ends_when_the_number_is_cancelled(ctx):
    w = World()
    token = w.sign_in(N_OLD, ID6_OLD)
    s = w.sub(token)
    expect_json(s.request("GET", "/v1/subscriber/bindings"), 200)
    r = w.client(w.cm).request("POST", "/v1/events", json_body={
        "events": [{"number": N_OLD, "event": "cancel", "at": at(hours=1)}]})
    eq("applied", 1, expect_json(r, 200)["applied"])
    body = expect_error(s.request("GET", "/v1/subscriber/bindings"), 401, "UNAUTHENTICATED")
    assert "cancelled or changed hands" in body["message"], body
    expect_error(s.request("POST", "/number-recycling/v0.2/check",
                           json_body={"specifiedDate": "2024-01-01"}), 401, "UNAUTHENTICATED",
                 "CAMARA with the ended session")
    # and nobody can sign in to a cancelled number: no code is sent
    expect_json(w.request_code(N_OLD), 200)
    eq("one code in all (before the cancel)", 1, len(w.outbox(N_OLD)))
    stop(w)


def case_session_ends_when_the_number_is_reissued(ctx):
    w = World()
    token = w.sign_in(N_OLD, ID6_OLD)
    s = w.sub(token)
    r = w.client(w.cm).request("POST", "/v1/events", json_body={"events": [
        {"number": N_OLD, "event": "cancel", "at": at(200)},
        {"number": N_OLD, "event": "activate", "at": at(100), "id6": "777777"}]})
    eq("applied", 2, expect_json(r, 200)["applied"])
    expect_error(s.request("GET", "/v1/subscriber/checklist"), 401, "UNAUTHENTICATED")
    # the new subscriber signs in with the new ID digits, the old ones fail
    expect_json(w.request_code(N_OLD), 200)
    code = w.code_for(N_OLD)
    expect_error(w.session_attempt(N_OLD, code, ID6_OLD), 403, "PERMISSION_DENIED")
    d = expect_json(w.session_attempt(N_OLD, code, "777777"), 201)
    eq("the new tenure", 2, d["tenure"])
    stop(w)


def case_session_ends_after_cancel_and_reclaim(ctx):
    w = World()
    token = w.sign_in(N_OLD, ID6_OLD)
    r = w.client(w.cm).request("POST", "/v1/events", json_body={"events": [
        {"number": N_OLD, "event": "cancel", "at": at(200)},
        {"number": N_OLD, "event": "reclaim", "at": at(150)}]})
    eq("applied", 2, expect_json(r, 200)["applied"])
    expect_error(w.sub(token).request("GET", "/v1/subscriber/session"), 401, "UNAUTHENTICATED",
                 "a session from before a cancellation, even when reclaimed")
    stop(w)


@h.timeout(60)
def case_session_expires(ctx):
    w = World(extra=["--session-ttl", "2"])
    token = w.sign_in(N_NEW, ID6_NEW)
    expect_json(w.sub(token).request("GET", "/v1/subscriber/session"), 200)
    time.sleep(3.2)
    body = expect_error(w.sub(token).request("GET", "/v1/subscriber/session"), 401,
                        "UNAUTHENTICATED")
    assert "expired" in body["message"], body
    stop(w)


def case_sign_out(ctx):
    w = World()
    token = w.sign_in(N_NEW, ID6_NEW)
    eq("signed out", {"signed_out": True},
       expect_json(w.sub(token).request("DELETE", "/v1/subscriber/session"), 200))
    expect_error(w.sub(token).request("GET", "/v1/subscriber/bindings"), 401, "UNAUTHENTICATED")
    stop(w)


# ---------------------------------------------------------------------------
# rate limits


def case_rate_limit_per_number_is_the_same_for_unknown_numbers(ctx):
    w = World(generous=False, extra=["--otp-per-number", "3", "--otp-per-address", "1000",
                                     "--signin-per-address", "1000"])
    for n in (N_NEW, N_UNKNOWN):
        for i in range(3):
            expect_json(w.request_code(n), 200, "%s #%d" % (n, i + 1))
        body = expect_error(w.request_code(n), 429, "TOO_MANY_REQUESTS", n)
        assert "codes for this number" in body["message"], body
    eq("three codes sent", 3, len(w.outbox(N_NEW)))
    stop(w)


def xff(w, number, forwarded):
    """A code request for number through the trusted proxy, which wrote forwarded."""
    return w.client().request("POST", "/v1/subscriber/otp", json_body={"number": number},
                              headers={"X-Forwarded-For": forwarded})


def raw_status(w, header_lines, number=N_NEW):
    """The status of a code request sent as raw bytes with header_lines (a
    header may appear on several lines, which http.client cannot send)."""
    body = json.dumps({"number": number}).encode()
    head = ["POST /v1/subscriber/otp HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            "Content-Type: application/json", "Content-Length: %d" % len(body)] + header_lines
    with socket.create_connection(("127.0.0.1", w.server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


def case_rate_limit_per_client_address(ctx):
    w = World(generous=False, extra=["--otp-per-address", "3", "--signin-per-address", "4",
                                     "--client-ip-header", "X-Forwarded-For"])
    for i in range(3):
        expect_json(w.request_code("+861370000100%d" % i), 200)
    body = expect_error(w.request_code("+8613700001009"), 429, "TOO_MANY_REQUESTS",
                        "fourth number from one address")
    assert "your address" in body["message"], body
    # another client (as the trusted proxy names it: the entry it appended) has its own budget
    expect_json(xff(w, N_NEW, "10.0.0.1, 203.0.113.7"), 200, "another client")
    for i in range(4):
        expect_error(w.session_attempt(N_UNKNOWN, "000000", "123456"), 401, "UNAUTHENTICATED")
    expect_error(w.session_attempt(N_UNKNOWN, "000000", "123456"), 429, "TOO_MANY_REQUESTS",
                 "fifth sign-in attempt from one address")
    stop(w)


def case_client_address_is_the_entry_the_proxy_appended(ctx):
    w = World(generous=False, extra=["--otp-per-address", "2", "--otp-per-number", "1000",
                                     "--client-ip-header", "X-Forwarded-For"])
    # the entries left of the proxy's are the client's own text: changing them is no new address
    for i in range(2):
        expect_json(xff(w, N_NEW, "198.51.100.%d, 203.0.113.7" % i), 200, "#%d" % i)
    body = expect_error(xff(w, N_NEW, "198.51.100.9, 203.0.113.7"), 429, "TOO_MANY_REQUESTS",
                        "a third request from 203.0.113.7, whatever the client wrote")
    assert "your address" in body["message"], body
    expect_error(xff(w, N_NEW, "203.0.113.7"), 429, "TOO_MANY_REQUESTS", "the proxy's entry alone")
    # every line of the header is one list: the proxy's entry is the last
    eq("two lines", 429, raw_status(w, ["X-Forwarded-For: 198.51.100.1",
                                        "X-Forwarded-For: 203.0.113.7"]))
    # an entry that is not an address, or no header, is the peer's address (127.0.0.1)
    expect_json(xff(w, N_NEW, "203.0.113.8, unknown"), 200, "peer #1")
    expect_json(w.request_code(N_NEW), 200, "peer #2, no header")
    for bad in ("203.0.113.9:4711", "", "203.0.113.300", "[2001:db8::1]", "203.0.113.7 x"):
        expect_error(xff(w, N_NEW, bad), 429, "TOO_MANY_REQUESTS", "counted as the peer: %r" % bad)
    # IPv6 by its /64, however it is written; an IPv4-mapped address is its IPv4
    expect_json(xff(w, N_NEW, "2001:db8:1:2::1"), 200)
    expect_json(xff(w, N_NEW, "2001:DB8:1:2:ffff:ffff:ffff:fffe"), 200)
    expect_error(xff(w, N_NEW, "2001:db8:1:2:0:0:0:77"), 429, "TOO_MANY_REQUESTS", "same /64")
    expect_json(xff(w, N_NEW, "2001:db8:1:3::1"), 200, "the next /64")
    expect_json(xff(w, N_NEW, "::ffff:192.0.2.55"), 200)
    expect_json(xff(w, N_NEW, "192.0.2.55"), 200)
    expect_error(xff(w, N_NEW, "192.0.2.55"), 429, "TOO_MANY_REQUESTS", "mapped = IPv4")
    stop(w)


def case_client_address_behind_two_proxies(ctx):
    w = World(generous=False, extra=["--otp-per-address", "1", "--otp-per-number", "1000",
                                     "--client-ip-header", "x-forwarded-for",
                                     "--client-ip-hops", "2"])
    # the outer proxy appended the client (203.0.113.7), the inner one the outer proxy
    expect_json(xff(w, N_NEW, "1.1.1.1, 203.0.113.7, 10.0.0.2"), 200)
    expect_error(xff(w, N_NEW, "2.2.2.2, 203.0.113.7, 10.0.0.3"), 429, "TOO_MANY_REQUESTS",
                 "the same client through another inner proxy")
    expect_json(xff(w, N_NEW, "203.0.113.8, 10.0.0.2"), 200, "another client")
    expect_json(xff(w, N_NEW, "10.0.0.2"), 200, "one entry: the peer's address")
    expect_error(w.request_code(N_NEW), 429, "TOO_MANY_REQUESTS", "the peer again")
    stop(w)
    for args, what in ((["--client-ip-hops", "2"], "hops without a header"),
                       (["--client-ip-header", "X-Forwarded-For", "--client-ip-hops", "0"], "0"),
                       (["--client-ip-header", "X-Forwarded-For", "--client-ip-hops", "17"], "17"),
                       (["--client-ip-header", "X-Forwarded-For", "--client-ip-hops", "x"], "x")):
        p = h.run_cli("serve", "--db", w.env.db, "--listen", "127.0.0.1:1", *args, check=False)
        eq("exit of serve with %s" % what, 2, p.returncode)
        assert "client-ip" in p.stderr, p.stderr


# ---------------------------------------------------------------------------
# the bindings view, requests, the checklist


def case_bindings_split_mine_and_previous_owner(ctx):
    w = World()
    expect_json(w.client(w.bank).request("PUT", "/v1/profile",
                                         json_body={"display_name": "招商银行"}), 200)
    token = w.sign_in(N_NEW, ID6_NEW)
    r = w.sub(token).request("GET", "/v1/subscriber/bindings")
    d = expect_json(r, 200)
    eq("number", N_NEW, d["number"])
    eq("tenure", 2, d["tenure"])
    apps = {a["app"]: a for a in d["apps"]}
    eq("apps", {"bank", "shop"}, set(apps))
    bank = apps["bank"]
    eq("bank keys", {"app", "display_name", "mine", "previous"}, set(bank))
    eq("display name", "招商银行", bank["display_name"])
    eq("bank mine", 1, bank["mine"]["count"])
    eq("bank mine dates", 1, len(bank["mine"]["bound_at"]))
    bound = parse_time(bank["mine"]["bound_at"][0])
    assert abs((datetime.datetime.now(UTC) - bound).days - 50) <= 1, bound
    eq("bank previous", {"count": 1}, bank["previous"])
    eq("shop", {"app": "shop", "display_name": "shop", "mine": {"count": 0, "bound_at": []},
                "previous": {"count": 1}}, apps["shop"])
    text = r.body.decode()
    for secret in ("old-owner-acct", "new-owner-acct", "shop-old", "account"):
        assert secret not in text, "%r in the subscriber's view" % secret
    assert not re.search(r"[0-9a-f]{64}", text), "an account hash in the subscriber's view"
    # N_SAME's subscriber sees only their own
    d = expect_json(w.sub(w.sign_in(N_SAME, ID6_SAME)).request("GET", "/v1/subscriber/bindings"))
    eq("N_SAME", [{"app": "shop", "display_name": "shop",
                   "mine": {"count": 1, "bound_at": d["apps"][0]["mine"]["bound_at"]},
                   "previous": {"count": 0}}], d["apps"])
    stop(w)


def case_profile_validation(ctx):
    w = World()
    c = w.client(w.bank)
    eq("no display name yet", {"name": "bank", "display_name": None},
       expect_json(c.request("GET", "/v1/profile"), 200))
    for body in ({"display_name": ""}, {"display_name": "x" * 129}, {"display_name": 3},
                 {"display_name": "a\nb"}, {"name": "x"}):
        expect_error(c.request("PUT", "/v1/profile", json_body=body), 400, "INVALID_ARGUMENT",
                     repr(body))
    expect_error(w.client(w.cm).request("GET", "/v1/profile"), 403, "PERMISSION_DENIED")
    stop(w)


@h.timeout(90)
def case_previous_owners_binding_unbound_by_the_new_owner_reaches_the_app(ctx):
    """The issue's scenario: the new owner asks, the app gets an unbind_request
    (pull feed and webhook), acks it, and the subscriber sees it done."""
    w = World(extra=["--allow-private-webhooks"])   # the receiver is on 127.0.0.1
    rec = WebhookReceiver(secret="whsec-bank-0123456789").start()
    try:
        bank = w.client(w.bank)
        expect_json(bank.request("PUT", "/v1/webhook", json_body={
            "url": rec.url, "secret": "whsec-bank-0123456789"}), 200)
        old_hash = expect_json(bank.request(
            "GET", "/v1/bindings?number=%s&account=old-owner-acct" % urllib.parse.quote(N_NEW))
        )["bindings"][0]["account_hash"]
        s = w.sub(w.sign_in(N_NEW, ID6_NEW))
        r = s.request("POST", "/v1/subscriber/unbind", json_body={"app": "bank",
                                                                  "scope": "previous"})
        req = expect_json(r, 201, "unbind")
        eq("request", {"app": "bank", "display_name": "bank", "scope": "previous",
                       "state": "open", "notices": 1, "acknowledged": 0,
                       "outcomes": {"unbound": 0, "reverified": 0, "not_found": 0,
                                    "refused": 0}},
           {k: v for k, v in req.items() if k not in ("id", "created_at", "deadline")})
        days = (parse_time(req["deadline"]) - parse_time(req["created_at"])).total_seconds() / 86400
        assert abs(days - 5) < 0.01, "deadline %s days after the request" % days
        notices = expect_json(bank.request("GET", "/v1/notices"), 200)["notices"]
        eq("one notice", 1, len(notices))
        n = notices[0]
        eq("kind", "unbind_request", n["kind"])
        eq("number", N_NEW, n["number"])
        eq("the previous owner's binding", old_hash, n["account_hash"])
        eq("tenure of the binding", 1, n["tenure"])
        eq("state", "open", n["state"])
        eq("deadline", req["deadline"], n["deadline"])
        assert rec.wait_delivered(1, timeout=30), "no webhook delivery"
        pushed = rec.delivered()[0]
        assert pushed.sig_ok, pushed.sig_error
        eq("pushed notice", n["id"], pushed.json["id"])
        eq("pushed kind", "unbind_request", pushed.json["kind"])
        # the shop holds nothing of N_NEW's new owner, nor did the request go there
        eq("shop notices", [], expect_json(w.client(w.shop).request("GET", "/v1/notices"))["notices"])
        acked = expect_json(bank.request("POST", "/v1/notices/%s/ack" % n["id"],
                                         json_body={"outcome": "unbound"}), 200)
        eq("acked", "acknowledged", acked["state"])
        reqs = expect_json(s.request("GET", "/v1/subscriber/requests"), 200)["requests"]
        eq("one request", 1, len(reqs))
        eq("done", "done", reqs[0]["state"])
        eq("unbound", 1, reqs[0]["outcomes"]["unbound"])
        eq("acknowledged", 1, reqs[0]["acknowledged"])
        apps = {a["app"]: a for a in expect_json(s.request("GET", "/v1/subscriber/bindings"))["apps"]}
        eq("bank: the previous owner's binding is gone", 0, apps["bank"]["previous"]["count"])
        eq("bank: mine stays", 1, apps["bank"]["mine"]["count"])
    finally:
        rec.stop()
    stop(w)


def case_unbind_errors(ctx):
    w = World()
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    for body, status, code in (({"app": "bank"}, 400, "INVALID_ARGUMENT"),
                               ({"app": "bank", "scope": "all"}, 400, "INVALID_ARGUMENT"),
                               ({"app": "nobody", "scope": "previous"}, 404, "NOT_FOUND"),
                               ({"app": "shop", "scope": "mine"}, 404, "NOT_FOUND")):
        expect_error(s.request("POST", "/v1/subscriber/unbind", json_body=body), status, code,
                     repr(body))
    expect_json(s.request("POST", "/v1/subscriber/unbind",
                          json_body={"app": "shop", "scope": "previous"}), 201)
    expect_error(s.request("POST", "/v1/subscriber/unbind",
                           json_body={"app": "shop", "scope": "previous"}), 409, "CONFLICT",
                 "asked twice")
    eq("one request", 1, len(expect_json(s.request("GET", "/v1/subscriber/requests"))["requests"]))
    stop(w)


def case_refused_and_overdue_requests(ctx):
    w = World(extra=["--notice-deadline", "0.00002"])   # about 2 s
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    expect_json(s.request("POST", "/v1/subscriber/unbind",
                          json_body={"app": "shop", "scope": "previous"}), 201)
    expect_json(s.request("POST", "/v1/subscriber/unbind",
                          json_body={"app": "bank", "scope": "previous"}), 201)
    n = expect_json(w.client(w.shop).request("GET", "/v1/notices"))["notices"][0]
    expect_json(w.client(w.shop).request("POST", "/v1/notices/%s/ack" % n["id"], json_body={
        "outcome": "refused", "note": "we need the account holder's consent"}), 200)
    # the deadline is whole seconds: created (floored) + 2 s, overdue once
    # the clock's whole second is past it, at most 3 s after the request
    time.sleep(3.1)
    reqs = {r["app"]: r for r in expect_json(s.request("GET", "/v1/subscriber/requests"))["requests"]}
    eq("shop answered (refused): done", "done", reqs["shop"]["state"])
    eq("refused", 1, reqs["shop"]["outcomes"]["refused"])
    eq("bank did not answer in time", "overdue", reqs["bank"]["state"])
    stop(w)


def case_checklist_before_cancelling(ctx):
    w = World()
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    d = expect_json(s.request("GET", "/v1/subscriber/checklist"), 200)
    eq("not ready", False, d["ready"])
    eq("number", N_NEW, d["number"])
    eq("apps", 1, len(d["apps"]))
    a = d["apps"][0]
    eq("bank only (the shop's binding is the previous owner's)", "bank", a["app"])
    eq("bindings", 1, a["bindings"])
    eq("requested", False, a["requested"])
    parse_time(a["first_bound_at"])
    expect_json(s.request("POST", "/v1/subscriber/unbind",
                          json_body={"app": "bank", "scope": "mine"}), 201)
    a = expect_json(s.request("GET", "/v1/subscriber/checklist"))["apps"][0]
    eq("requested", True, a["requested"])
    bank = w.client(w.bank)
    n = [x for x in expect_json(bank.request("GET", "/v1/notices"))["notices"]
         if x["kind"] == "unbind_request"][0]
    eq("the subscriber's own binding", 2, n["tenure"])
    expect_json(bank.request("POST", "/v1/notices/%s/ack" % n["id"],
                             json_body={"outcome": "unbound"}), 200)
    d = expect_json(s.request("GET", "/v1/subscriber/checklist"))
    eq("ready", {"number": N_NEW, "tenure": 2, "apps": [], "ready": True}, d)
    stop(w)


def case_report_by_sms(ctx):
    w = World()
    expect_json(w.client(w.bank).request("PUT", "/v1/profile",
                                         json_body={"display_name": "Bank One"}), 200)
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    d = expect_json(s.request("POST", "/v1/subscriber/report-by-sms", json_body={"lang": "en"}), 200)
    eq("status", "queued", d["status"])
    m = [x for x in w.outbox(N_NEW) if x["purpose"] == "report"]
    eq("one report", 1, len(m))
    eq("text", d["text"], m[0]["text"])
    eq("lang", "en", m[0]["lang"])
    assert "Bank One (1)" in m[0]["text"] and "shop (1)" in m[0]["text"], m[0]["text"]
    assert "previous owner" in m[0]["text"], m[0]["text"]
    assert N_NEW not in m[0]["text"] and "+86137****0001" in m[0]["text"], m[0]["text"]
    d = expect_json(s.request("POST", "/v1/subscriber/report-by-sms"), 200)  # no body: zh
    eq("lang of the sign-in", "zh", d["lang"])
    assert "前机主" in d["text"], d["text"]
    expect_json(s.request("POST", "/v1/subscriber/report-by-sms", json_body={}), 200)
    expect_error(s.request("POST", "/v1/subscriber/report-by-sms", json_body={}), 429,
                 "TOO_MANY_REQUESTS", "fourth report in an hour")
    expect_error(s.request("POST", "/v1/subscriber/report-by-sms", json_body={"lang": "de"}),
                 400, "INVALID_ARGUMENT")
    stop(w)


# ---------------------------------------------------------------------------
# complaints


def complaint(s, **body):
    return s.request("POST", "/v1/subscriber/complaints", json_body=body)


def case_complaint_answered_by_the_app(ctx):
    w = World()
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    c = expect_json(complaint(s, app="bank", kind="harassment",
                              text="催收电话每天打来，我不是你们的客户"), 201)
    eq("fields", {"id", "app", "display_name", "carrier", "kind", "text", "created_at", "level",
                  "state", "deadline", "escalations", "resolved_at", "resolved_by",
                  "resolution"}, set(c))
    eq("level", "app", c["level"])
    eq("state", "open", c["state"])
    eq("carrier", "cm", c["carrier"])
    days = (parse_time(c["deadline"]) - parse_time(c["created_at"])).total_seconds() / 86400
    assert abs(days - 5) < 0.01, days
    bank = w.client(w.bank)
    got = expect_json(bank.request("GET", "/v1/complaints"), 200)["complaints"]
    eq("the app sees it", [c["id"]], [x["id"] for x in got])
    eq("with the number", N_NEW, got[0]["number"])
    eq("the shop does not", [], expect_json(w.client(w.shop).request("GET", "/v1/complaints"))["complaints"])
    eq("nor the carrier yet", [], expect_json(w.client(w.cm).request("GET", "/v1/carrier/complaints"))["complaints"])
    expect_error(w.client(w.shop).request("POST", "/v1/complaints/%s/resolve" % c["id"],
                                          json_body={"resolution": "x"}), 404, "NOT_FOUND")
    expect_error(w.client(w.cm).request("POST", "/v1/carrier/complaints/%s/resolve" % c["id"],
                                        json_body={"resolution": "x"}), 404, "NOT_FOUND",
                 "the carrier before escalation")
    expect_error(bank.request("POST", "/v1/complaints/%s/resolve" % c["id"], json_body={}), 400,
                 "INVALID_ARGUMENT")
    r = expect_json(bank.request("POST", "/v1/complaints/%s/resolve" % c["id"],
                                 json_body={"resolution": "number removed from our call list"}))
    eq("resolved", ("resolved", "app"), (r["state"], r["resolved_by"]))
    expect_error(bank.request("POST", "/v1/complaints/%s/resolve" % c["id"],
                              json_body={"resolution": "again"}), 409, "CONFLICT")
    mine = expect_json(s.request("GET", "/v1/subscriber/complaints"))["complaints"]
    eq("the subscriber sees the answer", "number removed from our call list", mine[0]["resolution"])
    eq("no deadline once resolved", None, mine[0]["deadline"])
    stop(w)


@h.timeout(90)
def case_overdue_complaint_escalates_to_carrier_then_regulator(ctx):
    w = World(extra=["--complaint-deadline", "0.00004"])   # 3 s per level
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    c = expect_json(complaint(s, app="bank", kind="takeover", text="my account was taken"), 201)
    no_app = expect_json(complaint(s, kind="cannot_register", text="shop says already bound"), 201)
    eq("no app: the carrier's first", "carrier", no_app["level"])
    eq("no app name", None, no_app["app"])
    carrier = w.client(w.cm)
    admin = w.client(w.admin)
    eq("carrier sees the one without app", [no_app["id"]],
       [x["id"] for x in expect_json(carrier.request("GET", "/v1/carrier/complaints"))["complaints"]])
    time.sleep(3.3)
    mine = {x["id"]: x for x in expect_json(s.request("GET", "/v1/subscriber/complaints"))["complaints"]}
    eq("escalated to the carrier", "carrier", mine[c["id"]]["level"])
    eq("escalations", ["carrier"], [e["level"] for e in mine[c["id"]]["escalations"]])
    eq("the one without app went to the regulator", "regulator", mine[no_app["id"]]["level"])
    eq("carrier sees both now", {c["id"], no_app["id"]},
       {x["id"] for x in expect_json(carrier.request("GET", "/v1/carrier/complaints"))["complaints"]})
    eq("regulator view", [no_app["id"]],
       [x["id"] for x in expect_json(admin.request("GET", "/v1/admin/complaints?level=regulator"))["complaints"]])
    time.sleep(3.3)
    mine = {x["id"]: x for x in expect_json(s.request("GET", "/v1/subscriber/complaints"))["complaints"]}
    eq("then to the regulator", "regulator", mine[c["id"]]["level"])
    eq("no deadline at the regulator", None, mine[c["id"]]["deadline"])
    eq("escalations", ["carrier", "regulator"], [e["level"] for e in mine[c["id"]]["escalations"]])
    eq("regulator view", {c["id"], no_app["id"]},
       {x["id"] for x in expect_json(admin.request("GET", "/v1/admin/complaints?level=regulator&state=open"))["complaints"]})
    r = expect_json(admin.request("POST", "/v1/admin/complaints/%s/resolve" % c["id"],
                                  json_body={"resolution": "bank ordered to restore the account"}))
    eq("resolved by the regulator", "regulator", r["resolved_by"])
    r = expect_json(carrier.request("POST", "/v1/carrier/complaints/%s/resolve" % no_app["id"],
                                    json_body={"resolution": "shop unbound the number"}))
    eq("the carrier may still answer", "carrier", r["resolved_by"])
    eq("nothing open", [],
       expect_json(admin.request("GET", "/v1/admin/complaints?state=open"))["complaints"])
    expect_error(admin.request("GET", "/v1/admin/complaints?level=nowhere"), 400,
                 "INVALID_ARGUMENT")
    expect_error(carrier.request("GET", "/v1/carrier/complaints?level=app"), 400,
                 "INVALID_ARGUMENT")
    stop(w)


def case_complaint_validation(ctx):
    w = World()
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    for body, status, code in (({"kind": "spam", "text": "x"}, 400, "INVALID_ARGUMENT"),
                               ({"kind": "other"}, 400, "INVALID_ARGUMENT"),
                               ({"kind": "other", "text": ""}, 400, "INVALID_ARGUMENT"),
                               ({"kind": "other", "text": "x" * 2001}, 400, "INVALID_ARGUMENT"),
                               ({"kind": "other", "text": "x", "app": "nobody"}, 404, "NOT_FOUND"),
                               ({"kind": "other", "text": "x", "extra": "1"}, 400,
                                "INVALID_ARGUMENT")):
        expect_error(complaint(s, **body), status, code, repr(body)[:60])
    expect_json(complaint(s, kind="other", text="x" * 2000), 201, "2000 bytes")
    stop(w)


# ---------------------------------------------------------------------------
# the CAMARA check with a session (three-legged)


def case_camara_check_with_a_session(ctx):
    w = World()
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    path = "/number-recycling/v0.2/check"
    before = (datetime.datetime.now(UTC) - datetime.timedelta(days=200)).date().isoformat()
    recent = (datetime.datetime.now(UTC) - datetime.timedelta(days=30)).date().isoformat()
    eq("recycled since 200 days ago", {"phoneNumberRecycled": True},
       expect_json(s.request("POST", path, json_body={"specifiedDate": before})))
    eq("not since 30 days ago", {"phoneNumberRecycled": False},
       expect_json(s.request("POST", path, json_body={"specifiedDate": recent})))
    expect_error(s.request("POST", path, json_body={"phoneNumber": N_NEW, "specifiedDate": before}),
                 422, "UNNECESSARY_IDENTIFIER", "own number given anyway")
    # the trail has both answers with the session's number (hashed) and verdict
    def audited():
        p = subprocess.run(["sqlite3", w.env.db, "SELECT answer FROM audit WHERE who_kind ="
                            " 'session' AND route = '%s' AND number_hash IS NOT NULL AND"
                            " status = 200 ORDER BY id" % path],
                           capture_output=True, text=True, timeout=60)
        return p.stdout.split()
    h.wait_until(lambda: len(audited()) == 2, 20, "the session's checks in the trail")
    eq("their verdicts", ["reassigned", "unchanged"], audited())
    expect_error(s.request("POST", path, json_body={}), 400, "INVALID_ARGUMENT", "no date")
    expect_error(s.request("POST", path, json_body={"specifiedDate": "2999-01-01"}), 400,
                 "OUT_OF_RANGE", "future")
    expect_error(s.request("POST", path, json_body={"specifiedDate": "2024-13-01"}), 400,
                 "INVALID_ARGUMENT", "bad date")
    expect_error(w.client("sns_" + "a" * 64).request("POST", path, json_body={"specifiedDate": before}),
                 401, "UNAUTHENTICATED", "unknown session")
    # the two-legged check is unchanged
    app = w.client(w.bank)
    eq("app key", {"phoneNumberRecycled": True},
       expect_json(app.request("POST", path, json_body={"phoneNumber": N_NEW, "specifiedDate": before})))
    expect_error(app.request("POST", path, json_body={"specifiedDate": before}), 422,
                 "MISSING_IDENTIFIER")
    expect_error(w.client(w.cm).request("POST", path, json_body={"phoneNumber": N_NEW,
                                                                 "specifiedDate": before}),
                 403, "PERMISSION_DENIED", "carrier key")
    expect_error(w.client().request("POST", path, json_body={"phoneNumber": N_NEW,
                                                             "specifiedDate": before}),
                 401, "UNAUTHENTICATED", "no key")
    expect_error(w.client("sn_" + "0" * 64).request("POST", path, json_body={}), 401,
                 "UNAUTHENTICATED", "unknown key")
    stop(w)


def case_camara_v03_check_with_a_session(ctx):
    w = World()
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    before = (datetime.datetime.now(UTC) - datetime.timedelta(days=200)).date().isoformat()
    recent = (datetime.datetime.now(UTC) - datetime.timedelta(days=30)).date().isoformat()
    for path in ("/number-recycling/v0.3/check", "/number-recycling/v0.3rc1/check"):
        eq(path + " recycled since 200 days ago", {"phoneNumberRecycled": True},
           expect_json(s.request("POST", path, json_body={"specifiedDate": before})))
        eq(path + " not since 30 days ago", {"phoneNumberRecycled": False},
           expect_json(s.request("POST", path, json_body={"specifiedDate": recent})))
        expect_error(s.request("POST", path, json_body={"phoneNumber": N_NEW,
                                                        "specifiedDate": before}),
                     422, "UNNECESSARY_IDENTIFIER", path + " own number given anyway")
        expect_error(s.request("POST", path, json_body={"specifiedDate": before, "x": "y"}),
                     400, "INVALID_ARGUMENT", path + " unknown property")
        expect_error(s.request("POST", path, json_body={"specifiedDate": before + " " * 60}),
                     400, "INVALID_ARGUMENT", path + " specifiedDate over 64")
        expect_error(s.request("POST", path, json_body={"specifiedDate": "2999-01-01"}), 400,
                     "OUT_OF_RANGE", path + " future")
        expect_error(w.client("sns_" + "a" * 64).request("POST", path,
                                                         json_body={"specifiedDate": before}),
                     401, "UNAUTHENTICATED", path + " unknown session")
    stop(w)


# ---------------------------------------------------------------------------
# the SMS drivers


class FakeKannel:
    """A Kannel smsbox's sendsms on loopback: records each GET's query."""

    def __init__(self, status=202):
        self.status = status
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                u = urllib.parse.urlsplit(self.path)
                outer.requests.append((u.path, urllib.parse.parse_qs(u.query,
                                                                     keep_blank_values=True)))
                body = b"0: Accepted for delivery" if outer.status < 300 else b"error"
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Server((h.HOST, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= n:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def sms_list(w):
    out = h.run_cli("sms", "list", "--db", w.env.db, "--json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def kannel_world(fake, extra_config=""):
    w = World(start=False)
    conf = w.env.path("sms.conf")
    with open(conf, "w") as f:
        f.write("# the test's gateway\ndriver = kannel\nurl = http://127.0.0.1:%d/cgi-bin/sendsms\n"
                "user = sn-user\npassword = p&ss word\nfrom = 10690000\n%s" % (fake.port, extra_config))
    w.server.extra += ["--sms-config", conf]
    w.server.start()
    return w


@h.timeout(60)
def case_kannel_driver_sends_and_erases_the_text(ctx):
    fake = FakeKannel()
    try:
        w = kannel_world(fake)
        expect_json(w.request_code(N_NEW, lang="zh"), 200)
        assert fake.wait(1), "the gateway got nothing"
        path, q = fake.requests[0]
        eq("path", "/cgi-bin/sendsms", path)
        eq("user", ["sn-user"], q["username"])
        eq("password (encoded and decoded)", ["p&ss word"], q["password"])
        eq("to", [N_NEW], q["to"])
        eq("from", ["10690000"], q["from"])
        eq("charset", ["UTF-8"], q["charset"])
        eq("coding", ["2"], q["coding"])
        text = q["text"][0]
        assert "验证码" in text and CODE_RE.search(text), text
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sms_list(w)[0]["state"] != "sent":
            time.sleep(0.05)
        m = sms_list(w)[0]
        eq("state", "sent", m["state"])
        eq("the text is erased once sent", "", m["text"])
        eq("the outbox is empty", [], w.outbox())
        # the code from the gateway signs in
        code = CODE_RE.search(text).group(1)
        expect_json(w.session_attempt(N_NEW, code, ID6_NEW), 201)
        stop(w)
    finally:
        fake.stop()


@h.timeout(60)
def case_kannel_failures_are_retried_then_failed(ctx):
    fake = FakeKannel(status=500)
    try:
        w = kannel_world(fake, "max_attempts = 2\n")
        expect_json(w.request_code(N_NEW), 200)
        assert fake.wait(2, timeout=20), "not retried: %d attempts" % len(fake.requests)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sms_list(w)[0]["state"] != "failed":
            time.sleep(0.05)
        m = sms_list(w)[0]
        eq("state", "failed", m["state"])
        eq("attempts", 2, m["attempts"])
        assert "500" in (m["error"] or ""), m
        eq("erased", "", m["text"])
        stop(w)
    finally:
        fake.stop()


def case_sms_cli(ctx):
    w = World(start=False)
    p = h.run_cli("sms", "--help")
    assert "outbox" in p.stdout, p.stdout
    if not h.ON_POSTGRES:  # a missing SQLite file; a PostgreSQL database always exists
        eq("no store", 1, h.run_cli("sms", "outbox", "--db", w.env.path("none.db"),
                                    check=False).returncode)
    eq("bad number", 2, h.run_cli("sms", "outbox", "--db", w.env.db, "--number", "x",
                                  check=False).returncode)
    eq("bad action", 2, h.run_cli("sms", "send", "--db", w.env.db, check=False).returncode)
    eq("no --db", 2, h.run_cli("sms", "outbox", check=False).returncode)
    out = h.run_cli("sms", "outbox", "--db", w.env.db).stdout
    eq("header only", "id\tcreated_at\tnumber\tlang\ttext\n", out)
    bad = w.env.path("bad.conf")
    with open(bad, "w") as f:
        f.write("driver = kannel\n")
    p = h.run_cli("serve", "--db", w.env.db, "--sms-config", bad, check=False)
    eq("kannel without url", 2, p.returncode)
    with open(bad, "w") as f:
        f.write("speed = 3\n")
    p = h.run_cli("serve", "--db", w.env.db, "--sms-config", bad, check=False)
    eq("unknown setting", 2, p.returncode)
    assert "bad.conf:1" in p.stderr, p.stderr
    eq("bad driver", 2, h.run_cli("serve", "--db", w.env.db, "--sms", "pigeon",
                                  check=False).returncode)


# ---------------------------------------------------------------------------
# the store and the portal


@h.sqlite_only("edits the SQLite file (tests/pg/test_pg.sh migrates a PostgreSQL store)")
def case_version_2_store_is_migrated(ctx):
    w = World(start=False)
    db = sqlite3.connect(w.env.db)
    db.executescript(
        "DROP TABLE sms; DROP TABLE otp; DROP TABLE rate_limits; DROP TABLE sessions;"
        "DROP TABLE requests; DROP TABLE complaints; DROP TABLE ports; DROP TABLE events_more;"
        "DROP TABLE oauth_clients; DROP TABLE receipt_keys; DROP INDEX notices_request;"
        "DROP TABLE audit; DROP TABLE audit_usage; DROP TABLE audit_items; DROP TABLE audit_pending;"
        "DROP TABLE app_demand; DROP TABLE guard_holds;"
        "ALTER TABLE notices DROP COLUMN request; ALTER TABLE apps DROP COLUMN display_name;"
        "ALTER TABLE api_keys DROP COLUMN rate_per_s; ALTER TABLE api_keys DROP COLUMN rate_per_day;"
        "DROP INDEX numbers_seq; ALTER TABLE numbers DROP COLUMN seq;"
        "UPDATE meta SET value = '2' WHERE key = 'schema_version';")
    db.commit()
    db.close()
    h.run_cli("verify", "--db", w.env.db)
    db = sqlite3.connect(w.env.db)
    eq("version", "12", db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sms", "otp", "rate_limits", "sessions", "requests", "complaints", "ports",
            "oauth_clients", "receipt_keys", "audit", "audit_usage", "app_demand", "guard_holds",
            "audit_items", "audit_pending"} <= tables, tables
    db.close()
    w.server.start()
    w.bind(w.bank, N_NEW, "old-owner-acct", at(350))
    s = w.sub(w.sign_in(N_NEW, ID6_NEW))
    expect_json(s.request("POST", "/v1/subscriber/unbind",
                          json_body={"app": "bank", "scope": "previous"}), 201)
    stop(w)


def case_portal_files_are_served(ctx):
    w = World(bindings=False)
    c = h.Client(w.server.port)
    for path, ctype in (("/", "text/html"), ("/index.html", "text/html"),
                        ("/app.js", "text/javascript"), ("/style.css", "text/css")):
        r = c.request("GET", path)
        eq(path, 200, r.status)
        eq(path + " type", ctype, r.media_type())
        csp = r.header("content-security-policy") or ""
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, csp
        eq("nosniff", "nosniff", r.header("x-content-type-options"))
    html = c.request("GET", "/", correlator=None).body.decode()
    assert '<script src="/app.js"' in html and "<label for=\"number\"" in html, html[:300]
    assert "onclick" not in html and "<script>" not in html, "inline code in the portal"
    expect_error(c.request("GET", "/missing.js", correlator=None), 404, "NOT_FOUND")
    expect_error(c.request("POST", "/", correlator=None, body="{}"), 404, "NOT_FOUND")
    eq("the API still answers", 200, c.request("GET", "/healthz", correlator=None).status)
    stop(w)


# ---------------------------------------------------------------------------
# who checked my number (the audit trail, read for the subscriber's tenure)

INQUIRIES_PAGE_MAX = 200  # SN_INQUIRIES_PAGE_MAX (service/inquiries.h)


def checks_of(s, query=""):
    return expect_json(s.request("GET", "/v1/subscriber/checks" + query), 200, "checks")


def wait_checks(s, n):
    """The list once it holds n rows (the trail writes in the background)."""
    deadline = time.monotonic() + 20
    while True:
        d = checks_of(s, "?limit=%d" % INQUIRIES_PAGE_MAX)
        if len(d["checks"]) >= n or time.monotonic() > deadline:
            eq("rows listed", n, len(d["checks"]))
            return d


def summary(d):
    return [(x["app"], x["kind"]) for x in d["checks"]]


def check_one(w, key, number):
    expect_json(w.client(key).request("POST", "/v1/check", json_body={
        "number": number, "date": at(1)[:10]}), 200, "check")


def check_batch(w, key, *numbers):
    expect_json(w.client(key).request("POST", "/v1/check/batch", json_body={
        "items": [{"number": n, "date": at(1)[:10]} for n in numbers]}), 200, "batch")


def case_who_checked_my_number_is_the_own_tenure_only(ctx):
    # aging 0: the number is cancelled and reissued now, after the first
    # owner's checks (the trail's rows carry the time they were answered)
    w = World(bindings=False, min_aging="0", start=False)
    ride = w.env.key("app", "ride")
    w.server.start()
    expect_json(w.client(ride).request("PUT", "/v1/profile",
                                       json_body={"display_name": "滴滴出行"}), 200)
    # the first owner's tenure: bank checks alone and in a batch, shop binds
    old = w.sub(w.sign_in(N_OLD, ID6_OLD))
    check_one(w, w.bank, N_OLD)
    check_batch(w, w.bank, N_SAME, N_OLD, N_NEW)
    w.bind(w.shop, N_OLD, "shop-acct", at(hours=1))
    d = wait_checks(old, 3)
    eq("the first owner sees their tenure's", [("shop", "binding"), ("bank", "check"),
                                               ("bank", "check")], summary(d))
    since = parse_time(d["tenure_since"])
    activated = [r[2] for r in FEED if r[0] == N_OLD and r[1] == "activate"][-1]
    eq("tenure since the feed's activation", parse_time(activated), since)
    time.sleep(1.2)  # the reissue's instant (whole seconds) after those rows
    now = at()
    r = w.client(w.cm).request("POST", "/v1/events", json_body={"events": [
        {"number": N_OLD, "event": "cancel", "at": now},
        {"number": N_OLD, "event": "activate", "at": now, "id6": "777777",
         "force": True}]})  # past the guard (shop's cancellation notice is open)
    eq("applied", 2, expect_json(r, 200)["applied"])
    expect_error(old.request("GET", "/v1/subscriber/checks"), 401, "UNAUTHENTICATED",
                 "the first owner after the reissue")
    new = w.sub(w.sign_in(N_OLD, "777777"))
    d = checks_of(new)
    eq("nothing in the new tenure yet", ([], None, now), (d["checks"], d["next"],
                                                          d["tenure_since"]))
    # the new tenure: ride checks alone, in a batch with other numbers, binds
    check_one(w, ride, N_OLD)
    check_batch(w, ride, N_SAME, N_NEW, N_OLD, N_OLD)  # twice in one batch: listed once
    check_batch(w, w.bank, N_SAME, N_NEW)              # not this number: not listed
    w.bind(ride, N_OLD, "ride-acct", at(hours=1))
    d = wait_checks(new, 3)
    eq("only the new tenure's, newest first", [("滴滴出行", "binding"), ("滴滴出行", "check"),
                                              ("滴滴出行", "check")], summary(d))
    for x in d["checks"]:
        eq("keys of a row", {"app", "kind", "day", "at"}, set(x))
        t = parse_time(x["at"])
        assert t >= parse_time(now), (x, now)
        eq("the day in the jurisdiction (UTC+8)", (t + datetime.timedelta(hours=8)).date()
           .isoformat(), x["day"])
    # the store agrees: the first owner's three rows (and bank's last batch) are
    # still there, not listed
    # (the sqlite3 command: on PostgreSQL, tests/pg/bin's answers from there)
    p = subprocess.run(["sqlite3", w.env.db, "SELECT count(*) FROM audit WHERE app IN"
                        " ('bank', 'shop') AND status = 200 AND (route LIKE '/v1/check%'"
                        " OR route = '/v1/bindings')"], capture_output=True, text=True, timeout=60)
    eq("audit rows of bank's and shop's checks and binding", "4", p.stdout.strip())
    stop(w)


def case_who_checked_my_number_pages(ctx):
    w = World(bindings=False)
    token = w.sign_in(N_SAME, ID6_SAME)
    s = w.sub(token)
    for i in range(4):  # a second apart: one app's checks of a second are one inquiry
        if i > 0:
            time.sleep(1.01)
        check_one(w, w.shop, N_SAME)
    # a batch with the number twice (listed once), found while its row is
    # pending (store/audit.h) and after the trail's indexer unpacked it
    numbers = ["+86137%08d" % (100 + i) for i in range(70)]
    numbers[45] = numbers[69] = N_SAME
    check_batch(w, w.bank, *numbers)
    full = wait_checks(s, 5)
    eq("full list", [("bank", "check")] + [("shop", "check")] * 4, summary(full))
    def unpacked():
        p = subprocess.run(["sqlite3", w.env.db, "SELECT count(*) FROM audit_items WHERE audit IN"
                            " (SELECT id FROM audit WHERE route = '/v1/check/batch')"],
                           capture_output=True, text=True, timeout=60)
        return p.stdout.strip()
    h.wait_until(lambda: unpacked() == "69", 30, "the batch's 69 numbers unpacked (one twice)")
    eq("the list once indexed", full, wait_checks(s, 5))
    eq("a short list has no next", None, full["next"])
    seen, query = [], "?limit=2"
    for want in (2, 2, 1):
        d = checks_of(s, query)
        eq("page size", want, len(d["checks"]))
        seen += d["checks"]
        query = "?limit=2&after=" + (d["next"] or "")
    eq("the last page ends", None, d["next"])
    eq("pages = the list", full["checks"], seen)
    for bad in ("0", str(INQUIRIES_PAGE_MAX + 1), "x"):
        expect_error(s.request("GET", "/v1/subscriber/checks?limit=" + bad), 400,
                     "INVALID_ARGUMENT", "limit " + bad)
    eq("the most a page holds", 5, len(checks_of(s, "?limit=%d" % INQUIRIES_PAGE_MAX)["checks"]))
    expect_error(w.client().request("GET", "/v1/subscriber/checks"), 401, "UNAUTHENTICATED",
                 "no session")
    expect_error(w.client(w.bank).request("GET", "/v1/subscriber/checks"), 401,
                 "UNAUTHENTICATED", "an app key is no session")
    stop(w)


if __name__ == "__main__":
    h.main(globals())
