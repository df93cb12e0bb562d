"""camara_suite.py - CAMARA Number Recycling v0.2 through camara_client.

One server for the module, on the standard store of harness.py:
  N_SAME       activated 2023-10-09 and still held          (spec Scenario 1)
  N_NEW        activated 2023-10-09, cancelled 2024-02-25,
               activated for a new subscriber 2024-09-21      (spec Scenario 2)
  N_DISC       activated 2023-01-01, cancelled 2024-03-01, not reissued
  N_MIDSTREAM  first record: a suspension on 2024-01-10
  N_NEVER      never reported
"""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness as h  # noqa: E402
from harness import (N_DISC, N_MIDSTREAM, N_NEVER, N_NEW, N_RECLAIM, N_SAME,  # noqa: E402
                     N_SUSPEND, N_TWICE, N_TZ)
from camara_client import NumberRecyclingClient, OMIT  # noqa: E402


class Ctx:
    pass


def setup():
    c = Ctx()
    c.env = h.standard_env()
    c.app = c.env.key("app", "camara-app")
    c.carrier = c.env.key("carrier", "camara-carrier", carrier="cmcc")
    c.admin = c.env.key("admin", "camara-admin")
    c.revoked = c.env.key("app", "camara-revoked")
    rid = c.env.key_ids()["camara-revoked"]
    h.run_cli("keys", "revoke", "--db", c.env.db, rid)
    c.server = h.Server(c.env).start()
    return c


def teardown(c):
    c.server.stop(expect_rc=0)


def after_case(c, name):
    return h.server_health_check(c.server)


def client(c, token=OMIT):
    return NumberRecyclingClient(h.HOST, c.server.port, c.app if token is OMIT else token)


# ---------------------------------------------------------------------------
# the spec's scenarios


def case_scenario1_same_subscriber_since_contract_date_is_false(c):
    cl = client(c)
    cl.check(N_SAME, "2023-12-22").expect_recycled(False, "2023-12-22")
    cl.check(N_SAME, "2024-11-02").expect_recycled(False, "2024-11-02")
    cl.check(N_SAME, h.store_date(-1)).expect_recycled(False, "yesterday")


def case_scenario1_contract_day_itself_is_false(c):
    # "a specified date on which a user signed a contract with MNO -> false"
    client(c).check(N_SAME, "2023-10-09").expect_recycled(False, "activation day 2023-10-09")


def case_date_before_first_activation_is_true(c):
    # the first record is an activation after the date: whoever held the
    # account then, it is not this subscriber
    client(c).check(N_SAME, "2023-10-08").expect_recycled(True, "day before activation")


def case_activation_day_is_the_store_time_zone_day(c):
    # N_TZ was activated at 2023-10-09T16:30Z = 2023-10-10 00:30 in +08:00
    cl = client(c)
    cl.check(N_TZ, "2023-10-09").expect_recycled(True, "2023-10-09 (+08:00 day before)")
    cl.check(N_TZ, "2023-10-10").expect_recycled(False, "2023-10-10 (+08:00 activation day)")


def case_scenario2_new_subscriber_is_true(c):
    client(c).check(N_NEW, "2023-12-22").expect_recycled(True, "2023-12-22")


def case_scenario2_date_in_gap_without_subscriber_is_true(c):
    cl = client(c)
    for d in ("2024-02-25", "2024-02-26", "2024-05-01", "2024-09-20"):
        cl.check(N_NEW, d).expect_recycled(True, d)


def case_scenario2_new_subscriber_contract_day_and_after_is_false(c):
    cl = client(c)
    for d in ("2024-09-21", "2024-10-01", "2024-11-02"):
        cl.check(N_NEW, d).expect_recycled(False, d)


def case_disconnected_not_reissued_is_false(c):
    cl = client(c)
    for d in ("2023-01-01", "2023-06-01", "2024-03-01", "2024-06-01"):
        cl.check(N_DISC, d).expect_recycled(False, d)


def case_tenure_survives_suspension_and_reclaim(c):
    cl = client(c)
    cl.check(N_SUSPEND, "2023-02-01").expect_recycled(False, "suspended and resumed")
    cl.check(N_RECLAIM, "2023-02-01").expect_recycled(False, "reclaimed in the freeze")


def case_reissued_then_cancelled_again_is_true(c):
    cl = client(c)
    cl.check(N_TWICE, "2022-03-01").expect_recycled(True, "before the reissue")
    cl.check(N_TWICE, "2023-01-01").expect_recycled(False, "after the reissue")


def case_never_reported_is_404_identifier_not_found(c):
    cl = client(c)
    cl.check(N_NEVER, "2024-01-01").expect_error(404, "IDENTIFIER_NOT_FOUND")
    # outside every carrier's range (the store's carriers have ranges)
    cl.check("+12025550123", "2024-01-01").expect_error(422, "SERVICE_NOT_APPLICABLE", "+1 number")


def case_date_before_non_activation_first_record_is_400_out_of_range(c):
    cl = client(c)
    cl.check(N_MIDSTREAM, "2023-12-01").expect_error(400, "OUT_OF_RANGE", "2023-12-01")
    cl.check(N_MIDSTREAM, "2024-01-09").expect_error(400, "OUT_OF_RANGE", "2024-01-09")
    # a date after that first record is covered
    cl.check(N_MIDSTREAM, "2024-02-01").expect_recycled(False, "after the first record")


def case_future_date_is_400_out_of_range(c):
    cl = client(c)
    cl.check(N_SAME, "2030-01-01").expect_error(400, "OUT_OF_RANGE", "2030-01-01")
    cl.check(N_SAME, h.store_date(1)).expect_error(400, "OUT_OF_RANGE", "tomorrow (+08:00)")
    cl.check(N_NEVER, "2030-01-01").expect_error(400, "OUT_OF_RANGE", "future, never reported")
    # today is not the future
    cl.check(N_SAME, h.store_date(0)).expect_recycled(False, "today (+08:00)")


def case_leap_day_is_a_valid_date(c):
    client(c).check(N_SAME, "2024-02-29").expect_recycled(False, "2024-02-29")


# ---------------------------------------------------------------------------
# request validation


def case_missing_phone_number_is_422_missing_identifier(c):
    cl = client(c)
    cl.check(specified_date="2024-01-01").expect_error(422, "MISSING_IDENTIFIER")


def case_bad_phone_number_pattern_is_400(c):
    cl = client(c)
    for p in ("8613800000001", "13800000001", "+08613800000001", "+1234", "+1234567890123456",
              "+86 13800000001", "+86-138-0000-0001", "+8613800000001 ", "", "+", "++8613800000001",
              "+86138000000o1", "tel:+8613800000001", "+８６13800000001"):
        cl.check(p, "2024-01-01").expect_error(400, "INVALID_ARGUMENT", repr(p))


def case_unknown_property_is_400(c):
    cl = client(c)
    for extra in ({"foo": 1}, {"phonenumber": N_SAME}, {"specifiedDate2": "2024-01-01"},
                  {"phoneNumberRecycled": True}):
        body = {"phoneNumber": N_SAME, "specifiedDate": "2024-01-01", **extra}
        cl.check(body=body).expect_error(400, "INVALID_ARGUMENT", repr(extra))


def case_wrong_types_are_400(c):
    cl = client(c)
    for body in ({"phoneNumber": 8613800000001, "specifiedDate": "2024-01-01"},
                 {"phoneNumber": [N_SAME], "specifiedDate": "2024-01-01"},
                 {"phoneNumber": {"n": N_SAME}, "specifiedDate": "2024-01-01"},
                 {"phoneNumber": True, "specifiedDate": "2024-01-01"},
                 {"phoneNumber": None, "specifiedDate": "2024-01-01"},
                 {"phoneNumber": N_SAME, "specifiedDate": 20240101},
                 {"phoneNumber": N_SAME, "specifiedDate": None},
                 {"phoneNumber": N_SAME, "specifiedDate": ["2024-01-01"]},
                 {"phoneNumber": N_SAME, "specifiedDate": False}):
        cl.check(body=body).expect_error(400, "INVALID_ARGUMENT", repr(body))


def case_missing_specified_date_is_400(c):
    cl = client(c)
    cl.check(body={"phoneNumber": N_SAME}).expect_error(400, "INVALID_ARGUMENT")


def case_bad_dates_are_400_invalid_argument(c):
    cl = client(c)
    for d in ("2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024/01/01",
              "24-01-01", "2024-1-1", "2024-01-01T00:00:00Z", "2024-01-01 ", " 2024-01-01",
              "20240101", "", "yesterday", "2024-01-0x"):
        cl.check(N_SAME, d).expect_error(400, "INVALID_ARGUMENT", repr(d))


def case_empty_body_is_400(c):
    client(c).check(raw=b"").expect_error(400, "INVALID_ARGUMENT")


def case_malformed_json_is_400(c):
    cl = client(c)
    for raw in (b'{"phoneNumber": ', b'{"phoneNumber": "+8613800000001", "specifiedDate": "2024-01-01"',
                b"{'phoneNumber': '+8613800000001', 'specifiedDate': '2024-01-01'}",
                b'{"phoneNumber": "+8613800000001", "specifiedDate": "2024-01-01"} x',
                b'{"phoneNumber": "+8613800000001",, "specifiedDate": "2024-01-01"}',
                b'\xff\xfe{', b"   "):
        cl.check(raw=raw).expect_error(400, "INVALID_ARGUMENT", repr(raw))


def case_non_object_body_is_400(c):
    cl = client(c)
    for raw in (b"[]", b'["+8613800000001", "2024-01-01"]', b'"+8613800000001"', b"42", b"null",
                b"true"):
        cl.check(raw=raw).expect_error(400, "INVALID_ARGUMENT", repr(raw))


# ---------------------------------------------------------------------------
# authentication and roles


def case_no_key_is_401(c):
    client(c, token=None).check(N_SAME, "2024-01-01").expect_error(401, "UNAUTHENTICATED")


def case_unknown_key_is_401(c):
    cl = client(c)
    for tok in ("sn_" + "0" * 64, "sn_nope", c.app + "x", c.app[:-1]):
        cl.check(N_SAME, "2024-01-01", token=tok).expect_error(401, "UNAUTHENTICATED", tok)


def case_malformed_authorization_is_401(c):
    cl = client(c)
    for value in ("Basic " + c.app, c.app, "Bearer", "Bearer ", "Token " + c.app):
        cl.check(N_SAME, "2024-01-01", token=None, headers={"Authorization": value}) \
            .expect_error(401, "UNAUTHENTICATED", repr(value))


def case_revoked_key_is_401(c):
    client(c, token=c.revoked).check(N_SAME, "2024-01-01").expect_error(401, "UNAUTHENTICATED")


def case_carrier_key_is_403(c):
    client(c, token=c.carrier).check(N_SAME, "2024-01-01").expect_error(403, "PERMISSION_DENIED")


def case_admin_key_is_403(c):
    client(c, token=c.admin).check(N_SAME, "2024-01-01").expect_error(403, "PERMISSION_DENIED")


def case_authentication_is_checked_before_the_body(c):
    client(c, token=None).check(raw=b"{nope").expect_error(401, "UNAUTHENTICATED", "no key")
    client(c, token=c.revoked).check(raw=b"[]").expect_error(401, "UNAUTHENTICATED", "revoked")
    client(c, token=c.carrier).check(raw=b"{nope").expect_error(403, "PERMISSION_DENIED", "carrier")


# ---------------------------------------------------------------------------
# x-correlator


def case_x_correlator_echoed_on_success(c):
    cl = client(c)
    for corr in ("b4333c46-49c0-4f62-80d7-f0ef930f1c46", "a", "x" * 256,
                 "abc-_:;./<>{}XYZ019"):
        r = cl.check(N_SAME, "2023-12-22", correlator=corr)
        r.expect_recycled(False, corr)
        h.eq("echo of %r" % corr, corr, r.header("x-correlator"))


def case_x_correlator_echoed_on_every_error(c):
    cases = [
        (dict(phone_number=N_NEVER, specified_date="2024-01-01"), c.app, 404, "IDENTIFIER_NOT_FOUND"),
        (dict(phone_number=N_MIDSTREAM, specified_date="2023-01-01"), c.app, 400, "OUT_OF_RANGE"),
        (dict(phone_number=N_SAME, specified_date="2030-01-01"), c.app, 400, "OUT_OF_RANGE"),
        (dict(specified_date="2024-01-01"), c.app, 422, "MISSING_IDENTIFIER"),
        (dict(phone_number="123", specified_date="2024-01-01"), c.app, 400, "INVALID_ARGUMENT"),
        (dict(raw=b"{"), c.app, 400, "INVALID_ARGUMENT"),
        (dict(raw=b""), c.app, 400, "INVALID_ARGUMENT"),
        (dict(phone_number=N_SAME, specified_date="2024-01-01"), None, 401, "UNAUTHENTICATED"),
        (dict(phone_number=N_SAME, specified_date="2024-01-01"), c.revoked, 401, "UNAUTHENTICATED"),
        (dict(phone_number=N_SAME, specified_date="2024-01-01"), c.carrier, 403, "PERMISSION_DENIED"),
    ]
    cl = client(c)
    for i, (kw, tok, status, code) in enumerate(cases):
        corr = "corr-%d-{x}" % i
        r = cl.check(token=tok, correlator=corr, **kw)  # the client checks the echo
        r.expect_error(status, code, repr(kw))
        h.eq("echo on %d %s" % (status, code), corr, r.header("x-correlator"))


def case_invalid_x_correlator_is_400(c):
    cl = client(c)
    for corr in ("has space", "abc!def", "a*b", "x" * 257, "quote\"d", "a,b", "a#b", "a+b"):
        r = cl.check(N_SAME, "2023-12-22", correlator=corr, expect_echo=False)
        r.expect_error(400, "INVALID_ARGUMENT", repr(corr))


def case_no_x_correlator_is_fine(c):
    r = client(c).check(N_SAME, "2023-12-22", correlator=None)
    r.expect_recycled(False)


# ---------------------------------------------------------------------------
# transport


def case_keep_alive_connection_is_reused(c):
    cl = client(c)
    for i in range(50):
        cl.check(N_NEW if i % 2 else N_SAME, "2023-12-22").expect_recycled(bool(i % 2), str(i))
    h.eq("TCP connections for 50 checks", 1, cl.connects)


def case_concurrent_clients_get_right_answers(c):
    errors = []
    expect = [(N_SAME, "2023-12-22", False), (N_NEW, "2023-12-22", True),
              (N_DISC, "2023-06-01", False), (N_NEW, "2024-05-01", True)]

    def worker(k):
        try:
            cl = client(c)
            for i in range(100):
                n, d, want = expect[(i + k) % len(expect)]
                cl.check(n, d).expect_recycled(want, "%s %s" % (n, d))
            cl.close()
        except BaseException as e:  # noqa: B902
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not any(t.is_alive() for t in ts), "a worker did not finish within 60 s"
    assert not errors, "; ".join(errors[:5])


if __name__ == "__main__":
    h.main(globals(), setup=setup, teardown=teardown, after_case=after_case)
