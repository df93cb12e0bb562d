#!/usr/bin/env python3
"""runner.py - run a CAMARA test definition (.feature) against secondnum serve.

  SECONDNUM=build/dev/secondnum python3 tests/camara/runner.py [--spec YAML] FEATURE PATH...

FEATURE is a published Gherkin file (tests/camara/VERSION/number-recycling.feature,
with the version's OpenAPI document number-recycling.yaml beside it, or the
one --spec names; the steps' schema references point into it); each
PATH is a check resource to run every scenario at (it replaces the feature's
`the resource "..."` step). The runner builds a store with the testing
assets (harness.standard_env: one number held by one subscriber since
2023-10-09, one cancelled and reissued to a second subscriber, one in the
carrier's range never reported, and one outside every carrier's range),
creates an app, and starts serve on a free loopback port with OAuth
configured (--oauth-issuer/--oauth-audience/--oauth-jwks on a JWK Set
written by tokens.py). Scenarios whose subject is "identified by the access
token or provided in the request body" run twice: with phoneNumber in the
body and a two-legged token, and with a three-legged token naming the number.

Every step is matched against STEPS (regular expressions -> functions); a
step no definition matches fails its scenario (so a new scenario is never
skipped silently). Prints one "ok NAME" / "not ok NAME" line per scenario
run and exits 1 if any failed. CASE_FILTER runs only the scenarios whose tag
or name contains it. The runner itself needs only the standard library;
tokens.py mints tokens with python3-jwt.
"""

import copy
import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import gherkin  # noqa: E402
import harness as h  # noqa: E402
import oas  # noqa: E402

APP_NAME = "camara-features"
NOT_APPLICABLE = "+8615912345678"  # in no carrier's range (the store has +86138 only)
REQUEST_TIMEOUT = 30  # seconds for one HTTP request


class Undefined(Exception):
    pass


# ---------------------------------------------------------------------------
# testing assets and credentials


class Assets:
    """The numbers and dates of the standard store the steps refer to."""
    same = h.N_SAME                 # one subscriber since 2023-10-09
    same_contract = "2023-10-09"
    recycled = h.N_NEW              # user A 2023-10-09..2024-02-25, user B since 2024-09-21
    recycled_contract_a = "2023-10-09"
    not_found = h.N_NEVER           # in the carrier's range, never reported
    not_applicable = NOT_APPLICABLE
    default_date = "2024-11-02"


# The feature header's "Testing assets" lines the store above provides; a
# line not matched here fails the run (a new asset must be prepared first).
KNOWN_ASSETS = [
    (re.compile(r'A mobile line identified by its phone number "phoneNumber" linked to a user'),
     "same"),
    (re.compile(r'A mobile line identified by its phone number "phoneNumber" which was cancelled '
                r"by a user and is now used by another user"), "recycled"),
]


def testing_assets(feature):
    """The asset lines of the feature's header; AssertionError for an unknown one."""
    lines, inside = [], False
    for c in feature.description:
        text = c.lstrip("#").strip()
        if text.lower().startswith("testing assets"):
            inside = True
        elif inside and text.startswith("*"):
            lines.append(text[1:].strip())
        elif inside:
            inside = False
    for line in lines:
        if not any(rx.fullmatch(line) for rx, _ in KNOWN_ASSETS):
            raise AssertionError("testing asset the runner does not prepare: %s" % line)
    return lines


class Auth:
    """The one source of Authorization values. With an Issuer (tokens.py),
    every kind is a real JWT; without one (a serve without OAuth) only the
    plain valid credential exists (the app's API key, also a bearer) and
    every other kind fails the scenario that asks for it."""

    def __init__(self, issuer, api_key):
        self.issuer = issuer
        self.api_key = api_key

    def _need(self, what):
        if self.issuer is None:
            raise AssertionError("%s needs an OAuth access token, and this serve has no "
                                 "--oauth-issuer: not run (failing, not skipped)" % what)
        return self.issuer

    def two_legged(self):
        return self.issuer.two_legged() if self.issuer else self.api_key

    def three_legged(self, number):
        return self._need("a three-legged token").three_legged(number, alg="ES256")

    def expired(self):
        return self._need("an expired token").expired()

    def without_scope(self):
        return self._need("a token without the scope").without_scope()

    def invalid(self):
        return self._need("an invalid token").invalid()


# ---------------------------------------------------------------------------
# one scenario run


class World:
    def __init__(self, ctx, mode):
        self.ctx = ctx
        self.doc = ctx.doc
        self.mode = mode          # "body" or "token": how the subject is identified
        self.path = ctx.path
        self.method = None
        self.headers = {}
        self.body = None          # a JSON value, RawBody, or None (no body)
        self.subject = None
        self.variants = []        # lists of (label, fn(request)) from variant steps
        self.responses = []       # (label, sent headers, Response)

    def identify(self, number):
        """The subject, by token or in the body depending on the mode."""
        self.subject = number
        if self.mode == "token":
            self.headers["Authorization"] = "Bearer " + self.ctx.auth.three_legged(number)
            if isinstance(self.body, dict):
                self.body.pop("phoneNumber", None)
        else:
            self.headers["Authorization"] = "Bearer " + self.ctx.auth.two_legged()
            self.set_body_property("phoneNumber", number)

    def set_body_property(self, name, value):
        if not isinstance(self.body, dict):
            self.body = {}
        self.body[name] = value

    def schema(self, pointer):
        return oas.schema_at(self.doc, pointer)

    def operation(self):
        """The spec's operation for the resource and method (paths are
        matched on their last segment: the server URL carries the version)."""
        tail = "/" + self.path.rstrip("/").split("/")[-1]
        ops = self.doc.get("paths", {}).get(tail)
        if not ops or self.method.lower() not in ops:
            raise AssertionError("the spec has no %s %s" % (self.method, tail))
        return ops[self.method.lower()]


class RawBody(bytes):
    pass


class Request:
    def __init__(self, w):
        self.headers = dict(w.headers)
        self.body = copy.deepcopy(w.body)


def send(ctx, method, path, req):
    body = None
    if isinstance(req.body, RawBody):
        body = bytes(req.body)
    elif req.body is not None:
        body = json.dumps(req.body).encode()
    c = http.client.HTTPConnection(h.HOST, ctx.server.port, timeout=REQUEST_TIMEOUT)
    try:
        c.request(method, path, body=body, headers=req.headers)
        r = c.getresponse()
        data = r.read()
        return h.Response(r.status, r.reason, r.getheaders(), data)
    finally:
        c.close()


def each_response(w):
    if not w.responses:
        raise AssertionError("no request was sent before this step")
    for label, sent, resp in w.responses:
        yield ("[%s] " % label if label else ""), sent, resp


def json_path(body, path):
    if not path.startswith("$"):
        raise AssertionError("not a JSON path: %s" % path)
    node = body
    for part in [p for p in path[1:].split(".") if p]:
        if not isinstance(node, dict) or part not in node:
            raise AssertionError("response has no %s: %r" % (path, body))
        node = node[part]
    return node


def literal(text):
    """A step's expected value: "quoted" is a string, else JSON (400, true)."""
    t = text.strip()
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return t[1:-1]
    try:
        return json.loads(t)
    except ValueError:
        return t


def same_value(a, b):
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------
# step definitions

STEPS = []


def step(pattern):
    def deco(fn):
        STEPS.append((re.compile("^" + pattern + "$"), fn))
        return fn
    return deco


def find_step(text):
    hits = [(rx, fn) for rx, fn in STEPS if rx.match(text)]
    if not hits:
        raise Undefined("undefined step: %s" % text)
    if len(hits) > 1:
        raise Undefined("ambiguous step (%d definitions): %s" % (len(hits), text))
    rx, fn = hits[0]
    return fn, rx.match(text).groups()


Q = r'"([^"]*)"'  # a quoted parameter


@step(r"an environment at " + Q)
def _env(w, name):
    pass  # the server the runner started


@step(r"the resource " + Q)
def _resource(w, resource):
    """The runner's PATH replaces the feature's resource: same operation only,
    and the feature's resource must be under the spec's server URL."""
    if resource.rsplit("/", 1)[-1] != w.path.rsplit("/", 1)[-1]:
        raise AssertionError("the feature's resource %s is not the operation at %s"
                             % (resource, w.path))
    base = resource.rsplit("/", 1)[0]
    urls = [srv.get("url", "") for srv in w.doc.get("servers", [])]
    if not any(u.endswith(base) for u in urls):
        raise AssertionError("the feature's resource %s is under none of the spec's servers %s"
                             % (resource, urls))


@step(r"the header " + Q + " is set to " + Q)
def _header(w, name, value):
    w.headers[name] = value


@step(r'the header "x-correlator" complies with the schema at ' + Q)
def _correlator(w, pointer):
    c = str(uuid.uuid4())
    problems = oas.errors(w.doc, w.schema(pointer), c)
    assert not problems, problems
    w.headers["x-correlator"] = c


@step(r"the request body is set by default to a request body compliant with the schema")
def _default_body(w):
    w.body = {"phoneNumber": Assets.same, "specifiedDate": Assets.default_date}
    w.method = "POST"
    schema = w.operation()["requestBody"]["content"]["application/json"]["schema"]
    problems = oas.errors(w.doc, schema, w.body)
    assert not problems, "default body not compliant: %s" % problems


# -- credentials


@step(r'the header "Authorization" is set to a valid access token')
def _valid_token(w):
    w.headers["Authorization"] = "Bearer " + w.ctx.auth.two_legged()


@step(r'the header "Authorization" is set to a valid access(?: token)? which does not identify '
      r"a single phone number")
def _two_legged(w):
    w.mode = "body"
    w.headers["Authorization"] = "Bearer " + w.ctx.auth.two_legged()


@step(r'the header "Authorization" is set to a valid access token identifying a phone number')
def _three_legged(w):
    w.subject = Assets.same
    w.headers["Authorization"] = "Bearer " + w.ctx.auth.three_legged(Assets.same)


@step(r'the header "Authorization" is set to an expired access token')
def _expired(w):
    w.headers["Authorization"] = "Bearer " + w.ctx.auth.expired()


@step(r'the header "Authorization" is set to an invalid access token which is invalid for '
      r"reasons other than lifetime expiry")
def _invalid(w):
    def setter(tok):
        return lambda r: r.headers.__setitem__("Authorization", "Bearer " + tok)
    w.variants.append([(label, setter(tok)) for label, tok in w.ctx.auth.invalid()])


@step(r'the header "Authorization" is not sent')
def _no_auth(w):
    w.headers.pop("Authorization", None)


@step(r'the header "Authorization" is set to an access token without the required scope')
def _no_scope(w):
    w.headers["Authorization"] = "Bearer " + w.ctx.auth.without_scope()


# -- the subject


@step(r"a valid (?:testing )?phone number supported by the service, identified by the access "
      r"token or provided in the request body")
def _supported(w):
    w.identify(Assets.same)


@step(r"the same phone number was cancelled by the User A and is used by User B")
def _recycled(w):
    w.identify(Assets.recycled)


@step(r"that the service is not available for all phone numbers commercialized by the operator")
def _partial_service(w):
    """The store's carriers have ranges, and the not-applicable number is in none."""
    rows = [line.split("\t") for line in
            h.run_cli("carriers", "list", "--db", w.ctx.env.db).stdout.splitlines()[1:]]
    ranges = [r[2] for r in rows if len(r) >= 3 and r[2]]
    assert ranges, "the store has no carrier ranges: every number would be served"
    assert not any(Assets.not_applicable.startswith(r) for r in ranges), ranges


@step(r"a valid phone number, identified by the token or provided in the request body, for "
      r"which the service is not applicable")
def _not_applicable(w):
    problems = oas.errors(w.doc, w.schema("#/components/schemas/PhoneNumber"),
                          Assets.not_applicable)
    assert not problems, problems
    w.identify(Assets.not_applicable)


@step(r'the request body property "\$\.phoneNumber" is set to a valid phone number')
def _plus_number(w):
    other = Assets.recycled if w.subject == Assets.same else Assets.same
    w.variants.append([
        ("the token's own number", lambda r: r.body.__setitem__("phoneNumber", w.subject)),
        ("another number", lambda r: r.body.__setitem__("phoneNumber", other)),
    ])


@step(r'the request body property "\$\.phoneNumber" is not included')
def _no_number(w):
    if isinstance(w.body, dict):
        w.body.pop("phoneNumber", None)


@step(r'the request body property "\$\.phoneNumber" does not comply with the OAS schema at ' + Q)
def _bad_number(w, pointer):
    schema = w.schema(pointer)
    values = ["8613800000001", "+08613800000001", "+1234", "+1234567890123456",
              "+86 13800000001", "tel:+8613800000001", "", "+86138000000o1", 8613800000001]
    for v in values:
        assert oas.errors(w.doc, schema, v), "%r complies with %s" % (v, pointer)
    w.variants.append([(repr(v), (lambda v: lambda r: r.body.__setitem__("phoneNumber", v))(v))
                       for v in values])


@step(r'the request body property "\$\.phoneNumber" is compliant with the schema but does not '
      r"identify a valid phone number")
def _unknown_number(w):
    problems = oas.errors(w.doc, w.schema("#/components/schemas/PhoneNumber"), Assets.not_found)
    assert not problems, problems
    w.set_body_property("phoneNumber", Assets.not_found)


# -- the date and the body


@step(r'the request body property "\$\.specifiedDate" is set to a date on which the user signed '
      r"contracts with Service Provider")
def _contract_date(w):
    w.set_body_property("specifiedDate", Assets.same_contract)


@step(r'the request body property "\$\.specifiedDate" is set to a date on which the User A signed '
      r"contracts with Service Provider")
def _contract_date_a(w):
    w.set_body_property("specifiedDate", Assets.recycled_contract_a)


INVALID_DATES = ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024/01/01", "20240101",
                 "2024-1-1", "01-01-2024", "2024-01-01T00:00:00Z", "yesterday", "",
                 "2024-01-01" + "0" * 60]


@step(r'the request body is set to a valid parameter combination with property "\$\.specifiedDate" '
      r"set to " + Q)
def _bad_date(w, value):
    schema = w.operation()["requestBody"]["content"]["application/json"]["schema"]
    values = INVALID_DATES if re.fullmatch(r"<[^>]*>", value) else [value]
    for v in values:
        assert oas.errors(w.doc, schema, dict(w.body, specifiedDate=v)), \
            "%r complies with the request schema" % v
    w.variants.append([(repr(v), (lambda v: lambda r: r.body.__setitem__("specifiedDate", v))(v))
                       for v in values])


@step(r'the request body property "\$\.specifiedDate" is set to a value in the future')
def _future(w):
    values = [h.store_date(1), h.store_date(400), "2999-12-31"]
    w.variants.append([(v, (lambda v: lambda r: r.body.__setitem__("specifiedDate", v))(v))
                       for v in values])


@step(r"the request body is not included")
def _no_body(w):
    w.body = None


@step(r"the request body is set to " + Q)
def _raw_body(w, text):
    w.body = RawBody(text.encode())


@step(r"the request body is set to any value which is not compliant with the OAS schema at " + Q)
def _noncompliant(w, pointer):
    schema = w.schema(pointer)
    n, d = Assets.same, Assets.default_date
    values = [{"phoneNumber": n}, {"phoneNumber": n, "specifiedDate": 20241102},
              {"phoneNumber": n, "specifiedDate": None}, {"phoneNumber": n, "specifiedDate": [d]},
              {"phoneNumber": int(n[1:]), "specifiedDate": d}, {"phoneNumber": [n],
                                                                "specifiedDate": d},
              [], [{"phoneNumber": n, "specifiedDate": d}], "text", 42, True, None]
    for v in values:
        assert oas.errors(w.doc, schema, v), "%r complies with %s" % (v, pointer)

    def setter(v):
        def f(r):
            r.body = RawBody(b"null") if v is None else v
        return f
    w.variants.append([(json.dumps(v), setter(v)) for v in values])


# -- sending


@step(r'the HTTP "([A-Z]+)" request is sent')
def _send_method(w, method):
    do_send(w, method)


@step(r'the request "(\w+)" is sent')
def _send_named(w, name):
    if re.fullmatch(r"[A-Z]+", name):
        return do_send(w, name)
    for path, ops in w.doc.get("paths", {}).items():
        for method, op in ops.items():
            if isinstance(op, dict) and op.get("operationId") == name:
                if not w.path.endswith(path):
                    raise AssertionError("operation %s is %s, not at %s" % (name, path, w.path))
                return do_send(w, method.upper())
    raise AssertionError("no operation %s in the spec" % name)


def do_send(w, method):
    w.method = method
    w.responses = []
    for combo in itertools.product(*w.variants) if w.variants else [()]:
        req = Request(w)
        for _label, fn in combo:
            fn(req)
        label = "; ".join(lab for lab, _ in combo)
        w.responses.append((label, req.headers, send(w.ctx, method, w.path, req)))


# -- the response


def documented_schema(w, status):
    """The schema the spec gives the operation's response with this status."""
    responses = w.operation().get("responses", {})
    r = responses.get(str(status)) or responses.get(status)
    if r is None:
        raise AssertionError("the spec documents no %d response" % status)
    if "$ref" in r:
        r = oas.resolve(w.doc, r["$ref"])
    return r.get("content", {}).get("application/json", {}).get("schema")


@step(r'the response status code is "?([0-9]{3})"?')
def _status(w, code):
    for label, _sent, resp in each_response(w):
        if resp.status != int(code):
            raise AssertionError("%sexpected status %s, got %d: %r" % (label, code, resp.status,
                                                                       resp.body[:300]))
        schema = documented_schema(w, resp.status)
        if schema is not None:
            problems = oas.errors(w.doc, schema, resp.json())
            if problems:
                raise AssertionError("%sthe %d body is not the documented one: %s: %r" % (
                    label, resp.status, problems, resp.body[:300]))


@step(r"the response header " + Q + " is " + Q)
def _resp_header(w, name, value):
    for label, _sent, resp in each_response(w):
        got = resp.header(name)
        ok = got is not None and (got == value or (
            name.lower() == "content-type" and got.split(";")[0].strip().lower() == value.lower()))
        if not ok:
            raise AssertionError("%sresponse header %s: expected %r, got %r" % (label, name, value,
                                                                               got))


@step(r"the response header " + Q + " has same value as the request header " + Q)
def _echo(w, name, req_name):
    for label, sent, resp in each_response(w):
        want = sent.get(req_name)
        if want is None or resp.header(name) != want:
            raise AssertionError("%s%s: sent %r, got %r" % (label, name, want, resp.header(name)))


@step(r"the response body complies with the OAS schema at " + Q)
def _complies(w, pointer):
    for label, _sent, resp in each_response(w):
        problems = oas.errors(w.doc, w.schema(pointer), resp.json())
        if problems:
            raise AssertionError("%s%s: %r" % (label, problems, resp.body[:300]))


@step(r"(?:the value of )?(?:the )?response property " + Q + " is (.+)")
def _property(w, path, expected):
    want = literal(expected)
    for label, _sent, resp in each_response(w):
        got = json_path(resp.json(), path)
        if not same_value(want, got):
            raise AssertionError("%s%s: expected %r, got %r" % (label, path, want, got))


@step(r"the response property " + Q + " contains a user friendly text")
def _friendly(w, path):
    for label, _sent, resp in each_response(w):
        got = json_path(resp.json(), path)
        if not (isinstance(got, str) and re.search(r"[A-Za-z]{2,}", got) and " " in got.strip()
                and "\n" not in got):
            raise AssertionError("%s%s is not a sentence: %r" % (label, path, got))


# ---------------------------------------------------------------------------
# running


SUBJECT_RE = re.compile(r"identified by the (?:access )?token or provided in the request body")


def modes(scenario):
    if any(SUBJECT_RE.search(s.text) for s in scenario.steps):
        return [("body", "phoneNumber in the body"), ("token", "three-legged token")]
    return [("body", "")]


def check_defined(feature, scenarios):
    """{scenario tag: [problems]} for steps no definition (or several) match."""
    bad = {}
    for s in scenarios:
        for st in feature.background + s.steps:
            try:
                find_step(st.text)
            except Undefined as e:
                bad.setdefault(id(s), []).append("line %d: %s" % (st.line, e))
    return bad


def run_one(ctx, feature, scenario, mode):
    w = World(ctx, mode)
    for st in feature.background + scenario.steps:
        fn, args = find_step(st.text)
        try:
            fn(w, *args)
        except AssertionError as e:
            raise AssertionError("line %d (%s %s): %s" % (st.line, st.keyword, st.text, e)) \
                from None


def run_feature(ctx, feature, version, paths, flt):
    scenarios = [s for s in gherkin.expand(feature) if flt in s.tag or flt in s.name]
    undefined = check_defined(feature, scenarios)
    failed = 0
    for path in paths:
        ctx.path = path
        for s in scenarios:
            for mode, mode_label in modes(s):
                labels = [x for x in (s.row, mode_label) if x]
                name = "%s %s %s%s" % (version, s.tag or s.name, path,
                                       "".join(" [%s]" % x for x in labels))
                err = None
                if id(s) in undefined:
                    err = "\n".join(undefined[id(s)])
                else:
                    try:
                        run_one(ctx, feature, s, mode)
                    except AssertionError as e:
                        err = str(e)
                    except Exception:  # noqa: B902 - report everything
                        err = traceback.format_exc()
                    extra = h.server_health_check(ctx.server)
                    if extra:
                        err = (err or "") + extra
                if err is None:
                    print("ok %s" % name, flush=True)
                else:
                    failed += 1
                    print("not ok %s\n    %s\n%s" % (name, s.name, h._indent(err)), flush=True)
    return failed, len(scenarios)


class Ctx:
    pass


def serve_has_oauth():
    p = subprocess.run([h.SECONDNUM, "serve", "--help"], capture_output=True, text=True, timeout=30)
    return "--oauth-issuer" in (p.stdout + p.stderr)


def register_client(env, app, client_id):
    """Map the OAuth client to the app (the command of issue 17's OAuth part)."""
    h.run_cli("apps", "oauth", "--db", env.db, "--app", app, "--client-id", client_id)


def setup(oauth):
    c = Ctx()
    c.env = h.standard_env()
    c.api_key = c.env.key("app", APP_NAME)
    extra = []
    issuer = None
    if oauth:
        import tokens  # python3-jwt; only when serve can take tokens
        issuer = tokens.Issuer(c.env.dir)
        register_client(c.env, APP_NAME, tokens.CLIENT_ID)
        extra = ["--oauth-issuer", tokens.ISSUER, "--oauth-audience", tokens.AUDIENCE,
                 "--oauth-jwks", issuer.jwks_path]
    c.auth = Auth(issuer, c.api_key)
    c.server = h.Server(c.env, extra=extra).start()
    return c


def main(argv):
    args = argv[1:]
    spec = None
    if args[:1] == ["--spec"] and len(args) > 1:
        spec, args = args[1], args[2:]
    if len(args) < 2 or args[0].startswith("-"):
        print("usage: runner.py [--spec YAML] FEATURE PATH...", file=sys.stderr)
        return 2
    feature_path, paths = args[0], args[1:]
    if spec is None:
        spec = os.path.join(os.path.dirname(feature_path), "number-recycling.yaml")
    version = os.path.basename(os.path.dirname(os.path.abspath(feature_path)))
    if not h.SECONDNUM or not os.access(h.SECONDNUM, os.X_OK):
        print("not ok setup\n    SECONDNUM (%r) is not an executable" % h.SECONDNUM)
        return 1
    feature = gherkin.parse_file(feature_path)
    try:
        testing_assets(feature)
    except AssertionError as e:
        print("not ok %s setup\n    %s" % (version, e), flush=True)
        return 1
    doc = oas.load_yaml_file(spec)
    flt = os.environ.get("CASE_FILTER", "")
    if not any(flt in s.tag or flt in s.name for s in gherkin.expand(feature)):
        print("# %s: no scenario matches CASE_FILTER=%s" % (version, flt), flush=True)
        return 0
    oauth = serve_has_oauth()
    if not oauth:
        print("# serve has no --oauth-issuer: scenarios that need a token will fail", flush=True)
    ctx = None
    try:
        ctx = setup(oauth)
        ctx.doc = doc
        failed, n = run_feature(ctx, feature, version, paths, flt)
        ctx.server.stop(expect_rc=0)
    except Exception:  # noqa: B902
        print("not ok %s setup\n%s" % (version, h._indent(traceback.format_exc())), flush=True)
        return 1
    finally:
        for s in h._live_servers:
            s.kill()
        if ctx is not None:
            ctx.env.cleanup()
    print("# %s: %d scenarios x %d paths, %d not ok" % (version, n, len(paths), failed),
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
