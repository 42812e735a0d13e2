"""Checker for a recorded history of client sessions against the store.

Inputs: the operations (one dict per request, see fuzz.py `Op`), and the final
/admin/state of every node after healing.  Outputs a report with the anomalies,
each naming the operations involved.

Happens-before (hb) is built from what clients can observe, so every edge is
certain and every anomaly reported is real (the check is sound, not complete):
  * session order: a session echoes the payload of every answer it got, so an
    operation it got an answer for is in the causal past of all its later ones;
  * reads-from: values are unique, so a read returning v names the one write
    w_v; the reader's context then includes w_v and everything before w_v.
The causal past of a write, and a session's context, is represented as
(vc, extra): vc[s] = i means "every ANSWERED write of session s with index <= i"
(answered writes of one session are a chain), extra = ids of unanswered writes
(timeouts: they may have happened) that were observed through a read.

Read checks (a read r of key K issued with session context C):
  stale read     r returns w_v but some write w' to K in C has w_v hb w'
  hidden write   r says "not found" (404 / isExists false) but some put w' to K
                 is in C and every delete of K invoked before r completed is in
                 the causal past of w' (so no tombstone could legally hide w')
  ghost exists   search says isExists true but some delete d of K is in C and
                 every put of K invoked before r completed is in d's past
  phantom        r returns a value nobody wrote, a value of another key, a value
                 of a write that was refused, or one written after r completed.
They are labelled read-your-writes (w' is the session's own write),
monotonic-reads (the session had read w' itself), or causal (w' reached the
context through another session: writes-follow-reads / transitivity).

Final-state checks (after heal, from /admin/state):
  convergence    every node has the same visible value and siblings per key
                 (keys whose versions are all tombstones count as absent);
  visible rule   the visible version is the sibling with max (ts, origin, seq);
  lost write     an acknowledged write neither among the siblings nor dominated
                 by one.  Dominance needs vector clocks: the write's dot is
                 (origin of the node that acknowledged it, its vc[origin]), its vc
                 is the payload of the answer (vc_of_payload), and sibling vcs come
                 from /admin/state if it lists them, else from the answers to the
                 writes that made them.  When a write's fate cannot be decided
                 this way it is reported as "unverified", never silently passed.
"""
import bisect
from collections import defaultdict

WRITE_TYPES = ("put", "del")


def vc_of_payload(payload):
    """The vector clock inside an (opaque) payload, if its shape is recognisable:
    causalkv's token (base64url body "." seal), {"vc": {origin: n}}, {"clock": {...}},
    any dict field of ints, or a flat {origin: n, ...} object (non-int fields such as
    a MAC ignored)."""
    if isinstance(payload, str):
        import json
        from .client import TOKEN_RE, decode_token
        if TOKEN_RE.match(payload):
            return decode_token(payload)
        try:
            payload = json.loads(payload)
        except ValueError:
            return None
    if not isinstance(payload, dict):
        return None

    def intmap(d):
        return isinstance(d, dict) and all(isinstance(v, int) and not isinstance(v, bool) for v in d.values())

    for k in ("vc", "clock", "vector", "causal", "v"):
        if intmap(payload.get(k)):
            return dict(payload[k])
    for v in payload.values():
        if isinstance(v, dict) and v and intmap(v):
            return dict(v)
    flat = {k: v for k, v in payload.items() if isinstance(v, int) and not isinstance(v, bool)}
    if flat and len(flat) == len([v for v in payload.values() if not isinstance(v, str)]):
        return flat
    if not payload:
        return {}
    return None


class Ctx:
    """A causal context: (vc over sessions, extra unanswered-write ids)."""
    __slots__ = ("vc", "extra")

    def __init__(self, vc=None, extra=frozenset()):
        self.vc = dict(vc or {})
        self.extra = frozenset(extra)

    def copy(self):
        return Ctx(self.vc, self.extra)

    def merge(self, other):
        for s, i in other.vc.items():
            if self.vc.get(s, -1) < i:
                self.vc[s] = i
        if other.extra:
            self.extra = self.extra | other.extra


def classify(op):
    """Outcome of one op: ok | notfound | ood | fail (definitely not done) | info (unknown)."""
    st = op.get("status")
    if st is None:
        err = op.get("error") or ""
        return "fail" if "ConnectionRefused" in err or "No route" in err else "info"
    if st in (200, 201):
        return "ok"
    if st == 404:
        return "notfound"
    if st == 400 and op.get("msg") == "Payload out of date":
        return "ood"
    if st >= 500:
        return "info"
    return "fail"


class Checker:
    def __init__(self, ops, sessions):
        self.ops = sorted(ops, key=lambda o: o["id"])
        self.by_id = {o["id"]: o for o in self.ops}
        self.sessions = sessions
        self.anomalies = []
        for o in self.ops:
            o["outcome"] = classify(o)
        # writes: put (any outcome but definite fail could have happened) / del (not 404)
        self.write_by_value = {}
        self.acked_writes = defaultdict(list)    # (sess, key) -> sorted idx of answered writes
        self.acked_kind = {}                       # (sess, key, idx) -> op
        self.possible_dels = defaultdict(list)     # key -> del ops that may have written a tombstone
        self.possible_puts = defaultdict(list)
        for o in self.ops:
            if o["type"] == "put":
                if o["val"] in self.write_by_value:
                    raise ValueError("values must be unique: %r" % o["val"])
                self.write_by_value[o["val"]] = o
                if o["outcome"] != "fail":
                    self.possible_puts[o["key"]].append(o)
            if o["type"] == "del" and o["outcome"] not in ("fail", "notfound"):
                self.possible_dels[o["key"]].append(o)
            if self.is_write(o) and o["outcome"] == "ok":
                self.acked_writes[(o["sess"], o["key"])].append(o["idx"])
                self.acked_kind[(o["sess"], o["key"], o["idx"])] = o
        for v in self.acked_writes.values():
            v.sort()

    @staticmethod
    def is_write(o):
        return o["type"] == "put" or (o["type"] == "del" and o["outcome"] != "notfound")

    def in_ctx(self, w, ctx):
        if w["outcome"] == "ok":
            return ctx.vc.get(w["sess"], -1) >= w["idx"]
        return w["id"] in ctx.extra

    def past_incl(self, w):
        c = w["past"].copy()
        if w["outcome"] == "ok":
            if c.vc.get(w["sess"], -1) < w["idx"]:
                c.vc[w["sess"]] = w["idx"]
        else:
            c.extra = c.extra | {w["id"]}
        return c

    def hb(self, a, b):
        """a happened-before b (a is in b's causal past)."""
        return a is not b and self.in_ctx(a, b["past"])

    def frontier(self, key, ctx):
        """The writes to key in ctx that are not below another of the same session."""
        out = []
        for s, i in ctx.vc.items():
            idxs = self.acked_writes.get((s, key))
            if not idxs:
                continue
            j = bisect.bisect_right(idxs, i)
            if j:
                out.append(self.acked_kind[(s, key, idxs[j - 1])])
        for wid in ctx.extra:
            w = self.by_id[wid]
            if w["key"] == key and self.is_write(w):
                out.append(w)
        return out

    def _label(self, r, w):
        if w["sess"] == r["sess"] and w["outcome"] == "ok":
            return "read-your-writes"
        if w["id"] in self.read_by_session[r["sess"]]:
            return "monotonic-reads"
        return "causal (writes-follow-reads/transitive)"

    def _anomaly(self, kind, r, msg, others=()):
        self.anomalies.append({"kind": kind, "op": brief(r), "msg": msg, "related": [brief(o) for o in others]})

    def check_reads(self):
        """Replay every session in order, rebuilding contexts, and check each read."""
        self.read_by_session = defaultdict(set)
        dels_cache = {}
        puts_cache = {}

        # A tombstone can hide put w' from read r only if it is not in w's past
        # and was invoked before r completed: t_first_hider(w') is the earliest
        # invocation among deletes of the key that are not in past(w').
        def first_hider(w):
            if w["id"] not in dels_cache:
                ts = [d["start"] for d in self.possible_dels[w["key"]] if not self.hb(d, w)]
                dels_cache[w["id"]] = min(ts) if ts else float("inf")
            return dels_cache[w["id"]]

        def first_reviver(d):
            if d["id"] not in puts_cache:
                ts = [p["start"] for p in self.possible_puts[d["key"]] if p is not d and not self.hb(p, d)]
                puts_cache[d["id"]] = min(ts) if ts else float("inf")
            return puts_cache[d["id"]]

        per_session = defaultdict(list)
        for o in self.ops:
            per_session[o["sess"]].append(o)
        for sops in per_session.values():
            sops.sort(key=lambda o: o["idx"])
        ctx = {s: Ctx() for s in per_session}
        # A write's past is its session's context when it was invoked, and a read's
        # context grows by the past of the write it read from; so sessions are
        # replayed in order, each pausing at a read whose writer (another session)
        # has not reached that write yet, until nothing moves.
        done = set()
        pending = {s: list(sops) for s, sops in per_session.items()}
        pos = {s: 0 for s in per_session}
        progress = True
        while progress:
            progress = False
            for s in per_session:
                sops = pending[s]
                while pos[s] < len(sops):
                    o = sops[pos[s]]
                    c = ctx[s]
                    src = None
                    if o["type"] == "get" and o["outcome"] == "ok":
                        src = self.write_by_value.get(o.get("value"))
                        if src is not None and src["id"] not in done and src["sess"] != s:
                            break  # wait until the writer's past is known
                    o["past"] = c.copy()
                    done.add(o["id"])
                    self._check_one(o, c, src, first_hider, first_reviver)
                    if o["status"] is not None:
                        c.vc[s] = o["idx"]
                    if src is not None and src["id"] in done:
                        c.merge(self.past_incl(src))
                        self.read_by_session[s].add(src["id"])
                    pos[s] += 1
                    progress = True
        stuck = [pending[s][pos[s]] for s in per_session if pos[s] < len(pending[s])]
        for o in stuck:
            self._anomaly("cyclic reads-from", o, "reads-from cycle across sessions (a value read before it could be known)")
        return self.anomalies

    def _check_one(self, r, c, src, first_hider, first_reviver):
        t, key, out = r["type"], r["key"], r["outcome"]
        if t == "get" and out == "ok":
            v = r.get("value")
            w = src
            if w is None:
                return self._anomaly("phantom", r, "value %r was never written" % (v,))
            if w["key"] != key:
                return self._anomaly("phantom", r, "value %r belongs to key %r" % (v, w["key"]), [w])
            if w["outcome"] == "fail":
                return self._anomaly("phantom", r, "value of a write that was refused", [w])
            if w["start"] > r["end"]:
                return self._anomaly("phantom", r, "value written after the read completed", [w])
            for w2 in self.frontier(key, c):
                if w2 is not w and self.hb(w, w2):
                    self._anomaly("stale read: " + self._label(r, w2), r,
                                  "returned %r but the session's causal past holds a later write of %s" % (v, key), [w, w2])
                    break
        elif (t == "get" and out == "notfound") or (t == "search" and out == "ok" and r.get("exists") is False):
            for w2 in self.frontier(key, c):
                if w2["type"] == "put" and first_hider(w2) >= r["end"]:
                    self._anomaly("hidden write: " + self._label(r, w2), r,
                                  "answered not-found but the session's causal past holds put %r and no delete can hide it" % (w2["val"],), [w2])
                    break
        elif t == "search" and out == "ok" and r.get("exists") is True:
            if not any(p["start"] <= r["end"] for p in self.possible_puts[key]):
                return self._anomaly("phantom", r, "isExists true for a key never written")
            for d in self.frontier(key, c):
                if d["type"] == "del" and first_reviver(d) >= r["end"]:
                    self._anomaly("ghost exists: " + self._label(r, d), r,
                                  "isExists true but the session's causal past holds a delete after every put", [d])
                    break


def brief(o):
    keys = ("id", "sess", "idx", "type", "key", "val", "node", "status", "msg", "value", "exists", "error", "outcome")
    b = {k: o.get(k) for k in keys if o.get(k) is not None}
    b["t"] = round(o.get("start", 0), 3)
    return b


# ---------------------------------------------------------------------- final state
def normalise_keys(state):
    """{key: (visible, frozenset of sibling tuples)} without all-tombstone keys."""
    out = {}
    for k, v in (state.get("keys") or {}).items():
        sibs = v.get("siblings") or []
        if sibs and all(s.get("tombstone") for s in sibs) and v.get("visible") is None:
            continue
        if not sibs and v.get("visible") is None:
            continue
        out[k] = (v.get("visible"), frozenset((str(s.get("origin")), s.get("seq"), s.get("ts"), bool(s.get("tombstone")),
                                                 None if s.get("tombstone") else str(s.get("value"))) for s in sibs))
    return out


def differences(states):
    """Per-key differences between the nodes' normalised states ({} if converged)."""
    norm = {n: normalise_keys(s) for n, s in states.items()}
    keys = set()
    for v in norm.values():
        keys |= set(v)
    diff = {}
    for k in sorted(keys):
        vals = {n: norm[n].get(k) for n in norm}
        if len(set(vals.values())) > 1:
            diff[k] = {n: (None if v is None else {"visible": v[0], "siblings": sorted(map(list, v[1]), key=str)})
                       for n, v in vals.items()}
    return diff


def check_final(ops, states, origin_of, excused=None):
    """Visible-rule, sibling and lost-write checks on converged final states.
    origin_of(op) -> origin string of the node incarnation that answered op (or None).
    excused(op) -> reason string if a missing write is excused (non-durable restart).

    Nodes may have garbage-collected causally stable tombstones at different moments,
    so for each key the siblings are taken from a node that still lists the key, and
    a write dominated by an acknowledged delete counts as superseded even when that
    tombstone is gone (it was collected).  In return, no final sibling may be
    dominated by any acknowledged write ("resurrected": e.g. a put that a collected
    tombstone had deleted)."""
    anomalies, unverified, excused_list = [], [], []
    keys = {}
    for st in states.values():
        for k, v in (st.get("keys") or {}).items():
            if k not in keys or (not keys[k].get("siblings") and v.get("siblings")):
                keys[k] = v
    # visible rule
    for k, v in keys.items():
        sibs = v.get("siblings") or []
        if not sibs:
            continue
        top = max(sibs, key=lambda s: (s.get("ts"), str(s.get("origin")), s.get("seq")))
        want = None if top.get("tombstone") else top.get("value")
        if v.get("visible") != want:
            anomalies.append({"kind": "visible rule", "msg": "key %r visible %r but max (ts,origin,seq) sibling is %r" % (
                k, v.get("visible"), top), "related": []})
    # vcs of known writes from their answers
    dot_vc = {}
    write_dot = {}
    acked_vcs = defaultdict(list)     # key -> [(op, vc)] of acknowledged writes with a known vc
    for o in ops:
        if o["type"] in WRITE_TYPES and o.get("outcome") == "ok":
            vc = vc_of_payload(o.get("payload_out"))
            origin = origin_of(o)
            if vc is not None and origin is not None and origin in vc:
                dot = (origin, vc[origin])
                write_dot[o["id"]] = dot
                dot_vc[dot] = vc
                acked_vcs[o["key"]].append((o, vc))
    for k, v in keys.items():
        for s in v.get("siblings") or []:
            if isinstance(s.get("vc"), dict):
                dot_vc[(str(s.get("origin")), s.get("seq"))] = s["vc"]
    # siblings: an antichain, and none below an acknowledged write
    for k, v in keys.items():
        sibs = [(str(s.get("origin")), s.get("seq")) for s in v.get("siblings") or []]
        for a in sibs:
            for b in sibs:
                if a != b and b in dot_vc and dot_vc[b].get(a[0], 0) >= a[1]:
                    anomalies.append({"kind": "sibling dominated", "msg": "key %r: sibling %s is dominated by sibling %s" % (k, a, b), "related": []})
            for o, vc in acked_vcs.get(k, []):
                if write_dot.get(o["id"]) != a and vc.get(a[0], 0) >= a[1]:
                    anomalies.append({"kind": "resurrected", "op": brief(o), "msg": "key %r: final sibling %s is dominated by this acknowledged %s" % (
                        k, a, "delete" if o["type"] == "del" else "write"), "related": [{"siblings": v.get("siblings")}]})
                    break
    # lost writes
    for o in ops:
        if o["type"] not in WRITE_TYPES or o.get("outcome") != "ok":
            continue
        sibs = (keys.get(o["key"]) or {}).get("siblings") or []
        if o["type"] == "put" and any(not s.get("tombstone") and s.get("value") == o["val"] for s in sibs):
            continue
        dot = write_dot.get(o["id"])
        if dot is not None and dot in [(str(s.get("origin")), s.get("seq")) for s in sibs]:
            continue
        verdict = None
        if dot is not None:
            known = [dot_vc.get((str(s.get("origin")), s.get("seq"))) for s in sibs]
            if any(vc is not None and vc.get(dot[0], 0) >= dot[1] for vc in known):
                verdict = "ok"
            elif any(d["type"] == "del" and d is not o and vc.get(dot[0], 0) >= dot[1] for d, vc in acked_vcs.get(o["key"], [])):
                verdict = "ok"      # superseded by a delete (whose tombstone may since be collected)
            elif o["type"] == "del" and not any(not s.get("tombstone") for s in sibs):
                verdict = "ok"      # its tombstone was collected; no live version is left to hide
            elif all(vc is not None for vc in known):
                verdict = "lost"
        if verdict == "ok":
            continue
        reason = excused(o) if excused else None
        if reason:
            excused_list.append({"op": brief(o), "reason": reason})
        elif verdict == "lost":
            anomalies.append({"kind": "lost write", "op": brief(o), "msg": "acknowledged write of %r missing at the end and dominated by no sibling (dot %s)" % (o["key"], dot),
                              "related": [{"siblings": sibs}]})
        else:
            unverified.append({"op": brief(o), "msg": "not among the final siblings; dominance unknown (%s)" % (
                "no vc in the answer's payload" if dot is None else "a sibling's vc is unknown")})
    return anomalies, unverified, excused_list
