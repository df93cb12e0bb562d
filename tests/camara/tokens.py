"""tokens.py - OAuth 2.0 access tokens for the CAMARA feature runner, minted
by an independent library (PyJWT with python3-cryptography, Debian's
python3-jwt) from a key set the test generates.

Issuer(dir) makes an RSA key (kid "rs-1", RS256) and a P-256 key (kid "ec-1",
ES256), writes their public halves as a JWK Set to DIR/jwks.json (the file
serve's --oauth-jwks reads), and keeps a third RSA key that is in no set
(for tokens with a bad signature or an unknown kid). Every token carries iss,
aud, iat, nbf, exp, jti, client_id and scope; the kinds below change one
thing each, so a rejected token is rejected for that one reason.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import jwt  # PyJWT (python3-jwt)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://issuer.camara.test"
AUDIENCE = "secondnum-camara-features"
CLIENT_ID = "camara-features-client"
SCOPE = "number-recycling:check"
LIFETIME = 300  # seconds a valid token lives


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, directory):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.outsider = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_path = os.path.join(directory, "jwks.json")
        rs = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key()))
        rs.pop("key_ops", None)
        # the EC coordinates at their full 32 bytes (RFC 7518, 6.2.1.2), which
        # serve requires: Debian's PyJWT drops leading zero bytes (one key in 128)
        nums = self.ec.public_key().public_numbers()
        es = {"kty": "EC", "crv": "P-256", "x": _b64(nums.x.to_bytes(32, "big")),
              "y": _b64(nums.y.to_bytes(32, "big"))}
        keys = []
        for kid, alg, jwk in (("rs-1", "RS256", rs), ("ec-1", "ES256", es)):
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            keys.append(jwk)
        with open(self.jwks_path, "w") as f:
            json.dump({"keys": keys}, f, indent=1)

    def claims(self, sub=None, scope=SCOPE, lifetime=LIFETIME, not_before=0, iss=ISSUER,
               aud=AUDIENCE, client_id=CLIENT_ID):
        now = int(time.time())
        c = {"iss": iss, "aud": aud, "iat": now, "nbf": now + not_before, "exp": now + lifetime,
             "jti": str(uuid.uuid4()), "client_id": client_id}
        if scope is not None:
            c["scope"] = scope
        if sub is not None:
            c["sub"] = sub
        return c

    def sign(self, claims, alg="RS256", kid=None, key=None):
        if key is None:
            key = self.rsa if alg == "RS256" else self.ec
        if kid is None:
            kid = "rs-1" if alg == "RS256" else "ec-1"
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})

    # -- the kinds the feature steps ask for --------------------------------

    def two_legged(self, alg="RS256", **kw):
        return self.sign(self.claims(**kw), alg=alg)

    def three_legged(self, number, alg="RS256", **kw):
        return self.sign(self.claims(sub="tel:" + number, **kw), alg=alg)

    def expired(self):
        # issued 20 minutes ago, expired 10 minutes ago (beyond any leeway)
        c = self.claims(lifetime=-600)
        c["iat"] = c["nbf"] = c["exp"] - 600
        return self.sign(c)

    def without_scope(self):
        return self.two_legged(scope="openid")

    def invalid(self):
        """(label, token) pairs, each invalid for one reason other than expiry."""
        good = self.claims()
        tampered = self.two_legged().split(".")
        body = json.loads(base64.urlsafe_b64decode(tampered[1] + "=="))
        body["scope"] = SCOPE + " admin"
        tampered[1] = _b64(json.dumps(body).encode())
        none_head = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rs-1"}).encode())
        hs_head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rs-1"}).encode())
        hs_body = _b64(json.dumps(good).encode())
        pem = self.rsa.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        hs_sig = _b64(hmac.new(pem, (hs_head + "." + hs_body).encode(), hashlib.sha256).digest())
        return [
            ("bad signature (a key not in the set, under a known kid)",
             self.sign(dict(good), kid="rs-1", key=self.outsider)),
            ("unknown kid (a key not in the set)", self.sign(dict(good), kid="rs-9",
                                                             key=self.outsider)),
            ("payload changed after signing", ".".join(tampered)),
            ("wrong issuer", self.two_legged(iss="https://other-issuer.test")),
            ("wrong audience", self.two_legged(aud="some-other-api")),
            ("not yet valid (nbf in an hour)", self.two_legged(not_before=3600)),
            ("alg none", none_head + "." + hs_body + "."),
            ("HS256 keyed with the RSA public key", hs_head + "." + hs_body + "." + hs_sig),
            ("not a JWT", "a.b.c"),
        ]
