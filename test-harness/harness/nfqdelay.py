#!/usr/bin/env python3
"""Userspace packet delayer on an NFQUEUE: a stand-in for `tc netem` on kernels
built without sch_netem (this project's VMs are such kernels).

Run inside a network namespace whose iptables sends packets to queue N:
    iptables -A OUTPUT -o eth0 -j NFQUEUE --queue-num N --queue-bypass
Each queued packet gets its ACCEPT verdict DELAY(+-JITTER) ms after it arrived,
and is dropped instead with probability LOSS.  The kernel holds the packet
meanwhile, so this is a real per-packet delay of every protocol.  If this
process dies, --queue-bypass and the fail-open flag let packets through.

Speaks nfnetlink_queue directly over an AF_NETLINK socket (stdlib only).
"""
import argparse
import heapq
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQA_CFG_MASK = 4
NFQA_CFG_FLAGS = 5
NFQNL_CFG_CMD_BIND = 1
NFQNL_CFG_CMD_UNBIND = 2
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NF_DROP = 0
NF_ACCEPT = 1


def _attr(atype, payload):
    length = 4 + len(payload)
    pad = (4 - length % 4) % 4
    return struct.pack("=HH", length, atype) + payload + b"\0" * pad


def _msg(msg_type, queue, attrs, seq, flags=NLM_F_REQUEST):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


class Delayer:
    def __init__(self, queue, delay_ms, jitter_ms, loss):
        self.queue = queue
        self.delay_ms = delay_ms
        self.jitter_ms = jitter_ms
        self.loss = loss
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        try:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        except OSError:
            pass
        self.sock.bind((0, 0))
        self.pending = []  # heap of (due_monotonic, packet_id, verdict)

    def _send(self, data):
        self.sock.send(data)

    def _config(self, attrs):
        self.seq += 1
        self._send(_msg(NFQNL_MSG_CONFIG, self.queue, attrs, self.seq, NLM_F_REQUEST | NLM_F_ACK))
        data = self.sock.recv(65536)
        _, mtype, _, _, _ = struct.unpack_from("=IHHII", data, 0)
        if mtype == NLMSG_ERROR:
            (err,) = struct.unpack_from("=i", data, 16)
            if err != 0:
                raise OSError(-err, "nfqueue config failed")

    def bind(self):
        self._config([_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET))])
        self._config([_attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))])
        self._config([_attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 20000))])
        self._config([_attr(NFQA_CFG_FLAGS, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN)),
                      _attr(NFQA_CFG_MASK, struct.pack("!I", NFQA_CFG_F_FAIL_OPEN))])

    def unbind(self):
        try:
            self._config([_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_UNBIND, socket.AF_INET))])
        except OSError:
            pass

    def _verdict(self, packet_id, verdict):
        self.seq += 1
        hdr = _attr(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id))
        self._send(_msg(NFQNL_MSG_VERDICT, self.queue, [hdr], self.seq))

    def _on_packet(self, data, now):
        off = 0
        while off + 16 <= len(data):
            length, mtype, _, _, _ = struct.unpack_from("=IHHII", data, off)
            if length < 16:
                break
            if mtype == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                a = off + 20
                end = off + length
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if (atype & 0x7FFF) == NFQA_PACKET_HDR:
                        (pid,) = struct.unpack_from("!I", data, a + 4)
                        d = self.delay_ms + (random.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0)
                        verdict = NF_DROP if (self.loss and random.random() < self.loss) else NF_ACCEPT
                        heapq.heappush(self.pending, (now + max(0.0, d) / 1000.0, pid, verdict))
                    a += (alen + 3) & ~3
            off += (length + 3) & ~3

    def run(self):
        while True:
            now = time.monotonic()
            while self.pending and self.pending[0][0] <= now:
                _, pid, verdict = heapq.heappop(self.pending)
                self._verdict(pid, verdict)
            timeout = max(0.0, self.pending[0][0] - now) if self.pending else 1.0
            r, _, _ = select.select([self.sock], [], [], timeout)
            if r:
                try:
                    data = self.sock.recv(1 << 20)
                except OSError:
                    continue
                self._on_packet(data, time.monotonic())

    def flush(self):
        while self.pending:
            _, pid, _ = heapq.heappop(self.pending)
            try:
                self._verdict(pid, NF_ACCEPT)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--queue", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, default=0)
    ap.add_argument("--jitter-ms", type=float, default=0)
    ap.add_argument("--loss", type=float, default=0, help="drop probability 0..1")
    args = ap.parse_args()
    d = Delayer(args.queue, args.delay_ms, args.jitter_ms, args.loss)
    d.bind()

    def stop(*_):
        d.flush()
        d.unbind()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("nfqdelay: queue %d delay %.0fms jitter %.0fms loss %.2f" % (args.queue, args.delay_ms, args.jitter_ms, args.loss), flush=True)
    d.run()


if __name__ == "__main__":
    main()
