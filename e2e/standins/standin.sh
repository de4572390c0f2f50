# Sourced by the stand-ins in on-path/ (`kind`, `docker`, `sysctl`): what they share. This machine has no
# Docker, so no kind; the stand-ins answer the commands the program's KindCluster component and
# scripts/kind-up.sh run, with the test bed's own control planes (e2e/cluster.sh) as the clusters.
# They answer nothing else: any other command or flag exits 1 naming it, so that a change to how
# the program calls kind or docker fails the kind scenario instead of passing unnoticed.
#
# Set by the scenario (e2e/scenarios/kind.ts; E2E_CACHE as for every test-bed run):
#   E2E_KIND_CALLS     file that every call is appended to, one line each: the tool, then each
#                      argument, tab-separated (e2e/standins/calls.ts reads it)
#   E2E_KIND_CLUSTERS  the clusters a create may bring up: NAME=LOOPBACK,... (e2e/clusters/domains.ts)
#   E2E_KIND_STATE     folder holding one file per cluster created and not yet deleted (what
#                      `kind get clusters` lists, as kind lists its Docker containers)
#   E2E_KIND_IMAGE     the only node image a create accepts: the one versions.ts pins
#   E2E_KIND_CLUSTER_SH  what brings a control plane up and down: e2e/cluster.sh unless a unit
#                      test (tests/e2eStandins.test.ts) gives a fake one
set -euo pipefail

standin_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$standin_dir/../.." && pwd)
cache="${E2E_CACHE:-$repo_root/.e2e-cache}"
cluster_sh="${E2E_KIND_CLUSTER_SH:-$repo_root/e2e/cluster.sh}"
calls="${E2E_KIND_CALLS:?the kind and docker stand-ins need E2E_KIND_CALLS (e2e/standins/standin.sh)}"
state="${E2E_KIND_STATE:?the kind and docker stand-ins need E2E_KIND_STATE (e2e/standins/standin.sh)}"

# refuse MESSAGE: the stand-in was asked what the program does not ask; exit 1 naming it.
refuse() {
    echo "${tool} (e2e stand-in, e2e/standins): $*" >&2
    exit 1
}

# record ARGS...: one line of the call log. One write per line, so that calls running at the
# same time (the provider reads both clusters at once) do not interleave within a line.
record() {
    local line="$tool" arg
    for arg in "$@"; do line+=$'\t'"$arg"; done
    printf '%s\n' "$line" >>"$calls"
}

# address_of NAME: the loopback address of the test-bed cluster NAME; refuses a name not given.
address_of() {
    local entry
    local -a entries
    IFS=, read -r -a entries <<<"${E2E_KIND_CLUSTERS:-}"
    for entry in "${entries[@]}"; do
        [[ ${entry%%=*} == "$1" ]] && { echo "${entry#*=}"; return 0; }
    done
    refuse "no test-bed cluster named '$1' (E2E_KIND_CLUSTERS=${E2E_KIND_CLUSTERS:-})"
}

# exists NAME: a create of NAME ran and no delete since.
exists() { [[ -f "$state/clusters/$1" ]]; }
