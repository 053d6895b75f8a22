#!/usr/bin/env bash
# Benchmarks fastmcp-server on this machine: throughput, latency and server CPU per request of
# tools/call echo over Streamable HTTP (JSON answers, and SSE answers on keep-alive connections)
# and the seed transport (202 + SSE) at 1, 16 and 64 connections, the same load against a bare
# tiny_http server (the reference), first-request latency of 200 fresh connections, hostile
# clients (header bomb, slowloris, idle flood, connection and descriptor exhaustion), RSS idle,
# after load and holding 1,000 / 5,000 SSE streams, idle wake-ups, 200 concurrent sleep(1), cold
# start. The server is pinned to CPU 0 and the load generator to CPU 1. Every answer is verified.
# First, issue 20's goals as ratios over three rounds (in each, the references and this server run
# at once and their loads take turns in 1 s slices, so a machine that is slower for a moment is
# slower for both sides of a ratio).
# Usage: scripts/bench.sh [SECONDS_PER_RUN] [ratios]   (default 5; "ratios": only the rounds, in
# which SECONDS_PER_RUN is the number of 1 s slices each load gets per round).
# Results: stdout and target/bench.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
only_ratios=${2:-}
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bin=$(scripts/build-static.sh | tail -1)
cargo build --release --quiet --examples
# The official Rust SDK, same tool, JSON answers: a separate crate (tokio, axum), built here only.
(cd scripts/rmcp-ref && cargo build --release --quiet)
rmcp=scripts/rmcp-ref/target/release/rmcp-ref
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
tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# us_per_req PID TICKS_BEFORE OK -> server CPU microseconds per answered request
us_per_req() { awk "BEGIN{printf \"%.1f\", ($(cpu_ticks "$1") - $2) * 1000000 / $tck / $3}"; }
threads() { ls "/proc/$1/task" | wc -l; }
fds() { ls "/proc/$1/fd" | wc -l; }
wakeups() { cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/{s+=$2} END{print s}'; }
metric() { curl -s "http://$1/metrics" | awk -v n="$2" '$1==n{print $2}'; }
mib() { awk "BEGIN{printf \"%.1f\", $1/1024}"; }
run() { taskset -c 1 "$gen" "$@"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# ratio_rounds: three rounds of bare tiny_http, rmcp and this server (JSON, SSE, seed, burst). This
# machine's speed drifts by more than the goals' margins within seconds, so in each round bare
# tiny_http and this server (JSON and SSE answers) run at once (each pinned to CPU 0, idle when not
# loaded) and their loads take turns in 1 s slices, $secs slices each: a slower second is slower
# for both sides of a ratio.
ratio_rounds() {
  local r c line ok t k key
  declare -A res ok_sum tick_sum
  for r in 1 2 3; do
    start "$bin" --host 127.0.0.1 --port 0
    line=$(run burst "$addr" 200); res[burst,$r]=$(echo "$line" | field p99_ms)
    kill "$pid"
    # The same burst against bare tiny_http (a fixed body): what this machine and load generator
    # allow at all. Both spend the same server CPU per fresh connection, mostly in the kernel.
    start "$bare" 0 4
    line=$(run burst "$addr" 200 any); res[bare_burst,$r]=$(echo "$line" | field p99_ms)
    kill "$pid"
    # rmcp first, on its own, for $secs s per load: its connections take far longer to set up
    # than ours (a 1 s slice would mostly measure that), and its goal is met by a wide margin.
    start "$rmcp" 0
    for c in 16 64; do res[rmcp,$c,$r]=$(run streamable "$addr" "$c" "$secs" | field rps); done
    kill "$pid"
    start "$bare" 0 4; local bare_pid=$pid bare_addr=$addr
    start "$bin" --host 127.0.0.1 --port 0; local json_pid=$pid json_addr=$addr
    start "$bin" --host 127.0.0.1 --port 0 --sse-responses; local sse_pid=$pid sse_addr=$addr
    for key in bare json,16 json,64 seed sse; do ok_sum[$key]=0; tick_sum[$key]=0; done
    # slice KEY PID MODE ADDR CONNS: one second of load, its answers and the server's CPU ticks.
    slice() {
      t=$(cpu_ticks "$2"); line=$(run "$3" "$4" "$5" 1); ok=$(echo "$line" | field ok)
      ok_sum[$1]=$(( ${ok_sum[$1]} + ok )); tick_sum[$1]=$(( ${tick_sum[$1]} + $(cpu_ticks "$2") - t ))
    }
    for k in $(seq 1 "$secs"); do
      slice bare "$bare_pid" bare "$bare_addr" 16
      slice json,16 "$json_pid" streamable "$json_addr" 16
      slice sse "$sse_pid" streamable "$sse_addr" 16
      slice seed "$json_pid" seed "$json_addr" 16
      slice json,64 "$json_pid" streamable "$json_addr" 64
    done
    kill "$bare_pid" "$json_pid" "$sse_pid"
    for key in json,16 json,64 seed sse; do
      res[$key,$r]=$(( ${ok_sum[$key]} / secs ))
    done
    res[bare_us,$r]=$(awk "BEGIN{printf \"%.1f\", ${tick_sum[bare]} * 1000000 / $tck / ${ok_sum[bare]}}")
    res[json_us,$r]=$(awk "BEGIN{printf \"%.1f\", ${tick_sum[json,16]} * 1000000 / $tck / ${ok_sum[json,16]}}")
    res[sse_us,$r]=$(awk "BEGIN{printf \"%.1f\", ${tick_sum[sse]} * 1000000 / $tck / ${ok_sum[sse]}}")
    res[seed_us,$r]=$(awk "BEGIN{printf \"%.1f\", ${tick_sum[seed]} * 1000000 / $tck / ${ok_sum[seed]}}")
  done
  echo "### Issue 20's goals, three rounds of $secs interleaved 1 s slices (\`scripts/bench.sh $secs\`)"
  echo
  echo "| goal | round 1 | round 2 | round 3 | holds in all three |"
  echo "|---|---|---|---|---|"
  # goal LABEL OP LIMIT EXPR-per-round...
  goal() {
    local label=$1 op=$2 limit=$3 row="" all=✔ v; shift 3
    for v in "$@"; do
      row="$row | $v"
      awk "BEGIN{exit !($v $op $limit)}" || all=✘
    done
    echo "| $label$row | $all |"
  }
  ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }
  goal "server CPU per request ÷ bare tiny_http's, 16 connections (≤ 1.1)" "<=" 1.1 \
    "$(ratio "${res[json_us,1]}" "${res[bare_us,1]}")" "$(ratio "${res[json_us,2]}" "${res[bare_us,2]}")" "$(ratio "${res[json_us,3]}" "${res[bare_us,3]}")"
  for c in 16 64; do
    goal "throughput ÷ rmcp JSON, $c connections (≥ 2)" ">=" 2 \
      "$(ratio "${res[json,$c,1]}" "${res[rmcp,$c,1]}")" "$(ratio "${res[json,$c,2]}" "${res[rmcp,$c,2]}")" "$(ratio "${res[json,$c,3]}" "${res[rmcp,$c,3]}")"
  done
  goal "SSE answers ÷ JSON, 16 connections (≥ 0.9)" ">=" 0.9 \
    "$(ratio "${res[sse,1]}" "${res[json,16,1]}")" "$(ratio "${res[sse,2]}" "${res[json,16,2]}")" "$(ratio "${res[sse,3]}" "${res[json,16,3]}")"
  goal "seed transport ÷ JSON, 16 connections (≥ 0.8)" ">=" 0.8 \
    "$(ratio "${res[seed,1]}" "${res[json,16,1]}")" "$(ratio "${res[seed,2]}" "${res[json,16,2]}")" "$(ratio "${res[seed,3]}" "${res[json,16,3]}")"
  goal "200 fresh connections at once, initialize, p99 ms (≤ 5)" "<=" 5 "${res[burst,1]}" "${res[burst,2]}" "${res[burst,3]}"
  goal "the same burst against bare tiny_http, p99 ms (reference: ≤ 5?)" "<=" 5 "${res[bare_burst,1]}" "${res[bare_burst,2]}" "${res[bare_burst,3]}"
  echo
  echo "Raw: JSON req/s at 16 / 64: ${res[json,16,1]}/${res[json,64,1]}, ${res[json,16,2]}/${res[json,64,2]}, ${res[json,16,3]}/${res[json,64,3]}; rmcp: ${res[rmcp,16,1]}/${res[rmcp,64,1]}, ${res[rmcp,16,2]}/${res[rmcp,64,2]}, ${res[rmcp,16,3]}/${res[rmcp,64,3]}; server CPU µs/req at 16, ours / bare: ${res[json_us,1]}/${res[bare_us,1]}, ${res[json_us,2]}/${res[bare_us,2]}, ${res[json_us,3]}/${res[bare_us,3]}; SSE ${res[sse,1]}, ${res[sse,2]}, ${res[sse,3]}; seed ${res[seed,1]}, ${res[seed,2]}, ${res[seed,3]}; server CPU µs/req, JSON / SSE / seed: ${res[json_us,1]}/${res[sse_us,1]}/${res[seed_us,1]}, ${res[json_us,2]}/${res[sse_us,2]}/${res[seed_us,2]}, ${res[json_us,3]}/${res[sse_us,3]}/${res[seed_us,3]}."
  echo
}
if [ "$only_ratios" = ratios ]; then
  ratio_rounds | tee "$out"
  exit 0
fi

{
echo "## Benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); server pinned to CPU 0, load to CPU 1, ${secs} s per run)"
echo
echo "Command: \`scripts/bench.sh $secs\`. Binary: static release build ($(stat -c %s "$bin") bytes)."
echo
ratio_rounds
start "$bare" 0 4
declare -A ceiling
declare -A bare_us
echo "| load | connections | req/s | p50 ms | p99 ms | errors | server CPU µs/req | vs bare tiny_http |"
echo "|---|---|---|---|---|---|---|---|"
for c in 1 16 64; do
  t=$(cpu_ticks "$pid")
  line=$(run bare "$addr" "$c" "$secs")
  ok=$(echo "$line" | field ok)
  ceiling[$c]=$(echo "$line" | field rps)
  bare_us[$c]=$(us_per_req "$pid" "$t" "$ok")
  echo "| bare tiny_http, fixed body | $c | $(echo "$line" | field rps) | $(echo "$line" | field p50_ms) | $(echo "$line" | field p99_ms) | $(echo "$line" | field errors) | ${bare_us[$c]} | 1.00 |"
done
line=$(run burst "$addr" 200 any)
bare_burst="p50 $(echo "$line" | field p50_ms) ms, p99 $(echo "$line" | field p99_ms) ms, max $(echo "$line" | field max_ms) ms"
kill "$pid"
start "$rmcp" 0
declare -A rmcp_rps
for c in 1 16 64; do
  t=$(cpu_ticks "$pid")
  line=$(run streamable "$addr" "$c" "$secs")
  ok=$(echo "$line" | field ok)
  rmcp_rps[$c]=$(echo "$line" | field rps)
  echo "| rmcp 3.11 (official Rust SDK, axum/tokio), JSON answers | $c | ${rmcp_rps[$c]} | $(echo "$line" | field p50_ms) | $(echo "$line" | field p99_ms) | $(echo "$line" | field errors) | $(us_per_req "$pid" "$t" "$ok") | $(awk "BEGIN{printf \"%.2f\", ${rmcp_rps[$c]}/${ceiling[$c]}}") |"
done
line=$(run burst "$addr" 200)
rmcp_burst="p50 $(echo "$line" | field p50_ms) ms, p99 $(echo "$line" | field p99_ms) ms, max $(echo "$line" | field max_ms) ms"
sleep 0.5
rmcp_idle=$(rss_kib "$pid")
kill "$pid"
declare -A json_rps
for mode in streamable stateless sse seed; do
  flags=()
  [ "$mode" = sse ] && flags=(--sse-responses)
  start "$bin" --host 127.0.0.1 --port 0 "${flags[@]}"
  server=$pid
  sleep 0.3
  [ "$mode" = streamable ] && idle=$(rss_kib "$server")
  for c in 1 16 64; do
    accepted0=$(metric "$addr" fastmcp_connections_accepted_total)
    t=$(cpu_ticks "$server")
    line=$(run "$(echo "$mode" | sed 's/sse/streamable/')" "$addr" "$c" "$secs")
    ok=$(echo "$line" | field ok)
    rps=$(echo "$line" | field rps)
    us=$(us_per_req "$server" "$t" "$ok")
    conns=$(( $(metric "$addr" fastmcp_connections_accepted_total) - accepted0 - 1 ))
    ratio=$(awk "BEGIN{printf \"%.2f\", $rps/${ceiling[$c]}}")
    case $mode in
      streamable) label="Streamable HTTP, JSON answers"; json_rps[$c]=$rps
                  ratio="$ratio ($(awk "BEGIN{printf \"%.2f\", $rps/${rmcp_rps[$c]}}") × rmcp)" ;;
      stateless) label="Streamable HTTP, stateless 2026-07-28 requests, JSON answers"
                 ratio="$ratio ($(awk "BEGIN{printf \"%.2f\", $rps/${json_rps[$c]}}") × session JSON)" ;;
      sse) label="Streamable HTTP, SSE answers (--sse-responses), $conns connections used"
           ratio="$ratio ($(awk "BEGIN{printf \"%.2f\", $rps/${json_rps[$c]}}") × JSON)" ;;
      seed) label="seed, 202 + SSE event (latency to the event)" ;;
    esac
    echo "| $label | $c | $rps | $(echo "$line" | field p50_ms) | $(echo "$line" | field p99_ms) | $(echo "$line" | field errors) | $us | $ratio |"
  done
  [ "$mode" = streamable ] && after=$(rss_kib "$server")
  kill "$server"
done
echo
echo "| measure | result |"
echo "|---|---|"
echo "| RSS idle | $(mib "$idle") MiB |"
echo "| RSS after the Streamable HTTP load runs | $(mib "$after") MiB |"
start "$bin" --host 127.0.0.1 --port 0
sleep 1
w0=$(wakeups "$pid"); sleep 60; w1=$(wakeups "$pid")
echo "| wake-ups idle, 60 s, no client (voluntary context switches, all threads) | $((w1 - w0)) ($(awk "BEGIN{printf \"%.2f\", ($w1-$w0)/60}") per second) |"
line=$(run burst "$addr" 200)
echo "| first-request latency, 200 fresh connections at once (initialize), no connection thread waiting | p50 $(echo "$line" | field p50_ms) ms, p99 $(echo "$line" | field p99_ms) ms, max $(echo "$line" | field max_ms) ms, $(echo "$line" | field errors) errors |"
line=$(run burst "$addr" 200)
echo "| the same again at once (threads of the first burst reused) | p50 $(echo "$line" | field p50_ms) ms, p99 $(echo "$line" | field p99_ms) ms, max $(echo "$line" | field max_ms) ms, $(echo "$line" | field errors) errors |"
echo "| the same against bare tiny_http (fixed body) / rmcp (initialize), each run once | $bare_burst / $rmcp_burst |"
echo "| rmcp RSS after its load runs | $(mib "$rmcp_idle") MiB |"
r0=$(rss_kib "$pid")
line=$(run bomb "$addr")
echo "| header bomb (one endless header line) | answered $(echo "$line" | field status) after $(echo "$line" | field sent_mib) MiB sent (socket buffers); RSS $(mib "$r0") → $(mib "$(rss_kib "$pid")") MiB |"
kill "$pid"
start "$bin" --host 127.0.0.1 --port 0
line=$(run slowloris "$addr" 500 50)
echo "| 500 slowloris heads (--header-timeout-secs 10) + 50 normal initialize calls | $(echo "$line" | field cut) cut, last after $(echo "$line" | field last_cut_s) s; normal calls $(echo "$line" | field calls_ok) ok, $(echo "$line" | field errors) errors, p99 $(echo "$line" | field p99_ms) ms |"
kill "$pid"
start "$bin" --host 127.0.0.1 --port 0 --idle-timeout-secs 5
sleep 0.3
th0=$(threads "$pid"); fd0=$(fds "$pid")
taskset -c 1 "$gen" idle "$addr" 2000 >"$out.idle" &
for _ in $(seq 1 100); do grep -q holding "$out.idle" && break; sleep 0.1; done
sleep 1
th1=$(threads "$pid"); fd1=$(fds "$pid")
wait $!
line=$(grep '^idle' "$out.idle"); rm -f "$out.idle"
sleep 2.5  # connection threads wait 2 s for another connection before they exit
echo "| 2,000 idle connections, --idle-timeout-secs 5 | threads $th0 → $th1 → $(threads "$pid"), fds $fd0 → $fd1 → $(fds "$pid"); $(echo "$line" | field closed) closed by the server, all after $(echo "$line" | field all_closed_after_s) s |"
kill "$pid"
start "$bin" --host 127.0.0.1 --port 0 --max-connections 100
line=$(run flood "$addr" 300)
h=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/health")
echo "| --max-connections 100, 300 clients at once | $(echo "$line" | field ok200) served, $(echo "$line" | field refused503) got 503, $(echo "$line" | field other) other; next client served after $(echo "$line" | field next_served_ms) ms; /health $h |"
kill "$pid"
start prlimit --nofile=1024:1024 -- "$bin" --host 127.0.0.1 --port 0 --max-connections 5000
line=$(run flood "$addr" 1500)
h=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/health")
echo "| open-file limit 1024 (prlimit), --max-connections 5000, 1,500 clients at once | $(echo "$line" | field ok200) served, $(echo "$line" | field refused503) got 503, $(echo "$line" | field other) other; next client served after $(echo "$line" | field next_served_ms) ms; $(metric "$addr" fastmcp_accept_errors_total) accept errors survived; /health $h |"
kill "$pid"
for n in 1000 5000; do
  # Every stream comes from the one load generator's address: the per-client session cap is off.
  start "$bin" --host 127.0.0.1 --port 0 --max-sessions-per-client 0
  server=$pid
  hold_log=$(mktemp)
  taskset -c 1 "$gen" hold "$addr" "$n" 30 >"$hold_log" &
  holder=$!
  pids+=("$holder")
  for _ in $(seq 1 600); do grep -q holding "$hold_log" && break; sleep 0.1; done
  sleep 1
  rss=$(rss_kib "$server")
  echo "| RSS holding $(sed -n 's/holding \([0-9]*\) streams/\1/p' "$hold_log") SSE streams | $(mib "$rss") MiB ($(awk "BEGIN{printf \"%.1f\", ($rss - $idle) / $n}") KiB per stream over idle), $(threads "$server") threads |"
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
