#!/usr/bin/env bash
# The whole test suite: the seed README's curl session against the real binary, then every Rust
# test (unit + integration). Prints one "N passed, M failed" line at the end; exits non-zero on any
# failure.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
ok()   { passed=$((passed + 1)); echo "  ok   $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL $1${2:+: $2}"; }
# Each part's header says when it began, so a slow part shows against CI's 15-minute budget.
section() { echo "== $1   [${SECONDS} s]"; }

section "build"
cargo build --quiet || { echo "0 passed, 1 failed"; exit 1; }
bin=target/debug/fastmcp-server

work=$(mktemp -d)
server_pid=""
sse_pid=""
cleanup() {
  [ -n "$sse_pid" ] && kill "$sse_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

section "curl walk-through (seed transport)"
"$bin" --host 127.0.0.1 --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 50); do grep -q 'listening on' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/server.out" | head -1)
[ -n "$base" ] && ok "server started at $base" || fail "server started" "$(cat "$work/server.err")"

# 1. Open the SSE stream and read the session id from its first event.
curl -sN "$base/notifications" >"$work/sse.txt" &
sse_pid=$!
for _ in $(seq 1 50); do grep -q 'Connected to session' "$work/sse.txt" 2>/dev/null && break; sleep 0.1; done
sid=$(sed -n 's/^data: Connected to session \([0-9a-f-]*\).*/\1/p' "$work/sse.txt" | head -1)
[ -n "$sid" ] && ok "first event: Connected to session $sid" || fail "first SSE event" "$(cat "$work/sse.txt")"

# post BODY -> checks 202 {"status":"accepted"}
post() {
  local out code
  out=$(curl -s -w '\n%{http_code}' -X POST "$base/mcp?session_id=$sid" -H 'Content-Type: application/json' -d "$1")
  code=${out##*$'\n'}
  [ "$code" = 202 ] && [ "${out%$'\n'*}" = '{"status":"accepted"}' ]
}
# expect NAME PATTERN [SECONDS] -> waits for a data line matching PATTERN on the stream
expect() {
  local deadline=$((SECONDS + ${3:-5}))
  while [ $SECONDS -le $deadline ]; do
    grep -qF -- "$2" "$work/sse.txt" && { ok "$1"; return; }
    sleep 0.1
  done
  fail "$1" "no event containing $2"
}

post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocol_version":"2024-11-05","client_info":{"name":"curl","version":"1"}}}' \
  && ok "POST initialize -> 202" || fail "POST initialize -> 202"
expect "initialize result on the stream" '"id":1,"result":{"capabilities":{"logging":{},"tools":{"listChanged":true}},"protocolVersion":"2024-11-05"'
post '{"jsonrpc":"2.0","method":"notifications/initialized"}' && ok "POST initialized -> 202" || fail "POST initialized"
post '{"jsonrpc":"2.0","id":2,"method":"echo","params":{"message":"Hello World!"}}' && ok "POST echo -> 202" || fail "POST echo"
expect "echo result" 'data: {"jsonrpc":"2.0","id":2,"result":"Hello World!"}'
post '{"jsonrpc":"2.0","id":3,"method":"add","params":{"a":42,"b":27}}' && ok "POST add -> 202" || fail "POST add"
expect "add result" 'data: {"jsonrpc":"2.0","id":3,"result":69}'
post '{"jsonrpc":"2.0","id":4,"method":"tools/list"}' && ok "POST tools/list -> 202" || fail "POST tools/list"
expect "tools/list result" '"id":4,"result":{"tools":['
grep -F '"id":4,' "$work/sse.txt" | grep -q '"name":"sleep"' && ok "tools/list names sleep" || fail "tools/list names sleep"
start=$SECONDS
post '{"jsonrpc":"2.0","id":5,"method":"sleep","params":{"seconds":2}}' && ok "POST sleep -> 202 at once" || fail "POST sleep"
expect "sleep result after ~2 s" '"id":5,"result":"Slept for 2 seconds"' 6
[ $((SECONDS - start)) -ge 1 ] && ok "sleep took its time" || fail "sleep took its time"
post '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}' && ok "POST tools/call -> 202" || fail "POST tools/call"
expect "tools/call result" '"id":6,"result":{"content":[{"text":"3","type":"text"}]}'
code=$(curl -s -o "$work/err.json" -w '%{http_code}' -X POST "$base/mcp?session_id=$sid" -d '{"jsonrpc":"2.0","id":7,"method":"ping"}')
[ "$code" = 415 ] && ok "POST without Content-Type: application/json -> 415" || fail "POST without JSON Content-Type -> 415" "$code $(cat "$work/err.json")"
code=$(curl -s -o "$work/err.json" -w '%{http_code}' -X POST "$base/mcp?session_id=$sid" -H 'Content-Type: application/json' -d '{oops')
[ "$code" = 400 ] && grep -q '"code":-32700' "$work/err.json" && ok "malformed JSON -> 400 -32700" || fail "malformed JSON" "$code $(cat "$work/err.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/mcp?session_id=nope" -d '{}')
[ "$code" = 404 ] && ok "unknown session -> 404" || fail "unknown session -> 404" "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/mcp" -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"ping"}')
[ "$code" = 400 ] && ok "missing session -> 400" || fail "missing session -> 400" "$code"

section "curl: stateless revision 2026-07-28 on /mcp (the README's walk-through)"
meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
# modern METHOD [NAME] BODY -> prints "STATUS BODY"
modern() {
  local extra=()
  [ $# -eq 3 ] && extra=(-H "Mcp-Name: $2")
  curl -s -w ' %{http_code}' "$base/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -H "Mcp-Method: $1" "${extra[@]}" -d "${@: -1}"
}
out=$(modern server/discover "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{$meta}}")
[[ $out == *'"supportedVersions":["2026-07-28","2025-11-25"'*' 200' ]] && ok "server/discover -> versions" || fail "server/discover" "$out"
out=$(modern tools/call add "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":2,\"b\":3},$meta}}")
[[ $out == *'"content":[{"text":"5","type":"text"}],"resultType":"complete"}}'*' 200' ]] && ok "stateless tools/call add" || fail "stateless tools/call" "$out"
out=$(modern tools/call echo "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{},$meta}}")
[[ $out == *'"code":-32020'*' 400' ]] && ok "Mcp-Name mismatch -> 400 -32020" || fail "Mcp-Name mismatch" "$out"
out=$(modern ping "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\",\"params\":{$meta}}")
[[ $out == *'"code":-32601'*' 404' ]] && ok "removed method ping -> 404 -32601" || fail "removed ping" "$out"
kill "$sse_pid" 2>/dev/null; sse_pid=""
kill "$server_pid" 2>/dev/null; server_pid=""

section "official MCP SDK clients (Python mcp from PyPI, TypeScript @modelcontextprotocol/sdk from npm)"
venv=target/interop-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import mcp' 2>/dev/null; then
  python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check 'mcp>=2.3,<3' \
    || fail "install the Python SDK"
fi
if [ ! -d tests/interop/node_modules/@modelcontextprotocol/sdk ]; then
  (cd tests/interop && npm install --silent --no-audit --no-fund --no-package-lock) || fail "install the TypeScript SDK"
fi
# sdk_run NAME LOG CMD... -> adds the client's own "N passed, M failed" to the totals
sdk_run() {
  local name=$1 log="$work/$2.txt"; shift 2
  "$@" >"$log" 2>&1
  local rc=$?
  grep -E '^(ok|FAIL) ' "$log" | sed 's/^/  /'
  local line
  line=$(grep -E "^$name interop: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
  if [ -n "$line" ]; then
    set -- $line
    passed=$((passed + $3)); failed=$((failed + $5))
    [ "$rc" -eq 0 ] || [ "$5" -gt 0 ] || fail "$name client exit status" "$rc"
  else
    fail "$name client ran" "$(tail -5 "$log")"
  fi
}
# Once with JSON answers (the default), once with every answer as an SSE stream. Beside the server,
# the conformance fixture server (examples/conformance.rs), on which the clients exercise
# resources, templates, prompts, completion and logging.
cargo build --quiet --example conformance || fail "build the fixture server"
fixtures_bin=target/debug/examples/conformance
# start_server LOG BIN FLAGS... -> sets $started_pid and $started_base
start_server() {
  local log=$1; shift
  "$@" --host 127.0.0.1 --port 0 >"$log" 2>/dev/null &
  started_pid=$!
  for _ in $(seq 1 50); do grep -q 'listening on' "$log" 2>/dev/null && break; sleep 0.1; done
  started_base=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
}
for mode in json sse; do
  flags=()
  [ "$mode" = sse ] && flags=(--sse-responses)
  echo "  -- answers as $mode"
  start_server "$work/server-$mode.out" "$bin" "${flags[@]}"
  server_pid=$started_pid; base=$started_base
  start_server "$work/fixtures-$mode.out" "$fixtures_bin" "${flags[@]}"
  fixtures_pid=$started_pid; fixtures=$started_base
  sdk_run python "python-$mode" timeout 180 "$venv/bin/python" -W ignore::DeprecationWarning tests/interop/python_client.py "$base" "$fixtures"
  sdk_run ts "ts-$mode" timeout 180 node tests/interop/ts_client.mjs "$base" "$fixtures"
  kill "$server_pid" "$fixtures_pid" 2>/dev/null; server_pid=""
done
echo "  -- stdio: the SDKs start --stdio children (the server, and the fixtures for sampling/elicitation)"
sdk_run stdio "stdio-python" timeout 180 "$venv/bin/python" -W ignore::DeprecationWarning tests/interop/stdio_client.py "$bin" "$fixtures_bin"
sdk_run stdio "stdio-ts" timeout 180 node tests/interop/stdio_client.mjs "$bin" "$fixtures_bin"

section "through the gateway: fastmcp-server gateway -- a stdio server (README: Gateway)"
gw_started=$SECONDS
# gateway_up LOG GATEWAY-FLAGS... -- COMMAND... -> sets $gw_pid and $gw_base (server_pid too, so
# the EXIT trap stops it)
gateway_up() {
  local log=$1; shift
  "$bin" gateway --host 127.0.0.1 --port 0 "$@" >"$log" 2>"$log.err" &
  gw_pid=$!; server_pid=$gw_pid
  for _ in $(seq 1 50); do grep -q 'listening on' "$log" 2>/dev/null && break; sleep 0.1; done
  gw_base=$(grep -o 'http://[0-9.:]*' "$log" | head -1)
  [ -n "$gw_base" ] || fail "gateway started ($*)" "$(tail -3 "$log.err")"
}
# gateway_down NAME: stops the gateway (SIGTERM); the children it still had (read from /proc just
# before) must be gone as well, not left behind as orphans.
gateway_down() {
  local kids left=""
  kids=$(awk -v p="$gw_pid" '/^PPid:/ && $2 == p {split(FILENAME, a, "/"); print a[3]}' /proc/[0-9]*/status 2>/dev/null)
  kill "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; server_pid=""
  for _ in $(seq 1 50); do
    # (a zombie counts as gone: where PID 1 does not reap, orphans stay zombies)
    left=$(for k in $kids; do grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$k/status" && echo "$k"; done)
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] && ok "$1: gateway stopped, no child left ($(echo $kids | wc -w) running before)" \
    || fail "$1: children left after the gateway stopped" "$left"
}
# 1. The official conformance suite (0.1.16, session revisions) through the gateway in front of
#    the fixture server on stdio, counted like the direct run below: once with a child per
#    session (and the 2026-07-28 suite through the stateless pool, three scenarios a 2025 child
#    cannot pass listed as expected), once with one shared child (--gateway-shared, ids
#    rewritten). The suite does not end its sessions, so a per-session gateway still has one
#    child per scenario when it is stopped.
for gw_mode in per-session shared; do
  gw_flags=()
  [ "$gw_mode" = shared ] && gw_flags=(--gateway-shared)
  gateway_up "$work/gw-conformance-$gw_mode.out" "${gw_flags[@]}" -- "$fixtures_bin" --stdio
  [ -n "$gw_base" ] || continue
  # Per session: both suites (2026-07-28 through the stateless pool); shared: the session suite.
  suite_flag=--gateway
  [ "$gw_mode" = shared ] && suite_flag=--url
  scripts/conformance.sh "$suite_flag" "http://localhost:${gw_base##*:}/mcp" >"$work/gw-conformance-$gw_mode.txt" 2>&1
  conformance_rc=$?
  grep -E '^  (ok|FAIL|xfail|expected)' "$work/gw-conformance-$gw_mode.txt" | sed -E "s/^  (ok  |FAIL|xfail|expected) /  \1 gateway ($gw_mode): /"
  line=$(grep -E '^conformance: [0-9]+ passed, [0-9]+ failed' "$work/gw-conformance-$gw_mode.txt" | tail -1)
  if [ -n "$line" ]; then
    set -- $line
    passed=$((passed + $2)); failed=$((failed + $4))
    [ "$conformance_rc" -eq 0 ] || [ "$4" -gt 0 ] || fail "gateway ($gw_mode) conformance exit status" "$conformance_rc"
  else
    fail "conformance suite through the gateway ($gw_mode) ran" "$(tail -5 "$work/gw-conformance-$gw_mode.txt")"
  fi
  gateway_down "conformance ($gw_mode)"
done
# 2. The reference server @modelcontextprotocol/server-everything (npm, pinned in
#    tests/interop/package.json), a stdio server this project did not write, with the TypeScript
#    SDK client; JSON answers, then SSE answers.
if [ ! -d tests/interop/node_modules/@modelcontextprotocol/server-everything ]; then
  (cd tests/interop && npm install --silent --no-audit --no-fund --no-package-lock) || fail "install server-everything"
fi
everything=$PWD/tests/interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js
for mode in json sse; do
  flags=()
  [ "$mode" = sse ] && flags=(--sse-responses)
  echo "  -- server-everything, answers as $mode"
  gateway_up "$work/gw-everything-$mode.out" "${flags[@]}" -- node "$everything" stdio
  [ -n "$gw_base" ] && sdk_run gateway "gw-everything-$mode" timeout 120 node tests/interop/gateway_everything.mjs "$gw_base/mcp"
  gateway_down "server-everything ($mode)"
done
# 3. The Python SDK (Streamable HTTP in session mode, its default mode, legacy HTTP+SSE) through
#    the gateway in front of this server on stdio; progress every 200 ms so a 1 s sleep has some.
echo "  -- Python SDK, fastmcp-server --stdio behind the gateway"
gateway_up "$work/gw-python.out" -- "$bin" --stdio --progress-interval-ms 200
[ -n "$gw_base" ] && sdk_run gateway "gw-python" timeout 120 "$venv/bin/python" -W ignore::DeprecationWarning tests/interop/gateway_client.py "$gw_base"
gateway_down "python"
# 4. The TypeScript SDK's whole interop client (the one run directly above) through two gateways:
#    one in front of this server on stdio, one in front of the fixture server on stdio.
echo "  -- TypeScript SDK interop client, both servers behind gateways"
gateway_up "$work/gw-ts-fixtures.out" -- "$fixtures_bin" --stdio
gw_fixtures_pid=$gw_pid; gw_fixtures=$gw_base
gateway_up "$work/gw-ts.out" -- "$bin" --stdio
[ -n "$gw_base" ] && [ -n "$gw_fixtures" ] \
  && sdk_run ts "gw-ts" timeout 180 node tests/interop/ts_client.mjs "$gw_base" "$gw_fixtures"
gateway_down "ts interop (server)"
gw_pid=$gw_fixtures_pid; gateway_down "ts interop (fixtures)"
echo "  (through the gateway: $((SECONDS - gw_started)) s)"

section "tools from a config file (examples/tools.toml; SIGHUP reload seen by the Python SDK)"
# A copy only its owner can write: the server refuses a config file group or others may change.
cp examples/tools.toml "$work/tools.toml" && chmod 600 "$work/tools.toml"
"$bin" check --config "$work/tools.toml" >"$work/check.out" 2>&1 \
  && grep -q '^tools (3):' "$work/check.out" && ok "check --config examples/tools.toml -> ok, 3 tools" \
  || fail "check examples/tools.toml" "$(tail -3 "$work/check.out")"
out=$("$bin" call --config "$work/tools.toml" uptime '{}' 2>/dev/null)
[[ $out == *'load average'* ]] && ok "call uptime runs /usr/bin/uptime" || fail "call uptime" "$out"
out=$("$bin" call --config "$work/tools.toml" journal '{"unit":"ssh.service; id"}' 2>/dev/null)
[[ $out == *'does not match the pattern'*'"isError":true'* ]] && ok "call journal with '; id' -> refused before anything runs" || fail "journal injection" "$out"
out=$("$bin" call --config "$work/tools.toml" disk_usage '{"path":"../etc"}' 2>/dev/null)
[[ $out == *'path escapes its root'* ]] && ok "call disk_usage ../etc -> path escapes its root" || fail "disk_usage escape" "$out"
printf '[[tool]]\nname = "before"\ndescription = "the first file"\ncommand = ["/bin/echo", "before"]\n' >"$work/reload.toml"
printf '[[tool]]\nname = "after"\ndescription = "the second file"\ncommand = ["/bin/echo", "{word}"]\n[tool.args.word]\ntype = "string"\n' >"$work/reload-new.toml"
chmod 600 "$work/reload.toml" "$work/reload-new.toml"
start_server "$work/reload.out" "$bin" --config "$work/reload.toml"
server_pid=$started_pid
sdk_run reload "reload" timeout 60 "$venv/bin/python" -W ignore::DeprecationWarning tests/interop/reload_client.py "$started_base" "$work/reload.toml" "$server_pid" "$work/reload-new.toml"
kill "$server_pid" 2>/dev/null; server_pid=""

section "authorization: a real OpenID provider (tests/idp)"
# oidc-provider (npm, the certified OpenID provider, pinned in tests/idp/package.json) issues every
# token; the SDK clients find it from the server's 401 and the metadata, and get their own tokens
# (client credentials; authorization code + PKCE through its auto-approving interaction).
# tests/oauth_idp.rs (in cargo test below) needs the same install, and fails without it.
if [ ! -d tests/idp/node_modules/oidc-provider ]; then
  (cd tests/idp && npm install --silent --no-audit --no-fund) || fail "install oidc-provider (tests/idp)"
fi
node tests/idp/provider.mjs >"$work/idp.out" 2>"$work/idp.err" &
sse_pid=$! # the EXIT trap stops it under this name
for _ in $(seq 1 100); do grep -q '^issuer ' "$work/idp.out" 2>/dev/null && break; sleep 0.1; done
issuer=$(sed -n 's/^issuer //p' "$work/idp.out" | head -1)
# --oauth-resource names the port, so the port is chosen first.
oauth_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'demo_tools = true\n\n[[tool]]\nname = "admin_echo"\ndescription = "needs tools:admin"\ncommand = ["/bin/echo", "admin"]\nscope = "tools:admin"\n' >"$work/oauth-tools.toml"
chmod 600 "$work/oauth-tools.toml"
"$bin" --host 127.0.0.1 --port "$oauth_port" --oauth-issuer "$issuer" --oauth-resource "http://127.0.0.1:$oauth_port/mcp" \
  --oauth-required-scope mcp:tools --config "$work/oauth-tools.toml" >"$work/oauth-server.out" 2>"$work/oauth-server.err" &
server_pid=$!
for _ in $(seq 1 50); do grep -q 'listening on' "$work/oauth-server.out" 2>/dev/null && break; sleep 0.1; done
if [ -n "$issuer" ] && grep -q 'listening on' "$work/oauth-server.out"; then
  ok "oidc-provider at $issuer, the server at http://127.0.0.1:$oauth_port with --oauth-issuer"
  sdk_run oauth "oauth-ts" timeout 120 node tests/interop/oauth_client.mjs "http://127.0.0.1:$oauth_port" "$issuer" admin_echo
  sdk_run oauth "oauth-python" timeout 120 "$venv/bin/python" -W ignore::DeprecationWarning tests/interop/oauth_client.py "http://127.0.0.1:$oauth_port" "$issuer" admin_echo
else
  fail "oidc-provider and the OAuth server started" "$(tail -n 3 "$work/idp.err" "$work/oauth-server.err")"
fi
kill "$server_pid" "$sse_pid" 2>/dev/null; server_pid=""; sse_pid=""

section "more than one process: nginx in front of three instances (scripts/scale-test.sh)"
scripts/scale-test.sh >"$work/scale.txt" 2>&1
scale_rc=$?
grep -E '^  (ok|FAIL|    )' "$work/scale.txt"
line=$(grep -E '^scale: [0-9]+ passed, [0-9]+ failed' "$work/scale.txt" | tail -1)
if [ -n "$line" ]; then
  set -- $line
  passed=$((passed + $2)); failed=$((failed + $4))
  [ "$scale_rc" -eq 0 ] || [ "$4" -gt 0 ] || fail "scale-test exit status" "$scale_rc"
else
  fail "scale test ran" "$(tail -5 "$work/scale.txt")"
fi

section "official MCP conformance suite (scripts/conformance.sh)"
scripts/conformance.sh >"$work/conformance.txt" 2>&1
conformance_rc=$?
grep -E '^  (ok|FAIL|xfail|expected)' "$work/conformance.txt"
line=$(grep -E '^conformance: [0-9]+ passed, [0-9]+ failed' "$work/conformance.txt" | tail -1)
if [ -n "$line" ]; then
  set -- $line
  passed=$((passed + $2)); failed=$((failed + $4))
  [ "$conformance_rc" -eq 0 ] || [ "$4" -gt 0 ] || fail "conformance exit status" "$conformance_rc"
else
  fail "conformance suite ran" "$(tail -5 "$work/conformance.txt")"
fi

section "static binary, install.sh, the Debian package (scripts/build-deb.sh), the crate"
# need CMD PACKAGE: installs the Debian package when the command is missing (as root), or fails loudly.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq "$2") >/dev/null 2>&1
  fi
  command -v "$1" >/dev/null 2>&1 || { fail "$1 is needed (Debian package $2) and could not be installed"; return 1; }
}
# serves_health BIN LABEL [FLAGS...]: starts BIN on a free port, checks /health, stops it with
# SIGTERM and checks the exit status.
serves_health() {
  local b=$1 label=$2; shift 2
  "$b" --host localhost --port 0 "$@" >"$work/health.out" 2>"$work/health.err" &
  local pid=$!
  for _ in $(seq 1 50); do grep -q 'listening on' "$work/health.out" 2>/dev/null && break; sleep 0.1; done
  local hbase
  hbase=$(grep -o 'http://[0-9.:]*' "$work/health.out" | head -1)
  [ -n "$hbase" ] && curl -sf "$hbase/health" | grep -q '"status":"ok"' && ok "$label serves /health" \
    || fail "$label serves /health" "$(tail -3 "$work/health.err")"
  kill -TERM "$pid" 2>/dev/null; wait "$pid"; local rc=$?
  [ "$rc" = 0 ] && ok "$label exits 0 on SIGTERM" || fail "$label exits 0 on SIGTERM" "status $rc"
}
# verify_unit UNIT BINARY: systemd-analyze verify with ExecStart pointing at BINARY. Any output
# (unknown keys, bad values) counts as a failure: verify itself exits 0 on some of those.
# --man=no: Documentation=man:fastmcp-server(1) is checked as a file in the package instead.
verify_unit() {
  sed "s|^ExecStart=/usr[a-z/]*/fastmcp-server |ExecStart=$2 |" "$1" >"$work/fastmcp-server.service"
  local out
  if out=$(systemd-analyze verify --man=no "$work/fastmcp-server.service" 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify: $3 is clean"
  else
    fail "systemd-analyze verify $3" "$out"
  fi
}
static_bin=""
if need file file; then
  if out=$(scripts/build-static.sh 2>&1); then
    static_bin=$(printf '%s\n' "$out" | tail -1)
    ok "static build: $(printf '%s\n' "$out" | grep '^size:')"
  else
    fail "scripts/build-static.sh" "$(printf '%s\n' "$out" | tail -5)"
  fi
fi
# Issue 20's idle RSS bound, on the binary users deploy. Its pages were all just written, so they
# are in the page cache and the kernel maps each touched page's 64 KiB neighbourhood: the most
# this binary can be resident with after start. The bound holds only while the functions run at
# start are linked together (scripts/deploy/startup.order, which names them with their hashes).
if [ -n "$static_bin" ]; then
  "$static_bin" --host 127.0.0.1 --port 0 >"$work/rss.out" 2>/dev/null &
  rss_pid=$!
  for _ in $(seq 1 50); do grep -q 'listening on' "$work/rss.out" && break; sleep 0.1; done
  sleep 1
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$rss_pid/status" 2>/dev/null)
  kill "$rss_pid" 2>/dev/null; wait "$rss_pid" 2>/dev/null
  found=$(python3 scripts/startup-order.py coverage "${static_bin%/*}/fastmcp-server.map" scripts/deploy/startup.order)
  if [ -n "$rss" ] && [ "$rss" -le 2560 ]; then
    ok "static binary idle RSS ${rss} KiB (at most 2,560; ${found% *} of the ${found#* } functions of scripts/deploy/startup.order linked first)"
  else
    fail "static binary idle RSS" "${rss:-unknown} KiB, more than 2,560 KiB; ${found% *} of the ${found#* } functions of scripts/deploy/startup.order found: scripts/startup-order.sh rebuilds the list"
  fi
fi
need systemd-analyze systemd && have_systemd=1 || have_systemd=""
if [ -n "$static_bin" ]; then
  stage="$work/stage"
  if DESTDIR="$stage" BIN="$static_bin" scripts/install.sh >/dev/null \
     && [ -x "$stage/usr/local/bin/fastmcp-server" ] \
     && grep -q '^ExecStart=/usr/local/bin/fastmcp-server --config /etc/fastmcp-server/tools.toml ' \
          "$stage/etc/systemd/system/fastmcp-server.service" \
     && [ "$(stat -c %a "$stage/etc/fastmcp-server/environment")" = 600 ] \
     && cmp -s scripts/fastmcp-server.socket "$stage/etc/systemd/system/fastmcp-server.socket" \
     && cmp -s scripts/deploy/tools.toml "$stage/etc/fastmcp-server/tools.toml"; then
    ok "install.sh stages binary, units (ExecStart in /usr/local/bin; the .socket), environment (0600) and tools.toml"
  else
    fail "install.sh"
  fi
  serves_health "$stage/usr/local/bin/fastmcp-server" "static binary"
  if [ -n "$have_systemd" ]; then
    verify_unit "$stage/etc/systemd/system/fastmcp-server.service" "$stage/usr/local/bin/fastmcp-server" "install.sh's unit"
    # The socket unit, beside the service it activates (verify_unit left that in $work).
    cp "$stage/etc/systemd/system/fastmcp-server.socket" "$work/fastmcp-server.socket"
    if out=$(systemd-analyze verify --man=no "$work/fastmcp-server.socket" 2>&1) && [ -z "$out" ]; then
      ok "systemd-analyze verify: the .socket unit is clean"
    else
      fail "systemd-analyze verify fastmcp-server.socket" "$out"
    fi
    sed 's/^NoNewPrivileges=yes/NoNewPrivilegez=yes/' "$work/fastmcp-server.service" >"$work/broken.service"
    out=$(systemd-analyze verify --man=no "$work/broken.service" 2>&1)
    [ -n "$out" ] && ok "systemd-analyze verify reports a broken unit" || fail "verify check can fail" "no output for a typo"
  fi
fi
deb_started=$SECONDS
deb=""
if [ -n "$static_bin" ] && [ -n "$have_systemd" ] && need dpkg-deb dpkg; then
  if out=$(scripts/build-deb.sh 2>&1); then
    deb=$(printf '%s\n' "$out" | tail -1)
    ok "build-deb.sh: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
  else
    fail "scripts/build-deb.sh" "$(printf '%s\n' "$out" | tail -5)"
  fi
fi
if [ -n "$deb" ]; then
  # A real dpkg install into a throw-away root. Its maintainer scripts run outside a chroot with
  # DPKG_ROOT set (systemd-sysusers honours it); the systemd helpers are stubs that log their
  # calls, so the host's own units are never touched.
  root="$work/dpkg-root"
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$work/stubs"
  touch "$root/var/lib/dpkg/status"
  for c in deb-systemd-helper deb-systemd-invoke systemctl; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$c" "$work/systemd-calls.log" >"$work/stubs/$c"
    chmod +x "$work/stubs/$c"
  done
  dpkg_root() { PATH="$work/stubs:$PATH" dpkg --root="$root" --force-script-chrootless --force-depends "$@"; }
  if dpkg_root -i "$deb" >"$work/dpkg.txt" 2>&1; then
    ok "dpkg --root installs the package, maintainer scripts included"
  else
    fail "dpkg --root -i" "$(tail -5 "$work/dpkg.txt")"
  fi
  files=$(dpkg --root="$root" -L fastmcp-server | while read -r f; do [ -d "$root$f" ] || echo "$f"; done | sort | tr '\n' ' ')
  want="/etc/fastmcp-server/environment /etc/fastmcp-server/tools.toml /usr/bin/fastmcp-server \
/usr/lib/systemd/system/fastmcp-server.service /usr/lib/systemd/system/fastmcp-server.socket \
/usr/lib/sysusers.d/fastmcp-server.conf \
/usr/share/doc/fastmcp-server/README.md /usr/share/doc/fastmcp-server/copyright \
/usr/share/man/man1/fastmcp-server.1.gz "
  [ "$files" = "$want" ] && ok "file list: binary, service and socket units, sysusers, /etc conffiles, man page, docs" \
    || fail "file list" "$files"
  conf=$(dpkg --root="$root" --status fastmcp-server | sed -n '/^Conffiles:/,/^[A-Z]/p' | awk '/^ \//{print $1}' | sort | tr '\n' ' ')
  [ "$conf" = "/etc/fastmcp-server/environment /etc/fastmcp-server/tools.toml " ] \
    && ok "conffiles: tools.toml and environment" || fail "conffiles" "$conf"
  [ "$(stat -c '%a %U' "$root/etc/fastmcp-server/environment")" = "600 root" ] \
    && ok "environment is 0600 root (it may hold secrets)" || fail "environment mode" "$(stat -c '%a %U' "$root/etc/fastmcp-server/environment")"
  file "$root/usr/bin/fastmcp-server" | grep -qE 'statically linked|static-pie linked' \
    && ok "/usr/bin/fastmcp-server is the static binary" || fail "packaged binary is static" "$(file "$root/usr/bin/fastmcp-server")"
  grep -q '^fastmcp-server:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$root/etc/passwd" 2>/dev/null \
    && ok "postinst created the system user fastmcp-server" || fail "system user" "$(cat "$root/etc/passwd" 2>&1)"
  # The start steps only run where systemd is running, so the installed postinst is read too.
  grep -q '^deb-systemd-helper enable fastmcp-server.service$' "$work/systemd-calls.log" \
    && ! grep -qE 'invoke (start|restart)' "$work/systemd-calls.log" \
    && ! grep -qE 'deb-systemd-invoke (start|restart)|_dh_action=start' "$root/var/lib/dpkg/info/fastmcp-server.postinst" \
    && [ -f "$root/etc/fastmcp-server/unconfigured" ] \
    && ok "unit enabled, not started, held back by /etc/fastmcp-server/unconfigured" \
    || fail "enabled but not started" "$(cat "$work/systemd-calls.log")"
  grep -q '^ConditionPathExists=!/etc/fastmcp-server/unconfigured$' "$root/usr/lib/systemd/system/fastmcp-server.service" \
    && grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$root/usr/lib/systemd/system/fastmcp-server.service" \
    && ok "unit: held back while unconfigured, reload by SIGHUP" || fail "unit condition and ExecReload"
  verify_unit "$root/usr/lib/systemd/system/fastmcp-server.service" "$root/usr/bin/fastmcp-server" "the packaged unit"
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
  "$root/usr/bin/fastmcp-server" --version | head -1 | grep -qF "fastmcp-server $version" \
    && ok "--version: $("$root/usr/bin/fastmcp-server" --version | head -1)" || fail "--version"
  zcat "$root/usr/share/man/man1/fastmcp-server.1.gz" | grep -q '^\.TH FASTMCP-SERVER "1"' \
    && zcat "$root/usr/share/man/man1/fastmcp-server.1.gz" | grep -q -- '-\\-max\\-connections' \
    && ok "man page fastmcp-server(1) from --help" || fail "man page"
  serves_health "$root/usr/bin/fastmcp-server" "installed binary"
  # The shipped config: valid TOML as shipped (only demo_tools = true) and with every example
  # uncommented; once the binary reads config files, `check` must accept it as shipped.
  if python3 - "$root/etc/fastmcp-server/tools.toml" <<'PY'
import re, sys, tomllib
text = open(sys.argv[1]).read()
assert tomllib.loads(text) == {"demo_tools": True}, tomllib.loads(text)
full = tomllib.loads(re.sub(r"(?m)^#(?=[\[a-z])", "", text))
assert {"tool", "resource", "prompt", "auth"} <= full.keys(), full.keys()
PY
  then ok "tools.toml: all examples commented out, valid TOML either way"; else fail "tools.toml as TOML"; fi
  if "$root/usr/bin/fastmcp-server" --help | grep -q -- '--config'; then
    "$root/usr/bin/fastmcp-server" check --config "$root/etc/fastmcp-server/tools.toml" >"$work/check.txt" 2>&1 \
      && ok "fastmcp-server check accepts the shipped tools.toml" || fail "check --config tools.toml" "$(tail -3 "$work/check.txt")"
  else
    echo "  skip fastmcp-server check (this binary has no --config yet)"
  fi
  # Upgrade (the same package again): an edited conffile and the operator's go-ahead are kept.
  echo '# edited by the operator' >>"$root/etc/fastmcp-server/tools.toml"
  rm "$root/etc/fastmcp-server/unconfigured"
  if dpkg_root --force-confold -i "$deb" >"$work/dpkg.txt" 2>&1 \
     && grep -q 'edited by the operator' "$root/etc/fastmcp-server/tools.toml" \
     && [ ! -e "$root/etc/fastmcp-server/unconfigured" ]; then
    ok "upgrade keeps an edited tools.toml and does not hold the service back again"
  else
    fail "upgrade" "$(tail -3 "$work/dpkg.txt")"
  fi
  # Removal keeps the configuration and the user; purge removes the configuration only.
  if dpkg_root -r fastmcp-server >"$work/dpkg.txt" 2>&1 && [ ! -e "$root/usr/bin/fastmcp-server" ] \
     && [ -f "$root/etc/fastmcp-server/tools.toml" ] && grep -q '^fastmcp-server:' "$root/etc/passwd"; then
    ok "remove: binary gone, conffiles and user kept"
  else
    fail "remove" "$(tail -3 "$work/dpkg.txt")"
  fi
  if dpkg_root -P fastmcp-server >"$work/dpkg.txt" 2>&1 && [ ! -e "$root/etc/fastmcp-server" ] \
     && grep -q '^fastmcp-server:' "$root/etc/passwd"; then
    ok "purge: /etc/fastmcp-server gone, user kept"
  else
    fail "purge" "$(tail -3 "$work/dpkg.txt"; ls -la "$root/etc/fastmcp-server" 2>&1)"
  fi
  echo "  (package build and checks: $((SECONDS - deb_started)) s)"
fi
# The crate as published: what a dependent downloads, and no packaging warning.
list=$(cargo package --list --allow-dirty 2>/dev/null)
bad=$(printf '%s\n' "$list" | grep -E '^(tests/schema|tests/interop|tests/user-crate|scripts|target|benches)/' | head -3)
if [ -z "$bad" ] && printf '%s\n' "$list" | grep -qx 'src/lib.rs' && printf '%s\n' "$list" | grep -qx 'LICENSE-APACHE' \
   && printf '%s\n' "$list" | grep -qx 'examples/quickstart.rs' && printf '%s\n' "$list" | grep -qx 'README.md'; then
  ok "cargo package --list: library, binary, examples, README, licenses; no fixtures or scripts"
else
  fail "cargo package --list" "${bad:-something missing}"
fi
out=$(cargo package --no-verify --allow-dirty 2>&1)
if [ $? -eq 0 ] && ! printf '%s\n' "$out" | grep -q '^warning'; then
  ok "cargo package: no warning"
else
  fail "cargo package" "$(printf '%s\n' "$out" | grep -E '^(warning|error)' | head -3)"
fi

section "structure and the library as a user sees it"
if out=$(python3 scripts/layers.py src --check 2>&1); then
  ok "import graph: no cycle but the allowed one (scripts/layers.py)"
else
  fail "import graph" "$(printf '%s\n' "$out" | grep -A3 'cycle:' | head -12)"
fi
long=$(find src -name '*.rs' -print0 | xargs -0 wc -l | grep -v ' total$' | awk '$1 > 500 {print $2 " (" $1 " lines)"}')
[ -z "$long" ] && ok "no file in src/ over 500 lines" || fail "files over 500 lines" "$long"
# The README's quickstart is examples/quickstart.rs, and it builds as a user's crate whose only
# dependencies are fastmcp-server and serde (the JsonSchema derive needs no schemars of its own).
readme_code=$(awk '/^## Library/{lib=1} lib && /^```rust/{on=1; next} on && /^```/{exit} on' README.md)
example_code=$(grep -v '^//!' examples/quickstart.rs | sed '/./,$!d')
[ "$readme_code" = "$example_code" ] && ok "README quickstart is examples/quickstart.rs" \
  || fail "README quickstart matches examples/quickstart.rs" "$(diff <(echo "$readme_code") <(echo "$example_code") | head -5)"
cp Cargo.lock tests/user-crate/Cargo.lock
if out=$(cargo build --quiet --manifest-path tests/user-crate/Cargo.toml --target-dir target 2>&1); then
  ok "quickstart builds with only fastmcp-server and serde as dependencies"
else
  fail "user crate (tests/user-crate)" "$(printf '%s\n' "$out" | grep -E '^error' -A3 | head -8)"
fi
# The crate's documentation (what docs.rs would build) has no broken or private link.
if out=$(RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet 2>&1); then
  ok "cargo doc --no-deps: no warning"
else
  fail "cargo doc" "$(printf '%s\n' "$out" | grep -E '^(error|warning)' -A3 | head -8)"
fi

section "browser: headless Chromium through examples/browser.html (tests/browser.rs, in cargo test)"
if need chromium chromium && need chromedriver chromium-driver; then
  ok "chromium: $(chromium --version 2>/dev/null | head -1)"
  export FASTMCP_BROWSER_REQUIRED=1
fi

section "cargo test"
cargo test --no-fail-fast 2>&1 | tee "$work/cargo.txt" | grep -E '^test |test result|panicked|error(\[|:)' 
while read -r p f; do
  passed=$((passed + p)); failed=$((failed + f))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$work/cargo.txt")
if grep -qE '^error(\[|:)' "$work/cargo.txt"; then fail "cargo test compiles"; fi

echo
echo "(the suite took ${SECONDS} s)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
