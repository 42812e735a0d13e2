#!/usr/bin/env bash
# Black-box harness for CI: real node processes in network namespaces, real faults.
# Called by .ci/run after the Java tests.  Needs root.  Prints `N passed, N failed` last.
# Env: HARNESS_FUZZ_SECONDS (default 90), HARNESS_SEED (default random; printed).
set -u
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if ! command -v ip >/dev/null || ! command -v iptables >/dev/null || ! command -v tc >/dev/null; then
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq iproute2 iptables >/dev/null 2>&1 || { echo "harness: cannot install iproute2 iptables"; echo "0 passed, 1 failed"; exit 1; }
fi
command -v python3 >/dev/null || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq python3 >/dev/null 2>&1; }
if [ ! -f target/causalkv.jar ]; then
  mvn -B -q package -DskipTests || { echo "harness: jar build failed"; echo "0 passed, 1 failed"; exit 1; }
fi
args=(--fuzz-seconds "${HARNESS_FUZZ_SECONDS:-90}")
[ -n "${HARNESS_SEED:-}" ] && args+=(--seed "$HARNESS_SEED")
timeout --kill-after=30 900 python3 test-harness/run "${args[@]}"
rc=$?
if [ "$rc" -ge 2 ]; then
  echo "harness: test-harness/run did not finish (rc $rc: set-up error, timeout or kill); clusters it started were torn down"
  echo "0 passed, 1 failed"
fi
exit "$rc"
