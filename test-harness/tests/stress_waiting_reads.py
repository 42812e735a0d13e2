#!/usr/bin/env python3
"""Stand-alone stress for the waiting-read race (see test_races.py), more rounds:
    sudo python3 test-harness/tests/stress_waiting_reads.py ROUNDS
Prints per round the values the 40 parked readers got; "old" is a causal violation."""
import os
import sys, time, threading; sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.cluster import Cluster
from harness.client import Session
c=Cluster.create(log=lambda m: None)
stale=0; total=0; ood=0
try:
    c.up(3)
    n1, n2 = c.node("n1").ip_port, c.node("n2").ip_port
    for rnd in range(int(sys.argv[1])):
        k="k%d" % rnd
        W=Session(); W.put(n1, k, "old"); W.get(n2, k)
        c.isolate("n1")
        W.put(n2, k, "new")
        res=[]; stop=threading.Event()
        def reader():
            s=Session(payload=W.payload); r=s.get(n1, k); res.append(r)
        def noise():
            s=Session(); i=0
            while not stop.is_set():
                s.put(n1, "noise%d" % (i % 7), "x%d" % i); i+=1
        ns=[threading.Thread(target=noise) for _ in range(3)]
        for t in ns: t.start()
        rs=[threading.Thread(target=reader) for _ in range(40)]
        for t in rs: t.start()
        time.sleep(0.3)
        X=Session(payload=W.payload); X.put(n1, k, "local")
        for t in rs: t.join()
        stop.set()
        for t in ns: t.join()
        vals=[r.get("value") if r.status==200 else r.status for r in res]
        st=sum(1 for v in vals if v=="old"); stale+=st; total+=len(vals); ood+=sum(1 for r in res if r.out_of_date)
        c.heal()
        print("round %d: %s" % (rnd, {v: vals.count(v) for v in set(vals)}), flush=True)
finally:
    c.down()
print("stale reads: %d of %d (ood %d)" % (stale, total, ood))
