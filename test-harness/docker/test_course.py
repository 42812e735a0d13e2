"""The course's scenarios against the real image in real Docker, started the way the course's
docker_control.py starts it, with each client style the course's scripts use for the payload:
data={'payload': json.dumps(payload)} ("json") and data={'payload': payload} ("raw"), sent as
Python requests encodes them (harness.client.requests_form).  Run by test-harness/docker/run."""
import json
import os
import statistics
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import course  # noqa: E402
from harness import client  # noqa: E402
from harness.client import Session, TOKEN_RE, request  # noqa: E402

CAUSAL_WAIT_S = 1.0   # the node's default CAUSAL_WAIT_MS
RESULTS = os.environ.get("CKV_TIER_RESULTS")   # a JSON file the figures measured here are added to


def record(name, value):
    if not RESULTS:
        return
    data = {}
    if os.path.exists(RESULTS) and os.path.getsize(RESULTS) > 0:
        with open(RESULTS) as f:
            data = json.load(f)
    data[name] = value
    with open(RESULTS, "w") as f:
        json.dump(data, f, indent=1)


class DockerTest(unittest.TestCase):
    STYLE = "json"

    def setUp(self):
        self.nodes = []
        self._fails_before = self._fail_count()
        self.addCleanup(self._teardown)

    def _fail_count(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        return len(res.failures) + len(res.errors) if res is not None else 0

    def _teardown(self):
        if self._fail_count() > self._fails_before:
            for n in self.nodes:
                print("\n--- logs of %s (%s)\n%s" % (n.name, n.ip_port, course.logs(n)), flush=True)
        course.kill_all()   # docker kill between tests, as the course does

    def cluster(self, n):
        self.nodes = course.start_cluster(n)
        return self.nodes

    def session(self):
        return Session(style=self.STYLE, timeout=10)

    # ---- assertions
    def ok(self, r, status):
        self.assertIsNotNone(r.status, "no answer: %s" % r.error)
        self.assertEqual(r.status, status, repr(r))
        self.assertIsInstance(r.body, dict, repr(r))
        self.assertNotIn("Exception", r.raw.decode("utf-8", "replace"))
        return r

    def token(self, r):
        self.assertIsInstance(r.payload, str, "payload must be a token string: %r" % r)
        self.assertRegex(r.payload, TOKEN_RE)
        return r

    def view_of(self, node):
        r = self.ok(client.get_view(node.addr), 200)
        self.assertIsInstance(r.get("view"), str)
        return set(x for x in r.get("view").split(",") if x)

    def eventually(self, fn, timeout=15.0):
        deadline = time.time() + timeout
        while True:
            try:
                return fn()
            except AssertionError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)


class Course(DockerTest):
    """Scenarios in the "json" style; CourseRaw runs them all again in the "raw" style."""

    def test_add_update_search_delete_one_node(self):
        (a,) = self.cluster(1)
        s = self.session()
        r = self.token(self.ok(s.put(a.addr, "color", "red"), 200))
        self.assertEqual((r.get("replaced"), r.msg), (False, "Added successfully"))
        r = self.token(self.ok(s.put(a.addr, "color", "blue"), 201))
        self.assertEqual((r.get("replaced"), r.msg), (True, "Updated successfully"))
        r = self.token(self.ok(s.get(a.addr, "color"), 200))
        self.assertEqual((r.get("result"), r.get("value")), ("Success", "blue"))
        r = self.token(self.ok(s.search(a.addr, "color"), 200))
        self.assertEqual((r.get("isExists"), r.get("result")), (True, "Success"))
        r = self.token(self.ok(s.delete(a.addr, "color"), 200))
        self.assertEqual((r.get("result"), r.msg), ("Success", "Key deleted"))
        r = self.token(self.ok(s.get(a.addr, "color"), 404))
        self.assertEqual((r.get("result"), r.msg), ("Error", "Key does not exist"))
        self.assertIs(self.ok(s.search(a.addr, "color"), 200).get("isExists"), False)
        self.assertEqual(self.ok(s.delete(a.addr, "color"), 404).msg, "Key does not exist")
        self.assertEqual(self.view_of(a), {a.ip_port})

    def test_add_update_search_delete_two_nodes(self):
        a, b = self.cluster(2)
        s = self.session()
        self.ok(s.put(a.addr, "k", "1"), 200)
        self.assertEqual(self.ok(s.get(b.addr, "k"), 200).get("value"), "1")   # with the payload: waits, never stale
        self.assertEqual(self.ok(s.put(b.addr, "k", "2"), 201).msg, "Updated successfully")
        self.assertEqual(self.ok(s.get(a.addr, "k"), 200).get("value"), "2")
        self.assertIs(self.ok(s.search(a.addr, "k"), 200).get("isExists"), True)
        self.ok(s.delete(b.addr, "k"), 200)
        self.ok(s.get(a.addr, "k"), 404)
        self.assertIs(self.ok(s.search(a.addr, "k"), 200).get("isExists"), False)
        # without a payload the other node has it within moments
        self.ok(s.put(a.addr, "late", "x"), 200)
        self.eventually(lambda: self.assertEqual(Session(style=self.STYLE).get(b.addr, "late").get("value"), "x"))
        for n in (a, b):
            self.assertEqual(self.view_of(n), {a.ip_port, b.ip_port})

    def test_view_add_and_catch_up(self):
        a, b = self.cluster(2)
        s = self.session()
        for i in range(5):
            self.ok(s.put((a, b)[i % 2].addr, "old%d" % i, "o%d" % i), 200)
        view = ",".join("%s:8080" % course.course_ip(i) for i in range(3))
        c = course.start(2, view)          # started with VIEW = old members + itself, then the fixed wait
        self.nodes.append(c)
        r = self.ok(client.put_view(a.addr, c.ip_port), 200)
        self.assertEqual((r.get("result"), r.msg), ("Success", "Successfully added %s to view" % c.ip_port))
        for n in (a, b, c):
            self.assertEqual(self.view_of(n), {a.ip_port, b.ip_port, c.ip_port}, n)
        for i in range(5):                 # the new node caught up: it serves the old keys
            self.assertEqual(self.ok(s.get(c.addr, "old%d" % i), 200).get("value"), "o%d" % i)
        self.ok(s.put(c.addr, "fromnew", "n"), 200)
        self.assertEqual(self.ok(s.get(a.addr, "fromnew"), 200).get("value"), "n")
        r = self.ok(client.put_view(b.addr, c.ip_port), 404)
        self.assertEqual(r.msg, "%s is already in view" % c.ip_port)

    def test_view_remove(self):
        a, b, c = self.cluster(3)
        s = self.session()
        self.ok(s.put(c.addr, "onC", "v"), 200)
        r = self.ok(client.delete_view(a.addr, c.ip_port), 200)
        self.assertEqual((r.get("result"), r.msg), ("Success", "Successfully removed %s from view" % c.ip_port))
        self.assertEqual(self.ok(s.get(a.addr, "onC"), 200).get("value"), "v")   # drained before removal
        for n in (a, b):
            self.assertEqual(self.view_of(n), {a.ip_port, b.ip_port}, n)
        t = self.session()
        self.ok(t.put(a.addr, "after", "w"), 200)
        self.assertEqual(self.ok(t.get(b.addr, "after"), 200).get("value"), "w")
        time.sleep(1.5)
        self.assertIs(self.ok(self.session().search(c.addr, "after"), 200).get("isExists"), False,
                      "a removed node gets no new writes")
        r = self.ok(client.delete_view(a.addr, c.ip_port), 404)
        self.assertEqual(r.msg, "%s is not in current view" % c.ip_port)

    def test_sudden_failure(self):
        a, b, c = self.cluster(3)
        s = self.session()
        for i in range(5):
            self.ok(s.put(a.addr, "k%d" % i, "v%d" % i), 200)
        self.assertEqual(self.ok(s.get(b.addr, "k4"), 200).get("value"), "v4")
        course.kill(a)                     # docker kill: no shutdown at all
        self.assertIsNone(client.get_view(a.addr, timeout=2).status, "killed node must not answer")
        for n in (b, c):
            for i in range(5):
                self.assertEqual(self.ok(s.get(n.addr, "k%d" % i), 200).get("value"), "v%d" % i)
        self.ok(s.put(c.addr, "after", "kill"), 200)
        self.assertEqual(self.ok(s.get(b.addr, "after"), 200).get("value"), "kill")

    def test_causal_chain_connected_then_partitioned(self):
        a, b, c = self.cluster(3)
        # connected: a write at A read at B with its payload waits for it, never answers stale
        s = self.session()
        self.ok(s.put(a.addr, "x", "1"), 200)
        t0 = time.time()
        self.assertEqual(self.ok(s.get(b.addr, "x"), 200).get("value"), "1")
        self.assertLess(time.time() - t0, CAUSAL_WAIT_S + 1)
        # the chain X/Y over A/B (K=0 at A, K=1 at B, Y reads K=1 and writes L, X reads L then K at A)
        X, Y = self.session(), self.session()
        self.ok(X.put(a.addr, "K", "0"), 200)
        r = X.put(b.addr, "K", "1")
        self.assertIn(r.status, (200, 201), repr(r))   # 200 if B had not received K=0 yet
        self.assertEqual(self.ok(Y.get(b.addr, "K"), 200).get("value"), "1")
        self.ok(Y.put(b.addr, "L", "y"), 200)
        self.assertEqual(self.ok(X.get(b.addr, "L"), 200).get("value"), "y")
        self.assertEqual(self.ok(X.get(a.addr, "K"), 200).get("value"), "1", "connected: A catches up within the wait")

        # partitioned: A | B,C
        course.partition([a], [b, c])
        self.assertFalse(course.can_reach(a, b), "partition not in effect")
        self.assertTrue(course.can_reach(b, c))
        p = self.session()
        self.ok(p.put(a.addr, "y", "new"), 200)
        sent = client.decode_token(p.payload)
        t0 = time.time()
        r = p.get(b.addr, "y")
        took = time.time() - t0
        self.ok(r, 400)
        self.assertEqual((r.get("result"), r.msg), ("Error", "Payload out of date"))
        self.token(r)
        got = client.decode_token(r.payload)
        self.assertTrue(all(got.get(o, 0) >= n for o, n in sent.items()),
                        "the 400's payload is never smaller than the client's: %r < %r" % (got, sent))
        self.assertGreater(took, CAUSAL_WAIT_S * 0.8, "waits CAUSAL_WAIT_MS before giving up")
        self.assertTrue(self.ok(p.search(c.addr, "y"), 400).out_of_date)
        # both sides stay available for writes; chain under partition: K=1 at B is new there
        X, Y = self.session(), self.session()
        self.ok(X.put(a.addr, "PK", "0"), 200)
        self.assertEqual(self.ok(X.put(b.addr, "PK", "1"), 200).msg, "Added successfully", "B never saw PK=0")
        self.assertEqual(self.ok(Y.get(b.addr, "PK"), 200).get("value"), "1")
        self.ok(Y.put(b.addr, "PL", "y"), 200)
        self.assertEqual(self.ok(X.get(b.addr, "PL"), 200).get("value"), "y")
        r = X.get(a.addr, "PK")
        self.assertIsNotNone(r.status, r.error)
        if r.status == 200:
            self.assertEqual(r.get("value"), "1", "causal violation: PK=0 after reading PL that depends on PK=1")
        else:
            self.assertTrue(r.out_of_date, repr(r))
        course.heal([a, b, c])
        self.eventually(lambda: self.assertEqual(p.get(b.addr, "y").get("value"), "new"))
        self.eventually(lambda: self.assertEqual(X.get(a.addr, "PK").get("value"), "1"))


class CourseRaw(Course):
    STYLE = "raw"


class Lifecycle(DockerTest):
    def own_origin(self, node, session):
        """The origin of `node`: the entry of its own node id in the payload of a write made there."""
        r = session.put(node.addr, "origin-probe", "x")
        self.assertIn(r.status, (200, 201), repr(r))
        mine = [o for o in client.decode_token(r.payload) if o.startswith(node.ip_port + "#")]
        self.assertEqual(len(mine), 1, "one own origin in %r" % r.payload)
        return mine[0]

    def test_restart_keeps_data_and_health(self):
        a, b = self.cluster(2)
        s = self.session()
        for i in range(5):
            self.ok(s.put(a.addr, "d%d" % i, "v%d" % i), 200)
        # the node's origin, read from the payload of a write it made (admin answers only loopback and members)
        origin = self.own_origin(a, s)
        self.assertTrue(origin)
        course.docker("restart %s" % a.cid)
        time.sleep(course.START_WAIT_S)
        for i in range(5):   # from its own /data volume (B could supply it too, so check the origin)
            self.assertEqual(self.ok(Session(style=self.STYLE).get(a.addr, "d%d" % i), 200).get("value"), "v%d" % i)
            self.assertEqual(self.ok(s.get(a.addr, "d%d" % i), 200).get("value"), "v%d" % i)
        self.assertEqual(self.own_origin(a, Session(style=self.STYLE)), origin,
                         "same origin after restart: the data directory survived")
        r = self.ok(request("GET", a.addr, "/health"), 200)
        self.assertEqual(r.get("status"), "up")
        self.assertIs(self.ok(request("GET", a.addr, "/ready"), 200).get("ready"), True)

        def healthy():
            self.assertEqual(course.docker("inspect -f '{{.State.Health.Status}}' %s" % b.cid), "healthy")
        self.eventually(healthy, timeout=30)

    def test_stop_within_10s(self):
        (a,) = self.cluster(1)
        self.ok(self.session().put(a.addr, "k", "v"), 200)
        t0 = time.time()
        course.docker("stop %s" % a.cid, timeout=30)
        took = time.time() - t0
        code = course.docker("inspect -f '{{.State.ExitCode}}' %s" % a.cid)
        record("docker_stop_s", round(took, 2))
        self.assertLess(took, 10, "docker stop must not need its SIGKILL")
        self.assertEqual(code, "143", "the JVM ended on SIGTERM (128+15), not SIGKILL (137)")

    def test_dns_names(self):
        """VIEW and IP_PORT as DNS names (the Kubernetes shape): containers found by their names."""
        names = ["kv1", "kv2", "kv3"]
        view = ",".join("%s:8080" % n for n in names)
        self.nodes = [course.start_named(i, n, view) for i, n in enumerate(names)]
        time.sleep(course.START_WAIT_S)
        a, b, c = self.nodes
        s = self.session()
        self.ok(s.put(a.addr, "dns", "yes"), 200)
        self.assertEqual(self.ok(s.get(c.addr, "dns"), 200).get("value"), "yes")
        self.ok(s.put(b.addr, "dns2", "ok"), 200)
        self.assertEqual(self.ok(s.get(a.addr, "dns2"), 200).get("value"), "ok")
        for n in self.nodes:
            self.assertEqual(self.view_of(n), set("%s:8080" % x for x in names))
            self.assertIs(self.ok(request("GET", n.addr, "/ready"), 200).get("ready"), True)

    def test_startup_time(self):
        """`docker run` to the first answer on GET /view, a fresh container each time (median of 5)."""
        times = []
        for k in range(5):
            t0 = time.time()
            n = course.start(0, "%s:8080" % course.course_ip(0), wait=False)
            self.nodes = [n]
            while True:
                r = client.get_view(n.addr, timeout=1)
                if r.status == 200:
                    break
                self.assertLess(time.time() - t0, 30, "no answer within 30 s")
                time.sleep(0.01)
            times.append(time.time() - t0)
            course.kill_all()
        med = statistics.median(times)
        print("\n  start-up, docker run -> first GET /view answer: median %.2f s (runs: %s)" % (
            med, ", ".join("%.2f" % t for t in times)), flush=True)
        record("startup_s", {"median": round(med, 3), "runs": [round(t, 3) for t in times]})
        self.assertLess(max(times), course.START_WAIT_S, "the course sends requests %.0f s after starting" % course.START_WAIT_S)


if __name__ == "__main__":
    unittest.main()
