"""Docker control the way the course's docker_control.py does it: one user-defined bridge network
on 10.0.0.0/16, containers started with `docker run -p 808N:8080 --net=<net> --ip=10.0.0.N
-e VIEW=... -e IP_PORT=10.0.0.N:8080 -d <tag>`, a fixed wait after starting, requests to
localhost:808N, `docker kill` between tests.  Partitions drop traffic between containers with
iptables inside each container's network namespace (nsenter), as the course's blockade does.

Everything made here carries the label causalkv-tier=<run id>, so cleanup() finds it all."""
import os
import shlex
import subprocess
import time

DOCKER = os.environ.get("DOCKER") or ("/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker")
IMAGE = os.environ.get("CKV_IMAGE", "causalkv:tier")
NET = os.environ.get("CKV_DOCKER_NET", "mynet")
SUBNET = "10.0.0.0/16"
RUN_ID = os.environ.get("CKV_TIER_RUN", str(os.getpid()))
LABEL = "causalkv-tier=%s" % RUN_ID
START_WAIT_S = float(os.environ.get("CKV_START_WAIT_S", "5"))   # the course's fixed wait after starting
VERBOSE = bool(os.environ.get("CKV_VERBOSE"))


def sh(cmd, check=True, timeout=120):
    """Run a shell command line (as docker_control.py does, with strings); returns stdout."""
    if VERBOSE:
        print("  $ " + cmd, flush=True)
    p = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("%s -> rc %d: %s" % (cmd, p.returncode, (p.stderr or p.stdout).strip()[:500]))
    return p.stdout.strip()


def docker(args, check=True, timeout=120):
    return sh(DOCKER + " " + args, check=check, timeout=timeout)


class Node:
    """One container: its name, course-style address (10.0.0.N:8080) and published localhost port."""

    def __init__(self, name, ip_port, published, cid):
        self.name, self.ip_port, self.published, self.cid = name, ip_port, published, cid

    @property
    def ip(self):
        return self.ip_port.rsplit(":", 1)[0]

    @property
    def addr(self):
        return "localhost:%d" % self.published

    def pid(self):
        return int(docker("inspect -f '{{.State.Pid}}' %s" % self.cid))

    def __repr__(self):
        return "<%s %s @%s>" % (self.name, self.ip_port, self.addr)


def ensure_network():
    """Creates the course's network, labelled as ours. One left by an earlier run of this tier
    (killed before its cleanup) is removed with its containers; anyone else's is refused."""
    key = LABEL.split("=")[0]
    p = subprocess.run([DOCKER, "network", "inspect", "-f", '{{index .Labels "%s"}}' % key, NET],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if p.returncode == 0:
        old = p.stdout.strip()
        if not old or old == "<no value>":
            raise RuntimeError("docker network %s exists and is not this tier's: remove it or set CKV_DOCKER_NET" % NET)
        ids = docker("ps -aq --filter label=%s=%s" % (key, old), check=False).split()
        if ids:
            docker("rm -f -v %s" % " ".join(ids), check=False)
        docker("network rm %s" % NET)
    docker("network create --subnet=%s --label %s %s" % (SUBNET, LABEL, NET))


def course_ip(i):
    return "10.0.0.%d" % (i + 2)


def course_port(i):
    return 8082 + i


def start(i, view, wait=True, extra=""):
    """docker run the i-th course node: -p 808(2+i):8080 --ip=10.0.0.(2+i), VIEW and IP_PORT."""
    ip_port = "%s:8080" % course_ip(i)
    name = "ckv-tier-%s-n%d" % (RUN_ID, i + 2)
    cid = docker("run -p %d:8080 --net=%s --ip=%s -e VIEW=%s -e IP_PORT=%s --name %s --label %s %s -d %s" % (
        course_port(i), NET, course_ip(i), shlex.quote(view), ip_port, name, LABEL, extra, IMAGE))
    if wait:
        time.sleep(START_WAIT_S)
    return Node(name, ip_port, course_port(i), cid)


def start_cluster(n):
    """n course nodes whose VIEW lists them all, then the course's fixed wait."""
    view = ",".join("%s:8080" % course_ip(i) for i in range(n))
    nodes = [start(i, view, wait=False) for i in range(n)]
    time.sleep(START_WAIT_S)
    return nodes


def start_named(i, name, view, wait=False):
    """A node addressed by DNS name (the Kubernetes shape): --network-alias and --hostname NAME,
    IP_PORT=NAME:8080, no fixed IP."""
    cname = "ckv-tier-%s-%s" % (RUN_ID, name)
    cid = docker("run -p %d:8080 --net=%s --network-alias %s --hostname %s -e VIEW=%s -e IP_PORT=%s:8080 "
                 "--name %s --label %s -d %s" % (course_port(i), NET, name, name, shlex.quote(view), name, cname, LABEL, IMAGE))
    if wait:
        time.sleep(START_WAIT_S)
    return Node(cname, "%s:8080" % name, course_port(i), cid)


def kill_all():
    """docker kill (and remove, with their anonymous /data volumes) every container of this run."""
    ids = docker("ps -aq --filter label=%s" % LABEL, check=False).split()
    if ids:
        docker("rm -f -v %s" % " ".join(ids), check=False)


def kill(node):
    docker("kill %s" % node.cid)


def _ns_iptables(node, rule):
    sh("nsenter -t %d -n iptables %s" % (node.pid(), rule))


def partition(side_a, side_b):
    """Drops every packet between the two sides, both directions, inside each container's network
    namespace (the host, i.e. the test client through the published ports, still reaches all)."""
    for a in side_a:
        for b in side_b:
            for x, y in ((a, b), (b, a)):
                _ns_iptables(x, "-I INPUT -s %s -j DROP" % y.ip)
                _ns_iptables(x, "-I OUTPUT -d %s -j DROP" % y.ip)


def heal(nodes):
    for n in nodes:
        _ns_iptables(n, "-F INPUT")
        _ns_iptables(n, "-F OUTPUT")


def can_reach(a, b):
    """Whether a TCP connection from inside a's network namespace reaches b:8080."""
    p = subprocess.run(["nsenter", "-t", str(a.pid()), "-n", "python3", "-c",
                        "import socket\nsocket.create_connection(('%s',8080),timeout=1).close()" % b.ip],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p.returncode == 0


def logs(node, tail=40):
    return docker("logs --tail %d %s 2>&1" % (tail, node.cid), check=False)


def cleanup():
    """Removes every container and the network of this run (images and the daemon: see run)."""
    kill_all()
    if docker("network ls -q --filter label=%s" % LABEL, check=False):
        docker("network rm %s" % NET, check=False)
