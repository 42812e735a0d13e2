"""A cluster of real node processes, each in its own Linux network namespace with
its own IP on a shared bridge: the Docker set-up of the course, without Docker.

Everything a run creates is named after its run id X (1..254):
  bridge  ckvbrX (host side IP 10.199.X.1/24)
  node i  namespace ckvXn<i>, IP 10.199.X.(i+1), listening on 0.0.0.0:8080,
          host-side veth ckvXv<i>, inside the namespace the link is eth0,
          published on 127.0.0.1:<port_base+i-1> by a small TCP forwarder
  state   /tmp/ckv-harness-X/ (state.json, per-node logs and DATA_DIRs)
`down` removes exactly these, found both from the state file and by name, so it
also cleans up after a crash of the harness itself.

Faults, all inside the node namespaces (host <-> node traffic is never blocked,
so a test client can always reach every live node):
  partitions  iptables DROP rules between node IPs (chain CKVPART)
  loss        tc netem if the kernel has it, else iptables `statistic` (CKVLOSS)
  delay       tc netem if the kernel has it, else a userspace NFQUEUE delayer
              (harness/nfqdelay.py, chain CKVDELAY)
  kill/stop   SIGKILL / SIGTERM of the node process; restart keeps DATA_DIR
  skew        restart with CLOCK_SKEW_MS
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

from . import client

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_JAR = os.path.join(REPO, "target", "causalkv.jar")
STATE_ROOT = "/tmp"
NODE_PORT = 8080
DEFAULT_JAVA_OPTS = ["-Xmx256m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                     "-XX:CICompilerCount=1", "-Xshare:auto"]


class HarnessError(Exception):
    pass


def _say(msg):
    print("[cluster] " + msg, flush=True)


def sh(cmd, check=True, input=None, quiet=False):
    """Run a command (list); return CompletedProcess.  Raises HarnessError on failure if check."""
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise HarnessError("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr.strip()))
    return p


def build_jar(jar):
    """Build target/causalkv.jar with Maven if it is missing (only the default jar)."""
    if os.path.exists(jar):
        return jar
    if os.path.abspath(jar) != os.path.abspath(DEFAULT_JAR):
        raise HarnessError("jar not found: %s" % jar)
    _say("jar missing, building: mvn -B -q package -DskipTests (in %s)" % REPO)
    p = subprocess.run(["mvn", "-B", "-q", "package", "-DskipTests"], cwd=REPO)
    if p.returncode != 0 or not os.path.exists(jar):
        raise HarnessError("maven build failed; no %s" % jar)
    return jar


def proc_start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return int(data[data.rindex(")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def proc_alive(pid, start_time):
    """True if pid is still the very process we started (guards against pid reuse)."""
    if not pid:
        return False
    st = proc_start_time(pid)
    if st is None or st != start_time:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def kill_proc(pid, start_time, sig):
    if proc_alive(pid, start_time):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


_CHILDREN = {}  # pid -> Popen of every process this Python process started


def _spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    _CHILDREN[p.pid] = p
    return p


def _reap():
    """Reap exited children we started, so a killed node does not linger as a zombie."""
    for pid, p in list(_CHILDREN.items()):
        if p.poll() is not None:
            del _CHILDREN[pid]


class Node:
    def __init__(self, d):
        self.__dict__.update(d)

    def to_dict(self):
        return dict(self.__dict__)

    @property
    def ip_port(self):
        return "%s:%d" % (self.ip, NODE_PORT)

    @property
    def published(self):
        return "127.0.0.1:%d" % self.port

    def addr(self, direct=False):
        """Where a test client sends requests: the published localhost port, or the
        namespace address directly (host side of the bridge has an IP)."""
        return self.ip_port if direct else self.published

    def __repr__(self):
        return "<%s %s pub %s>" % (self.name, self.ip_port, self.published)


class Cluster:
    """The cluster of one run.  Create with Cluster.create(...), re-open with
    Cluster.load(run_id) (the CLI does that for every command)."""

    def __init__(self, state, log=_say):
        self.s = state
        self.log = log
        self.nodes = [Node(n) for n in state["nodes"]]

    # ---------------------------------------------------------------- state
    @property
    def run_id(self):
        return self.s["run_id"]

    @property
    def dir(self):
        return self.s["dir"]

    @property
    def bridge(self):
        return "ckvbr%d" % self.run_id

    @property
    def subnet(self):
        return "10.199.%d" % self.run_id

    @property
    def token(self):
        return self.s.get("token")

    def save(self):
        self.s["nodes"] = [n.to_dict() for n in self.nodes]
        tmp = os.path.join(self.dir, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.s, f, indent=1)
        os.replace(tmp, os.path.join(self.dir, "state.json"))

    @staticmethod
    def state_dir(run_id):
        return os.path.join(STATE_ROOT, "ckv-harness-%d" % run_id)

    @classmethod
    def load(cls, run_id, log=_say):
        path = os.path.join(cls.state_dir(run_id), "state.json")
        if not os.path.exists(path):
            raise HarnessError("no run %d (%s missing)" % (run_id, path))
        with open(path) as f:
            return cls(json.load(f), log)

    @staticmethod
    def _allocate_run_id(wanted=None):
        routes = sh(["ip", "-o", "route", "show"]).stdout
        links = sh(["ip", "-o", "link", "show"]).stdout
        candidates = [wanted] if wanted else random.sample(range(2, 250), 248)
        for x in candidates:
            if "10.199.%d." % x in routes or "ckvbr%d:" % x in links or "ckvbr%d@" % x in links:
                continue
            try:
                os.mkdir(Cluster.state_dir(x))  # atomic: our lock on this id
                return x
            except FileExistsError:
                continue
        raise HarnessError("no free run id (wanted %s)" % wanted)

    @classmethod
    def create(cls, jar=None, run_id=None, port_base=None, durable=True, causal_wait_ms=None, token=None,
               java_opts=None, extra_env=None, node_cmd=None, log=_say):
        """Allocate a run id and its bridge (no nodes yet; see up()).  node_cmd
        replaces `java ... -jar JAR` (used to test the harness with a fake node)."""
        jar = os.path.abspath(jar or DEFAULT_JAR) if node_cmd else os.path.abspath(build_jar(jar or DEFAULT_JAR))
        x = cls._allocate_run_id(run_id)
        d = cls.state_dir(x)
        state = {
            "run_id": x, "dir": d, "jar": jar, "created": time.time(),
            "port_base": port_base if port_base else 20000 + x * 20,
            "durable": durable, "causal_wait_ms": causal_wait_ms, "token": token,
            "java_opts": java_opts or DEFAULT_JAVA_OPTS, "extra_env": extra_env or {},
            "node_cmd": node_cmd, "nodes": [], "blocked": [],
            "owner_pid": os.getpid(), "owner_start": proc_start_time(os.getpid()), "owner": "api", "host_fw_rule": False, "netem": None,
        }
        c = cls(state, log)
        c.save()
        _LIVE[x] = c
        try:
            c._make_bridge()
        except BaseException:
            c.down()
            raise
        return c

    # ---------------------------------------------------------------- network
    def _make_bridge(self):
        br = self.bridge
        self.log("run %d: bridge %s %s.1/24" % (self.run_id, br, self.subnet))
        sh(["ip", "link", "add", br, "type", "bridge"])
        sh(["ip", "addr", "add", "%s.1/24" % self.subnet, "dev", br])
        sh(["ip", "link", "set", br, "up"])
        # Bridged frames traverse the host's FORWARD chain when br_netfilter is on;
        # if its policy drops, let our own bridge's traffic through (removed on down).
        fw = sh(["iptables", "-S", "FORWARD"], check=False).stdout
        if "-P FORWARD DROP" in fw or "-P FORWARD REJECT" in fw:
            sh(["iptables", "-I", "FORWARD", "-i", br, "-o", br, "-j", "ACCEPT",
                "-m", "comment", "--comment", "ckv-harness-%d" % self.run_id])
            self.s["host_fw_rule"] = True
        self.save()

    def _ns_exec(self, node, cmd, check=True, input=None):
        return sh(["ip", "netns", "exec", node.ns] + cmd, check=check, input=input)

    def _make_ns(self, node):
        ns, hv, pv = node.ns, node.hveth, "ckv%dp%d" % (self.run_id, node.idx)
        self.log("%s: netns %s, %s/24 on %s (veth %s)" % (node.name, ns, node.ip, self.bridge, hv))
        sh(["ip", "netns", "add", ns])
        sh(["ip", "link", "add", hv, "type", "veth", "peer", "name", pv])
        sh(["ip", "link", "set", pv, "netns", ns])
        sh(["ip", "-n", ns, "link", "set", pv, "name", "eth0"])
        sh(["ip", "-n", ns, "addr", "add", "%s/24" % node.ip, "dev", "eth0"])
        sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "link", "set", hv, "master", self.bridge, "up"])
        rules = "\n".join([
            "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
            ":CKVPART - [0:0]", ":CKVLOSS - [0:0]", ":CKVDELAY - [0:0]",
            "-A INPUT -j CKVPART", "-A OUTPUT -j CKVPART", "-A OUTPUT -j CKVLOSS", "-A OUTPUT -j CKVDELAY",
            "COMMIT", ""])
        self._ns_exec(node, ["iptables-restore"], input=rules)

    def _netem_available(self, node):
        if self.s.get("netem") is None:
            p = self._ns_exec(node, ["tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "0ms"], check=False)
            ok = p.returncode == 0
            if ok:
                self._ns_exec(node, ["tc", "qdisc", "del", "dev", "eth0", "root"], check=False)
            self.s["netem"] = ok
            self.save()
            if not ok:
                self.log("kernel has no sch_netem: delay via NFQUEUE delayer, loss via iptables statistic")
        return self.s["netem"]

    def _apply_blocked(self):
        """Rewrite every namespace's CKVPART chain from self.s['blocked'] (pairs of names)."""
        by_name = {n.name: n for n in self.nodes}
        for n in self.nodes:
            if not n.ns_up:
                continue
            lines = ["*filter", ":CKVPART - [0:0]"]
            for a, b in self.s["blocked"]:
                other = b if a == n.name else a if b == n.name else None
                if other and other in by_name:
                    ip = by_name[other].ip
                    lines.append("-A CKVPART -s %s/32 -j DROP" % ip)
                    lines.append("-A CKVPART -d %s/32 -j DROP" % ip)
            lines += ["COMMIT", ""]
            self._ns_exec(n, ["iptables-restore", "--noflush"], input="\n".join(lines))

    # ---------------------------------------------------------------- nodes
    def node(self, ref):
        """Resolve 'n2', '2', an IP, 'ip:port' or a published 'host:port' to a Node."""
        if isinstance(ref, Node):
            return ref
        r = str(ref).strip()
        for n in self.nodes:
            if r in (n.name, str(n.idx), n.ip, n.ip_port, n.published, str(n.port)):
                return n
        raise HarnessError("no node %r in run %d (have %s)" % (ref, self.run_id, ", ".join(n.name for n in self.nodes)))

    def _new_node(self):
        idx = max([n.idx for n in self.nodes] + [0]) + 1
        if idx > 200:
            raise HarnessError("too many nodes")
        node = Node({
            "name": "n%d" % idx, "idx": idx, "ip": "%s.%d" % (self.subnet, idx + 1),
            "ns": "ckv%dn%d" % (self.run_id, idx), "hveth": "ckv%dv%d" % (self.run_id, idx),
            "port": self.s["port_base"] + idx - 1,
            "data_dir": os.path.join(self.dir, "n%d" % idx, "data"),
            "log": os.path.join(self.dir, "n%d" % idx, "node.log"),
            "pid": None, "pid_start": None, "fw_pid": None, "fw_start": None,
            "dl_pid": None, "dl_start": None, "skew_ms": 0, "delay_ms": 0, "loss_pct": 0,
            "ns_up": False, "view": None, "member": True, "starts": 0,
        })
        os.makedirs(os.path.dirname(node.log), exist_ok=True)
        self.nodes.append(node)
        self.save()
        self._make_ns(node)
        node.ns_up = True
        self.save()
        self._start_forwarder(node)
        return node

    def _start_forwarder(self, node):
        logf = open(os.path.join(self.dir, node.name, "forwarder.log"), "ab")
        p = _spawn([sys.executable, os.path.join(HERE, "forwarder.py"), "127.0.0.1", str(node.port),
                              node.ip, str(NODE_PORT)], stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        time.sleep(0.05)
        node.fw_pid, node.fw_start = p.pid, proc_start_time(p.pid)
        self.save()
        deadline = time.time() + 5
        while time.time() < deadline:
            if p.poll() is not None:
                raise HarnessError("cannot publish %s on 127.0.0.1:%d (port taken? use --port-base)" % (node.name, node.port))
            try:
                socket.create_connection(("127.0.0.1", node.port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        self.log("%s: published on 127.0.0.1:%d -> %s" % (node.name, node.port, node.ip_port))

    def members(self):
        return [n for n in self.nodes if n.member]

    def view_string(self, nodes=None):
        return ",".join(n.ip_port for n in (nodes if nodes is not None else self.members()))

    def start(self, ref, view=None, skew_ms=None, wait=True, extra_env=None):
        """Start the node process (it must not be running).  VIEW defaults to the
        node's last view, else every member."""
        node = self.node(ref)
        if self.running(node):
            raise HarnessError("%s is already running (pid %d)" % (node.name, node.pid))
        if skew_ms is not None:
            node.skew_ms = int(skew_ms)
        if view is not None:
            node.view = view
        if not node.view:
            node.view = self.view_string()
        os.makedirs(node.data_dir, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "JAVA_HOME", "LANG", "HOME", "TZ")}
        env.update({
            "VIEW": node.view, "IP_PORT": node.ip_port, "PORT": str(NODE_PORT), "BIND": "0.0.0.0",
            "DATA_DIR": node.data_dir if self.s["durable"] else ":memory:",
            "CLOCK_SKEW_MS": str(node.skew_ms),
        })
        if self.s.get("causal_wait_ms") is not None:
            env["CAUSAL_WAIT_MS"] = str(self.s["causal_wait_ms"])
        if self.token:
            env["CLUSTER_TOKEN"] = self.token
        # the harness reads /admin/state from the host side of the bridge (through the forwarder):
        # without a token, admin answers only loopback, members and ADMIN_FROM
        env["ADMIN_FROM"] = "%s.1" % self.subnet
        env.update(self.s.get("extra_env") or {})
        env.update(extra_env or {})
        logf = open(node.log, "ab")
        logf.write(("\n==== start %s VIEW=%s IP_PORT=%s DATA_DIR=%s CLOCK_SKEW_MS=%s at %s\n" % (
            node.name, env["VIEW"], env["IP_PORT"], env["DATA_DIR"], env["CLOCK_SKEW_MS"],
            time.strftime("%H:%M:%S"))).encode())
        logf.flush()
        cmd = self.s.get("node_cmd") or (["java"] + list(self.s["java_opts"]) + ["-jar", self.s["jar"]])
        p = _spawn(["ip", "netns", "exec", node.ns] + cmd, env=env, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        node.pid = p.pid
        node.pid_start = None
        for _ in range(50):
            node.pid_start = proc_start_time(p.pid)
            if node.pid_start is not None:
                break
            time.sleep(0.01)
        node.starts += 1
        self.save()
        self.log("%s: started pid %d in %s VIEW=%s IP_PORT=%s%s" % (
            node.name, p.pid, node.ns, node.view, node.ip_port,
            " CLOCK_SKEW_MS=%d" % node.skew_ms if node.skew_ms else ""))
        if wait:
            self.wait_ready(node)
        return node

    def running(self, ref):
        n = self.node(ref)
        _reap()
        return proc_alive(n.pid, n.pid_start)

    def wait_ready(self, ref, timeout=60.0):
        node = self.node(ref)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.running(node):
                tail = ""
                try:
                    with open(node.log, "rb") as f:
                        tail = f.read()[-2000:].decode("utf-8", "replace")
                except OSError:
                    pass
                raise HarnessError("%s exited during start-up; log tail:\n%s" % (node.name, tail))
            r = client.get_view(node.ip_port, timeout=1.0)
            if r.status == 200:
                return node
            time.sleep(0.1)
        raise HarnessError("%s not ready after %.0fs (log: %s)" % (node.name, timeout, node.log))

    def up(self, n, wait=True):
        """Create n nodes with VIEW = all of them, start them all, wait until each answers."""
        new = [self._new_node() for _ in range(n)]
        view = self.view_string()
        for node in new:
            self.start(node, view=view, wait=False)
        if wait:
            for node in new:
                self.wait_ready(node)
            self.wait_keys(new)
            self.log("up: %d nodes ready: %s" % (len(new), view))
        return new

    def wait_keys(self, nodes, timeout=15.0):
        """Wait (bounded) until each node knows every member's payload seal key, which it learns
        with its first pull from that member (or from one that had it): until then a payload sealed
        by a member it has not heard from waits and answers "Payload out of date", and a partition
        made within milliseconds of start-up would test that rather than the scenario.  The
        course's own scripts wait seconds after `docker run`.  Nodes that do not report it
        (CKV_NODE_CMD) are not waited for."""
        deadline = time.time() + timeout
        for node in nodes:
            while time.time() < deadline:
                r = client.admin_stats(node.ip_port, self.token, timeout=1.0)
                keys = r.body.get("sealKeys") if r.status == 200 and isinstance(r.body, dict) else None
                if not isinstance(keys, dict) or not keys.get("missing"):
                    break
                time.sleep(0.05)

    def add(self, join_via=None, start=True, join=True):
        """Create one more node started with VIEW = members + itself; then, unless
        join=False, `PUT /view ip_port=<new>` at join_via (default: first running member)."""
        node = self._new_node()
        view = self.view_string()
        if start:
            self.start(node, view=view)
        if join:
            via = self.node(join_via) if join_via else next(n for n in self.members() if n is not node and self.running(n))
            r = client.put_view(via.addr(direct=True), node.ip_port)
            self.log("PUT /view ip_port=%s at %s -> %s" % (node.ip_port, via.name, r))
        self._apply_blocked()
        return node

    def kill(self, ref):
        node = self.node(ref)
        if not self.running(node):
            self.log("%s: not running" % node.name)
            return node
        kill_proc(node.pid, node.pid_start, signal.SIGKILL)
        self._wait_exit(node, 10)
        self.log("%s: killed (SIGKILL) pid %d" % (node.name, node.pid))
        return node

    def stop(self, ref, timeout=15.0):
        node = self.node(ref)
        if not self.running(node):
            self.log("%s: not running" % node.name)
            return node
        kill_proc(node.pid, node.pid_start, signal.SIGTERM)
        if not self._wait_exit(node, timeout):
            kill_proc(node.pid, node.pid_start, signal.SIGKILL)
            self._wait_exit(node, 5)
            self.log("%s: did not stop on SIGTERM in %.0fs, killed" % (node.name, timeout))
        else:
            self.log("%s: stopped (SIGTERM) pid %d" % (node.name, node.pid))
        return node

    def _wait_exit(self, node, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.running(node):
                return True
            time.sleep(0.05)
        return False

    def restart(self, ref, wipe=False, skew_ms=None, kill=False, wait=True):
        """Stop (or kill) and start again; DATA_DIR is kept unless wipe."""
        node = self.node(ref)
        if self.running(node):
            (self.kill if kill else self.stop)(node)
        if wipe and os.path.isdir(node.data_dir):
            shutil.rmtree(node.data_dir)
            self.log("%s: wiped %s" % (node.name, node.data_dir))
        return self.start(node, skew_ms=skew_ms, wait=wait)

    def skew(self, ref, ms, wait=True):
        node = self.node(ref)
        self.log("%s: clock skew %+d ms (restart with CLOCK_SKEW_MS)" % (node.name, int(ms)))
        return self.restart(node, skew_ms=int(ms), wait=wait)

    # ---------------------------------------------------------------- faults
    def partition(self, groups):
        """Cut every link between nodes of different groups (lists of refs).  Nodes
        in no group keep all their links.  Replaces any earlier partition."""
        gs = [[self.node(r).name for r in g] for g in groups]
        blocked = []
        for i, g in enumerate(gs):
            for h in gs[i + 1:]:
                for a in g:
                    for b in h:
                        if a != b:
                            blocked.append(sorted([a, b]))
        self.s["blocked"] = blocked
        self.save()
        self._apply_blocked()
        self.log("partition %s (cut %d links: %s)" % (" | ".join(",".join(g) for g in gs), len(blocked),
                                                   " ".join("%s-%s" % tuple(p) for p in blocked) or "none"))

    def cut(self, a, b):
        """Add one cut link a-b to the current partition."""
        pair = sorted([self.node(a).name, self.node(b).name])
        if pair not in self.s["blocked"]:
            self.s["blocked"].append(pair)
        self.save()
        self._apply_blocked()
        self.log("cut %s-%s" % tuple(pair))

    def isolate(self, ref):
        node = self.node(ref)
        self.partition([[node.name], [n.name for n in self.nodes if n is not node]])

    def heal(self, net=False):
        """Remove every partition rule (and, with net=True, all delay and loss too)."""
        self.s["blocked"] = []
        self.save()
        self._apply_blocked()
        self.log("heal: all links restored")
        if net:
            for n in self.nodes:
                if n.delay_ms or n.loss_pct:
                    self.clear_net(n)

    def blocked_pairs(self):
        return [tuple(p) for p in self.s["blocked"]]

    def delay(self, ref, ms, jitter_ms=0):
        """Delay every packet node sends by ms (0 removes)."""
        node = self.node(ref)
        node.delay_ms = float(ms)
        node.delay_jitter = float(jitter_ms)
        self.save()
        self._apply_tc(node)
        self.log("%s: delay %s ms%s" % (node.name, ms, " +-%s" % jitter_ms if jitter_ms else ""))

    def loss(self, ref, pct):
        """Drop pct percent of the packets node sends (0 removes)."""
        node = self.node(ref)
        node.loss_pct = float(pct)
        self.save()
        self._apply_tc(node)
        self.log("%s: loss %s%%" % (node.name, pct))

    def clear_net(self, ref):
        node = self.node(ref)
        node.delay_ms = 0
        node.loss_pct = 0
        self.save()
        self._apply_tc(node)
        self.log("%s: delay and loss removed" % node.name)

    def _apply_tc(self, node):
        d, l, j = node.delay_ms, node.loss_pct, getattr(node, "delay_jitter", 0)
        if self._netem_available(node):
            self._ns_exec(node, ["tc", "qdisc", "del", "dev", "eth0", "root"], check=False)
            if d or l:
                cmd = ["tc", "qdisc", "add", "dev", "eth0", "root", "netem"]
                if d:
                    cmd += ["delay", "%dms" % d] + (["%dms" % j] if j else [])
                if l:
                    cmd += ["loss", "%g%%" % l]
                self._ns_exec(node, cmd)
            return
        # Fallback: loss in the kernel, delay in userspace.
        lines = ["*filter", ":CKVLOSS - [0:0]", ":CKVDELAY - [0:0]"]
        if l:
            lines.append("-A CKVLOSS -o eth0 -m statistic --mode random --probability %.4f -j DROP" % (l / 100.0))
        if d:
            lines.append("-A CKVDELAY -o eth0 -j NFQUEUE --queue-num 0 --queue-bypass")
        lines += ["COMMIT", ""]
        kill_proc(node.dl_pid, node.dl_start, signal.SIGTERM)
        node.dl_pid = node.dl_start = None
        if d:
            logf = open(os.path.join(self.dir, node.name, "delayer.log"), "ab")
            p = _spawn(["ip", "netns", "exec", node.ns, sys.executable, os.path.join(HERE, "nfqdelay.py"),
                                  "--queue", "0", "--delay-ms", str(d), "--jitter-ms", str(j)],
                                 stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
            logf.close()
            time.sleep(0.05)
            node.dl_pid, node.dl_start = p.pid, proc_start_time(p.pid)
            time.sleep(0.2)
        self._ns_exec(node, ["iptables-restore", "--noflush"], input="\n".join(lines))
        self.save()

    # ---------------------------------------------------------------- status / down
    def status(self):
        rows = []
        for n in self.nodes:
            alive = self.running(n)
            view = None
            if alive:
                r = client.get_view(n.ip_port, timeout=1.0)
                view = r.get("view") if r.status == 200 else repr(r)
            cut = sorted(b if a == n.name else a for a, b in self.s["blocked"] if n.name in (a, b))
            rows.append({"name": n.name, "ip_port": n.ip_port, "published": n.published, "ns": n.ns,
                         "pid": n.pid if alive else None, "alive": alive, "skew_ms": n.skew_ms,
                         "delay_ms": n.delay_ms, "loss_pct": n.loss_pct, "cut_from": cut, "view": view,
                         "member": n.member})
        return rows

    def down(self, keep_logs=False):
        """Remove every process, namespace, link, rule and file this run made."""
        x = self.run_id
        for n in self.nodes:
            for pid, st in ((n.pid, n.pid_start), (n.dl_pid, n.dl_start), (n.fw_pid, n.fw_start)):
                kill_proc(pid, st, signal.SIGKILL)
        # Processes started by a crashed harness before their pid was saved: find them
        # by the namespace they run in (only ours are in our namespaces).
        for ns in self._our_namespaces():
            p = sh(["ip", "netns", "pids", ns], check=False)
            for pid in p.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        time.sleep(0.1)
        _reap()
        for ns in self._our_namespaces():
            sh(["ip", "netns", "del", ns], check=False)
        links = sh(["ip", "-o", "link", "show"], check=False).stdout
        for line in links.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            if name == self.bridge or (name.startswith("ckv%dv" % x) and name[len("ckv%dv" % x):].isdigit()):
                sh(["ip", "link", "del", name], check=False)
        if self.s.get("host_fw_rule"):
            sh(["iptables", "-D", "FORWARD", "-i", self.bridge, "-o", self.bridge, "-j", "ACCEPT",
                "-m", "comment", "--comment", "ckv-harness-%d" % x], check=False)
        _LIVE.pop(x, None)
        if keep_logs:
            dest = "/tmp/ckv-harness-logs-%d-%s" % (x, time.strftime("%Y%m%d-%H%M%S"))
            shutil.move(self.dir, dest)
            self.log("run %d down; logs kept in %s" % (x, dest))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.log("run %d down; everything removed" % x)

    def _our_namespaces(self):
        out = sh(["ip", "netns", "list"], check=False).stdout
        pre = "ckv%dn" % self.run_id
        names = []
        for line in out.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(pre) and name[len(pre):].isdigit():
                names.append(name)
        return names

    # ---------------------------------------------------------------- helpers for tests
    def addrs(self, direct=False):
        return [n.addr(direct) for n in self.nodes]

    def state_of(self, ref, timeout=5.0):
        node = self.node(ref)
        return client.admin_state(node.ip_port, self.token, timeout)


_LIVE = {}  # run id -> Cluster created by this process and not yet down


def down_all(keep_logs=True):
    """Tear down every cluster this process created (signal handlers, atexit)."""
    for c in list(_LIVE.values()):
        try:
            c.down(keep_logs=keep_logs)
        except Exception as e:  # keep going: remove as much as possible
            print("[cluster] down of run %d failed: %s" % (c.run_id, e), flush=True)


def install_cleanup(before=None):
    """On SIGTERM/SIGINT/exit, remove what this process created, then exit.
    `before` (optional) runs first, e.g. to stop a child harness process."""
    import atexit

    def handler(signum, frame):
        if before:
            before()
        down_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    atexit.register(down_all)


def gc_runs(log=_say):
    """Remove runs whose creating process is gone (CLI-made runs are left alone)."""
    removed = []
    for x in list_runs():
        try:
            c = Cluster.load(x, log)
        except (HarnessError, ValueError, OSError):
            continue
        if c.s.get("owner") != "api":
            continue
        if proc_alive(c.s.get("owner_pid"), c.s.get("owner_start")):
            continue
        c.down(keep_logs=True)
        removed.append(x)
    return removed


def list_runs():
    runs = []
    for name in sorted(os.listdir(STATE_ROOT)):
        if name.startswith("ckv-harness-") and name[len("ckv-harness-"):].isdigit():
            runs.append(int(name[len("ckv-harness-"):]))
    return runs
