#!/usr/bin/env bash
# A/B comparison of the release binary of another revision (A) against the working tree (B), on
# the loads a refactor can regress:
# tools/call echo over Streamable HTTP (JSON), stateless 2026-07-28 and the seed transport at 16
# connections, with server CPU per request, p99, idle RSS and RSS after the loads. Rounds
# alternate A and B so drift on a shared machine hits both. Server on CPU 0, load on CPU 1.
# Usage: scripts/ab.sh REV [ROUNDS] [SECONDS]   (defaults: 3 rounds of 5 s). Output: markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: scripts/ab.sh REV [ROUNDS] [SECONDS]}
rounds=${2:-3}
secs=${3:-5}
base=target/ab-base
rm -rf "$base" && mkdir -p "$base"
git archive "$rev" | tar -x -C "$base"
(cd "$base" && cargo build --release --quiet --bin fastmcp-server --target-dir ../ab-target)
a=target/ab-target/release/fastmcp-server
cargo build --release --quiet --bin fastmcp-server --example loadgen
b=target/release/fastmcp-server
gen=target/release/examples/loadgen
tck=$(getconf CLK_TCK)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
start() {
  local log
  log=$(mktemp)
  taskset -c 0 "$1" --host 127.0.0.1 --port 0 >"$log" 2>/dev/null &
  pid=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
  addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 | sed 's|http://||')
  rm -f "$log"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
echo "| round | build | idle RSS KiB | load | req/s | p99 ms | server CPU µs/req | RSS after KiB |"
echo "|---|---|---|---|---|---|---|---|"
for r in $(seq 1 "$rounds"); do
  for which in A B; do
    bin=$a; [ "$which" = B ] && bin=$b
    start "$bin"
    sleep 0.3
    idle=$(rss "$pid")
    for mode in streamable stateless seed; do
      t=$(ticks "$pid")
      line=$(taskset -c 1 "$gen" "$mode" "$addr" 16 "$secs")
      ok=$(echo "$line" | field ok)
      us=$(awk "BEGIN{printf \"%.1f\", ($(ticks "$pid") - $t) * 1000000 / $tck / $ok}")
      echo "| $r | $which | $idle | $mode 16 | $(echo "$line" | field rps) | $(echo "$line" | field p99_ms) | $us | $(rss "$pid") |"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  done
done
