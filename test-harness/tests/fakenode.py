#!/usr/bin/env python3
"""A deliberately naive stand-in for the node, for testing the harness itself:
same env contract and API shapes, but replication is fire-and-forget pushes with
last-writer-wins, and the payload is always {}.  It is NOT causally consistent,
so the fuzz checker must find anomalies against it under partitions (that is
what it is for: proving the checker can fail)."""
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ME = os.environ.get("IP_PORT")
VIEW = os.environ.get("VIEW")
if not ME or not VIEW:
    print("IP_PORT and VIEW are required", file=sys.stderr)
    sys.exit(2)
PEERS = [p for p in VIEW.split(",") if p and p != ME]
SKEW = int(os.environ.get("CLOCK_SKEW_MS", "0"))
LOCK = threading.Lock()
DATA = {}  # key -> (ts, origin, seq, value or None)
SEQ = [0]


def push(key, ver):
    body = json.dumps({"key": key, "ver": ver}).encode()
    for p in PEERS:
        try:
            urllib.request.urlopen(urllib.request.Request("http://%s/internal/push" % p, body, method="POST"), timeout=1).read()
        except Exception:
            pass


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def params(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode() if n else ""
        q = urllib.parse.urlparse(self.path).query
        p = dict(urllib.parse.parse_qsl(q))
        p.update(dict(urllib.parse.parse_qsl(raw)))
        return p, raw

    def handle_any(self, method):
        path = urllib.parse.urlparse(self.path).path
        p, raw = self.params()
        if path == "/internal/push":
            m = json.loads(raw)
            with LOCK:
                cur = DATA.get(m["key"])
                v = tuple(m["ver"])
                if cur is None or v[:3] > cur[:3]:
                    DATA[m["key"]] = v
            return self.reply(200, {})
        if path == "/view" and method == "GET":
            return self.reply(200, {"view": ",".join([ME] + PEERS)})
        if path == "/admin/state":
            with LOCK:
                keys = {k: {"visible": v[3], "siblings": [{"origin": v[1], "seq": v[2], "ts": v[0], "tombstone": v[3] is None, "value": v[3]}]} for k, v in DATA.items()}
            return self.reply(200, {"node": ME, "origin": ME, "applied": {}, "view": ",".join([ME] + PEERS), "keys": keys})
        if path.startswith("/keyValue-store/search/"):
            key = urllib.parse.unquote(path[len("/keyValue-store/search/"):])
            with LOCK:
                v = DATA.get(key)
            return self.reply(200, {"isExists": bool(v and v[3] is not None), "result": "Success", "payload": {}})
        if path.startswith("/keyValue-store/"):
            key = urllib.parse.unquote(path[len("/keyValue-store/"):])
            with LOCK:
                cur = DATA.get(key)
                exists = bool(cur and cur[3] is not None)
                if method == "GET":
                    if exists:
                        return self.reply(200, {"result": "Success", "value": cur[3], "payload": {}})
                    return self.reply(404, {"result": "Error", "msg": "Key does not exist", "payload": {}})
                if method == "DELETE" and not exists:
                    return self.reply(404, {"result": "Error", "msg": "Key does not exist", "payload": {}})
                if method == "PUT" and "val" not in p:
                    return self.reply(400, {"result": "Error", "msg": "Value is missing"})
                SEQ[0] += 1
                ver = (int(time.time() * 1000) + SKEW, ME, SEQ[0], p.get("val") if method == "PUT" else None)
                DATA[key] = ver
            threading.Thread(target=push, args=(key, ver), daemon=True).start()
            if method == "DELETE":
                return self.reply(200, {"result": "Success", "msg": "Key deleted", "payload": {}})
            if exists:
                return self.reply(201, {"replaced": True, "msg": "Updated successfully", "payload": {}})
            return self.reply(200, {"replaced": False, "msg": "Added successfully", "payload": {}})
        return self.reply(404, {"result": "Error", "msg": "Not found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_POST(self):
        self.handle_any("POST")


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), H).serve_forever()
