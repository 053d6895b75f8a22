#!/usr/bin/env bash
# Mutation testing of the code that keeps hostile clients out: cargo-mutants changes that code one
# small edit at a time (`>` to `>=`, `||` to `&&`, a body to a constant) and runs the tests that
# guard it; a mutant that every test lets through ("missed") is a hole in the tests, or a change
# that truly makes no difference ("equivalent"), which scripts/mutants-equivalent.txt lists with
# its reason. Too long for CI: run it when you change a guarded file (see README, "Test").
#
#   scripts/mutants.sh                 # the guarded files below
#   scripts/mutants.sh -f src/x.rs     # other files or options, passed on to cargo mutants
#
# Prints "mutants: N caught, M missed (K equivalent), T timeouts, U unviable" and exits 1 on any
# missed mutant not listed as equivalent (or on timeouts), 0 otherwise. The full report is in
# target/mutants/mutants.out/.
#
# It mutates the work tree in place (cargo-mutants puts every file back, also on Ctrl-C) so that
# each mutant is an incremental build in the warm target/ rather than a cold copy: do not edit
# while it runs.
set -u
cd "$(dirname "$0")/.."

# 27.x builds with the toolchain here; pinned so that mutant names (and the equivalents file) stay
# stable.
version=27.0.0
if ! cargo mutants --version 2>/dev/null | grep -q "^cargo-mutants $version"; then
  echo "== installing cargo-mutants $version from crates.io"
  cargo install --locked "cargo-mutants@$version" || exit 1
fi

# The files that guard the server. Add a file here when it starts checking client input.
files=(
  src/security.rs
  src/access.rs
  src/http/head.rs
  src/http/body.rs
  src/permits.rs
)
# The tests that exercise them: the unit tests, the raw-socket HTTP tests, the edge tests in
# tests/guards.rs, the scoped tokens of tests/tokens.rs, the worker permits of tests/permits.rs
# and the OAuth resource server of tests/oauth.rs (its issuers are in-process fakes: about a
# second). (The other integration tests add minutes per mutant and catch nothing more in these
# files; tests/oauth_idp.rs needs node and a real identity provider.)
tests=(--lib --test http --test guards --test tokens --test permits --test oauth)

args=()
if [ $# -gt 0 ]; then
  args=("$@")
else
  for f in "${files[@]}"; do args+=(--file "$f"); done
fi

out=target/mutants
mkdir -p "$out"
start=$(date +%s)
cargo mutants --in-place --no-shuffle --output "$out" "${args[@]}" -- "${tests[@]}"
rc=$?
elapsed=$(( $(date +%s) - start ))
dir=$out/mutants.out
if [ ! -f "$dir/outcomes.json" ] || [ "$rc" -eq 4 ] || [ "$rc" -eq 1 ]; then
  echo "mutants: cargo mutants failed (exit $rc); see $dir/"
  exit 1
fi

count() { if [ -f "$dir/$1" ]; then grep -c . "$dir/$1"; else echo 0; fi; }
# A mutant's name without its line:column, so the equivalents file survives edits elsewhere in
# the file: "src/http/head.rs: replace > with >= in read_head".
name() { sed -E 's/^([^:]+):[0-9]+:[0-9]+: /\1: /'; }

equivalents=scripts/mutants-equivalent.txt
known=$(grep -v '^#' "$equivalents" 2>/dev/null | grep ' # ' | sed 's/ # .*//' | sed 's/[[:space:]]*$//')
unexplained=0
equivalent=0
if [ -f "$dir/missed.txt" ]; then
  while IFS= read -r m; do
    n=$(printf '%s\n' "$m" | name)
    if printf '%s\n' "$known" | grep -qxF "$n"; then
      equivalent=$((equivalent + 1))
    else
      unexplained=$((unexplained + 1))
      echo "  MISSED $m"
    fi
  done <"$dir/missed.txt"
fi

caught=$(count caught.txt)
missed=$(count missed.txt)
timeouts=$(count timeout.txt)
unviable=$(count unviable.txt)
echo "mutants: $caught caught, $missed missed ($equivalent equivalent), $timeouts timeouts, $unviable unviable (${elapsed}s)"
if [ "$unexplained" -gt 0 ]; then
  echo "mutants: $unexplained missed mutant(s) neither caught by a test nor listed in $equivalents"
  exit 1
fi
if [ "$timeouts" -gt 0 ]; then
  echo "mutants: timeouts (an infinite loop is a kind of catch, but check them): $dir/timeout.txt"
fi
exit 0
