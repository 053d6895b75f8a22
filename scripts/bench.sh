#!/usr/bin/env bash
# Benchmarks fastmcp-server on this machine: throughput and latency of tools/call echo over
# Streamable HTTP (JSON) and the seed transport (202 + SSE) at 1, 16 and 64 keep-alive
# connections, the same load against a bare tiny_http server (the library's ceiling), RSS idle,
# after load and holding 1,000 / 5,000 SSE streams, 200 concurrent sleep(1), cold start.
# The server is pinned to CPU 0 and the load generator to CPU 1. Every answer is verified.
# Usage: scripts/bench.sh [SECONDS_PER_RUN]   (default 5). Results: stdout and target/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bin=$(scripts/build-static.sh | tail -1)
cargo build --release --quiet --examples
gen=target/release/examples/loadgen
bare=target/release/examples/bare_tiny_http
out=target/bench.md
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# start CMD... -> sets $pid and $addr
start() {
  local log
  log=$(mktemp)
  taskset -c 0 "$@" >"$log" 2>/dev/null &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
  addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 | sed 's|http://||')
  rm -f "$log"
}
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
mib() { awk "BEGIN{printf \"%.1f\", $1/1024}"; }
run() { taskset -c 1 "$gen" "$@"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

{
echo "## Benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); server pinned to CPU 0, load to CPU 1, ${secs} s per run)"
echo
echo "Command: \`scripts/bench.sh $secs\`. Binary: static release build ($(stat -c %s "$bin") bytes)."
echo
start "$bare" 0 4
declare -A ceiling
echo "| load | connections | req/s | p50 ms | p99 ms | errors | vs bare tiny_http |"
echo "|---|---|---|---|---|---|---|"
for c in 1 16 64; do
  line=$(run bare "$addr" "$c" "$secs")
  ceiling[$c]=$(echo "$line" | field rps)
  echo "| bare tiny_http, fixed body | $c | $(echo "$line" | field rps) | $(echo "$line" | field p50_ms) | $(echo "$line" | field p99_ms) | $(echo "$line" | field errors) | 1.00 |"
done
kill "$pid"
start "$bin" --host 127.0.0.1 --port 0
server=$pid
sleep 0.5
idle=$(rss_kib "$server")
for mode in streamable seed; do
  for c in 1 16 64; do
    line=$(run "$mode" "$addr" "$c" "$secs")
    rps=$(echo "$line" | field rps)
    ratio=$(awk "BEGIN{printf \"%.2f\", $rps/${ceiling[$c]}}")
    label=$([ "$mode" = streamable ] && echo "Streamable HTTP, JSON" || echo "seed, 202 + SSE event")
    echo "| $label | $c | $rps | $(echo "$line" | field p50_ms) | $(echo "$line" | field p99_ms) | $(echo "$line" | field errors) | $ratio |"
  done
done
after=$(rss_kib "$server")
kill "$server"
echo
echo "| measure | result |"
echo "|---|---|"
echo "| RSS idle | $(mib "$idle") MiB |"
echo "| RSS after the load runs above | $(mib "$after") MiB |"
for n in 1000 5000; do
  start "$bin" --host 127.0.0.1 --port 0
  server=$pid
  hold_log=$(mktemp)
  taskset -c 1 "$gen" hold "$addr" "$n" 30 >"$hold_log" &
  holder=$!
  pids+=("$holder")
  for _ in $(seq 1 600); do grep -q holding "$hold_log" && break; sleep 0.1; done
  sleep 1
  echo "| RSS holding $(sed -n 's/holding \([0-9]*\) streams/\1/p' "$hold_log") SSE streams | $(mib "$(rss_kib "$server")") MiB |"
  kill "$holder" "$server" 2>/dev/null || true
  wait "$holder" 2>/dev/null || true
  rm -f "$hold_log"
done
start "$bin" --host 127.0.0.1 --port 0
line=$(run sleeps "$addr" 200)
echo "| 200 concurrent sleep(1), Streamable HTTP, 4 workers | $(echo "$line" | field wall_s) s wall, $(echo "$line" | field ok) answered, $(echo "$line" | field errors) errors |"
kill "$pid"
line=$(run coldstart "$bin" 20)
echo "| cold start to first answered initialize (median of 20) | $(echo "$line" | field median_ms) ms (min $(echo "$line" | field min_ms) ms) |"
} | tee "$out"
