"""camara3_suite.py - CAMARA Number Recycling v0.3 (v0.3.0-rc.1's text) at
/number-recycling/v0.3/check and /number-recycling/v0.3rc1/check, next to
v0.2 on the same server.

One server for the module, on the standard store of harness.py (carrier
cmcc, range +86138), started with --camara-window-start WINDOW: v0.3 holds a
specifiedDate before it as OUT_OF_RANGE, v0.2 does not look at it.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import N_DISC, N_MIDSTREAM, N_NEVER, N_NEW, N_SAME  # noqa: E402
from camara_client import NumberRecyclingClient  # noqa: E402

V02 = "/number-recycling/v0.2/check"
V03 = "/number-recycling/v0.3/check"
V03RC1 = "/number-recycling/v0.3rc1/check"
V03_PATHS = (V03, V03RC1)
WINDOW = "2023-01-01"          # --camara-window-start
OUTSIDE = "+12025550123"       # in no carrier's range
OUTSIDE_LATER = "+4930123456"  # given a range by a case
PHONE_NUMBER_MAX = 16          # the spec's maxLength of each
SPECIFIED_DATE_MAX = 64
X_CORRELATOR_MAX = 256


class Ctx:
    pass


def setup():
    c = Ctx()
    c.env = h.standard_env()
    c.app = c.env.key("app", "camara3-app")
    c.carrier = c.env.key("carrier", "camara3-carrier", carrier="cmcc")
    c.admin = c.env.key("admin", "camara3-admin")
    c.server = h.Server(c.env, extra=["--camara-window-start", WINDOW]).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


def client(c, path=V03, token=None):
    cl = NumberRecyclingClient(h.HOST, c.server.port, token or c.app)
    cl.path = path
    return cl


def error_info_ok(r, status, code, what=""):
    """The ErrorInfo of v0.3: exactly status, code and message, in bounds."""
    r.expect_error(status, code, what)
    body = json.loads(r.body)
    h.eq("ErrorInfo properties " + what, ["code", "message", "status"], sorted(body))
    assert isinstance(body["status"], int) and 100 <= body["status"] <= 599, body
    assert 0 < len(body["code"]) <= 96, body
    assert 0 < len(body["message"]) <= 512, body
    return body


# ---------------------------------------------------------------------------
# the paths


def case_each_v03_path_answers_the_spec_scenarios(c):
    for path in V03_PATHS:
        cl = client(c, path)
        cl.check(N_SAME, "2023-12-22").expect_recycled(False, path + " scenario 1")
        cl.check(N_NEW, "2023-12-22").expect_recycled(True, path + " scenario 2")
        cl.check(N_DISC, "2024-06-01").expect_recycled(False, path + " disconnected")


def case_v02_keeps_its_path_and_answers(c):
    cl = client(c, V02)
    cl.check(N_SAME, "2023-12-22").expect_recycled(False, "v0.2 scenario 1")
    cl.check(N_NEW, "2023-12-22").expect_recycled(True, "v0.2 scenario 2")


def case_other_versions_are_404(c):
    s = c.server.client(c.app)
    for path in ("/number-recycling/v0.3.0/check", "/number-recycling/v0.4/check",
                 "/number-recycling/v0.3rc2/check", "/number-recycling/v0.3/"):
        r = s.post(path, {"phoneNumber": N_SAME, "specifiedDate": "2024-01-01"})
        h.eq(path, 404, r.status)


def case_v03_needs_an_app_key(c):
    for path in V03_PATHS:
        cl = client(c, path)
        error_info_ok(cl.check(N_SAME, "2024-01-01", token=None), 401, "UNAUTHENTICATED", path)
        error_info_ok(cl.check(N_SAME, "2024-01-01", token=c.carrier), 403, "PERMISSION_DENIED",
                      path)
        error_info_ok(cl.check(N_SAME, "2024-01-01", token=c.admin), 403, "PERMISSION_DENIED",
                      path)


# ---------------------------------------------------------------------------
# request body strictness and lengths


def case_unknown_properties_are_400_invalid_argument(c):
    for path in V03_PATHS:
        cl = client(c, path)
        for extra in ({"foo": 1}, {"phonenumber": N_SAME}, {"phoneNumberRecycled": False},
                      {"nested": {"phoneNumber": N_SAME}}, {"x": None}):
            body = {"phoneNumber": N_SAME, "specifiedDate": "2024-01-01", **extra}
            m = error_info_ok(cl.check(body=body), 400, "INVALID_ARGUMENT", repr(extra))
            assert "unknown property" in m["message"], m


def case_empty_and_missing_bodies_are_400(c):
    cl = client(c)
    for raw in (b"", b"{}", b"[]", b"null", b"{\"specifiedDate\": \"2024-01-01\",}"):
        error_info_ok(cl.check(raw=raw), 400, "INVALID_ARGUMENT", repr(raw))


def case_phone_number_max_length_crossed(c):
    cl = client(c)
    longest = "+" + "86138" + "0" * (PHONE_NUMBER_MAX - 6)  # 16 characters, the pattern's last
    assert len(longest) == PHONE_NUMBER_MAX
    error_info_ok(cl.check(longest, "2024-01-01"), 404, "IDENTIFIER_NOT_FOUND", "16 characters")
    for n in (longest + "1", "+" + "1" * 40, "+86138" + " " * 20):
        m = error_info_ok(cl.check(n, "2024-01-01"), 400, "INVALID_ARGUMENT", "%d chars" % len(n))
        assert "longer than 16" in m["message"], m
    # v0.2 has no maxLength: the same number is refused by its pattern
    m = error_info_ok(client(c, V02).check(longest + "1", "2024-01-01"), 400, "INVALID_ARGUMENT")
    assert "must match" in m["message"], m


def case_specified_date_max_length_crossed(c):
    cl = client(c)
    at_max = "2024-01-01" + " " * (SPECIFIED_DATE_MAX - 10)
    m = error_info_ok(cl.check(N_SAME, at_max), 400, "INVALID_ARGUMENT", "64 characters")
    assert "longer than" not in m["message"], m  # refused as a date, not by length
    for d in (at_max + " ", "2024-01-01" + "x" * 100):
        m = error_info_ok(cl.check(N_SAME, d), 400, "INVALID_ARGUMENT", "%d chars" % len(d))
        assert "longer than 64" in m["message"], m


def case_x_correlator_max_length_crossed(c):
    cl = client(c)
    corr = "c" * X_CORRELATOR_MAX
    r = cl.check(N_SAME, "2023-12-22", correlator=corr)
    r.expect_recycled(False)
    h.eq("256-character correlator echoed", corr, r.header("x-correlator"))
    r = cl.check(N_SAME, "2023-12-22", correlator=corr + "c", expect_echo=False)
    error_info_ok(r, 400, "INVALID_ARGUMENT", "257-character correlator")
    h.eq("no echo of an invalid correlator", None, r.header("x-correlator"))


def case_bad_dates_and_numbers_are_400(c):
    cl = client(c)
    for d in ("2024-13-01", "2024-02-30", "20240101", "2024-1-1", "", "yesterday"):
        error_info_ok(cl.check(N_SAME, d), 400, "INVALID_ARGUMENT", repr(d))
    for n in ("8613800000001", "+0861380000000", "+1234", "tel:+8613800000001"):
        error_info_ok(cl.check(n, "2024-01-01"), 400, "INVALID_ARGUMENT", repr(n))
    error_info_ok(cl.check(specified_date="2024-01-01"), 422, "MISSING_IDENTIFIER")


# ---------------------------------------------------------------------------
# OUT_OF_RANGE: the provider's evaluable window, both ends


def case_before_the_window_is_out_of_range(c):
    for path in V03_PATHS:
        cl = client(c, path)
        for d in ("2022-12-31", "2000-01-01"):
            m = error_info_ok(cl.check(N_SAME, d), 400, "OUT_OF_RANGE", path + " " + d)
            assert WINDOW in m["message"], m
        # its first day is inside (N_SAME was activated later: true)
        cl.check(N_SAME, WINDOW).expect_recycled(True, "window start")
    # v0.2 keeps its own behaviour: no window
    client(c, V02).check(N_SAME, "2022-12-31").expect_recycled(True, "v0.2 before window")


def case_bad_window_start_is_a_usage_error(c):
    for bad in ("2024-13-01", "yesterday", "2024-02-30", ""):
        p = h.run_cli("serve", "--db", c.env.db, "--listen", "127.0.0.1:1",
                      "--camara-window-start", bad, check=False, timeout=20)
        h.eq("exit status for %r" % bad, 2, p.returncode)
        assert "camara-window-start" in p.stderr, p.stderr


def case_before_a_numbers_first_record_is_out_of_range(c):
    cl = client(c)
    error_info_ok(cl.check(N_MIDSTREAM, "2023-12-01"), 400, "OUT_OF_RANGE", "before records")
    cl.check(N_MIDSTREAM, "2024-02-01").expect_recycled(False, "after the first record")


def case_after_today_is_out_of_range(c):
    for path in V03_PATHS:
        cl = client(c, path)
        error_info_ok(cl.check(N_SAME, h.store_date(1)), 400, "OUT_OF_RANGE", "tomorrow")
        error_info_ok(cl.check(N_SAME, "2999-01-01"), 400, "OUT_OF_RANGE", "2999")
        error_info_ok(cl.check(OUTSIDE, "2999-01-01"), 400, "OUT_OF_RANGE", "outside, 2999")
        cl.check(N_SAME, h.store_date(0)).expect_recycled(False, "today")


# ---------------------------------------------------------------------------
# IDENTIFIER_NOT_FOUND and SERVICE_NOT_APPLICABLE


def case_unknown_number_in_a_range_is_404(c):
    for path in V03_PATHS:
        error_info_ok(client(c, path).check(N_NEVER, "2024-01-01"), 404, "IDENTIFIER_NOT_FOUND",
                      path)


def case_number_in_no_range_is_422_service_not_applicable(c):
    for path in V03_PATHS:
        m = error_info_ok(client(c, path).check(OUTSIDE, "2024-01-01"), 422,
                          "SERVICE_NOT_APPLICABLE", path)
        assert OUTSIDE not in m["message"], m
    # v0.2 too: its text lists the code, its published test definitions expect it
    error_info_ok(client(c, V02).check(OUTSIDE, "2024-01-01"), 422, "SERVICE_NOT_APPLICABLE", "v0.2")


def case_a_range_added_while_serving_counts(c):
    cl = client(c)
    error_info_ok(cl.check(OUTSIDE_LATER, "2024-01-01"), 422, "SERVICE_NOT_APPLICABLE", "before")
    r = c.server.client(c.admin).post("/v1/admin/carriers",
                                      {"name": "camara3-de", "ranges": ["+4930"]})
    assert r.status in (200, 201), r
    deadline = time.time() + 10
    while True:
        r = cl.check(OUTSIDE_LATER, "2024-01-01")
        if r.status == 404 or time.time() > deadline:
            break
        time.sleep(0.2)
    error_info_ok(r, 404, "IDENTIFIER_NOT_FOUND", "after the range was added")


def case_without_any_range_every_unknown_number_is_404(c):
    env = h.Env()
    app = env.key("app", "camara3-norange")
    srv = h.Server(env).start()
    try:
        cl = NumberRecyclingClient(h.HOST, srv.port, app)
        for path in V03_PATHS + (V02,):
            cl.path = path
            for n in (OUTSIDE, N_NEVER):
                error_info_ok(cl.check(n, "2024-01-01"), 404, "IDENTIFIER_NOT_FOUND", path + n)
    finally:
        srv.stop(expect_rc=0)


# ---------------------------------------------------------------------------
# correlator echo and metrics


def case_x_correlator_echoed_on_answers_and_errors(c):
    cl = client(c)
    cases = [((N_SAME, "2023-12-22"), 200, None), ((N_NEVER, "2024-01-01"), 404, None),
             ((OUTSIDE, "2024-01-01"), 422, None), ((N_SAME, "2022-01-01"), 400, None),
             ((N_SAME, "2999-01-01"), 400, None)]
    for i, (args, status, _) in enumerate(cases):
        corr = "v03-%d:{b4333c46}" % i
        r = cl.check(*args, correlator=corr)
        h.eq("status", status, r.status)
        h.eq("echo", corr, r.header("x-correlator"))
    r = cl.check(body={"phoneNumber": N_SAME, "specifiedDate": "2024-01-01", "more": "x"},
                 correlator="strict-1")
    h.eq("echo on strictness", "strict-1", r.header("x-correlator"))


def case_v03_checks_are_counted_apart(c):
    client(c).check(N_SAME, "2023-12-22").expect_recycled(False)
    r = c.server.client(c.admin).get("/metrics")
    h.eq("metrics", 200, r.status)
    text = r.body.decode()
    assert 'api="camara_v0.3",app="camara3-app",verdict="unchanged"' in text, text[-2000:]
    assert OUTSIDE not in text and N_SAME not in text, "a number in the metrics"


if __name__ == "__main__":
    h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
