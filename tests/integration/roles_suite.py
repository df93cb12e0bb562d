"""roles_suite.py - issue 13, the role matrix as a test: every route of
src/http/routes.c, with every method, called by every kind of caller against
a real `secondnum serve`, and the authentication outcome checked against the
matrix below.

The matrix (MATRIX) is this file's own statement of who may call what. It is
compared with the route table parsed from src/http/routes.c (method, path,
auth kind, role): a route added without its row, a row left for a route that
is gone, or a route whose auth or role changed without its row fails
case_route_table_and_matrix_agree, saying which.

The callers: no Authorization header, a well-formed key nobody issued, a
revoked app key, an app key, a carrier key, an admin key, a subscriber's
live session token, and a session token that was signed out (session-shaped,
so the router lets it through to the route's work, which must refuse it).

Expected outcomes (router.c `authenticate`, docs/http-api.md
"Authentication" and "Subscribers"):
  - an allowed caller never gets 401 or 403 (nor a 5xx);
  - a key route: no key, an unknown or revoked key, a session token (it is no
    key), an ended session -> 401 UNAUTHENTICATED; a key of another role ->
    403 PERMISSION_DENIED;
  - a session route: anything but a live session token -> 401
    UNAUTHENTICATED (an API key is "not a session token");
  - the CAMARA route: an app key or a live session; carrier and admin keys
    -> 403, the rest -> 401;
  - an open route: every caller passes authentication.
Every error has the CAMARA shape {"status", "code", "message"}. Requests:
path {id} -> 1, a body `{}` (application/json) on POST and PUT: only the
authentication outcome matters, not whether the allowed caller's request is
valid. case_refused_requests_change_nothing then sends every refused caller
a body that would change the store, and checks that nothing changed.
KNOWN_DEFECTS lists the cells where the server answers otherwise (printed as
"# known defect" lines); a cell that starts answering right fails until its
entry is removed.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
Runs on SQLite and, through tests/pg/run.sh, on PostgreSQL.
"""

import datetime
import hashlib
import json
import os
import re
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROUTES_C = os.path.join(ROOT, "src", "http", "routes.c")

# ---------------------------------------------------------------------------
# the matrix: METHOD PATH -> who may call it
#   anyone       no authentication (SN_AUTH_NONE)
#   app|carrier|admin   an API key of that role (SN_AUTH_KEY)
#   session      a subscriber's session token (SN_AUTH_SESSION)
#   app+session  an app key or a session token (SN_AUTH_KEY_OR_SESSION)

MATRIX_TEXT = """
GET     /healthz                              anyone
GET     /openapi.yaml                         anyone
GET     /v1/receipts/keys                     anyone
GET     /metrics                              admin
POST    /number-recycling/v0.2/check          app+session
POST    /number-recycling/v0.3/check          app+session
POST    /number-recycling/v0.3rc1/check       app+session
POST    /v1/check                             app
POST    /v1/check/batch                       app
POST    /v1/check/range                       app
POST    /v1/events                            carrier
POST    /v1/admin/carriers                    admin
GET     /v1/admin/carriers                    admin
POST    /v1/admin/keys                        admin
GET     /v1/admin/keys                        admin
DELETE  /v1/admin/keys/{id}                   admin
PUT     /v1/bindings                          app
DELETE  /v1/bindings                          app
GET     /v1/bindings                          app
GET     /v1/notices                           app
GET     /v1/notices/{id}                      app
POST    /v1/notices/{id}/ack                  app
PUT     /v1/webhook                           app
GET     /v1/webhook                           app
DELETE  /v1/webhook                           app
PUT     /v1/subscription                      app
GET     /v1/subscription                      app
GET     /v1/deliveries                        app
GET     /v1/disconnections                    app
GET     /v1/admin/notices                     admin
GET     /v1/admin/apps                        admin
GET     /v1/admin/deliveries                  admin
POST    /v1/subscriber/otp                    anyone
POST    /v1/subscriber/session                anyone
GET     /v1/subscriber/session                session
DELETE  /v1/subscriber/session                session
GET     /v1/subscriber/bindings               session
POST    /v1/subscriber/unbind                 session
GET     /v1/subscriber/requests               session
GET     /v1/subscriber/checks                 session
POST    /v1/subscriber/complaints             session
GET     /v1/subscriber/complaints             session
POST    /v1/subscriber/report-by-sms          session
GET     /v1/subscriber/checklist              session
POST    /v1/subscriber/app-requests           session
PUT     /v1/profile                           app
GET     /v1/profile                           app
GET     /v1/complaints                        app
POST    /v1/complaints/{id}/resolve           app
GET     /v1/carrier/complaints                carrier
POST    /v1/carrier/complaints/{id}/resolve   carrier
GET     /v1/admin/complaints                  admin
POST    /v1/admin/complaints/{id}/resolve     admin
GET     /v1/admin/audit                       admin
GET     /v1/usage                             app
GET     /v1/admin/usage                       admin
GET     /v1/admin/stats/numbers               admin
GET     /v1/admin/stats/events                admin
GET     /v1/admin/stats/notices               admin
GET     /v1/admin/stats/complaints            admin
GET     /v1/admin/stats/demand                admin
"""

WHO = {"anyone", "app", "carrier", "admin", "session", "app+session"}


def parse_matrix(text):
    rows = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        method, path, who = line.split()
        assert who in WHO, "matrix line %d: unknown caller kind %r" % (n, who)
        assert (method, path) not in rows, "matrix line %d: %s %s twice" % (n, method, path)
        rows[(method, path)] = who
    return rows


MATRIX = parse_matrix(MATRIX_TEXT)

# ---------------------------------------------------------------------------
# the route table of src/http/routes.c

AUTH = {"KEY": "key", "SN_AUTH_KEY": "key", "SESSION": "session", "SN_AUTH_SESSION": "session",
        "NONE": "none", "SN_AUTH_NONE": "none", "SN_AUTH_KEY_OR_SESSION": "key_or_session"}
ROLE = {"APP": "app", "SN_ROLE_APP": "app", "CARRIER": "carrier", "SN_ROLE_CARRIER": "carrier",
        "ADMIN": "admin", "SN_ROLE_ADMIN": "admin", "0": None, "SN_ROLE_NONE": None}
ENTRY_RE = re.compile(r'\{\s*"([A-Z]+)"\s*,\s*"([^"]*)"\s*,\s*([^,]+?)\s*,\s*([^,]+?)\s*,'
                      r'\s*(\w+)\s*,\s*(\w+)\s*,')
# test_openapi.sh's `routes_in_code`: the first line of each entry
SED_RE = re.compile(r'^    \{"([A-Z]*)", "([^"]*)".*')


def parse_routes(text):
    """{(method, path): (auth, role)} from the text of routes.c: every entry
    of sn_routes[], entries spanning lines included."""
    start = text.find("sn_routes[] = {")
    assert start >= 0, "no `sn_routes[] = {` in the route table"
    end = text.find("\n};", start)
    assert end >= 0, "no end of sn_routes[]"
    body = re.sub(r"/\*.*?\*/", "", text[start + len("sn_routes[] = {"):end], flags=re.S)
    body = re.sub(r"//[^\n]*", "", body)
    routes, seen = {}, 0
    for m in ENTRY_RE.finditer(body):
        method, path, _handle, _work, auth, role = m.groups()
        assert auth in AUTH, "%s %s: unknown auth kind %r" % (method, path, auth)
        assert role in ROLE, "%s %s: unknown role %r" % (method, path, role)
        assert (method, path) not in routes, "%s %s twice in the route table" % (method, path)
        routes[(method, path)] = (AUTH[auth], ROLE[role])
        seen += 1
    entries = len(re.findall(r'\{\s*"[A-Z]+"\s*,', body))
    assert entries == seen, "parsed %d of the %d entries of sn_routes[]" % (seen, entries)
    # the same routes as test_openapi.sh's sed finds
    sed = {m.groups() for m in map(SED_RE.match, text[start:].splitlines()) if m}
    assert sed == set(routes), "the sed of test_openapi.sh finds %s, this parser %s" % (
        sorted(sed ^ set(routes)), "the others")
    return routes


def who_of(auth, role):
    """The matrix's word for a route table entry's auth kind and role."""
    if auth == "none":
        return "anyone"
    if auth == "session":
        return "session"
    if auth == "key_or_session":
        return "%s+session" % role
    return role


def compare(routes, matrix):
    """The differences between the route table and the matrix, one message
    each (empty when they agree)."""
    problems = []
    for mp in sorted(set(routes) - set(matrix)):
        problems.append("route %s %s (%s) is in src/http/routes.c but has no row in the role "
                        "matrix of tests/integration/roles_suite.py: add its row"
                        % (mp[0], mp[1], who_of(*routes[mp])))
    for mp in sorted(set(matrix) - set(routes)):
        problems.append("the role matrix has a row for %s %s, which is no route in "
                        "src/http/routes.c: remove the row" % mp)
    for mp in sorted(set(routes) & set(matrix)):
        code = who_of(*routes[mp])
        if code != matrix[mp]:
            problems.append("%s %s: src/http/routes.c lets %s call it, the role matrix says %s"
                            % (mp[0], mp[1], code, matrix[mp]))
    return problems


def routes_in_code():
    with open(ROUTES_C, encoding="utf-8") as f:
        return parse_routes(f.read())


# ---------------------------------------------------------------------------
# the world: a store, keys of every role, a subscriber signed in

RANGE = "+86137"
N_SUB = "+8613700000011"     # the subscriber signed in
N_ENDED = "+8613700000012"   # signed in, then out
N_OLD = "+8613700000013"     # cancelled in setup: an open notice for the app
ID6_SUB, ID6_ENDED = "246810", "13579X"
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
GENEROUS = ["--otp-per-address", "100000", "--signin-per-address", "100000",
            "--otp-per-number", "1000"]

CALLERS = ["none", "bad-key", "revoked-key", "app-key", "carrier-key", "admin-key",
           "session", "ended-session"]
ROLE_OF_CALLER = {"app-key": "app", "carrier-key": "carrier", "admin-key": "admin",
                  "session": "session"}


def at(days=0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Ctx:
    pass


def outbox(c, number=None):
    args = ["sms", "outbox", "--db", c.env.db, "--json"]
    if number:
        args += ["--number", number]
    out = h.run_cli(*args).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def sign_in(c, number, id6):
    """A new session token for number (a code by the outbox SMS driver)."""
    cl = c.server.client()
    expect_json(cl.request("POST", "/v1/subscriber/otp", json_body={"number": number}), 200,
                "otp for %s" % number)
    msgs = [m for m in outbox(c, number) if m["purpose"] == "otp"]
    assert msgs, "no code was sent to %s" % number
    code = CODE_RE.search(msgs[-1]["text"]).group(1)
    d = expect_json(cl.request("POST", "/v1/subscriber/session", json_body={
        "number": number, "code": code, "id6": id6}), 201, "sign in %s" % number)
    return d["token"]


def store_lists(c):
    """The store's keys and carriers, as the CLI lists them."""
    return (h.run_cli("keys", "list", "--db", c.env.db).stdout,
            h.run_cli("carriers", "list", "--db", c.env.db).stdout)


def setup():
    c = Ctx()
    c.env = h.Env()
    c.env.add_carrier("cm", RANGE)
    # the revoked key first: it is key 1, so DELETE /v1/admin/keys/1 (the
    # matrix's {id}) by the admin revokes nothing that was live
    c.revoked = c.env.key("app", "roles-revoked")
    eq("the revoked key's id", 1, c.env.key_ids()["roles-revoked"])
    h.run_cli("keys", "revoke", "--db", c.env.db, 1)
    c.app = c.env.key("app", "roles-app")
    c.carrier = c.env.key("carrier", "roles-carrier", carrier="cm")
    c.admin = c.env.key("admin", "roles-admin")
    c.app_id = c.env.key_ids()["roles-app"]
    c.bad = "sn_" + secrets.token_hex(32)  # well-formed, never issued
    feed = c.env.path("feed.csv")
    with open(feed, "w") as f:
        f.write("number,event,at,event_id,id6\n")
        f.write("%s,activate,%s,r1,%s\n" % (N_SUB, at(300), ID6_SUB))
        f.write("%s,activate,%s,r2,%s\n" % (N_ENDED, at(300), ID6_ENDED))
        f.write("%s,activate,%s,r3,\n" % (N_OLD, at(300)))
    h.run_cli("import", "--db", c.env.db, "--carrier", "cm", feed)
    c.server = h.Server(c.env, threads=2, extra=GENEROUS, private_webhooks=True).start()
    app = c.server.client(c.app)
    # something for a refused request to change: bindings, an open notice,
    # a webhook, a complaint; none of it to be touched by the matrix's `{}`
    expect_json(app.request("PUT", "/v1/bindings", json_body={"bindings": [
        {"number": N_SUB, "account": "sub-acct", "bound_at": at(10)},
        {"number": N_OLD, "account": "old-acct", "bound_at": at(10)}]}), 200, "bind")
    d = expect_json(c.server.client(c.carrier).request("POST", "/v1/events", json_body={
        "events": [{"number": N_OLD, "event": "cancel", "at": at(0), "event_id": "r4"}]}),
        200, "cancel")
    eq("cancel applied", 1, d["applied"])
    notices = expect_json(app.request("GET", "/v1/notices"), 200)["notices"]
    eq("one notice", 1, len(notices))
    c.notice_id = notices[0]["id"]
    expect_json(app.request("PUT", "/v1/webhook", json_body={
        "url": "http://127.0.0.1:9/roles", "secret": "roles-secret-0123456789"}), 200, "webhook")
    c.session = sign_in(c, N_SUB, ID6_SUB)
    d = expect_json(c.server.client(c.session).request("POST", "/v1/subscriber/complaints",
                                                       json_body={"app": "roles-app",
                                                                  "kind": "other",
                                                                  "text": "roles"}),
                    201, "complaint")
    c.complaint_id = d["id"]
    c.ended = sign_in(c, N_ENDED, ID6_ENDED)
    expect_json(c.server.client(c.ended).request("DELETE", "/v1/subscriber/session"), 200,
                "sign out")
    c.tokens = {"none": None, "bad-key": c.bad, "revoked-key": c.revoked, "app-key": c.app,
                "carrier-key": c.carrier, "admin-key": c.admin, "session": c.session,
                "ended-session": c.ended}
    c.clients = {k: c.server.client(v) for k, v in c.tokens.items()}
    c.lists = store_lists(c)
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


# ---------------------------------------------------------------------------
# the matrix


def expected(who, caller):
    """None when caller may call a route of who; else (status, code)."""
    if who == "anyone":
        return None
    allowed = set(who.split("+"))
    if ROLE_OF_CALLER.get(caller) in allowed:
        return None
    if caller in ("app-key", "carrier-key", "admin-key") and allowed - {"session"}:
        return (403, "PERMISSION_DENIED")
    return (401, "UNAUTHENTICATED")


def send(c, caller, method, path, body=h.NONE, token=h.AUTO):
    cl = c.clients[caller] if token is h.AUTO else c.server.client(token)
    if method in ("POST", "PUT") and body is h.NONE:
        body = {}
    return cl.request(method, path, json_body=body)


def judge(who, caller, r):
    """A failure text, or None when r is the outcome the matrix expects."""
    want = expected(who, caller)
    try:
        if r.status >= 400:
            h.check_error_shape(r)
        if want is None:
            if r.status in (401, 403) or r.status >= 500:
                return "allowed, got %d %r" % (r.status, r.body[:200])
        elif (r.status, r.json().get("code")) != want:
            return "expected %d %s, got %d %r" % (want[0], want[1], r.status, r.body[:200])
    except AssertionError as e:
        return "%d: %s" % (r.status, e)
    return None


# Cells where the server is known to answer otherwise than the matrix says:
# (method, path, caller) -> (the status it answers, why that is wrong). A
# cell that starts answering right fails the case until its entry goes.
KNOWN_DEFECTS = {}


def run_matrix(c, kinds):
    """Every route whose matrix row is one of kinds, by every caller."""
    rows = sorted((mp, who) for mp, who in MATRIX.items() if who in kinds)
    assert rows, "no route of %s in the matrix" % (kinds,)
    failures = []
    for (method, path), who in rows:
        url = path.replace("{id}", "1")
        for caller in CALLERS:
            token = h.AUTO
            if (method, path) == ("DELETE", "/v1/subscriber/session") and caller == "session":
                token = sign_in(c, N_SUB, ID6_SUB)  # signing out ends it: a fresh one
            r = send(c, caller, method, url, token=token)
            why = judge(who, caller, r)
            known = KNOWN_DEFECTS.get((method, path, caller))
            if known and why is None:
                why = "answers as the matrix says now: remove its KNOWN_DEFECTS entry"
            elif known and r.status == known[0]:
                print("# known defect: %s %s by %s answers %d: %s" % (
                    method, path, caller, r.status, known[1]), flush=True)
                why = None
            if why:
                failures.append("%-7s %-38s %-14s %s" % (method, path, caller, why))
    n = len(rows) * len(CALLERS)
    assert not failures, "%d of %d requests:\n%s" % (len(failures), n, "\n".join(failures))
    print("# %d routes x %d callers = %d requests" % (len(rows), len(CALLERS), n), flush=True)
    return n


def case_route_table_and_matrix_agree(c):
    routes = routes_in_code()
    assert len(routes) >= 40, "parsed only %d routes from %s" % (len(routes), ROUTES_C)
    problems = compare(routes, MATRIX)
    assert not problems, "\n".join(problems)


def case_a_route_without_a_row_fails(c):
    with open(ROUTES_C, encoding="utf-8") as f:
        text = f.read()
    tail = text.index("\n};", text.index("sn_routes[] = {"))
    # one extra route, as a copy of routes.c would have it
    path = c.env.path("routes_plus_one.c")
    with open(path, "w") as f:
        f.write(text[:tail] + '\n    {"PATCH", "/v1/admin/fake/{id}", sn_h_fake, NULL, KEY,'
                '\n     ADMIN, 0, NULL, NULL},' + text[tail:])
    with open(path) as f:
        problems = compare(parse_routes(f.read()), MATRIX)
    eq("problems with one route more", 1, len(problems))
    assert "PATCH /v1/admin/fake/{id}" in problems[0] and "no row" in problems[0], problems
    # a route gone: its row is left over
    line = '    {"GET", "/healthz", sn_h_healthz, NULL, NONE, 0, 0, NULL, NULL},\n'
    assert line in text, "no /healthz line to remove"
    problems = compare(parse_routes(text.replace(line, "")), MATRIX)
    eq("problems with /healthz gone", 1, len(problems))
    assert "GET /healthz" in problems[0] and "remove the row" in problems[0], problems
    # a route whose role changed
    line = '{"GET", "/v1/admin/apps", NULL, sn_w_admin_apps, KEY, ADMIN,'
    assert line in text, "no /v1/admin/apps line to edit"
    problems = compare(parse_routes(text.replace(line, line.replace("ADMIN", "APP"))), MATRIX)
    eq("problems with an admin route open to apps",
       ["GET /v1/admin/apps: src/http/routes.c lets app call it, the role matrix says admin"],
       problems)
    # and one row less in the matrix
    less = dict(MATRIX)
    del less[("GET", "/v1/profile")]
    problems = compare(routes_in_code(), less)
    eq("problems with a row missing", 1, len(problems))
    assert "GET /v1/profile" in problems[0] and "no row" in problems[0], problems


# the four cases below together cover every row
MATRIX_CASES = ({"app", "carrier", "admin"}, {"session"}, {"app+session"}, {"anyone"})
assert set().union(*MATRIX_CASES) == WHO


def case_matrix_key_routes(c):
    run_matrix(c, {"app", "carrier", "admin"})


def case_matrix_session_routes(c):
    run_matrix(c, {"session"})
    # the live session survived every other caller (the ended one included)
    expect_json(c.clients["session"].request("GET", "/v1/subscriber/session"), 200,
                "the session after the matrix")


def case_matrix_camara_route(c):
    run_matrix(c, {"app+session"})


def case_matrix_open_routes(c):
    run_matrix(c, {"anyone"})


# ---------------------------------------------------------------------------
# refused requests change nothing

def potent_requests(c):
    """(method, path, body) for every route: what would change the store, or
    at least do real work, if its caller were let in."""
    sub, cid, nid = N_SUB, c.complaint_id, c.notice_id
    return {
        ("POST", "/number-recycling/v0.2/check"): (
            "/number-recycling/v0.2/check", {"phoneNumber": sub, "specifiedDate": at(30)[:10]}),
        ("POST", "/number-recycling/v0.3/check"): (
            "/number-recycling/v0.3/check", {"phoneNumber": sub, "specifiedDate": at(30)[:10]}),
        ("POST", "/number-recycling/v0.3rc1/check"): (
            "/number-recycling/v0.3rc1/check", {"phoneNumber": sub,
                                                "specifiedDate": at(30)[:10]}),
        ("POST", "/v1/check"): ("/v1/check", {"number": sub, "date": at(30)[:10]}),
        ("POST", "/v1/check/batch"): (
            "/v1/check/batch", {"items": [{"number": sub, "date": at(30)[:10]}]}),
        ("POST", "/v1/check/range"): ("/v1/check/range", {
            "prefix": hashlib.sha256(sub.encode()).hexdigest()[:5], "date": at(30)[:10]}),
        ("POST", "/v1/events"): ("/v1/events", {"events": [
            {"number": sub, "event": "cancel", "at": at(0), "event_id": "evil-1"}]}),
        ("POST", "/v1/admin/carriers"): ("/v1/admin/carriers", {"name": "cm",
                                                                "ranges": ["+86139"]}),
        ("POST", "/v1/admin/keys"): ("/v1/admin/keys", {"role": "admin", "name": "evil"}),
        ("DELETE", "/v1/admin/keys/{id}"): ("/v1/admin/keys/%d" % c.app_id, h.NONE),
        ("PUT", "/v1/bindings"): ("/v1/bindings", {"bindings": [
            {"number": sub, "account": "evil", "bound_at": at(1)}]}),
        ("DELETE", "/v1/bindings"): ("/v1/bindings", {"bindings": [
            {"number": sub, "account": "sub-acct"}]}),
        ("GET", "/v1/bindings"): ("/v1/bindings?number=%2B" + sub[1:], h.NONE),
        ("GET", "/v1/notices/{id}"): ("/v1/notices/%s" % nid, h.NONE),
        ("POST", "/v1/notices/{id}/ack"): ("/v1/notices/%s/ack" % nid, {"outcome": "unbound"}),
        ("PUT", "/v1/webhook"): ("/v1/webhook", {"url": "http://127.0.0.1:9/evil",
                                                 "secret": "evil-secret-0123456789"}),
        ("PUT", "/v1/subscription"): ("/v1/subscription", {"cancellations": True,
                                                           "reissues": True}),
        ("GET", "/v1/disconnections"): ("/v1/disconnections?since=%s" % at(400)[:10], h.NONE),
        ("POST", "/v1/subscriber/unbind"): ("/v1/subscriber/unbind", {"app": "roles-app",
                                                                      "scope": "mine"}),
        ("POST", "/v1/subscriber/complaints"): ("/v1/subscriber/complaints", {
            "app": "roles-app", "kind": "other", "text": "evil"}),
        ("PUT", "/v1/profile"): ("/v1/profile", {"display_name": "evil"}),
        ("POST", "/v1/complaints/{id}/resolve"): (
            "/v1/complaints/%s/resolve" % cid, {"resolution": "evil"}),
        ("POST", "/v1/carrier/complaints/{id}/resolve"): (
            "/v1/carrier/complaints/%s/resolve" % cid, {"resolution": "evil"}),
        ("POST", "/v1/admin/complaints/{id}/resolve"): (
            "/v1/admin/complaints/%s/resolve" % cid, {"resolution": "evil"}),
    }


def snapshot(c):
    """What the store holds, as its rightful callers read it."""
    app, admin, carrier = (c.server.client(k) for k in (c.app, c.admin, c.carrier))
    sub = c.server.client(c.session)
    reads = [
        (app, "/v1/bindings?number=%2B" + N_SUB[1:]), (app, "/v1/bindings?number=%2B" + N_OLD[1:]),
        (app, "/v1/notices"), (app, "/v1/webhook"), (app, "/v1/subscription"),
        (app, "/v1/profile"), (app, "/v1/deliveries?state=pending"), (app, "/v1/complaints?state=all"),
        (carrier, "/v1/carrier/complaints?state=all"), (admin, "/v1/admin/complaints"),
        (admin, "/v1/admin/keys"), (admin, "/v1/admin/carriers"), (admin, "/v1/admin/apps"),
        (admin, "/v1/admin/notices"), (admin, "/v1/admin/deliveries?state=pending"),
        (sub, "/v1/subscriber/session"), (sub, "/v1/subscriber/bindings"),
        (sub, "/v1/subscriber/requests"), (sub, "/v1/subscriber/complaints"),
        (sub, "/v1/subscriber/checklist"),
    ]
    snap = {}
    for cl, path in reads:
        r = cl.request("GET", path)
        assert r.status in (200, 404), "%s: %d %r" % (path, r.status, r.body[:300])
        snap[path] = (r.status, r.json())
    snap["healthz"] = expect_json(app.request("GET", "/healthz"), 200)
    snap["cli keys, carriers"] = store_lists(c)
    # a sign-in code's text is erased by the server's own tick once the code
    # is dead (docs/internals/subscribers.md), refusals or not: the messages
    # are compared without it
    snap["sms outbox"] = [dict(m, text=None) if m["purpose"] == "otp" else m for m in outbox(c)]
    check = expect_json(app.request("POST", "/v1/check", json_body={
        "number": N_SUB, "date": at(30)[:10]}), 200)
    snap["check"] = check
    return snap


def case_refused_requests_change_nothing(c):
    # the matrix's app may have deleted it: a webhook for a refused DELETE to remove
    expect_json(c.server.client(c.app).request("PUT", "/v1/webhook", json_body={
        "url": "http://127.0.0.1:9/roles", "secret": "roles-secret-0123456789"}), 200, "webhook")
    before = snapshot(c)
    potent = potent_requests(c)
    refused = 0
    failures = []
    for (method, path), who in sorted(MATRIX.items()):
        url, body = potent.get((method, path), (path.replace("{id}", "1"), h.NONE))
        for caller in CALLERS:
            if expected(who, caller) is None:
                continue
            refused += 1
            why = judge(who, caller, send(c, caller, method, url, body))
            if why:
                failures.append("%-7s %-38s %-14s %s" % (method, path, caller, why))
    assert not failures, "refused callers:\n" + "\n".join(failures)
    after = snapshot(c)
    changed = [k for k in before if before[k] != after[k]]
    assert not changed, "\n".join("%s changed:\n  before %r\n  after  %r" % (
        k, before[k], after[k]) for k in changed)
    eq("keys and carriers as setup made them", c.lists, after["cli keys, carriers"])
    assert refused > 200, "only %d refused requests" % refused


if __name__ == "__main__":
    h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
