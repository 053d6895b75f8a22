#!/usr/bin/env bash
# More than one process, for real: nginx (Debian's package, installed with apt-get when missing)
# with scripts/deploy/nginx.conf in front of three instances of the conformance fixture server
# (examples/conformance.rs: sampling and elicitation tools), each with its own --instance-id and
# one shared --state-key-file. The official SDK clients go through the proxy:
#   - Python, default stateless mode: tool calls and input-required round trips (sampling,
#     elicitation) whose retries land on other instances; one round directly on a, its retry on b;
#   - Python and TypeScript session clients (Streamable HTTP and legacy SSE), each session on the
#     instance that created it (checked here from nginx's access log);
#   - one instance is killed mid-run: stateless traffic goes on (at most the one request in flight
#     fails), its sessions get 404, a new session works at once.
# Usage: scripts/scale-test.sh (run by scripts/test.sh, which creates target/interop-venv and
# tests/interop/node_modules first). Prints ok/FAIL lines and "scale: N passed, M failed".
#   scripts/scale-test.sh --bench [CONNS] [SECS]: instead of the clients, the throughput of
#   stateless tools/call echo (examples/loadgen.rs, release builds) against one instance directly,
#   one behind nginx, and three behind nginx.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok   $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL $1${2:+: $2}"; }
finish() {
  echo "scale: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

bench=""
if [ "${1:-}" = --bench ]; then bench=1; conns=${2:-16}; secs=${3:-5}; fi
venv=target/interop-venv
if [ -z "$bench" ] && [ ! -x "$venv/bin/python" ]; then
  fail "the Python SDK venv ($venv, made by scripts/test.sh)"; finish
fi
if ! command -v nginx >/dev/null && [ -x /usr/sbin/nginx ]; then PATH="$PATH:/usr/sbin"; fi
if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) >/dev/null 2>&1
  PATH="$PATH:/usr/sbin"
fi
command -v nginx >/dev/null || { fail "nginx is needed (Debian package nginx) and could not be installed"; finish; }
if [ -n "$bench" ]; then
  cargo build --release --quiet --bin fastmcp-server --example loadgen || { fail "release build"; finish; }
  fixtures=target/release/fastmcp-server
else
  cargo build --quiet --example conformance || { fail "build the fixture server"; finish; }
  fixtures=target/debug/examples/conformance
fi

work=$(mktemp -d)
pids=()
nginx_pid=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

# Four free loopback ports: three instances and the proxy.
read -r p_a p_b p_c p_proxy < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

head -c 48 /dev/urandom | base64 >"$work/state.key"
chmod 600 "$work/state.key"
declare -A port=([a]=$p_a [b]=$p_b [c]=$p_c) pid=()
for i in a b c; do
  "$fixtures" --host 127.0.0.1 --port "${port[$i]}" --instance-id "$i" --state-key-file "$work/state.key" \
    --allowed-host mcp.example.com --max-sessions-per-client 0 >"$work/$i.out" 2>"$work/$i.err" &
  pid[$i]=$!
  pids+=($!)
  disown "$!"  # one of them is killed on purpose: no job notice for it
done
for i in a b c; do
  for _ in $(seq 1 50); do grep -q 'listening on' "$work/$i.out" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$work/$i.out" || { fail "instance $i started" "$(tail -3 "$work/$i.err")"; finish; }
done
ok "three instances (a, b, c) with one --state-key-file"

# The shipped file, pointed at this run's ports, inside a minimal main configuration.
sed -e "s/127.0.0.1:8101/127.0.0.1:$p_a/; s/127.0.0.1:8102/127.0.0.1:$p_b/; s/127.0.0.1:8103/127.0.0.1:$p_c/" \
    -e "s/listen 8080;/listen 127.0.0.1:$p_proxy;/" scripts/deploy/nginx.conf >"$work/fastmcp.conf"
mkdir -p "$work/nginx-tmp"
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    log_format scale '\$upstream_addr \$status \$request_method \$uri [\$http_mcp_method] [\$http_mcp_name] [\$fastmcp_instance]';
    access_log $work/access.log scale;
    client_body_temp_path $work/nginx-tmp/body;
    proxy_temp_path $work/nginx-tmp/proxy;
    fastcgi_temp_path $work/nginx-tmp/fastcgi;
    uwsgi_temp_path $work/nginx-tmp/uwsgi;
    scgi_temp_path $work/nginx-tmp/scgi;
    include $work/fastmcp.conf;
}
EOF
if ! out=$(nginx -t -q -c "$work/nginx.conf" -e "$work/nginx-error.log" 2>&1); then
  fail "nginx -t accepts scripts/deploy/nginx.conf" "$out"; finish
fi
ok "nginx -t accepts scripts/deploy/nginx.conf ($(nginx -v 2>&1 | sed 's/.*: //'))"
nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
nginx_pid=$!
disown "$nginx_pid"
proxy="http://127.0.0.1:$p_proxy"
for _ in $(seq 1 50); do curl -s -o /dev/null "$proxy/health" && break; sleep 0.1; done

if [ -n "$bench" ]; then
  gen=target/release/examples/loadgen
  echo "  one instance, direct:      $("$gen" stateless "127.0.0.1:$p_a" "$conns" "$secs")"
  echo "  three behind nginx:        $("$gen" stateless "127.0.0.1:$p_proxy" "$conns" "$secs")"
  sed -i "s/127.0.0.1:$p_b/127.0.0.1:$p_a/; s/127.0.0.1:$p_c/127.0.0.1:$p_a/" "$work/fastmcp.conf"
  nginx -s reload -c "$work/nginx.conf" -e "$work/nginx-error.log" && sleep 1
  echo "  one behind nginx:          $("$gen" stateless "127.0.0.1:$p_proxy" "$conns" "$secs")"
  exit 0
fi

# The Host check stays meaningful through the proxy: the name given to --allowed-host passes,
# another is refused by the instance (nginx passes the client's Host on unchanged).
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: mcp.example.com' "$proxy/health")
[ "$code" = 200 ] && ok "Host: mcp.example.com (--allowed-host) -> 200" || fail "allowed Host" "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' --data '{"jsonrpc":"2.0","id":1,"method":"ping"}' "$proxy/mcp")
[ "$code" = 403 ] || [ "$code" = 421 ] && ok "Host: evil.example -> $code from the instance" || fail "foreign Host refused" "$code"
# SSE through the proxy arrives at once (unbuffered): the legacy endpoint event within 2 s.
ev=$(timeout 2 curl -sN "$proxy/sse" | head -c 200 | grep -o 'session_id=[a-c]\.' | head -1)
[ -n "$ev" ] && ok "GET /sse streams through the proxy unbuffered ($ev…)" || fail "SSE through the proxy" "no endpoint event in 2 s"

# The clients add their own "N passed, M failed".
client_run() {
  local name=$1 log="$work/$2.txt"; shift 2
  "$@" >"$log" 2>&1
  grep -E '^(ok|FAIL) |^     ' "$log" | sed 's/^/  /'
  local line
  line=$(grep -E "^scale $name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
  if [ -n "$line" ]; then
    set -- $line
    passed=$((passed + $3)); failed=$((failed + $5))
  else
    fail "$name client ran" "$(tail -5 "$log")"
  fi
}
if [ -d tests/interop/node_modules/@modelcontextprotocol/sdk ]; then
  client_run ts ts timeout 120 node tests/interop/scale_client.mjs "$proxy"
else
  fail "the TypeScript SDK (tests/interop/node_modules, installed by scripts/test.sh)"
fi
client_run python python timeout 300 "$venv/bin/python" -W ignore tests/interop/scale_client.py "$proxy" \
  "a=http://127.0.0.1:$p_a:${pid[a]}" "b=http://127.0.0.1:$p_b:${pid[b]}" "c=http://127.0.0.1:$p_c:${pid[c]}"

# From nginx's access log: every request naming a session went to the instance in its id (a
# killed instance's 404 comes from nginx itself: upstream "-" or its address with 502).
log="$work/access.log"
wrong=$(awk -v a="127.0.0.1:$p_a" -v b="127.0.0.1:$p_b" -v c="127.0.0.1:$p_c" '
  { inst = $NF; gsub(/[\[\]]/, "", inst) }
  inst == "" || $2 == 404 { next }
  { want = (inst == "a") ? a : (inst == "b") ? b : (inst == "c") ? c : "" }
  $1 != want { print; n++ }
  END { exit n > 0 }' "$log")
routed=$(awk '{ inst = $NF; gsub(/[\[\]]/, "", inst) } inst != "" { n++ } END { print n + 0 }' "$log")
[ -z "$wrong" ] && [ "$routed" -gt 40 ] && ok "$routed session requests, each on the instance its id names" \
  || fail "session affinity ($routed session requests)" "$(printf '%s\n' "$wrong" | head -3)"
# Stateless input-required round trips: consecutive tools/call of one tool spread over instances.
spread=$(grep -E '\[tools/call\] \[test_(sampling|elicitation)\] \[\]$' "$log" | awk '{print $1}' | sort -u | wc -l)
[ "$spread" -ge 3 ] && ok "stateless input-required rounds were served by $spread instances" \
  || fail "stateless rounds spread over instances" "$spread"
first_rounds=$(grep -cE '\[tools/call\] \[test_sampling\] \[\]$' "$log")
[ "$first_rounds" -ge 12 ] && ok "each of the 6 stateless sampling calls took 2 requests through the proxy ($first_rounds)" \
  || fail "sampling rounds through the proxy" "$first_rounds"
finish
