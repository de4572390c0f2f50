#!/usr/bin/env bash
# Installs the project and brings up the whole local mesh: two kind clusters, cert-manager,
# federated SPIRE, Istio multi-primary and the samples (stack cluster-kind, local state backend).
set -euo pipefail
source "$(dirname "$0")/local-backend.sh"
cd "$project_root"
require node "Node.js 20 or 22"
require pulumi "https://www.pulumi.com/docs/install/"
require docker "a running Docker engine"
require kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
docker info >/dev/null 2>&1 || { echo "Docker is installed but not running" >&2; exit 1; }
npm ci --no-audit --no-fund
pulumi stack select --create cluster-kind
pulumi up --yes --stack cluster-kind "$@"
echo "Mesh is up. Check it with: PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL npm run verify -- --stack cluster-kind"
