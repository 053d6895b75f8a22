#!/usr/bin/env bash
# Builds a fully static, stripped release binary (glibc with crt-static) and reports its size.
# Output: target/x86_64-unknown-linux-gnu/release/fastmcp-server (path printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | sed -n 's/^host: //p')
# The target is named explicitly so that crt-static applies to the binary only, not to build
# scripts and proc macros.
# The functions the server runs at start (and in its first requests) are linked next to each other,
# in the order scripts/deploy/startup.order lists them (lld, Rust's default linker on this target,
# --symbol-ordering-file): the kernel maps a binary's pages 64 KiB around each one a process
# touches, so code spread over the 5 MB of `.text` left 2.6 MiB of it resident after start. A name
# the binary no longer has is skipped, so a stale list costs memory, not a failed link; the link
# map (names not demangled) is what scripts/startup-order.sh rebuilds the list from.
order="$PWD/scripts/deploy/startup.order"
map="$PWD/target/$target/release/fastmcp-server.map"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C link-arg=-Wl,--symbol-ordering-file=$order \
-C link-arg=-Wl,--no-warn-symbol-ordering -C link-arg=-Wl,-Map=$map -C link-arg=-Wl,--no-demangle" \
  cargo build --release --locked --target "$target"
bin="target/$target/release/fastmcp-server"
file "$bin"
if ! file "$bin" | grep -qE 'statically linked|static-pie linked'; then
  echo "build-static: $bin is not statically linked" >&2
  exit 1
fi
size=$(stat -c %s "$bin")
echo "size: $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB)"
echo "$bin"
