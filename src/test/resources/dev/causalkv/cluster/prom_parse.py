"""Parses Prometheus text exposition from stdin with the official client's parser
(prometheus_client.parser.text_string_to_metric_families) and prints the families as JSON.
Exits 3 when the module is missing, 1 when the text does not parse."""
import json
import math
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit(3)


def num(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return v


try:
    families = []
    for f in text_string_to_metric_families(sys.stdin.read()):
        families.append({
            "name": f.name,
            "type": f.type,
            "help": f.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": num(s.value)} for s in f.samples],
        })
except Exception as e:  # the parser's own error: the exposition is not valid text format
    print("parse error: %r" % (e,), file=sys.stderr)
    sys.exit(1)
json.dump({"families": families}, sys.stdout)
