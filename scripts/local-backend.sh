# Sourced by the kind scripts, and by you (from bash) before running pulumi or `npm run verify` by
# hand: a Pulumi state backend inside this checkout, so the local mesh needs no Pulumi Cloud
# account, and the passphrase that encrypts the stack's secrets.
project_root="$(cd "$(dirname "${BASH_SOURCE[0]:-}")/.." && pwd)"
if [ ! -f "${project_root}/Pulumi.yaml" ]; then
    # Only bash sets BASH_SOURCE; elsewhere the path above is a guess.
    echo "local-backend.sh: cannot find the project (no Pulumi.yaml in ${project_root}); source this file from bash" >&2
    return 1 2>/dev/null || exit 1
fi
local_state_url="file://${project_root}/.pulumi-local"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-${local_state_url}}"
if [ "$PULUMI_BACKEND_URL" = "$local_state_url" ]; then
    mkdir -p "${project_root}/.pulumi-local"
fi

local_backend_warn() {
    echo "local-backend.sh: warning: $*" >&2
}

# The local stack's secrets (root CA private keys, kubeconfigs) are encrypted with a passphrase.
# The CLI takes PULUMI_CONFIG_PASSPHRASE whenever it is set, even to the empty string, and reads
# PULUMI_CONFIG_PASSPHRASE_FILE only when it is not; so an empty variable must never shadow a
# file. Pulumi Cloud (an https backend) encrypts with its own key and needs neither.
case "$PULUMI_BACKEND_URL" in
https://* | http://*) ;;
*)
    if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
        if [ ! -f "$PULUMI_CONFIG_PASSPHRASE_FILE" ] || [ ! -r "$PULUMI_CONFIG_PASSPHRASE_FILE" ]; then
            echo "local-backend.sh: PULUMI_CONFIG_PASSPHRASE_FILE=${PULUMI_CONFIG_PASSPHRASE_FILE} is not a readable file" >&2
            return 1 2>/dev/null || exit 1
        fi
        # Absolute, so that it still names the same file after the scripts change directory.
        PULUMI_CONFIG_PASSPHRASE_FILE="$(cd "$(dirname "$PULUMI_CONFIG_PASSPHRASE_FILE")" && pwd)/$(basename "$PULUMI_CONFIG_PASSPHRASE_FILE")"
        export PULUMI_CONFIG_PASSPHRASE_FILE
        if [ "${PULUMI_CONFIG_PASSPHRASE+set}" = set ]; then
            if [ -z "$PULUMI_CONFIG_PASSPHRASE" ]; then
                local_backend_warn "PULUMI_CONFIG_PASSPHRASE is set but empty, and the CLI would use it instead of PULUMI_CONFIG_PASSPHRASE_FILE; unsetting it so the file counts"
                unset PULUMI_CONFIG_PASSPHRASE
            else
                local_backend_warn "both PULUMI_CONFIG_PASSPHRASE and PULUMI_CONFIG_PASSPHRASE_FILE are set; the CLI uses PULUMI_CONFIG_PASSPHRASE"
            fi
        fi
        # The CLI trims the file's whitespace: a blank file is an empty passphrase.
        if [ "${PULUMI_CONFIG_PASSPHRASE+set}" != set ] && [ -z "$(tr -d '[:space:]' <"$PULUMI_CONFIG_PASSPHRASE_FILE")" ]; then
            local_backend_warn "${PULUMI_CONFIG_PASSPHRASE_FILE} is empty: the stack's secrets (root CA keys, kubeconfigs) are encrypted with an empty passphrase"
        fi
    else
        if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
            local_backend_warn "no passphrase: the stack's secrets (root CA keys, kubeconfigs) are encrypted with an empty passphrase; set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE before the first pulumi up to keep them private"
        fi
        # Set even when empty, so that pulumi never stops to prompt in a script.
        export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
    fi
    ;;
esac

require() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "missing prerequisite: $1 ($2)" >&2
        exit 1
    }
}
