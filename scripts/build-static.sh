#!/usr/bin/env bash
# Builds a fully static, stripped release binary (glibc with crt-static) and reports its size.
# Output: target/x86_64-unknown-linux-gnu/release/fastmcp-server (path printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(rustc -vV | sed -n 's/^host: //p')
# The target is named explicitly so that crt-static applies to the binary only, not to build
# scripts and proc macros.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" cargo build --release --locked --target "$target"
bin="target/$target/release/fastmcp-server"
file "$bin"
if ! file "$bin" | grep -qE 'statically linked|static-pie linked'; then
  echo "build-static: $bin is not statically linked" >&2
  exit 1
fi
size=$(stat -c %s "$bin")
echo "size: $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB)"
echo "$bin"
