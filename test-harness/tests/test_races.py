"""Races in the node's waiting reads, provoked with real processes.

A read whose payload is not covered parks; it must be answered from a state that
covers the payload.  Here many readers park on an isolated node while noise writes
make the node re-check its parked reads from several threads, and then a local
write that covers their payload lands: every reader must get that value (or
`Payload out of date`), never the older value their payload has seen superseded."""
import threading
import time

from base import ClusterTest, Session


class WaitingReads(ClusterTest):
    ROUNDS = 25
    READERS = 40

    def test_reads_woken_by_a_covering_write_never_return_the_superseded_value(self):
        n1, n2 = self.c.node("n1").ip_port, self.c.node("n2").ip_port
        stale, answered = [], 0
        for rnd in range(self.ROUNDS):
            k = "race%d" % rnd
            W = Session()
            self.assertEqual(W.put(n1, k, "old").status, 200)
            self.assertEqual(W.get(n2, k).get("value"), "old")
            self.c.isolate("n1")
            self.assertEqual(W.put(n2, k, "new").status, 201)      # dominates "old"; n1 cannot see it
            res, stop = [], threading.Event()

            def reader():
                res.append(Session(payload=W.payload).get(n1, k))

            def noise(i):
                s, j = Session(), 0
                while not stop.is_set():
                    s.put(n1, "noise%d.%d" % (i, j % 5), "x")
                    j += 1

            ns = [threading.Thread(target=noise, args=(i,)) for i in range(3)]
            rs = [threading.Thread(target=reader) for _ in range(self.READERS)]
            for t in ns + rs:
                t.start()
            time.sleep(0.3)
            self.assertIn(Session(payload=W.payload).put(n1, k, "local").status, (200, 201))
            for t in rs:
                t.join()
            stop.set()
            for t in ns:
                t.join()
            self.c.heal()
            for r in res:
                self.assertIsNotNone(r.status, r.error)
                if r.status == 200:
                    answered += 1
                    if r.get("value") != "local":
                        stale.append((rnd, r.get("value")))
                else:
                    self.assertTrue(r.out_of_date, repr(r))
        self.assertGreater(answered, 0, "no reader was ever answered")
        self.assertEqual(stale, [], "reads answered with a value their payload had seen superseded "
                                    "(round, value) out of %d answered" % answered)
