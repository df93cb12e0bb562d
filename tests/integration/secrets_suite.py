"""secrets_suite.py - secrets at rest against a real `secondnum serve`:

- the store's files (the SQLite database, its -wal and -shm, the deployment
  secret, an import's rejects file) are created readable by their owner
  only, whatever the umask lets through; a store left readable by others
  is warned about;
- a webhook's signing secret is stored sealed under the deployment secret:
  not in the clear anywhere in the database files, while deliveries still
  carry signatures a receiver verifies with it; a copy of the database with
  another deployment secret cannot sign; a clear secret of an older store
  is sealed when serve starts and keeps signing;
- a sign-in code's text does not outlive its code in the sms table: erased
  once the code is used, replaced or expired (outbox driver), and a
  gateway message whose code died before it left is dropped, not sent.

Cases that read the SQLite file itself are sqlite_only (tests/pg/run.sh
runs the rest on PostgreSQL). Environment: SECONDNUM, CASE_FILTER, KEEP_TMP
(harness.py).
"""

import datetime
import http.server
import json
import os
import re
import shutil
import socketserver
import sqlite3
import stat
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402
from webhook_receiver import WebhookReceiver  # noqa: E402

SECRET = "whsec-of-the-bank-0123456789"
RANGE = "+86137"
N1, N2, N3, N4 = "+8613700000001", "+8613700000002", "+8613700000003", "+8613700000004"
ID6 = {N1: "111111", N2: "22222X", N3: "333333", N4: "444444"}
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
GENEROUS = ["--otp-per-address", "100000", "--signin-per-address", "100000",
            "--otp-per-number", "1000"]


def at(days=0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def file_bytes(*paths):
    data = b""
    for p in paths:
        if os.path.exists(p):
            with open(p, "rb") as f:
                data += f.read()
    return data


class World:
    """A store (carrier cm owns +86137; four active numbers with ID digits),
    an app key and a carrier key; a server started by start()."""

    def __init__(self):
        self.env = h.Env()
        self.env.add_carrier("cm", RANGE)
        feed = self.env.path("feed.csv")
        with open(feed, "w") as f:
            f.write("number,event,at,event_id,id6\n")
            for i, n in enumerate((N1, N2, N3, N4)):
                f.write("%s,activate,%s,a%d,%s\n" % (n, at(400), i, ID6[n]))
        h.run_cli("import", "--db", self.env.db, "--carrier", "cm", feed)
        self.bank = self.env.key("app", "bank")
        self.cm = self.env.key("carrier", "cm-feed", carrier="cm")
        self.srv = None
        self.text_log = []   # every code message text request_code read

    def start(self, *extra, private_webhooks=True):
        self.srv = h.Server(self.env, extra=list(extra),
                            private_webhooks=private_webhooks).start()
        return self.srv

    def stop(self):
        if self.srv is not None:
            self.srv.stop()
            text = self.srv.stderr()
            assert not h.SANITIZER_RE.search(text), "sanitizer report:\n" + text[-4000:]
            self.srv = None

    def c(self, key=None):
        return self.srv.client(key)

    def set_webhook(self, url, secret=SECRET):
        r = self.c(self.bank).request("PUT", "/v1/webhook", json_body={"url": url, "secret": secret})
        expect_json(r, 200, "PUT /v1/webhook")

    def cancel_bound(self, number):
        """Bind number for the bank, then cancel it: one notice, one delivery."""
        r = self.c(self.bank).request("PUT", "/v1/bindings", json_body={"bindings": [
            {"number": number, "account": "acct-" + number, "bound_at": at(300)}]})
        expect_json(r, 200, "bind")
        r = self.c(self.cm).post("/v1/events", {"events": [
            {"number": number, "event": "cancel", "at": at(0)}]})
        body = expect_json(r, 200, "cancel")
        eq("cancel applied (answer %r; serve's log: %s)" % (body, self.srv.stderr()[-1500:]), 1,
           body["applied"])

    def deliveries(self, state):
        r = self.c(self.bank).get("/v1/deliveries?state=%s" % state)
        return expect_json(r, 200, "deliveries")["deliveries"]

    def stored_secret(self):
        db = sqlite3.connect(self.env.db)
        try:
            return db.execute("SELECT webhook_secret FROM apps WHERE name = 'bank'").fetchone()[0]
        finally:
            db.close()

    def messages(self, number):
        out = h.run_cli("sms", "list", "--db", self.env.db, "--number", number, "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def request_code(self, number):
        r = self.c().request("POST", "/v1/subscriber/otp", json_body={"number": number})
        expect_json(r, 200, "otp")
        texts = [m["text"] for m in self.messages(number) if m["purpose"] == "otp"]
        m = CODE_RE.search(texts[-1])
        assert m, "no code in %r" % texts[-1]
        self.text_log.append(texts[-1])
        return m.group(1)

    def sign_in(self, number, code, status=201):
        r = self.c().request("POST", "/v1/subscriber/session", json_body={
            "number": number, "code": code, "id6": ID6[number]})
        if status == 201:
            expect_json(r, 201, "sign in")
        else:
            eq("sign-in status", status, r.status)


def wait_texts(w, number, expected, timeout=6.0, what="texts"):
    """The otp message texts of number (oldest first) once each is empty or
    not as `expected` says (True: a text is kept, False: erased)."""
    def texts():
        got = [m["text"] for m in w.messages(number) if m["purpose"] == "otp"]
        return got if [t != "" for t in got] == expected else None
    try:
        return h.wait_until(texts, timeout, what)
    except AssertionError:
        raise AssertionError("%s: expected kept=%r, got %r" % (
            what, expected, [m["text"] for m in w.messages(number)]))


# ---------------------------------------------------------------------------
# the files


@h.sqlite_only("reads the modes of the SQLite files")
def case_store_files_are_readable_by_their_owner_only(_):
    old = os.umask(0o022)   # what a shell usually has: files would be 0644
    try:
        w = World()
        eq("the database", 0o600, mode(w.env.db))
        eq("the deployment secret", 0o600, mode(w.env.db + ".key"))
        bad = w.env.path("bad.csv")
        with open(bad, "w") as f:
            f.write("number,event,at,event_id,id6\n%s,activate,not-a-date,x1,123456\n" % N1)
        rejects = w.env.path("rejects.csv")
        p = h.run_cli("import", "--db", w.env.db, "--carrier", "cm", "--rejects", rejects, bad,
                      check=False)
        eq("import exit (a rejected line)", 1, p.returncode)
        assert "123456" in open(rejects).read(), "the rejects file holds the line"
        eq("the rejects file", 0o600, mode(rejects))
        w.start()
        for suffix in ("-wal", "-shm"):
            eq("the database's %s while serving" % suffix, 0o600, mode(w.env.db + suffix))
        assert "readable by other users" not in w.srv.stderr(), w.srv.stderr()
        w.stop()
        eq("the index snapshot (every number's state)", 0o600, mode(w.env.db + ".index"))
        # a store left readable by others (an older version made it 0644) is said
        os.chmod(w.env.db, 0o644)
        w.start()
        assert "readable by other users (mode 0644)" in w.srv.stderr(), w.srv.stderr()
        w.stop()
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------
# webhook secrets


@h.sqlite_only("reads the SQLite files")
@h.timeout(90)
def case_webhook_secret_is_sealed_and_still_signs(_):
    rec = WebhookReceiver(secret=SECRET).start()
    w = World()
    try:
        w.start()
        w.set_webhook(rec.url)
        stored = w.stored_secret()
        assert stored.startswith("sealed1:"), "stored as %r" % stored
        assert SECRET not in stored
        raw = file_bytes(w.env.db, w.env.db + "-wal")
        assert SECRET.encode() not in raw, "the secret is in the clear in the database files"
        hook = expect_json(w.c(w.bank).get("/v1/webhook"), 200, "GET /v1/webhook")
        assert SECRET not in json.dumps(hook), hook
        w.cancel_bound(N1)
        rec.wait_delivered(1)
        a = rec.delivered()[0]
        assert a.sig_ok, "signature: %s" % a.sig_reason
        w.stop()
        eq("the stored value, once the server closed the store", stored, w.stored_secret())
        assert SECRET.encode() not in file_bytes(w.env.db, w.env.db + "-wal")

        # the database alone (copied, served with another deployment secret)
        # cannot sign: the secret does not open, nothing is sent
        copy = h.Env(init=False)
        shutil.copy(w.env.db, copy.db)
        other = h.Server(copy, extra=["--key", copy.path("other.key")],
                         private_webhooks=True).start()
        try:
            assert "do not open with this deployment secret" in other.stderr(), other.stderr()
            r = other.client(w.cm).post("/v1/events", {"events": [
                {"number": N2, "event": "cancel", "at": at(0)}]})
            expect_json(r, 200, "cancel on the copy")
            r = other.client(w.bank).request("PUT", "/v1/bindings", json_body={"bindings": [
                {"number": N3, "account": "acct", "bound_at": at(300)}]})
            expect_json(r, 200, "bind on the copy")
            r = other.client(w.cm).post("/v1/events", {"events": [
                {"number": N3, "event": "cancel", "at": at(0)}]})
            expect_json(r, 200, "cancel on the copy")

            def failed():
                d = expect_json(other.client(w.bank).get("/v1/deliveries?state=pending"), 200,
                                "pending")["deliveries"]
                return d if d and all(x["attempts"] >= 1 for x in d) else None
            pend = h.wait_until(failed, 15, "an attempt on the copy")
            eq("what the app reads", {"internal error"}, {x["last_error"] for x in pend})
            eq("nothing reached the receiver from the copy", 1, len(rec.attempts()))
        finally:
            other.stop()
    finally:
        w.stop()
        rec.stop()


@h.sqlite_only("writes a clear secret into the SQLite file, as an older version did")
@h.timeout(90)
def case_clear_secret_of_an_older_store_is_sealed_at_start(_):
    clear = "an-older-clear-secret-0123"
    rec = WebhookReceiver(secret=clear).start()
    w = World()
    try:
        w.start()
        w.set_webhook(rec.url)
        w.stop()
        db = sqlite3.connect(w.env.db)
        db.execute("UPDATE apps SET webhook_secret = ? WHERE name = 'bank'", (clear,))
        db.commit()
        db.close()
        w.start()
        assert "sealed 1 webhook secret" in w.srv.stderr(), w.srv.stderr()
        stored = w.stored_secret()
        assert stored.startswith("sealed1:") and clear not in stored, stored
        w.cancel_bound(N1)
        rec.wait_delivered(1)
        assert rec.delivered()[0].sig_ok, rec.delivered()[0].sig_reason
        w.stop()
        # the clear value's bytes were overwritten too (secure_delete), not
        # only unlinked from the row
        assert clear.encode() not in file_bytes(w.env.db, w.env.db + "-wal"), \
            "the clear secret is still in the database file"
        w.start()
        assert "sealed" not in w.srv.stderr(), "sealed twice: " + w.srv.stderr()
        eq("left as it was", stored, w.stored_secret())
    finally:
        w.stop()
        rec.stop()


# ---------------------------------------------------------------------------
# sign-in code texts


@h.timeout(90)
def case_code_text_is_erased_once_used_replaced_or_expired(_):
    w = World()
    try:
        w.start("--otp-ttl", "4", *GENEROUS)
        codes = []   # the texts sent, to look for in the file at the end
        w.text_log = codes
        # used: the code signs in, its text goes
        code = w.request_code(N1)
        wait_texts(w, N1, [True], 1.0, "a live code is kept (the outbox is its delivery)")
        w.sign_in(N1, code)
        wait_texts(w, N1, [False], 3.0, "erased once used")
        # replaced: a newer code's message makes the older one's text dead
        w.request_code(N2)
        time.sleep(1.1)
        w.request_code(N2)
        wait_texts(w, N2, [False, True], 2.5, "the replaced code erased, the new one kept")
        # expired: never used, gone after its lifetime
        first = w.request_code(N3)
        wait_texts(w, N3, [False], 8.0, "erased once expired")
        w.sign_in(N3, first, status=401)
        wait_texts(w, N2, [False, False], 8.0, "the newer one expired too")
        eq("rows are kept, texts are not", 2, len(w.messages(N2)))
        w.stop()
        if not h.ON_POSTGRES:   # nor are their bytes left in the file
            raw = file_bytes(w.env.db, w.env.db + "-wal")
            for c in codes:
                assert c.encode() not in raw, "a code's text is still in the database file"
    finally:
        w.stop()


class FakeKannel:
    """A gateway that answers every sendsms with `status`, counting them."""

    def __init__(self, status):
        self.status = status
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests += 1
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Server((h.HOST, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@h.timeout(90)
def case_gateway_message_whose_code_died_is_dropped(_):
    """Kannel refuses (500) and the code expires before the retry: the
    message fails with its text erased instead of going out dead."""
    fake = FakeKannel(500)
    w = World()
    try:
        conf = w.env.path("sms.conf")
        with open(conf, "w") as f:
            f.write("driver = kannel\nurl = http://127.0.0.1:%d/cgi-bin/sendsms\n"
                    "user = u\npassword = p\nmax_attempts = 5\n" % fake.port)
        w.start("--sms-config", conf, "--otp-ttl", "1", *GENEROUS)
        r = w.c().request("POST", "/v1/subscriber/otp", json_body={"number": N4})
        expect_json(r, 200, "otp")

        def dropped():
            m = w.messages(N4)
            return m if m and m[0]["state"] == "failed" else None
        m = h.wait_until(dropped, 10, "the message dropped")[0]
        eq("error", "the code was no longer valid", m["error"])
        eq("text", "", m["text"])
        sent = fake.requests
        time.sleep(4.5)   # the next retries would have come by now (2 s, then 4 s)
        eq("no attempt after it was dropped", sent, fake.requests)
        assert sent <= 2, "%d attempts to the gateway" % sent
    finally:
        w.stop()
        fake.stop()


if __name__ == "__main__":
    h.main(globals())
