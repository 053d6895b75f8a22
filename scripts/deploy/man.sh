#!/usr/bin/env bash
# Writes the man page fastmcp-server(1) from the binary's own --help and --version (help2man), so
# the page and `--help` cannot disagree: --help stays the reference for flags.
#   scripts/deploy/man.sh BINARY OUT.1.gz
# Installs Debian's help2man when it is missing (as root).
set -euo pipefail
bin=$1
out=$2
if ! command -v help2man >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends help2man) >/dev/null 2>&1 || true
  fi
  command -v help2man >/dev/null 2>&1 || { echo "man.sh: help2man is needed (Debian package help2man)" >&2; exit 1; }
fi
mkdir -p "$(dirname "$out")"
page=${out%.gz}
# --no-discard-stderr: some versions print usage on stderr; ours prints on stdout, harmless.
help2man --no-info --section 1 \
  --name "Model Context Protocol server over HTTP and Server-Sent Events" \
  --include "$(dirname "$0")/man.h2m" \
  --output "$page" "$bin"
# -n: no name or time stamp in the gzip header, so a rebuild of the same page is the same bytes.
gzip -9 -n -f "$page"
echo "$out"
