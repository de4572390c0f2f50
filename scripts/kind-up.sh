#!/usr/bin/env bash
# Installs the project and brings up the whole local mesh: two kind clusters, cert-manager,
# federated SPIRE, Istio multi-primary and the samples (stack cluster-kind, local state backend).
set -euo pipefail
source "$(dirname "$0")/local-backend.sh"
cd "$project_root"

# The versions the README lists as prerequisites.
min_node=20.19.0   # package.json engines
min_kind=0.31.0    # builds and knows the node image pinned in versions.ts
# kind's known issue "Pod errors due to too many open files": inotify limits are per host user,
# not per container, so every kind node (and the watchers of kubelet, istio-agent and SPIRE in
# it) draws on the same pool. These are the values kind's documentation recommends.
min_inotify_watches=524288
min_inotify_instances=512

fail() {
    echo "kind-up.sh: $*" >&2
    exit 1
}

# Succeeds when the first x.y.z in `found` is at least `minimum`; fails naming both otherwise.
require_version() {
    local tool=$1 found=$2 minimum=$3 why=$4
    [[ $found =~ ([0-9]+)\.([0-9]+)\.([0-9]+) ]] || fail "cannot read the ${tool} version from: ${found}"
    local -a have=("${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}") need
    IFS=. read -r -a need <<<"$minimum"
    local i
    for i in 0 1 2; do
        ((10#${have[i]} > 10#${need[i]})) && return 0
        ((10#${have[i]} < 10#${need[i]})) && fail "${tool} ${minimum} or later is required (${why}); found ${BASH_REMATCH[0]} (${found})"
    done
    return 0
}

check_inotify() {
    # Docker Desktop (macOS, Windows) runs the nodes in its own Linux VM, whose limits are its own.
    [ "$(uname -s)" = Linux ] || return 0
    local key want have problems=()
    for key in fs.inotify.max_user_watches fs.inotify.max_user_instances; do
        case $key in
        *watches) want=$min_inotify_watches ;;
        *) want=$min_inotify_instances ;;
        esac
        if ! have=$(sysctl -n "$key" 2>/dev/null) || [[ ! $have =~ ^[0-9]+$ ]]; then
            echo "kind-up.sh: warning: cannot read ${key}; two kind clusters need at least ${want}" >&2
            continue
        fi
        ((have >= want)) || problems+=("${key} is ${have}, two kind clusters need at least ${want}")
    done
    if ((${#problems[@]} > 0)); then
        {
            printf 'kind-up.sh: %s\n' "${problems[@]}"
            echo "Pods would fail with \"too many open files\" (kind known issue). Raise the limits on this host:"
            echo "  sudo sysctl -w fs.inotify.max_user_watches=${min_inotify_watches} fs.inotify.max_user_instances=${min_inotify_instances}"
            echo "and keep them across reboots with the same two lines in /etc/sysctl.d/99-kind.conf."
        } >&2
        exit 1
    fi
}

require node "Node.js ${min_node} or later"
require pulumi "https://www.pulumi.com/docs/install/"
require docker "a running Docker engine"
require kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
require_version Node.js "$(node --version)" "$min_node" "README prerequisites, package.json engines"
require_version kind "$(kind version)" "$min_kind" "README prerequisites; older kind does not run the pinned node image"
check_inotify
docker info >/dev/null 2>&1 || fail "Docker is installed but not running"
npm ci --no-audit --no-fund
pulumi stack select --create cluster-kind
pulumi up --yes --stack cluster-kind "$@"

# A command that works from any shell, in any directory: nothing in it depends on this script's
# variables. The passphrase itself is never printed.
verify="cd $(printf '%q' "$project_root") && PULUMI_BACKEND_URL=$(printf '%q' "$PULUMI_BACKEND_URL")"
if [ "${PULUMI_CONFIG_PASSPHRASE+set}" = set ]; then
    [ -n "$PULUMI_CONFIG_PASSPHRASE" ] || verify+=" PULUMI_CONFIG_PASSPHRASE="
elif [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    verify+=" PULUMI_CONFIG_PASSPHRASE_FILE=$(printf '%q' "$PULUMI_CONFIG_PASSPHRASE_FILE")"
fi
verify+=" npm run verify -- --stack cluster-kind"
echo "Mesh is up. Check it (from any shell) with:"
echo "  ${verify}"
if [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
    echo "with PULUMI_CONFIG_PASSPHRASE exported as for this run (it is not printed here)."
fi
