"""The harness client itself: `requests`-style form encoding of both payload styles,
and the token helpers (no cluster needed)."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness.client import (decode_token, legacy_payload, requests_form, seal_token, token_body, token_key_id,  # noqa: E402
                            token_parts, TOKEN_RE)

CASES = [
    {"payload": {"vc": {"a": 1}, "sig": "x"}, "val": "v"},
    {"payload": "AQ.x-_", "val": None},
    {"payload": json.dumps("AQ.x")},
    {"payload": json.dumps({"vc": {"a": 1}})},
    {"payload": 5, "l": ["a", "b"], "t": ("c",)},
]
EXPECTED = [
    "payload=vc&payload=sig&val=v",
    "payload=AQ.x-_",
    "payload=%22AQ.x%22",
    "payload=%7B%22vc%22%3A+%7B%22a%22%3A+1%7D%7D",
    "payload=5&l=a&l=b&t=c",
]


class FormEncoding(unittest.TestCase):
    def test_like_requests(self):
        """Strings as Python requests 2.28 produced them (RequestEncodingMixin._encode_params)."""
        for data, want in zip(CASES, EXPECTED):
            self.assertEqual(requests_form(data), want, data)

    def test_against_the_real_requests_when_installed(self):
        """Cross-check with Debian's python3-requests where it is installed (`.ci/run` installs it)."""
        probe = "import requests,json,sys; from requests.models import RequestEncodingMixin as R; " \
                "print(json.dumps([R._encode_params(d) for d in json.loads(sys.stdin.read())]))"
        for py in ("/usr/bin/python3", sys.executable):
            try:
                p = subprocess.run([py, "-c", probe], input=json.dumps(CASES), capture_output=True, text=True, timeout=30)
            except OSError:
                continue
            if p.returncode == 0:
                self.assertEqual(json.loads(p.stdout), [requests_form(d) for d in CASES])
                return
        self.skipTest("python requests is not installed here")


class Token(unittest.TestCase):
    def test_round_trip_and_layout(self):
        vc = {"10.0.0.3:8080#b": 300, "10.0.0.2:8080#a": 1}
        kid = bytes([10, 11, 12, 13, 14, 15])
        tok = seal_token(vc, key=b"k", key_id=kid)
        self.assertRegex(tok, TOKEN_RE)
        self.assertEqual(decode_token(tok), vc)
        self.assertEqual(token_key_id(tok), kid)
        self.assertEqual(decode_token(seal_token(vc)), vc, "version 1 still reads")
        self.assertEqual(token_body({"b": 300, "a": 1}, kid),
                         bytes([2, 10, 11, 12, 13, 14, 15, 2, 1, ord("a"), 1, 1, ord("b"), 0xAC, 0x02]))
        self.assertEqual(token_body({"b": 300, "a": 1}), bytes([1, 2, 1, ord("a"), 1, 1, ord("b"), 0xAC, 0x02]))
        body, seal = token_parts(tok)
        self.assertEqual(len(seal), 16)
        self.assertIsNone(decode_token("not a token"))
        self.assertIsNone(decode_token({"vc": {}}))

    def test_legacy_form(self):
        p = legacy_payload({"a": 1})
        self.assertEqual(set(p), {"vc", "sig"})
        self.assertEqual(len(p["sig"]), 32)


if __name__ == "__main__":
    unittest.main()
