"""index_suite.py - the serving index against the store it follows.

A random stream of events goes to a running server, batch after batch: the
lifecycles of numbers packed in dense blocks of 10,000 (as carriers
allocate them) and of numbers spread thinly (`secondnum gen`: activations,
cancellations, suspensions, reclaims, releases, reissues, ports), numbers
first activated before 1970 (days the compact index keeps apart), and
events the server rejects mixed in. Then 100,000 random (number, date)
pairs - known numbers, unknown neighbours in the same blocks, numbers of
no block - are asked of the server (POST /v1/check/batch, answered from
its index) and of the store (`secondnum check --file`, answered from the
stored states); every answer must be equal. The same again after a
restart, when the index is loaded from the store at once instead of being
updated a batch at a time. SEED=N repeats a run.
"""
import csv
import datetime
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, expect_json  # noqa: E402

PAIRS = 100000
BATCH_EVENTS = 500
CHECK_BATCH = 1000
DENSE_NUMBERS, THIN_NUMBERS, OLD_NUMBERS = 6000, 1500, 40


class Ctx:
    pass


def gen_rows(env, *args):
    out = env.path("gen%d.csv" % len(os.listdir(env.dir)))
    h.run_cli("gen", *args, "--out", out, timeout=120)
    with open(out) as f:
        return list(csv.DictReader(f))


def old_rows(rng, numbers):
    """Numbers activated before 1970, some cancelled since: their days do
    not fit the index's 16-bit days and take its escape path."""
    rows = []
    for i, n in enumerate(numbers):
        rows.append({"number": n, "event": "activate", "event_id": "old-%d-a" % i,
                     "at": "19%02d-%02d-10T08:00:00+08:00" % (rng.randrange(50, 70),
                                                               rng.randrange(1, 13))})
        if rng.random() < 0.5:
            rows.append({"number": n, "event": "cancel", "event_id": "old-%d-c" % i,
                         "at": "2021-%02d-03T08:00:00+08:00" % rng.randrange(1, 13)})
    return rows


def bad_event(rng, known):
    """An event the server rejects; it must change nothing."""
    n = rng.choice(known)
    return rng.choice([
        {"number": n, "event": "teleport", "at": "2020-01-01T00:00:00+08:00"},
        {"number": "+1", "event": "activate", "at": "2020-01-01T00:00:00+08:00"},
        {"number": n, "event": "activate", "at": "1899-12-31T00:00:00+08:00"},
        {"number": n, "event": "cancel", "at": "2099-01-01T00:00:00+08:00"},
    ])


def event_of(row):
    e = {"number": row["number"], "event": row["event"], "at": row["at"]}
    for field in ("event_id", "id6", "to"):
        if row.get(field):
            e[field] = row[field]
    return e


def stream(c):
    """Every event in time order (each number's in its own order), with
    rejected ones mixed in, posted in batches; returns the known numbers."""
    dense = gen_rows(c.env, "--numbers", DENSE_NUMBERS, "--fill", "60", "--seed", c.seed)
    thin = gen_rows(c.env, "--numbers", THIN_NUMBERS, "--seed", c.seed + 1)
    taken = {r["number"] for r in dense}
    thin = [r for r in thin if r["number"] not in taken]
    taken |= {r["number"] for r in thin}
    old = []
    while len(old) < OLD_NUMBERS:
        n = "+86139%08d" % c.rng.randrange(10 ** 8)
        if n not in taken:
            old.append(n)
            taken.add(n)
    rows = sorted(dense + thin + old_rows(c.rng, old), key=lambda r: r["at"])
    known = sorted(taken)
    c.days = {}
    for r in rows:  # the local day of each event: where answers change
        c.days.setdefault(r["number"], []).append(r["at"][:10])
    client = c.server.client(c.carrier)
    sent = rejected = 0
    for i in range(0, len(rows), BATCH_EVENTS):
        events = [event_of(r) for r in rows[i:i + BATCH_EVENTS]]
        for _ in range(c.rng.randrange(0, 12)):
            events.insert(c.rng.randrange(len(events) + 1), bad_event(c.rng, known))
        body = expect_json(client.post("/v1/events", {"events": events}), 200, "events")
        sent += len(events)
        rejected += len(body["rejected"])
    print("%d events sent, %d rejected (seed %d)" % (sent, rejected, c.seed))
    assert rejected > 0, "no event was rejected: the stream tests less than it says"
    return known


def near_event(c, n):
    """A day of one of n's events, or the day before or after it."""
    day = datetime.date.fromisoformat(c.rng.choice(c.days[n]))
    return (day + datetime.timedelta(days=c.rng.choice((-1, 0, 0, 1)))).isoformat()


def pairs(c, known):
    """PAIRS (number, date): known numbers (half of them on or next to a day
    one of their events fell on, where a day off shows), unknown neighbours
    in their blocks, and numbers of blocks no one holds."""
    out = []
    for _ in range(PAIRS):
        r = c.rng.random()
        n = c.rng.choice(known)
        d = "%04d-%02d-%02d" % (c.rng.randrange(1960, 2026), c.rng.randrange(1, 13),
                                c.rng.randrange(1, 29))
        if r < 0.35 and n in c.days:
            d = near_event(c, n)
        elif 0.7 <= r < 0.9:
            n = n[:-4] + "%04d" % c.rng.randrange(10000)
        elif r >= 0.9:
            n = "+86170%08d" % c.rng.randrange(10 ** 8)
        out.append((n, min(d, "2025-12-31")))
    return out


def setup():
    c = Ctx()
    c.seed = int(os.environ.get("SEED", time.time_ns() % 1000003))
    c.rng = random.Random(c.seed)
    c.env = h.Env()
    c.env.add_carrier("cmcc", "+861")
    c.carrier = c.env.key("carrier", "index-cmcc", carrier="cmcc")
    c.app = c.env.key("app", "index-app")
    c.flags = ["--check-rate", "1000000/s"]
    c.server = h.Server(c.env, extra=c.flags).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


@h.timeout(900)
def case_index_updated_by_events_and_loaded_agree_with_the_store(c):
    known = stream(c)
    asked = pairs(c, known)
    store = h.answers_from_store(c.env, asked)
    assert {"reassigned", "disconnected", "unchanged", "unknown"} <= set(store), set(store)
    h.same_answers("updated index", asked, h.answers_from_server(c.server, c.app, asked, CHECK_BATCH),
                   store, c.seed)
    c.server.stop(expect_rc=0)
    c.server = h.Server(c.env, extra=c.flags).start()
    h.same_answers("loaded index", asked, h.answers_from_server(c.server, c.app, asked, CHECK_BATCH),
                   store, c.seed)


if __name__ == "__main__":
    h.main(globals(), setup, teardown)
