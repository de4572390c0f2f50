#!/usr/bin/env bash
# Destroys the local mesh, kind clusters included.
set -euo pipefail
source "$(dirname "$0")/local-backend.sh"
cd "$project_root"
require pulumi "https://www.pulumi.com/docs/install/"
pulumi destroy --yes --stack cluster-kind "$@"
