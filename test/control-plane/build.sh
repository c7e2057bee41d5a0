#!/usr/bin/env bash
# Builds the reference control plane (kube-apiserver, kube-scheduler,
# kube-controller-manager from k8s.io/kubernetes, plus an embedded-etcd
# launcher) into a cache folder outside the repository:
#
#   ${LONGSHORE_CACHE:-$HOME/.cache/longshore}/control-plane/<k8s-version>/bin/
#
# Idempotent: skips the build when the binaries exist and the stamp (version +
# hash of go.mod, go.sum, Go sources, this script and the Go version) matches.
# The Go module and build caches live under the same cache folder, so a rebuild
# after a change is incremental. The last line printed is the bin dir.
set -euo pipefail

start=$(date +%s)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${LONGSHORE_CACHE:-$HOME/.cache/longshore}/control-plane"

fail() {
  echo "control-plane build: FAILED: $*" >&2
  echo "control-plane build: elapsed $(( $(date +%s) - start ))s" >&2
  exit 1
}

command -v go >/dev/null 2>&1 || fail "'go' is not on PATH; install Go >= 1.25 (the module's go.mod needs it)"

k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")"
[[ -n "$k8s_version" ]] || fail "cannot find the k8s.io/kubernetes version in $here/go.mod"
minor="${k8s_version#v1.}"; minor="${minor%%.*}"

out_dir="$cache_root/$k8s_version"
bin_dir="$out_dir/bin"
stamp_file="$out_dir/stamp"
binaries=(kube-apiserver kube-scheduler kube-controller-manager etcd)

stamp="$(
  {
    echo "k8s=$k8s_version"
    go env GOVERSION
    cd "$here"
    find go.mod go.sum build.sh cmd -type f \( -name '*.go' -o -name 'go.*' -o -name '*.sh' \) | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -d' ' -f1
)"

up_to_date() {
  [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x "$bin_dir/$b" ]] || return 1; done
}

mkdir -p "$out_dir"
# One build at a time per version (a second caller waits, then finds it built).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out_dir/.lock"
  flock 9
fi

if up_to_date; then
  echo "control-plane build: $k8s_version up to date (stamp ${stamp:0:12})"
  echo "control-plane build: elapsed $(( $(date +%s) - start ))s"
  echo "$bin_dir"
  exit 0
fi

echo "control-plane build: building Kubernetes $k8s_version + etcd launcher ($(go env GOVERSION), $(nproc) cores); a cold build takes a while"
export GOMODCACHE="$cache_root/gomodcache"
export GOCACHE="$cache_root/gocache"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export CGO_ENABLED=0

pkgs=(
  k8s.io/kubernetes/cmd/kube-apiserver
  k8s.io/kubernetes/cmd/kube-scheduler
  k8s.io/kubernetes/cmd/kube-controller-manager
  ./cmd/etcd
)
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

tmp_bin="$out_dir/bin.tmp.$$"
rm -rf "$tmp_bin"
mkdir -p "$tmp_bin"
trap 'rm -rf "$tmp_bin"' EXIT

cd "$here"
nice -n 10 go mod download || fail "go mod download (cwd $here) failed; is the Go module proxy reachable?"
nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$tmp_bin/" "${pkgs[@]}" \
  || fail "go build -o $tmp_bin/ ${pkgs[*]} (cwd $here) failed; see the compiler output above"

for b in "${binaries[@]}"; do
  [[ -x "$tmp_bin/$b" ]] || fail "go build did not produce $b"
done
rm -rf "$bin_dir"
mv "$tmp_bin" "$bin_dir"
echo "$stamp" > "$stamp_file"

"$bin_dir/kube-apiserver" --version || fail "$bin_dir/kube-apiserver --version failed"
echo "control-plane build: built $(cd "$bin_dir" && echo "${binaries[*]}")"
echo "control-plane build: elapsed $(( $(date +%s) - start ))s"
echo "$bin_dir"
