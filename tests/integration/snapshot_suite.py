"""snapshot_suite.py - serve's index snapshot (--index-snapshot).

Every case ends with the same proof: random (number, date) pairs - known
numbers, numbers first activated before 1970 (the index's escaped days),
unknown neighbours in their blocks, numbers of no block - asked of the
running server (POST /v1/check/batch, from its index) and of the store
(`secondnum check --file`, from the stored states) get equal answers.
The cases:
  - a restart from the snapshot, after events were imported while serve was
    stopped, loads it ("index snapshot loaded"), replays only the changes
    after its position (more than one page of them), and answers as a
    rebuild from the store does, by number and by SHA-256 and MD5;
  - hashed checks answer from the digest tables saved in the snapshot
    ("digest tables loaded"), numbers added since the last merge (the side
    map, not saved) included; a snapshot written with --hashed-checks off
    has none and the next start with them builds them ("built"); a start
    with them off leaves them out ("left out");
  - the server's own commits move the position (the next start replays
    none of them); its commits after an import beside it (another process)
    still leave the import to be read at the next start;
  - kill -9 while a snapshot is being written (PATH.tmp present), several
    times with events between: the next start loads the old snapshot (or
    rebuilds), never answers wrong;
  - one flipped byte, a truncated file, another store's snapshot, a store
    restored from a backup: each is refused with a log line saying why and
    the index is built from the store;
  - the interval and path limits are refused at start.
SEED=N repeats a run; runs on PostgreSQL too (tests/pg/run.sh).
"""
import csv
import hashlib
import os
import random
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import expect_json  # noqa: E402

DENSE_NUMBERS, OLD_NUMBERS = 4000, 30
PAIRS = 6000
CHECK_BATCH = 1000
KILLS = 5  # kill -9 during a snapshot write, this many times
REPLAY_PAGE = 4096  # SN_SNAPSHOT_REPLAY_PAGE: changes read at a time at start


class Ctx:
    pass


def feed_rows(env, *args):
    out = env.path("gen%d.csv" % len(os.listdir(env.dir)))
    h.run_cli("gen", *args, "--out", out, timeout=120)
    with open(out) as f:
        return list(csv.DictReader(f))


def write_feed(env, rows):
    path = env.path("feed%d.csv" % len(os.listdir(env.dir)))
    with open(path, "w") as f:
        f.write("number,event,at,event_id\n")
        for r in rows:
            f.write("%s,%s,%s,%s\n" % (r["number"], r["event"], r["at"], r["event_id"]))
    return path


def import_rows(env, rows):
    p = h.run_cli("import", "--db", env.db, write_feed(env, rows), timeout=300, check=False)
    assert p.returncode in (0, 1), "import: exit %d\n%s" % (p.returncode, p.stderr[-2000:])


def old_rows(rng, n):
    """Numbers first activated before 1970: days the blocks keep apart."""
    rows = []
    for i in range(n):
        num = "+86139%08d" % rng.randrange(10 ** 8)
        rows.append({"number": num, "event": "activate", "event_id": "old-%d" % i,
                     "at": "19%02d-03-10T08:00:00+08:00" % rng.randrange(50, 70)})
    return rows


def later_rows(rng, known_active, tag, count, new):
    """Events after the history: cancellations of active numbers (states
    the snapshot holds change) and activations of new numbers."""
    rows = []
    for i, n in enumerate(rng.sample(sorted(known_active), min(count, len(known_active)))):
        rows.append({"number": n, "event": "cancel", "event_id": "%s-c%d" % (tag, i),
                     "at": "2026-%02d-%02dT10:00:00+08:00" % (rng.randrange(2, 10),
                                                             rng.randrange(1, 28))})
    for i in range(new):
        rows.append({"number": "+86188%08d" % rng.randrange(10 ** 8), "event": "activate",
                     "event_id": "%s-a%d" % (tag, i), "at": "2026-01-15T10:00:00+08:00"})
    return rows


def active_numbers(rows):
    last = {}
    for r in rows:
        last[r["number"]] = r["event"]
    return {n for n, e in last.items() if e in ("activate", "reissue", "port_in", "resume")}


def pairs(c):
    out = []
    known = sorted(c.known)
    for _ in range(PAIRS):
        r = c.rng.random()
        n = c.rng.choice(known)
        if 0.7 <= r < 0.9:
            n = n[:-4] + "%04d" % c.rng.randrange(10000)
        elif r >= 0.9:
            n = "+86170%08d" % c.rng.randrange(10 ** 8)
        d = "%04d-%02d-%02d" % (c.rng.randrange(1960, 2027), c.rng.randrange(1, 13),
                                c.rng.randrange(1, 29))
        out.append((n, min(d, "2026-11-30")))
    return out


def answers_right(c, server, what):
    asked = pairs(c)
    store = h.answers_from_store(c.env, asked, timeout=300)
    h.same_answers(what, asked, h.answers_from_server(server, c.app, asked, CHECK_BATCH), store, c.seed)


def hashed_right(c, server, what, count=300, numbers=None):
    """Checks by SHA-256 and MD5 of the E.164 text answer as checks by number
    (count numbers of c.known, or those given): the digest tables were
    loaded from the snapshot or built from the loaded states."""
    client = server.client(c.app)
    numbers = c.rng.sample(sorted(c.known), count) if numbers is None else numbers
    count = len(numbers)
    for n in numbers:
        by_number = expect_json(client.post("/v1/check", {"number": n, "date": "2026-11-30"}))
        for field, fn in (("number_sha256", hashlib.sha256), ("number_md5", hashlib.md5)):
            body = expect_json(client.post("/v1/check", {field: fn(n.encode()).hexdigest(),
                                                         "date": "2026-11-30"}))
            h.eq("%s: %s of %s" % (what, field, n), by_number["result"], body["result"])
    print("%s: %d numbers answer the same by SHA-256 and MD5" % (what, count))


def serve(c, *extra):
    return h.Server(c.env, extra=c.flags + list(extra)).start(timeout=60)


def no_sanitizer_report(server):
    m = h.SANITIZER_RE.search(server.stderr())
    assert m is None, "sanitizer report in serve's log:\n" + server.stderr()[-3000:]


def expect_log(server, text, what):
    log = server.stderr()
    assert text in log, "%s: no %r in serve's log:\n%s" % (what, text, log[-2000:])


def first_snapshot(c):
    """A server that wrote a snapshot at its clean stop."""
    s = serve(c)
    s.stop(expect_rc=0)
    no_sanitizer_report(s)
    expect_log(s, "index snapshot written (stop)", "clean stop")
    assert os.path.getsize(c.snap) > 0


def setup():
    c = Ctx()
    c.seed = int(os.environ.get("SEED", time.time_ns() % 1000003))
    c.rng = random.Random(c.seed)
    c.env = h.Env()
    c.app = c.env.key("app", "snapshot-app")
    c.env.add_carrier("cmcc", "+861")
    c.carrier = c.env.key("carrier", "snapshot-cmcc", carrier="cmcc")
    c.snap = c.env.path("index.snapshot")
    c.flags = ["--check-rate", "1000000/s", "--index-snapshot", c.snap]
    rows = feed_rows(c.env, "--numbers", DENSE_NUMBERS, "--fill", "60", "--seed", c.seed)
    rows += old_rows(c.rng, OLD_NUMBERS)
    import_rows(c.env, rows)
    c.known = {r["number"] for r in rows}
    c.active = active_numbers(rows)
    c.later = 0
    print("%d numbers imported (seed %d)" % (len(c.known), c.seed))
    return c


def more_events(c, count=300, new=None):
    """Events written to the store while no server runs (or beside it):
    count cancellations at most, new activations (count / 4 by default)."""
    c.later += 1
    rows = later_rows(c.rng, c.active, "l%d" % c.later, count, count // 4 if new is None else new)
    import_rows(c.env, rows)
    c.known |= {r["number"] for r in rows}
    c.active -= {r["number"] for r in rows if r["event"] == "cancel"}


@h.timeout(600)
def case_restart_from_the_snapshot_replays_what_came_after_it(c):
    first_snapshot(c)
    more_events(c, 300, REPLAY_PAGE + 500)  # more changes than one page of the replay
    s = serve(c)
    try:
        expect_log(s, "index snapshot loaded", "restart")
        expect_log(s, "(digest tables loaded)", "restart")
        log = s.stderr()
        replayed = int(log.split("then ")[1].split(" changes")[0])
        assert replayed > REPLAY_PAGE, "%d changes replayed, fewer than a page:\n%s" % (
            replayed, log)
        answers_right(c, s, "from the snapshot + %d changes" % replayed)
        hashed_right(c, s, "from the snapshot")
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)
    rebuilt = serve(c, "--index-snapshot", "off")
    try:
        assert "index snapshot" not in rebuilt.stderr(), rebuilt.stderr()
        answers_right(c, rebuilt, "rebuilt from the store")
    finally:
        rebuilt.stop(expect_rc=0)
    no_sanitizer_report(rebuilt)


def restart_with_tables(c, how, *extra):
    """A start from the snapshot whose log says the digest tables were `how`."""
    s = serve(c, *extra)
    expect_log(s, "index snapshot loaded", how)
    expect_log(s, "(digest tables %s)" % how, how)
    return s


@h.timeout(600)
def case_hashed_checks_answer_from_the_saved_digest_tables(c):
    first_snapshot(c)
    before = set(c.known)
    more_events(c, 100, 400)  # new numbers: replayed at start, into the side map
    added = sorted(c.known - before)
    s = restart_with_tables(c, "loaded")
    try:
        hashed_right(c, s, "tables loaded, new numbers replayed", numbers=added)
        hashed_right(c, s, "tables loaded")
    finally:
        s.stop(expect_rc=0)  # the snapshot: the tables, without the side map's numbers
    no_sanitizer_report(s)
    s = restart_with_tables(c, "loaded")
    try:  # the side map's numbers were added back at load
        hashed_right(c, s, "tables loaded, the side map's numbers added back", numbers=added)
        answers_right(c, s, "tables loaded")
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)
    s = restart_with_tables(c, "left out", "--hashed-checks", "off")
    s.stop(expect_rc=0)  # a snapshot with no tables
    no_sanitizer_report(s)
    s = restart_with_tables(c, "built")
    try:
        hashed_right(c, s, "tables built from a snapshot without them", numbers=added)
        hashed_right(c, s, "tables built")
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)


def wait_for_write(path, server, limit_s):
    """Poll until PATH.tmp exists (a snapshot is being written): True, or
    False when none began within limit_s."""
    tmp = path + ".tmp"
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if os.path.exists(tmp):
            return True
        if not server.alive():
            return False
        time.sleep(0.0005)
    return False


@h.timeout(900)
def case_kill_9_during_a_snapshot_write_never_answers_wrong(c):
    first_snapshot(c)
    caught = 0
    for i in range(KILLS):
        if os.path.exists(c.snap + ".tmp"):
            os.unlink(c.snap + ".tmp")  # left by the last kill: make the next write show
        s = serve(c, "--index-snapshot-interval", "1")
        answers_right(c, s, "start %d" % (i + 1))
        more_events(c, 200)  # beside the server: the next start replays them
        if wait_for_write(c.snap, s, 5):
            caught += 1
        else:
            time.sleep(c.rng.random())  # a random moment instead
        s.proc.send_signal(signal.SIGKILL)
        s.wait(10)
        no_sanitizer_report(s)
    s = serve(c)
    try:
        answers_right(c, s, "after %d kills" % KILLS)
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)
    print("%d of %d kills landed while PATH.tmp was being written" % (caught, KILLS))
    assert caught > 0, "no kill landed during a snapshot write: the case proved nothing"


def damaged_start(c, damage, why):
    """Damage the snapshot, restart: the reason logged, the index rebuilt."""
    first_snapshot(c)
    more_events(c, 100)
    damage(c.snap)
    s = serve(c)
    try:
        expect_log(s, why, "damaged snapshot")
        expect_log(s, "building the index from the store", "damaged snapshot")
        answers_right(c, s, "rebuilt after: " + why)
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)


def flip_byte(path):
    with open(path, "r+b") as f:
        f.seek(0, 2)
        at = random.Random(os.path.getsize(path)).randrange(f.tell())
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0x40]))


def truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) * 2 // 3)


def case_one_flipped_byte_is_detected_and_the_index_rebuilt(c):
    damaged_start(c, flip_byte, "checksum mismatch")


def case_a_truncated_snapshot_is_refused(c):
    damaged_start(c, truncate, "checksum mismatch")


def case_another_stores_snapshot_is_foreign(c):
    other = h.Env()
    other_snap = other.path("other.snapshot")
    s = h.Server(other, extra=["--index-snapshot", other_snap]).start(timeout=60)
    s.stop(expect_rc=0)
    no_sanitizer_report(s)
    damaged_start(c, lambda p: shutil.copyfile(other_snap, p), "another store (foreign)")


@h.sqlite_only("backup and restore are SQLite's (PostgreSQL's are pg_dump and pg_restore)")
def case_a_restored_store_does_not_take_the_snapshot_of_the_one_it_replaced(c):
    backup = c.env.path("backup.db")
    h.run_cli("backup", "--db", c.env.db, backup)
    more_events(c, 100)
    first_snapshot(c)  # holds the events the backup has not
    h.run_cli("restore", "--db", c.env.db, "--force", backup)
    c.known = set(c.known)
    more_events(c, 400)  # the restored store's log passes the snapshot's position
    s = serve(c)
    try:
        expect_log(s, "another store (foreign)", "restored store")
        answers_right(c, s, "restored store")
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)


def post_events(c, server, count):
    """count activations of new numbers over HTTP (the server's own commits)."""
    client = server.client(c.carrier)
    events = []
    for i in range(count):
        n = "+86177%08d" % c.rng.randrange(10 ** 8)
        events.append({"number": n, "event": "activate", "at": "2026-03-01T10:00:00+08:00",
                       "event_id": "http-%d-%d" % (c.later, i)})
    body = expect_json(client.post("/v1/events", {"events": events}), 200, "events")
    c.known |= {e["number"] for e in events}
    return len(events) - len(body["rejected"])


def case_own_commits_move_the_position(c):
    """The server's own commits, and nothing else: the snapshot written at
    the stop covers them (each commit's change numbers, as the store gives
    them, move the position), so the next start replays nothing."""
    first_snapshot(c)
    s = serve(c)
    try:
        applied = post_events(c, s, 200)
        assert applied > 0, "no event applied"
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)
    s = serve(c)
    try:
        expect_log(s, "index snapshot loaded", "restart")
        log = s.stderr()
        replayed = int(log.split("then ")[1].split(" changes")[0])
        print("# changes replayed after serve's own commits: %d" % replayed)
        assert replayed == 0, "%d changes replayed:\n%s" % (replayed, log[-2000:])
        answers_right(c, s, "after serve's own commits")
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)


def case_own_commits_after_an_import_beside_serve_keep_the_import(c):
    """The server's own commits after another process wrote the store: the
    snapshot written at the stop must still lead the next start to read what
    the other process wrote (SQLite: serve does not follow the file)."""
    first_snapshot(c)
    s = serve(c)
    try:
        more_events(c, 300)  # another process, while serve runs
        applied = post_events(c, s, 200)
        assert applied > 0, "no event applied"
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)
    expect_log(s, "index snapshot written (stop)", "stop")
    s = serve(c)
    try:
        expect_log(s, "index snapshot loaded", "restart")
        answers_right(c, s, "after an import beside serve and its own commits")
    finally:
        s.stop(expect_rc=0)
    no_sanitizer_report(s)


def case_options_out_of_range_are_refused(c):
    """SN_SNAPSHOT_INTERVAL_MAX_S (a week) and SN_SNAPSHOT_PATH_MAX."""
    p = h.run_cli("serve", "--db", c.env.db, "--index-snapshot-interval", "604801", check=False)
    h.eq("interval over a week: exit", 2, p.returncode)
    assert "--index-snapshot-interval must be 0-604800 seconds" in p.stderr, p.stderr
    long_path = c.env.path("x" * 4100)
    p = h.run_cli("serve", "--db", c.env.db, "--index-snapshot", long_path, "--listen",
                  "127.0.0.1:%d" % h.free_port(), check=False)
    h.eq("path too long: exit", 1, p.returncode)
    assert "--index-snapshot: path too long" in p.stderr, p.stderr


if __name__ == "__main__":
    h.main(globals(), setup)
