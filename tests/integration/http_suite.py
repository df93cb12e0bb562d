"""http_suite.py - every endpoint and error of docs/http-api.md.

One shared server on the standard store of harness.py (carrier cmcc owns
+86138, cucc owns +86186); cases that stop, restart or break a server start
their own. Every request made through harness.Client carries a fresh
x-correlator and fails unless the response echoes it.
"""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import (N_DISC, N_MIDSTREAM, N_NEVER, N_NEW, N_RECLAIM, N_SAME,  # noqa: E402
                     N_SUSPEND, N_TWICE, N_TZ, eq, expect_error, expect_json)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1024 * 1024
CAMARA = "/number-recycling/v0.2/check"


class Ctx:
    pass


def setup():
    c = Ctx()
    c.env = h.standard_env()
    c.env.add_carrier("cucc", "+86186")
    c.app = c.env.key("app", "http-app")
    c.cmcc = c.env.key("carrier", "http-cmcc", carrier="cmcc")
    c.cucc = c.env.key("carrier", "http-cucc", carrier="cucc")
    c.admin = c.env.key("admin", "http-admin")
    c.revoked = c.env.key("app", "http-revoked")
    h.run_cli("keys", "revoke", "--db", c.env.db, c.env.key_ids()["http-revoked"])
    c.counter = 0
    c.server = h.Server(c.env).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


def fresh(c, k=1, prefix="+86138"):
    """k numbers nobody has reported yet (13 digits after the +)."""
    out = []
    for _ in range(k):
        c.counter += 1
        out.append("%s%08d" % (prefix, 10000000 + c.counter))
    return out


def cl(c, key=None):
    return c.server.client(key)


def verdict(client, number, date, field="number"):
    r = client.post("/v1/check", {field: number, "date": date})
    d = expect_json(r, 200, "check %s %s" % (number, date))
    return d.get("result")


EVENT_RESULT_KEYS = {"applied", "duplicates", "rejected"}


def post_events(client, events, what="events"):
    """POST /v1/events; checks the answer's shape; returns (applied, duplicates, {index: code})."""
    r = client.post("/v1/events", {"events": events})
    d = expect_json(r, 200, what)
    eq("%s: answer keys" % what, EVENT_RESULT_KEYS, set(d))
    assert type(d["applied"]) is int and type(d["duplicates"]) is int, d
    assert isinstance(d["rejected"], list), d
    rej = {}
    for e in d["rejected"]:
        assert isinstance(e, dict) and set(e) == {"index", "code", "reason"}, \
            "%s: rejected entry %r must be exactly index/code/reason" % (what, e)
        assert type(e["index"]) is int and 0 <= e["index"] < len(events), e
        assert isinstance(e["reason"], str) and e["reason"], e
        assert e["index"] not in rej, "%s: index %d rejected twice" % (what, e["index"])
        rej[e["index"]] = e["code"]
    return d["applied"], d["duplicates"], rej


def ev(number, event, at, event_id=None, **extra):
    e = {"number": number, "event": event, "at": at}
    if event_id is not None:
        e["event_id"] = event_id
    e.update(extra)
    return e


# ---------------------------------------------------------------------------
# /healthz and /openapi.yaml


def case_healthz_counts_numbers(c):
    env = h.standard_env()
    key = env.key("carrier", "hz", carrier="cmcc")
    s = h.Server(env).start()
    try:
        client = s.client()
        d = expect_json(client.get("/healthz"), 200, "healthz")
        eq("healthz body", {"status": "ok", "numbers": h.STANDARD_NUMBERS}, d)
        # no key needed, but a bad one does not matter either
        expect_json(client.get("/healthz", key="sn_bogus"), 200, "healthz with a bogus key")
        kc = s.client(key)
        a, dup, rej = post_events(kc, [ev("+8613870000001", "activate", "2024-01-01"),
                                       ev("+8613870000002", "activate", "2024-01-01"),
                                       ev(N_SAME, "suspend", "2024-06-01")])
        eq("applied", (3, 0, {}), (a, dup, rej))
        d = expect_json(client.get("/healthz"), 200, "healthz after events")
        eq("numbers after 2 new numbers", h.STANDARD_NUMBERS + 2, d["numbers"])
    finally:
        s.stop(expect_rc=0)


def case_openapi_yaml_is_served(c):
    r = cl(c).get("/openapi.yaml")
    eq("status", 200, r.status)
    eq("Content-Type", "application/yaml", r.media_type())
    text = r.body.decode("utf-8")
    assert text.lstrip().startswith("openapi: 3"), "not an OpenAPI 3 document: %r" % text[:80]
    for p in ("/healthz", "/v1/check", "/v1/check/batch", "/v1/events", "/v1/admin/carriers",
              "/v1/admin/keys", "number-recycling", "/openapi.yaml"):
        assert p in text, "the OpenAPI document does not mention %s" % p
    doc = os.path.join(REPO, "docs", "openapi.yaml")
    assert os.path.exists(doc), "docs/openapi.yaml is missing from the repository"
    with open(doc, "rb") as f:
        assert f.read() == r.body, "GET /openapi.yaml differs from docs/openapi.yaml"


# ---------------------------------------------------------------------------
# POST /v1/check

VERDICTS = [
    (N_NEW, "2023-12-22", "reassigned"),
    (N_NEW, "2024-02-25", "reassigned"),   # cancellation day, reissued later
    (N_NEW, "2024-05-01", "reassigned"),   # in the gap
    (N_NEW, "2024-09-21", "unchanged"),    # the new subscriber's activation day
    (N_DISC, "2023-06-01", "disconnected"),
    (N_DISC, "2024-03-01", "disconnected"),  # cancellation on the date counts
    (N_DISC, "2024-03-02", "unchanged"),
    (N_SAME, "2023-12-22", "unchanged"),
    (N_SAME, "2023-10-09", "unchanged"),   # activation day is the subscriber's own
    (N_SAME, "2023-10-08", "reassigned"),
    (N_SUSPEND, "2023-02-01", "unchanged"),
    (N_RECLAIM, "2023-02-01", "unchanged"),
    (N_TWICE, "2022-03-01", "reassigned"),
    (N_TWICE, "2023-01-01", "disconnected"),
    (N_TZ, "2023-10-09", "reassigned"),    # 16:30Z is the next day in +08:00
    (N_TZ, "2023-10-10", "unchanged"),
    (N_NEVER, "2024-01-01", "unknown"),
    (N_MIDSTREAM, "2023-12-01", "unknown"),  # before a first record that is no activation
    (N_MIDSTREAM, "2024-02-01", "unchanged"),
]


def case_check_e164_all_four_verdicts(c):
    client = cl(c, c.app)
    for n, d, want in VERDICTS:
        body = expect_json(client.post("/v1/check", {"number": n, "date": d}), 200, n + " " + d)
        eq("%s %s" % (n, d), {"number": n, "date": d, "result": want}, body)


def case_check_national_number(c):
    client = cl(c, c.app)
    for national, e164, d, want in (("13800000002", N_NEW, "2023-12-22", "reassigned"),
                                    ("13800000003", N_DISC, "2023-06-01", "disconnected"),
                                    ("13800000001", N_SAME, "2023-12-22", "unchanged"),
                                    ("13899999999", N_NEVER, "2023-12-22", "unknown")):
        body = expect_json(client.post("/v1/check", {"number": national, "date": d}), 200, national)
        eq("%s result" % national, want, body.get("result"))
        eq("%s answer keys" % national, {"number", "date", "result"}, set(body))
        eq("%s date" % national, d, body["date"])
        eq("%s answered as E.164" % national, e164, body["number"])


def _no_clear_number(resp, number):
    national = number[3:]
    text = resp.body.decode("utf-8", "replace")
    assert national not in text, "a hashed answer discloses the number: %s" % text


def case_check_number_sha256(c):
    client = cl(c, c.app)
    for n, d, want in VERDICTS[:8] + [(N_NEVER, "2024-01-01", "unknown")]:
        hx = h.sha256_hex(n)
        r = client.post("/v1/check", {"number_sha256": hx, "date": d})
        eq("sha256 %s %s" % (n, d), {"number_sha256": hx, "date": d, "result": want},
           expect_json(r, 200, "sha256"))
        _no_clear_number(r, n)
    # upper-case hex digits are hex digits too
    hx = h.sha256_hex(N_NEW).upper()
    r = client.post("/v1/check", {"number_sha256": hx, "date": "2023-12-22"})
    body = expect_json(r, 200, "upper-case sha256")
    eq("upper-case sha256 result", "reassigned", body.get("result"))
    eq("upper-case sha256 echoed", hx.lower(), body.get("number_sha256", "").lower())
    _no_clear_number(r, N_NEW)
    # the hash is of the E.164 text: the national text's hash is not the number
    r = client.post("/v1/check", {"number_sha256": h.sha256_hex("13800000002"), "date": "2023-12-22"})
    eq("sha256 of the national text", "unknown", expect_json(r, 200, "national sha").get("result"))


def case_check_number_md5(c):
    client = cl(c, c.app)
    for n, d, want in VERDICTS[:8] + [(N_NEVER, "2024-01-01", "unknown")]:
        hx = h.md5_hex(n)
        r = client.post("/v1/check", {"number_md5": hx, "date": d})
        eq("md5 %s %s" % (n, d), {"number_md5": hx, "date": d, "result": want},
           expect_json(r, 200, "md5"))
        _no_clear_number(r, n)


def case_check_more_than_one_identifier_is_400(c):
    client = cl(c, c.app)
    s, m = h.sha256_hex(N_SAME), h.md5_hex(N_SAME)
    for ids in ({"number": N_SAME, "number_sha256": s}, {"number": N_SAME, "number_md5": m},
                {"number_sha256": s, "number_md5": m},
                {"number": N_SAME, "number_sha256": s, "number_md5": m}, {}):
        r = client.post("/v1/check", {**ids, "date": "2023-12-22"})
        expect_error(r, 400, "INVALID_ARGUMENT", "identifiers %s" % sorted(ids))


def case_check_invalid_requests_are_400(c):
    client = cl(c, c.app)
    bad = [
        {"number": "abc", "date": "2023-12-22"},
        {"number": "", "date": "2023-12-22"},
        {"number": "+0861380000000", "date": "2023-12-22"},
        {"number": 8613800000001, "date": "2023-12-22"},
        {"number": None, "date": "2023-12-22"},
        {"number": N_SAME},
        {"number": N_SAME, "date": None},
        {"number": N_SAME, "date": "2024-02-30"},
        {"number": N_SAME, "date": "2024/01/01"},
        {"number": N_SAME, "date": "2024-01-01T00:00:00Z"},
        {"number": N_SAME, "date": 20240101},
        {"number": N_SAME, "date": "2023-12-22", "extra": 1},
        {"number_sha256": "0" * 63, "date": "2023-12-22"},
        {"number_sha256": "0" * 65, "date": "2023-12-22"},
        {"number_sha256": "g" * 64, "date": "2023-12-22"},
        {"number_sha256": h.md5_hex(N_SAME), "date": "2023-12-22"},
        {"number_md5": h.sha256_hex(N_SAME), "date": "2023-12-22"},
        {"number_md5": "z" * 32, "date": "2023-12-22"},
        {"number_md5": 12345, "date": "2023-12-22"},
    ]
    for b in bad:
        expect_error(client.post("/v1/check", b), 400, "INVALID_ARGUMENT", repr(b))
    for raw in (b"", b"{", b"[]", b'"x"', b"null", b'{"number": "+8613800000001", "date": "2023-12-22"}}'):
        expect_error(client.post("/v1/check", raw), 400, "INVALID_ARGUMENT", repr(raw))


def case_check_future_date_is_400_out_of_range(c):
    client = cl(c, c.app)
    for b in ({"number": N_SAME, "date": "2030-01-01"},
              {"number": N_SAME, "date": h.store_date(1)},
              {"number": N_NEVER, "date": "2030-01-01"},
              {"number_sha256": h.sha256_hex(N_SAME), "date": "2030-01-01"},
              {"number_md5": h.md5_hex(N_SAME), "date": "2030-01-01"}):
        expect_error(client.post("/v1/check", b), 400, "OUT_OF_RANGE", repr(b))
    body = expect_json(client.post("/v1/check", {"number": N_SAME, "date": h.store_date(0)}),
                       200, "today (+08:00)")
    eq("today", "unchanged", body["result"])


def case_check_roles(c):
    body = {"number": N_SAME, "date": "2023-12-22"}
    expect_error(cl(c).post("/v1/check", body), 401, "UNAUTHENTICATED", "no key")
    expect_error(cl(c, "sn_" + "f" * 64).post("/v1/check", body), 401, "UNAUTHENTICATED", "unknown")
    expect_error(cl(c, c.revoked).post("/v1/check", body), 401, "UNAUTHENTICATED", "revoked")
    expect_error(cl(c, c.cmcc).post("/v1/check", body), 403, "PERMISSION_DENIED", "carrier")
    expect_error(cl(c, c.admin).post("/v1/check", body), 403, "PERMISSION_DENIED", "admin")
    # authentication comes before the body
    expect_error(cl(c).post("/v1/check", b"{oops"), 401, "UNAUTHENTICATED", "no key, bad body")
    expect_error(cl(c, c.cmcc).post("/v1/check", b"{oops"), 403, "PERMISSION_DENIED",
                 "carrier, bad body")


# ---------------------------------------------------------------------------
# POST /v1/check/batch


def _check_error_entry(entry, code, what):
    assert isinstance(entry, dict) and set(entry) == {"error"}, \
        "%s: expected an error entry, got %r" % (what, entry)
    e = entry["error"]
    assert isinstance(e, dict) and set(e) == {"code", "message"}, \
        "%s: error entry must be exactly code/message: %r" % (what, e)
    eq("%s: code" % what, code, e["code"])
    assert isinstance(e["message"], str) and e["message"], what


def case_batch_results_in_order_with_item_errors(c):
    sn, md = h.sha256_hex(N_NEW), h.md5_hex(N_DISC)
    items = [
        ({"number": N_NEW, "date": "2023-12-22"}, {"number": N_NEW, "date": "2023-12-22", "result": "reassigned"}),
        ({"number": "garbage", "date": "2023-12-22"}, "INVALID_ARGUMENT"),
        ({"number": N_DISC, "date": "2023-06-01"}, {"number": N_DISC, "date": "2023-06-01", "result": "disconnected"}),
        ({"number": N_SAME, "date": "2030-01-01"}, "OUT_OF_RANGE"),
        ({"number_sha256": sn, "date": "2023-12-22"}, {"number_sha256": sn, "date": "2023-12-22", "result": "reassigned"}),
        ({"number": N_NEVER, "date": "2024-01-01"}, {"number": N_NEVER, "date": "2024-01-01", "result": "unknown"}),
        ({"number": N_SAME, "number_md5": h.md5_hex(N_SAME), "date": "2023-12-22"}, "INVALID_ARGUMENT"),
        (42, "INVALID_ARGUMENT"),
        ({"number": N_SAME, "date": "2023-12-22", "x": 1}, "INVALID_ARGUMENT"),
        ({"number": N_SAME, "date": "2023-12-22"}, {"number": N_SAME, "date": "2023-12-22", "result": "unchanged"}),
        ({"date": "2023-12-22"}, "INVALID_ARGUMENT"),
        ({"number_md5": md, "date": "2024-03-02"}, {"number_md5": md, "date": "2024-03-02", "result": "unchanged"}),
        ({"number": N_SAME, "date": "2024-02-30"}, "INVALID_ARGUMENT"),
        (None, "INVALID_ARGUMENT"),
        # a date asked before, after other dates and a bad one; the bad one again
        ({"number": N_DISC, "date": "2023-06-01"}, {"number": N_DISC, "date": "2023-06-01", "result": "disconnected"}),
        ({"number": N_NEW, "date": "2024-02-30"}, "INVALID_ARGUMENT"),
    ]
    r = cl(c, c.app).post("/v1/check/batch", {"items": [i for i, _ in items]})
    body = expect_json(r, 200, "batch")
    eq("batch answer keys", {"results"}, set(body))
    res = body["results"]
    eq("number of results", len(items), len(res))
    for k, ((item, want), got) in enumerate(zip(items, res)):
        if isinstance(want, str):
            _check_error_entry(got, want, "item %d %r" % (k, item))
        else:
            eq("item %d" % k, want, got)
    for k in (4, 11):
        text = json.dumps(res[k])
        assert "1380000000" not in text, "hashed item %d discloses the number: %s" % (k, text)


@h.timeout(180)
def case_batch_of_10000_items(c):
    dates = ["2020-01-%02d" % d for d in range(1, 29)]
    items, want = [], []
    for i in range(10000):
        if i % 100 == 7:
            items.append({"number": N_NEW, "date": "2023-12-22"})
            want.append({"number": N_NEW, "date": "2023-12-22", "result": "reassigned"})
        else:
            n = "+86139%08d" % i
            d = dates[i % len(dates)]
            items.append({"number": n, "date": d})
            want.append({"number": n, "date": d, "result": "unknown"})
    r = cl(c, c.app).post("/v1/check/batch", {"items": items})
    res = expect_json(r, 200, "10000 items")["results"]
    eq("number of results", 10000, len(res))
    for i, (w, g) in enumerate(zip(want, res)):
        if w != g:
            raise AssertionError("result %d: expected %r, got %r" % (i, w, g))


def case_batch_of_10001_items_is_400(c):
    items = [{"number": N_SAME, "date": "2023-12-22"}] * 10001
    expect_error(cl(c, c.app).post("/v1/check/batch", {"items": items}), 400, "INVALID_ARGUMENT")


def case_batch_bad_envelopes_are_400(c):
    client = cl(c, c.app)
    one = [{"number": N_SAME, "date": "2023-12-22"}]
    for b in ({"items": []}, {}, {"items": None}, {"items": {}}, {"items": "x"},
              {"item": one}, {"items": one, "extra": True}, [one], one):
        expect_error(client.post("/v1/check/batch", b), 400, "INVALID_ARGUMENT", repr(b)[:80])
    for raw in (b"", b"{", b'{"items": [}'):
        expect_error(client.post("/v1/check/batch", raw), 400, "INVALID_ARGUMENT", repr(raw))


def case_batch_roles(c):
    b = {"items": [{"number": N_SAME, "date": "2023-12-22"}]}
    expect_error(cl(c).post("/v1/check/batch", b), 401, "UNAUTHENTICATED", "no key")
    expect_error(cl(c, c.revoked).post("/v1/check/batch", b), 401, "UNAUTHENTICATED", "revoked")
    expect_error(cl(c, c.cmcc).post("/v1/check/batch", b), 403, "PERMISSION_DENIED", "carrier")
    expect_error(cl(c, c.admin).post("/v1/check/batch", b), 403, "PERMISSION_DENIED", "admin")


# ---------------------------------------------------------------------------
# POST /v1/events


def case_events_applied_duplicates_rejected(c):
    a, b, x = fresh(c, 3)
    events = [
        ev(a, "activate", "2024-01-01T10:00:00+08:00"),    # 0 applied
        ev("abc", "activate", "2024-01-01"),               # 1 INVALID_NUMBER
        ev(b, "explode", "2024-01-01"),                    # 2 INVALID_EVENT
        ev(b, "activate", "not-a-time"),                   # 3 INVALID_TIME
        ev(b, "activate", "2030-01-01T00:00:00+08:00"),    # 4 FUTURE_TIME
        ev(x, "activate", "2024-01-01"),                   # 5 applied
        ev(x, "resume", "2024-02-01"),                     # 6 INVALID_TRANSITION (active)
        ev(x, "cancel", "2024-03-01"),                     # 7 applied
        ev(x, "activate", "2024-04-01"),                   # 8 MINIMUM_AGING (31 days)
        ev(a, "suspend", "2024-05-01"),                    # 9 applied
        ev(b, "activate", "2024-13-01"),                   # 10 INVALID_TIME
        ev("+0861380000000", "activate", "2024-01-01"),    # 11 INVALID_NUMBER
    ]
    got = post_events(cl(c, c.cmcc), events)
    want = (4, 0, {1: "INVALID_NUMBER", 2: "INVALID_EVENT", 3: "INVALID_TIME", 4: "FUTURE_TIME",
                   6: "INVALID_TRANSITION", 8: "MINIMUM_AGING", 10: "INVALID_TIME",
                   11: "INVALID_NUMBER"})
    eq("applied, duplicates, rejected", want, got)
    app = cl(c, c.app)
    eq("a before its activation", "reassigned", verdict(app, a, "2023-12-01"))
    eq("b (nothing applied)", "unknown", verdict(app, b, "2023-12-01"))
    eq("x cancelled, not reissued", "disconnected", verdict(app, x, "2024-02-01"))


def case_events_invalid_argument_is_per_event(c):
    a, b = fresh(c, 2)
    events = [ev(a, "activate", "2024-01-01"),
              ev(b, "activate", "2024-01-01", colour="red"),    # unknown property
              42,                                               # not an object
              {"number": b, "event": "activate"},               # no at
              ev(b, "activate", "2024-01-01", event_id=7),     # wrong type
              ev(b, "activate", "2024-01-01", event_id="x" * 65)]  # event_id over 64 characters
    got = post_events(cl(c, c.cmcc), events)
    eq("applied", 1, got[0])
    eq("rejected indexes", [1, 2, 3, 4, 5], sorted(got[2]))
    for i in (1, 2, 4):
        eq("code of %d" % i, "INVALID_ARGUMENT", got[2][i])


def case_events_retry_is_all_duplicates(c):
    a, b = fresh(c, 2)
    events = [ev(a, "activate", "2024-01-01", "r-a1"), ev(a, "suspend", "2024-02-01", "r-a2"),
              ev(b, "activate", "2024-01-05", "r-b1")]
    client = cl(c, c.cmcc)
    eq("first", (3, 0, {}), post_events(client, events))
    eq("retry", (0, 3, {}), post_events(client, events, "retry"))
    eq("retry again", (0, 3, {}), post_events(client, events, "retry again"))
    more = events + [ev(b, "suspend", "2024-03-01", "r-b2")]
    eq("retry plus one new", (1, 3, {}), post_events(client, more, "retry + 1"))


def case_events_retry_without_event_id_is_all_duplicates(c):
    a, b = fresh(c, 2)
    events = [ev(a, "activate", "2024-01-01T08:00:00+08:00"), ev(a, "cancel", "2024-02-01"),
              ev(b, "activate", "2024-01-05")]
    client = cl(c, c.cmcc)
    eq("first", (3, 0, {}), post_events(client, events))
    eq("retry", (0, 3, {}), post_events(client, events, "retry"))


def case_events_retry_with_rejections(c):
    a, b = fresh(c, 2)
    events = [ev(a, "activate", "2024-01-01", "rr-1"), ev("nope", "activate", "2024-01-01", "rr-2"),
              ev(b, "activate", "2024-01-01", "rr-3"), ev(b, "resume", "2024-02-01", "rr-4")]
    client = cl(c, c.cmcc)
    want_rej = {1: "INVALID_NUMBER", 3: "INVALID_TRANSITION"}
    eq("first", (2, 0, want_rej), post_events(client, events))
    eq("retry", (0, 2, want_rej), post_events(client, events, "retry"))


def case_events_check_right_after_post_sees_them(c):
    ev_client = cl(c, c.cmcc)
    check_client = cl(c, c.app)
    verdict(check_client, N_SAME, "2023-12-22")  # connected before the events
    for i in range(20):
        (n,) = fresh(c)
        eq("before", "unknown", verdict(check_client, n, "2023-06-01"))
        eq("activate", (1, 0, {}), post_events(ev_client, [ev(n, "activate", "2024-01-01")]))
        eq("right after the activation (%d)" % i, "reassigned", verdict(check_client, n, "2023-06-01"))
        eq("cancel", (1, 0, {}), post_events(ev_client, [ev(n, "cancel", "2024-02-01")]))
        eq("right after the cancellation (%d)" % i, "disconnected",
           verdict(check_client, n, "2024-01-15"))
        hashed = check_client.post("/v1/check", {"number_sha256": h.sha256_hex(n), "date": "2024-01-15"})
        eq("hashed, right after (%d)" % i, "disconnected", expect_json(hashed).get("result"))


def case_events_mixed_batch_applies_the_valid_ones(c):
    a, b, d, bad = fresh(c, 4)
    events = [ev(a, "activate", "2024-01-01"), ev(bad, "activate", "2024-99-01"),
              ev(b, "activate", "2023-01-01"), ev(bad, "fly", "2024-01-01"),
              ev(b, "cancel", "2023-02-01"), ev(b, "activate", "2023-06-01"),
              ev(d, "suspend", "2024-03-01"), ev("13800000abc", "activate", "2024-01-01")]
    got = post_events(cl(c, c.cmcc), events)
    eq("applied, duplicates, rejected", (5, 0, {1: "INVALID_TIME", 3: "INVALID_EVENT",
                                                7: "INVALID_NUMBER"}), got)
    app = cl(c, c.app)
    eq("a", "reassigned", verdict(app, a, "2023-12-01"))
    eq("a, activation day", "unchanged", verdict(app, a, "2024-01-01"))
    eq("b reissued after aging", "reassigned", verdict(app, b, "2023-03-01"))
    eq("d first seen suspended", "unknown", verdict(app, d, "2024-02-01"))
    eq("bad", "unknown", verdict(app, bad, "2023-12-01"))


def case_events_out_of_order(c):
    a, b = fresh(c, 2)
    client = cl(c, c.cmcc)
    eq("activate", (1, 0, {}), post_events(client, [ev(a, "activate", "2024-05-01")]))
    eq("older event", (0, 0, {0: "OUT_OF_ORDER"}),
       post_events(client, [ev(a, "suspend", "2024-04-01")], "older event"))
    # within one request, a number's events are applied in time order
    eq("reversed in one request", (2, 0, {}),
       post_events(client, [ev(b, "suspend", "2024-06-01"), ev(b, "activate", "2024-01-01")]))
    eq("b", "reassigned", verdict(cl(c, c.app), b, "2023-12-31"))


def case_events_national_numbers_rfc3339_times_and_id6(c):
    a, b = fresh(c, 2)
    client = cl(c, c.cmcc)
    events = [ev(a[3:], "activate", "2024-01-01T02:00:00Z", "n-1", id6="12345X"),
              ev(b, "activate", "2024-01-01T10:00:00+08:00", "n-2"),
              ev(b[3:], "suspend", "2024-02-01T10:00:00.123+08:00", "n-3")]
    eq("applied", (3, 0, {}), post_events(client, events))
    app = cl(c, c.app)
    eq("national number stored as E.164", "reassigned", verdict(app, a, "2023-12-31"))
    eq("b", "unchanged", verdict(app, b, "2024-01-15"))


def case_events_roles(c):
    b = {"events": [ev(fresh(c)[0], "activate", "2024-01-01")]}
    expect_error(cl(c).post("/v1/events", b), 401, "UNAUTHENTICATED", "no key")
    expect_error(cl(c, "sn_" + "1" * 64).post("/v1/events", b), 401, "UNAUTHENTICATED", "unknown")
    expect_error(cl(c, c.revoked).post("/v1/events", b), 401, "UNAUTHENTICATED", "revoked")
    expect_error(cl(c, c.app).post("/v1/events", b), 403, "PERMISSION_DENIED", "app key")
    expect_error(cl(c, c.admin).post("/v1/events", b), 403, "PERMISSION_DENIED", "admin key")
    expect_error(cl(c, c.app).post("/v1/events", b"{bad"), 403, "PERMISSION_DENIED",
                 "app key, bad body")
    eq("nothing applied", "unknown", verdict(cl(c, c.app), b["events"][0]["number"], "2023-01-01"))


def case_events_not_carrier_of_record(c):
    (own,) = fresh(c)
    (theirs,) = fresh(c, prefix="+86186")
    nobody = "+8615000000001"
    events = [ev(theirs, "activate", "2024-01-01"), ev(own, "activate", "2024-01-01"),
              ev(nobody, "activate", "2024-01-01"), ev(N_SAME, "suspend", "2024-06-01")]
    got = post_events(cl(c, c.cmcc), events)
    eq("cmcc", (2, 0, {0: "NOT_CARRIER_OF_RECORD", 2: "NOT_CARRIER_OF_RECORD"}), got)
    app = cl(c, c.app)
    eq("theirs not applied", "unknown", verdict(app, theirs, "2023-01-01"))
    eq("nobody's not applied", "unknown", verdict(app, nobody, "2023-01-01"))
    eq("own applied", "reassigned", verdict(app, own, "2023-01-01"))
    # and the other way round
    got = post_events(cl(c, c.cucc), [ev(theirs, "activate", "2024-01-01"),
                                      ev(own, "suspend", "2024-02-01")], "cucc")
    eq("cucc", (1, 0, {1: "NOT_CARRIER_OF_RECORD"}), got)


def case_events_port_needs_port_out_from_the_carrier_of_record(c):
    (n,) = fresh(c)
    cmcc, cucc = cl(c, c.cmcc), cl(c, c.cucc)
    eq("cmcc activates", (1, 0, {}), post_events(cmcc, [ev(n, "activate", "2024-01-01")]))
    eq("cucc before the port", (0, 0, {0: "NOT_CARRIER_OF_RECORD"}),
       post_events(cucc, [ev(n, "suspend", "2024-02-01")], "cucc suspend before port"))
    eq("port_in without port_out", (0, 0, {0: "PORT_NOT_AUTHORIZED"}),
       post_events(cucc, [ev(n, "port_in", "2024-02-10")], "unauthorised port_in"))
    eq("only the carrier of record authorises", (0, 0, {0: "NOT_CARRIER_OF_RECORD"}),
       post_events(cucc, [ev(n, "port_out", "2024-02-11", to="cucc")], "port_out by cucc"))
    eq("still cmcc's", (1, 0, {}), post_events(cmcc, [ev(n, "suspend", "2024-02-12")], "cmcc"))
    bad = [ev(n, "port_out", "2024-02-20", to="nobody"), ev(n, "port_out", "2024-02-20", to="cmcc"),
           ev(n, "port_out", "2024-02-20"), ev(n, "resume", "2024-02-20", to="cucc"),
           ev(n, "port_out", "2024-02-20", to="c" * 65)]
    eq("bad port_outs", (0, 0, {i: "INVALID_ARGUMENT" for i in range(5)}),
       post_events(cmcc, bad, "bad port_outs"))
    out = ev(n, "port_out", "2024-03-01", "po-1", to="cucc")
    eq("cmcc authorises", (1, 0, {}), post_events(cmcc, [out], "port_out"))
    eq("port_out again", (0, 1, {}), post_events(cmcc, [out], "port_out retried"))
    eq("cucc port_in", (1, 0, {}), post_events(cucc, [ev(n, "port_in", "2024-03-02")], "port_in"))
    eq("cucc reports", (2, 0, {}),
       post_events(cucc, [ev(n, "resume", "2024-04-01"), ev(n, "suspend", "2024-05-01")], "after"))
    eq("the authorisation is used up", (0, 0, {0: "PORT_NOT_AUTHORIZED"}),
       post_events(cmcc, [ev(n, "port_in", "2024-05-02")], "port back without port_out"))
    app = cl(c, c.app)
    eq("the port keeps the tenure", "unchanged", verdict(app, n, "2024-02-15"))
    eq("before activation", "reassigned", verdict(app, n, "2023-12-31"))
    # a port_out and its port_in in one request, in time order, from the recipient's
    # point of view is two carriers: each posts its own; a stale authorisation
    # (another tenure) does not count
    (m,) = fresh(c)
    eq("m", (3, 0, {}), post_events(cmcc, [ev(m, "activate", "2024-01-01"),
                                           ev(m, "port_out", "2024-02-01", to="cucc"),
                                           ev(m, "cancel", "2024-03-01")], "m"))
    eq("m reissued", (1, 0, {}), post_events(cmcc, [ev(m, "activate", "2024-07-01")], "m again"))
    eq("stale authorisation", (0, 0, {0: "PORT_NOT_AUTHORIZED"}),
       post_events(cucc, [ev(m, "port_in", "2024-07-02")], "stale"))
    # a number outside the carrier's ranges, never seen before: not its to port in
    (u,) = fresh(c, prefix="+86150")
    eq("port_in unknown number", (0, 0, {0: "NOT_CARRIER_OF_RECORD"}),
       post_events(cucc, [ev(u, "port_in", "2024-03-01")]))


def case_events_id6_changes_only_with_a_tenure_or_a_port(c):
    (n,) = fresh(c)
    cmcc, cucc = cl(c, c.cmcc), cl(c, c.cucc)
    eq("activate with id6", (1, 0, {}),
       post_events(cmcc, [ev(n, "activate", "2024-01-01", id6="12345X")], "activate"))
    eq("same id6 again", (1, 0, {}),
       post_events(cmcc, [ev(n, "suspend", "2024-02-01", id6="12345X")], "same id6"))
    eq("another id6 in the tenure", (0, 0, {0: "PORT_NOT_AUTHORIZED"}),
       post_events(cmcc, [ev(n, "resume", "2024-03-01", id6="99999X")], "new id6"))
    eq("port_out takes no id6", (0, 0, {0: "INVALID_ARGUMENT"}),
       post_events(cmcc, [ev(n, "port_out", "2024-03-01", to="cucc", id6="99999X")], "po id6"))
    eq("authorised port with a new id6", (2, 0, {}),
       post_events(cmcc, [ev(n, "resume", "2024-03-01"), ev(n, "port_out", "2024-03-02", to="cucc")],
                   "resume + port_out"))
    eq("port_in with the new id6", (1, 0, {}),
       post_events(cucc, [ev(n, "port_in", "2024-03-03", id6="99999X")], "port_in id6"))
    eq("the new id6 holds", (1, 0, {}),
       post_events(cucc, [ev(n, "suspend", "2024-04-01", id6="99999X")], "after port"))


@h.timeout(240)
def case_events_a_history_past_8191_events_keeps_going(c):
    """No per-number limit a feed can reach: 8,301 events on one number (the
    events key holds 8,191), then the range owner's cancel still applies."""
    env = h.standard_env()
    n = "+8613800000777"
    rows = [(n, "activate", "2020-01-01T00:00:00+08:00", "h0")]
    for i in range(8300):
        at = "2020-01-02T%02d:%02d:%02d+08:00" % (i // 3600, i // 60 % 60, i % 60)
        rows.append((n, "suspend" if i % 2 == 0 else "resume", at, "h%d" % (i + 1)))
    p = env.import_feed(rows)
    assert "applied 8301, duplicate 0, rejected 0" in p.stdout, p.stdout + p.stderr[-500:]
    p = env.import_feed(rows)
    assert "applied 0, duplicate 8301, rejected 0" in p.stdout, p.stdout + p.stderr[-500:]
    h.run_cli("verify", "--db", env.db)
    key = env.key("carrier", "long-history", carrier="cmcc")
    app_key = env.key("app", "long-history-app")
    server = h.Server(env).start()
    try:
        cmcc = server.client(key)
        cancel = [ev(n, "cancel", "2021-01-01", "c1")]
        eq("cancel", (1, 0, {}), post_events(cmcc, cancel, "cancel after 8,301 events"))
        eq("cancel again", (0, 1, {}), post_events(cmcc, cancel, "cancel retried"))
        app = server.client(app_key)
        eq("verdict", "disconnected", verdict(app, n, "2020-06-01"))
    finally:
        server.stop(expect_rc=0)
    h.run_cli("verify", "--db", env.db)


def case_events_of_one_number_in_one_request_are_bounded(c):
    (n,) = fresh(c)
    client = cl(c, c.cmcc)
    events = [ev(n, "activate", "2024-01-01T00:00:00+08:00")]
    events += [ev(n, "suspend" if i % 2 == 0 else "resume", "2024-01-02T00:%02d:%02d+08:00" % (i // 60, i % 60))
               for i in range(64)]
    r = client.post("/v1/events", {"events": events})
    d = expect_error(r, 400, "INVALID_ARGUMENT", "65 events of one number")
    assert "64 events for one number" in d["message"] and "events[64]" in d["message"], d["message"]
    eq("nothing applied", "unknown", verdict(cl(c, c.app), n, "2023-01-01"))
    eq("64 are fine", (64, 0, {}), post_events(client, events[:64], "64 events"))


def case_events_bad_envelopes_are_400(c):
    client = cl(c, c.cmcc)
    one = [ev(fresh(c)[0], "activate", "2024-01-01")]
    for b in ({"events": []}, {}, {"events": None}, {"events": {}}, {"events": "x"},
              {"event": one}, {"events": one, "extra": 1}, one):
        expect_error(client.post("/v1/events", b), 400, "INVALID_ARGUMENT", repr(b)[:80])
    for raw in (b"", b"{", b'{"events": [}', b"null"):
        expect_error(client.post("/v1/events", raw), 400, "INVALID_ARGUMENT", repr(raw))
    eq("nothing applied", "unknown", verdict(cl(c, c.app), one[0]["number"], "2023-01-01"))


@h.timeout(180)
def case_events_10000_ok_10001_is_400(c):
    client = cl(c, c.cmcc)
    nums = fresh(c, 10001)
    too_many = [ev(n, "activate", "2024-01-01") for n in nums]
    expect_error(client.post("/v1/events", {"events": too_many}), 400, "INVALID_ARGUMENT", "10001")
    app = cl(c, c.app)
    eq("nothing of the 10001 applied", "unknown", verdict(app, nums[0], "2023-01-01"))
    before = expect_json(cl(c).get("/healthz"))["numbers"]
    eq("10000", (10000, 0, {}), post_events(client, too_many[:10000], "10000"))
    after = expect_json(cl(c).get("/healthz"))["numbers"]
    eq("healthz numbers grew by", 10000, after - before)
    for n in (nums[0], nums[4999], nums[9999]):
        eq(n, "reassigned", verdict(app, n, "2023-12-31"))


# ---------------------------------------------------------------------------
# admin


def case_admin_carriers_add_and_list(c):
    client = cl(c, c.admin)
    r = client.post("/v1/admin/carriers", {"name": "ctcc", "ranges": ["+86133"]})
    d = expect_json(r, 201, "add ctcc")
    eq("answer keys", {"name", "ranges"}, set(d))
    eq("name", "ctcc", d["name"])
    assert "+86133" in d["ranges"], d
    d = expect_json(client.post("/v1/admin/carriers", {"name": "ctcc", "ranges": ["+86153", "+86189"]}),
                    201, "add ranges to ctcc")
    eq("name", "ctcc", d["name"])
    assert {"+86153", "+86189"} <= set(d["ranges"]), d
    lst = expect_json(client.get("/v1/admin/carriers"), 200, "list")
    eq("list keys", {"carriers"}, set(lst))
    by = {}
    for e in lst["carriers"]:
        eq("carrier entry keys", {"name", "ranges"}, set(e))
        by[e["name"]] = set(e["ranges"])
    eq("ctcc ranges", {"+86133", "+86153", "+86189"}, by.get("ctcc"))
    eq("cmcc ranges", {"+86138"}, by.get("cmcc"))
    eq("cucc ranges", {"+86186"}, by.get("cucc"))
    # the CLI sees them too
    out = h.run_cli("carriers", "list", "--db", c.env.db).stdout
    for p in ("+86133", "+86153", "+86189"):
        assert p in out, "carriers list does not show %s:\n%s" % (p, out)


def case_admin_carrier_and_key_end_to_end(c):
    admin = cl(c, c.admin)
    expect_json(admin.post("/v1/admin/carriers", {"name": "e2e", "ranges": ["+86177"]}), 201)
    d = expect_json(admin.post("/v1/admin/keys", {"role": "carrier", "name": "e2e-feed",
                                                 "carrier": "e2e"}), 201, "carrier key")
    assert {"id", "key", "role", "name"} <= set(d) <= {"id", "key", "role", "name", "carrier",
                                                       "rate_per_s", "rate_per_day"}, d
    eq("role", "carrier", d["role"])
    (own,) = fresh(c, prefix="+86177")
    (other,) = fresh(c)
    got = post_events(cl(c, d["key"]), [ev(own, "activate", "2024-01-01"),
                                        ev(other, "activate", "2024-01-01")])
    eq("new carrier's events", (1, 0, {1: "NOT_CARRIER_OF_RECORD"}), got)
    eq("own", "reassigned", verdict(cl(c, c.app), own, "2023-01-01"))


def case_admin_keys_create_use_revoke(c):
    admin = cl(c, c.admin)
    d = expect_json(admin.post("/v1/admin/keys", {"role": "app", "name": "api-made"}), 201, "create")
    eq("answer keys", {"id", "key", "role", "name", "rate_per_s", "rate_per_day"}, set(d))
    eq("default limits", (None, None), (d["rate_per_s"], d["rate_per_day"]))
    assert type(d["id"]) is int and d["id"] > 0, d
    assert isinstance(d["key"], str) and d["key"].startswith("sn_") and len(d["key"]) > 10, d
    eq("role/name", ("app", "api-made"), (d["role"], d["name"]))
    kid, key = d["id"], d["key"]
    user = cl(c, key)
    eq("new key works", "unchanged", verdict(user, N_SAME, "2023-12-22"))
    listed = [e for e in expect_json(admin.get("/v1/admin/keys"), 200, "list")["keys"] if e.get("id") == kid]
    eq("listed", [("api-made", "app", False)], [(e.get("name"), e.get("role"), e.get("revoked")) for e in listed])
    r = admin.delete("/v1/admin/keys/%d" % kid)
    eq("revoke answer", {"id": kid, "revoked": True}, expect_json(r, 200, "revoke"))
    # at once, on the connection that used it before
    r = user.post("/v1/check", {"number": N_SAME, "date": "2023-12-22"})
    expect_error(r, 401, "UNAUTHENTICATED", "right after the API revoke")
    expect_error(cl(c, key).post("/v1/check", {"number": N_SAME, "date": "2023-12-22"}), 401,
                 "UNAUTHENTICATED", "new connection after the API revoke")
    lst = expect_json(admin.get("/v1/admin/keys"), 200)
    eq("listed as revoked", [True], [e["revoked"] for e in lst["keys"] if e["id"] == kid])


def case_admin_keys_list_shape(c):
    lst = expect_json(cl(c, c.admin).get("/v1/admin/keys"), 200, "list")
    eq("list keys", {"keys"}, set(lst))
    by_name = {}
    for e in lst["keys"]:
        assert c.app not in json.dumps(e) and c.cmcc not in json.dumps(e), "the key list discloses a key"
        by_name[e.get("name")] = e
    eq("app key entry", {"id": by_name["http-app"].get("id"), "name": "http-app", "role": "app",
                         "revoked": False, "rate_per_s": None, "rate_per_day": None},
       by_name.get("http-app"))
    eq("CLI-revoked key entry", True, by_name["http-revoked"].get("revoked"))
    for e in lst["keys"]:
        assert type(e.get("id")) is int, e
        extra = set(e) - {"id", "name", "role", "carrier", "revoked", "rate_per_s", "rate_per_day"}
        assert not extra, "key entry %r has fields beyond id/name/role/carrier?/revoked/rate_per_s/rate_per_day: %s" % (e, sorted(extra))
    eq("carrier key entry", {"id": by_name["http-cmcc"]["id"], "name": "http-cmcc", "role": "carrier",
                             "carrier": "cmcc", "revoked": False, "rate_per_s": None,
                             "rate_per_day": None}, by_name.get("http-cmcc"))


def case_admin_keys_of_every_role(c):
    admin = cl(c, c.admin)
    d = expect_json(admin.post("/v1/admin/keys", {"role": "admin", "name": "admin2"}), 201)
    expect_json(cl(c, d["key"]).get("/v1/admin/keys"), 200, "new admin key")
    d = expect_json(admin.post("/v1/admin/keys", {"role": "carrier", "name": "cm2", "carrier": "cmcc"}), 201)
    (n,) = fresh(c)
    eq("new carrier key", (1, 0, {}), post_events(cl(c, d["key"]), [ev(n, "activate", "2024-01-01")]))


@h.timeout(60)
def case_admin_key_revoked_by_cli_stops_within_1_5_s(c):
    admin = cl(c, c.admin)
    d = expect_json(admin.post("/v1/admin/keys", {"role": "app", "name": "cli-revoked"}), 201)
    user = cl(c, d["key"])
    body = {"number": N_SAME, "date": "2023-12-22"}
    expect_json(user.post("/v1/check", body), 200, "before revoke")
    h.run_cli("keys", "revoke", "--db", c.env.db, d["id"])
    t0 = time.monotonic()
    while True:
        r = user.post("/v1/check", body)
        if r.status == 401:
            expect_error(r, 401, "UNAUTHENTICATED")
            break
        expect_json(r, 200, "before it takes effect")
        if time.monotonic() - t0 > 1.5:
            raise AssertionError("a key revoked with the CLI still works after 1.5 s")
        time.sleep(0.05)
    # and it stays revoked, on a new connection too
    expect_error(cl(c, d["key"]).post("/v1/check", body), 401, "UNAUTHENTICATED", "new connection")


def case_admin_roles(c):
    for key, status, code in ((None, 401, "UNAUTHENTICATED"), (c.revoked, 401, "UNAUTHENTICATED"),
                              (c.app, 403, "PERMISSION_DENIED"), (c.cmcc, 403, "PERMISSION_DENIED")):
        client = cl(c, key)
        for method, path, body in (("GET", "/v1/admin/keys", None), ("GET", "/v1/admin/carriers", None),
                                   ("POST", "/v1/admin/keys", {"role": "admin", "name": "evil"}),
                                   ("POST", "/v1/admin/carriers", {"name": "evil", "ranges": ["+8613"]}),
                                   ("DELETE", "/v1/admin/keys/999999", None)):
            kw = {"json_body": body} if body is not None else {}
            expect_error(client.request(method, path, **kw), status, code,
                         "%s %s with %s" % (method, path, key and key[:8]))
    lst = expect_json(cl(c, c.admin).get("/v1/admin/keys"))
    assert all(e["name"] != "evil" for e in lst["keys"]), "a non-admin created a key"
    lst = expect_json(cl(c, c.admin).get("/v1/admin/carriers"))
    assert all(e["name"] != "evil" for e in lst["carriers"]), "a non-admin created a carrier"


def case_admin_bad_bodies_are_400(c):
    admin = cl(c, c.admin)
    for b in ({"role": "root", "name": "x"}, {"role": "app"}, {"name": "x"}, {"role": "app", "name": 5},
              {"role": "app", "name": "x", "extra": 1}, {"role": ["app"], "name": "x"}, []):
        expect_error(admin.post("/v1/admin/keys", b), 400, "INVALID_ARGUMENT", "keys %r" % (b,))
    for b in ({"ranges": ["+86130"]}, {"name": "x"}, {"name": "x", "ranges": "+86130"},
              {"name": "x", "ranges": [86130]}, {"name": "x", "ranges": ["+86130"], "extra": 1},
              {"name": 7, "ranges": ["+86130"]}, []):
        expect_error(admin.post("/v1/admin/carriers", b), 400, "INVALID_ARGUMENT", "carriers %r" % (b,))
    for raw in (b"", b"{"):
        expect_error(admin.post("/v1/admin/keys", raw), 400, "INVALID_ARGUMENT", repr(raw))
        expect_error(admin.post("/v1/admin/carriers", raw), 400, "INVALID_ARGUMENT", repr(raw))


# ---------------------------------------------------------------------------
# limits


def _send_oversized(c, path, key, total, chunked=False):
    """Send a request whose body is `total` bytes; returns the response or None."""
    raw = c.server.raw(timeout=30)
    corr = h.new_correlator()
    head = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1", "Authorization: Bearer " + key,
            "Content-Type: application/json", "x-correlator: " + corr]
    head.append("Transfer-Encoding: chunked" if chunked else "Content-Length: %d" % total)
    raw.send(("\r\n".join(head) + "\r\n\r\n").encode())
    resp = None
    if not chunked and raw.poll(1.0):  # a server may answer from Content-Length alone
        resp = raw.read_response(30)
    if resp is None:
        block = b" " * MIB
        sent = 0
        while sent < total:
            n = min(MIB, total - sent)
            data = block[:n]
            if chunked:
                data = b"%x\r\n" % n + data + b"\r\n"
            if not raw.send(data):
                break
            sent += n
        else:
            if chunked:
                raw.send(b"0\r\n\r\n")
        try:
            resp = raw.read_response(30)
        except (socket.timeout, ConnectionResetError) as e:
            raise AssertionError("no response to a %d-byte body: %r" % (total, e))
    raw.close()
    if resp is not None:
        resp.sent_correlator = corr
    return resp


@h.timeout(90)
def case_body_over_8_mib_is_413(c):
    for path, key in (("/v1/check/batch", c.app), ("/v1/events", c.cmcc), (CAMARA, c.app)):
        resp = _send_oversized(c, path, key, 8 * MIB + 1)
        assert resp is not None, "%s: connection closed without a response" % path
        expect_error(resp, 413, "PAYLOAD_TOO_LARGE", path)
        eq("%s: x-correlator" % path, resp.sent_correlator, resp.header("x-correlator"))
    expect_json(cl(c).get("/healthz"), 200, "healthz afterwards")


@h.timeout(90)
def case_chunked_body_over_8_mib_is_413(c):
    resp = _send_oversized(c, "/v1/check/batch", c.app, 9 * MIB, chunked=True)
    assert resp is not None, "connection closed without a response"
    expect_error(resp, 413, "PAYLOAD_TOO_LARGE", "chunked")
    expect_json(cl(c).get("/healthz"), 200, "healthz afterwards")


@h.timeout(90)
def case_body_of_exactly_8_mib_is_accepted(c):
    body = json.dumps({"items": [{"number": N_NEW, "date": "2023-12-22"}]}).encode()
    body += b" " * (8 * MIB - len(body))
    eq("body size", 8 * MIB, len(body))
    r = cl(c, c.app).post("/v1/check/batch", body)
    d = expect_json(r, 200, "8 MiB body")
    eq("result", [{"number": N_NEW, "date": "2023-12-22", "result": "reassigned"}], d["results"])


def case_json_nested_33_deep_is_400(c):
    def nest(depth):
        return ("[" * depth + "]" * depth).encode()

    def nest_obj(depth):
        return ('{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)).encode()

    items33 = ('{"items":[{"number":"+8613800000001","date":"2023-12-22","x":'
               + "[" * 30 + "]" * 30 + "}]}").encode()   # 1 + 1 + 1 + 30 = 33 levels
    for path, key in ((CAMARA, c.app), ("/v1/check", c.app), ("/v1/check/batch", c.app),
                      ("/v1/events", c.cmcc), ("/v1/admin/keys", c.admin)):
        client = cl(c, key)
        for body in (nest(33), nest_obj(33), items33, nest(100000), nest_obj(20000)):
            expect_error(client.post(path, body), 400, "INVALID_ARGUMENT",
                         "%s, %d-byte nested body" % (path, len(body)))
    expect_json(cl(c).get("/healthz"), 200, "healthz afterwards")


def _allow(resp):
    return {m.strip().upper() for v in resp.header_all("allow") for m in v.split(",") if m.strip()}


def case_wrong_method_is_405_with_allow(c):
    cases = [("GET", "/v1/check", c.app, {"POST"}), ("PUT", "/v1/check", c.app, {"POST"}),
             ("GET", "/v1/check/batch", c.app, {"POST"}), ("GET", "/v1/events", c.cmcc, {"POST"}),
             ("DELETE", "/v1/events", c.cmcc, {"POST"}), ("GET", CAMARA, c.app, {"POST"}),
             ("POST", "/healthz", None, {"GET"}), ("DELETE", "/openapi.yaml", None, {"GET"}),
             ("PUT", "/v1/admin/keys", c.admin, {"GET", "POST"}),
             ("DELETE", "/v1/admin/carriers", c.admin, {"GET", "POST"}),
             ("GET", "/v1/admin/keys/1", c.admin, {"DELETE"}),
             ("PATCH", "/v1/admin/keys/1", c.admin, {"DELETE"})]
    for method, path, key, allowed in cases:
        client = cl(c, key)
        kw = {"json_body": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = client.request(method, path, **kw)
        what = "%s %s" % (method, path)
        expect_error(r, 405, "METHOD_NOT_ALLOWED", what)
        got = _allow(r)
        assert got, "%s: 405 without an Allow header" % what
        assert allowed <= got and method not in got, "%s: Allow %r, expected %s" % (
            what, r.header_all("allow"), sorted(allowed))


def case_unknown_path_is_404(c):
    # "/" itself is the subscriber portal since issue 5 (subscriber_suite.py)
    for method, path in (("POST", "/"), ("GET", "/v1"), ("POST", "/v1/checks"), ("POST", "/v2/check"),
                         ("POST", "/number-recycling/v0.1/check"), ("POST", "/number-recycling/v0.2/check/x"),
                         ("GET", "/healthz/x"), ("GET", "/v1/admin"), ("GET", "/v1/admin/users"),
                         ("GET", "/openapi.json"), ("GET", "/%2e%2e/etc/passwd"), ("GET", "/v1/check%00")):
        for key in (c.app, c.admin):
            kw = {"json_body": {}} if method == "POST" else {}
            r = cl(c, key).request(method, path, **kw)
            expect_error(r, 404, "NOT_FOUND", "%s %s" % (method, path))


def case_non_json_content_type_is_415(c):
    posts = [(CAMARA, c.app, {"phoneNumber": N_SAME, "specifiedDate": "2023-12-22"}),
             ("/v1/check", c.app, {"number": N_SAME, "date": "2023-12-22"}),
             ("/v1/check/batch", c.app, {"items": [{"number": N_SAME, "date": "2023-12-22"}]}),
             ("/v1/events", c.cmcc, {"events": [ev(N_SAME, "suspend", "2030-01-01")]}),
             ("/v1/admin/keys", c.admin, {"role": "app", "name": "ct"}),
             ("/v1/admin/carriers", c.admin, {"name": "ct", "ranges": ["+86130"]})]
    for path, key, body in posts:
        client = cl(c, key)
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml",
                   "multipart/form-data; boundary=x", "application/jsonx", "text/json"):
            r = client.post(path, body, content_type=ct)
            expect_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "%s with %s" % (path, ct))
    client = cl(c, c.app)
    for ct in ("application/json; charset=utf-8", "application/JSON", "Application/Json;charset=UTF-8"):
        r = client.post("/v1/check", {"number": N_SAME, "date": "2023-12-22"}, content_type=ct)
        eq("result with %s" % ct, "unchanged", expect_json(r, 200, ct)["result"])


def case_body_without_content_type_is_415(c):
    for path, key, body in ((CAMARA, c.app, {"phoneNumber": N_SAME, "specifiedDate": "2023-12-22"}),
                            ("/v1/check", c.app, {"number": N_SAME, "date": "2023-12-22"}),
                            ("/v1/events", c.cmcc, {"events": [ev(N_SAME, "suspend", "2030-01-01")]})):
        r = cl(c, key).post(path, body, content_type=None)
        expect_error(r, 415, "UNSUPPORTED_MEDIA_TYPE", "%s without Content-Type" % path)
    r = cl(c, c.app).post("/v1/check", {"number": N_SAME, "date": "2023-12-22"})
    eq("the same body with a Content-Type", "unchanged", expect_json(r, 200, "typed")["result"])


def case_invalid_json_message_says_so_once(c):
    for body in (b"{", b"not json", b"[1,", b'{"number": }'):
        r = cl(c, c.app).post("/v1/check", body)
        d = expect_error(r, 400, "INVALID_ARGUMENT", "body %r" % body)
        msg = d["message"].lower()
        assert "json" in msg and "not not" not in msg, "message %r" % d["message"]


def case_head_is_answered_like_get(c):
    for path in ("/healthz", "/openapi.yaml"):
        got = cl(c).get(path)
        eq("GET %s" % path, 200, got.status)
        raw = c.server.raw(timeout=10)
        try:
            # HEAD then GET on one connection: the GET's answer must follow
            # the HEAD's head directly (no body in between)
            raw.send(h.request_bytes("HEAD", path, body=None, content_type=None) +
                     h.request_bytes("GET", path, body=None, content_type=None))
            deadline = time.monotonic() + 5
            while raw.buf.count(b"HTTP/1.1 ") < 2 and time.monotonic() < deadline:
                try:
                    if not raw._fill(1):
                        break
                except socket.timeout:
                    pass
        finally:
            raw.close()
        head, _, rest = raw.buf.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), "HEAD %s: %r" % (path, head[:80])
        assert rest.startswith(b"HTTP/1.1 200"), "HEAD %s: a body or nothing after the head: %r" % (
            path, rest[:80])
    r = cl(c, c.app).request("HEAD", "/v1/check")
    eq("HEAD on a POST-only route", 405, r.status)
    assert "HEAD" not in _allow(r), "Allow of a POST-only route offers HEAD: %r" % r.header_all("allow")


@h.timeout(30)
def case_startup_listen_port_out_of_range_exits_2(c):
    for listen in ("127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x"):
        d = h.Env(init=False)
        p = subprocess.run([h.SECONDNUM, "serve", "--db", d.db, "--listen", listen],
                           capture_output=True, text=True, timeout=10)
        eq("exit status for --listen %s" % listen, 2, p.returncode)
        assert "listen" in p.stderr.lower() and "port" in p.stderr.lower(), "message: %r" % p.stderr
        assert not os.path.exists(d.db), "--listen %s: a store was created before the flag was checked" % listen


@h.timeout(40)
def case_half_a_request_head_is_disconnected(c):
    raw = c.server.raw(timeout=25)
    raw.send(b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
    took = raw.wait_closed(20)
    raw.close()
    assert took is not None, "a half-sent request head still holds the connection after 20 s"
    assert took <= 15, "disconnected only after %.1f s" % took
    expect_json(cl(c).get("/healthz"), 200, "healthz afterwards")


@h.timeout(40)
def case_half_a_body_is_disconnected(c):
    raw = c.server.raw(timeout=25)
    raw.send(h.request_bytes("POST", "/v1/check", b'{"number": "+8613800000001", "da', key=c.app,
                             content_length=200))
    took = raw.wait_closed(20)
    raw.close()
    assert took is not None, "a half-sent body still holds the connection after 20 s"
    assert took <= 15, "disconnected only after %.1f s" % took


@h.timeout(40)
def case_idle_keep_alive_connection_is_closed(c):
    raw = c.server.raw(timeout=25)
    raw.send(h.request_bytes("GET", "/healthz", body=None, content_type=None))
    r = raw.read_response(10)
    eq("healthz", 200, r.status)
    took = raw.wait_closed(20)
    raw.close()
    assert took is not None, "an idle keep-alive connection is still open after 20 s"
    assert took <= 15, "closed only after %.1f s idle" % took


@h.timeout(40)
def case_stalled_clients_do_not_block_others(c):
    stalled = []
    try:
        for i in range(20):
            r = c.server.raw(timeout=25)
            r.send(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            stalled.append(r)
        client = cl(c, c.app)
        t0 = time.monotonic()
        for _ in range(20):
            eq("check", "unchanged", verdict(client, N_SAME, "2023-12-22"))
        assert time.monotonic() - t0 < 5, "20 checks took %.1f s beside stalled clients" % (
            time.monotonic() - t0)
    finally:
        for r in stalled:
            r.close()


def case_header_block_over_16_kib_is_431(c):
    body = json.dumps({"number": N_SAME, "date": "2023-12-22"}).encode()
    echoes = []
    for headers in ({"X-Pad": "a" * (17 * 1024)},
                    {"X-Pad-%d" % i: "b" * 1024 for i in range(20)}):
        raw = c.server.raw(timeout=20)
        corr = h.new_correlator()
        raw.send(h.request_bytes("POST", "/v1/check", body, key=c.app, headers=headers, correlator=corr))
        r = raw.read_response(20)
        raw.close()
        assert r is not None, "closed without a response"
        expect_error(r, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE", "%d header(s)" % len(headers))
        echoes.append((corr, r.header("x-correlator")))
    # just under the limit is fine
    raw = c.server.raw(timeout=20)
    raw.send(h.request_bytes("POST", "/v1/check", body, key=c.app, headers={"X-Pad": "c" * (14 * 1024)}))
    r = raw.read_response(20)
    raw.close()
    eq("14 KiB of headers", 200, r and r.status)
    expect_json(cl(c).get("/healthz"), 200, "healthz afterwards")
    for sent, got in echoes:
        eq("x-correlator echoed on the 431", sent, got)


def _error_or_close(c, data, what):
    raw = c.server.raw(timeout=20)
    raw.send(data)
    try:
        r = raw.read_response(20)
    except (socket.timeout, ConnectionResetError, AssertionError) as e:
        if isinstance(e, socket.timeout):
            raise AssertionError("%s: neither an answer nor a close within 20 s" % what)
        r = None
    finally:
        raw.close()
    if r is not None:
        assert 400 <= r.status < 500, "%s: answered %d" % (what, r.status)
    return r


def case_huge_or_malformed_requests_never_crash(c):
    big = h.request_bytes("GET", "/healthz", body=None, content_type=None, headers={"X-Big": "d" * (600 * 1024)})
    _error_or_close(c, big, "600 KiB header")
    many = h.request_bytes("GET", "/healthz", body=None, content_type=None,
                           headers={"X-H%d" % i: "v" for i in range(300)})
    _error_or_close(c, many, "300 header fields")
    _error_or_close(c, ("GET /" + "a" * (500 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n").encode(), "500 KiB URL")
    _error_or_close(c, b"GARBAGE\r\n\r\n", "garbage request line")
    _error_or_close(c, b"\x00\x01\x02\xff" * 1000 + b"\r\n\r\n", "binary junk")
    _error_or_close(c, b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "negative length")
    _error_or_close(c, b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                    "huge length")
    _error_or_close(c, b"POST /v1/check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    "bad chunk")
    for _ in range(3):
        expect_json(cl(c).get("/healthz"), 200, "healthz afterwards")


def case_every_error_has_the_camara_shape(c):
    """A sweep: every endpoint x {no key, wrong role, bad body}: CAMARA body, echo."""
    endpoints = [("POST", CAMARA, c.app, c.cmcc), ("POST", "/v1/check", c.app, c.admin),
                 ("POST", "/v1/check/batch", c.app, c.cmcc), ("POST", "/v1/events", c.cmcc, c.app),
                 ("POST", "/v1/admin/keys", c.admin, c.app), ("POST", "/v1/admin/carriers", c.admin, c.cmcc),
                 ("GET", "/v1/admin/keys", c.admin, c.app), ("GET", "/v1/admin/carriers", c.admin, c.cmcc),
                 ("DELETE", "/v1/admin/keys/999999", c.admin, c.app)]
    seen = 0
    for method, path, right, wrong in endpoints:
        for key, status in ((None, 401), ("sn_x", 401), (wrong, 403)):
            kw = {"body": b"{}"} if method == "POST" else {}
            r = cl(c, key).request(method, path, **kw)
            eq("%s %s with key %r: status" % (method, path, key and key[:6]), status, r.status)
            h.check_error_shape(r)
            seen += 1
        if method == "POST":
            for body in (b"{", b"[1]", b'{"zzz": 1}'):
                r = cl(c, right).request(method, path, body=body)
                expect_error(r, 400, "INVALID_ARGUMENT", "%s %s %r" % (method, path, body))
                seen += 1
    assert seen > 30


def case_keep_alive_connection_is_reused(c):
    client = cl(c, c.app)
    for i in range(30):
        if i % 3 == 0:
            expect_json(client.get("/healthz"))
        elif i % 3 == 1:
            eq("check", "reassigned", verdict(client, N_NEW, "2023-12-22"))
        else:
            r = client.post("/v1/check/batch", {"items": [{"number": N_SAME, "date": "2023-12-22"}]})
            expect_json(r)
    eq("TCP connections for 30 requests", 1, client.connects)


# ---------------------------------------------------------------------------
# shutdown and start-up (own servers)


def _bulk_env(n):
    env = h.Env()
    env.add_carrier("bulk", "+86137")
    key = env.key("carrier", "bulk-feed", carrier="bulk")
    app = env.key("app", "bulk-app")
    nums = ["+86137%08d" % i for i in range(n)]
    body = json.dumps({"events": [ev(x, "activate", "2024-01-01T10:00:00+08:00", "b-%d" % i)
                                  for i, x in enumerate(nums)]}).encode()
    return env, key, app, nums, body


def _check_after_restart(env, app, nums, expected_numbers):
    s = h.Server(env).start()
    try:
        d = expect_json(s.client().get("/healthz"), 200, "healthz after restart")
        eq("numbers after restart", expected_numbers, d["numbers"])
        client = s.client(app)
        for n in (nums[0], nums[len(nums) // 2], nums[-1]):
            eq("%s after restart" % n, "reassigned", verdict(client, n, "2023-12-31"))
    finally:
        s.stop(expect_rc=0)


@h.timeout(120)
def case_sigterm_during_large_events_request(c):
    env, key, app, nums, body = _bulk_env(10000)
    s = h.Server(env).start()
    raw = s.raw(timeout=60)
    raw.send(h.request_bytes("POST", "/v1/events", body, key=key))
    time.sleep(0.02)
    s.terminate()
    r = raw.read_response(60)
    raw.close()
    assert r is not None, "the in-flight request got no answer"
    d = expect_json(r, 200, "in-flight events")
    eq("applied", (10000, 0, []), (d["applied"], d["duplicates"], d["rejected"]))
    rc = s.wait(10)
    eq("exit status within 10 s of SIGTERM", 0, rc)
    assert not h.SANITIZER_RE.search(s.stderr()), s.stderr()[-3000:]
    _check_after_restart(env, app, nums, 10000)


@h.timeout(120)
def case_sigterm_while_a_body_is_still_arriving(c):
    env, key, app, nums, body = _bulk_env(10000)
    s = h.Server(env).start()
    raw = s.raw(timeout=60)
    data = h.request_bytes("POST", "/v1/events", body, key=key)
    raw.send(data[:-4096])
    time.sleep(0.3)
    s.terminate()
    time.sleep(0.3)
    raw.send(data[-4096:])
    r = raw.read_response(60)
    raw.close()
    assert r is not None, "the in-flight request got no answer"
    d = expect_json(r, 200, "in-flight events")
    eq("applied", (10000, 0, []), (d["applied"], d["duplicates"], d["rejected"]))
    eq("exit status within 10 s of SIGTERM", 0, s.wait(10))
    _check_after_restart(env, app, nums, 10000)


@h.timeout(60)
def case_sigterm_idle_server_exits_0(c):
    env = h.standard_env()
    s = h.Server(env).start()
    client = s.client()
    expect_json(client.get("/healthz"))  # leaves an idle keep-alive connection open
    eq("exit status", 0, s.stop(expect_rc=None))
    assert not h.SANITIZER_RE.search(s.stderr()), s.stderr()[-3000:]


@h.timeout(30)
def case_startup_port_in_use(c):
    env = h.standard_env()
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind((h.HOST, 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        p = subprocess.run([h.SECONDNUM, "serve", "--db", env.db, "--listen", "%s:%d" % (h.HOST, port),
                            "--threads", "2"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("serve on a port in use did not exit within 10 s")
    finally:
        holder.close()
    eq("exit status", 1, p.returncode)
    err = p.stderr.lower()
    assert ("in use" in err or "eaddrinuse" in err) and str(port) in err, \
        "unclear message for a port in use: %r" % p.stderr


@h.timeout(30)
def case_startup_db_not_sqlite(c):
    env = h.standard_env()  # a real store, so that only the database itself is wrong
    junk = b"this is not a SQLite database, just text\n" * 200
    with open(env.db, "wb") as f:
        f.write(junk)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(env.db + suffix):
            os.remove(env.db + suffix)
    port = h.free_port()
    try:
        p = subprocess.run([h.SECONDNUM, "serve", "--db", env.db, "--listen", "%s:%d" % (h.HOST, port),
                            "--threads", "2"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("serve on a non-SQLite --db did not exit within 10 s")
    eq("exit status", 1, p.returncode)
    err = p.stderr.lower()
    assert p.stderr.strip(), "no message on stderr"
    assert env.db.lower() in err or "database" in err or "sqlite" in err, \
        "unclear message for a non-SQLite --db: %r" % p.stderr
    assert "database" in err or "sqlite" in err or "not a" in err, "unclear message: %r" % p.stderr
    with open(env.db, "rb") as f:
        eq("the file is left alone", junk, f.read())


if __name__ == "__main__":
    h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
