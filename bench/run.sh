#!/usr/bin/env bash
# Builds the node, the benchmark suite and the JMH micro-benchmarks, runs everything and
# regenerates BENCHMARKS.md and bench/charts/*.png.
#   bench/run.sh            full run (~15-20 min on 2 cores)
#   bench/run.sh --quick    shorter runs and smaller data sizes (~5 min)
#   bench/run.sh --only lag,wire     only some phases (see Suite.java)
#   bench/run.sh --report-only       re-render BENCHMARKS.md from bench/work/results.json
# Needs: Java 17, Maven. Optional: redis-server + redis-benchmark (baseline b), wrk
# (generator calibration), root + ip + iptables (partitions via network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
if [[ " $* " != *" --report-only "* ]]; then
  echo "== building the node (target/causalkv.jar) and installing it for the JMH module"
  mvn -B -q install -DskipTests
  echo "== building the benchmark suite"
  mvn -B -q -f bench/pom.xml package
  echo "== building the JMH micro-benchmarks"
  if ! mvn -B -q -f bench/jmh/pom.xml package; then
    echo "   JMH module did not build (node core API changed?); the suite will skip it"
  fi
fi
exec java -Xmx2g -jar bench/target/causalkv-bench.jar suite --repo "$REPO" "$@"
