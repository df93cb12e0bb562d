"""standby_suite.py - a check node following a hot-standby replica
(`serve --follow URL`, docs/scaling.md), on a real primary and a real
streaming standby made with pg_basebackup -R (tests/pg/pg_server.sh start,
then standby), both on loopback in the test's temporary directory:

- a change posted to node A (on the primary) is answered by a check on
  node B, whose follower reads the standby, within 1 s (the measured times
  are printed);
- node B never sends the standby a write: B's own writes are accepted (they
  go to the primary through its multi-host --db) and the standby's log holds
  no error at all (a write there would be "cannot execute ... in a read-only
  transaction");
- failover: under a light events load on B, the primary is killed (SIGKILL)
  and the synchronous standby promoted; every acknowledged event is in the
  new primary exactly once, writes during the switch were 503 with
  Retry-After, B accepts writes again without a restart (the time from the
  promotion is printed) and its checks were answered 200 throughout; B,
  stopped after the switch, starts again from the index snapshot it wrote
  and answers every acknowledged event and those that reached the new
  primary while it was stopped;
- the followed standby stops: B's follower reconnects to the primary
  (prefer-standby falls back) and keeps following.

Each case starts its own pair of servers and removes them after, also on
failure. Run by tests/pg/run.sh (SECONDNUM is the real binary);
CASE_FILTER runs one case.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402

PG_SERVER = os.path.join(HERE, "pg_server.sh")
STANDBY_NAME = "sn_standby"  # its application_name, in synchronous_standby_names
FOLLOW_WITHIN_S = 1.0        # the bound for a change to reach node B


def pg(*args):
    return subprocess.run([PG_SERVER, *args], check=True, text=True,
                          capture_output=True).stdout.strip()


class Pair(h.Env):
    """A primary (self.pdir) and its streaming hot standby (self.sdir), each
    a pg_server.sh directory; the store is created on the primary."""

    def __init__(self, synchronous=False):
        super().__init__(init=False)
        base = os.environ.get("TMPDIR") or tempfile.gettempdir()
        tag = uuid.uuid4().hex[:12]
        self.pdir = os.path.join(base, "sn-pgp.%s" % tag)
        self.sdir = os.path.join(base, "sn-pgs.%s" % tag)
        self.db = pg("start", self.pdir)
        os.environ["SECONDNUM_KEY"] = self.path("secret.key")
        h.run_cli("init", "--db", self.db)
        pg("standby", self.pdir, self.sdir, STANDBY_NAME)
        self.standby = pg("url", self.sdir)
        if synchronous:
            self.psql(self.pdir, "ALTER SYSTEM SET synchronous_standby_names = '%s'"
                      % STANDBY_NAME)
            self.psql(self.pdir, "SELECT pg_reload_conf()")
        want = "sync" if synchronous else "async"
        self.wait_for(lambda: self.psql(self.pdir, "SELECT sync_state FROM pg_stat_replication "
                                        "WHERE state = 'streaming'") == [want],
                      "the standby streaming (%s)" % want)
        self.wait_for(lambda: self.psql(self.sdir, "SELECT to_regclass('meta') IS NOT NULL")
                      == ["t"], "the schema on the standby")

    def psql(self, d, sql):
        return pg("psql", d, "secondnum", "-At", "-c", sql).split()

    @staticmethod
    def wait_for(cond, what, timeout=60):
        deadline = time.time() + timeout
        while not cond():
            assert time.time() < deadline, "no %s after %d s" % (what, timeout)
            time.sleep(0.1)

    def url(self, *dirs, attrs):
        """A multi-host URL over dirs' servers (same password), in order."""
        hosts = ",".join("127.0.0.1:%s" % open(os.path.join(d, "port")).read().strip()
                         for d in dirs)
        password = open(os.path.join(self.pdir, "password")).read().strip()
        return "postgresql://secondnum:%s@%s/secondnum?target_session_attrs=%s" % (
            password, hosts, attrs)

    def node_b(self, extra=()):
        """Node B: writes to whichever server is the primary (read-write
        multi-host --db), follows the standby (--follow prefer-standby)."""
        env_b = types.SimpleNamespace(db=self.url(self.pdir, self.sdir, attrs="read-write"),
                                      path=self.path)
        follow = self.url(self.sdir, self.pdir, attrs="prefer-standby")
        return h.Server(env_b, threads=1,
                        extra=["--follow", follow, "--log-level", "info", *extra])

    def server_log(self, d):
        with open(os.path.join(d, "server.log"), errors="replace") as f:
            return f.read()

    def kill_primary(self):
        with open(os.path.join(self.pdir, "data", "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGKILL)

    def cleanup(self):
        subprocess.run([PG_SERVER, "stop", self.sdir], check=False)
        subprocess.run([PG_SERVER, "stop", self.pdir], check=False)
        super().cleanup()


def ago(days):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - days * 86400))


def numbers(first, count):
    return ["+86139%08d" % (first + i) for i in range(count)]


def keys(env):
    env.add_carrier("cm", "+86139")
    return env.key("carrier", "cm-feed", carrier="cm"), env.key("app", "bank")


def activate(node, carrier, nums, event_ids=False):
    evs = [{"number": n, "event": "activate", "at": ago(400)} for n in nums]
    if event_ids:
        for e in evs:
            e["event_id"] = "x" + e["number"][1:]
    return node.client(carrier).post("/v1/events", {"events": evs})


def result(client, number):
    r = client.post("/v1/check", {"number": number, "date": ago(300)[:10]})
    return expect_json(r, 200, "check")["result"]


def case_a_change_on_the_primary_reaches_a_node_following_the_standby(_):
    env = Pair()
    nodes = []
    try:
        carrier, app = keys(env)
        admin_key = env.key("admin", "ops")
        a = h.Server(env, threads=1).start()
        nodes.append(a)
        b = env.node_b().start()
        nodes.append(b)
        assert "--follow: polling" in b.stderr(), b.stderr()[-2000:]
        c = h.Server(env, threads=1).start()  # the baseline: LISTEN on the primary
        nodes.append(c)
        took = {"B": [], "C": []}
        for n in numbers(0, 20):
            eq("before", "unknown", result(b.client(app), n))
            expect_json(activate(a, carrier, [n]), 200, "activate on A")
            t0 = time.monotonic()
            waiting = {"B": b.client(app), "C": c.client(app)}
            while waiting and time.monotonic() - t0 < 10:
                for name, cl in list(waiting.items()):
                    if result(cl, n) != "unknown":
                        took[name].append(time.monotonic() - t0)
                        del waiting[name]
                time.sleep(0.002)
            eq("answer on B", "unchanged", result(b.client(app), n))
        for name, what in (("C", "LISTEN on the primary"), ("B", "polling the standby")):
            t = sorted(took[name])
            eq("answers on %s" % name, 20, len(t))
            print("    # event on A to check on %s (%s): median %.0f ms, max %.0f ms over %d "
                  "events" % (name, what, t[len(t) // 2] * 1000, t[-1] * 1000, len(t)))
        assert max(took["B"]) < FOLLOW_WITHIN_S, "slowest %.3f s" % max(took["B"])
        # the lag gauge: changes on --db (the primary) not yet in B's index
        admin = b.client(admin_key)
        deadline = time.time() + 10
        while True:
            text = admin.get("/metrics").body.decode()
            lag = [line for line in text.splitlines()
                   if line.startswith("secondnum_follower_lag_changes ")]
            assert len(lag) == 1, "no lag gauge in\n%s" % text[-1500:]
            if lag[0].split()[1] == "0" or time.time() > deadline:
                break
            time.sleep(0.1)
        eq("B's lag once caught up", "secondnum_follower_lag_changes 0", lag[0])
        b.stop()  # a clean exit (under ASan: the follower's two handles freed)
    finally:
        for n in nodes:
            n.kill()
        env.cleanup()


def case_b_the_node_never_writes_to_the_standby(_):
    env = Pair()
    nodes = []
    try:
        carrier, app = keys(env)
        b = env.node_b().start()
        nodes.append(b)
        a = h.Server(env, threads=1).start()
        nodes.append(a)
        # B's writes go to the primary (the standby would refuse them) ...
        nums = numbers(100, 50)
        expect_json(activate(b, carrier, nums), 200, "activate on B")
        eq("B sees its own write", "unchanged", result(b.client(app), nums[0]))
        deadline = time.time() + 10
        while result(a.client(app), nums[-1]) == "unknown" and time.time() < deadline:
            time.sleep(0.02)
        eq("A (LISTEN on the primary) sees B's write", "unchanged",
           result(a.client(app), nums[-1]))
        eq("on the primary", ["50"], env.psql(env.pdir, "SELECT count(*) FROM numbers"))
        # ... and A's reach B through the standby
        more = numbers(200, 10)
        expect_json(activate(a, carrier, more), 200, "activate on A")
        deadline = time.time() + 10
        while result(b.client(app), more[-1]) == "unknown" and time.time() < deadline:
            time.sleep(0.02)
        eq("B follows the standby", "unchanged", result(b.client(app), more[-1]))
        # the follower's session is on the standby, read-only there
        eq("B's follower on the standby", ["1"], env.psql(
            env.sdir, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
            "'client backend' AND datname = 'secondnum' AND pid <> pg_backend_pid()"))
        time.sleep(0.5)  # a few more polls
        log = env.server_log(env.sdir)
        errors = [line for line in log.splitlines() if "ERROR" in line or "FATAL" in line]
        eq("errors in the standby's log", [], errors[:5])
        assert "hot standby" in log or "ready to accept read-only" in log, log[-1000:]
        for n in nodes:
            assert n.alive(), n.stderr()[-2000:]
        b.stop()
    finally:
        for n in nodes:
            n.kill()
        env.cleanup()


def case_d_the_followed_standby_stops(_):
    """prefer-standby falls back to the primary: B's follower reconnects
    there by itself and changes posted to A keep reaching B."""
    env = Pair()
    nodes = []
    try:
        carrier, app = keys(env)
        a = h.Server(env, threads=1).start()
        nodes.append(a)
        b = env.node_b().start()
        nodes.append(b)
        first, later = numbers(300, 1), numbers(301, 1)
        expect_json(activate(a, carrier, first), 200, "activate on A")
        Pair.wait_for(lambda: result(b.client(app), first[0]) != "unknown", "B following")
        pg("halt", env.sdir, "fast")
        t0 = time.monotonic()
        expect_json(activate(a, carrier, later), 200, "activate on A, standby down")
        Pair.wait_for(lambda: result(b.client(app), later[0]) != "unknown",
                      "B following through the primary", timeout=30)
        print("    # with the standby stopped, a change on A reached B in %.2f s (the "
              "follower reconnected to the primary)" % (time.monotonic() - t0))
        assert "following changes again" in b.stderr(), b.stderr()[-2000:]
        b.stop()
    finally:
        for n in nodes:
            n.kill()
        env.cleanup()


def case_follow_takes_postgresql_urls_only(_):
    env = h.Env(init=False)
    try:
        url = "postgresql://secondnum@127.0.0.1:1/secondnum"
        for db, follow in ((url, env.path("x.db")), (env.path("x.db"), url)):
            p = h.run_cli("serve", "--db", db, "--follow", follow, check=False)
            eq("exit status", 2, p.returncode)
            assert "--follow takes a postgresql:// URL" in p.stderr, p.stderr
    finally:
        env.cleanup()


class Load:
    """Events posted to one node in small batches (each with event ids, the
    same batch again after a 503) and checks on it, until stopped; every
    answer recorded with its time."""

    def __init__(self, node, carrier, app, nums):
        self.node, self.carrier, self.app, self.nums = node, carrier, app, nums
        self.acked, self.posts, self.checks = [], [], []
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.post, daemon=True),
                        threading.Thread(target=self.check, daemon=True)]

    def post(self):
        k = 0
        while not self.stop_flag.is_set() and k + 5 <= len(self.nums):
            batch = self.nums[k:k + 5]
            try:
                r = activate(self.node, self.carrier, batch, event_ids=True)
                status, retry = r.status, r.header("Retry-After")
            except OSError:
                status, retry = "error", None
            with self.lock:
                self.posts.append((time.time(), status, retry))
                if status == 200:
                    self.acked += ["x" + n[1:] for n in batch]
            if status == 200:
                k += 5
                time.sleep(0.02)
            else:
                time.sleep(0.05)

    def check(self):
        c = self.node.client(self.app, timeout=30)
        while not self.stop_flag.is_set():
            try:
                r = c.post("/v1/check", {"number": self.nums[0], "date": ago(300)[:10]})
                status = r.status
            except OSError:
                status = "error"
                c = self.node.client(self.app, timeout=30)
            with self.lock:
                self.checks.append(status)
            time.sleep(0.01)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join(60)

    def count(self):
        with self.lock:
            return len(self.acked)


def case_c_failover_to_the_standby_under_load(_):
    env = Pair(synchronous=True)
    nodes = []
    try:
        carrier, app = keys(env)
        snapshot = ["--index-snapshot", env.path("b.snapshot")]
        b = env.node_b(snapshot).start()
        nodes.append(b)
        nums = numbers(1000, 4000)
        with Load(b, carrier, app, nums) as load:
            time.sleep(1.5)
            before = load.count()
            assert before > 0, "nothing acknowledged before the kill: %r" % load.posts[-5:]
            env.kill_primary()
            t_kill = time.time()
            # a write of its own in the switch, so that the refusal is seen
            # every run: the load's one poster may spend the whole switch
            # waiting for the audit row of an event committed just before
            # the kill (the answer of an acknowledged write waits for its
            # row, which the audit thread retries until the new primary)
            time.sleep(0.5)
            probe = activate(b, carrier, numbers(8000, 5), event_ids=True)
            t_probe = time.time()
            time.sleep(1.5)
            pg("promote", env.sdir)
            t_promote = time.time()
            while time.time() - t_promote < 60:
                with load.lock:
                    first = [t for t, s, _ in load.posts if s == 200 and t > t_promote]
                if first:
                    break
                time.sleep(0.05)
            time.sleep(1)
        assert first, "no write accepted within 60 s of the promotion: %r" % load.posts[-5:]
        during = [(s, r) for t, s, r in load.posts if t_kill <= t <= first[0] and s != 200]
        print("    # %d events acknowledged before the kill, %d in all; first write accepted "
              "%.2f s after pg_ctl promote returned (%.2f s after the kill); %d answers "
              "in the switch: %s" % (
                  before, load.count(), first[0] - t_promote, first[0] - t_kill, len(during),
                  sorted(set(during))))
        eq("a write posted 0.5 s after the kill", 503, probe.status)
        assert probe.header("Retry-After"), "the 503 has no Retry-After"
        assert t_probe < t_promote, "the write was answered only after the promotion"
        bad = [(s, r) for s, r in during if s != 503 or r is None]
        eq("refused writes: 503 with Retry-After", [], bad[:5])
        eq("checks on B not answered 200", [], [s for s in load.checks if s != 200][:5])
        assert len(load.checks) > 50, "few checks: %d" % len(load.checks)
        stored = env.psql(env.sdir, "SELECT event_id FROM events WHERE event_id LIKE 'x%'")
        missing = sorted(set(load.acked) - set(stored))
        eq("acknowledged events missing on the new primary", [], missing[:10])
        eq("events stored twice", len(set(stored)), len(stored))
        assert b.alive(), b.stderr()[-2000:]
        b.stop()  # after the failover too; writes B's index snapshot
        assert "index snapshot written (stop)" in b.stderr(), b.stderr()[-2000:]
        restart_from_the_snapshot(env, snapshot, carrier, app, load.acked)
    finally:
        for n in nodes:
            n.kill()
        env.cleanup()


case_c_failover_to_the_standby_under_load.timeout = 300


def restart_from_the_snapshot(env, snapshot, carrier, app, acked):
    """After the failover: more events reach the new primary through node A
    while B is stopped; B started again from the snapshot it wrote at its
    stop replays only what came after it, and answers every acknowledged
    event (before, during and after the switch) and nothing else."""
    env_a = types.SimpleNamespace(db=env.url(env.sdir, attrs="read-write"), path=env.path)
    a = h.Server(env_a, threads=1).start()
    b = None
    try:
        later = numbers(9000, 50)
        expect_json(activate(a, carrier, later), 200, "activations on the new primary")
        b = env.node_b(snapshot).start()
        assert "index snapshot loaded" in b.stderr(), b.stderr()[-2000:]
        asked = ["+" + e[1:] for e in acked] + later + numbers(9500, 1)
        got = []
        for i in range(0, len(asked), 500):
            items = [{"number": n, "date": ago(300)[:10]} for n in asked[i:i + 500]]
            r = b.client(app).post("/v1/check/batch", {"items": items})
            got += [x["result"] for x in expect_json(r, 200, "batch check on B")["results"]]
        eq("B's answers from the snapshot", ["unchanged"] * (len(asked) - 1) + ["unknown"], got)
        print("    # B restarted from its snapshot after the failover: %d acknowledged numbers "
              "and %d activated while it was stopped answered as written" % (
                  len(acked), len(later)))
        b.stop()
        a.stop()
    finally:
        for n in (a, b):
            if n is not None:
                n.kill()


if __name__ == "__main__":
    h.main(globals())
