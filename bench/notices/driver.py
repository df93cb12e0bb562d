#!/usr/bin/env python3
"""bench/notices/driver.py - the client side of bench/notices.sh.

  driver.py bind  URL APP_KEY APP_NAME FIRST COUNT   bindings for COUNT numbers
  driver.py cancel URL CARRIER_KEY FIRST COUNT       cancel them, 10,000 per POST
  driver.py wait  URL KEY,KEY,... TOTAL TIMEOUT      until no delivery is pending

All requests go through the public HTTP API with keep-alive. `cancel` prints
the wall-clock time (epoch seconds) at which the first and the last
cancellation request was acknowledged.
"""
import http.client
import json
import sys
import time
import urllib.parse

BATCH = 10000


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=600)


def call(c, method, path, key, body=None):
    headers = {"Authorization": "Bearer " + key}
    data = None
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        headers["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    text = r.read()
    if r.status != 200:
        sys.exit(f"{method} {path}: {r.status} {text[:300]!r}")
    return json.loads(text)


def number(i):
    return "+86139%08d" % i


def bind(url, key, app, first, count):
    c = conn(url)
    for start in range(first, first + count, BATCH):
        items = [{"number": number(i), "account": f"{app}-user-{i}",
                  "bound_at": "2025-06-01T00:00:00Z"}
                 for i in range(start, min(start + BATCH, first + count))]
        call(c, "PUT", "/v1/bindings", key, {"bindings": items})


def cancel(url, key, first, count):
    c = conn(url)
    acks = []
    for start in range(first, first + count, BATCH):
        events = [{"number": number(i), "event": "cancel", "at": "2026-01-01T00:00:00Z"}
                  for i in range(start, min(start + BATCH, first + count))]
        r = call(c, "POST", "/v1/events", key, {"events": events})
        if r["applied"] != len(events):
            sys.exit(f"cancel batch at {start}: {r}")
        acks.append(time.time())
    print("%.3f %.3f" % (acks[0], acks[-1]))


def wait(url, keys, total, timeout):
    """Until no delivery is pending for any app (GET /v1/webhook per app)."""
    c = conn(url)
    deadline = time.time() + timeout
    while time.time() < deadline:
        counts = [call(c, "GET", "/v1/webhook", k) for k in keys]
        pending = sum(x["pending"] for x in counts)
        if pending == 0:
            done = sum(x["delivered"] for x in counts)
            dead = sum(x["dead"] for x in counts)
            print(f"delivered {done} dead {dead}")
            return
        time.sleep(1)
    sys.exit(f"deliveries still pending after {timeout} s")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "bind":
        bind(args[0], args[1], args[2], int(args[3]), int(args[4]))
    elif cmd == "cancel":
        cancel(args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == "wait":
        wait(args[0], args[1].split(","), int(args[2]), float(args[3]))
    else:
        sys.exit("usage: see the top of this file")
