"""Unit tests of the checker on hand-made histories: it must flag each anomaly
kind, and must not flag legal histories (no real cluster needed)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.checker import Checker, check_final, differences, vc_of_payload  # noqa: E402


class H:
    """Builds a history: each call appends one op of a session at increasing times."""

    def __init__(self):
        self.ops, self.t, self.idx = [], 0.0, {}

    def op(self, sess, type, key, val=None, status=200, value=None, exists=None, msg=None, payload_out=None, node="n1"):
        i = self.idx.get(sess, 0)
        self.idx[sess] = i + 1
        self.t += 1
        o = {"id": len(self.ops), "sess": sess, "idx": i, "type": type, "key": key, "val": val, "status": status,
             "value": value, "exists": exists, "msg": msg, "start": self.t, "end": self.t + 0.5, "node": node,
             "payload_out": payload_out, "error": None if status else "timeout"}
        self.ops.append(o)
        return o

    def check(self):
        c = Checker(self.ops, sorted(self.idx))
        return c.check_reads()


class ReadChecks(unittest.TestCase):
    def kinds(self, h):
        return [a["kind"] for a in h.check()]

    def test_read_your_writes_violation(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "put", "k", "v2", status=201)
        h.op("a", "get", "k", value="v1")
        self.assertEqual(self.kinds(h), ["stale read: read-your-writes"])

    def test_legal_own_read(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "put", "k", "v2", status=201)
        h.op("a", "get", "k", value="v2")
        self.assertEqual(self.kinds(h), [])

    def test_concurrent_writes_either_may_be_read(self):
        h = H()
        h.op("a", "put", "k", "va")
        h.op("b", "put", "k", "vb")
        h.op("a", "get", "k", value="vb")
        h.op("b", "get", "k", value="vb")
        self.assertEqual(self.kinds(h), [])

    def test_monotonic_reads_violation(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "put", "k", "v2", status=201)
        h.op("b", "get", "k", value="v2")
        h.op("b", "get", "k", value="v1")
        self.assertEqual(self.kinds(h), ["stale read: monotonic-reads"])

    def test_writes_follow_reads_violation(self):
        # a writes x then y; b reads y (so x is in b's past), writes z; c reads z, then reads x's key: old value is stale
        h = H()
        h.op("a", "put", "x", "x0")
        h.op("a", "put", "x", "x1", status=201)
        h.op("a", "put", "y", "y1")
        h.op("b", "get", "y", value="y1")
        h.op("b", "put", "z", "z1")
        h.op("c", "get", "z", value="z1")
        h.op("c", "get", "x", value="x0")
        self.assertEqual(self.kinds(h), ["stale read: causal (writes-follow-reads/transitive)"])

    def test_hidden_write_404(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "get", "k", status=404, msg="Key does not exist")
        self.assertEqual(self.kinds(h), ["hidden write: read-your-writes"])

    def test_404_after_own_delete_is_fine_and_concurrent_delete_may_hide(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("b", "del", "k")                 # concurrent with v1: may win by timestamp
        h.op("a", "get", "k", status=404, msg="Key does not exist")
        h.op("a", "search", "k", exists=False)
        self.assertEqual(self.kinds(h), [])

    def test_delete_in_past_then_404_and_later_put(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "del", "k")
        h.op("a", "get", "k", status=404, msg="Key does not exist")
        h.op("a", "search", "k", exists=True)   # only put v1 exists and it is before the delete
        self.assertEqual(self.kinds(h), ["ghost exists: read-your-writes"])

    def test_delete_issued_after_read_cannot_hide(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "get", "k", status=404, msg="Key does not exist")
        h.op("b", "del", "k")                 # invoked after the read completed
        self.assertEqual(self.kinds(h), ["hidden write: read-your-writes"])

    def test_phantoms(self):
        h = H()
        h.op("a", "get", "k", value="nobody")
        h.op("a", "put", "j", "vj")
        h.op("b", "get", "k", value="vj")
        self.assertEqual(self.kinds(h), ["phantom", "phantom"])

    def test_out_of_date_and_timeouts_are_not_reads(self):
        h = H()
        h.op("a", "put", "k", "v1")
        h.op("a", "put", "k", "v2", status=None)  # timed out: not in a's context
        h.op("a", "get", "k", status=400, msg="Payload out of date")
        h.op("a", "get", "k", value="v1")
        self.assertEqual(self.kinds(h), [])

    def test_unanswered_write_read_by_other_carries_its_past(self):
        h = H()
        h.op("a", "put", "k", "k1")
        h.op("a", "put", "j", "j1", status=None)   # timed out, but happened
        h.op("b", "get", "j", value="j1")
        h.op("a", "put", "k", "k2", status=201)    # not in j1's past
        h.op("b", "get", "k", value="k1")          # legal: k2 is not in b's past
        h.op("c", "get", "j", value="j1")
        self.assertEqual(self.kinds(h), [])


class FinalChecks(unittest.TestCase):
    def test_vc_of_payload_shapes(self):
        self.assertEqual(vc_of_payload({"vc": {"a": 1}, "mac": "x"}), {"a": 1})
        self.assertEqual(vc_of_payload({"a": 1, "b": 2, "sig": "zz"}), {"a": 1, "b": 2})
        self.assertEqual(vc_of_payload('{"clock": {"a": 3}}'), {"a": 3})
        self.assertEqual(vc_of_payload({}), {})
        self.assertIsNone(vc_of_payload([1]))
        from harness.client import seal_token
        self.assertEqual(vc_of_payload(seal_token({"o1": 3, "o2": 1})), {"o1": 3, "o2": 1})

    def state(self, sibs, visible):
        return {"keys": {"k": {"visible": visible, "siblings": sibs}}}

    def test_differences(self):
        s1 = self.state([{"origin": "o1", "seq": 1, "ts": 5, "tombstone": False, "value": "v"}], "v")
        s2 = self.state([{"origin": "o1", "seq": 1, "ts": 5, "tombstone": False, "value": "w"}], "w")
        tomb = self.state([{"origin": "o1", "seq": 2, "ts": 6, "tombstone": True, "value": None}], None)
        self.assertEqual(differences({"a": s1, "b": s1}), {})
        self.assertIn("k", differences({"a": s1, "b": s2}))
        self.assertEqual(differences({"a": tomb, "b": {"keys": {}}}), {})

    def test_lost_write_and_dominated_write(self):
        h = H()
        w1 = h.op("a", "put", "k", "v1", payload_out={"vc": {"o1": 1}}, node="n1")
        w2 = h.op("b", "put", "k", "v2", payload_out={"vc": {"o1": 1, "o2": 1}}, node="n2")
        w3 = h.op("c", "put", "k", "v3", payload_out={"vc": {"o3": 1}}, node="n3")
        Checker(h.ops, ["a", "b", "c"])  # classifies outcomes
        origin = {"n1": "o1", "n2": "o2", "n3": "o3"}
        final = {"x": self.state([{"origin": "o2", "seq": 1, "ts": 9, "tombstone": False, "value": "v2"}], "v2")}
        anomalies, unverified, _ = check_final(h.ops, final, lambda o: origin[o["node"]])
        self.assertEqual([a["kind"] for a in anomalies], ["lost write"])      # v3 concurrent, gone
        self.assertEqual(anomalies[0]["op"]["val"], "v3")
        self.assertEqual(unverified, [])
        self.assertTrue(w1 and w2 and w3)

    def test_collected_tombstone_supersedes_and_resurrection_is_flagged(self):
        h = H()
        h.op("a", "put", "k", "v1", payload_out={"vc": {"o1": 1}}, node="n1")
        h.op("a", "del", "k", payload_out={"vc": {"o1": 2}}, node="n1")
        Checker(h.ops, ["a"])
        origin = {"n1": "o1"}
        gone = {"x": {"keys": {}}, "y": {"keys": {"k": {"visible": None, "siblings": [
            {"origin": "o1", "seq": 2, "ts": 9, "tombstone": True, "value": None, "vc": {"o1": 2}}]}}}}
        self.assertEqual(check_final(h.ops, gone, lambda o: origin[o["node"]])[:2], ([], []))
        collected_everywhere = {"x": {"keys": {}}}
        self.assertEqual(check_final(h.ops, collected_everywhere, lambda o: origin[o["node"]])[:2], ([], []))
        back = {"x": self.state([{"origin": "o1", "seq": 1, "ts": 5, "tombstone": False, "value": "v1", "vc": {"o1": 1}}], "v1")}
        a, _, _ = check_final(h.ops, back, lambda o: origin[o["node"]])
        self.assertIn("resurrected", [x["kind"] for x in a])

    def test_visible_rule(self):
        sibs = [{"origin": "o1", "seq": 1, "ts": 5, "tombstone": False, "value": "a"},
                {"origin": "o2", "seq": 1, "ts": 7, "tombstone": False, "value": "b"}]
        a, _, _ = check_final([], {"x": self.state(sibs, "a")}, lambda o: None)
        self.assertEqual([x["kind"] for x in a], ["visible rule"])
        a, _, _ = check_final([], {"x": self.state(sibs, "b")}, lambda o: None)
        self.assertEqual(a, [])


if __name__ == "__main__":
    unittest.main()
