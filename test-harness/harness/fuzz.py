"""Randomised fault run: concurrent client sessions + a nemesis, then heal, wait
for convergence and check the history (see checker.py for what is checked).

Everything random comes from --seed: the nemesis schedule (which fault, which
nodes, when, how long) and each session's choice of operations, keys and nodes.
The schedule is written to <out>/schedule.json; `fuzz --replay FILE` runs the same
schedule and the same per-session choices again (thread timing is real, so a
replay reproduces the fault pattern and the workload, not every interleaving).
"""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter, defaultdict

from . import client
from .checker import Checker, brief, check_final, classify, differences
from .cluster import Cluster, HarnessError

ALL_FAULTS = ["partition", "isolate", "bridge", "flap", "kill", "stop", "delay", "loss", "skew"]
RESTART_FAULTS = ("kill", "stop", "skew")


def log(msg):
    print("[fuzz %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ----------------------------------------------------------------------------- schedule
def make_schedule(seed, n_nodes, duration, faults, min_fault=2.0, max_fault=7.0):
    """A list of sequential fault entries {at, kind, ...} covering `duration` seconds."""
    rng = random.Random("nemesis-%s" % seed)
    names = ["n%d" % i for i in range(1, n_nodes + 1)]
    t = rng.uniform(1.0, 2.0)
    out = []
    while t < duration - 1.0 and faults:
        kind = rng.choice(faults)
        dur = round(min(rng.uniform(min_fault, max_fault), max(0.5, duration - t - 0.5)), 2)
        e = {"at": round(t, 2), "kind": kind, "dur": dur}
        if kind == "partition":
            shuffled = names[:]
            rng.shuffle(shuffled)
            cut = rng.randint(1, len(names) - 1)
            e["groups"] = [sorted(shuffled[:cut]), sorted(shuffled[cut:])]
        elif kind in ("isolate", "kill", "stop"):
            e["node"] = rng.choice(names)
        elif kind == "bridge":
            a, b, c = rng.sample(names, 3) if len(names) >= 3 else (names[0], None, names[-1])
            e["cut"] = [a, c]
            e["via"] = b
        elif kind == "flap":
            e["period"] = round(rng.uniform(0.3, 1.0), 2)
            e["patterns"] = []
            for _ in range(int(dur / e["period"]) + 1):
                shuffled = names[:]
                rng.shuffle(shuffled)
                cut = rng.randint(1, len(names) - 1)
                e["patterns"].append([sorted(shuffled[:cut]), sorted(shuffled[cut:])])
        elif kind == "delay":
            e["node"] = rng.choice(names)
            e["ms"] = rng.choice([50, 100, 200, 400])
            e["jitter"] = e["ms"] // 4
        elif kind == "loss":
            e["node"] = rng.choice(names)
            e["pct"] = rng.choice([10, 20, 35])
        elif kind == "skew":
            e["node"] = rng.choice(names)
            e["ms"] = rng.choice([-1, 1]) * rng.choice([500, 2000, 8000])
        out.append(e)
        t += dur + rng.uniform(0.5, 2.5)
    return out


# ----------------------------------------------------------------------------- run
class Run:
    def __init__(self, args, schedule, cluster):
        self.a = args
        self.schedule = schedule
        self.c = cluster
        self.ops = []
        self.ops_lock = threading.Lock()
        self.next_id = 0
        self.stop_clients = threading.Event()
        self.stop_nemesis = threading.Event()
        self.faults = []            # {kind, detail, start, end}
        self.incarnations = defaultdict(list)   # node name -> [(t_start, origin)]
        self.t0 = None
        self.nemesis_error = None
        self.sessions = {}          # name -> (Session, next op index)

    # ---- nodes
    def direct(self, name):
        return self.c.node(name).addr(direct=not self.a.published)

    def record_origin(self, name, t_start):
        r = client.admin_state(self.c.node(name).ip_port, self.c.token, timeout=5)
        origin = r.get("origin") if r.status == 200 else None
        self.incarnations[name].append((t_start, origin))
        return origin

    def start_node(self, name, skew_ms=None):
        t = time.time()
        self.c.start(name, skew_ms=skew_ms)
        self.record_origin(name, t)

    def origin_of(self, op):
        inc = [i for i in self.incarnations.get(op["node"], []) if i[0] <= op["end"]]
        return inc[-1][1] if inc else None

    def excused(self, op):
        """Missing acked write excused when its node restarted with a fresh origin (state lost)."""
        incs = self.incarnations.get(op["node"], [])
        mine = [i for i in incs if i[0] <= op["end"]]
        later = [i for i in incs if i[0] > op["end"]]
        if mine and later and any(l[1] != mine[-1][1] for l in later):
            return "acknowledged by %s (origin %s), which later restarted without its state (fresh origin)" % (op["node"], mine[-1][1])
        return None

    # ---- clients
    def session(self, sess_no):
        a = self.a
        rng = random.Random("session-%s-%d" % (a.seed, sess_no))
        name = "s%d" % sess_no
        s = client.Session(timeout=a.client_timeout)
        names = [n.name for n in self.c.nodes]
        keys = ["k%d" % i for i in range(a.keys)]
        idx = 0
        self.sessions[name] = (s, 0)
        while not self.stop_clients.is_set():
            r = rng.random()
            typ = "put" if r < 0.40 else "get" if r < 0.75 else "search" if r < 0.87 else "del"
            self.do(s, name, idx, typ, rng.choice(keys), rng.choice(names))
            idx += 1
            self.sessions[name] = (s, idx)
            time.sleep(rng.uniform(0, a.think_ms / 1000.0))

    def do(self, s, sess, idx, typ, key, node_name):
        addr = self.direct(node_name)
        val = None
        if typ == "put":
            val = "%s.%d" % (sess, idx)
            r = s.put(addr, key, val)
        elif typ == "get":
            r = s.get(addr, key)
        elif typ == "search":
            r = s.search(addr, key)
        else:
            r = s.delete(addr, key)
        with self.ops_lock:
            oid = self.next_id
            self.next_id += 1
        op = {"id": oid, "sess": sess, "idx": idx, "type": typ, "key": key, "val": val, "node": node_name,
              "start": r.start, "end": r.end, "status": r.status, "msg": r.msg, "error": r.error}
        if typ == "get" and r.status == 200:
            op["value"] = r.get("value")
        if typ == "search" and r.status == 200:
            op["exists"] = r.get("isExists")
        if typ in ("put", "del") and r.ok:
            op["payload_out"] = r.payload
        if r.status is not None and r.status >= 500:
            op["raw"] = r.raw[:200].decode("utf-8", "replace")
        with self.ops_lock:
            self.ops.append(op)
        return op

    # ---- nemesis
    def fault(self, kind, detail, fn_start, fn_end, dur, wait=None):
        rec = {"kind": kind, "detail": detail, "start": time.time(), "end": None}
        self.faults.append(rec)
        log("fault %s %s for %.1fs" % (kind, detail, dur))
        try:
            fn_start()
            (wait or self.stop_nemesis.wait)(dur)
        finally:
            fn_end()
            rec["end"] = time.time()

    def nemesis(self):
        c = self.c
        try:
            for e in self.schedule:
                delay = self.t0 + e["at"] - time.time()
                if delay > 0 and self.stop_nemesis.wait(delay):
                    return
                if self.stop_nemesis.is_set():
                    return
                k, dur = e["kind"], e["dur"]
                if k == "partition":
                    self.fault(k, " | ".join(",".join(g) for g in e["groups"]), lambda: c.partition(e["groups"]), c.heal, dur)
                elif k == "isolate":
                    self.fault(k, e["node"], lambda: c.isolate(e["node"]), c.heal, dur)
                elif k == "bridge":
                    self.fault(k, "%s-%s cut, both reach %s" % (e["cut"][0], e["cut"][1], e["via"]),
                               lambda: c.partition([[e["cut"][0]], [e["cut"][1]]]), c.heal, dur)
                elif k == "flap":
                    def flap():
                        for i, p in enumerate(e["patterns"]):
                            if self.stop_nemesis.wait(e["period"]):
                                return
                            if i % 2 == 0:
                                c.partition(p)
                            else:
                                c.heal()
                    self.fault(k, "period %.2fs" % e["period"], lambda: None, c.heal, 0)
                    rec = self.faults[-1]
                    rec["end"] = None
                    flap()
                    c.heal()
                    rec["end"] = time.time()
                elif k == "kill":
                    self.fault(k, e["node"], lambda: c.kill(e["node"]), lambda: self.start_node(e["node"]), dur)
                elif k == "stop":
                    self.fault(k, e["node"], lambda: c.stop(e["node"]), lambda: self.start_node(e["node"]), dur)
                elif k == "delay":
                    self.fault(k, "%s %dms" % (e["node"], e["ms"]), lambda: c.delay(e["node"], e["ms"], e["jitter"]),
                               lambda: c.clear_net(e["node"]), dur)
                elif k == "loss":
                    self.fault(k, "%s %d%%" % (e["node"], e["pct"]), lambda: c.loss(e["node"], e["pct"]),
                               lambda: c.clear_net(e["node"]), dur)
                elif k == "skew":
                    def skew():
                        c.stop(e["node"])
                        self.start_node(e["node"], skew_ms=e["ms"])
                    self.fault(k, "%s %+dms (restart)" % (e["node"], e["ms"]), skew, lambda: None, 0)
        except Exception as ex:  # a harness failure must not look like a node failure
            self.nemesis_error = "%s: %s" % (type(ex).__name__, ex)
            log("nemesis error: %s" % self.nemesis_error)

    def final_heal(self):
        c = self.c
        c.heal(net=True)
        for n in c.nodes:
            if not c.running(n):
                self.start_node(n.name)
        return time.time()

    def converge(self, t_heal):
        deadline = t_heal + self.a.converge_timeout
        last_diff = None
        while True:
            states, errors = {}, {}
            for n in self.c.nodes:
                r = client.admin_state(n.ip_port, self.c.token, timeout=5)
                if r.status == 200:
                    states[n.name] = r.body
                else:
                    errors[n.name] = repr(r)
            if not errors:
                diff = differences(states)
                if not diff:
                    return time.time() - t_heal, states, None
                last_diff = diff
            else:
                last_diff = {"unreachable": errors}
            if time.time() > deadline:
                return None, states, last_diff
            time.sleep(0.2)


def availability(ops, faults):
    """Per fault type: counts of answered (2xx/404), out-of-date, errors/timeouts.
    A request counts for every fault active at any moment while it was in flight."""
    table = defaultdict(Counter)
    ivs = [(f["kind"], f["start"], f["end"] or float("inf")) for f in faults]
    for o in ops:
        end = o["end"] or o["start"]
        kinds = {k for k, s, e in ivs if s <= end and o["start"] < e} or {"none"}
        out = o.get("outcome") or classify(o)
        cls = "answered" if out in ("ok", "notfound") else "out_of_date" if out == "ood" else "error"
        for k in kinds:
            table[k][cls] += 1
            table[k]["total"] += 1
    return table


def run(args):
    if args.replay:
        with open(args.replay) as f:
            saved = json.load(f)
        for k, v in saved["args"].items():
            if k not in ("replay", "out", "jar", "keep_logs"):
                setattr(args, k, v)
        schedule = saved["schedule"]
        log("replaying %s (seed %s)" % (args.replay, args.seed))
    else:
        if args.seed is None:
            args.seed = random.randrange(1, 10 ** 9)
        if args.long:
            args.duration = args.long
        faults = [f for f in args.faults.split(",") if f] if args.faults else list(ALL_FAULTS)
        if args.no_kill:
            faults = [f for f in faults if f not in RESTART_FAULTS]
        bad = [f for f in faults if f not in ALL_FAULTS]
        if bad:
            raise SystemExit("unknown faults: %s (known: %s)" % (bad, ",".join(ALL_FAULTS)))
        if args.nodes < 3:
            faults = [f for f in faults if f != "bridge"]
        args.faults = ",".join(faults)
        schedule = make_schedule(args.seed, args.nodes, args.duration, faults)
    out = args.out or "/tmp/ckv-fuzz-%s-%d" % (time.strftime("%Y%m%d-%H%M%S"), args.seed)
    os.makedirs(out, exist_ok=True)
    saved_args = {k: v for k, v in vars(args).items() if k not in ("replay",)}
    with open(os.path.join(out, "schedule.json"), "w") as f:
        json.dump({"args": saved_args, "schedule": schedule}, f, indent=1)
    log("seed %s: %d nodes, %d sessions, %d keys, %ss, faults [%s]; %d fault events; output %s" % (
        args.seed, args.nodes, args.sessions, args.keys, args.duration, args.faults, len(schedule), out))

    c = Cluster.create(jar=args.jar, durable=True, causal_wait_ms=args.causal_wait_ms, java_opts=None,
                       node_cmd=args.node_cmd.split() if args.node_cmd else None, log=lambda m: print("[cluster] " + m, flush=True))
    result = {"seed": args.seed, "out": out}
    ok = False
    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt()

    old = signal.signal(signal.SIGTERM, on_signal)
    old_int = signal.signal(signal.SIGINT, on_signal)
    R = None
    try:
        R = Run(args, schedule, c)
        t = time.time()
        c.up(args.nodes)
        for n in c.nodes:
            R.record_origin(n.name, t)
        durable = probe_durability(R) if args.durable == "auto" else args.durable == "yes"
        result["durable"] = durable
        if not durable:
            log("NOTE: the node does not keep its state across restarts (origin changes): acknowledged writes "
                "lost by kill/stop/skew restarts are reported as EXCUSED, and post-heal out-of-date reads are "
                "not counted as failures")
        log("workload starts")
        R.t0 = time.time()
        threads = [threading.Thread(target=R.session, args=(i,), daemon=True) for i in range(1, args.sessions + 1)]
        nem = threading.Thread(target=R.nemesis, daemon=True)
        for th in threads:
            th.start()
        nem.start()
        end = R.t0 + args.duration
        final = min(args.final_partition, args.duration / 4.0)
        next_progress = R.t0 + 60
        while time.time() < end - final:
            time.sleep(min(1.0, max(0.0, end - final - time.time())))
            if args.long and time.time() >= next_progress:
                next_progress += 60
                log("%d ops so far" % len(R.ops))
        R.stop_nemesis.set()
        nem.join(60)
        if final > 0:
            # End on a partition with writes on both sides, so that the convergence
            # time measured after the last heal is that of real divergence.
            c.heal(net=True)
            for n in c.nodes:
                if not c.running(n):
                    R.start_node(n.name)
            names = [n.name for n in c.nodes]
            rng = random.Random("final-%s" % args.seed)
            rng.shuffle(names)
            groups = [sorted(names[:len(names) // 2]), sorted(names[len(names) // 2:])]
            R.fault("partition", "final: %s" % " | ".join(",".join(g) for g in groups),
                    lambda: c.partition(groups), lambda: None, max(0.0, end - time.time()), wait=time.sleep)
        R.stop_clients.set()
        for th in threads:
            th.join(args.client_timeout + 5)
        log("workload stopped: %d ops; healing" % len(R.ops))
        t_heal = R.final_heal()
        conv, states, diff = R.converge(t_heal)
        if conv is not None:
            log("converged %.2fs after the last heal" % conv)
        else:
            log("NOT converged within %ss" % args.converge_timeout)
        # Post-heal reads: every session reads every key at every node with its own payload.
        post = []
        post_ops_start = len(R.ops)
        for sess in sorted(R.sessions):
            sobj, idx = R.sessions[sess]
            for n in c.nodes:
                for k in range(args.keys):
                    post.append(R.do(sobj, sess, idx, "get", "k%d" % k, n.name))
                    idx += 1
        post_bad = [o for o in post if classify(o) not in ("ok", "notfound")]
        # Final states again (post reads change nothing, but be exact).
        diverged_after = False
        if conv is not None:
            conv2, states, diff = R.converge(time.time())
            diverged_after = conv2 is None
        ops = R.ops
        chk = Checker(ops, sorted(set(o["sess"] for o in ops)))
        anomalies = chk.check_reads()
        fin_anom, unverified, excused = ([], [], [])
        if states and len(states) == len(c.nodes):
            fin_anom, unverified, excused = check_final(ops, states, R.origin_of, R.excused if not durable else None)
        avail = availability(ops[:post_ops_start], R.faults)
        result.update(summarise(args, R, ops, anomalies + fin_anom, unverified, excused, conv, diff, post, post_bad,
                                avail, durable, states))
        if diverged_after:
            result["pass"] = False
            result["failures"].append("nodes differ again after the post-heal reads: %s" % json.dumps(diff)[:2000])
        ok = result["pass"]
        with open(os.path.join(out, "history.jsonl"), "w") as f:
            for o in ops:
                o2 = {k: v for k, v in o.items() if k != "past"}
                f.write(json.dumps(o2) + "\n")
        with open(os.path.join(out, "report.json"), "w") as f:
            json.dump(result, f, indent=1, default=str)
        with open(os.path.join(out, "final_states.json"), "w") as f:
            json.dump(states, f, indent=1)
        print_report(result, args)
    except KeyboardInterrupt:
        log("interrupted; tearing down")
        result["pass"] = False
    finally:
        if R is not None:
            R.stop_nemesis.set()
            R.stop_clients.set()
        signal.signal(signal.SIGTERM, old)
        signal.signal(signal.SIGINT, old_int)
        keep = args.keep_logs or not ok
        if keep:
            dest = os.path.join(out, "cluster")
            import shutil
            for n in c.nodes:
                try:
                    os.makedirs(os.path.join(dest, n.name), exist_ok=True)
                    shutil.copy(n.log, os.path.join(dest, n.name, "node.log"))
                except OSError:
                    pass
        c.down()
    return result


def probe_durability(R):
    """Kill -9 n1 and restart it: durable iff it comes back with the same origin."""
    c = R.c
    n1 = c.nodes[0].name
    before = R.incarnations[n1][-1][1]
    client.request("PUT", c.nodes[0].ip_port, "/keyValue-store/probe", {"val": "probe"})
    c.kill(n1)
    R.start_node(n1)
    after = R.incarnations[n1][-1][1]
    durable = before is not None and before == after
    log("durability probe: origin %s -> %s after kill -9: %s" % (before, after, "durable" if durable else "NOT durable"))
    client.request("DELETE", c.nodes[0].ip_port, "/keyValue-store/probe", {})
    return durable


def summarise(args, R, ops, anomalies, unverified, excused, conv, diff, post, post_bad, avail, durable, states):
    types = Counter(o["type"] for o in ops)
    outcomes = Counter(o["outcome"] for o in ops)
    acked_writes = sum(1 for o in ops if o["type"] in ("put", "del") and o["outcome"] == "ok")
    liveness_fail = bool(post_bad) and durable
    unexpected = [o for o in ops if o["status"] is not None and (o["status"] >= 500 or (
        o["status"] >= 400 and o["status"] != 404 and o.get("msg") != "Payload out of date"))]
    failures = []
    if unexpected:
        failures.append("%d unexpected error answers (5xx, or 4xx other than 404 / Payload out of date)" % len(unexpected))
    if anomalies:
        failures.append("%d anomalies" % len(anomalies))
    if conv is None:
        failures.append("no convergence within %ss" % args.converge_timeout)
    if unverified:
        failures.append("%d acknowledged writes of unverifiable fate" % len(unverified))
    if liveness_fail:
        failures.append("%d post-heal reads not answered" % len(post_bad))
    if R.nemesis_error:
        failures.append("nemesis error: %s" % R.nemesis_error)
    if len(ops) < 20:
        failures.append("too few operations (%d)" % len(ops))
    fault_counts = Counter(f["kind"] for f in R.faults)
    return {
        "pass": not failures, "failures": failures, "ops": len(ops), "types": dict(types), "outcomes": dict(outcomes),
        "acked_writes": acked_writes, "anomalies": anomalies, "unexpected_answers": [brief(o) for o in unexpected[:50]], "unverified": unverified, "excused": excused,
        "convergence_s": conv, "diff": diff, "post_heal_reads": len(post), "post_heal_unanswered": [x for x in post_bad[:20]],
        "availability": {k: dict(v) for k, v in avail.items()}, "faults_applied": dict(fault_counts),
        "faults": R.faults, "durable": durable,
        "final_keys": {k: v.get("visible") for k, v in (next(iter(states.values())).get("keys") or {}).items()} if states else {},
    }


def print_report(r, args):
    p = lambda s="": print(s, flush=True)  # noqa: E731
    p()
    p("=== fuzz report (seed %s, %ss, %d nodes, %d sessions, %d keys) ===" % (args.seed, args.duration, args.nodes, args.sessions, args.keys))
    p("operations: %d  %s" % (r["ops"], " ".join("%s=%d" % kv for kv in sorted(r["types"].items()))))
    p("outcomes:   %s" % " ".join("%s=%d" % kv for kv in sorted(r["outcomes"].items())))
    p("faults applied: %s" % (" ".join("%s=%d" % kv for kv in sorted(r["faults_applied"].items())) or "none"))
    p("availability per fault type (share of requests in flight while it was active):")
    p("  %-10s %7s %9s %12s %13s" % ("fault", "ops", "answered", "out-of-date", "error/timeout"))
    for k in sorted(r["availability"], key=lambda k: (k != "none", k)):
        v = r["availability"][k]
        t = v.get("total", 0) or 1
        p("  %-10s %7d %8.1f%% %11.1f%% %12.1f%%" % (k, v.get("total", 0), 100.0 * v.get("answered", 0) / t,
                                                  100.0 * v.get("out_of_date", 0) / t, 100.0 * v.get("error", 0) / t))
    if r["convergence_s"] is not None:
        p("convergence: all nodes equal %.2fs after the last heal (limit %ss)" % (r["convergence_s"], args.converge_timeout))
    else:
        p("convergence: NOT reached within %ss; differences: %s" % (args.converge_timeout, json.dumps(r["diff"])[:3000]))
    p("post-heal reads: %d, unanswered %d%s" % (r["post_heal_reads"], len(r["post_heal_unanswered"]),
                                                 "" if r["durable"] or not r["post_heal_unanswered"] else " (not counted: node not durable)"))
    for o in r["post_heal_unanswered"][:5]:
        p("    %s" % json.dumps({k: o.get(k) for k in ("sess", "node", "key", "status", "msg", "error")}))
    p("acknowledged writes: %d; unverified fate: %d; excused (lost with a non-durable restart): %d" % (
        r["acked_writes"], len(r["unverified"]), len(r["excused"])))
    for u in r["unverified"][:5]:
        p("    unverified: %s" % json.dumps(u))
    for e in r["excused"][:5]:
        p("    excused: %s" % json.dumps(e))
    p("unexpected error answers: %d" % len(r["unexpected_answers"]))
    for o in r["unexpected_answers"][:5]:
        p("    %s" % json.dumps(o))
    p("anomalies: %d" % len(r["anomalies"]))
    for a in r["anomalies"][:30]:
        p("  - %s: %s" % (a["kind"], a["msg"]))
        if a.get("op"):
            p("      op:      %s" % json.dumps(a["op"]))
        for rel in a.get("related", []):
            p("      related: %s" % json.dumps(rel)[:400])
    p("RESULT: %s%s" % ("PASS" if r["pass"] else "FAIL", "" if r["pass"] else " (" + "; ".join(r["failures"]) + ")"))
    p("output: %s   replay: test-harness/fuzz --replay %s/schedule.json" % (r["out"], r["out"]))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--duration", type=float, default=60, help="seconds of workload (default 60)")
    ap.add_argument("--long", type=float, metavar="SECONDS", help="same as --duration SECONDS, with progress lines")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--keys", type=int, default=5)
    ap.add_argument("--think-ms", type=float, default=30, help="max random pause between a session's ops")
    ap.add_argument("--faults", help="comma list from %s (default all)" % ",".join(ALL_FAULTS))
    ap.add_argument("--no-kill", action="store_true", help="no kill/stop/skew (the faults that restart nodes)")
    ap.add_argument("--durable", choices=["auto", "yes", "no"], default="auto",
                    help="does the node keep state across restarts? auto = probe with kill -9 (default)")
    ap.add_argument("--converge-timeout", type=float, default=30)
    ap.add_argument("--final-partition", type=float, default=5,
                    help="seconds of a last halves partition under load before the final heal (0: none)")
    ap.add_argument("--client-timeout", type=float, default=5)
    ap.add_argument("--causal-wait-ms", type=int)
    ap.add_argument("--published", action="store_true", help="send client requests through the published localhost ports")
    ap.add_argument("--jar")
    ap.add_argument("--node-cmd", help="run this instead of java -jar (harness self-test with tests/fakenode.py)")
    ap.add_argument("--replay", metavar="SCHEDULE_JSON")
    ap.add_argument("--out", help="output directory (default /tmp/ckv-fuzz-<time>-<seed>)")
    ap.add_argument("--keep-logs", action="store_true", help="copy node logs to the output even on success")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("fuzz: must run as root", file=sys.stderr)
        return 2
    try:
        r = run(args)
    except HarnessError as e:
        print("fuzz: harness error: %s" % e, file=sys.stderr)
        return 3
    return 0 if r.get("pass") else 1
