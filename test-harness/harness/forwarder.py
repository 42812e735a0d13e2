#!/usr/bin/env python3
"""Publish a node on a host port: a tiny TCP forwarder, like `docker run -p`.

    forwarder.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT

One thread pair per connection; stops on SIGTERM.  Binding fails loudly (exit 3)
if the port is taken, so two runs never share a published port.
"""
import signal
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def handle(client, target):
    try:
        upstream = socket.create_connection(target, timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join()
    client.close()
    upstream.close()


def main():
    lhost, lport, thost, tport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        srv.bind((lhost, lport))
    except OSError as e:
        print("forwarder: cannot bind %s:%d: %s" % (lhost, lport, e), file=sys.stderr, flush=True)
        sys.exit(3)
    srv.listen(256)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("forwarder: %s:%d -> %s:%d" % (lhost, lport, thost, tport), flush=True)
    while True:
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(c, (thost, tport)), daemon=True).start()


if __name__ == "__main__":
    main()
