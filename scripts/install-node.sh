#!/usr/bin/env bash
# Installs Node.js VERSION (default 24.21.0) from the npm registry into
# ${LONGSHORE_CACHE:-$HOME/.cache/longshore}/node/<version>/, for machines whose
# system Node is older than the project supports (>= 22.12).
#
# The registry's `node` package is a shim whose install script fetches
# `node-<os>-<arch>@<version>`, the official build packed as an npm package;
# this takes that package directly, so no install script runs. It has no npm:
# the system's npm (a script run by the `node` first on PATH) serves.
# Idempotent; prints the bin dir to put first on PATH (progress goes to stderr).
set -euo pipefail

version="${1:-24.21.0}"
root="${LONGSHORE_CACHE:-$HOME/.cache/longshore}/node/$version"

fail() { echo "install-node: FAILED: $*" >&2; exit 1; }

if [[ -x "$root/bin/node" && -f "$root/.complete" ]]; then
  echo "install-node: Node.js $version already installed" >&2
  echo "$root/bin"
  exit 0
fi

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "no Node.js package for $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "no Node.js package for $(uname -m)" ;;
esac
pkg="node-$os-$arch@$version"

command -v npm >/dev/null 2>&1 || fail "'npm' is not on PATH (any Node.js with npm can fetch the package)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/install-node.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "install-node: fetching $pkg from the npm registry" >&2
(cd "$tmp" && npm pack "$pkg" --silent >/dev/null) || fail "npm pack $pkg failed (is the npm registry reachable?)"
tarball="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)"
[[ -n "$tarball" ]] || fail "npm pack produced no tarball in $tmp"
tar -xzf "$tarball" -C "$tmp" package/bin/node package/LICENSE || fail "$tarball has no package/bin/node"
chmod 0755 "$tmp/package/bin/node"
got="$("$tmp/package/bin/node" --version 2>/dev/null)" || fail "the Node.js in $pkg does not run on this machine"
[[ "$got" == "v$version" ]] || fail "$pkg holds Node.js $got, not v$version"

mkdir -p "$root/bin"
mv -f "$tmp/package/bin/node" "$root/bin/node"
mv -f "$tmp/package/LICENSE" "$root/LICENSE"
touch "$root/.complete"
echo "install-node: Node.js $got" >&2
echo "$root/bin"
