"""docker-compose.yml as users run it: three nodes on the course's subnet with fixed addresses,
healthy (GET /ready) and replicating, then a partition with the README's recipe.  Runs after
test_course.py has removed its network (both use 10.0.0.0/16).  Skipped without docker-compose."""
import os
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import course  # noqa: E402
from harness.client import Session  # noqa: E402

PROJECT = "ckvtier%s" % course.RUN_ID


def compose(args, check=True):
    return course.sh("cd %s && CKV_IMAGE=%s docker-compose -p %s %s" % (ROOT, course.IMAGE, PROJECT, args), check=check)


@unittest.skipUnless(shutil.which("docker-compose"), "docker-compose is not installed")
class Compose(unittest.TestCase):
    def setUp(self):
        self.addCleanup(lambda: compose("down -v --remove-orphans", check=False))

    def test_three_nodes_healthy_replicating_and_partitioned(self):
        compose("config -q")
        compose("up -d")
        names = ["%s_node%d_1" % (PROJECT, i) for i in (1, 2, 3)]

        def all_healthy():
            states = [course.docker("inspect -f '{{.State.Health.Status}}' %s" % n) for n in names]
            return all(s == "healthy" for s in states), states
        deadline = time.time() + 60
        while not all_healthy()[0]:
            self.assertLess(time.time(), deadline, "not healthy (GET /ready) within 60 s: %r" % (all_healthy()[1],))
            time.sleep(1)
        s = Session(timeout=10)
        self.assertEqual(s.put("localhost:8082", "c", "1").status, 200)
        self.assertEqual(s.get("localhost:8084", "c").get("value"), "1")
        from harness import client
        view = client.get_view("localhost:8083").get("view")
        self.assertEqual(set(view.split(",")), {"10.0.0.2:8080", "10.0.0.3:8080", "10.0.0.4:8080"})
        # the README's recipe: cut node3 from the others inside its network namespace
        pid = course.docker("inspect -f '{{.State.Pid}}' %s" % names[2])
        for ip in ("10.0.0.2", "10.0.0.3"):
            course.sh("nsenter -t %s -n iptables -A INPUT -s %s -j DROP" % (pid, ip))
            course.sh("nsenter -t %s -n iptables -A OUTPUT -d %s -j DROP" % (pid, ip))
        self.assertEqual(s.put("localhost:8082", "c", "2").status, 201)
        r = s.get("localhost:8084", "c")
        self.assertEqual((r.status, r.msg), (400, "Payload out of date"))
        course.sh("nsenter -t %s -n iptables -F INPUT && nsenter -t %s -n iptables -F OUTPUT" % (pid, pid))
        deadline = time.time() + 15
        while s.get("localhost:8084", "c").get("value") != "2":
            self.assertLess(time.time(), deadline, "node3 did not catch up after the heal")
            time.sleep(0.3)


if __name__ == "__main__":
    unittest.main()
