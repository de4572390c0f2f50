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
#
# The mesh's own control plane (spire, spire-controller-manager, istio) is built inside upstream's
# own module instead, copied into .e2e-cache/src/, so that its dependencies are exactly the ones
# upstream released with; e2e/toolchain/<family>/ then holds only what is changed there (a patch, the
# modules to take from repositories) and a provenance file beside the binaries says what was built.
# Sources the module proxy does not serve come from E2E_SOURCE_SNAPSHOTS (a folder of bare git
# repositories, <owner>+<name>/repo) when set, else from GitHub at the exact commit.
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

# spireImage KEY: a string value of spireChartImages in versions.ts (what the spire chart runs).
spireImage() {
    sed -n "/^export const spireChartImages/,/^}/s/^ *$1: \"\(.*\)\",.*/\1/p" "$root/versions.ts" | grep . ||
        { echo "versions.ts has no spireChartImages.$1" >&2; return 1; }
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
    [[ -d "$toolchain/$1" ]] || { echo "$2"; return; }
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
    # cgo is off unless a family needs it (SPIRE's sqlite datastore); a change of it rebuilds.
    [[ "$CGO_ENABLED" == 0 ]] || flags+=" CGO_ENABLED=$CGO_ENABLED"
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
        echo "FAIL $family/$name: go build $pkg (in ${workdir:-e2e/toolchain/$family}):" >&2
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

# moduleJson MODULE@VERSION FIELD: a field (Dir, Sum, Origin.Hash, ...) of `go mod download -json`,
# which fetches the module from the proxy if the module cache lacks it.
moduleJson() {
    local out
    # From / so that no go.mod around the cache takes part.
    out=$(cd / && go mod download -json "$1") || { echo "FAIL: go mod download $1: $out" >&2; return 1; }
    node -e 'let v=JSON.parse(process.argv[1]);for(const k of process.argv[2].split("."))v=v&&v[k];console.log(v||"")' \
        "$out" "$2"
}

# moduleSource FAMILY MODULE VERSION: upstream's module copied out of the module cache into
# .e2e-cache/src/<family>-<version> (made writable), with each e2e/toolchain/<family>/*.patch
# applied exactly (no fuzz: a patch that no longer matches stops the build); prints the folder.
# Reused while the module and the patches are the same.
moduleSource() {
    local family=$1 module=$2 version=$3 dir src stamp p
    dir=$(moduleJson "$module@$version" Dir) || return 1
    src="$cache/src/$family-$version"
    stamp="$module@$version $(cat "$toolchain/$family"/*.patch 2>/dev/null | sha256sum | cut -c1-12)"
    if [[ "$(cat "$src/.e2e-source" 2>/dev/null)" != "$stamp" ]]; then
        rm -rf "$src" && mkdir -p "$cache/src" && cp -r "$dir" "$src" && chmod -R u+w "$src" || return 1
        for p in "$toolchain/$family"/*.patch; do
            [[ -e "$p" ]] || continue
            if ! patch -d "$src" -p1 --fuzz=0 --forward --batch --no-backup-if-mismatch <"$p" >&2; then
                echo "FAIL $family: ${p#"$root"/} no longer applies to $module@$version as it is;" \
                    "read the patch's header and redo it against upstream's file" >&2
                rm -rf "$src"
                return 1
            fi
        done
        echo "$stamp" >"$src/.e2e-source"
    fi
    echo "$src"
}

# gitSource OWNER/NAME REV: a bare git directory holding REV (a tag, or a commit abbreviated as in
# a Go pseudo-version) with its whole tree; prints the directory. From E2E_SOURCE_SNAPSHOTS
# (<owner>+<name>/repo) when set, where a missing REV is an error; else fetched once from GitHub
# (E2E_SOURCE_GITHUB, default https://github.com) into .e2e-cache/src/git/, only that commit's tree.
gitSource() {
    local repo=$1 rev=$2 dir url full refspec
    if [[ -n "${E2E_SOURCE_SNAPSHOTS:-}" ]]; then
        dir="$E2E_SOURCE_SNAPSHOTS/${repo/\//+}/repo"
        git --git-dir="$dir" rev-parse -q --verify "$rev^{commit}" >/dev/null ||
            { echo "FAIL: $dir (E2E_SOURCE_SNAPSHOTS) has no $rev of github.com/$repo" >&2; return 1; }
        echo "$dir"
        return 0
    fi
    url="${E2E_SOURCE_GITHUB:-https://github.com}/$repo"
    dir="$cache/src/git/${repo/\//+}"
    if ! git --git-dir="$dir/objects.git" rev-parse -q --verify "$rev^{commit}" >/dev/null 2>&1; then
        echo "fetching $rev of $url ..." >&2
        if [[ "$rev" =~ ^[0-9a-f]{7,39}$ ]]; then
            # A server fetches no commit by an abbreviated name: find the full one in the repository's
            # history, fetched once as commits alone (no trees, no blobs).
            if [[ ! -d "$dir/commits.git" ]]; then
                git clone -q --bare --filter=tree:0 "$url" "$dir/commits.git" >&2 || return 1
            fi
            git --git-dir="$dir/commits.git" rev-parse -q --verify "$rev^{commit}" >/dev/null ||
                git --git-dir="$dir/commits.git" fetch -q --filter=tree:0 "$url" '+refs/heads/*:refs/heads/*' >&2 || return 1
            full=$(git --git-dir="$dir/commits.git" rev-parse -q --verify "$rev^{commit}") ||
                { echo "FAIL: $url has no commit $rev on any branch" >&2; return 1; }
            refspec="$full:refs/e2e/$full"
        else
            refspec="refs/tags/$rev:refs/tags/$rev"
        fi
        [[ -d "$dir/objects.git" ]] || git init -q --bare "$dir/objects.git" || return 1
        git --git-dir="$dir/objects.git" fetch -q --depth 1 "$url" "$refspec" >&2 ||
            { echo "FAIL: fetching $refspec from $url" >&2; return 1; }
    fi
    echo "$dir/objects.git"
}

# provenance FAMILY KEY LINE...: provenance.txt beside the family's binaries, saying what each was
# built from (the given lines) and how (Go, and each binary's go build flags). The builds themselves
# run with -buildvcs=false: .e2e-cache/src/ lies inside this project's checkout, whose commit Go
# would otherwise stamp into upstream's binaries.
provenance() {
    local family=$1 k=$2 f
    shift 2
    {
        printf '%s\n' "$@"
        echo "go: $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
        local pkg flags cgo
        for f in "$cache/bin/$family/$k"/*.flags; do
            read -r pkg flags <"$f"
            cgo=""
            [[ "$flags" != *" CGO_ENABLED=1" ]] || { cgo="CGO_ENABLED=1 " && flags=${flags% CGO_ENABLED=1}; }
            echo "$(basename "$f" .flags): ${cgo}go build -trimpath $flags $pkg"
        done
    } >"$cache/bin/$family/$k/provenance.txt"
}

family_spire() {
    local v k src hash name patch
    v=$(spireImage spire)
    k=$(key spire "$v")
    patch="$toolchain/spire/drop-ejbca-upstreamauthority.patch"
    src=$(moduleSource spire github.com/spiffe/spire "v$v") || exit 1
    hash=$(moduleJson "github.com/spiffe/spire@v$v" Origin.Hash) || exit 1
    # Stamped as SPIRE's Makefile stamps a clean tagged tree (go_ldflags: the tag without its "v",
    # the commit's first 7 digits), so that `spire-server --version` names the release.
    local ldflags="-s -w -X github.com/spiffe/spire/pkg/common/version.gittag=$v"
    ldflags+=" -X github.com/spiffe/spire/pkg/common/version.githash=${hash:0:7}"
    # cgo on: the sql datastore's sqlite3 (the chart's default) is mattn/go-sqlite3, and without
    # cgo SPIRE compiles a stub (sqlstore/sqlite_no_cgo.go) that refuses sqlite3 at startup.
    for name in spire-server spire-agent; do
        CGO_ENABLED=1 workdir="$src" build spire "$k" "$name" "./cmd/$name" -buildvcs=false -ldflags "$ldflags"
    done
    provenance spire "$k" \
        "spire-server and spire-agent $v: the image tag of the spire chart $(spireImage chart)'s spire-server and spire-agent (versions.ts spireChartImages)" \
        "source: github.com/spiffe/spire@v$v from the Go module proxy, commit $hash, $(moduleJson "github.com/spiffe/spire@v$v" Sum)" \
        "changed: ${patch#"$root"/} (sha256 $(sha256sum <"$patch" | cut -c1-12)), nothing else" \
        "dependencies: SPIRE's go.mod and go.sum at v$v, from the Go module proxy"
    link spire "$k"
}

family_spire_controller_manager() {
    local v k src hash
    v=$(spireImage controllerManager)
    k=$(key spire-controller-manager "$v")
    src=$(moduleSource spire-controller-manager github.com/spiffe/spire-controller-manager "v$v") || exit 1
    hash=$(moduleJson "github.com/spiffe/spire-controller-manager@v$v" Origin.Hash) || exit 1
    # Upstream's image build (Dockerfile) is a plain `go build` of cmd/ with cgo off: no version stamp.
    workdir="$src" build spire-controller-manager "$k" spire-controller-manager ./cmd -buildvcs=false -ldflags "-s -w"
    provenance spire-controller-manager "$k" \
        "spire-controller-manager $v: the spire chart $(spireImage chart)'s controllerManager.image.tag (versions.ts spireChartImages)" \
        "source: github.com/spiffe/spire-controller-manager@v$v from the Go module proxy, commit $hash, $(moduleJson "github.com/spiffe/spire-controller-manager@v$v" Sum), unchanged" \
        "dependencies: its go.mod and go.sum at v$v, from the Go module proxy"
    link spire-controller-manager "$k"
}

# goModRequire GO_MOD MODULE: the version GO_MOD requires MODULE at.
goModRequire() {
    awk -v m="$2" '$1 == m { print $2 } $1 == "require" && $2 == m { print $3 }' "$1" | head -1 | grep . ||
        { echo "FAIL: $1 requires no $2" >&2; return 1; }
}

family_istio() {
    local v k src g commit origin module repo folder version rev dep lines=()
    v=$(versionsTs istio)
    k=$(key istio "$v")
    src="$cache/src/istio-$v"
    # The proxy refuses istio.io/istio at any release tag, and a few modules at the exact commits
    # Istio pins (e2e/toolchain/istio/unserved-modules): the tag's tree, plus each of those at its
    # pinned commit wired in with a `replace`, so that nothing built differs from what 1.30.3 pins.
    if [[ "$(cat "$src/.e2e-source" 2>/dev/null)" != "$k" ]]; then
        rm -rf "$src" && mkdir -p "$src/deps"
        g=$(gitSource istio/istio "$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "$v^{commit}")
        git --git-dir="$g" archive --prefix=istio/ "$commit" | tar -x -C "$src"
        lines+=("source: github.com/istio/istio tag $v, commit $commit, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g")
        while read -r module repo folder; do
            [[ -n "$module" && "$module" != \#* ]] || continue
            version=$(goModRequire "$src/istio/go.mod" "$module") || exit 1
            if [[ "$version" =~ [-.][0-9]{14}-([0-9a-f]{12})$ ]]; then
                rev=${BASH_REMATCH[1]}
            else
                rev=$version
                [[ "$folder" == . ]] || rev="$folder/$version"
            fi
            g=$(gitSource "$repo" "$rev") || exit 1
            commit=$(git --git-dir="$g" rev-parse "$rev^{commit}")
            dep="$src/deps/${repo/\//+}@${commit:0:12}"
            mkdir -p "$dep"
            if [[ "$folder" == . ]]; then
                git --git-dir="$g" archive "$commit" | tar -x -C "$dep"
                folder=""
            else
                git --git-dir="$g" archive "$commit" "$folder" | tar -x -C "$dep"
                folder="/$folder"
            fi
            (cd "$src/istio" && go mod edit -replace "$module=../deps/${dep##*/}$folder") || exit 1
            lines+=("replace $module $version => github.com/$repo$folder at commit $commit, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g")
        done <"$toolchain/istio/unserved-modules"
        lines+=("dependencies: everything else as Istio's go.mod and go.sum at $v pin it, from the Go module proxy")
        printf '%s\n' "${lines[@]}" >"$src/.e2e-provenance"
        echo "$k" >"$src/.e2e-source"
    fi
    commit=$(sed -n 's/^source: .* commit \([0-9a-f]*\),.*/\1/p' "$src/.e2e-provenance")
    # Stamped as Istio's release build stamps it (common/scripts/report_build_info.sh with VERSION set,
    # through gobuild.sh), so that `pilot-discovery version` names the release. Build status
    # "Modified": go.mod gained the replaces (the code is the tag's).
    local p=istio.io/istio/pkg/version ldflags
    ldflags="-s -w -X $p.buildVersion=$v -X $p.buildGitRevision=$commit -X $p.buildStatus=Modified -X $p.buildTag=$v"
    ldflags+=" -X $p.buildOS=$(go env GOOS) -X $p.buildArch=$(go env GOARCH)"
    # Tags of Istio's release build for pilot-discovery (Makefile.core.mk STANDARD_TAGS).
    workdir="$src/istio" build istio "$k" pilot-discovery ./pilot/cmd/pilot-discovery \
        -tags=vtprotobuf,disable_pgv -buildvcs=false -ldflags "$ldflags"
    mapfile -t lines <"$src/.e2e-provenance"
    provenance istio "$k" "pilot-discovery $v: versions.ts defaultVersions.istio" "${lines[@]}"
    link istio "$k"
}

# --pins: the versions this script reads from the project, one "family version" per line, and
# nothing built (tests compare them with package.json and versions.ts).
if [[ "${1:-}" == "--pins" ]]; then
    echo "pulumi v$(npmVersion @pulumi/pulumi)"
    echo "provider-kubernetes $(npmVersion @pulumi/kubernetes)"
    echo "kube $(kubeVersion)"
    echo "cert-manager $(versionsTs certManager)"
    echo "spire $(spireImage spire)"
    echo "spire-controller-manager $(spireImage controllerManager)"
    echo "istio $(versionsTs istio)"
    exit 0
fi

mkdir -p "$cache/bin" "$logs"
all=(kube etcd kwok pulumi pulumi-yaml provider-kubernetes providers-unserved cert-manager
    spire spire-controller-manager istio)
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
