#!/usr/bin/env bash
# Builds, once, every binary the real-engine test bed runs, from Go modules only, into
# .e2e-cache/bin/<family>/<key>/ (git-ignored). <key> is the pinned version plus a hash of the
# build module's files, so a later run reuses the binaries and a changed pin rebuilds them.
#
#   e2e/build-toolchain.sh                 # every family; exits 1 if any cannot be built
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
}

family_pulumi_yaml() {
    local v k
    v=$(modVersion pulumi-yaml github.com/pulumi/pulumi-yaml)
    k=$(key pulumi-yaml "$v")
    build pulumi-yaml "$k" pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$v"
    link pulumi-yaml "$k"
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

# replaceFromRepositories MODDIR DEPSDIR LIST: for each "MODULE OWNER/NAME FOLDER [LEAVE_OUT,...]" row
# of LIST, the version MODDIR's go.mod requires MODULE at is taken from that repository at the exact
# commit (a pseudo-version's) or tag, unpacked under DEPSDIR (but for the comma-separated paths in
# LEAVE_OUT: large files no build reads, which snapshots do not store) and wired in with a
# `replace`; prints one provenance line per module.
replaceFromRepositories() {
    local moddir=$1 deps=$2 list=$3 module repo folder leaveOut version rev g commit dep
    while read -r module repo folder leaveOut; do
        [[ -n "$module" && "$module" != \#* ]] || continue
        version=$(goModRequire "$moddir/go.mod" "$module") || return 1
        if [[ "$version" =~ [-.][0-9]{14}-([0-9a-f]{12})$ ]]; then
            rev=${BASH_REMATCH[1]}
        else
            rev=$version
            [[ "$folder" == . ]] || rev="$folder/$version"
        fi
        g=$(gitSource "$repo" "$rev") || return 1
        commit=$(git --git-dir="$g" rev-parse "$rev^{commit}")
        dep="$deps/${repo/\//+}@${commit:0:12}"
        gitTree "$g" "$commit" "$dep" "${leaveOut//,/ }" $([[ "$folder" == . ]] || echo "$folder") ||
            { echo "FAIL: unpacking $folder of $repo at $commit" >&2; return 1; }
        [[ "$folder" == . ]] && folder="" || folder="/$folder"
        (cd "$moddir" && go mod edit -replace "$module=$(realpath --relative-to="$moddir" "$dep")$folder") || return 1
        echo "replace $module $version => github.com/$repo$folder at commit $commit${leaveOut:+ (left out, unread by the build: ${leaveOut//,/, })}, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g"
    done <"$list"
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

# sourceOnce KEY SRC: true when SRC was prepared for KEY (see `prepared`).
sourceOnce() { [[ "$(cat "$2/.e2e-source" 2>/dev/null)" == "$1" ]]; }
# prepared SRC KEY LINE...: marks SRC as prepared for KEY, with its provenance lines.
prepared() {
    local src=$1 k=$2
    shift 2
    printf '%s\n' "$@" >"$src/.e2e-provenance"
    echo "$k" >"$src/.e2e-source"
}

# finish FAMILY KEY SRC TITLE: provenance.txt for the build, headed by TITLE and then the lines
# recorded when SRC was prepared; the family's `current` link pointed at the build.
finish() {
    local lines
    mapfile -t lines <"$3/.e2e-provenance"
    provenance "$1" "$2" "$4" "${lines[@]}"
    link "$1" "$2"
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
    if ! sourceOnce "$k" "$src"; then
        rm -rf "$src" && mkdir -p "$src/deps"
        g=$(gitSource istio/istio "$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "$v^{commit}")
        git --git-dir="$g" archive --prefix=istio/ "$commit" | tar -x -C "$src"
        lines+=("source: github.com/istio/istio tag $v, commit $commit, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g")
        replaceFromRepositories "$src/istio" "$src/deps" "$toolchain/istio/unserved-modules" >"$src/.e2e-provenance.part" || exit 1
        mapfile -t -O "${#lines[@]}" lines <"$src/.e2e-provenance.part"
        lines+=("dependencies: everything else as Istio's go.mod and go.sum at $v pin it, from the Go module proxy")
        prepared "$src" "$k" "${lines[@]}"
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
    finish istio "$k" "$src" "pilot-discovery $v: versions.ts defaultVersions.istio"
}

# The tls provider, at exactly the version package.json pins for @pulumi/tls: the repository's tag
# (the proxy refuses github.com/pulumi/pulumi-tls/provider/v5), its schema stamped with that version
# as upstream's `go generate` does, built as its Makefile builds it, with one dependency the proxy
# refuses swapped for a served version of the same code (toolchain/provider-tls/unserved-modules).
family_provider_tls() {
    local v k src g commit module pinned served lines=()
    v=$(npmVersion @pulumi/tls)
    k=$(key provider-tls "$v")
    src="$cache/src/pulumi-tls-$v"
    if ! sourceOnce "$k" "$src"; then
        rm -rf "$src" && mkdir -p "$src"
        g=$(gitSource pulumi/pulumi-tls "v$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "v$v^{commit}")
        git --git-dir="$g" archive "$commit" provider | tar -x -C "$src"
        lines+=("source: github.com/pulumi/pulumi-tls tag v$v, commit $commit, folder provider, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g")
        while read -r module pinned served; do
            [[ -n "$module" && "$module" != \#* ]] || continue
            grep -q "$module $pinned" "$src/provider/go.mod" ||
                { echo "FAIL provider-tls: v$v no longer pins $module $pinned; revisit toolchain/provider-tls/unserved-modules" >&2; exit 1; }
            (cd "$src/provider" && go mod edit -replace "$module=$module@$served") || exit 1
            lines+=("replace $module $pinned => $served (toolchain/provider-tls/unserved-modules says why)")
        done <"$toolchain/provider-tls/unserved-modules"
        mkdir -p "$src/deps"
        replaceFromRepositories "$src/provider" "$src/deps" "$toolchain/provider-tls/unserved-commits" >"$src/.e2e-provenance.part" || exit 1
        mapfile -t -O "${#lines[@]}" lines <"$src/.e2e-provenance.part"
        # schema-embed.json: schema.json with the version set (cmd/pulumi-resource-tls/generate.go, run as upstream's go:generate does).
        (cd "$src/provider/cmd/pulumi-resource-tls" && VERSION=$v GOFLAGS=-mod=mod go run generate.go) ||
            { echo "FAIL provider-tls: generating schema-embed.json" >&2; exit 1; }
        lines+=("dependencies: everything else as the tag's go.mod and go.sum pin it, from the Go module proxy")
        prepared "$src" "$k" "${lines[@]}"
    fi
    # Flags of upstream's Makefile (LDFLAGS_PROJ_VERSION, LDFLAGS_STRIP_SYMBOLS; CGO_ENABLED=0 is this
    # script's default). -mod=mod: the replacement's checksum is not in upstream's go.sum, so Go adds
    # it, verified against the checksum database.
    workdir="$src/provider" build provider-tls "$k" pulumi-resource-tls ./cmd/pulumi-resource-tls \
        -mod=mod -buildvcs=false -ldflags "-s -w -X github.com/pulumi/pulumi-tls/provider/v5/pkg/version.Version=$v"
    finish provider-tls "$k" "$src" "pulumi-resource-tls $v: package.json @pulumi/tls"
}

# gitTree GITDIR COMMIT DEST LEAVE_OUT PATH...: the commit's files under PATH... written to DEST,
# except the space-separated paths in LEAVE_OUT: files the build regenerates (snapshots store no
# large blobs, so `git archive` of such a tree fails; GitHub's copy has them, and leaving them out
# there too makes both paths build the same thing).
gitTree() {
    local gd=$1 commit=$2 dest=$3 leaveOut=$4 idx p
    shift 4
    idx=$(mktemp "${TMPDIR:-/tmp}/e2e-index.XXXXXX") && rm -f "$idx"
    mkdir -p "$dest"
    (
        export GIT_INDEX_FILE=$idx
        git --git-dir="$gd" read-tree "$commit" || exit 1
        for p in $leaveOut; do git --git-dir="$gd" update-index --force-remove -- "$p" || exit 1; done
        git --git-dir="$gd" ls-files -z -- "$@" |
            git --git-dir="$gd" --work-tree="$dest" checkout-index -z --stdin --prefix="$(cd "$dest" && pwd)/"
    )
    local rc=$?
    rm -f "$idx"
    return $rc
}

# The Node.js language host, at the @pulumi/pulumi version package.json pins: its module
# (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is untagged and refused by the module proxy, so it is
# built from the repository's tag, whose go.mod points sdk/v3 and pkg/v3 at the same tree.
family_language_nodejs() {
    local v k src g commit lines=()
    v=$(npmVersion @pulumi/pulumi)
    k=$(key language-nodejs "$v")
    src="$cache/src/pulumi-$v"
    if ! sourceOnce "$k" "$src"; then
        rm -rf "$src"
        g=$(gitSource pulumi/pulumi "v$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "v$v^{commit}")
        # Left out: two large files no Go build reads (test data, a vendored TypeScript compiler).
        gitTree "$g" "$commit" "$src" \
            "pkg/backend/httpstate/testdata/two-large-checkpoints.json sdk/nodejs/vendor/typescript@3.8.3/typescript.js" \
            sdk pkg proto || { echo "FAIL language-nodejs: unpacking v$v from $g" >&2; exit 1; }
        prepared "$src" "$k" \
            "source: github.com/pulumi/pulumi tag v$v, commit $commit, folders sdk pkg proto, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g, unchanged" \
            "dependencies: sdk/nodejs/cmd/pulumi-language-nodejs/go.mod and go.sum at v$v (sdk/v3 and pkg/v3 from the same tree), the rest from the Go module proxy"
    fi
    # Flags of sdk/nodejs/Makefile (its VERSION is the release tag, with the v).
    workdir="$src/sdk/nodejs/cmd/pulumi-language-nodejs" build language-nodejs "$k" pulumi-language-nodejs . \
        -buildvcs=false -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
    finish language-nodejs "$k" "$src" "pulumi-language-nodejs v$v: package.json @pulumi/pulumi"
}

# The command provider, at the version package.json pins for @pulumi/command: the repository's tag
# (the module proxy refuses github.com/pulumi/pulumi-command/provider), unchanged; its schema is
# committed, so nothing is generated.
family_provider_command() {
    local v k src g commit lines=()
    v=$(npmVersion @pulumi/command)
    k=$(key provider-command "$v")
    src="$cache/src/pulumi-command-$v"
    if ! sourceOnce "$k" "$src"; then
        rm -rf "$src"
        g=$(gitSource pulumi/pulumi-command "v$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "v$v^{commit}")
        gitTree "$g" "$commit" "$src" "" provider || { echo "FAIL provider-command: unpacking v$v from $g" >&2; exit 1; }
        prepared "$src" "$k" \
            "source: github.com/pulumi/pulumi-command tag v$v, commit $commit, folder provider, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g, unchanged" \
            "dependencies: the tag's provider/go.mod and go.sum, from the Go module proxy"
    fi
    # Flags of upstream's Makefile (the version stamp; cgo is this script's default, off).
    workdir="$src/provider" build provider-command "$k" pulumi-resource-command ./cmd/pulumi-resource-command \
        -buildvcs=false -ldflags "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$v"
    finish provider-command "$k" "$src" "pulumi-resource-command $v: package.json @pulumi/command"
}

# The kubernetes provider, at the version package.json pins for @pulumi/kubernetes, built as its
# Makefile builds a release: the repository's tag (the module proxy serves provider/v4 only at an
# older commit), the Pulumi schema regenerated by the tag's own codegen from the Kubernetes OpenAPI
# specs its Makefile and codegen name (taken from k8s.io/kubernetes module zips on the proxy instead
# of curl), and refused unless it is byte-for-byte the schema.json the tag's tree records.
family_provider_kubernetes() {
    local v k src g commit kubeV legacy s want got lines=()
    v=$(npmVersion @pulumi/kubernetes)
    k=$(key provider-kubernetes "$v")
    src="$cache/src/pulumi-kubernetes-$v"
    local schema=provider/cmd/pulumi-resource-kubernetes/schema.json
    local tfSchema=provider/cmd/pulumi-gen-kubernetes/terraform.json
    local tfMapping=provider/cmd/pulumi-resource-kubernetes/terraform-mapping.json
    if ! sourceOnce "$k" "$src"; then
        rm -rf "$src"
        g=$(gitSource pulumi/pulumi-kubernetes "v$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "v$v^{commit}")
        gitTree "$g" "$commit" "$src" "$schema $tfSchema" provider Makefile ||
            { echo "FAIL provider-kubernetes: unpacking v$v from $g" >&2; exit 1; }
        lines+=("source: github.com/pulumi/pulumi-kubernetes tag v$v, commit $commit, folder provider, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g")
        # The OpenAPI specs: the Makefile's KUBE_VERSION, and the legacy releases the codegen merges in
        # (cmd/pulumi-gen-kubernetes/main.go, generateSchema), each from k8s.io/kubernetes's module zip.
        kubeV=$(sed -n 's/^KUBE_VERSION *?= *\(v[0-9.]*\).*/\1/p' "$src/Makefile")
        legacy=$(sed -n '/^func generateSchema/,/^}/s/.*range \[\]string{\(.*\)}.*/\1/p' \
            "$src/provider/cmd/pulumi-gen-kubernetes/main.go" | tr ',' '\n' | tr -d '" ')
        [[ -n "$kubeV" && -n "$legacy" ]] ||
            { echo "FAIL provider-kubernetes: v$v's Makefile or codegen no longer names its OpenAPI specs as this script reads them" >&2; exit 1; }
        mkdir -p "$src/provider/pkg/gen/openapi-specs"
        for s in "${kubeV#v}" $(printf '1.%s.0 ' $legacy); do
            install -m 644 "$(moduleJson "k8s.io/kubernetes@v$s" Dir)/api/openapi-spec/swagger.json" \
                "$src/provider/pkg/gen/openapi-specs/swagger-v$s.json" || exit 1
        done
        lines+=("openapi specs: api/openapi-spec/swagger.json of k8s.io/kubernetes $kubeV (Makefile KUBE_VERSION) and of 1.$(echo $legacy | sed 's/ /.0, 1./g').0 (the codegen's legacy specs), from the Go module proxy")
        # The SDK module sits beside the provider in the tag (go.mod: replace => ../sdk); the same tag's
        # sdk/v4 module is served by the proxy, so it comes from there.
        (cd "$src/provider" && go mod edit -replace "github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@v$v") || exit 1
        lines+=("replace github.com/pulumi/pulumi-kubernetes/sdk/v4 => ../sdk (the same tag) taken as sdk/v4 v$v from the Go module proxy, $(moduleJson "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$v" Sum)")
        mkdir -p "$src/deps"
        replaceFromRepositories "$src/provider" "$src/deps" "$toolchain/provider-kubernetes/unserved-commits" >"$src/.e2e-provenance.part" || exit 1
        mapfile -t -O "${#lines[@]}" lines <"$src/.e2e-provenance.part"
        lines+=("dependencies: everything else as the tag's provider/go.mod and go.sum pin it, from the Go module proxy")
        prepared "$src" "$k.codegen" "${lines[@]}"
    fi
    # The codegen, as the Makefile's k8sgen target builds it (cgo on).
    CGO_ENABLED=1 workdir="$src/provider" build provider-kubernetes "$k" pulumi-gen-kubernetes ./cmd/pulumi-gen-kubernetes \
        -mod=mod -buildvcs=false -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$v"
    if ! sourceOnce "$k" "$src"; then
        g=$(gitSource pulumi/pulumi-kubernetes "v$v") || exit 1
        kubeV=$(sed -n 's/^KUBE_VERSION *?= *\(v[0-9.]*\).*/\1/p' "$src/Makefile")
        # The schema target also rewrites terraform-mapping.json from a Terraform schema dump the
        # provider only uses for `pulumi convert`; the tag's committed mapping is kept as it is.
        cp "$src/$tfMapping" "$src/.e2e-terraform-mapping.json"
        echo '{"provider":null,"resource_schemas":{},"data_source_schemas":{}}' >"$src/$tfSchema"
        (cd "$src" && "$cache/bin/provider-kubernetes/$k/pulumi-gen-kubernetes" schema \
            "provider/pkg/gen/openapi-specs/swagger-$kubeV.json" "$src") >"$logs/build-provider-kubernetes-schema.log" 2>&1 ||
            { echo "FAIL provider-kubernetes: pulumi-gen-kubernetes schema (log: $logs/build-provider-kubernetes-schema.log)" >&2; exit 1; }
        cp "$src/.e2e-terraform-mapping.json" "$src/$tfMapping"
        want=$(git --git-dir="$g" rev-parse "v$v:$schema")
        got=$(git hash-object "$src/$schema")
        [[ "$got" == "$want" ]] ||
            { echo "FAIL provider-kubernetes: the regenerated $schema (blob $got) is not the one tag v$v records (blob $want)" >&2; exit 1; }
        # schema-embed.json and terraform-mapping-embed.json, as the Makefile's k8sprovider target makes them.
        (cd "$src/provider" && VERSION=$v GOFLAGS=-mod=mod go generate cmd/pulumi-resource-kubernetes/main.go) ||
            { echo "FAIL provider-kubernetes: go generate cmd/pulumi-resource-kubernetes/main.go" >&2; exit 1; }
        mapfile -t lines <"$src/.e2e-provenance"
        lines+=("schema.json: regenerated by pulumi-gen-kubernetes v$v from those specs; git blob $got, the very blob tag v$v records")
        prepared "$src" "$k" "${lines[@]}"
    fi
    # Flags of the Makefile's k8sprovider target.
    workdir="$src/provider" build provider-kubernetes "$k" pulumi-resource-kubernetes ./cmd/pulumi-resource-kubernetes \
        -mod=mod -buildvcs=false -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$v"
    finish provider-kubernetes "$k" "$src" "pulumi-resource-kubernetes $v: package.json @pulumi/kubernetes"
}

# The provider of @pulumi/kubernetes-cert-manager (a component provider: the CertManager component
# runs in it), at the version package.json pins: the repository's tag, with its one dependency the
# module proxy refuses (pulumi-go-helmbase) taken from that repository at the tag its go.mod requires.
family_provider_kubernetes_cert_manager() {
    local v k src g commit lines=()
    v=$(npmVersion @pulumi/kubernetes-cert-manager)
    k=$(key provider-kubernetes-cert-manager "$v")
    src="$cache/src/pulumi-kubernetes-cert-manager-$v"
    if ! sourceOnce "$k" "$src"; then
        rm -rf "$src"
        g=$(gitSource pulumi/pulumi-kubernetes-cert-manager "v$v") || exit 1
        commit=$(git --git-dir="$g" rev-parse "v$v^{commit}")
        # sdk/go: the provider's go.mod replaces the Go SDK module with ../sdk.
        gitTree "$g" "$commit" "$src" "" provider sdk/go.mod sdk/go.sum sdk/go ||
            { echo "FAIL provider-kubernetes-cert-manager: unpacking v$v from $g" >&2; exit 1; }
        lines+=("source: github.com/pulumi/pulumi-kubernetes-cert-manager tag v$v, commit $commit, folders provider and sdk/go, from ${E2E_SOURCE_SNAPSHOTS:+the snapshot }$g")
        mkdir -p "$src/deps"
        replaceFromRepositories "$src/provider" "$src/deps" "$toolchain/provider-kubernetes-cert-manager/unserved-modules" >"$src/.e2e-provenance.part" || exit 1
        mapfile -t -O "${#lines[@]}" lines <"$src/.e2e-provenance.part"
        lines+=("dependencies: everything else as the tag's provider/go.mod and go.sum pin it, from the Go module proxy")
        prepared "$src" "$k" "${lines[@]}"
    fi
    # Flags of upstream's Makefile (the version stamp); the schema is embedded as committed.
    workdir="$src/provider/cmd/pulumi-resource-kubernetes-cert-manager" build provider-kubernetes-cert-manager "$k" \
        pulumi-resource-kubernetes-cert-manager . -mod=mod -buildvcs=false \
        -ldflags "-X github.com/pulumi/pulumi-kubernetes-cert-manager/provider/pkg/version.Version=$v"
    finish provider-kubernetes-cert-manager "$k" "$src" "pulumi-resource-kubernetes-cert-manager $v: package.json @pulumi/kubernetes-cert-manager"
}

# --pins: the versions this script reads from the project, one "family version" per line, and
# nothing built (tests compare them with package.json and versions.ts).
if [[ "${1:-}" == "--pins" ]]; then
    echo "pulumi v$(npmVersion @pulumi/pulumi)"
    echo "provider-kubernetes $(npmVersion @pulumi/kubernetes)"
    echo "provider-tls $(npmVersion @pulumi/tls)"
    echo "language-nodejs v$(npmVersion @pulumi/pulumi)"
    echo "provider-command $(npmVersion @pulumi/command)"
    echo "provider-kubernetes-cert-manager $(npmVersion @pulumi/kubernetes-cert-manager)"
    echo "kube $(kubeVersion)"
    echo "cert-manager $(versionsTs certManager)"
    echo "spire $(spireImage spire)"
    echo "spire-controller-manager $(spireImage controllerManager)"
    echo "istio $(versionsTs istio)"
    exit 0
fi

mkdir -p "$cache/bin" "$logs"
all=(kube etcd kwok pulumi language-nodejs pulumi-yaml provider-kubernetes provider-tls provider-command
    provider-kubernetes-cert-manager cert-manager spire spire-controller-manager istio)
families=("$@")
[[ ${#families[@]} -gt 0 ]] || families=("${all[@]}")

total=$(now)
for f in "${families[@]}"; do
    fn="family_${f//-/_}"
    declare -F "$fn" >/dev/null || { echo "unknown family $f (known: ${all[*]})" >&2; exit 2; }
    "$fn"
done

echo "toolchain in $cache/bin (total $(($(now) - total))s)"
