#!/usr/bin/env bash
# Builds, once, every binary the real-engine test bed runs, from Go modules only, into
# .e2e-cache/bin/<family>/<key>/ (git-ignored). <key> is the pinned version plus a hash of the
# build module's files, so a later run reuses the binaries and a changed pin rebuilds them.
#
#   e2e/build-toolchain.sh                 # every family; exits 1 if any binary is missing
#   e2e/build-toolchain.sh kube etcd kwok  # only these families
#
# Build modules live in e2e/toolchain/<family>/ (go.mod, go.sum and, where upstream's own main
# cannot be built from its module, a short main of the project's own). Versions the project pins
# elsewhere (package.json, versions.ts) are read from there and checked against the build module,
# so the two cannot drift apart silently.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
toolchain="$root/e2e/toolchain"
cache="${E2E_CACHE:-$root/.e2e-cache}"
logs="$cache/logs"

export CGO_ENABLED=0 GOFLAGS=-mod=readonly

missing=()  # "family: reason" for every binary that could not be built
now() { date +%s; }

# npmVersion PACKAGE: the exact version package.json pins for an npm dependency.
npmVersion() {
    node -e 'const p=require(process.argv[1]);const v=p.dependencies[process.argv[2]];
        if(!v){console.error("package.json has no dependency "+process.argv[2]);process.exit(1)}
        console.log(v)' "$root/package.json" "$1"
}

# versionsTs KEY: a string value of defaultVersions in versions.ts.
versionsTs() {
    sed -n "s/^ *$1: \"\(.*\)\",.*/\1/p" "$root/versions.ts" | head -1 | grep . ||
        { echo "versions.ts has no defaultVersions.$1" >&2; return 1; }
}

# modVersion FAMILY MODULE: the version the build module resolves MODULE to (after replaces).
modVersion() {
    (cd "$toolchain/$1" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$2")
}

# modInfo FAMILY MODULE FIELD: Time or Hash (the commit, when the proxy's metadata names it; else
# empty) of the version the build module pins, read from the module cache's .info file, which
# `go list -m` does not fully repeat.
modInfo() {
    local v esc
    v=$(modVersion "$1" "$2")
    esc=$(echo "$2" | sed 's/[A-Z]/!\L&/g')
    (cd "$toolchain/$1" && go mod download "$2@$v") &&
        node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));
            console.log(process.argv[2]==="Hash"?(m.Origin&&m.Origin.Hash)||"":m[process.argv[2]]||"")' \
            "$(go env GOMODCACHE)/cache/download/$esc/@v/$v.info" "$3"
}

# expectPin FAMILY MODULE WANT WHERE: fail unless the build module resolves MODULE to WANT.
expectPin() {
    local got
    got=$(modVersion "$1" "$2")
    if [[ "$got" != "$3" ]]; then
        echo "FAIL $1: $2 resolves to $got in e2e/toolchain/$1/go.mod, but $4 pins $3" >&2
        exit 1
    fi
}

# key FAMILY VERSION: cache folder name for this family's build.
key() {
    local h
    h=$(cd "$toolchain/$1" && find . -type f | sort | xargs sha256sum | sha256sum | cut -c1-12)
    echo "$2-$h"
}

# build FAMILY KEY OUT_NAME PACKAGE [go build flags...]: build one binary unless the cache has it
# built with the same flags.
# Runs inside the build module (or the folder in $workdir when set).
build() {
    local family=$1 k=$2 name=$3 pkg=$4
    shift 4
    local dest="$cache/bin/$family/$k" flags="$pkg $*"
    # Flags are part of the key too (they carry version stamps), kept beside the binary.
    if [[ -x "$dest/$name" && "$(cat "$dest/$name.flags" 2>/dev/null)" == "$flags" ]]; then
        echo "cached $family/$name ($k)"
        return 0
    fi
    mkdir -p "$dest"
    local log="$logs/build-$family-$name.log" start
    start=$(now)
    echo "building $family/$name ($k) from $pkg ..."
    if ! (cd "${workdir:-$toolchain/$family}" &&
        nice -n 15 go build -trimpath -o "$dest/$name.tmp" "$@" "$pkg") >"$log" 2>&1; then
        echo "FAIL $family/$name: go build $pkg (module e2e/toolchain/$family):" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    mv "$dest/$name.tmp" "$dest/$name"
    echo "$flags" >"$dest/$name.flags"
    echo "built $family/$name in $(($(now) - start))s"
}

# link FAMILY KEY: point .e2e-cache/bin/<family>/current at the build in use.
link() { ln -sfn "$2" "$cache/bin/$1/current"; }

family_pulumi() {
    local v k
    v=$(npmVersion @pulumi/pulumi)
    expectPin pulumi github.com/pulumi/pulumi/pkg/v3 "v$v" "package.json @pulumi/pulumi"
    expectPin pulumi github.com/pulumi/pulumi/sdk/v3 "v$v" "package.json @pulumi/pulumi"
    k=$(key pulumi "$v")
    # Flags of upstream's release build (.goreleaser.yml at pkg/v3.<version>).
    build pulumi "$k" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
        -tags osusergo,grpcnotrace \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
    link pulumi "$k"
    # The Node.js language host is a separate module, github.com/pulumi/pulumi/sdk/nodejs/cmd/
    # pulumi-language-nodejs/v3, untagged, so only reachable by pseudo-version.
    unavailable pulumi-language-nodejs \
        github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@v3.0.0-20260624120734-a88168d865b7
}

family_pulumi_yaml() {
    local v k
    v=$(modVersion pulumi-yaml github.com/pulumi/pulumi-yaml)
    k=$(key pulumi-yaml "$v")
    build pulumi-yaml "$k" pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$v"
    link pulumi-yaml "$k"
}

family_provider_kubernetes() {
    local want have k src
    want=$(npmVersion @pulumi/kubernetes)
    # The build module pins the only provider/v4 version the module proxy serves; say so loudly
    # whenever it is not the npm SDK's version.
    have=4.25.0
    if [[ "$want" != "$have" ]]; then
        echo "NOTE provider-kubernetes: package.json pins @pulumi/kubernetes $want; the module proxy serves" \
            "github.com/pulumi/pulumi-kubernetes/provider/v4 only at the commit of v$have, so $have is built" >&2
        missing+=("pulumi-resource-kubernetes $want: only $have can be built (see NOTE above)")
    fi
    k=$(key provider-kubernetes "$have")
    # The provider's main embeds two files its release generates; they are absent from the module
    # zip, so the build module's main is copied next to freshly generated ones in the cache.
    src="$cache/src/provider-kubernetes-$k"
    if [[ ! -x "$cache/bin/provider-kubernetes/$k/pulumi-resource-kubernetes" ]]; then
        rm -rf "$src" && mkdir -p "$src"
        cp "$toolchain/provider-kubernetes/"{go.mod,go.sum,main.go} "$src/"
        local dir
        # (the module's folder: listing the package itself fails on the very files that are missing)
        # `go list -m` names no folder for a module not yet in the module cache (a cold machine), hence the download.
        dir=$(cd "$toolchain/provider-kubernetes" &&
            go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 &&
            go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
        [[ -n "$dir" ]] || { echo "FAIL provider-kubernetes: module github.com/pulumi/pulumi-kubernetes/provider/v4 not in the module cache" >&2; exit 1; }
        dir+=/cmd/pulumi-resource-kubernetes
        (cd "$toolchain/provider-kubernetes" && go run ./gen "$dir" "$src" "$have") ||
            { echo "FAIL provider-kubernetes: generating schema-embed.json from $dir" >&2; exit 1; }
    fi
    workdir="$src" build provider-kubernetes "$k" pulumi-resource-kubernetes . \
        -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$have"
    link provider-kubernetes "$k"
}

family_providers_unserved() {
    # Each provider module below is untagged (the repositories tag vX and sdk/vX only), so it is
    # named by the pseudo-version of its release commit; the module proxy refuses all of them.
    unavailable "pulumi-resource-command $(npmVersion @pulumi/command)" \
        github.com/pulumi/pulumi-command/provider@v0.0.0-20260303235922-7f3eb6f3b77c
    unavailable "pulumi-resource-tls $(npmVersion @pulumi/tls)" github.com/pulumi/pulumi-tls/provider/v5@latest
}

# unavailable NAME MODULE@VERSION...: ask the proxy again (it may serve the module one day) and
# record its exact answer; a served module means this script needs a build module for it.
unavailable() {
    local name=$1 m out
    shift
    for m in "$@"; do
        if out=$(cd "$toolchain/pulumi" && GOFLAGS=-mod=mod go list -m -json "$m" 2>&1 >/dev/null); then
            echo "NOTE $name: $m is now served; add a build module for it" >&2
        else
            missing+=("$name: $m: $(echo "$out" | tr '\n' ' ' | sed 's/  */ /g')")
        fi
    done
}

# kubeVersion: the Kubernetes version of the kind node image versions.ts pins
# (name:tag@sha256:digest, or name:tag): its tag.
kubeVersion() {
    local image
    image=$(versionsTs kindNodeImage)
    image=${image%%@*}
    echo "${image##*:}"
}

family_kube() {
    local v k time hash ldflags p
    v=$(kubeVersion)
    expectPin kube k8s.io/kubernetes "$v" "versions.ts kindNodeImage"
    expectPin kube k8s.io/apiserver "v0.${v#v1.}" "versions.ts kindNodeImage (staging module)"
    time=$(modInfo kube k8s.io/kubernetes Time)
    hash=$(modInfo kube k8s.io/kubernetes Hash)
    local minor=${v#v1.}
    minor=${minor%%.*}
    # Unstamped builds report v0.0.0-master, which clients (the Pulumi kubernetes provider among
    # them) parse as a cluster too old to talk to; stamp them as hack/lib/version.sh does.
    ldflags="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor"
        ldflags+=" -X $p.gitCommit=$hash -X $p.gitTreeState=clean -X $p.buildDate=$time"
    done
    k=$(key kube "$v")
    for p in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
        build kube "$k" "$p" "k8s.io/kubernetes/cmd/$p" -ldflags "$ldflags"
    done
    link kube "$k"
}

family_etcd() {
    local v k
    v=$(modVersion etcd go.etcd.io/etcd/server/v3)
    k=$(key etcd "$v")
    build etcd "$k" etcd go.etcd.io/etcd/server/v3 -ldflags "-s -w"
    link etcd "$k"
}

family_kwok() {
    local v k
    v=$(modVersion kwok sigs.k8s.io/kwok)
    k=$(key kwok "$v")
    build kwok "$k" kwok sigs.k8s.io/kwok/cmd/kwok -ldflags "-s -w"
    # kwok has no built-in stages; the test bed loads kwokctl's default set from the same module.
    local dir stages="$cache/bin/kwok/$k/stages.yaml"
    dir=$(cd "$toolchain/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
    if [[ ! -s "$stages" ]]; then
        for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
            pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
            echo "---"
            cat "$dir/kustomize/stage/$f.yaml"
        done >"$stages"
    fi
    link kwok "$k"
}

family_cert_manager() {
    local v k hash
    v=$(versionsTs certManager)
    expectPin cert-manager github.com/cert-manager/cert-manager "$v" "versions.ts certManager"
    hash=$(modInfo cert-manager github.com/cert-manager/cert-manager Hash)
    k=$(key cert-manager "$v")
    build cert-manager "$k" cert-manager-controller . -ldflags "-s -w \
        -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$v \
        -X github.com/cert-manager/cert-manager/pkg/util.AppGitCommit=$hash"
    # The release's CRDs, for cluster.sh's smoke test only (the program installs them from the chart).
    local dir
    dir=$(cd "$toolchain/cert-manager" && go list -m -f '{{.Dir}}' github.com/cert-manager/cert-manager)
    cat "$dir"/deploy/crds/*.yaml >"$cache/bin/cert-manager/$k/crds.yaml"
    link cert-manager "$k"
}

# --pins: the versions this script reads from the project, one "family version" per line, and
# nothing built (tests compare them with package.json and versions.ts).
if [[ "${1:-}" == "--pins" ]]; then
    echo "pulumi v$(npmVersion @pulumi/pulumi)"
    echo "provider-kubernetes $(npmVersion @pulumi/kubernetes)"
    echo "kube $(kubeVersion)"
    echo "cert-manager $(versionsTs certManager)"
    exit 0
fi

mkdir -p "$cache/bin" "$logs"
all=(kube etcd kwok pulumi pulumi-yaml provider-kubernetes providers-unserved cert-manager)
families=("$@")
[[ ${#families[@]} -gt 0 ]] || families=("${all[@]}")

total=$(now)
for f in "${families[@]}"; do
    fn="family_${f//-/_}"
    declare -F "$fn" >/dev/null || { echo "unknown family $f (known: ${all[*]})" >&2; exit 2; }
    "$fn"
done

echo "toolchain in $cache/bin (total $(($(now) - total))s)"
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "MISSING (not buildable from Go modules here):" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi
