"""Course-style scenarios (issue 2's list), each on a fresh cluster of real node
processes in network namespaces, through the published localhost ports."""
import time
import unittest

import json

from base import CAUSAL_WAIT_S, ClusterTest, client, payload_json, request
from harness.checker import vc_of_payload
from harness.client import TOKEN_RE, kv_path, legacy_payload, make_token, seal_token, token_body, token_key_id, token_parts


class BasicOps(ClusterTest):
    NODES = 1

    def test_add_update_get_search_delete_on_one_node(self):
        s, n = self.session(), self.a("n1")
        r = self.assertJson(s.put(n, "color", "red"), 200)
        self.assertIs(r.get("replaced"), False)
        self.assertEqual(r.msg, "Added successfully")
        self.assertPayload(r)
        r = self.assertJson(s.put(n, "color", "blue"), 201)
        self.assertIs(r.get("replaced"), True)
        self.assertEqual(r.msg, "Updated successfully")
        r = self.assertJson(s.get(n, "color"), 200)
        self.assertEqual((r.get("result"), r.get("value")), ("Success", "blue"))
        self.assertPayload(r)
        r = self.assertJson(s.search(n, "color"), 200)
        self.assertEqual((r.get("isExists"), r.get("result")), (True, "Success"))
        r = self.assertJson(s.delete(n, "color"), 200)
        self.assertEqual((r.get("result"), r.msg), ("Success", "Key deleted"))
        r = self.assertJson(s.get(n, "color"), 404)
        self.assertEqual((r.get("result"), r.msg), ("Error", "Key does not exist"))
        self.assertPayload(r)
        r = self.assertJson(s.delete(n, "color"), 404)
        self.assertEqual((r.get("result"), r.msg), ("Error", "Key does not exist"))
        r = self.assertJson(s.search(n, "color"), 200)
        self.assertEqual((r.get("isExists"), r.get("result")), (False, "Success"))
        # a deleted key comes back as "Added"
        r = self.assertJson(s.put(n, "color", "green"), 200)
        self.assertIs(r.get("replaced"), False)

    def test_missing_keys_and_query_string_params(self):
        fresh, n = self.session(), self.a("n1")
        self.assertEqual(self.assertJson(fresh.get(n, "nope"), 404).msg, "Key does not exist")
        self.assertEqual(self.assertJson(fresh.delete(n, "nope"), 404).msg, "Key does not exist")
        self.assertIs(self.assertJson(fresh.search(n, "nope"), 200).get("isExists"), False)
        r = self.assertJson(request("PUT", n, kv_path("q"), {"val": "inquery"}, in_query=True), 200)
        r = self.assertJson(request("GET", n, kv_path("q"), {"payload": payload_json(r.payload)}, in_query=True), 200)
        self.assertEqual(r.get("value"), "inquery")


class Replication(ClusterTest):
    def test_write_on_one_node_read_on_another(self):
        s = self.session()
        self.assertJson(s.put(self.a("n1"), "x", "1"), 200)
        t0 = time.time()
        r = self.assertJson(s.get(self.a("n2"), "x"), 200)   # with the payload: waits, does not fail
        self.assertEqual(r.get("value"), "1")
        self.assertLess(time.time() - t0, CAUSAL_WAIT_S + 1.0)
        self.eventually(lambda: self.assertEqual(self.session().get(self.a("n3"), "x").get("value"), "1"))
        self.assertJson(s.delete(self.a("n1"), "x"), 200)
        self.assertJson(s.get(self.a("n2"), "x"), 404)
        self.assertIs(self.assertJson(s.search(self.a("n3"), "x"), 200).get("isExists"), False)
        self.eventually(lambda: self.assertEqual(self.session().get(self.a("n3"), "x").status, 404))

    def test_get_view(self):
        want = set(n.ip_port for n in self.c.nodes)
        for n in self.c.nodes:
            self.assertEqual(self.view_set(n.name), want)

    def test_kill_one_node_others_serve_everything_replicated(self):
        s = self.session()
        for i in range(5):
            self.assertJson(s.put(self.a("n1"), "k%d" % i, "v%d" % i), 200)
        for i in range(5):  # replicated to n2 (the read waits for it)
            self.assertEqual(self.assertJson(s.get(self.a("n2"), "k%d" % i), 200).get("value"), "v%d" % i)
        self.c.kill("n1")
        self.assertIsNone(client.get_view(self.a("n1"), timeout=2).status, "n1 should be dead")
        for node in ("n2", "n3"):
            for i in range(5):
                r = self.assertJson(s.get(self.a(node), "k%d" % i), 200)
                self.assertEqual(r.get("value"), "v%d" % i)
        self.assertJson(s.put(self.a("n3"), "after", "kill"), 200)
        self.assertEqual(self.assertJson(s.get(self.a("n2"), "after"), 200).get("value"), "kill")


class CausalChain(ClusterTest):
    def chain(self, partitioned):
        A, B = self.a("n1"), self.a("n2")
        X, Y = self.session(), self.session()
        if partitioned:
            self.c.partition([["n1"], ["n2", "n3"]])
            self.assertFalse(self.can_connect("n1", "n2"), "partition not in effect")
        self.assertJson(X.put(A, "K", "0"), 200)
        self.assertEqual(self.assertJson(X.get(A, "K"), 200).get("value"), "0")
        r = self.assertJson(X.put(B, "K", "1"))
        self.assertIn(r.status, (200, 201))
        if partitioned:
            self.assertEqual(r.status, 200, "under partition B never saw K=0: Added")
            self.assertEqual(r.msg, "Added successfully")
        self.assertEqual(self.assertJson(Y.get(B, "K"), 200).get("value"), "1")
        self.assertJson(Y.put(B, "L", "from-Y"), 200)
        self.assertEqual(self.assertJson(X.get(B, "L"), 200).get("value"), "from-Y")
        r = X.get(A, "K")
        self.assertIsNotNone(r.status, r.error)
        if r.status == 200:
            self.assertEqual(r.get("value"), "1", "causal violation: K=0 after reading L that depends on K=1")
        else:
            self.assertTrue(r.out_of_date, "expected 200 K=1 or 400 Payload out of date, got %r" % r)
            self.assertPayload(r)
        return X, r

    def test_causal_chain(self):
        X, r = self.chain(partitioned=False)
        self.assertEqual(r.status, 200, "connected cluster: A must catch up within CAUSAL_WAIT_MS: %r" % r)

    def test_causal_chain_under_partition(self):
        X, r = self.chain(partitioned=True)
        self.c.heal()
        self.eventually(lambda: self.assertEqual(X.get(self.a("n1"), "K").get("value"), "1"))


class Membership(ClusterTest):
    def test_add_node(self):
        s = self.session()
        for i in range(3):
            self.assertJson(s.put(self.a("n%d" % (i + 1)), "old%d" % i, "o%d" % i), 200)
        new = self.c.add(join=False)   # started with VIEW = old members + itself
        r = self.assertJson(client.put_view(self.a("n1"), new.ip_port), 200)
        self.assertEqual(r.get("result"), "Success")
        self.assertIn(r.msg, ("Successfully added%s to view" % new.ip_port, "Successfully added %s to view" % new.ip_port))
        want = set(n.ip_port for n in self.c.nodes)
        for n in self.c.nodes:   # immediately after the call
            self.assertEqual(self.view_set(n.name), want, "view of %s" % n.name)
        for i in range(3):       # old keys served by the new node
            self.assertEqual(self.assertJson(s.get(self.a(new.name), "old%d" % i), 200).get("value"), "o%d" % i)
        self.assertJson(s.put(self.a("n2"), "new1", "a"), 200)    # new writes reach it
        self.assertEqual(self.assertJson(s.get(self.a(new.name), "new1"), 200).get("value"), "a")
        self.assertJson(s.put(self.a(new.name), "fromnew", "b"), 200)   # its writes reach the others
        for n in ("n1", "n2", "n3"):
            self.assertEqual(self.assertJson(s.get(self.a(n), "fromnew"), 200).get("value"), "b")
        self.eventually(lambda: self.assertEqual(self.session().get(self.a("n3"), "fromnew").get("value"), "b"))
        r = self.assertJson(client.put_view(self.a("n2"), new.ip_port), 404)
        self.assertEqual((r.get("result"), r.msg), ("Error", "%s is already in view" % new.ip_port))
        absent = "%s.99:8080" % self.c.subnet
        r = self.assertJson(client.delete_view(self.a("n2"), absent), 404)
        self.assertEqual((r.get("result"), r.msg), ("Error", "%s is not in current view" % absent))

    def test_remove_node(self):
        s = self.session()
        self.assertJson(s.put(self.a("n3"), "onN", "v"), 200)
        r = self.assertJson(client.delete_view(self.a("n1"), self.ipp("n3")), 200)
        self.assertEqual((r.get("result"), r.msg), ("Success", "Successfully removed %s from view" % self.ipp("n3")))
        r = self.assertJson(s.get(self.a("n1"), "onN"), 200)     # served at once (drained before removal)
        self.assertEqual(r.get("value"), "v")
        for n in ("n1", "n2"):
            self.assertEqual(self.view_set(n), {self.ipp("n1"), self.ipp("n2")})
        t = self.session()
        self.assertJson(t.put(self.a("n1"), "later", "w"), 200)
        self.assertEqual(self.assertJson(t.get(self.a("n2"), "later"), 200).get("value"), "w")
        time.sleep(1.5)
        # the removed node serves reads alone: a client that saw "later" is told it is out of date there
        r = self.assertJson(t.search(self.a("n3"), "later"), 400)
        self.assertEqual(r.msg, "Payload out of date")
        r = self.assertJson(self.session().search(self.a("n3"), "later"), 200)
        self.assertIs(r.get("isExists"), False, "removed node must not receive new writes: %r" % r)
        self.assertNotIn("later", self.admin("n3").get("keys", {}))
        # and it takes no writes (they would never reach the members): 503, nothing written
        self.assertJson(self.session().put(self.a("n3"), "standalone", "x"), 503)
        self.assertJson(self.session().get(self.a("n1"), "standalone"), 404)


class PayloadIntegrity(ClusterTest):
    def test_tampered_payload_is_refused_and_nothing_written(self):
        s = self.session()
        self.assertJson(s.put(self.a("n1"), "a", "1"), 200)
        self.assertJson(s.put(self.a("n2"), "b", "2"), 200)
        vc = vc_of_payload(s.payload)
        self.assertTrue(vc and len(vc) >= 2, "cannot find a vector clock with 2 entries in %r" % s.payload)
        _, seal = token_parts(s.payload)
        kid = token_key_id(s.payload)
        first = sorted(vc)[0]
        removed = {k: v for k, v in vc.items() if k != first}
        changed = dict(vc, **{first: vc[first] + 5})
        # the clock edited under the seal it came with (same key id); re-sealed with the key that used
        # to be public (a version-1 token, and under the node's key id); the old object form
        bads = [make_token(token_body(removed, kid), seal), make_token(token_body(changed, kid), seal),
                seal_token(changed), seal_token(changed, key_id=kid),
                payload_json(legacy_payload(vc)), payload_json(dict(legacy_payload(vc), vc=changed))]
        for bad in bads:
            r = self.assertJson(request("PUT", self.a("n3"), kv_path("t"), {"val": "x", "payload": bad}), 400)
            self.assertEqual(r.msg, "Payload is not valid")
            r = self.assertJson(request("GET", self.a("n3"), kv_path("a"), {"payload": bad}), 400)
            self.assertEqual(r.msg, "Payload is not valid")
        time.sleep(0.5)
        for n in ("n1", "n2", "n3"):
            self.assertEqual(self.session().get(self.a(n), "t").status, 404, "refused write must not be stored")
        self.assertEqual(self.assertJson(s.get(self.a("n3"), "b"), 200).get("value"), "2")

    def test_old_object_form_both_styles(self):
        """A payload in the old object form, whose seal could be forged: refused as json.dumps(payload)
        with a detail saying so; sent raw, Python requests turns the dict into payload=vc&payload=sig,
        refused with a hint; never read as empty."""
        w = self.session()
        self.assertJson(w.put(self.a("n1"), "o", "1"), 200)
        old = legacy_payload(vc_of_payload(w.payload))
        r = self.assertJson(request("GET", self.a("n2"), kv_path("o"), {"payload": json.dumps(old)}), 400)
        self.assertEqual(r.msg, "Payload is not valid")
        self.assertIn("no longer accepted", r.get("detail", ""))
        self.assertRegex(r.payload, TOKEN_RE, "answers hand out the token")
        r = self.assertJson(request("GET", self.a("n2"), kv_path("o"), {"payload": old}), 400)
        self.assertEqual(r.msg, "Payload is not valid")
        self.assertIn("send the payload as one string", r.get("detail", ""))


class ClusterToken(ClusterTest):
    TOKEN = "harness-s3cret"

    def test_token_guards_admin_and_internal_but_replication_works(self):
        s = self.session()
        self.assertJson(s.put(self.a("n1"), "t", "1"), 200)
        self.assertEqual(self.assertJson(s.get(self.a("n3"), "t"), 200).get("value"), "1")
        r = request("GET", self.a("n1"), "/admin/state")
        self.assertIn(r.status, (401, 403), "admin without token: %r" % r)
        r = request("GET", self.a("n1"), "/admin/state", headers={"X-Cluster-Token": "wrong"})
        self.assertIn(r.status, (401, 403), "admin with a wrong token: %r" % r)
        self.assertEqual(request("GET", self.a("n1"), "/admin/state", headers={"X-Cluster-Token": self.TOKEN}).status, 200)
        body = '{"from":"%s","applied":{}}' % self.ipp("n2")
        r = request("POST", self.a("n1"), "/internal/pull", raw_body=body.encode(), headers={"Content-Type": "application/json"})
        self.assertIn(r.status, (401, 403), "internal pull without token: %r" % r)
        self.assertNotIn(b'"t"', r.raw)
        r = request("POST", self.a("n1"), "/internal/pull", raw_body=b'{"from":"10.1.2.3:8080","applied":{}}',
                    headers={"Content-Type": "application/json", "X-Cluster-Token": self.TOKEN})
        self.assertEqual(r.status, 403, "internal pull from a non-member: %r" % r)
        self.assertNotIn(b'"1"', r.raw)
        r = request("POST", self.a("n1"), "/internal/pull", raw_body=b'garbage',
                    headers={"Content-Type": "application/json", "X-Cluster-Token": self.TOKEN})
        self.assertJson(r)
        self.assertTrue(400 <= r.status < 500, "malformed internal message: %r" % r)
        self.assertEqual(self.assertJson(s.get(self.a("n2"), "t"), 200).get("value"), "1")


class BadInput(ClusterTest):
    NODES = 2

    def test_bad_input_gets_json_4xx_and_node_keeps_serving(self):
        n = self.a("n1")
        s = self.session()
        self.assertJson(s.put(n, "keep", "safe"), 200)

        def bad(r, msg=None, statuses=range(400, 500)):
            self.assertJson(r)
            self.assertIn(r.status, statuses, repr(r))
            if msg:
                self.assertEqual(r.msg, msg)

        bad(request("GET", n, kv_path("keep"), {"payload": "{not json"}))
        bad(request("GET", n, kv_path("keep"), {"payload": "[1,2]"}))
        bad(request("PUT", n, kv_path("big"), {"val": "x" * (1024 * 1024 + 1)}), "Object too large. Size limit is 1MB")
        bad(request("PUT", n, kv_path("k" * 201), {"val": "v"}), "Key not valid")
        bad(request("PUT", n, "/keyValue-store/", {"val": "v"}))
        bad(request("PUT", n, kv_path("noval"), {}), "Value is missing")
        bad(request("GET", n, "/no/such/path", None), statuses=(404,))
        bad(request("PATCH", n, kv_path("keep"), {"val": "v"}), statuses=(405,))
        bad(request("PUT", n, "/view", {"ip_port": "garbage"}))
        bad(request("PUT", n, "/view", {}))
        bad(request("DELETE", n, "/view", {"ip_port": "1.2.3.4:notaport"}))
        ok = self.assertJson(request("PUT", n, kv_path("k" * 200), {"val": "v"}), 200)   # 200 chars is fine
        self.assertPayload(ok)
        self.assertEqual(self.assertJson(s.get(n, "keep"), 200).get("value"), "safe")
        self.assertEqual(self.assertJson(s.get(self.a("n2"), "keep"), 200).get("value"), "safe")
        self.assertEqual(self.view_set("n1"), {self.ipp("n1"), self.ipp("n2")})
        self.assertEqual(self.session().get(n, "big").status, 404)


# The same course scenarios with the payload sent as handed out (data={'payload': payload}).
class BasicOpsRaw(BasicOps):
    STYLE = "raw"


class ReplicationRaw(Replication):
    STYLE = "raw"


class CausalChainRaw(CausalChain):
    STYLE = "raw"


class MembershipRaw(Membership):
    STYLE = "raw"


if __name__ == "__main__":
    unittest.main()
