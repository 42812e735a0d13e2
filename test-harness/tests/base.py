"""Shared fixture for the black-box scenario tests: a fresh cluster per test.

Environment:
  CKV_JAR           node jar (default <repo>/target/causalkv.jar, built if missing)
  CKV_NODE_CMD      run this instead of java -jar (harness self-test)
  CKV_KEEP_LOGS=1   keep node logs of passing tests too (failing tests always keep them)
  CKV_DIRECT=1      talk to ns IPs directly instead of the published localhost ports
  CKV_CAUSAL_WAIT_MS  CAUSAL_WAIT_MS for the nodes (default: the node's own, 1000)
"""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import client  # noqa: E402
from harness.client import Session, request  # noqa: E402
from harness.cluster import Cluster  # noqa: E402

CAUSAL_WAIT_S = int(os.environ.get("CKV_CAUSAL_WAIT_MS", "1000")) / 1000.0


def quiet(msg):
    if os.environ.get("CKV_VERBOSE"):
        print("[cluster] " + msg, flush=True)


class ClusterTest(unittest.TestCase):
    NODES = 3
    TOKEN = None
    # How sessions send the payload: "json" (json.dumps) or "raw" (as handed out), see
    # harness.client.STYLES; None = CKV_PAYLOAD_STYLE or "json".  Subclass to drive both.
    STYLE = None

    def session(self, payload=None):
        return Session(payload=payload, style=self.STYLE)

    def setUp(self):
        cmd = os.environ.get("CKV_NODE_CMD")
        cw = os.environ.get("CKV_CAUSAL_WAIT_MS")
        self.c = Cluster.create(jar=os.environ.get("CKV_JAR"), node_cmd=cmd.split() if cmd else None,
                                causal_wait_ms=int(cw) if cw else None, token=self.TOKEN, log=quiet)
        self._fails_before = self._fail_count()
        self.addCleanup(self._down)
        if self.NODES:
            self.c.up(self.NODES)

    def _fail_count(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        return len(res.failures) + len(res.errors) if res is not None else 0

    def _down(self):
        failed = self._fail_count() > self._fails_before
        keep = failed or bool(os.environ.get("CKV_KEEP_LOGS"))
        self.c.down(keep_logs=keep)
        if failed:
            print("\n  node logs of %s kept under /tmp/ckv-harness-logs-%d-*" % (self.id(), self.c.run_id), flush=True)

    # ---- addressing
    def a(self, ref):
        """Client address of a node: its published localhost port (or ns IP with CKV_DIRECT)."""
        return self.c.node(ref).addr(direct=bool(os.environ.get("CKV_DIRECT")))

    def ipp(self, ref):
        return self.c.node(ref).ip_port

    # ---- assertions
    def assertJson(self, r, status=None):
        self.assertIsNotNone(r.status, "no answer: %s" % r.error)
        if status is not None:
            self.assertEqual(r.status, status, "expected %s, got %r" % (status, r))
        self.assertIsInstance(r.body, dict, "body is not a JSON object: %r" % r)
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"),
                        "Content-Type %r" % r.headers.get("Content-Type"))
        for bad in ("Exception", "\tat ", "java.", "dev.causalkv"):
            self.assertNotIn(bad, r.raw.decode("utf-8", "replace"), "stack trace / internals leaked: %r" % r)
        return r

    def assertPayload(self, r):
        """The answer carries a payload token (opaque, URL-safe)."""
        self.assertIsInstance(r.payload, str, "payload must be a token string: %r" % r)
        self.assertRegex(r.payload, client.TOKEN_RE)
        return r.payload

    def eventually(self, fn, timeout=15.0, interval=0.2, msg=""):
        """Retry fn until it stops raising AssertionError; return its value."""
        deadline = time.time() + timeout
        while True:
            try:
                return fn()
            except AssertionError as e:
                if time.time() > deadline:
                    raise AssertionError("not within %.0fs: %s %s" % (timeout, e, msg))
                time.sleep(interval)

    def view_set(self, ref):
        r = client.get_view(self.a(ref))
        self.assertJson(r, 200)
        v = r.get("view")
        self.assertIsInstance(v, str, "view must be a comma-separated string: %r" % r)
        return set(x for x in v.split(",") if x)

    def admin(self, ref):
        r = self.c.state_of(ref)
        self.assertEqual(r.status, 200, "admin/state of %s: %r" % (ref, r))
        return r.body

    def converged(self, refs=None, timeout=20.0):
        """Wait until every node's /admin/state agrees on visible values and siblings."""
        from harness.checker import differences
        refs = refs or [n.name for n in self.c.nodes]

        def check():
            states = {r: self.admin(r) for r in refs}
            d = differences(states)
            self.assertEqual(d, {}, "nodes differ")
            return states
        return self.eventually(check, timeout)

    def origin(self, ref):
        return self.admin(ref).get("origin")

    def can_connect(self, from_ref, to_ref, timeout=1.0):
        """Whether a TCP connection from inside from_ref's namespace reaches to_ref:8080."""
        src, dst = self.c.node(from_ref), self.c.node(to_ref)
        p = self.c._ns_exec(src, [sys.executable, "-c",
                                  "import socket,sys\ntry:\n socket.create_connection(('%s',8080),timeout=%s).close()\n"
                                  "except OSError:\n sys.exit(1)" % (dst.ip, timeout)], check=False)
        return p.returncode == 0


def payload_json(p):
    return json.dumps(p, separators=(",", ":"))


__all__ = ["ClusterTest", "Session", "request", "client", "CAUSAL_WAIT_S", "payload_json"]
