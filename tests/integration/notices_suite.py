"""notices_suite.py - issue 4 (bindings, unbind notices, acknowledgements, the
reissue guard, webhooks, subscriptions, the disconnections feed, the admin
views, tenant isolation) against a real `secondnum serve`, written from the
contract in docs/http-api.md ("Bindings and notices (issue 4)").

Each case makes its own store (carrier "cm" owns +86137; app keys "app-a" and
"app-b", an admin key "ops") and its own server on a free loopback port, so
one case's notices and deliveries never show in another's. Webhook cases
use a real receiver on loopback (webhook_receiver.py) that verifies every
Secondnum-Signature with the app's secret.

Assumptions about the contract (where it is silent or ambiguous):
- serve flags: --notice-deadline DAYS (decimals, e.g. 0.0001 = 8.64 s),
  --retry-budget SECONDS, --retry-base-ms MS; the retry delay starts at
  --retry-base-ms and never exceeds the budget by much, so with 100 ms a
  failing delivery is retried within a few seconds.
- The lifecycle rules of the store default (86, 90 days minimum aging,
  +08:00): events are placed in the past (activate 400 days ago, cancel
  200 days ago, reissue 1 hour ago).
- A number's tenure counts activations that start a subscriber (1 after the
  first activate, 2 after a reissue); suspend/resume keep it; a binding made
  before a number's first record has tenure 0; a number never reported has
  current tenure 0.
- Notice ids are decimal strings ("42"), ascending in issue order.
- A notice object has exactly the keys shown in the contract (admin views add
  "app"); a binding entry exactly account_hash/bound_at/tenure/current (plus
  "account" with ?account=); a delivery exactly notice_id/state/attempts/
  last_error/next_attempt_at (admin adds "app"); GET /v1/webhook exactly
  url/pending/delivered/dead; an /v1/admin/apps entry exactly the ten keys.
- The `tenure` of a number_reassigned notice is not checked (the binding's
  or the new one: the contract does not say); for number_cancelled it is the
  cancelled tenure. Its `event` is "activate" (the carrier's word) or
  "reissue": the contract shows only "cancel"; either is accepted.
- PUT /v1/webhook answers {"url"}; the GET counts beside it are tolerated,
  the secret never is.
- A key made with `keys create` while serve runs is picked up within about a
  second (as revocation is): second keys of an app are made before start.
- A future bound_at is 400 with INVALID_ARGUMENT (the bindings section) or
  OUT_OF_RANGE (the general table): either is accepted. The same for a future
  `since` in the disconnections feed, which has a case of its own
  (disconnections_future_since_is_400: the conventions table's "a date in
  the future" rule; the feed's own section does not repeat it).
- "Names its index": the error message of an all-or-nothing rejection
  contains the index as a number.
- The REISSUE_HELD reason contains the number of apps as a word and the day
  (YYYY-MM-DD, UTC or +08:00) of the open notices' deadline.
- Subscription notices (no deadline) are not assumed to hold or release the
  reissue guard: the subscription case reissues with "force": true.
- ack_rate is acknowledged/notices, as a fraction (0..1) or a percentage.
  "webhook" in /v1/admin/apps is truthy when the app has one, falsy else.
  "bindings" counts the app's bindings, "numbers" the distinct numbers they
  are on, "notices" all its notices, "acknowledged"/"overdue" those in
  that state.
- The disconnections feed pages with `after` (the contract's name; the issue
  text says `cursor`) and reports days in cancelled_on / reissued_on (the
  contract's fields), in number order, `next` null on the last page.
- A webhook delivery's body is the notice JSON as GET /v1/notices/{id}
  shows it at issue (state may differ later, so only the stable fields are
  compared). A dead delivery is not attempted again.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
"""

import datetime
import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_error, expect_json  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

RANGE = "+86137"
STORE_TZ = h.STORE_TZ
UTC = datetime.timezone.utc
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
DEADLINE_DAYS = 5

NOTICE_KEYS = {"id", "kind", "critical", "number", "event", "event_at", "tenure", "source",
               "account_hash", "created_at", "deadline", "state", "outcome", "note"}
BINDING_KEYS = {"account_hash", "bound_at", "tenure", "current"}
DELIVERY_KEYS = {"notice_id", "state", "attempts", "last_error", "next_attempt_at"}
WEBHOOK_KEYS = {"url", "pending", "delivered", "dead"}
APP_KEYS = {"name", "bindings", "numbers", "notices", "acknowledged", "overdue", "ack_rate",
            "webhook", "pending", "dead"}
OUTCOMES = ("unbound", "reverified", "not_found", "refused")

SECRET_A = "whsec-app-a-0123456789"
SECRET_B = "whsec-app-b-9876543210"


# ---------------------------------------------------------------------------
# times


def now_utc():
    return datetime.datetime.now(UTC).replace(microsecond=0)


def utc(days=0, hours=0, minutes=0, seconds=0):
    """RFC 3339 UTC text of now minus the given amount."""
    t = now_utc() - datetime.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text, what="time"):
    assert isinstance(text, str) and TIME_RE.match(text), \
        "%s %r is not RFC 3339 UTC with seconds (YYYY-MM-DDTHH:MM:SSZ)" % (what, text)
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def store_day(text):
    """The calendar day (+08:00) of an RFC 3339 UTC time."""
    return parse_time(text).astimezone(STORE_TZ).date().isoformat()


def q(s):
    return urllib.parse.quote(s, safe="")


def idnum(notice_id):
    assert isinstance(notice_id, str) and notice_id.isdigit(), \
        "notice id %r is not a decimal string" % (notice_id,)
    return int(notice_id)


def has_index(message, index):
    return re.search(r"(?<!\d)%d(?!\d)" % index, message) is not None


# ---------------------------------------------------------------------------
# a store, keys and a server per case


class World:
    """A fresh store (carrier cm owns +86137), keys, a server and receivers."""

    def __init__(self, extra=(), apps=("app-a", "app-b")):
        self.env = h.Env()
        self.env.add_carrier("cm", RANGE)
        self.cm = self.env.key("carrier", "cm-feed", carrier="cm")
        self.admin = self.env.key("admin", "ops")
        self.apps = {name: self.env.key("app", name) for name in apps}
        self.a = self.apps.get("app-a")
        self.b = self.apps.get("app-b")
        # a second key of app-a (key rotation), made before the server starts:
        # a key made while it runs is only picked up within about a second
        self.a2 = self.env.key("app", "app-a") if "app-a" in self.apps else None
        self.extra = [str(x) for x in extra]
        self.receivers = []
        self._n = 0
        self.srv = h.Server(self.env, extra=self.extra, private_webhooks=True).start()

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        for r in self.receivers:
            r.stop()
        if et is None:
            self.close()
        else:
            self.srv.kill()
            try:
                self.check_sanitizers()
            except AssertionError as e:   # shown in the log above the failure
                print("    (server) %s" % str(e).replace("\n", "\n    "), flush=True)
        return False

    def close(self):
        self.srv.stop(expect_rc=0)
        self.check_sanitizers()

    def check_sanitizers(self):
        for name in sorted(os.listdir(self.env.dir)):
            if name.startswith("serve") and name.endswith(".err"):
                with open(self.env.path(name), "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                if h.SANITIZER_RE.search(text):
                    raise AssertionError("sanitizer report in %s:\n%s" % (name, text[-4000:]))

    def restart(self):
        """Start the server again on the same store, with the same flags."""
        self.srv.start()

    def c(self, key=None):
        return self.srv.client(key)

    def receiver(self, secret, start=True):
        r = WebhookReceiver(secret=secret)
        self.receivers.append(r)
        if start:
            r.start()
        return r

    def fresh(self, k=1):
        """k numbers of +86137 nobody reported yet, ascending."""
        out = []
        for _ in range(k):
            self._n += 1
            out.append("%s%08d" % (RANGE, 20000000 + self._n))
        return out

    # -- carrier events ------------------------------------------------------

    def post_events(self, events, what="events", key=None):
        return post_events(self.c(key or self.cm), events, what)

    def apply(self, *events, what="events"):
        """Every event must be applied."""
        applied, dup, rej = self.post_events(list(events), what)
        eq("%s: rejected" % what, {}, rej)
        eq("%s: applied" % what, len(events), applied)

    def activate(self, number, days=400):
        self.apply(ev(number, "activate", utc(days=days)), what="activate " + number)

    def cancel(self, *numbers, days=200):
        self.apply(*[ev(n, "cancel", utc(days=days)) for n in numbers],
                   what="cancel " + " ".join(numbers))

    def reissue(self, number, hours=1, force=False, expect=None):
        """activate now-hours; expect None = applied, else the rejection code.
        Returns (event_at, reason)."""
        at = utc(hours=hours)
        e = ev(number, "activate", at)
        if force:
            e["force"] = True
        applied, _, rej = self.post_events([e], "reissue %s%s" % (number, " (force)" if force else ""))
        if expect is None:
            eq("reissue %s: rejected" % number, {}, rej)
            eq("reissue %s: applied" % number, 1, applied)
            return at, None
        assert 0 in rej, "reissue %s: expected %s, but it was applied" % (number, expect)
        eq("reissue %s: rejection code" % number, expect, rej[0][0])
        eq("reissue %s: applied" % number, 0, applied)
        return at, rej[0][1]

    # -- app calls -----------------------------------------------------------

    def bind(self, key, items, what="bind"):
        return bind(self.c(key), items, what)

    def bindings(self, key, number, account=None, what="bindings"):
        return get_bindings(self.c(key), number, account, what)

    def notices(self, key, what="notices"):
        return all_notices(self.c(key), what)

    def ack(self, key, notice_id, outcome, note=None, what="ack"):
        return ack(self.c(key), notice_id, outcome, note, what)


def ev(number, event, at, **extra):
    e = {"number": number, "event": event, "at": at}
    e.update(extra)
    return e


def b(number, account, bound_at):
    return {"number": number, "account": account, "bound_at": bound_at}


def post_events(client, events, what="events"):
    """POST /v1/events -> (applied, duplicates, {index: (code, reason)})."""
    d = expect_json(client.post("/v1/events", {"events": events}), 200, what)
    eq("%s: answer keys" % what, {"applied", "duplicates", "rejected"}, set(d))
    rej = {}
    for e in d["rejected"]:
        assert isinstance(e, dict) and set(e) == {"index", "code", "reason"}, \
            "%s: rejected entry %r is not index/code/reason" % (what, e)
        assert isinstance(e["reason"], str) and e["reason"], "%s: empty reason %r" % (what, e)
        rej[e["index"]] = (e["code"], e["reason"])
    return d["applied"], d["duplicates"], rej


def bind(client, items, what="bind"):
    r = client.request("PUT", "/v1/bindings", json_body={"bindings": items})
    d = expect_json(r, 200, what)
    eq("%s: answer" % what, {"bound": len(items)}, d)
    return d


def unbind(client, items, what="unbind"):
    r = client.request("DELETE", "/v1/bindings", json_body={"bindings": items})
    d = expect_json(r, 200, what)
    eq("%s: answer keys" % what, {"unbound", "not_found"}, set(d))
    return d["unbound"], d["not_found"]


def get_bindings(client, number, account=None, what="bindings"):
    """GET /v1/bindings?number=N[&account=A], shape checked; returns the body."""
    path = "/v1/bindings?number=" + q(number)
    if account is not None:
        path += "&account=" + q(account)
    d = expect_json(client.get(path), 200, "%s %s" % (what, number))
    eq("%s: answer keys" % what, {"number", "tenure", "bindings"}, set(d))
    eq("%s: number" % what, number, d["number"])
    assert type(d["tenure"]) is int and d["tenure"] >= 0, "%s: tenure %r" % (what, d["tenure"])
    assert isinstance(d["bindings"], list), "%s: bindings %r" % (what, d["bindings"])
    for e in d["bindings"]:
        want = BINDING_KEYS | ({"account"} if account is not None else set())
        eq("%s: binding entry keys" % what, want, set(e))
        assert HEX64_RE.match(e["account_hash"] or ""), "%s: account_hash %r" % (what, e)
        parse_time(e["bound_at"], what + " bound_at")
        assert type(e["tenure"]) is int and e["tenure"] >= 0, "%s: tenure %r" % (what, e)
        assert type(e["current"]) is bool, "%s: current %r" % (what, e)
        eq("%s: current = (tenure == the number's tenure)" % what, e["tenure"] == d["tenure"],
           e["current"])
        if account is not None:
            eq("%s: account named back" % what, account, e["account"])
    return d


def check_notice(n, what="notice", admin=False):
    want = NOTICE_KEYS | ({"app"} if admin else set())
    eq("%s: keys" % what, want, set(n))
    idnum(n["id"])
    assert n["kind"] in ("number_cancelled", "number_reassigned"), "%s: kind %r" % (what, n)
    assert type(n["critical"]) is bool, "%s: critical %r" % (what, n)
    if n["source"] == "binding":
        eq("%s: critical iff number_reassigned" % what, n["kind"] == "number_reassigned",
           n["critical"])
    if n["kind"] == "number_cancelled":
        eq("%s: event of a number_cancelled" % what, "cancel", n["event"])
    else:   # the contract names no word for it: the carrier's event or the reissue it was
        assert n["event"] in ("activate", "reissue"), \
            "%s: event of a number_reassigned is %r, expected activate or reissue" % (what, n["event"])
    parse_time(n["event_at"], what + " event_at")
    assert type(n["tenure"]) is int and n["tenure"] >= 0, "%s: tenure %r" % (what, n)
    assert n["source"] in ("binding", "subscription"), "%s: source %r" % (what, n)
    created = parse_time(n["created_at"], what + " created_at")
    if n["source"] == "binding":
        assert HEX64_RE.match(n["account_hash"] or ""), "%s: account_hash %r" % (what, n)
        deadline = parse_time(n["deadline"], what + " deadline")
        assert deadline >= created, "%s: deadline before created_at: %r" % (what, n)
    else:
        eq("%s: subscription account_hash" % what, None, n["account_hash"])
        eq("%s: subscription deadline" % what, None, n["deadline"])
    assert n["state"] in ("open", "acknowledged", "overdue"), "%s: state %r" % (what, n)
    if n["state"] == "acknowledged":
        assert n["outcome"] in OUTCOMES, "%s: outcome %r" % (what, n)
    else:
        eq("%s: outcome of a %s notice" % (what, n["state"]), None, n["outcome"])
    assert n["note"] is None or isinstance(n["note"], str), "%s: note %r" % (what, n)
    return n


def notices_page(client, after=None, limit=None, what="notices page"):
    params = []
    if after is not None:
        params.append("after=" + q(after))
    if limit is not None:
        params.append("limit=%s" % limit)
    path = "/v1/notices" + ("?" + "&".join(params) if params else "")
    d = expect_json(client.get(path), 200, what)
    eq("%s: answer keys" % what, {"notices", "next"}, set(d))
    assert isinstance(d["notices"], list), d
    for n in d["notices"]:
        check_notice(n, what)
    assert d["next"] is None or isinstance(d["next"], str), "%s: next %r" % (what, d["next"])
    if d["notices"]:
        assert isinstance(d["next"], str) and d["next"], \
            "%s: a non-empty page must give a cursor to resume from, got %r" % (what, d["next"])
    return d["notices"], d["next"]


def all_notices(client, what="notices"):
    """Every notice of the calling app, paging with after/limit 1000."""
    out, cursor = [], None
    for _ in range(1000):
        page, nxt = notices_page(client, cursor, 1000, what)
        out += page
        if not page:
            break
        cursor = nxt
    ids = [idnum(n["id"]) for n in out]
    eq("%s: ascending ids, no repeats" % what, sorted(set(ids)), ids)
    return out


def ack(client, notice_id, outcome, note=None, what="ack"):
    body = {"outcome": outcome}
    if note is not None:
        body["note"] = note
    d = expect_json(client.post("/v1/notices/%s/ack" % notice_id, body), 200,
                    "%s %s %s" % (what, notice_id, outcome))
    check_notice(d, what)
    eq("%s: id" % what, str(notice_id), d["id"])
    eq("%s: state" % what, "acknowledged", d["state"])
    eq("%s: outcome" % what, outcome, d["outcome"])
    eq("%s: note" % what, note, d["note"])
    return d


def get_notice(client, notice_id, what="notice"):
    d = expect_json(client.get("/v1/notices/%s" % notice_id), 200, "%s %s" % (what, notice_id))
    return check_notice(d, what)


def account_hash(client, number, account):
    d = get_bindings(client, number, account, "hash of %s" % account)
    eq("bindings of %s on %s" % (account, number), 1, len(d["bindings"]))
    return d["bindings"][0]["account_hash"]


def by_hash(notices):
    return {n["account_hash"]: n for n in notices}


def webhook_status(client, what="webhook"):
    d = expect_json(client.get("/v1/webhook"), 200, what)
    eq("%s: keys" % what, WEBHOOK_KEYS, set(d))
    for k in ("pending", "delivered", "dead"):
        assert type(d[k]) is int and d[k] >= 0, "%s: %s %r" % (what, k, d)
    return d


def put_webhook(client, url, secret, what="PUT webhook"):
    """The contract answers {"url"}; the GET fields (counts) beside it are tolerated."""
    r = client.request("PUT", "/v1/webhook", json_body={"url": url, "secret": secret})
    d = expect_json(r, 200, what)
    eq("%s: url" % what, url, d.get("url"))
    assert set(d) <= WEBHOOK_KEYS, "%s: unexpected keys %s" % (what, sorted(set(d) - WEBHOOK_KEYS))
    assert "secret" not in json.dumps(d) and secret not in json.dumps(d), \
        "%s: the answer shows the secret: %r" % (what, d)


def deliveries(client, state, admin=False, what="deliveries"):
    """Every delivery in state, paging with after/limit."""
    base = "/v1/admin/deliveries" if admin else "/v1/deliveries"
    out, cursor = [], None
    for _ in range(1000):
        path = "%s?state=%s&limit=1000" % (base, state) + ("&after=" + q(cursor) if cursor else "")
        d = expect_json(client.get(path), 200, "%s %s" % (what, path))
        eq("%s: answer keys" % what, {"deliveries", "next"}, set(d))
        for e in d["deliveries"]:
            eq("%s: entry keys" % what, DELIVERY_KEYS | ({"app"} if admin else set()), set(e))
            eq("%s: entry state" % what, state, e["state"])
            assert type(e["attempts"]) is int and e["attempts"] >= 0, e
            assert e["last_error"] is None or isinstance(e["last_error"], str), e
            if e["next_attempt_at"] is not None:
                parse_time(e["next_attempt_at"], what + " next_attempt_at")
            e["notice_id"] = str(e["notice_id"])
        out += d["deliveries"]
        if not d["deliveries"] or not d["next"]:
            break
        cursor = d["next"]
    return out


def cancelled_pair(w, accounts_a=("acct-a",), accounts_b=("acct-b",), bound_days=300):
    """A number activated 400 days ago, bound by app-a and app-b 300 days ago,
    cancelled 200 days ago. Returns the number."""
    n = w.fresh()[0]
    w.activate(n)
    if accounts_a:
        w.bind(w.a, [b(n, x, utc(days=bound_days)) for x in accounts_a], "app-a binds")
    if accounts_b:
        w.bind(w.b, [b(n, x, utc(days=bound_days)) for x in accounts_b], "app-b binds")
    w.cancel(n)
    return n


def check_signed(att, secret_name="the app's secret"):
    assert att.sig_ok, "delivery %r: signature does not verify with %s: %s" % (
        att, secret_name, att.sig_reason)
    eq("delivery Content-Type", "application/json",
       (att.headers.get("content-type") or "").split(";")[0].strip().lower())
    assert isinstance(att.json, dict), "delivery body is not a JSON object: %r" % att.body[:300]
    check_notice(att.json, "delivered notice")
    eq("Secondnum-Notice-Id header = the body's id", att.json["id"], att.header_id)


# ---------------------------------------------------------------------------
# 1. bindings


def case_bindings_put_get_delete(_):
    with World() as w:
        n, m = w.fresh(2)
        w.activate(n)
        a = w.c(w.a)
        empty = get_bindings(a, n)
        eq("no bindings yet", [], empty["bindings"])
        eq("tenure after one activation", 1, empty["tenure"])
        t1, t2 = utc(days=300), utc(days=10)
        bind(a, [b(n, "user-1", t1), b(n, "user-2", t2), b(m, "user-1", utc(days=1))])
        d = get_bindings(a, n)
        eq("two bindings on n", 2, len(d["bindings"]))
        eq("bound_at values", sorted([t1, t2]), sorted(e["bound_at"] for e in d["bindings"]))
        for e in d["bindings"]:
            eq("tenure of a binding in tenure 1", 1, e["tenure"])
            eq("current", True, e["current"])
        assert len({e["account_hash"] for e in d["bindings"]}) == 2, \
            "two accounts got one hash: %r" % d
        text = a.get("/v1/bindings?number=" + q(n)).body.decode()
        assert "user-1" not in text and "user-2" not in text, \
            "a listing without account= names the account reference: %s" % text
        # m was never reported: tenure 0, and a binding in tenure 0 is current
        dm = get_bindings(a, m)
        eq("never-reported number: tenure", 0, dm["tenure"])
        eq("never-reported number: binding tenure", [0], [e["tenure"] for e in dm["bindings"]])
        # binding again replaces bound_at, no second binding
        t3 = utc(days=5)
        bind(a, [b(n, "user-1", t3)], "rebind")
        d = get_bindings(a, n, "user-1")
        eq("rebinding keeps one binding", 1, len(d["bindings"]))
        eq("rebinding replaces bound_at", t3, d["bindings"][0]["bound_at"])
        eq("still two on n", 2, len(get_bindings(a, n)["bindings"]))
        # DELETE: bound_at optional and ignored
        eq("delete one + one unknown", (1, 1),
           unbind(a, [{"number": n, "account": "user-1"}, {"number": n, "account": "nobody"}]))
        eq("delete with bound_at (ignored)", (1, 0), unbind(a, [b(n, "user-2", utc(days=999))]))
        eq("n has no bindings left", [], get_bindings(a, n)["bindings"])
        eq("delete again: not found", (0, 1), unbind(a, [{"number": n, "account": "user-2"}]))
        eq("m untouched", 1, len(get_bindings(a, m)["bindings"]))


def case_bindings_all_or_nothing(_):
    with World() as w:
        a = w.c(w.a)
        nums = w.fresh(10)
        for x in nums:
            w.activate(x)
        bad_items = [
            ("invalid number", {"number": "+86137abc", "account": "x", "bound_at": utc(days=1)}),
            ("future bound_at", b(nums[7], "x", utc(days=-1))),
            ("bound_at not a time", b(nums[7], "x", "yesterday")),
            ("empty account", b(nums[7], "", utc(days=1))),
            ("account of 257 bytes", b(nums[7], "a" * 257, utc(days=1))),
            ("missing account", {"number": nums[7], "bound_at": utc(days=1)}),
            ("missing bound_at", {"number": nums[7], "account": "x"}),
            ("account not a string", {"number": nums[7], "account": 42, "bound_at": utc(days=1)}),
            ("unknown property", dict(b(nums[7], "x", utc(days=1)), extra=1)),
        ]
        for name, bad in bad_items:
            items = [b(x, "good-%s" % name, utc(days=2)) for x in nums]
            items[7] = bad
            r = a.request("PUT", "/v1/bindings", json_body={"bindings": items})
            codes = ("INVALID_ARGUMENT", "OUT_OF_RANGE") if name == "future bound_at" \
                else ("INVALID_ARGUMENT",)
            if r.status != 400:
                raise AssertionError("PUT with one %s at index 7: expected 400, got %d %r"
                                     % (name, r.status, r.body[:300]))
            body = h.check_error_shape(r)
            assert body["code"] in codes, "%s: code %r, expected one of %s" % (name, body, codes)
            assert has_index(body["message"], 7), \
                "%s: the message does not name index 7: %r" % (name, body["message"])
            for x in nums:
                got = get_bindings(a, x)["bindings"]
                eq("after a rejected PUT (%s), bindings on %s" % (name, x), [], got)
        # DELETE is all or nothing too
        bind(a, [b(x, "keep", utc(days=2)) for x in nums])
        items = [{"number": x, "account": "keep"} for x in nums]
        items[7] = {"number": "not-a-number", "account": "keep"}
        r = a.request("DELETE", "/v1/bindings", json_body={"bindings": items})
        body = expect_error(r, 400, "INVALID_ARGUMENT", "DELETE with a bad item")
        assert has_index(body["message"], 7), "DELETE: message does not name index 7: %r" % body
        for x in nums:
            eq("after a rejected DELETE, bindings on %s" % x, 1, len(get_bindings(a, x)["bindings"]))
        # bad envelopes
        for env in ({"bindings": []}, {}, {"bindings": None}, {"bindings": {}}, [],
                    {"bindings": [b(nums[0], "x", utc(days=1))], "extra": 1}):
            expect_error(a.request("PUT", "/v1/bindings", json_body=env), 400, "INVALID_ARGUMENT",
                         "PUT envelope %r" % (env,))
        expect_error(a.request("PUT", "/v1/bindings", body=b"{nope"), 400, "INVALID_ARGUMENT",
                     "PUT malformed JSON")


def case_bindings_tenure_and_current(_):
    with World() as w:
        a = w.c(w.a)
        n, s = w.fresh(2)
        # n: activated 400 days ago, cancelled 200 days ago, reissued an hour ago
        w.apply(ev(n, "activate", utc(days=400)), ev(n, "cancel", utc(days=200)),
                ev(n, "activate", utc(hours=1)))
        bind(a, [b(n, "before-first", utc(days=500)), b(n, "old", utc(days=300)),
                 b(n, "new", utc(minutes=30))])
        d = get_bindings(a, n)
        eq("tenure after a reissue", 2, d["tenure"])
        for acct, tenure in (("before-first", 0), ("old", 1), ("new", 2)):
            e = get_bindings(a, n, acct)["bindings"]
            eq("bindings of %s" % acct, 1, len(e))
            eq("tenure of %s" % acct, tenure, e[0]["tenure"])
            eq("current of %s" % acct, tenure == 2, e[0]["current"])
        # binding again in the new tenure replaces the tenure
        bind(a, [b(n, "old", utc(minutes=10))], "rebind old")
        e = get_bindings(a, n, "old")["bindings"]
        eq("rebound: tenure", 2, e[0]["tenure"])
        eq("rebound: current", True, e[0]["current"])
        # suspend/resume keep the tenure
        w.apply(ev(s, "activate", utc(days=400)), ev(s, "suspend", utc(days=300)),
                ev(s, "resume", utc(days=250)))
        bind(a, [b(s, "during-suspension", utc(days=280)), b(s, "after", utc(days=100))])
        d = get_bindings(a, s)
        eq("suspend/resume: tenure", 1, d["tenure"])
        eq("suspend/resume: binding tenures", [1, 1], [e["tenure"] for e in d["bindings"]])
        eq("suspend/resume: current", [True, True], [e["current"] for e in d["bindings"]])


def case_bindings_account_matching(_):
    with World() as w:
        a = w.c(w.a)
        n = w.fresh()[0]
        w.activate(n)
        odd = "cust&id=7+8 /?#%"
        uni = "\u5ba2\u6237-42"  # two CJK characters, 3 bytes each
        accts = ["alice", odd, uni]
        bind(a, [b(n, x, utc(days=100)) for x in accts])
        plain = get_bindings(a, n)
        eq("three bindings", 3, len(plain["bindings"]))
        hashes = {e["account_hash"] for e in plain["bindings"]}
        for x in accts:
            d = get_bindings(a, n, x)
            eq("?account=%r: one binding" % x, 1, len(d["bindings"]))
            eq("?account=%r: echoed" % x, x, d["bindings"][0]["account"])
            assert d["bindings"][0]["account_hash"] in hashes, \
                "?account=%r: hash %s not in the plain listing" % (x, d["bindings"][0]["account_hash"])
        eq("?account= unknown lists nothing", [], get_bindings(a, n, "mallory")["bindings"])
        # missing or bad number
        expect_error(a.get("/v1/bindings"), 400, "INVALID_ARGUMENT", "GET without number")
        expect_error(a.get("/v1/bindings?number=abc"), 400, "INVALID_ARGUMENT", "GET bad number")


@h.timeout(240)
def case_bindings_limits(_):
    with World() as w:
        a = w.c(w.a)
        nums = w.fresh(100)
        items = [b(nums[i % 100], "acct-%05d" % i, utc(days=1)) for i in range(10001)]
        r = a.request("PUT", "/v1/bindings", json_body={"bindings": items})
        expect_error(r, 400, "INVALID_ARGUMENT", "10,001 bindings")
        eq("nothing stored after 10,001", [], get_bindings(a, nums[0])["bindings"])
        bind(a, items[:10000], "10,000 bindings")
        eq("100 accounts per number", 100, len(get_bindings(a, nums[42])["bindings"]))
        r = a.request("DELETE", "/v1/bindings", json_body={"bindings": items})
        expect_error(r, 400, "INVALID_ARGUMENT", "DELETE of 10,001")
        eq("DELETE of 10,000", (10000, 0), unbind(a, items[:10000]))
        n = w.fresh()[0]
        # account length is counted in bytes: 1 to 256
        ok_accts = ["a" * 256, "\u00e9" * 128, "z"]
        bind(a, [b(n, x, utc(days=1)) for x in ok_accts], "256-byte accounts")
        for bad in ("a" * 257, "\u00e9" * 128 + "a", ""):
            r = a.request("PUT", "/v1/bindings", json_body={"bindings": [b(n, bad, utc(days=1))]})
            expect_error(r, 400, "INVALID_ARGUMENT", "account of %d bytes" % len(bad.encode()))
        # bound_at not in the future
        r = a.request("PUT", "/v1/bindings", json_body={"bindings": [b(n, "f", utc(minutes=-10))]})
        eq("future bound_at: status", 400, r.status)
        assert h.check_error_shape(r)["code"] in ("INVALID_ARGUMENT", "OUT_OF_RANGE"), r
        eq("three bindings stored", 3, len(get_bindings(a, n)["bindings"]))


# ---------------------------------------------------------------------------
# 2. the pull feed


def case_notices_number_cancelled_per_binding(_):
    with World() as w:
        a, bb = w.c(w.a), w.c(w.b)
        n = w.fresh()[0]
        w.activate(n)
        bind(a, [b(n, "x", utc(days=300)), b(n, "y", utc(days=250)),
                 b(n, "before", utc(days=500))])          # tenure 0: not the cancelled one
        bind(bb, [b(n, "x", utc(days=300))])
        hx, hy = account_hash(a, n, "x"), account_hash(a, n, "y")
        eq("no notices before the cancel", [], w.notices(w.a))
        cancel_at = utc(days=200)
        t0 = now_utc()
        w.apply(ev(n, "cancel", cancel_at))
        t1 = now_utc() + datetime.timedelta(seconds=1)
        got = w.notices(w.a, "app-a notices")
        eq("app-a: one notice per binding of the cancelled tenure", 2, len(got))
        eq("app-a: account hashes", {hx, hy}, {x["account_hash"] for x in got})
        for x in got:
            what = "notice %s" % x["id"]
            eq(what + " kind", "number_cancelled", x["kind"])
            eq(what + " critical", False, x["critical"])
            eq(what + " number", n, x["number"])
            eq(what + " event", "cancel", x["event"])
            eq(what + " event_at", cancel_at, x["event_at"])
            eq(what + " tenure (the cancelled one)", 1, x["tenure"])
            eq(what + " source", "binding", x["source"])
            eq(what + " state", "open", x["state"])
            eq(what + " outcome", None, x["outcome"])
            eq(what + " note", None, x["note"])
            created = parse_time(x["created_at"])
            assert t0 - datetime.timedelta(seconds=1) <= created <= t1, \
                "%s created_at %s not between %s and %s" % (what, created, t0, t1)
            eq(what + " deadline = created_at + 5 days",
               created + datetime.timedelta(days=DEADLINE_DAYS), parse_time(x["deadline"]))
        text = w.c(w.a).get("/v1/notices").body.decode()
        assert '"x"' not in text and '"y"' not in text, "notices name the account: %s" % text
        gb = w.notices(w.b, "app-b notices")
        eq("app-b: one notice", 1, len(gb))
        assert gb[0]["account_hash"] not in (hx, hy), \
            "app-b's hash of account x equals app-a's: hashes are not separated per app"
        assert gb[0]["id"] not in {x["id"] for x in got}, "two apps share a notice id"


def case_notices_number_reassigned_critical(_):
    with World() as w:
        a = w.c(w.a)
        n = w.fresh()[0]
        w.activate(n)
        bind(a, [b(n, "gone", utc(days=300)), b(n, "kept", utc(days=300)),
                 b(n, "tenure0", utc(days=500))])
        hk, h0 = account_hash(a, n, "kept"), account_hash(a, n, "tenure0")
        w.cancel(n)
        first = w.notices(w.a)
        eq("cancel notices", 2, len(first))
        bh = by_hash(first)
        ack(a, bh[account_hash(a, n, "gone")]["id"], "unbound")
        ack(a, bh[hk]["id"], "reverified")
        reissue_at, _ = w.reissue(n)   # every cancel notice is acknowledged: not held
        bind(a, [b(n, "new-subscriber", utc(minutes=5))])   # tenure 2: no notice
        after = w.notices(w.a)
        new = [x for x in after if x["id"] not in {y["id"] for y in first}]
        eq("reassigned notices: the bindings of earlier tenures still held", {hk, h0},
           {x["account_hash"] for x in new})
        for x in new:
            what = "notice %s" % x["id"]
            eq(what + " kind", "number_reassigned", x["kind"])
            eq(what + " critical", True, x["critical"])
            eq(what + " event_at", reissue_at, x["event_at"])
            eq(what + " number", n, x["number"])
            eq(what + " source", "binding", x["source"])
            eq(what + " state", "open", x["state"])
            assert idnum(x["id"]) > max(idnum(y["id"]) for y in first), \
                "%s issued after the cancel notices but has a smaller id" % what


def case_notices_paging_resumes(_):
    with World() as w:
        a = w.c(w.a)
        n1, n2, n3 = w.fresh(3)
        for x in (n1, n2, n3):
            w.activate(x)
        bind(a, [b(n1, "p%d" % i, utc(days=300)) for i in range(7)]
             + [b(n2, "q%d" % i, utc(days=300)) for i in range(5)])
        w.cancel(n1, n2)
        full = w.notices(w.a)
        eq("12 notices", 12, len(full))
        ids = [x["id"] for x in full]
        for limit in (5, 1, 12, 1000):
            seen, cursor, pages = [], None, 0
            while True:
                page, nxt = notices_page(a, cursor, limit, "page limit=%d" % limit)
                assert len(page) <= limit, "limit=%d gave %d notices" % (limit, len(page))
                pages += 1
                assert pages < 50, "limit=%d: paging does not end" % limit
                if not page:
                    break
                seen += [x["id"] for x in page]
                cursor = nxt
            eq("limit=%d: pages joined = the feed" % limit, ids, seen)
        # the feed resumes from the last cursor with exactly what came since
        bind(a, [b(n3, "r0", utc(days=300)), b(n3, "r1", utc(days=300))])
        w.cancel(n3)
        page, nxt = notices_page(a, cursor, 100, "resumed")
        eq("resumed page: the new notices only", 2, len(page))
        eq("resumed page: number", [n3, n3], [x["number"] for x in page])
        assert min(idnum(x["id"]) for x in page) > idnum(ids[-1]), "resumed page repeats: %r" % page
        eq("nothing after that", [], notices_page(a, nxt, 100, "after the end")[0])
        # the default limit is 100 and absent after is the start
        page, _ = notices_page(a, None, None, "no parameters")
        eq("no parameters: from the start", ids + [x["id"] for x in page[12:]], [x["id"] for x in page])
        for bad in ("0", "1001", "x", "-1"):
            expect_error(a.get("/v1/notices?limit=" + bad), 400, "INVALID_ARGUMENT", "limit=" + bad)


def case_notice_get_by_id(_):
    with World() as w:
        a = w.c(w.a)
        cancelled_pair(w, ("x", "y"), ())
        for x in w.notices(w.a):
            eq("GET /v1/notices/%s" % x["id"], x, get_notice(a, x["id"]))
        expect_error(a.get("/v1/notices/987654321"), 404, "NOT_FOUND", "unknown notice id")
        r = a.get("/v1/notices/not-an-id")
        assert r.status in (400, 404), "GET /v1/notices/not-an-id: %d %r" % (r.status, r.body[:200])
        h.check_error_shape(r)


# ---------------------------------------------------------------------------
# 3. acknowledgements


def case_ack_outcomes_idempotent_conflict(_):
    with World() as w:
        a = w.c(w.a)
        n = w.fresh()[0]
        w.activate(n)
        accts = {o: "acct-" + o for o in OUTCOMES}
        bind(a, [b(n, acct, utc(days=300)) for acct in accts.values()])
        hashes = {o: account_hash(a, n, acct) for o, acct in accts.items()}
        w.cancel(n)
        bh = by_hash(w.notices(w.a))
        eq("one notice per binding", set(hashes.values()), set(bh))
        for o in OUTCOMES:
            nid = bh[hashes[o]]["id"]
            note = "checked by desk 4" if o == "refused" else None
            first = ack(a, nid, o, note, "ack " + o)
            again = ack(a, nid, o, note, "ack %s again" % o)
            eq("ack %s twice answers the same" % o, first, again)
            eq("GET after ack %s" % o, first, get_notice(a, nid))
            other = "reverified" if o != "reverified" else "refused"
            r = a.post("/v1/notices/%s/ack" % nid, {"outcome": other})
            expect_error(r, 409, "CONFLICT", "ack %s then %s" % (o, other))
            eq("unchanged after the conflict", first, get_notice(a, nid))
        left = {e["account_hash"] for e in get_bindings(a, n)["bindings"]}
        eq("bindings left: unbound and not_found delete theirs",
           {hashes["reverified"], hashes["refused"]}, left)


def case_ack_errors(_):
    with World() as w:
        a = w.c(w.a)
        cancelled_pair(w, ("x",), ())
        nid = w.notices(w.a)[0]["id"]
        for body, what in (({"outcome": "deleted"}, "unknown outcome"),
                           ({}, "no outcome"),
                           ({"outcome": None}, "null outcome"),
                           ({"outcome": 1}, "outcome not a string"),
                           ({"outcome": "unbound", "extra": 1}, "unknown property"),
                           ({"outcome": "unbound", "note": 5}, "note not a string"),
                           ({"outcome": "unbound", "note": "n" * 1001}, "note of 1,001 bytes")):
            expect_error(a.post("/v1/notices/%s/ack" % nid, body), 400, "INVALID_ARGUMENT", what)
        expect_error(a.post("/v1/notices/%s/ack" % nid, b"{bad"), 400, "INVALID_ARGUMENT", "bad JSON")
        eq("still open after bad acks", "open", get_notice(a, nid)["state"])
        expect_error(a.post("/v1/notices/987654321/ack", {"outcome": "unbound"}), 404, "NOT_FOUND",
                     "ack of an unknown id")
        ack(a, nid, "refused", "n" * 1000, "note of 1,000 bytes")


def case_ack_unbound_removes_the_binding(_):
    with World() as w:
        a = w.c(w.a)
        n = cancelled_pair(w, ("x", "y"), ())
        hx = account_hash(a, n, "x")
        bh = by_hash(w.notices(w.a))
        ack(a, bh[hx]["id"], "unbound")
        eq("x's binding is gone", [], get_bindings(a, n, "x")["bindings"])
        eq("y's binding is still there", 1, len(get_bindings(a, n, "y")["bindings"]))


# ---------------------------------------------------------------------------
# 4. the scenario of the issue


def case_scenario_guard_ack_reissue(_):
    with World() as w:
        a, bb = w.c(w.a), w.c(w.b)
        n = cancelled_pair(w, ("alice-at-a",), ("alice-at-b",))
        na, nb = w.notices(w.a), w.notices(w.b)
        eq("app-a: number_cancelled", [("number_cancelled", n)], [(x["kind"], x["number"]) for x in na])
        eq("app-b: number_cancelled", [("number_cancelled", n)], [(x["kind"], x["number"]) for x in nb])
        ack(a, na[0]["id"], "unbound")
        eq("app-a's binding gone", [], get_bindings(a, n)["bindings"])
        # reissue before app-b acts: held, naming 1 app and until when
        _, reason = w.reissue(n, expect="REISSUE_HELD")
        assert re.search(r"(?<!\d)1(?!\d)", reason), "reason does not name 1 app: %r" % reason
        deadline = parse_time(nb[0]["deadline"])
        days = {deadline.date().isoformat(), deadline.astimezone(STORE_TZ).date().isoformat()}
        assert any(d in reason for d in days), \
            "reason does not name the deadline's day (%s): %r" % (sorted(days), reason)
        chk = expect_json(w.c(w.a).post("/v1/check", {"number": n, "date": h.store_date(-300)}), 200)
        eq("the held reissue was not applied (check)", "disconnected", chk["result"])
        # app-b re-verifies (keeps its binding): the reissue goes through
        ack(bb, nb[0]["id"], "reverified")
        reissue_at, _ = w.reissue(n)
        na2, nb2 = w.notices(w.a), w.notices(w.b)
        eq("app-a (acked unbound): nothing new", [x["id"] for x in na], [x["id"] for x in na2])
        new_b = nb2[len(nb):]
        eq("app-b: one new notice", 1, len(new_b))
        eq("app-b: number_reassigned", ("number_reassigned", True, n, reissue_at),
           (new_b[0]["kind"], new_b[0]["critical"], new_b[0]["number"], new_b[0]["event_at"]))
        eq("app-b: about its binding", nb[0]["account_hash"], new_b[0]["account_hash"])
        chk = expect_json(w.c(w.a).post("/v1/check", {"number": n, "date": h.store_date(-300)}), 200)
        eq("the reissue was applied (check)", "reassigned", chk["result"])


def case_scenario_force_while_open(_):
    with World() as w:
        n = cancelled_pair(w, ("a1",), ("b1",))
        na, nb = w.notices(w.a), w.notices(w.b)
        _, reason = w.reissue(n, expect="REISSUE_HELD")
        assert re.search(r"(?<!\d)2(?!\d)", reason), "reason does not name 2 apps: %r" % reason
        applied, dup, rej = w.post_events([ev(n, "activate", utc(hours=1), force=False)],
                                          "force: false")
        eq("force false is still held", "REISSUE_HELD", rej.get(0, ("applied",))[0])
        reissue_at, _ = w.reissue(n, force=True)
        for key, before, app in ((w.a, na, "app-a"), (w.b, nb, "app-b")):
            after = w.notices(key)
            eq("%s: its cancel notice is still open" % app, "open", after[0]["state"])
            new = after[len(before):]
            eq("%s: number_reassigned after the forced reissue" % app,
               [("number_reassigned", True, reissue_at)],
               [(x["kind"], x["critical"], x["event_at"]) for x in new])
        # a retry of the forced event is a duplicate, not a new reissue
        applied, dup, rej = w.post_events([ev(n, "activate", reissue_at, force=True)], "retry")
        eq("retry of the forced reissue", (0, 1, {}), (applied, dup, rej))


# ---------------------------------------------------------------------------
# 5. webhooks


def case_webhook_config(_):
    with World() as w:
        a = w.c(w.a)
        expect_error(a.get("/v1/webhook"), 404, "NOT_FOUND", "GET without a webhook")
        good = "http://127.0.0.1:9/hook"
        for body, what in (({"url": "ftp://127.0.0.1/x", "secret": SECRET_A}, "ftp URL"),
                           ({"url": "not a url", "secret": SECRET_A}, "not a URL"),
                           ({"url": good}, "no secret"),
                           ({"secret": SECRET_A}, "no url"),
                           ({"url": good, "secret": "s" * 15}, "secret of 15 bytes"),
                           ({"url": good, "secret": "s" * 257}, "secret of 257 bytes"),
                           ({"url": good, "secret": SECRET_A, "extra": 1}, "unknown property")):
            expect_error(a.request("PUT", "/v1/webhook", json_body=body), 400, "INVALID_ARGUMENT", what)
        expect_error(a.get("/v1/webhook"), 404, "NOT_FOUND", "GET after rejected PUTs")
        put_webhook(a, good, "s" * 16)
        eq("GET", {"url": good, "pending": 0, "delivered": 0, "dead": 0}, webhook_status(a))
        put_webhook(a, "https://127.0.0.1:9/other", "s" * 256)
        eq("GET after replacing", "https://127.0.0.1:9/other", webhook_status(a)["url"])
        eq("DELETE", {"url": None}, expect_json(a.delete("/v1/webhook"), 200, "DELETE webhook"))
        expect_error(a.get("/v1/webhook"), 404, "NOT_FOUND", "GET after DELETE")


def case_webhook_signed_delivery(_):
    with World(extra=["--retry-base-ms", "100"]) as w:
        a = w.c(w.a)
        rec = w.receiver(SECRET_A)
        before = cancelled_pair(w, ("early",), ())       # issued before the webhook: no delivery
        early_id = w.notices(w.a)[0]["id"]
        put_webhook(a, rec.url, SECRET_A)
        n = cancelled_pair(w, ("x", "y"), ())
        ids = [x["id"] for x in w.notices(w.a) if x["number"] == n]
        eq("two notices", 2, len(ids))
        got = rec.wait_delivered_ids(ids, 30)
        time.sleep(1.0)
        got = rec.delivered()
        for att in got:
            check_signed(att, "SECRET_A")
            eq("delivery path", "/hook", att.path)
            t = int(att.headers["secondnum-signature"].split(",")[0].split("=")[1])
            assert abs(t - att.time) < 120, "signature t=%d is %.0f s from now" % (t, att.time - t)
            pulled = get_notice(a, att.json["id"])
            for k in ("id", "kind", "critical", "number", "event", "event_at", "tenure", "source",
                      "account_hash", "created_at", "deadline"):
                eq("delivered %s: %s as in the pull feed" % (att.json["id"], k), pulled[k], att.json[k])
        assert early_id not in {att.notice_id for att in got}, \
            "a notice issued before the webhook was set was delivered"
        eq("delivered ids", set(ids), {att.notice_id for att in got})
        st = webhook_status(a)
        eq("GET /v1/webhook counts", (rec.url, 0, 2, 0),
           (st["url"], st["pending"], st["delivered"], st["dead"]))
        dl = deliveries(a, "delivered")
        eq("/v1/deliveries?state=delivered", set(ids), {d["notice_id"] for d in dl})
        for d in dl:
            assert d["attempts"] >= 1, "delivered with %d attempts: %r" % (d["attempts"], d)
        eq("nothing pending", [], deliveries(a, "pending"))
        # after DELETE, new notices are not pushed
        expect_json(a.delete("/v1/webhook"), 200, "DELETE webhook")
        cancelled_pair(w, ("z",), ())
        time.sleep(2.0)
        eq("no delivery after DELETE", set(ids), {att.notice_id for att in rec.attempts()})
        # a receiver with another secret sees a signature that does not verify
        wrong = w.receiver("a-different-secret-entirely")
        put_webhook(a, wrong.url, SECRET_A)
        cancelled_pair(w, ("v",), ())
        att = wrong.wait_delivered(1, 30)[0]
        assert not att.sig_ok, "a signature verified with the wrong secret: %r" % att
        assert before


@h.timeout(150)
def case_webhook_receiver_down_then_back(_):
    with World(extra=["--retry-base-ms", "100"]) as w:
        a = w.c(w.a)
        rec = w.receiver(SECRET_A, start=False)             # port chosen, nothing listening
        put_webhook(a, rec.url, SECRET_A)
        cancelled_pair(w, ("x",), ())
        nid = w.notices(w.a)[0]["id"]
        pend = h.wait_until(lambda: [d for d in deliveries(a, "pending")
                                   if d["notice_id"] == nid and d["attempts"] >= 3],
                          30, "three failed attempts while the receiver is down")[0]
        assert pend["last_error"], "a failed attempt left no last_error: %r" % pend
        assert pend["next_attempt_at"], "a pending delivery has no next_attempt_at: %r" % pend
        st = webhook_status(a)
        eq("while down: pending, delivered", (1, 0), (st["pending"], st["delivered"]))
        rec.start()
        att = rec.wait_delivered_ids([nid], 60)
        check_signed([x for x in att if x.notice_id == nid][0], "SECRET_A")
        dl = h.wait_until(lambda: [d for d in deliveries(a, "delivered") if d["notice_id"] == nid],
                        10, "delivered state")[0]
        assert dl["attempts"] >= 4, "delivered after %d attempts (3 failed first)" % dl["attempts"]
        st = webhook_status(a)
        eq("after: pending, delivered, dead", (0, 1, 0), (st["pending"], st["delivered"], st["dead"]))


@h.timeout(180)
def case_webhook_sigkill_mid_retry(_):
    with World(extra=["--retry-base-ms", "300"]) as w:
        a = w.c(w.a)
        rec = w.receiver(SECRET_A, start=False)
        put_webhook(a, rec.url, SECRET_A)
        nums = [cancelled_pair(w, ("k%d" % i,), ()) for i in range(3)]
        ids = [x["id"] for x in w.notices(w.a)]
        eq("three notices", 3, len(ids))
        h.wait_until(lambda: {d["notice_id"] for d in deliveries(a, "pending") if d["attempts"] >= 1}
                   == set(ids), 30, "a failed attempt of every delivery")
        w.srv.kill()                                   # SIGKILL
        eq("killed by SIGKILL", -9, w.srv.proc.returncode)
        rec.start()
        time.sleep(0.5)
        eq("nothing delivered while secondnum is dead", [], rec.delivered())
        w.restart()
        a = w.c(w.a)
        rec.wait_delivered_ids(ids, 60)
        for att in rec.delivered():
            check_signed(att, "SECRET_A")
        assert {att.notice_id for att in rec.delivered()} == set(ids), \
            "unexpected deliveries: %r" % rec.delivered()
        eq("the pull feed still has them", ids, [x["id"] for x in w.notices(w.a)])
        st = h.wait_until(lambda: (lambda s: s if s["delivered"] == 3 else None)(webhook_status(a)),
                        10, "3 delivered in GET /v1/webhook")
        eq("after restart: pending, delivered, dead", (0, 3, 0),
           (st["pending"], st["delivered"], st["dead"]))
        assert nums


@h.timeout(180)
def case_webhook_order_per_number(_):
    with World(extra=["--retry-base-ms", "100"]) as w:
        a = w.c(w.a)
        rec = w.receiver(SECRET_A)
        rec.fail_first_per_id = 1                      # each notice's first attempt fails
        put_webhook(a, rec.url, SECRET_A)
        n, m = w.fresh(2)
        w.activate(n)
        w.activate(m)
        bind(a, [b(n, "n%d" % i, utc(days=300)) for i in range(4)]
             + [b(m, "m%d" % i, utc(days=300)) for i in range(3)])
        w.cancel(n, m)
        w.reissue(n, force=True)                       # 4 number_reassigned for n, queued behind
        all_n = w.notices(w.a)
        eq("notices", 11, len(all_n))
        rec.wait_delivered_ids([x["id"] for x in all_n], 90)
        attempts = rec.attempts()
        for att in attempts:
            check_signed(att, "SECRET_A")
        for number in (n, m):
            ids = [x["id"] for x in all_n if x["number"] == number]
            first_ok = {}
            first_try = {}
            for i, att in enumerate(attempts):
                if att.json is None or att.json.get("number") != number:
                    continue
                first_try.setdefault(att.notice_id, i)
                if att.ok:
                    first_ok.setdefault(att.notice_id, i)
            order = sorted(first_ok, key=lambda k: first_ok[k])
            eq("%s: delivered in id order" % number, ids, order)
            for prev, nxt in zip(ids, ids[1:]):
                assert first_try[nxt] > first_ok[prev], \
                    "%s: notice %s was sent (attempt #%d) before notice %s was delivered (#%d)" % (
                        number, nxt, first_try[nxt], prev, first_ok[prev])
            kinds = [x["kind"] for x in all_n if x["number"] == number]
            if number == n:
                eq("cancellations before the reassignment", ["number_cancelled"] * 4
                   + ["number_reassigned"] * 4, kinds)


@h.timeout(180)
def case_webhook_dead_letter(_):
    with World(extra=["--retry-budget", "2", "--retry-base-ms", "100"]) as w:
        a, adm = w.c(w.a), w.c(w.admin)
        rec = w.receiver(SECRET_A)
        rec.status = 500
        put_webhook(a, rec.url, SECRET_A)
        n = cancelled_pair(w, ("x",), ())
        nid = w.notices(w.a)[0]["id"]
        dead = h.wait_until(lambda: [d for d in deliveries(a, "dead") if d["notice_id"] == nid],
                          40, "the delivery dead after a 2 s budget")[0]
        tries = [att for att in rec.attempts() if att.notice_id == nid]
        assert len(tries) >= 2, "dead after %d attempts: it was not retried" % len(tries)
        for att in tries:
            check_signed(att, "SECRET_A")
        eq("dead: attempts as the receiver counted them", len(tries), dead["attempts"])
        assert dead["last_error"], "dead delivery has no last_error: %r" % dead
        time.sleep(1.5)
        eq("no attempt after dead", len(tries), len([x for x in rec.attempts() if x.notice_id == nid]))
        st = webhook_status(a)
        eq("GET /v1/webhook: pending, delivered, dead", (0, 0, 1),
           (st["pending"], st["delivered"], st["dead"]))
        eq("not pending", [], deliveries(a, "pending"))
        adead = deliveries(adm, "dead", admin=True, what="admin deliveries")
        eq("admin: dead deliveries", [(nid, "app-a")], [(d["notice_id"], d["app"]) for d in adead])
        eq("app-b sees no dead delivery", [], deliveries(w.c(w.b), "dead"))
        expect_error(a.get("/v1/admin/deliveries?state=dead"), 403, "PERMISSION_DENIED", "app key")
        apps = {x["name"]: x for x in admin_apps(adm)}
        eq("admin apps: app-a dead", 1, apps["app-a"]["dead"])
        assert apps["app-a"]["webhook"], "admin apps: app-a has a webhook: %r" % apps["app-a"]
        # a dead notice does not block later notices for the same number
        rec.status = 200
        w.reissue(n, force=True)
        later = [x["id"] for x in w.notices(w.a) if x["id"] != nid]
        eq("one reassigned notice", 1, len(later))
        rec.wait_delivered_ids(later, 30)
        for bad in ("bogus", ""):
            expect_error(a.get("/v1/deliveries?state=" + bad), 400, "INVALID_ARGUMENT", "state=" + bad)


# ---------------------------------------------------------------------------
# 6. subscriptions


def case_subscription(_):
    with World(apps=("app-a", "sub-c", "sub-r")) as w:
        c, r = w.c(w.apps["sub-c"]), w.c(w.apps["sub-r"])
        eq("default subscription", {"cancellations": False, "reissues": False},
           expect_json(c.get("/v1/subscription"), 200, "GET subscription"))
        for body in ({"cancellations": "yes", "reissues": False}, {"cancellations": True, "reissues": 1},
                     {"cancellations": True, "reissues": False, "extra": True}):
            expect_error(c.request("PUT", "/v1/subscription", json_body=body), 400,
                         "INVALID_ARGUMENT", "PUT subscription %r" % body)
        want_c = {"cancellations": True, "reissues": False}
        want_r = {"cancellations": False, "reissues": True}
        eq("PUT answers the same", want_c,
           expect_json(c.request("PUT", "/v1/subscription", json_body=want_c), 200, "PUT sub-c"))
        expect_json(r.request("PUT", "/v1/subscription", json_body=want_r), 200, "PUT sub-r")
        eq("GET sub-c", want_c, expect_json(c.get("/v1/subscription"), 200))
        eq("GET sub-r", want_r, expect_json(r.get("/v1/subscription"), 200))
        eq("app-a unaffected", {"cancellations": False, "reissues": False},
           expect_json(w.c(w.a).get("/v1/subscription"), 200))
        u = w.fresh()[0]                              # nobody binds u
        w.activate(u)
        cancel_at = utc(days=200)
        w.apply(ev(u, "cancel", cancel_at))
        nc = w.notices(w.apps["sub-c"])
        eq("sub-c: one cancellation notice", 1, len(nc))
        x = nc[0]
        eq("sub-c notice", ("number_cancelled", "subscription", u, "cancel", cancel_at, None, None),
           (x["kind"], x["source"], x["number"], x["event"], x["event_at"], x["account_hash"],
            x["deadline"]))
        eq("sub-r: no cancellation notice", [], w.notices(w.apps["sub-r"]))
        eq("app-a: nothing", [], w.notices(w.a))
        reissue_at, _ = w.reissue(u, force=True)
        eq("sub-c: still one notice (reissues: false)", [x["id"]],
           [y["id"] for y in w.notices(w.apps["sub-c"])])
        nr = w.notices(w.apps["sub-r"])
        eq("sub-r: the reissue", [("number_reassigned", "subscription", u, reissue_at, None)],
           [(y["kind"], y["source"], y["number"], y["event_at"], y["deadline"]) for y in nr])
        # switching off stops them
        off = {"cancellations": False, "reissues": False}
        expect_json(c.request("PUT", "/v1/subscription", json_body=off), 200, "PUT off")
        v = w.fresh()[0]
        w.activate(v)
        w.cancel(v)
        eq("sub-c after switching off", 1, len(w.notices(w.apps["sub-c"])))


# ---------------------------------------------------------------------------
# 7. the disconnections feed


def disconnections(client, since, after=None, limit=None, what="disconnections"):
    path = "/v1/disconnections?since=" + since
    if after is not None:
        path += "&after=" + q(after)
    if limit is not None:
        path += "&limit=%d" % limit
    d = expect_json(client.get(path), 200, "%s %s" % (what, path))
    eq("%s: answer keys" % what, {"disconnections", "next"}, set(d))
    for e in d["disconnections"]:
        eq("%s: entry keys" % what, {"number", "cancelled_on", "reissued_on"}, set(e))
        for k in ("cancelled_on", "reissued_on"):
            assert e[k] is None or DAY_RE.match(e[k]), "%s: %s %r" % (what, k, e)
        assert e["cancelled_on"] or e["reissued_on"], "%s: an entry with neither day: %r" % (what, e)
    assert d["next"] is None or isinstance(d["next"], str), "%s: next %r" % (what, d["next"])
    return d["disconnections"], d["next"]


def all_disconnections(client, since, limit=None, what="disconnections"):
    out, cursor = [], None
    for _ in range(1000):
        page, cursor = disconnections(client, since, cursor, limit, what)
        out += page
        if cursor is None:
            return out
        assert page, "%s: an empty page with a next cursor %r" % (what, cursor)
    raise AssertionError("%s: paging does not end" % what)


def expected_disconnections(histories, since):
    """The oracle: histories {number: [(event, at)]} in time order."""
    out = []
    for number in sorted(histories):
        cancelled = reissued = None
        activations = 0
        for event, at in histories[number]:
            day = store_day(at)
            if event == "activate":
                activations += 1
                if activations > 1 and day >= since:
                    reissued = day
            elif event == "cancel" and day >= since:
                cancelled = day
        if cancelled or reissued:
            out.append({"number": number, "cancelled_on": cancelled, "reissued_on": reissued})
    return out


def case_disconnections_since(_):
    with World() as w:
        a = w.c(w.a)
        d1, d2, d3, d4, d5 = w.fresh(5)
        hist = {
            d1: [("activate", utc(days=400)), ("cancel", utc(days=200))],
            d2: [("activate", utc(days=400)), ("cancel", utc(days=200)), ("activate", utc(hours=1))],
            d3: [("activate", utc(days=400))],
            d4: [("activate", utc(days=500)), ("cancel", utc(days=300))],
            d5: [("activate", utc(days=600)), ("cancel", utc(days=500)), ("activate", utc(days=300)),
                 ("cancel", utc(days=100))],
        }
        for number, events in hist.items():
            w.apply(*[ev(number, e, at) for e, at in events], what="history of " + number)
        for back in (1000, 350, 250, 50, 0):
            since = h.store_date(-back)
            want = expected_disconnections(hist, since)
            got = all_disconnections(a, since, what="since %s" % since)
            eq("disconnections since %s (%d days ago)" % (since, back), want, got)
        d350 = {e["number"]: e for e in all_disconnections(a, h.store_date(-350))}
        assert d3 not in d350, "a first activation was listed as a reissue"
        eq("d5 since 350 days ago", (store_day(hist[d5][3][1]), store_day(hist[d5][2][1])),
           (d350[d5]["cancelled_on"], d350[d5]["reissued_on"]))
        for bad in ("2024-13-01", "yesterday", "2024-1-1", ""):
            expect_error(a.get("/v1/disconnections?since=" + bad), 400, "INVALID_ARGUMENT",
                         "since=%r" % bad)
        expect_error(a.get("/v1/disconnections"), 400, "INVALID_ARGUMENT", "no since")


def case_disconnections_future_since_is_400(_):
    """The conventions table: a date in the future is 400 OUT_OF_RANGE (also
    accepted: INVALID_ARGUMENT)."""
    with World() as w:
        r = w.c(w.a).get("/v1/disconnections?since=" + h.store_date(2))
        eq("since the day after tomorrow: status (%r)" % r.body[:200], 400, r.status)
        assert h.check_error_shape(r)["code"] in ("INVALID_ARGUMENT", "OUT_OF_RANGE"), r


def case_disconnections_paging(_):
    with World() as w:
        a = w.c(w.a)
        nums = w.fresh(7)
        for x in nums:
            w.apply(ev(x, "activate", utc(days=400)), ev(x, "cancel", utc(days=200)))
        since = h.store_date(-300)
        full = all_disconnections(a, since)
        eq("all seven, in number order", nums, [e["number"] for e in full])
        pages, cursor, seen = 0, None, []
        while True:
            page, cursor = disconnections(a, since, cursor, 3, "limit=3")
            pages += 1
            assert len(page) <= 3, "limit=3 gave %d" % len(page)
            seen += page
            if cursor is None:
                break
            assert pages < 10, "paging does not end"
        eq("limit=3: pages", 3, pages)
        eq("limit=3: joined pages = the full list", full, seen)
        one = all_disconnections(a, since, limit=1, what="limit=1")
        eq("limit=1: joined pages = the full list", full, one)


# ---------------------------------------------------------------------------
# 8. admin


def admin_notices(client, state, limit=None, what="admin notices"):
    out, cursor = [], None
    for _ in range(1000):
        path = "/v1/admin/notices?state=" + state
        if limit is not None:
            path += "&limit=%d" % limit
        if cursor:
            path += "&after=" + q(cursor)
        d = expect_json(client.get(path), 200, "%s %s" % (what, path))
        eq("%s: answer keys" % what, {"notices", "next"}, set(d))
        for n in d["notices"]:
            check_notice(n, what, admin=True)
            eq("%s: state" % what, state, n["state"])
        out += d["notices"]
        if not d["notices"] or not d["next"]:
            return out
        cursor = d["next"]
    raise AssertionError("%s: paging does not end" % what)


def admin_apps(client, what="admin apps"):
    d = expect_json(client.get("/v1/admin/apps"), 200, what)
    eq("%s: answer keys" % what, {"apps"}, set(d))
    for x in d["apps"]:
        eq("%s: entry keys" % what, APP_KEYS, set(x))
        for k in ("bindings", "numbers", "notices", "acknowledged", "overdue", "pending", "dead"):
            assert type(x[k]) is int and x[k] >= 0, "%s: %s %r" % (what, k, x)
    return d["apps"]


def check_rate(what, acked, total, rate):
    assert isinstance(rate, (int, float)) and not isinstance(rate, bool), "%s: ack_rate %r" % (what, rate)
    frac = acked / total
    assert abs(rate - frac) < 0.01 or abs(rate - 100 * frac) < 1, \
        "%s: ack_rate %r for %d of %d acknowledged" % (what, rate, acked, total)


@h.timeout(150)
def case_admin_overdue_apps_and_guard_release(_):
    deadline_days = 0.0001                            # 8.64 s
    with World(extra=["--notice-deadline", str(deadline_days)]) as w:
        a, bb, adm = w.c(w.a), w.c(w.b), w.c(w.admin)
        n1, n2 = w.fresh(2)
        w.activate(n1)
        w.activate(n2)
        bind(a, [b(n1, "x", utc(days=300)), b(n1, "y", utc(days=300)), b(n2, "w", utc(days=300))])
        bind(bb, [b(n1, "z", utc(days=300))])
        w.cancel(n1, n2)
        na, nb = w.notices(w.a), w.notices(w.b)
        eq("notices", (3, 1), (len(na), len(nb)))
        for x in na + nb:
            span = (parse_time(x["deadline"]) - parse_time(x["created_at"])).total_seconds()
            assert abs(span - deadline_days * 86400) <= 1.5, \
                "deadline - created_at = %.1f s, expected %.2f s" % (span, deadline_days * 86400)
        hx = account_hash(a, n1, "x")
        acked = ack(a, by_hash(na)[hx]["id"], "reverified")
        w.reissue(n1, expect="REISSUE_HELD")          # y and z still open before the deadline
        latest = max(parse_time(x["deadline"]) for x in na + nb)
        wait = (latest - now_utc()).total_seconds() + 2.0
        if wait > 0:
            time.sleep(wait)
        overdue = admin_notices(adm, "overdue")
        eq("admin overdue: (app, id)", sorted([("app-a", x["id"]) for x in na if x["id"] != acked["id"]]
                                              + [("app-b", nb[0]["id"])]),
           sorted((x["app"], x["id"]) for x in overdue))
        eq("admin acknowledged", [("app-a", acked["id"], "reverified")],
           [(x["app"], x["id"], x["outcome"]) for x in admin_notices(adm, "acknowledged")])
        eq("admin open", [], admin_notices(adm, "open"))
        paged = admin_notices(adm, "overdue", limit=1, what="admin overdue limit=1")
        eq("admin overdue paged by 1", [x["id"] for x in overdue], [x["id"] for x in paged])
        eq("app-a sees its own as overdue", ["overdue", "overdue"],
           [x["state"] for x in w.notices(w.a) if x["id"] != acked["id"]])
        apps = {x["name"]: x for x in admin_apps(adm)}
        for name in ("app-a", "app-b"):
            assert name in apps, "admin apps does not list %s: %r" % (name, sorted(apps))
        ea, eb = apps["app-a"], apps["app-b"]
        eq("app-a counts (bindings, numbers, notices, acknowledged, overdue, pending, dead)",
           (3, 2, 3, 1, 2, 0, 0), tuple(ea[k] for k in ("bindings", "numbers", "notices",
                                                        "acknowledged", "overdue", "pending", "dead")))
        eq("app-b counts", (1, 1, 1, 0, 1, 0, 0),
           tuple(eb[k] for k in ("bindings", "numbers", "notices", "acknowledged", "overdue",
                                 "pending", "dead")))
        check_rate("app-a", 1, 3, ea["ack_rate"])
        check_rate("app-b", 0, 1, eb["ack_rate"])
        assert not ea["webhook"] and not eb["webhook"], "no webhook, yet: %r %r" % (ea, eb)
        # overdue notices no longer hold the reissue
        w.reissue(n1)
        for path in ("/v1/admin/notices?state=overdue", "/v1/admin/apps",
                     "/v1/admin/deliveries?state=dead"):
            expect_error(a.get(path), 403, "PERMISSION_DENIED", "app key on " + path)
        expect_error(adm.get("/v1/admin/notices?state=bogus"), 400, "INVALID_ARGUMENT", "state=bogus")


# ---------------------------------------------------------------------------
# 9. tenant isolation


def case_isolation_bindings(_):
    with World(apps=("app-a", "app-b")) as w:
        a, bb = w.c(w.a), w.c(w.b)
        a2 = w.c(w.a2)                                 # a second key of app-a (rotation)
        n = w.fresh()[0]
        w.activate(n)
        bind(a, [b(n, "shared-acct", utc(days=100)), b(n, "a-only", utc(days=100))])
        eq("app-b: GET lists nothing", [], get_bindings(bb, n)["bindings"])
        eq("app-b: GET with A's account lists nothing", [],
           get_bindings(bb, n, "shared-acct")["bindings"])
        eq("app-b: DELETE of A's binding finds nothing", (0, 1),
           unbind(bb, [{"number": n, "account": "a-only"}]))
        eq("app-a still has both", 2, len(get_bindings(a, n)["bindings"]))
        eq("a second key of app-a sees app-a's bindings", 2, len(get_bindings(a2, n)["bindings"]))
        bind(bb, [b(n, "shared-acct", utc(days=50))])
        hb = account_hash(bb, n, "shared-acct")
        ha = account_hash(a, n, "shared-acct")
        assert ha != hb, "the same account hashes alike for two apps: %s" % ha
        eq("app-b sees only its own", [hb], [e["account_hash"] for e in get_bindings(bb, n)["bindings"]])
        eq("app-a unchanged", 2, len(get_bindings(a, n)["bindings"]))


def case_isolation_notices_and_ack(_):
    with World() as w:
        a, bb = w.c(w.a), w.c(w.b)
        cancelled_pair(w, ("x",), ())
        na = w.notices(w.a)
        nid = na[0]["id"]
        eq("app-b's feed is empty", [], w.notices(w.b))
        eq("app-b's feed with after/limit is empty", [], notices_page(bb, None, 1)[0])
        expect_error(bb.get("/v1/notices/%s" % nid), 404, "NOT_FOUND", "app-b GETs app-a's notice")
        expect_error(bb.post("/v1/notices/%s/ack" % nid, {"outcome": "unbound"}), 404, "NOT_FOUND",
                     "app-b acks app-a's notice")
        eq("app-a's notice untouched", na[0], get_notice(a, nid))
        eq("app-a's binding untouched", 1, len(get_bindings(a, na[0]["number"])["bindings"]))
        a2 = w.c(w.a2)
        eq("a second key of app-a sees the notice", [nid], [x["id"] for x in all_notices(a2)])
        expect_error(bb.get("/v1/admin/notices?state=open"), 403, "PERMISSION_DENIED",
                     "app key on the admin notices")


@h.timeout(150)
def case_isolation_webhooks_and_deliveries(_):
    with World(extra=["--retry-base-ms", "100"]) as w:
        a, bb = w.c(w.a), w.c(w.b)
        ra, rb = w.receiver(SECRET_A), w.receiver(SECRET_B)
        put_webhook(a, ra.url, SECRET_A)
        expect_error(bb.get("/v1/webhook"), 404, "NOT_FOUND", "app-b sees no webhook")
        put_webhook(bb, rb.url, SECRET_B)
        eq("app-a's webhook kept", ra.url, webhook_status(a)["url"])
        expect_json(bb.delete("/v1/webhook"), 200, "app-b DELETE")
        eq("app-a's webhook survives app-b's DELETE", ra.url, webhook_status(a)["url"])
        put_webhook(bb, rb.url, SECRET_B)
        cancelled_pair(w, ("xa",), ("xb",))
        ida = [x["id"] for x in w.notices(w.a)]
        idb = [x["id"] for x in w.notices(w.b)]
        ra.wait_delivered_ids(ida, 30)
        rb.wait_delivered_ids(idb, 30)
        time.sleep(0.5)
        eq("app-a's receiver got only app-a's", set(ida), {x.notice_id for x in ra.attempts()})
        eq("app-b's receiver got only app-b's", set(idb), {x.notice_id for x in rb.attempts()})
        for att in ra.attempts():
            check_signed(att, "SECRET_A")
        for att in rb.attempts():
            check_signed(att, "SECRET_B")
        # outcomes are recorded once the deliverer has read each answer
        h.wait_until(lambda: {d["notice_id"] for d in deliveries(a, "delivered")} == set(ida),
                     10, "app-a's deliveries recorded")
        h.wait_until(lambda: {d["notice_id"] for d in deliveries(bb, "delivered")} == set(idb),
                     10, "app-b's deliveries recorded")
        eq("app-a's counts", 1, webhook_status(a)["delivered"])
        eq("app-b's counts", 1, webhook_status(bb)["delivered"])


def case_isolation_subscription(_):
    with World() as w:
        a, bb = w.c(w.a), w.c(w.b)
        on = {"cancellations": True, "reissues": True}
        expect_json(a.request("PUT", "/v1/subscription", json_body=on), 200, "app-a subscribes")
        eq("app-b's subscription untouched", {"cancellations": False, "reissues": False},
           expect_json(bb.get("/v1/subscription"), 200))
        u = w.fresh()[0]
        w.activate(u)
        w.cancel(u)
        eq("app-a: a subscription notice", ["subscription"], [x["source"] for x in w.notices(w.a)])
        eq("app-b: nothing", [], w.notices(w.b))


def case_roles_every_endpoint(_):
    with World() as w:
        n = w.fresh()[0]
        item = {"bindings": [b(n, "x", utc(days=1))]}
        app_eps = [
            ("PUT", "/v1/bindings", item),
            ("DELETE", "/v1/bindings", item),
            ("GET", "/v1/bindings?number=" + q(n), None),
            ("GET", "/v1/notices", None),
            ("GET", "/v1/notices/1", None),
            ("POST", "/v1/notices/1/ack", {"outcome": "unbound"}),
            ("PUT", "/v1/webhook", {"url": "http://127.0.0.1:9/h", "secret": SECRET_A}),
            ("GET", "/v1/webhook", None),
            ("DELETE", "/v1/webhook", None),
            ("GET", "/v1/deliveries?state=pending", None),
            ("PUT", "/v1/subscription", {"cancellations": True, "reissues": True}),
            ("GET", "/v1/subscription", None),
            ("GET", "/v1/disconnections?since=" + h.store_date(-10), None),
        ]
        admin_eps = [
            ("GET", "/v1/admin/notices?state=open", None),
            ("GET", "/v1/admin/apps", None),
            ("GET", "/v1/admin/deliveries?state=dead", None),
        ]

        def call(key, method, path, body):
            c = w.c(key)
            if body is None:
                return c.request(method, path)
            return c.request(method, path, json_body=body)

        for eps, good, wrong in ((app_eps, w.a, ((w.cm, "carrier"), (w.admin, "admin"))),
                                 (admin_eps, w.admin, ((w.a, "app"), (w.cm, "carrier")))):
            for method, path, body in eps:
                expect_error(call(None, method, path, body), 401, "UNAUTHENTICATED",
                             "%s %s without a key" % (method, path))
                expect_error(call("sn_" + "0" * 64, method, path, body), 401, "UNAUTHENTICATED",
                             "%s %s with an unknown key" % (method, path))
                for key, role in wrong:
                    expect_error(call(key, method, path, body), 403, "PERMISSION_DENIED",
                                 "%s %s with a %s key" % (method, path, role))
                if (method, path) == ("PUT", "/v1/bindings"):
                    eq("the refused PUTs bound nothing", [],
                       get_bindings(w.c(w.a), n)["bindings"])
                if (method, path) == ("DELETE", "/v1/bindings"):
                    eq("the refused DELETEs unbound nothing", 1,
                       len(get_bindings(w.c(w.a), n)["bindings"]))
                r = call(good, method, path, body)
                assert r.status not in (401, 403, 405), \
                    "%s %s with the right role: %d %r" % (method, path, r.status, r.body[:200])
                if r.status == 404:   # no such notice 1 / no webhook: a NOT_FOUND, not a route miss
                    assert path.startswith("/v1/notices/1") or path == "/v1/webhook", \
                        "%s %s with the right role: 404 %r" % (method, path, r.body[:200])
                    eq("%s %s: 404 code" % (method, path), "NOT_FOUND", h.check_error_shape(r)["code"])
                elif r.status >= 300:
                    raise AssertionError("%s %s with the right role: %d %r"
                                         % (method, path, r.status, r.body[:200]))


if __name__ == "__main__":
    h.main(globals())
