"""oauth_suite.py - OAuth 2.0 access tokens (JWT) against a real `secondnum
serve` with --oauth-issuer, --oauth-audience and --oauth-jwks: tokens minted
here by an independent library (PyJWT, keys made with python3-cryptography:
RSA 2048 for RS256, EC P-256 for ES256), a JWK Set file written here, and a
JWK Set URL served by a small http.server for key rotation.

Cases: valid two-legged tokens (RS256, ES256) answer as the app's API key
does; expired, not yet valid, wrong issuer, wrong audience, alg none, HS256
keyed with the RSA public key, a key not in the set, a bad signature -> 401;
rotation through the URL (a new kid accepted after a refresh, a removed one
refused after the next, refreshes no more often than the minimum interval);
missing scope, a client mapped to no app, a token on a route that takes API
keys only -> 403; three-legged tokens (sub tel:+...) and the identifier
rules; the app's rate limits shared between its key and its tokens; the
checks counted under the app in the metrics; malformed and huge tokens; the
serve flags and `secondnum apps oauth`.

Needs PyJWT and cryptography (Debian's python3-jwt, python3-cryptography):
test_oauth.sh picks a python3 that has them.
Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (see harness.py).
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import N_NEW, N_NEVER, N_SAME, eq, expect_error, expect_json  # noqa: E402

import jwt  # noqa: E402  (python3-jwt)
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

CAMARA = "/number-recycling/v0.2/check"
ISSUER = "https://issuer.example/realms/test"
AUDIENCE = "secondnum-test"
CLIENT = "shop-client"
DAY = "2024-01-01"  # N_NEW changed hands after it (2024-02-25 cancel, 2024-09-21 reissue)
MIN_REFRESH = 5  # SN_OAUTH_JWKS_MIN_REFRESH (src/auth/jwks.h)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Key:
    """A signing key with its kid and algorithm, and its public JWK."""

    def __init__(self, kind, kid):
        self.kid = kid
        if kind == "rsa":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.alg = "RS256"
            self.jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
            # the coordinates at their full 32 bytes (RFC 7518, 6.2.1.2):
            # Debian's PyJWT drops leading zero bytes, about one key in 128
            nums = self.private.public_key().public_numbers()
            self.jwk = {"kty": "EC", "crv": "P-256", "x": b64url(nums.x.to_bytes(32, "big")),
                        "y": b64url(nums.y.to_bytes(32, "big"))}
        self.jwk.update({"kid": kid, "use": "sig", "alg": self.alg})

    def public_pem(self):
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


KEYS = {}


def key(name):
    if name not in KEYS:
        KEYS[name] = Key("ec" if name.startswith("ec") else "rsa", name)
    return KEYS[name]


def jwks(*names):
    return {"keys": [key(n).jwk for n in names]}


def claims(**over):
    now = int(time.time())
    c = {"iss": ISSUER, "aud": AUDIENCE, "client_id": CLIENT, "iat": now, "exp": now + 300,
         "scope": "number-recycling:check secondnum:check", "sub": "service-account-shop"}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(signer="rsa1", kid=True, **over):
    """A token signed by key `signer` (header kid: its own, or kid if a string)."""
    k = key(signer)
    headers = {}
    if kid is True:
        headers["kid"] = k.kid
    elif kid:
        headers["kid"] = kid
    return jwt.encode(claims(**over), k.private, algorithm=k.alg, headers=headers)


def unsigned(header, payload, signature=b""):
    return "%s.%s.%s" % (b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()),
                         b64url(signature))


def camara(client, token, body=None):
    if body is None:
        body = {"phoneNumber": N_NEW, "specifiedDate": DAY}
    return client.post(CAMARA, body, key=token)


ADMIN_CLIENT = "regulator-dashboard"  # --oauth-admin-client


def oauth_flags(jwks_where):
    return ["--oauth-issuer", ISSUER, "--oauth-audience", AUDIENCE, "--oauth-jwks", jwks_where,
            "--oauth-admin-client", ADMIN_CLIENT]


def map_client(env, client, app):
    h.run_cli("apps", "oauth", "--db", env.db, "--app", app, "--client-id", client)


def setup():
    env = h.standard_env()
    ctx = {"env": env, "app_key": env.key("app", "shop"), "admin": env.key("admin", "root")}
    map_client(env, CLIENT, "shop")
    map_client(env, "ghost-client", "ghost")  # an app without a key
    ctx["jwks"] = env.path("jwks.json")
    with open(ctx["jwks"], "w") as f:
        json.dump(jwks("rsa1", "ec1"), f)
    ctx["server"] = h.Server(env, extra=oauth_flags(ctx["jwks"])).start()
    ctx["client"] = ctx["server"].client()
    return ctx


def teardown(ctx):
    ctx["server"].stop()
    ctx["env"].cleanup()


def after_case(ctx, name):
    s = ctx["server"]
    if not s.alive():
        return "the server died:\n" + s.stderr()[-3000:]
    return None


def expect_401(r, what):
    return expect_error(r, 401, "UNAUTHENTICATED", what)


# ---------------------------------------------------------------------------
# valid tokens


def case_valid_rs256_answers_as_the_app_key(ctx):
    c = ctx["client"]
    by_key = expect_json(camara(c, ctx["app_key"]), 200, "API key")
    by_token = expect_json(camara(c, mint("rsa1")), 200, "RS256 token")
    eq("same verdict", by_key, by_token)
    eq("recycled", {"phoneNumberRecycled": True}, by_token)
    same = expect_json(camara(c, mint("rsa1"), {"phoneNumber": N_SAME, "specifiedDate": DAY}))
    eq("not recycled", {"phoneNumberRecycled": False}, same)


def case_valid_es256_answers_as_the_app_key(ctx):
    c = ctx["client"]
    by_key = expect_json(camara(c, ctx["app_key"]), 200, "API key")
    eq("ES256", by_key, expect_json(camara(c, mint("ec1")), 200, "ES256 token"))


def case_native_check_with_native_scope(ctx):
    c = ctx["client"]
    body = {"number": N_NEW, "date": DAY}
    by_key = expect_json(c.post("/v1/check", body, key=ctx["app_key"]), 200, "key")
    eq("native", by_key, expect_json(c.post("/v1/check", body, key=mint("ec1")), 200, "token"))
    batch = {"items": [body, {"number": N_SAME, "date": DAY}]}
    eq("batch", expect_json(c.post("/v1/check/batch", batch, key=ctx["app_key"])),
       expect_json(c.post("/v1/check/batch", batch, key=mint("rsa1"))))
    rng = {"prefix": "00000", "date": DAY}
    eq("range", expect_json(c.post("/v1/check/range", rng, key=ctx["app_key"])),
       expect_json(c.post("/v1/check/range", rng, key=mint("rsa1"))))


def case_audience_array_and_azp(ctx):
    c = ctx["client"]
    expect_json(camara(c, mint(aud=["other", AUDIENCE])), 200, "aud array")
    expect_json(camara(c, mint(client_id=None, azp=CLIENT)), 200, "azp names the client")
    expect_json(camara(c, mint(nbf=int(time.time()) - 10)), 200, "nbf passed")


# ---------------------------------------------------------------------------
# refused tokens: 401


def case_expired(ctx):
    now = int(time.time())
    r = camara(ctx["client"], mint(exp=now - 3600, iat=now - 7200))
    assert "expired" in expect_401(r, "expired")["message"]
    expect_401(camara(ctx["client"], mint(exp=None)), "no exp")
    expect_401(camara(ctx["client"], mint(exp="tomorrow")), "exp not a number")


def case_clock_skew_is_tolerated_and_bounded(ctx):
    now = int(time.time())
    expect_json(camara(ctx["client"], mint(exp=now - 20)), 200, "expired 20 s ago (skew 60 s)")
    expect_401(camara(ctx["client"], mint(exp=now - 120)), "expired 120 s ago")
    expect_401(camara(ctx["client"], mint(iat=now + 3600, exp=now + 7200)), "iat in the future")


def case_not_yet_valid(ctx):
    now = int(time.time())
    r = camara(ctx["client"], mint(nbf=now + 3600, exp=now + 7200))
    assert "not valid yet" in expect_401(r, "nbf")["message"]


def case_wrong_issuer(ctx):
    expect_401(camara(ctx["client"], mint(iss=ISSUER + "/other")), "wrong iss")
    expect_401(camara(ctx["client"], mint(iss=None)), "no iss")


def case_wrong_audience(ctx):
    expect_401(camara(ctx["client"], mint(aud="someone-else")), "wrong aud")
    expect_401(camara(ctx["client"], mint(aud=["a", "b"])), "aud array without ours")
    expect_401(camara(ctx["client"], mint(aud=None)), "no aud")


def case_alg_none(ctx):
    body = claims()
    for tok in (unsigned({"alg": "none", "typ": "JWT"}, body),
                unsigned({"alg": "none", "kid": "rsa1"}, body, b"x"),
                unsigned({"alg": "None", "kid": "rsa1"}, body, b"sig")):
        expect_401(camara(ctx["client"], tok), "alg none: %s" % tok[:40])


def case_hs256_keyed_with_the_rsa_public_key(ctx):
    """Algorithm confusion: HMAC with the RSA public key's bytes as secret."""
    for secret in (key("rsa1").public_pem(), json.dumps(key("rsa1").jwk).encode()):
        head = b64url(json.dumps({"alg": "HS256", "kid": "rsa1", "typ": "JWT"}).encode())
        pay = b64url(json.dumps(claims()).encode())
        sig = hmac.new(secret, ("%s.%s" % (head, pay)).encode(), hashlib.sha256).digest()
        r = camara(ctx["client"], "%s.%s.%s" % (head, pay, b64url(sig)))
        assert "RS256 or ES256" in expect_401(r, "HS256")["message"]
    expect_401(camara(ctx["client"], mint(kid="rsa1", signer="rsa1") + "x"), "tampered")


def case_key_not_in_set_and_bad_signature(ctx):
    r = camara(ctx["client"], mint("rsa9"))
    assert "not in the key set" in expect_401(r, "unknown kid")["message"]
    r = camara(ctx["client"], mint("rsa9", kid="rsa1"))
    assert "signature" in expect_401(r, "known kid, other key")["message"]
    r = camara(ctx["client"], mint("ec1", kid="rsa1"))
    expect_401(r, "ES256 token naming an RSA key")
    r = camara(ctx["client"], mint("rsa1", kid=False))
    assert "names no key" in expect_401(r, "no kid, two keys in the set")["message"]
    tok = mint("rsa1").split(".")
    body = json.loads(base64.urlsafe_b64decode(tok[1] + "=" * (-len(tok[1]) % 4)))
    body["exp"] += 3600
    forged = "%s.%s.%s" % (tok[0], b64url(json.dumps(body).encode()), tok[2])
    expect_401(camara(ctx["client"], forged), "claims changed after signing")


def case_malformed_tokens(ctx):
    c = ctx["client"]
    for tok in ("a.b.c", "!!!.???.***", "abc.def", "a..c", "e30.e30.e30",
                b64url(b"{not json") + "." + b64url(b"{}") + ".AAAA",
                unsigned({"alg": "RS256", "kid": "rsa1"}, ["not", "an", "object"], b"s" * 256)):
        expect_401(camara(c, tok), "malformed %r" % tok[:30])
    long_tok = mint("rsa1", pad="x" * 9000)  # over SN_OAUTH_TOKEN_MAX (8192), under 16 KiB
    assert len(long_tok) > 8192 and len(long_tok) < 16000
    assert "longer than 8192" in expect_401(camara(c, long_tok), "long token")["message"]
    huge = mint("rsa1", pad="x" * 40000)  # over the 16 KiB of request headers
    r = camara(h.Client(ctx["server"].port, check_correlator=False), huge)
    assert r.status in (401, 431), r
    expect_json(camara(c, mint("rsa1")), 200, "still serving")


# ---------------------------------------------------------------------------
# 403: scope, client, route


def case_missing_scope(ctx):
    c = ctx["client"]
    r = camara(c, mint(scope="secondnum:check"))
    assert "number-recycling:check" in expect_error(r, 403, "PERMISSION_DENIED")["message"]
    expect_error(camara(c, mint(scope=None)), 403, "PERMISSION_DENIED", "no scope")
    expect_error(camara(c, mint(scope="number-recycling:checks")), 403, "PERMISSION_DENIED",
                 "a scope that only starts like it")
    expect_json(camara(c, mint(scope="openid number-recycling:check")), 200, "among others")
    r = c.post("/v1/check", {"number": N_NEW, "date": DAY}, key=mint(scope="number-recycling:check"))
    assert "secondnum:check" in expect_error(r, 403, "PERMISSION_DENIED", "native")["message"]


def case_client_with_no_app(ctx):
    c = ctx["client"]
    r = camara(c, mint(client_id="stranger"))
    assert "no app" in expect_error(r, 403, "PERMISSION_DENIED", "unmapped")["message"]
    expect_error(camara(c, mint(client_id=None)), 403, "PERMISSION_DENIED", "no client_id")
    r = camara(c, mint(client_id="ghost-client"))
    assert "no live API key" in expect_error(r, 403, "PERMISSION_DENIED", "keyless app")["message"]


def case_routes_that_take_api_keys_only(ctx):
    c = ctx["client"]
    tok = mint("rsa1")
    for method, path in (("GET", "/v1/bindings?number=%2B8613800000001"), ("GET", "/v1/notices"),
                         ("GET", "/v1/webhook"), ("GET", "/v1/admin/apps")):
        r = c.request(method, path, key=tok)
        expect_error(r, 403, "PERMISSION_DENIED", path)
    expect_401(c.get("/v1/notices", key=mint(exp=int(time.time()) - 3600)), "invalid first")


def case_admin_client_token_reads_admin_routes_only(ctx):
    """--oauth-admin-client: its tokens with the scope secondnum:admin act as
    an admin on the GET admin routes (the /admin dashboard), never on a
    write; another client, another scope or a subscriber's token does not."""
    c = ctx["client"]
    admin = mint("rsa1", client_id=ADMIN_CLIENT, scope="secondnum:admin")
    for path in ("/v1/admin/stats/numbers", "/v1/admin/stats/complaints", "/v1/admin/apps",
                 "/v1/admin/keys"):
        expect_json(c.get(path, key=admin), 200, path + " with the admin client's token")
    r = c.request("POST", "/v1/admin/keys", json_body={"role": "app", "name": "x"}, key=admin)
    expect_error(r, 403, "PERMISSION_DENIED", "a write with the admin client's token")
    keys = expect_json(c.get("/v1/admin/keys", key=ctx["admin"]))
    assert all(k["name"] != "x" for k in keys["keys"]), "the refused write made a key"
    for what, tok in (
            ("no admin scope", mint("rsa1", client_id=ADMIN_CLIENT, scope="secondnum:check")),
            ("another client", mint("rsa1", scope="secondnum:admin")),
            ("a subscriber's token", mint("rsa1", client_id=ADMIN_CLIENT, scope="secondnum:admin",
                                          sub="tel:" + N_NEW))):
        expect_error(c.get("/v1/admin/stats/numbers", key=tok), 403, "PERMISSION_DENIED", what)
    expect_error(camara(c, admin), 403, "PERMISSION_DENIED", "the admin token on a check")
    expect_401(c.get("/v1/admin/stats/numbers",
                     key=mint("rsa1", client_id=ADMIN_CLIENT, scope="secondnum:admin",
                              exp=int(time.time()) - 3600)), "an expired admin token")
    p = h.run_cli("serve", "--db", ctx["env"].db, "--oauth-admin-client", "x", check=False)
    eq("--oauth-admin-client alone", 2, p.returncode)
    assert "--oauth-admin-client needs" in p.stderr, p.stderr


# ---------------------------------------------------------------------------
# three-legged tokens


def case_receipts_name_the_client(ctx):
    """A check's receipt (receipts_suite.py) names the token's client as the
    credential; a three-legged token's check gets none (its number is the
    subscriber's)."""
    c = ctx["client"]
    r = expect_json(c.post("/v1/check", {"number": N_NEW, "date": DAY, "receipt": True},
                           key=mint("ec1")), 200, "native")["receipt"]
    eq("native: app, credential", ("shop", "oauth:" + CLIENT), (r["app"], r["credential"]))
    resp = c.post(CAMARA, {"phoneNumber": N_NEW, "specifiedDate": DAY}, key=mint("rsa1"),
                  headers={"Secondnum-Receipt": "true"})
    expect_json(resp, 200, "CAMARA")
    text = resp.header("secondnum-receipt")
    r = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    eq("CAMARA: app, credential", ("shop", "oauth:" + CLIENT), (r["app"], r["credential"]))
    resp = c.post(CAMARA, {"specifiedDate": DAY}, key=mint("ec1", sub="tel:" + N_NEW),
                  headers={"Secondnum-Receipt": "true"})
    expect_error(resp, 400, "INVALID_ARGUMENT", "three-legged with a receipt")
    eq("no receipt", None, resp.header("secondnum-receipt"))


def case_three_legged_with_phone_number(ctx):
    tok = mint(sub="tel:" + N_NEW)
    expect_error(camara(ctx["client"], tok), 422, "UNNECESSARY_IDENTIFIER")
    expect_error(camara(ctx["client"], tok, {"phoneNumber": N_SAME, "specifiedDate": DAY}), 422,
                 "UNNECESSARY_IDENTIFIER", "another number")


def case_three_legged_without_phone_number(ctx):
    c = ctx["client"]
    for number, want in ((N_NEW, True), (N_SAME, False)):
        r = camara(c, mint("ec1", sub="tel:" + number), {"specifiedDate": DAY})
        eq(number, {"phoneNumberRecycled": want}, expect_json(r, 200, number))
        by_key = camara(c, ctx["app_key"], {"phoneNumber": number, "specifiedDate": DAY})
        eq("as the key", expect_json(by_key), expect_json(r))
    r = camara(c, mint(sub="tel:" + N_NEVER), {"specifiedDate": DAY})
    expect_error(r, 404, "IDENTIFIER_NOT_FOUND", "never reported")
    expect_401(camara(c, mint(sub="tel:12345"), {"specifiedDate": DAY}), "sub not E.164")
    r = c.post("/v1/check", {"number": N_NEW, "date": DAY}, key=mint(sub="tel:" + N_NEW))
    expect_error(r, 403, "PERMISSION_DENIED", "three-legged on the native check")


def case_two_legged_without_phone_number(ctx):
    r = camara(ctx["client"], mint(), {"specifiedDate": DAY})
    expect_error(r, 422, "MISSING_IDENTIFIER")


# ---------------------------------------------------------------------------
# the app: limits and metrics


def case_rate_limits_shared_with_the_app_key(ctx):
    env = ctx["env"]
    out = h.run_cli("keys", "create", "--db", env.db, "--role", "app", "--name", "tight",
                    "--rate", "1000", "--daily", "3").stdout
    tight = out.splitlines()[0].strip()
    map_client(env, "tight-client", "tight")
    c = ctx["client"]
    tok = mint(client_id="tight-client")
    h.wait_until(lambda: camara(c, tok).status == 200, 5, "the mapping taken by serve")
    expect_json(camara(c, tok), 200, "second token check")
    expect_json(camara(c, tight), 200, "third, with the key")
    r = camara(c, tight)
    assert "today" in expect_error(r, 429, "TOO_MANY_REQUESTS", "key after tokens")["message"]
    expect_error(camara(c, tok), 429, "TOO_MANY_REQUESTS", "token after the key")


def case_rate_per_second_counts_token_checks(ctx):
    env = ctx["env"]
    out = h.run_cli("keys", "create", "--db", env.db, "--role", "app", "--name", "slow",
                    "--rate", "1").stdout
    slow = out.splitlines()[0].strip()
    map_client(env, "slow-client", "slow")
    c = ctx["client"]
    tok = mint(client_id="slow-client")
    h.wait_until(lambda: camara(c, tok).status in (200, 429), 5, "the mapping taken by serve")
    time.sleep(1.2)  # the bucket full again: one number
    expect_json(camara(c, tok), 200, "the token takes the second's only number")
    r = camara(c, slow)
    assert "a second" in expect_error(r, 429, "TOO_MANY_REQUESTS", "the key's turn")["message"]


def metric_checks(ctx, app):
    r = ctx["client"].get("/metrics", key=ctx["admin"])
    eq("metrics", 200, r.status)
    total = 0
    for line in r.body.decode().splitlines():
        if line.startswith("secondnum_checks_total{") and 'app="%s"' % app in line:
            total += int(line.rsplit(" ", 1)[1])
    return total


def case_metrics_count_token_checks_under_the_app(ctx):
    before = metric_checks(ctx, "shop")
    for _ in range(3):
        expect_json(camara(ctx["client"], mint("ec1")), 200)
    eq("three more under app shop", before + 3, metric_checks(ctx, "shop"))
    body = ctx["client"].get("/metrics", key=ctx["admin"]).body.decode()
    assert N_NEW not in body and N_NEW[1:] not in body, "a number in the metrics"


# ---------------------------------------------------------------------------
# key rotation through a JWK Set URL


class JwksServer:
    """The issuer's JWK Set at http://127.0.0.1:PORT/jwks, changeable, with
    the times it was fetched."""

    def __init__(self, doc):
        self.doc = doc
        self.fetches = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches.append(time.monotonic())
                body = json.dumps(outer.doc).encode()
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer((h.HOST, 0), Handler)
        self.url = "http://%s:%d/jwks" % (h.HOST, self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@h.timeout(90)
def case_key_rotation_through_the_url(ctx):
    issuer = JwksServer(jwks("rsa1"))
    s = h.Server(ctx["env"], extra=oauth_flags(issuer.url)).start()
    try:
        c = s.client()
        eq("fetched at start", 1, len(issuer.fetches))
        expect_json(camara(c, mint("rsa1", kid=False)), 200, "one key: a token without kid")
        expect_401(camara(c, mint("ec2")), "ec2 not published yet")
        issuer.doc = jwks("rsa1", "ec2")
        try:
            h.wait_until(lambda: camara(c, mint("ec2")).status == 200, 3 * MIN_REFRESH,
                         "ec2 accepted after a refresh")
        except AssertionError as e:
            raise AssertionError("%s; fetches %r; serve said:\n%s"
                                 % (e, issuer.fetches, s.stderr()[-2000:])) from None
        old = mint("rsa1")  # the same bytes every time: the server has verified it before
        for _ in range(3):
            expect_json(camara(c, old), 200, "rsa1 still in the set")
        issuer.doc = jwks("ec2")  # rsa1 retired
        h.wait_until(lambda: camara(c, mint("rsa9")).status == 401 and
                     camara(c, old).status == 401, 3 * MIN_REFRESH,
                     "a token of rsa1, verified before, refused after a refresh")
        expect_401(camara(c, mint("rsa1")), "a new token of rsa1")
        expect_json(camara(c, mint("ec2")), 200, "ec2 goes on")
        # a burst of unknown kids asks for refreshes; they come at most every MIN_REFRESH s
        n0, t0 = len(issuer.fetches), time.monotonic()
        while time.monotonic() - t0 < 2.5:
            expect_401(camara(c, mint("rsa8")), "unknown")
            time.sleep(0.05)
        assert len(issuer.fetches) - n0 <= 1, issuer.fetches
        gaps = [b - a for a, b in zip(issuer.fetches[1:], issuer.fetches[2:])]
        assert all(g >= MIN_REFRESH - 0.5 for g in gaps), gaps
    finally:
        s.stop()
        issuer.close()


def case_jwks_url_unreachable_keeps_the_keys(ctx):
    issuer = JwksServer(jwks("ec2"))
    s = h.Server(ctx["env"], extra=oauth_flags(issuer.url)).start()
    try:
        c = s.client()
        expect_json(camara(c, mint("ec2")), 200)
        issuer.close()
        expect_401(camara(c, mint("rsa9")), "asks a refresh that fails")
        time.sleep(MIN_REFRESH + 1)
        expect_401(camara(c, mint("rsa9")), "again")
        time.sleep(1)
        expect_json(camara(c, mint("ec2")), 200, "the loaded set kept")
    finally:
        s.stop()


# ---------------------------------------------------------------------------
# serve's flags and `secondnum apps oauth`


def case_serve_flags(ctx):
    env = ctx["env"]
    p = h.run_cli("serve", "--db", env.db, "--oauth-issuer", ISSUER, check=False, timeout=20)
    eq("one flag alone", 2, p.returncode)
    assert "go together" in p.stderr, p.stderr
    bad = env.path("bad.json")
    # a P-256 key whose x lost its leading zero byte (31 bytes, against RFC
    # 7518 6.2.1.2): not kept, and the set says which key and why
    short_x = json.dumps({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "e31", "x": "-lxIL6wT_v7v7jUGVF-11k0_plt32a4h3AbChlFm8g",
        "y": "364dBQX3bUTHKZDSfIIZgEbgezzEyAkLQnvrW_fctoI"}]})
    for doc in ("[]", '{"keys": []}', '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "not json",
                short_x):
        with open(bad, "w") as f:
            f.write(doc)
        p = h.run_cli("serve", "--db", env.db, "--listen", "127.0.0.1:%d" % h.free_port(),
                      *oauth_flags(bad), check=False, timeout=20)
        eq("bad set %s" % doc, 1, p.returncode)
        assert "JWK Set" in p.stderr, p.stderr
        assert doc != short_x or '"e31"' in p.stderr and "32 bytes" in p.stderr, p.stderr
    p = h.run_cli("serve", "--db", env.db, "--listen", "127.0.0.1:%d" % h.free_port(),
                  *oauth_flags(env.path("missing.json")), check=False, timeout=20)
    eq("missing file", 1, p.returncode)
    usage = h.run_cli("serve", "--help").stdout
    for flag in ("--oauth-issuer", "--oauth-audience", "--oauth-jwks"):
        assert flag in usage, flag


def start_fails(env, *flags):
    p = h.run_cli("serve", "--db", env.db, "--listen", "127.0.0.1:%d" % h.free_port(), *flags,
                  check=False, timeout=30)
    eq("serve %r exit" % (flags,), 1, p.returncode)
    return p.stderr


@h.timeout(90)
def case_limits_of_the_key_set_and_the_flags(ctx):
    env = ctx["env"]
    big = env.path("big.json")
    with open(big, "w") as f:  # SN_OAUTH_JWKS_MAX_BYTES: 1 MiB
        json.dump({"keys": [key("ec1").jwk], "pad": "x" * (1 << 20)}, f)
    assert "larger than 1048576 bytes" in start_fails(env, *oauth_flags(big))
    assert "1 to 512 bytes" in start_fails(env, "--oauth-issuer", "i" * 513, "--oauth-audience",
                                           AUDIENCE, "--oauth-jwks", ctx["jwks"])
    # SN_OAUTH_JWKS_MAX_KEYS (64): the keys after the 64th are not kept;
    # SN_OAUTH_KID_MAX (128): a key with a longer kid is not kept
    many = env.path("many.json")
    doc = {"keys": []}
    for i in range(65):
        k = dict(key("ec1").jwk)
        k["kid"] = "k%02d" % i
        doc["keys"].append(k)
    long_kid = dict(key("rsa1").jwk)
    long_kid["kid"] = "L" * 129
    doc["keys"].insert(0, long_kid)
    with open(many, "w") as f:
        json.dump(doc, f)
    s = h.Server(env, extra=oauth_flags(many)).start()
    try:
        c = s.client()
        expect_json(camara(c, mint("ec1", kid="k63")), 200, "the 64th key")
        expect_401(camara(c, mint("ec1", kid="k64")), "the 65th key")
        expect_401(camara(c, mint("rsa1", kid="L" * 129)), "a kid over 128 bytes")
        # the keys not kept are said at the load, the first one named
        warn = [x for x in s.stderr().splitlines() if "not kept" in x]
        eq("warnings", 1, len(warn))
        assert "2 signing keys not kept" in warn[0] and "longer than 128 bytes" in warn[0], warn
    finally:
        s.stop()
    # SN_OAUTH_CLIENT_MAX (128): a longer client_id names no client
    expect_error(camara(ctx["client"], mint(client_id="c" * 129)), 403, "PERMISSION_DENIED")


@h.timeout(60)
def case_jwks_url_timeout(ctx):
    """A JWK Set URL that never answers: serve gives up after
    SN_OAUTH_JWKS_TIMEOUT_S (10 s) and does not start."""
    sock = __import__("socket").socket()
    sock.bind((h.HOST, 0))
    sock.listen(1)
    try:
        t0 = time.monotonic()
        err = start_fails(ctx["env"], *oauth_flags("http://%s:%d/jwks" % sock.getsockname()))
        took = time.monotonic() - t0
        assert 9 <= took < 30, took
        assert "timed out" in err.lower() or "timeout" in err.lower(), err
    finally:
        sock.close()


def case_without_oauth_a_jwt_is_an_unknown_key(ctx):
    s = h.Server(ctx["env"]).start()
    try:
        r = camara(s.client(), mint("rsa1"))
        expect_401(r, "no OAuth configured")
    finally:
        s.stop()


def case_apps_oauth_command(ctx):
    env = ctx["env"]
    out = h.run_cli("apps", "oauth", "--db", env.db, "--list").stdout.splitlines()
    eq("header", "client_id\tapp", out[0])
    assert CLIENT + "\tshop" in out, out
    for args in (["--app", "shop"], ["--client-id", "x"], ["--client-id", "a b", "--app", "shop"],
                 ["--client-id", "x" * 129, "--app", "shop"], ["--list", "--client-id", "x"],
                 ["--remove", "--app", "shop", "--client-id", "x"]):
        p = h.run_cli("apps", "oauth", "--db", env.db, *args, check=False)
        eq("usage %r" % args, 2, p.returncode)
    eq("not oauth", 2, h.run_cli("apps", "list", "--db", env.db, check=False).returncode)
    p = h.run_cli("apps", "oauth", "--db", env.db, "--client-id", "nobody", "--remove", check=False)
    eq("remove unknown", 1, p.returncode)
    # a mapping made or removed while serve runs takes effect within a second or so
    c = ctx["client"]
    tok = mint(client_id="late-client")
    expect_error(camara(c, tok), 403, "PERMISSION_DENIED", "before")
    map_client(env, "late-client", "shop")
    h.wait_until(lambda: camara(c, tok).status == 200, 5, "mapped")
    h.run_cli("apps", "oauth", "--db", env.db, "--client-id", "late-client", "--remove")
    h.wait_until(lambda: camara(c, tok).status == 403, 5, "removed")


h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
