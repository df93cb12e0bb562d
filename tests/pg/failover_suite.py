"""failover_suite.py - several `secondnum serve` nodes on one PostgreSQL,
when things go wrong:

- webhook delivery across nodes: with two nodes running, every notice is
  sent once (each pending delivery is claimed by one node at a time); a node
  killed with SIGKILL in the middle of deliveries loses nothing: the other
  node sends what it held (a repeat carries the same notice id);
- the database stopped as in a crash (pg_ctl -m immediate) and started again
  while carriers keep posting events and apps keep checking: checks keep
  answering 200 from the index, writes answer 503 UNAVAILABLE with
  Retry-After (never a 500, never a hang), the nodes recover by themselves,
  and every event acknowledged with 200 is in the store afterwards.

Each case starts its own PostgreSQL server (tests/pg/pg_server.sh) in a
temporary directory, so stopping it disturbs nothing else. Run by
tests/pg/run.sh (SECONDNUM is the real binary).
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402

PG_SERVER = os.path.join(HERE, "pg_server.sh")


class PgEnv(h.Env):
    """A private PostgreSQL server with one secondnum database in it. The
    CLI and the servers get the URL as --db and the secret by SECONDNUM_KEY."""

    def __init__(self):
        super().__init__(init=False)
        # not created here: pg_server.sh makes it for the server's user (a
        # private mkdtemp parent would be closed to that user)
        self.pgdir = os.path.join(os.environ.get("TMPDIR") or tempfile.gettempdir(),
                                  "sn-pgf.%s" % uuid.uuid4().hex[:12])
        self.db = subprocess.run([PG_SERVER, "start", self.pgdir], check=True, text=True,
                                 capture_output=True).stdout.strip()
        os.environ["SECONDNUM_KEY"] = self.path("secret.key")
        h.run_cli("init", "--db", self.db)

    def psql(self, sql):
        p = subprocess.run([PG_SERVER, "psql", self.pgdir, "secondnum", "-At", "-c", sql],
                           check=True, text=True, capture_output=True)
        return p.stdout.split()

    def halt(self, mode="immediate"):
        subprocess.run([PG_SERVER, "halt", self.pgdir, mode], check=True)

    def resume(self):
        subprocess.run([PG_SERVER, "resume", self.pgdir], check=True)

    def cleanup(self):
        subprocess.run([PG_SERVER, "stop", self.pgdir], check=False)
        super().cleanup()


class SlowReceiver:
    """A webhook receiver answering 200 after `delay` seconds; records the
    notice id of every POST as it arrives (a repeat is recorded again)."""

    def __init__(self, delay):
        self.delay = delay
        self.ids = []
        self.lock = threading.Lock()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.ids.append(json.loads(body)["id"])
                time.sleep(rec.delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        class Quiet(http.server.ThreadingHTTPServer):
            # hundreds of deliveries connect at once: socketserver's backlog
            # of 5 made connections fail and be retried (a repeat, not the
            # claims' doing)
            request_queue_size = 1024

            def handle_error(self, request, client_address):
                pass  # a killed node resets its connections: expected here

        self.server = Quiet((h.HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://%s:%d/hook" % (h.HOST, self.server.server_address[1])

    def received(self):
        with self.lock:
            return list(self.ids)

    def wait_distinct(self, count, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(set(self.received())) >= count:
                return
            time.sleep(0.05)
        raise AssertionError("receiver has %d distinct notices, expected %d"
                             % (len(set(self.received())), count))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def ago(days):
    t = time.gmtime(time.time() - days * 86400)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


def numbers(first, count):
    return ["+86139%08d" % (first + i) for i in range(count)]


def setup_world(env, receiver_url, nums):
    """A carrier, an app with a webhook bound to every number (active since
    400 days), through a node of its own that is stopped after."""
    env.add_carrier("cm", "+86139")
    carrier = env.key("carrier", "cm-feed", carrier="cm")
    app = env.key("app", "bank")
    admin = env.key("admin", "ops")
    node = h.Server(env, threads=1, private_webhooks=True).start()
    try:
        c = node.client(carrier)
        for i in range(0, len(nums), 1000):
            r = c.post("/v1/events", {"events": [
                {"number": n, "event": "activate", "at": ago(400)} for n in nums[i:i + 1000]]})
            eq("activations", min(1000, len(nums) - i), expect_json(r, 200, "activate")["applied"])
        a = node.client(app)
        expect_json(a.request("PUT", "/v1/webhook", json_body={"url": receiver_url,
                                                                "secret": "s3cret-0123456789"}),
                    200, "webhook")
        for i in range(0, len(nums), 1000):
            r = a.request("PUT", "/v1/bindings", json_body={"bindings": [
                {"number": n, "account": "acct-" + n, "bound_at": ago(300)}
                for n in nums[i:i + 1000]]})
            expect_json(r, 200, "bind")
    finally:
        node.stop()
    return carrier, app, admin


def cancel(node, carrier, nums):
    r = node.client(carrier).post("/v1/events", {"events": [
        {"number": n, "event": "cancel", "at": ago(1)} for n in nums]})
    eq("cancellations", len(nums), expect_json(r, 200, "cancel")["applied"])


def case_two_nodes_deliver_each_notice_once_and_survive_a_kill(_):
    env = PgEnv()
    # 1.2 s per answer: longer than a node's idle poll (1 s), so each node
    # sees the other's deliveries still pending while they are in flight
    fast = SlowReceiver(1.2)
    nodes = []
    try:
        nums = numbers(0, 400)
        carrier, _app, admin = setup_world(env, fast.url, nums)
        nodes = [h.Server(env, threads=1, private_webhooks=True).start(), h.Server(env, threads=1, private_webhooks=True).start()]
        # Both nodes deliver; the claims keep them from sending the same one.
        cancel(nodes[0], carrier, nums[:100])
        cancel(nodes[1], carrier, nums[100:200])
        fast.wait_distinct(200, 60)
        time.sleep(2.5)  # a second send would have come by now
        got = fast.received()
        eq("each of 200 notices delivered exactly once by two nodes", 200, len(got))

        # Slow answers, then node 0 dies with its deliveries in flight: they
        # have arrived, but node 0 never hears the answers nor writes them.
        fast.delay = 3
        cancel(nodes[0], carrier, nums[200:400])
        deadline = time.time() + 30
        while len(set(fast.received())) < 210 and time.time() < deadline:
            time.sleep(0.02)
        nodes[0].kill()
        t_kill = time.time()
        fast.wait_distinct(400, 120)
        # what node 0 had claimed and not written back is pending in the
        # store: node 1 must send it and record it
        deadline = time.time() + 120
        while env.psql("SELECT count(*) FROM deliveries WHERE state = 0") != ["0"]:
            assert time.time() < deadline, "deliveries still pending 120 s after the kill"
            time.sleep(0.1)
        took = time.time() - t_kill
        got = fast.received()
        ids = expect_json(nodes[1].client(admin).get("/v1/admin/notices?limit=1000"), 200,
                          "admin notices")["notices"]
        eq("400 notices issued", 400, len(ids))
        eq("every notice delivered", sorted(x["id"] for x in ids), sorted(set(got)))
        assert len(got) > 400, "node 0 was killed after it had written every outcome: %d" % len(got)
        print("    # every delivery recorded %.1f s after the kill; %d sent again by node 1 "
              "(same notice id)" % (took, len(got) - len(set(got))))
    finally:
        for n in nodes:
            n.kill()
        fast.stop()
        env.cleanup()


case_two_nodes_deliver_each_notice_once_and_survive_a_kill.timeout = 300


class Load:
    """Carriers posting small event batches to both nodes and apps checking
    on both nodes, in threads, until stopped; records what was answered."""

    def __init__(self, nodes, carrier, app, nums):
        self.nodes, self.carrier, self.app, self.nums = nodes, carrier, app, nums
        self.acked = []          # event ids answered 200
        self.statuses = {}       # (what, status) -> count
        self.unavailable = []    # 503 bodies and Retry-After values
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.post, args=(i,), daemon=True)
                        for i in range(2)]
        self.threads += [threading.Thread(target=self.check, args=(i,), daemon=True)
                         for i in range(2)]

    def count(self, what, status):
        with self.lock:
            self.statuses[(what, status)] = self.statuses.get((what, status), 0) + 1

    def post(self, i):
        c = self.nodes[i].client(self.carrier, timeout=30)
        k = 0
        mine = self.nums[i::2]
        while not self.stop_flag.is_set() and k + 5 <= len(mine):
            batch = mine[k:k + 5]
            evs = [{"number": n, "event": "cancel", "at": ago(1), "event_id": "x" + n[1:]}
                   for n in batch]
            try:
                r = c.post("/v1/events", {"events": evs})
            except OSError:
                self.count("events", "error")
                c = self.nodes[i].client(self.carrier, timeout=30)
                time.sleep(0.05)
                continue
            self.count("events", r.status)
            if r.status == 200:
                with self.lock:
                    self.acked += [e["event_id"] for e in evs]
                k += 5
            else:
                if r.status == 503:
                    with self.lock:
                        self.unavailable.append((r.json().get("code"), r.header("Retry-After")))
                time.sleep(0.05)

    def check(self, i):
        c = self.nodes[i].client(self.app, timeout=30)
        while not self.stop_flag.is_set():
            try:
                r = c.post("/v1/check", {"number": self.nums[0], "date": ago(30)[:10]})
                self.count("check", r.status)
            except OSError:
                self.count("check", "error")
                c = self.nodes[i].client(self.app, timeout=30)
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(60)

    def acked_count(self):
        with self.lock:
            return len(self.acked)


def case_database_crash_and_restart_under_load(_):
    env = PgEnv()
    hook = SlowReceiver(0)
    nodes = []
    try:
        nums = numbers(1000, 4000)
        carrier, app, _admin = setup_world(env, hook.url, nums)
        nodes = [h.Server(env, threads=2, private_webhooks=True).start(), h.Server(env, threads=2, private_webhooks=True).start()]
        with Load(nodes, carrier, app, nums) as load:
            time.sleep(1.5)
            before = load.acked_count()
            assert before > 0, "no event acknowledged before the outage: %r" % load.statuses
            env.halt("immediate")  # as a crash: no checkpoint, WAL replay at start
            time.sleep(3)
            during = dict(load.statuses)
            env.resume()
            t_up = time.time()
            while load.acked_count() < before + 200 and time.time() - t_up < 60:
                time.sleep(0.1)
            recovered = time.time() - t_up
            time.sleep(0.5)
        st = load.statuses
        print("    # answers: %s; writes back %.1f s after the database" % (
            sorted((str(k), v) for k, v in st.items()), recovered))
        assert load.acked_count() >= before + 200, \
            "the nodes did not recover within 60 s: %r" % st
        assert during.get(("events", 503), 0) > 0, "no 503 while the database was down: %r" % during
        for what in ("events", "check"):
            for status in (500, "error"):
                eq("%s answered %s" % (what, status), 0, st.get((what, status), 0))
        bad = [k for k in st if k[0] == "check" and k[1] != 200]
        eq("every check answered 200 (from the index)", [], bad)
        eq("503 shape", set([("UNAVAILABLE", "1")]), set(load.unavailable))
        for n in nodes:
            assert n.alive(), "a node died: %s" % n.stderr()[-2000:]
        # every acknowledged event is in the store
        stored = set(env.psql("SELECT event_id FROM events WHERE event_id LIKE 'x%'"))
        lost = [e for e in load.acked if e not in stored]
        eq("acknowledged events lost", [], lost[:10])
        eq("no acknowledged event applied twice", len(stored),
           int(env.psql("SELECT count(*) FROM events WHERE event_id LIKE 'x%'")[0]))
    finally:
        for n in nodes:
            n.kill()
        hook.stop()
        env.cleanup()


case_database_crash_and_restart_under_load.timeout = 300


if __name__ == "__main__":
    h.main(globals())
