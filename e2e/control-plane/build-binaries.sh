#!/usr/bin/env bash
# Builds the local control plane's binaries from their Go modules with the
# machine's Go toolchain. Called by the control-plane code (build.ts), which
# passes the pinned versions and the output folder and shows progress; it can
# also be run by hand:
#   OUT=~/.cache/yard/bin/x K8S_VERSION=v1.36.3 ETCD_VERSION=v3.6.16 \
#   KWOK_VERSION=v0.8.0 bash e2e/control-plane/build-binaries.sh [component...]
#
# Why wrapper modules: k8s.io/kubernetes and etcd's server module both carry
# replace directives in their go.mod, so `go install mod@version` refuses them.
# A throw-away module that requires them and repeats the replaces (pointing at
# the published modules instead of local folders) builds them as-is.
set -euo pipefail

: "${OUT:?OUT (output folder) is required}"
: "${K8S_VERSION:?}" "${ETCD_VERSION:?}" "${KWOK_VERSION:?}"
components=("$@")
[ ${#components[@]} -gt 0 ] || components=(etcd kwok kubernetes)

mkdir -p "$OUT"
work=$(mktemp -d "${TMPDIR:-/tmp}/yard-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0

step() { printf '==> %s\n' "$*"; }

build_etcd() {
  local d="$work/etcd" v="$ETCD_VERSION"
  mkdir -p "$d"
  cat >"$d/go.mod" <<MOD
module yard.local/build/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $v

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $v
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $v
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $v
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $v
)
MOD
  step "etcd $v: downloading modules"
  (cd "$d" && go mod download go.etcd.io/etcd/server/v3 && go get go.etcd.io/etcd/server/v3@"$v")
  step "etcd $v: compiling"
  (cd "$d" && go build -trimpath -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$OUT/etcd.tmp" "$OUT/etcd"
}

build_kwok() {
  local v="$KWOK_VERSION"
  step "kwok $v: downloading and compiling"
  GOBIN="$work/kwok-bin" go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$v"
  mv "$work/kwok-bin/kwok" "$OUT/kwok"
}

build_kubernetes() {
  local d="$work/k8s" v="$K8S_VERSION"
  local staging="v0.${v#v1.}"
  local minor=${v#v1.}; minor=${minor%%.*}
  mkdir -p "$d"
  step "kubernetes $v: resolving the module"
  local gomod
  gomod=$(cd "$d" && go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  [ -f "$gomod" ] || { echo "could not find go.mod of k8s.io/kubernetes@$v" >&2; exit 1; }
  {
    printf 'module yard.local/build/kubernetes\n\ngo 1.25\n\nrequire k8s.io/kubernetes %s\n\n' "$v"
    # every staging module that kubernetes replaces with a local folder is
    # published as k8s.io/<m> v0.<minor>.<patch>
    sed -n 's#^\s*\(k8s\.io/[A-Za-z0-9._/-]*\) => \./staging/src/.*$#replace \1 => \1 '"$staging"'#p' "$gomod"
  } >"$d/go.mod"
  echo "    $(grep -c '^replace' "$d/go.mod") staging modules replaced"
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  step "kubernetes $v: downloading modules"
  (cd "$d" && go get "k8s.io/kubernetes@$v")
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    step "kubernetes $v: compiling $cmd"
    (cd "$d" && go build -trimpath -ldflags "$ldflags" -o "$OUT/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$OUT/$cmd.tmp" "$OUT/$cmd"
  done
}

for c in "${components[@]}"; do
  case "$c" in
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    kubernetes) build_kubernetes ;;
    *) echo "unknown component: $c" >&2; exit 2 ;;
  esac
done
step "done: $(ls "$OUT" | tr '\n' ' ')"
