# Sourced by the kind scripts: a Pulumi state backend inside this checkout, so the local mesh
# needs no Pulumi Cloud account. Export the same two variables to run pulumi commands by hand.
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://${project_root}/.pulumi-local}"
# The local stack's secrets (kubeconfigs, root CA keys) are encrypted with this passphrase;
# set your own before the first run to keep them private.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p "${project_root}/.pulumi-local"

require() {
    command -v "$1" >/dev/null 2>&1 || { echo "missing prerequisite: $1 ($2)" >&2; exit 1; }
}
