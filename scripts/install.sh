#!/usr/bin/env bash
# Installs the static binary and the systemd unit.
#   scripts/install.sh            build (scripts/build-static.sh), then install under /
#   DESTDIR=/tmp/root scripts/install.sh   install into a staging root (packaging, tests)
#   BIN=path/to/fastmcp-server scripts/install.sh   install an already built binary
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${DESTDIR:-}
bin=${BIN:-}
if [ -z "$bin" ]; then
  bin=$(scripts/build-static.sh | tail -1)
fi
install -D -m 0755 "$bin" "$dest/usr/local/bin/fastmcp-server"
install -D -m 0644 scripts/fastmcp-server.service "$dest/etc/systemd/system/fastmcp-server.service"
if [ ! -e "$dest/etc/fastmcp-server/fastmcp-server.env" ]; then
  install -D -m 0644 scripts/fastmcp-server.env "$dest/etc/fastmcp-server/fastmcp-server.env"
fi
echo "installed $dest/usr/local/bin/fastmcp-server and $dest/etc/systemd/system/fastmcp-server.service"
if [ -z "$dest" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "start it with: systemctl enable --now fastmcp-server"
else
  echo "(systemd is not running here: enable it on the target with systemctl enable --now fastmcp-server)"
fi
