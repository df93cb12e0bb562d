#!/usr/bin/env python3
"""notify_listen.py - stand in for systemd's side of sd_notify: bind a unix
datagram socket, start `secondnum serve` with NOTIFY_SOCKET pointing at it
(and WATCHDOG_USEC / WATCHDOG_PID naming serve's own pid), and record every
message with the time it came and what was true then (did the port answer,
had serve logged its index). Used by tests/cli/test_systemd.sh.

usage: notify_listen.py SOCKET WATCHDOG_USEC WATCH_SECONDS -- serve ARGS...
Prints one JSON object: {"messages": [...], "exit": N, "stderr": "..."}.
WATCHDOG_USEC 0: no watchdog variables; WATCH_SECONDS: how long to listen
after READY=1 before SIGTERM (0: wait for serve to exit on its own).
"""
import json, os, signal, socket, subprocess, sys, time


def port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main():
    path, wd_usec, watch = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    port = int(cmd[cmd.index("--listen") + 1].rsplit(":", 1)[1]) if "--listen" in cmd else 0
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    # WATCHDOG_PID must be serve's pid: the shell's, which exec keeps.
    shell = 'exec "$@"'
    if wd_usec:
        env["WATCHDOG_USEC"] = str(wd_usec)
        shell = 'WATCHDOG_PID=$$ exec "$@"'
    errpath = path + ".stderr"
    with open(errpath, "w") as err:
        proc = subprocess.Popen(["sh", "-c", shell, "sh"] + cmd, env=env, stderr=err)
    msgs, t0, ready_at, deadline = [], time.monotonic(), None, time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = sock.recv(4096).decode()
        except socket.timeout:
            if proc.poll() is not None:
                break
            if ready_at is not None and watch and time.monotonic() - ready_at >= watch:
                proc.send_signal(signal.SIGTERM)
                ready_at, watch = None, 0
                deadline = time.monotonic() + 30
            continue
        now = time.monotonic()
        with open(errpath) as f:
            log = f.read()
        msgs.append({"t": round(now - t0, 3), "data": data,
                     "port_answers": port_answers(port) if port else None,
                     "index_logged": "numbers indexed" in log})
        if "READY=1" in data:
            ready_at = now
    else:
        proc.kill()
    code = proc.wait()
    with open(errpath) as f:
        print(json.dumps({"messages": msgs, "exit": code, "stderr": f.read()}))


main()
