#!/usr/bin/env bash
# Builds the Debian package: the static binary (scripts/build-static.sh, a no-op when it is up to
# date), its man page (scripts/deploy/man.sh), then cargo-deb with --no-build, so the release
# build happens once. The package's contents are [package.metadata.deb] in Cargo.toml.
# Output: target/debian/fastmcp-server_<version>-1_<arch>.deb (path printed at the end).
# cargo-deb is installed from crates.io at a pinned version into target/cargo-deb (kept there, so
# reruns do not build it again).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo_deb_version=3.8.0
tools=target/cargo-deb
if [ "$("$tools/bin/cargo-deb" --version 2>/dev/null)" != "cargo-deb $cargo_deb_version" ]; then
  cargo install --quiet --locked --version "$cargo_deb_version" --root "$tools" cargo-deb
fi
target=$(rustc -vV | sed -n 's/^host: //p')
bin=$(scripts/build-static.sh | tail -1)
scripts/deploy/man.sh "$bin" target/man/fastmcp-server.1.gz >/dev/null
# --no-strip: build-static.sh's binary is stripped already (profile.release strip = true).
deb=$("$tools/bin/cargo-deb" --no-build --no-strip --target "$target" --output target/debian/ | tail -1)
[ -f "$deb" ] || { echo "build-deb: cargo-deb made no package ($deb)" >&2; exit 1; }
echo "$deb"
