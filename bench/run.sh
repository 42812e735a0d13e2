#!/usr/bin/env bash
# Builds the node, the benchmark suite and the JMH micro-benchmarks, runs everything and
# regenerates BENCHMARKS.md and bench/charts/*.png.
#   bench/run.sh            full run (~35 min on 2 cores)
#   bench/run.sh --quick    shorter windows and smaller data sizes (~12 min)
#   bench/run.sh --only single,curve  only some phases (see Suite.java), kept beside the rest
#   bench/run.sh --no-profile        without async-profiler CPU profiles
#   bench/run.sh --report-only       re-render BENCHMARKS.md from bench/work/results.json
# Needs: Java 17 (jcmd for profiles), Maven. Optional: redis-server + redis-benchmark,
# root + ip + iptables (partitions via network namespaces). Not part of CI.
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
