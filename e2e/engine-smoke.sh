#!/usr/bin/env bash
# The real Pulumi engine and kubernetes provider against a local cluster of the test bed:
# `pulumi up`, a no-change `pulumi preview`, `pulumi destroy`, each timed, with nothing left behind.
#
#   e2e/engine-smoke.sh [NAME [IP]]     # defaults: engine 127.0.0.9
#
# The program is a small Pulumi YAML one (Namespace, Deployment, Service through an explicit
# provider), because the Node.js language host the project's own program needs cannot be built
# here (e2e/README.md). Everything runs offline: a file backend, plugins installed from the
# test bed's builds, automatic plugin downloads off.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${E2E_CACHE:-$root/.e2e-cache}"
name=${1:-engine} ip=${2:-127.0.0.9}
work="$cache/engine-smoke"
bin() { echo "$cache/bin/$1/current/$2"; }

for b in "pulumi pulumi" "pulumi-yaml pulumi-language-yaml" "provider-kubernetes pulumi-resource-kubernetes"; do
    # shellcheck disable=SC2086
    [[ -x $(bin $b) ]] || { echo "missing $(bin $b): run e2e/build-toolchain.sh" >&2; exit 1; }
done
provider_version=$(sed -n 's/.*version.Version=\([^ ]*\).*/\1/p' "$(bin provider-kubernetes pulumi-resource-kubernetes).flags")

"$root/e2e/cluster.sh" up "$name" "$ip"
trap '"$root/e2e/cluster.sh" down "$name"' EXIT
trap 'exit 130' INT TERM
kubeconfig="$cache/clusters/$name/kubeconfig"

# The CLI finds language hosts next to its own executable (resolved through links), so both live
# in one folder.
rm -rf "$work" && mkdir -p "$work/bin" "$work/state" "$work/home" "$work/program"
cp "$(bin pulumi pulumi)" "$(bin pulumi-yaml pulumi-language-yaml)" "$work/bin/"
export PATH="$work/bin:$PATH" PULUMI_HOME="$work/home" PULUMI_BACKEND_URL="file://$work/state" \
    PULUMI_CONFIG_PASSPHRASE=e2e PULUMI_SKIP_UPDATE_CHECK=true \
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_IGNORE_AMBIENT_PLUGINS=true
pulumi version
pulumi plugin install resource kubernetes "$provider_version" --file "$(bin provider-kubernetes pulumi-resource-kubernetes)"

cat >"$work/program/Pulumi.yaml" <<EOF
name: e2e-engine-smoke
runtime: yaml
config:
  kubeconfig: {type: string}
resources:
  cluster:
    type: pulumi:providers:kubernetes
    properties: {kubeconfig: "\${kubeconfig}"}
    options: {version: $provider_version}
  ns:
    type: kubernetes:core/v1:Namespace
    properties: {metadata: {name: engine-smoke}}
    options: {provider: "\${cluster}"}
  web:
    type: kubernetes:apps/v1:Deployment
    properties:
      metadata: {name: web, namespace: "\${ns.metadata.name}"}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: example.invalid/web:1}]}
    options: {provider: "\${cluster}"}
  svc:
    type: kubernetes:core/v1:Service
    properties:
      metadata: {name: web, namespace: "\${ns.metadata.name}"}
      spec: {selector: {app: web}, ports: [{port: 80}]}
    options: {provider: "\${cluster}"}
outputs:
  ready: "\${web.status.readyReplicas}"
EOF
cd "$work/program"
pulumi stack init e2e --non-interactive
pulumi config set --secret kubeconfig -- "$(cat "$kubeconfig")"

timed() {
    local what=$1 t0=$SECONDS
    shift
    "$@"
    echo "== $what: $((SECONDS - t0))s" >&2
}
timed "pulumi up" pulumi up --yes --non-interactive --skip-preview
[[ $(pulumi stack output ready) == 2 ]] || { echo "Deployment not ready after up" >&2; exit 1; }
timed "pulumi preview --expect-no-changes" pulumi preview --expect-no-changes --non-interactive
timed "pulumi destroy" pulumi destroy --yes --non-interactive --skip-preview
if "$(bin kube kubectl)" --kubeconfig "$kubeconfig" get namespace engine-smoke 2>/dev/null; then
    echo "namespace engine-smoke still there after destroy" >&2
    exit 1
fi
echo "engine smoke passed" >&2
