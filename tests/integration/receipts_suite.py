"""receipts_suite.py - issue 14, signed receipts of checks, against a real
`secondnum serve`: receipts of the native check (by number and by hash), of
batch items and of the three CAMARA routes (response header), each verified
here by an implementation of our own (Debian's python3-nacl,
nacl.signing.VerifyKey, over the canonical encoding rebuilt from the
receipt) and by `secondnum receipts verify`; a receipt with one field
changed or one signature byte flipped refused by both; rotation (an old
receipt still verifies, new ones carry the new key, within a second of
`secondnum receipts rotate`); bad values of the flag and the header -> 400;
without the flag the answers are byte for byte what they were; the keys
document is public; the limits of a receipt file and of a batch.

Environment: SECONDNUM (the binary), CASE_FILTER, KEEP_TMP (harness.py).
Runs on SQLite and, through tests/pg/run.sh, on PostgreSQL.
"""

import base64
import datetime
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_error, expect_json  # noqa: E402

import nacl.exceptions  # noqa: E402
import nacl.signing  # noqa: E402

SAME = "+8613800000001"  # activated 2020-01-01, still held
NEW = "+8613800000002"   # activated 2020-01-01, cancelled 2021-01-01, reissued 2022-01-01
NEVER = "+8613800000009"  # in the carrier's range, never reported
KEYS = "/v1/receipts/keys"
RECEIPT_FILE_MAX = 64 << 10  # SN_RECEIPT_FILE_MAX
MAX_ITEMS = 10000            # SN_HTTP_MAX_ITEMS
ORDER = ["format", "api", None, "date", "result", "answered_at", "app", "credential", "as_of",
         "key_id", "signature"]  # None: the question's name of the number


class Ctx:
    pass


def setup():
    c = Ctx()
    c.env = h.Env()
    c.env.add_carrier("cmcc", "+86138")
    c.env.import_feed([(SAME, "activate", "2020-01-01"), (NEW, "activate", "2020-01-01"),
                       (NEW, "cancel", "2021-01-01"), (NEW, "activate", "2022-01-01")],
                      carrier="cmcc")
    c.app = c.env.key("app", "receipts-app")
    c.app_id = c.env.key_ids()["receipts-app"]
    c.carrier = c.env.key("carrier", "receipts-cmcc", carrier="cmcc")
    c.server = h.Server(c.env).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


# ---- verifying, independently of the server's code ---------------------------


def canonical(receipt_text):
    """The signed bytes: the receipt without its signature, members in the
    order given, no white space."""
    obj = json.loads(receipt_text)
    obj.pop("signature")
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def nacl_verify(receipt_text, keys_doc):
    """Raise unless the receipt verifies against the keys document."""
    r = json.loads(receipt_text)
    key = next(k for k in keys_doc["keys"] if k["key_id"] == r["key_id"])
    if key["retired"] is not None:
        assert r["answered_at"] <= key["retired"], "signed after its key was retired"
    vk = nacl.signing.VerifyKey(b64url(key["public_key"]))
    vk.verify(canonical(receipt_text), b64url(r["signature"]))


def nacl_refuses(receipt_text, keys_doc, what):
    try:
        nacl_verify(receipt_text, keys_doc)
    except nacl.exceptions.BadSignatureError:
        return
    raise AssertionError("python-nacl accepted %s" % what)


def cli_verify(env, receipt_text, keys_doc, name="r"):
    """`secondnum receipts verify`: the process (exit 0 valid, 1 not)."""
    rp, kp = env.path(name + ".json"), env.path(name + ".keys.json")
    with open(rp, "w") as f:
        f.write(receipt_text)
    with open(kp, "w") as f:
        json.dump(keys_doc, f)
    return h.run_cli("receipts", "verify", "--keys", kp, rp, check=False)


def both_accept(c, receipt_text, keys_doc, what):
    nacl_verify(receipt_text, keys_doc)
    p = cli_verify(c.env, receipt_text, keys_doc)
    eq("receipts verify of %s: exit (%s)" % (what, p.stderr.strip()), 0, p.returncode)


def both_refuse(c, receipt_text, keys_doc, what, reason):
    nacl_refuses(receipt_text, keys_doc, what)
    p = cli_verify(c.env, receipt_text, keys_doc)
    eq("receipts verify of %s: exit" % what, 1, p.returncode)
    assert reason in p.stderr, "%s: reason %r not in %r" % (what, reason, p.stderr)


def keys_doc(c):
    return expect_json(c.server.client(None).get(KEYS), 200, "keys document")


def receipt_text_of(answer):
    """The receipt member of an answer, as the compact text the server sent."""
    return json.dumps(answer["receipt"], separators=(",", ":"), ensure_ascii=False)


def check_members(c, r, api, question, asked, date, result):
    keys = list(r)
    eq("members in order", [question if k is None else k for k in ORDER], keys)
    eq("format", "secondnum-receipt-1", r["format"])
    eq("api", api, r["api"])
    eq(question, asked, r[question])
    eq("date", date, r["date"])
    eq("result", result, r["result"])
    eq("app", "receipts-app", r["app"])
    eq("credential", "key:%d" % c.app_id, r["credential"])
    at = datetime.datetime.strptime(r["answered_at"], "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.utcnow()
    assert abs((now - at).total_seconds()) < 120, "answered_at %s, now %s" % (at, now)
    assert isinstance(r["as_of"], int) and r["as_of"] >= 0, r["as_of"]
    current = [k["key_id"] for k in keys_doc(c)["keys"] if k["retired"] is None]
    eq("signed with the current key", current, [r["key_id"]])


# ---- cases ---------------------------------------------------------------------


def case_keys_document_is_public(c):
    r = c.server.client(None).get(KEYS)
    doc = expect_json(r, 200, "no credential")
    assert len(doc["keys"]) >= 1, doc
    for k in doc["keys"]:
        eq("members", ["key_id", "public_key", "created", "retired"], list(k))
        eq("public key bytes", 32, len(b64url(k["public_key"])))
    eq("one current key", 1, sum(k["retired"] is None for k in doc["keys"]))
    eq("with an app key too", doc, expect_json(c.server.client(c.app).get(KEYS), 200))


def case_native_check_receipt_verifies(c):
    client = c.server.client(c.app)
    doc = keys_doc(c)
    for q, question, asked, date, result in [
            ({"number": NEW}, "number", NEW, "2021-06-01", "reassigned"),
            ({"number": SAME}, "number", SAME, "2021-06-01", "unchanged"),
            ({"number_sha256": hashlib.sha256(NEW.encode()).hexdigest().upper()},
             "number_sha256", hashlib.sha256(NEW.encode()).hexdigest(), "2021-06-01",
             "reassigned"),
            ({"number_md5": hashlib.md5(SAME.encode()).hexdigest()}, "number_md5",
             hashlib.md5(SAME.encode()).hexdigest(), "2021-06-01", "unchanged"),
            ({"number": NEVER}, "number", NEVER, "2021-06-01", "unknown")]:
        body = dict(q, date=date, receipt=True)
        answer = expect_json(client.post("/v1/check", body), 200, "check %r" % body)
        eq("answer beside the receipt", result, answer["result"])
        r = answer["receipt"]
        check_members(c, r, "check", question, asked, date, result)
        if question != "number":
            assert "number" not in r, "a hashed question's receipt names the number: %r" % r
        both_accept(c, receipt_text_of(answer), doc, "%s receipt" % question)


def case_batch_items_get_their_own_receipts(c):
    client = c.server.client(c.app)
    doc = keys_doc(c)
    items = [{"number": NEW, "date": "2021-06-01", "receipt": True},
             {"number": SAME, "date": "2021-06-01"},
             {"number": SAME, "date": "2021-06-01", "receipt": False},
             {"number": "not a number", "date": "2021-06-01", "receipt": True},
             {"number_sm3": "00" * 32, "date": "2021-06-01", "receipt": True}]
    got = expect_json(client.post("/v1/check/batch", {"items": items}), 200)["results"]
    plain = expect_json(client.post("/v1/check/batch", {"items": [
        {k: v for k, v in it.items() if k != "receipt"} for it in items]}), 200)["results"]
    eq("items without a receipt answer as before", [plain[1], plain[2], plain[3]],
       [got[1], got[2], got[3]])
    check_members(c, got[0]["receipt"], "check", "number", NEW, "2021-06-01", "reassigned")
    check_members(c, got[4]["receipt"], "check", "number_sm3", "00" * 32, "2021-06-01",
                  "unknown")
    for i in (0, 4):
        eq("item %d beside its receipt" % i, plain[i],
           {k: v for k, v in got[i].items() if k != "receipt"})
        both_accept(c, receipt_text_of(got[i]), doc, "batch item %d" % i)


def camara(client, version, number, date, receipt=None):
    headers = {"Secondnum-Receipt": receipt} if receipt is not None else None
    return client.post("/number-recycling/%s/check" % version,
                       {"phoneNumber": number, "specifiedDate": date}, headers=headers)


def case_camara_receipt_in_a_header(c):
    client = c.server.client(c.app)
    doc = keys_doc(c)
    for version, api in [("v0.2", "camara-v0.2"), ("v0.3", "camara-v0.3"),
                         ("v0.3rc1", "camara-v0.3")]:
        for number, recycled, result in [(NEW, True, "reassigned"), (SAME, False, "unchanged")]:
            plain = camara(client, version, number, "2021-06-01")
            signed = camara(client, version, number, "2021-06-01", "true")
            eq("%s status" % version, (200, 200), (plain.status, signed.status))
            eq("%s body byte for byte" % version, plain.body, signed.body)
            eq("%s answer" % version, {"phoneNumberRecycled": recycled}, signed.json())
            eq("%s: no receipt unasked" % version, None, plain.header("secondnum-receipt"))
            text = b64url(signed.header("secondnum-receipt")).decode()
            r = json.loads(text)
            check_members(c, r, api, "number", number, "2021-06-01", result)
            both_accept(c, text, doc, "%s receipt" % version)
    # an error answer signs nothing
    r = camara(client, "v0.3", NEVER, "2021-06-01", "true")
    eq("unknown number", 404, r.status)
    eq("no receipt on an error", None, r.header("secondnum-receipt"))


def case_tampered_receipts_are_refused(c):
    client = c.server.client(c.app)
    doc = keys_doc(c)
    answer = expect_json(client.post("/v1/check", {"number": NEW, "date": "2021-06-01",
                                                   "receipt": True}), 200)
    text = receipt_text_of(answer)
    both_accept(c, text, doc, "the receipt as served")
    for field, value in [("result", "unchanged"), ("date", "2021-06-02"), ("number", SAME),
                         ("app", "another-app"), ("as_of", answer["receipt"]["as_of"] + 1)]:
        r = dict(answer["receipt"])
        r[field] = value
        both_refuse(c, json.dumps(r, separators=(",", ":")), doc, "%s changed" % field,
                    "signature does not match")
    sig = bytearray(b64url(answer["receipt"]["signature"]))
    sig[10] ^= 0x01
    r = dict(answer["receipt"], signature=base64.urlsafe_b64encode(bytes(sig)).decode().rstrip("="))
    both_refuse(c, json.dumps(r, separators=(",", ":")), doc, "a signature byte flipped",
                "signature does not match")
    # members reordered: the signed bytes keep the documented order, so a
    # verifier that takes the order as given refuses; `receipts verify` reads
    # the members by name and encodes them in that order again
    r = answer["receipt"]
    moved = json.dumps(dict([("date", r["date"])] + [(k, v) for k, v in r.items() if k != "date"]))
    nacl_refuses(moved, doc, "members reordered, taken as given")
    p = cli_verify(c.env, moved, doc)
    eq("members reordered, read by name: exit (%s)" % p.stderr.strip(), 0, p.returncode)


def case_bad_receipt_values_are_refused(c):
    client = c.server.client(c.app)
    for v in ["yes", "true", 1, None, {}]:
        r = client.post("/v1/check", {"number": NEW, "date": "2021-06-01", "receipt": v})
        expect_error(r, 400, "INVALID_ARGUMENT", "receipt %r" % (v,))
        assert b"signature" not in r.body, r.body
    got = expect_json(client.post("/v1/check/batch", {"items": [
        {"number": NEW, "date": "2021-06-01", "receipt": "yes"}]}), 200)["results"][0]
    eq("a batch item's bad flag", "INVALID_ARGUMENT", got["error"]["code"])
    for v in ["yes", "TRUE", "1", "true ", "false"]:
        r = camara(client, "v0.3", NEW, "2021-06-01", v)
        expect_error(r, 400, "INVALID_ARGUMENT", "header %r" % v)
        eq("nothing signed for %r" % v, None, r.header("secondnum-receipt"))


def case_as_of_follows_the_writes(c):
    """A receipt's as_of moves on once an event written over HTTP is in the
    index (PostgreSQL: the change number; SQLite: the batches committed)."""
    client = c.server.client(c.app)
    body = {"number": "+8613800000005", "date": "2021-06-01", "receipt": True}
    before = expect_json(client.post("/v1/check", body), 200)["receipt"]
    eq("unknown before", "unknown", before["result"])
    r = c.server.client(c.carrier).post("/v1/events", {"events": [
        {"number": "+8613800000005", "event": "activate", "at": "2020-01-01", "event_id": "as-of"}]})
    eq("applied", 1, expect_json(r, 200, "event")["applied"])

    def moved():
        a = expect_json(client.post("/v1/check", body), 200)["receipt"]
        return a if a["result"] == "unchanged" and a["as_of"] > before["as_of"] else None
    after = h.wait_until(moved, 10, "a receipt past the event")
    print("# as_of %d before the event, %d after" % (before["as_of"], after["as_of"]))


def case_without_the_flag_answers_are_unchanged(c):
    client = c.server.client(c.app)
    r = client.post("/v1/check", {"number": NEW, "date": "2021-06-01"})
    eq("native body", b'{"number":"+8613800000002","date":"2021-06-01","result":"reassigned"}\n',
       r.body)
    r2 = client.post("/v1/check", {"number": NEW, "date": "2021-06-01", "receipt": False})
    eq("receipt false", r.body, r2.body)
    r = camara(client, "v0.2", SAME, "2021-06-01")
    eq("CAMARA body", b'{"phoneNumberRecycled":false}\n', r.body)
    eq("CAMARA headers", None, r.header("secondnum-receipt"))


@h.timeout(180)
def case_rotation_keeps_old_receipts_valid(c):
    client = c.server.client(c.app)
    before = keys_doc(c)
    old_id = next(k["key_id"] for k in before["keys"] if k["retired"] is None)
    old = receipt_text_of(expect_json(client.post("/v1/check", {
        "number": NEW, "date": "2021-06-01", "receipt": True}), 200))
    out = h.run_cli("receipts", "rotate", "--db", c.env.db).stdout
    new_id = int(out.split()[2])
    assert new_id > old_id, out

    def signed_with_new():
        a = expect_json(client.post("/v1/check", {"number": SAME, "date": "2021-06-01",
                                                  "receipt": True}), 200)
        return a if a["receipt"]["key_id"] == new_id else None
    new = receipt_text_of(h.wait_until(signed_with_new, 10, "receipts signed with key %d" % new_id))
    after = keys_doc(c)
    eq("keys listed", [k["key_id"] for k in before["keys"]] + [new_id],
       [k["key_id"] for k in after["keys"]])
    retired = {k["key_id"]: k["retired"] for k in after["keys"]}
    eq("the new key is current", None, retired[new_id])
    assert retired[old_id] is not None, after
    both_accept(c, old, after, "a receipt of the retired key")
    both_accept(c, new, after, "a receipt of the new key")
    p = cli_verify(c.env, new, before)
    eq("new receipt against the old document: exit", 1, p.returncode)
    assert "not in the keys document" in p.stderr, p.stderr
    # the CLI prints the same document as the server
    eq("receipts keys", after, json.loads(h.run_cli("receipts", "keys", "--db", c.env.db).stdout))


def case_verify_usage_and_file_limit(c):
    client = c.server.client(c.app)
    doc = keys_doc(c)
    text = receipt_text_of(expect_json(client.post("/v1/check", {
        "number": NEW, "date": "2021-06-01", "receipt": True}), 200))
    kp = c.env.path("limit.keys.json")
    with open(kp, "w") as f:
        json.dump(doc, f)
    at_limit, over = c.env.path("at_limit.json"), c.env.path("over.json")
    with open(at_limit, "w") as f:
        f.write(text + " " * (RECEIPT_FILE_MAX - len(text)))
    with open(over, "w") as f:
        f.write(text + " " * (RECEIPT_FILE_MAX + 1 - len(text)))
    eq("a receipt file of exactly the limit", 0,
       h.run_cli("receipts", "verify", "--keys", kp, at_limit, check=False).returncode)
    p = h.run_cli("receipts", "verify", "--keys", kp, over, check=False)
    eq("a receipt file over the limit: exit", 2, p.returncode)
    assert "over %d bytes" % RECEIPT_FILE_MAX in p.stderr, p.stderr
    eq("no --keys", 2, h.run_cli("receipts", "verify", at_limit, check=False).returncode)
    eq("no file", 2, h.run_cli("receipts", "verify", "--keys", kp, check=False).returncode)
    eq("a missing file", 2, h.run_cli("receipts", "verify", "--keys", kp,
                                      c.env.path("absent.json"), check=False).returncode)
    p = h.run_cli("receipts", "verify", "--keys", kp, kp, check=False)
    eq("not a receipt: exit", 1, p.returncode)
    assert "not valid" in p.stderr, p.stderr


def case_another_secret_makes_a_new_key(c):
    env = h.Env()
    env.add_carrier("cmcc", "+86138")
    env.import_feed([(SAME, "activate", "2020-01-01")], carrier="cmcc")
    app = env.key("app", "receipts-app")
    s = h.Server(env).start()
    try:
        first = expect_json(s.client(None).get(KEYS), 200)
    finally:
        s.stop(expect_rc=0)
    eq("one key made at the first start", [None], [k["retired"] for k in first["keys"]])
    # the key of the store is sealed under the first secret: with another one
    # it does not open, so serve retires it and makes a new key
    s = h.Server(env, extra=["--key", env.path("other.key")]).start()
    try:
        doc = expect_json(s.client(None).get(KEYS), 200)
        eq("keys", [first["keys"][0]["key_id"], first["keys"][0]["key_id"] + 1],
           [k["key_id"] for k in doc["keys"]])
        assert doc["keys"][0]["retired"] is not None and doc["keys"][1]["retired"] is None, doc
        assert "does not open with this deployment secret" in s.stderr(), s.stderr()
        a = expect_json(s.client(app).post("/v1/check", {"number": SAME, "date": "2021-06-01",
                                                         "receipt": True}), 200)
        eq("signed with the new key", doc["keys"][1]["key_id"], a["receipt"]["key_id"])
        nacl_verify(receipt_text_of(a), doc)
    finally:
        s.stop(expect_rc=0)


@h.timeout(300)
def case_full_batch_of_receipts(c):
    client = c.server.client(c.app)
    doc = keys_doc(c)
    items = [{"number": NEW if i % 2 else SAME, "date": "2021-06-01", "receipt": True}
             for i in range(MAX_ITEMS)]
    got = expect_json(client.post("/v1/check/batch", {"items": items}), 200)["results"]
    eq("results", MAX_ITEMS, len(got))
    for i, a in enumerate(got):
        eq("item %d result" % i, "reassigned" if i % 2 else "unchanged", a["result"])
        nacl_verify(receipt_text_of(a), doc)
    r = client.post("/v1/check/batch", {"items": items + [items[0]]})
    expect_error(r, 400, "INVALID_ARGUMENT", "one item over %d" % MAX_ITEMS)


if __name__ == "__main__":
    h.main(globals(), setup, teardown, after_case)
