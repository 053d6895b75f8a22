#!/usr/bin/env bash
# Soak test (not part of the default test run): many sessions on loopback make random calls, cut
# their streams at random and resume them with Last-Event-ID, for a bounded time. Checks that every
# request got exactly one response, no event arrived twice and progress never went backwards
# (examples/soak.rs), and prints RSS, threads and sessions before and after.
# Usage: scripts/soak.sh [SECONDS] [SESSIONS]   (defaults 120 and 40)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
sessions=${2:-40}
cargo build --release --quiet --bins --example soak
log=$(mktemp)
target/release/fastmcp-server --host 127.0.0.1 --port 0 --session-ttl-secs 2 --keepalive-secs 1 >"$log" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 | sed 's|http://||')
sleep 0.5
rss() { awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status"; }
threads() { ls "/proc/$pid/task" | wc -l; }
health_sessions() { curl -s "http://$addr/health" | sed 's/.*"sessions":\([0-9]*\).*/\1/'; }
before="RSS $(rss) MiB, $(threads) threads, $(health_sessions) sessions"
rc=0
line=$(target/release/examples/soak "$addr" "$sessions" "$secs" 2>&1 | tail -1) || rc=$?
# Dead clients are noticed at the next keepalive (1 s), idle connection threads retire (2 s)
# and sessions expire (--session-ttl-secs 2).
sleep 6
after="RSS $(rss) MiB, $(threads) threads, $(health_sessions) sessions"
echo "$line"
echo "before: $before"
echo "after:  $after"
exit $rc
