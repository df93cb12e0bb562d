"""camara_client.py - a small client for CAMARA Number Recycling v0.2.

Written from the published OpenAPI document
(shared/reference/camara/number-recycling.yaml, version 0.2.0):

  POST {apiRoot}/number-recycling/v0.2/check
  request  CreateCheckNumRecycling {phoneNumber?: PhoneNumber, specifiedDate: date}
  200      CheckNumRecyclingInfo {phoneNumberRecycled: boolean}
  400/401/403/404/422  ErrorInfo {status, code, message} with the code enums below
  header   x-correlator (XCorrelator pattern) on the request, echoed on responses

The client sends whatever it is given (the suite needs invalid requests too)
and validates every response against the schema; a response that does not
conform raises SchemaViolation. stdlib only.
"""

import datetime
import http.client
import json
import re
import uuid

API_BASE = "/number-recycling/v0.2"
CHECK_PATH = API_BASE + "/check"

PHONE_NUMBER_RE = re.compile(r"^\+[1-9][0-9]{4,14}$")
# the spec's ^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$ (the '-' after 0-9 is literal)
X_CORRELATOR_RE = re.compile(r"^[a-zA-Z0-9\-_:;./<>{}]{0,256}$")

# The code enum of each documented error response (Generic400 ... Generic422).
ERROR_CODES = {
    400: {"INVALID_ARGUMENT", "OUT_OF_RANGE"},
    401: {"UNAUTHENTICATED"},
    403: {"PERMISSION_DENIED"},
    404: {"IDENTIFIER_NOT_FOUND"},
    422: {"SERVICE_NOT_APPLICABLE", "MISSING_IDENTIFIER", "UNNECESSARY_IDENTIFIER"},
}
DOCUMENTED_STATUSES = {200} | set(ERROR_CODES)

OMIT = object()   # leave a property (or header) out
AUTO = object()   # a fresh x-correlator (uuid4)


class SchemaViolation(AssertionError):
    """The response does not conform to the published spec."""


def build_request(phone_number=OMIT, specified_date=OMIT, **extra):
    """The CreateCheckNumRecycling object (extra: properties the spec lacks)."""
    body = {}
    if phone_number is not OMIT:
        body["phoneNumber"] = phone_number
    if specified_date is not OMIT:
        body["specifiedDate"] = specified_date.isoformat() \
            if isinstance(specified_date, datetime.date) else specified_date
    body.update(extra)
    return body


def request_problems(body):
    """What a conforming server must reject in body (client-side validation)."""
    problems = []
    if not isinstance(body, dict):
        return ["the body is not an object"]
    for k in body:
        if k not in ("phoneNumber", "specifiedDate"):
            problems.append("unknown property %r" % k)
    if "specifiedDate" not in body:
        problems.append("specifiedDate is required")
    else:
        d = body["specifiedDate"]
        if not isinstance(d, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", d):
            problems.append("specifiedDate is not a full-date")
        else:
            try:
                datetime.date.fromisoformat(d)
            except ValueError:
                problems.append("specifiedDate is not a calendar date")
    if "phoneNumber" in body:
        p = body["phoneNumber"]
        if not isinstance(p, str) or not PHONE_NUMBER_RE.match(p):
            problems.append("phoneNumber does not match the PhoneNumber pattern")
    return problems


class ErrorInfo:
    def __init__(self, status, code, message):
        self.status = status
        self.code = code
        self.message = message

    def __repr__(self):
        return "ErrorInfo(%d, %s, %r)" % (self.status, self.code, self.message)


class CheckResult:
    """A validated response: recycled (bool) on 200, error (ErrorInfo) otherwise."""

    def __init__(self, status, headers, body, sent_correlator):
        self.status = status
        self.headers = headers
        self.body = body
        self.sent_correlator = sent_correlator
        self.data = None
        self.recycled = None
        self.error = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def expect_recycled(self, value, what=""):
        w = what + ": " if what else ""
        if self.status != 200:
            raise AssertionError("%sexpected 200 phoneNumberRecycled=%s, got %d %r"
                                 % (w, value, self.status, self.body[:300]))
        if self.recycled is not value:
            raise AssertionError("%sexpected phoneNumberRecycled=%s, got %r" % (w, value, self.data))

    def expect_error(self, status, code, what=""):
        w = what + ": " if what else ""
        if self.status != status or self.error is None or self.error.code != code:
            raise AssertionError("%sexpected %d %s, got %d %r" % (w, status, code, self.status,
                                                                   self.body[:300]))

    def __repr__(self):
        return "<CheckResult %d %r>" % (self.status, self.body[:200])


def validate_response(status, headers, body, sent_correlator=None, expect_echo=True):
    """Validate one response of POST /check against the spec; returns CheckResult."""
    r = CheckResult(status, headers, body, sent_correlator)
    if status not in DOCUMENTED_STATUSES:
        raise SchemaViolation("HTTP %d is not a documented response of /check: %r"
                              % (status, body[:300]))
    ct = (r.header("content-type") or "").split(";")[0].strip().lower()
    if ct != "application/json":
        raise SchemaViolation("HTTP %d: Content-Type %r, expected application/json"
                              % (status, r.header("content-type")))
    if expect_echo and sent_correlator is not None:
        got = r.header("x-correlator")
        if got != sent_correlator:
            raise SchemaViolation("HTTP %d: x-correlator not echoed (sent %r, got %r)"
                                  % (status, sent_correlator, got))
    got = r.header("x-correlator")
    if got is not None and not X_CORRELATOR_RE.match(got):
        raise SchemaViolation("the response x-correlator %r does not match XCorrelator" % got)
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise SchemaViolation("HTTP %d: body is not JSON (%s): %r" % (status, e, body[:300]))
    r.data = data
    if not isinstance(data, dict):
        raise SchemaViolation("HTTP %d: body is not an object: %r" % (status, data))
    if status == 200:
        if set(data) != {"phoneNumberRecycled"}:
            raise SchemaViolation("200 body must be exactly {phoneNumberRecycled}: %r" % data)
        if type(data["phoneNumberRecycled"]) is not bool:
            raise SchemaViolation("phoneNumberRecycled is not a boolean: %r" % data)
        r.recycled = data["phoneNumberRecycled"]
        return r
    if set(data) != {"status", "code", "message"}:
        raise SchemaViolation("HTTP %d: error body must be exactly status/code/message: %r"
                              % (status, data))
    if type(data["status"]) is not int or data["status"] != status:
        raise SchemaViolation("error status %r differs from HTTP %d" % (data["status"], status))
    if not isinstance(data["code"], str) or data["code"] not in ERROR_CODES[status]:
        raise SchemaViolation("HTTP %d: code %r is not one of %s"
                              % (status, data["code"], sorted(ERROR_CODES[status])))
    if not isinstance(data["message"], str):
        raise SchemaViolation("error message is not a string: %r" % data)
    r.error = ErrorInfo(status, data["code"], data["message"])
    return r


class NumberRecyclingClient:
    """POST /check over one keep-alive HTTP/1.1 connection."""

    def __init__(self, host, port, token=None, api_root="", timeout=30.0):
        self.host = host
        self.port = port
        self.token = token
        self.path = api_root.rstrip("/") + CHECK_PATH
        self.timeout = timeout
        self.conn = None
        self.connects = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _send(self, body, headers):
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.conn.connect()
                self.connects += 1
            try:
                self.conn.request("POST", self.path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
                    http.client.CannotSendRequest):
                self.close()
                if attempt == 0 and not fresh:
                    continue  # the server closed an idle keep-alive connection
                raise
            if resp.will_close:
                self.close()
            return resp.status, resp.getheaders(), data
        raise AssertionError("unreachable")

    def check(self, phone_number=OMIT, specified_date=OMIT, *, body=OMIT, raw=None,
              correlator=AUTO, token=OMIT, headers=None, content_type="application/json",
              expect_echo=True):
        """Ask whether phone_number changed hands since specified_date.

        body: a JSON value to send instead of the built object; raw: bytes to
        send as the body as they are; token: None for no Authorization header;
        correlator: None for no header. Returns a validated CheckResult."""
        if raw is not None:
            payload = raw if isinstance(raw, bytes) else raw.encode()
        else:
            obj = build_request(phone_number, specified_date) if body is OMIT else body
            payload = json.dumps(obj).encode()
        h = {}
        tok = self.token if token is OMIT else token
        if tok is not None:
            h["Authorization"] = "Bearer " + tok
        if content_type is not None:
            h["Content-Type"] = content_type
        h["Accept"] = "application/json"
        corr = str(uuid.uuid4()) if correlator is AUTO else correlator
        if corr is not None:
            h["x-correlator"] = corr
        h["Content-Length"] = str(len(payload))
        if headers:
            h.update(headers)
        status, hdrs, data = self._send(payload, h)
        echo = expect_echo and corr is not None and X_CORRELATOR_RE.match(corr) is not None
        return validate_response(status, hdrs, data, corr if echo else None, expect_echo=echo)

    def is_recycled(self, phone_number, specified_date):
        """The plain answer: True/False, or raises with the ErrorInfo."""
        r = self.check(phone_number, specified_date)
        if r.status != 200:
            raise RuntimeError("number recycling check failed: %r" % r.error)
        return r.recycled
