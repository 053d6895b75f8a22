#!/usr/bin/env bash
# Installs the static binary, the systemd unit and the configuration from source (where the
# Debian package, scripts/build-deb.sh, is not an option).
#   scripts/install.sh            build (scripts/build-static.sh), then install under /
#   DESTDIR=/tmp/root scripts/install.sh   install into a staging root (tests)
#   BIN=path/to/fastmcp-server scripts/install.sh   install an already built binary
# The binary goes to /usr/local/bin (the package's is /usr/bin), the unit to /etc/systemd/system;
# an existing /etc/fastmcp-server/tools.toml or environment is never overwritten.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${DESTDIR:-}
bin=${BIN:-}
if [ -z "$bin" ]; then
  bin=$(scripts/build-static.sh | tail -1)
fi
etc="$dest/etc/fastmcp-server"
install -D -m 0755 "$bin" "$dest/usr/local/bin/fastmcp-server"
install -d -m 0755 "$dest/etc/systemd/system"
sed 's|/usr/bin/fastmcp-server|/usr/local/bin/fastmcp-server|' scripts/fastmcp-server.service \
  >"$dest/etc/systemd/system/fastmcp-server.service"
chmod 0644 "$dest/etc/systemd/system/fastmcp-server.service"
# The socket unit (socket activation) is installed, not enabled: `systemctl enable --now
# fastmcp-server.socket` to use it.
install -m 0644 scripts/fastmcp-server.socket "$dest/etc/systemd/system/fastmcp-server.socket"
install -D -m 0644 scripts/fastmcp-server.sysusers "$dest/usr/local/lib/sysusers.d/fastmcp-server.conf"
install -d -m 0755 "$etc"
# The environment file was fastmcp-server.env before the package named it `environment`.
if [ -e "$etc/fastmcp-server.env" ] && [ ! -e "$etc/environment" ]; then
  mv "$etc/fastmcp-server.env" "$etc/environment"
fi
[ -e "$etc/environment" ] || install -m 0600 scripts/fastmcp-server.env "$etc/environment"
[ -e "$etc/tools.toml" ] || install -m 0644 scripts/deploy/tools.toml "$etc/tools.toml"
echo "installed $dest/usr/local/bin/fastmcp-server, $dest/etc/systemd/system/fastmcp-server.{service,socket} and $etc/"
if [ -z "$dest" ] && command -v systemd-sysusers >/dev/null; then
  systemd-sysusers fastmcp-server.conf
fi
if [ -z "$dest" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "start it with: systemctl enable --now fastmcp-server"
else
  echo "(systemd is not running here: enable it on the target with systemctl enable --now fastmcp-server)"
fi
