#!/usr/bin/env python3
"""tests/cli/backup_load.py - the events load of test_backup.sh.

    backup_load.py PORT KEY ACKS STOP

POSTs /v1/events to the serve on 127.0.0.1:PORT with the carrier key KEY,
batches of BATCH activations of numbers never seen (+86139 and 8 digits,
each at 2025-01-01), one request at a time, until the file STOP exists.
After each answer 200 that applied the whole batch, appends its numbers to
ACKS (one a line) and flushes, so that a line in ACKS is an event the
server acknowledged before the line was written. A 503 (queue full) is
retried; any other answer is an error (exit 1). Prints the counts at the end.
"""
import http.client
import json
import os
import sys
import time

BATCH = 20

def main():
    port, key, acks_path, stop_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    acked = requests = busy = 0
    n = 0
    with open(acks_path, "a") as acks:
        while not os.path.exists(stop_path):
            numbers = ["+86139%08d" % (n + i) for i in range(BATCH)]
            body = {"events": [{"number": num, "event": "activate", "at": "2025-01-01",
                                "event_id": "load-%d" % (n + i)}
                               for i, num in enumerate(numbers)]}
            conn.request("POST", "/v1/events", json.dumps(body), headers)
            r = conn.getresponse()
            answer = r.read()
            requests += 1
            if r.status == 503:
                busy += 1
                time.sleep(0.01)
                continue
            if r.status != 200:
                print("POST /v1/events: %d %s" % (r.status, answer[:300]), file=sys.stderr)
                return 1
            got = json.loads(answer)
            if got.get("applied") != BATCH or got.get("rejected"):
                print("POST /v1/events: not all applied: %s" % answer[:300], file=sys.stderr)
                return 1
            acks.write("".join(num + "\n" for num in numbers))
            acks.flush()
            acked += BATCH
            n += BATCH
    print("load: %d requests, %d events acknowledged, %d answered 503" % (requests, acked, busy))
    return 0

if __name__ == "__main__":
    sys.exit(main())
