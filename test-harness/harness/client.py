"""HTTP client for the store's public and admin API, and a client Session that
carries the causal payload the way a real client does (echo what you got).

The payload the store hands out is an opaque URL-safe token (base64url(body) "."
base64url(seal)); decode_token() reads the vector clock inside it for checkers (the
seal is not checked: its key is each node's own secret, or derived from CLUSTER_TOKEN).
Course scripts send it one of two ways, and Session drives both (STYLES):
  "json": data={'payload': json.dumps(payload)}
  "raw":  data={'payload': payload}
both form-encoded exactly as Python `requests` does (requests_form)."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import time
import urllib.parse

STYLES = ("json", "raw")
DEFAULT_STYLE = os.environ.get("CKV_PAYLOAD_STYLE", "json")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# The public seal key nodes used without CLUSTER_TOKEN before the key became secret; what they
# sealed with it (version-1 tokens, the old object form) is refused now.  For tests of refusal.
OLD_PUBLIC_KEY = b"causalkv/payload/v1"
KEY_ID_BYTES = 6


def requests_form(data):
    """Form-encode `data` (a dict or a list of pairs) as Python `requests` does for
    data=...: a str or non-iterable value is one field; any other iterable value is
    sent as one field per element, so a dict value goes as its KEYS
    (data={'payload': {'vc':..,'sig':..}} -> payload=vc&payload=sig); None is dropped."""
    pairs = []
    items = data.items() if isinstance(data, dict) else data
    for k, vs in items:
        if isinstance(vs, (str, bytes)) or not hasattr(vs, "__iter__"):
            vs = [vs]
        for v in vs:
            if v is not None:
                pairs.append((k, v))
    return urllib.parse.urlencode(pairs, doseq=True)


# ---------------------------------------------------------------- the payload token

def _b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def token_body(vc, key_id=None):
    """The canonical body of a clock: version 2, the sealing key's 6-byte id, count, then sorted
    (len, utf-8 origin, counter); without key_id, the version-1 body of older nodes."""
    if key_id is None:
        out = bytearray([1])
    else:
        assert len(key_id) == KEY_ID_BYTES
        out = bytearray([2]) + bytes(key_id)
    out += _varint(len(vc))
    for origin in sorted(vc):
        o = origin.encode("utf-8")
        out += _varint(len(o)) + o + _varint(vc[origin])
    return bytes(out)


def token_parts(tok):
    body, seal = tok.split(".")
    return _b64d(body), _b64d(seal)


def token_key_id(tok):
    """The id of the key that sealed a (version-2) token, or None."""
    body, _ = token_parts(tok)
    return body[1:1 + KEY_ID_BYTES] if body and body[0] == 2 else None


def make_token(body, seal):
    return _b64e(body) + "." + _b64e(seal)


def seal_token(vc, key=OLD_PUBLIC_KEY, key_id=None):
    """A token sealed with `key` (for tests: nodes refuse every key but their cluster's own)."""
    body = token_body(vc, key_id)
    return make_token(body, hmac.new(key, body, hashlib.sha256).digest()[:16])


def legacy_payload(vc, key=OLD_PUBLIC_KEY):
    """The old object form {"vc": {...}, "sig": hex} with its old seal (over the ambiguous text
    origin\0counter\n per entry): refused by nodes now."""
    text = "".join("%s\0%d\n" % (o, vc[o]) for o in sorted(vc))
    return {"vc": dict(vc), "sig": hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]}


def decode_token(tok):
    """The vector clock {origin: n} inside a token (the seal is not checked), or None."""
    if not isinstance(tok, str) or not TOKEN_RE.match(tok):
        return None
    try:
        body, _ = token_parts(tok)
        pos = 0

        def varint():
            nonlocal pos
            n, shift = 0, 0
            while True:
                b = body[pos]
                pos += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    return n
        if body[0] == 1:
            pos = 1
        elif body[0] == 2:
            pos = 1 + KEY_ID_BYTES
        else:
            return None
        vc = {}
        for _ in range(varint()):
            ln = varint()
            origin = body[pos:pos + ln].decode("utf-8")
            pos += ln
            vc[origin] = varint()
        return vc if pos == len(body) else None
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


class Response:
    """One HTTP exchange.  `status` is None when no answer arrived (then `error`
    says why: the operation is indefinite, it may or may not have happened)."""

    __slots__ = ("status", "body", "raw", "error", "start", "end", "headers")

    def __init__(self, status=None, body=None, raw=b"", error=None, start=0.0, end=0.0, headers=None):
        self.status = status
        self.body = body
        self.raw = raw
        self.error = error
        self.start = start
        self.end = end
        self.headers = headers or {}

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    def get(self, field, default=None):
        return self.body.get(field, default) if isinstance(self.body, dict) else default

    @property
    def msg(self):
        return self.get("msg")

    @property
    def payload(self):
        return self.get("payload")

    @property
    def out_of_date(self):
        return self.status == 400 and self.msg == "Payload out of date"

    def __repr__(self):
        if self.status is None:
            return "<no answer: %s>" % self.error
        return "<%d %s>" % (self.status, self.raw[:300].decode("utf-8", "replace"))


def request(method, base, path, params=None, timeout=5.0, headers=None, in_query=False, raw_body=None):
    """Send one request to base ('host:port'); params are form-encoded as `requests`
    does (requests_form) in the body (also for GET and DELETE, as the course's tests
    do) or in the query string."""
    host, port = base.rsplit(":", 1)
    body = None
    hdrs = {"Connection": "close"}
    if headers:
        hdrs.update(headers)
    if params is not None:
        enc = requests_form(params)
        if in_query:
            path = path + ("&" if "?" in path else "?") + enc
        else:
            body = enc.encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    if raw_body is not None:
        body = raw_body
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    start = time.time()
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        raw = r.read()
        end = time.time()
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        return Response(r.status, parsed, raw, None, start, end, dict(r.getheaders()))
    except (OSError, http.client.HTTPException) as e:
        return Response(None, None, b"", "%s: %s" % (type(e).__name__, e), start, time.time())
    finally:
        conn.close()


def kv_path(key):
    return "/keyValue-store/" + urllib.parse.quote(key, safe="")


def search_path(key):
    return "/keyValue-store/search/" + urllib.parse.quote(key, safe="")


class Session:
    """A client that keeps the latest payload it was handed and sends it with every
    request, like the course's test client.  `payload` is what the last answer held
    (the token string), or None for "no history yet" (then no payload is sent).
    style "json" sends json.dumps(payload), "raw" sends payload itself (STYLES)."""

    def __init__(self, timeout=5.0, payload=None, style=None):
        self.timeout = timeout
        self.payload = payload
        self.style = style or DEFAULT_STYLE
        if self.style not in STYLES:
            raise ValueError("payload style must be one of %s" % (STYLES,))

    def _params(self, extra=None):
        p = dict(extra or {})
        if self.payload is not None:
            p["payload"] = json.dumps(self.payload) if self.style == "json" else self.payload
        return p

    def _take(self, r):
        pl = r.payload
        # a refused payload is answered with the empty one: keeping it would forget this session's history
        if isinstance(pl, (str, dict)) and r.status is not None and r.msg != "Payload is not valid":
            self.payload = pl
        return r

    def put(self, node, key, val):
        return self._take(request("PUT", node, kv_path(key), self._params({"val": val}), self.timeout))

    def get(self, node, key):
        return self._take(request("GET", node, kv_path(key), self._params(), self.timeout))

    def search(self, node, key):
        return self._take(request("GET", node, search_path(key), self._params(), self.timeout))

    def delete(self, node, key):
        return self._take(request("DELETE", node, kv_path(key), self._params(), self.timeout))


def get_view(node, timeout=5.0):
    return request("GET", node, "/view", None, timeout)


def put_view(node, ip_port, timeout=10.0):
    return request("PUT", node, "/view", {"ip_port": ip_port}, timeout)


def delete_view(node, ip_port, timeout=10.0):
    return request("DELETE", node, "/view", {"ip_port": ip_port}, timeout)


def admin_state(node, token=None, timeout=5.0):
    return request("GET", node, "/admin/state", None, timeout, {"X-Cluster-Token": token} if token else None)


def admin_stats(node, token=None, timeout=5.0):
    return request("GET", node, "/admin/stats", None, timeout, {"X-Cluster-Token": token} if token else None)
