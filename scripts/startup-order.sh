#!/usr/bin/env bash
# Rebuilds scripts/deploy/startup.order, the order scripts/build-static.sh links functions in: the
# functions the static binary runs until it listens, then those of its first Streamable HTTP
# session (initialize, tools/list, tools/call), counted under callgrind. Run it after a
# dependency or the toolchain changed (their symbol names carry a hash of both); the suite's idle
# RSS check fails when the list has gone stale. Relinks the binary with the new list and prints
# its idle RSS before and after.
# Usage: scripts/startup-order.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "startup-order: needs valgrind (Debian package valgrind)" >&2; exit 1; }
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
bin=$(scripts/build-static.sh | tail -1)
target=$(rustc -vV | sed -n 's/^host: //p')
map="target/$target/release/fastmcp-server.map"

# idle_rss BIN -> VmRSS (KiB) one second after it listens
idle_rss() {
  "$1" --host 127.0.0.1 --port 0 >"$work/rss.out" 2>/dev/null &
  local p=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$work/rss.out" && break; sleep 0.05; done
  sleep 1
  awk '/^VmRSS/{print $2}' "/proc/$p/status"
  kill "$p"; wait "$p" 2>/dev/null || true
}
before=$(idle_rss "$bin")

valgrind --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no \
  --callgrind-out-file="$work/cg" "$bin" --host 127.0.0.1 --port 0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do grep -q 'listening on' "$work/out" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/out" | head -1)
[ -n "$base" ] || { echo "startup-order: the server did not start under valgrind" >&2; cat "$work/err" >&2; exit 1; }
sleep 1
callgrind_control --dump "$pid" >/dev/null 2>&1
h=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
sid=$(curl -s -D - -o /dev/null "${h[@]}" "$base/mcp" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"startup-order","version":"1"}}}' \
  | tr -d '\r' | awk 'tolower($1)=="mcp-session-id:"{print $2}')
[ -n "$sid" ] || { echo "startup-order: initialize failed" >&2; exit 1; }
h+=(-H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-06-18')
curl -s -o /dev/null "${h[@]}" "$base/mcp" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
curl -s -o /dev/null "${h[@]}" "$base/mcp" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
curl -s "${h[@]}" "$base/mcp" -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}' \
  | grep -q '"hi"' || { echo "startup-order: tools/call failed" >&2; exit 1; }
kill -INT "$pid"; wait "$pid" || true; pid=""

# The startup dump (cg.1) first, then the rest (the session and the shutdown, cg).
python3 scripts/startup-order.py order "$map" "$work/cg.1" "$work/cg" >"$work/order"
mv "$work/order" scripts/deploy/startup.order
echo "scripts/deploy/startup.order: $(wc -l <scripts/deploy/startup.order) functions"

# Relink with the new list: cargo does not track the file, so the binary's crate is rebuilt.
touch src/bin/fastmcp-server/main.rs
bin=$(scripts/build-static.sh | tail -1)
echo "idle RSS of $bin: $before KiB with the old list, $(idle_rss "$bin") KiB with the new one"
