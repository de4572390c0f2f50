#!/usr/bin/env bash
# A Kubernetes control plane on one loopback address, with a node simulated by kwok: the test
# bed's stand-in for one cluster of a trust domain. Binaries come from e2e/build-toolchain.sh.
#
#   e2e/cluster.sh up    NAME IP   # start etcd, apiserver, controller-manager, scheduler, kwok
#                                  # and the test bed's volume provisioner (e2e/pv-stand-in.sh)
#   e2e/cluster.sh down  NAME      # stop them and check that every port is free again
#   e2e/cluster.sh smoke NAME IP   # up, prove workloads become ready, down (also on failure)
#
# Everything of cluster NAME lives in .e2e-cache/clusters/NAME/: certificates, etcd data, one log
# per process, pids, and `kubeconfig` (server https://IP:6443, admin identity). Each cluster has
# its own loopback address, so every port is the default one and a peer's URL really answers.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="${E2E_CACHE:-$root/.e2e-cache}"
bin() { echo "$cache/bin/$1/current/$2"; }

usage() { sed -n '5,8p' "$0" | sed 's/^# *//' >&2; exit 2; }

# Ports each process listens on, all on the cluster's own address.
ports=(2379 2380 6443 10257 10259 10247)

setup() {
    name=$1 ip=${2:-}
    dir="$cache/clusters/$name"
    pki="$dir/pki" logs="$dir/logs" pids="$dir/pids"
    kubeconfig="$dir/kubeconfig"
}

kubectl() { "$(bin kube kubectl)" --kubeconfig "$kubeconfig" "$@"; }

log() { echo "[$name] $*" >&2; }

# running PID / group_running PGID: alive and not merely a zombie awaiting its reaper.
running() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }
group_running() { ps -o stat= --pgroup "$1" 2>/dev/null | grep -qv '^Z'; }

# certificates: a CA, one admin certificate that is both the apiserver's serving certificate and
# every component's client certificate (system:masters), and the service-account signing key.
certificates() {
    mkdir -p "$pki"
    [[ -s "$pki/admin.crt" && -s "$pki/sa.key" ]] && return 0
    (
        cd "$pki"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout ca.key -out ca.crt \
            -subj "/CN=e2e-$name-ca" -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign
        openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
            -subj "/O=system:masters/CN=e2e-admin"
        printf '%s\n' "subjectAltName=IP:$ip,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
            "extendedKeyUsage=serverAuth,clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >admin.ext
        openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
            -extfile admin.ext -out admin.crt
        openssl genrsa -out sa.key 2048
        openssl rsa -in sa.key -pubout -out sa.pub
    ) >"$logs/openssl.log" 2>&1 || { cat "$logs/openssl.log" >&2; return 1; }
}

write_kubeconfig() {
    cat >"$kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $name
  cluster:
    server: https://$ip:6443
    certificate-authority: $pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $pki/admin.crt
    client-key: $pki/admin.key
contexts:
- name: $name
  context: {cluster: $name, user: admin}
current-context: $name
EOF
}

# start NAME ARGS...: run a binary in the background in a process group of its own (so that
# `down` stops whatever it started too), its output in logs/NAME.log, its pid kept.
start() {
    local proc=$1 exe=$2
    shift 2
    setsid "$exe" "$@" >"$logs/$proc.log" 2>&1 </dev/null &
    echo "$! $proc" >>"$pids"
}

# wait_for WHAT SECONDS COMMAND...: poll COMMAND once a second until it succeeds.
wait_for() {
    local what=$1 limit=$2 i
    shift 2
    for ((i = 0; i < limit; i++)); do
        "$@" >/dev/null 2>&1 && { log "$what after ${i}s"; return 0; }
        alive || return 1
        sleep 1
    done
    log "timed out after ${limit}s waiting for $what"
    return 1
}

# alive: every process of this cluster is still running (names the one that is not).
alive() {
    local pid proc
    while read -r pid proc; do
        running "$pid" || { log "$proc (pid $pid) exited; tail of $logs/$proc.log:"; tail -n 20 "$logs/$proc.log" >&2; return 1; }
    done <"$pids"
}

readyz() { curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "https://$ip:6443/readyz"; }

up() {
    [[ -n "$ip" ]] || usage
    [[ $ip =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "IP must be a loopback address, got $ip" >&2; exit 2; }
    local b
    for b in "kube kube-apiserver" "kube kube-controller-manager" "kube kube-scheduler" "kube kubectl" "etcd etcd" "kwok kwok"; do
        # shellcheck disable=SC2086
        [[ -x $(bin $b) ]] || { echo "missing $(bin $b): run e2e/build-toolchain.sh kube etcd kwok" >&2; exit 1; }
    done
    if [[ -s "$pids" ]]; then
        # A pid file whose processes are all gone is what a killed driver leaves; anything alive is not.
        local pid proc
        while read -r pid proc; do
            running "$pid" && { echo "cluster $name is up ($proc, pid $pid); run: $0 down $name" >&2; exit 1; }
        done <"$pids"
        rm -f "$pids"
    fi
    if ss -Hltn | awk '{print $4}' | grep -qE "^$ip:($(IFS='|'; echo "${ports[*]}"))\$"; then
        echo "a port of $ip is taken already:" >&2; ss -ltnp | grep -F "$ip:" >&2; exit 1
    fi
    rm -rf "$dir/etcd" "$logs" && mkdir -p "$dir" "$logs" && : >"$pids"
    # Whatever fails from here on leaves nothing running.
    trap 'down' EXIT
    trap 'exit 130' INT TERM

    certificates
    write_kubeconfig
    local t0=$SECONDS

    start etcd "$(bin etcd etcd)" --name=n0 --data-dir="$dir/etcd" \
        --listen-client-urls="http://$ip:2379" --advertise-client-urls="http://$ip:2379" \
        --listen-peer-urls="http://$ip:2380" --initial-advertise-peer-urls="http://$ip:2380" \
        --initial-cluster="n0=http://$ip:2380" --unsafe-no-fsync=true --listen-metrics-urls=
    wait_for "etcd healthy" 30 curl -fsS "http://$ip:2379/health"

    # Admission webhooks are off: no webhook pod can answer, nodes being simulated. The loopback
    # address cannot be an endpoint of the `kubernetes` Service, so that reconciler is off too.
    start kube-apiserver "$(bin kube kube-apiserver)" \
        --etcd-servers="http://$ip:2379" \
        --bind-address="$ip" --advertise-address="$ip" --secure-port=6443 \
        --tls-cert-file="$pki/admin.crt" --tls-private-key-file="$pki/admin.key" \
        --client-ca-file="$pki/ca.crt" \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --service-cluster-ip-range=10.96.0.0/16 \
        --authorization-mode=Node,RBAC --allow-privileged=true \
        --disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
        --endpoint-reconciler-type=none
    wait_for "kube-apiserver ready" 90 readyz

    start kube-controller-manager "$(bin kube kube-controller-manager)" \
        --kubeconfig="$kubeconfig" --bind-address="$ip" --secure-port=10257 --leader-elect=false \
        --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
        --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
        --use-service-account-credentials=true --controllers='*'
    start kube-scheduler "$(bin kube kube-scheduler)" \
        --kubeconfig="$kubeconfig" --bind-address="$ip" --secure-port=10259 --leader-elect=false \
        --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics
    # kwok plays the kubelet: it reads its stages (copied from its module by build-toolchain.sh),
    # never ~/.kwok, and gives pods addresses from a range of this cluster's own.
    mkdir -p "$dir/kwok-home"
    HOME="$dir/kwok-home" start kwok "$(bin kwok kwok)" \
        --kubeconfig="$kubeconfig" --config="$(bin kwok stages.yaml)" \
        --manage-all-nodes=true --node-ip="$ip" --node-lease-duration-seconds=40 \
        --cidr="10.${ip##*.}.0.0/16" --server-address="$ip:10247"

    kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name-node
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/os: linux, kubernetes.io/arch: amd64, kubernetes.io/hostname: $name-node, type: kwok}
EOF
    wait_for "node $name-node Ready" 60 kubectl wait --for=condition=Ready "node/$name-node" --timeout=1s
    wait_for "default ServiceAccount" 60 kubectl get serviceaccount default -n default
    start pv-stand-in "$root/e2e/pv-stand-in.sh" "$(bin kube kubectl)" "$kubeconfig"
    # cert-manager's real controllers, out of cluster, once built (the chart's own Deployment only
    # gets a simulated pod). They wait for their CRDs, which the chart installs.
    if [[ -x $(bin cert-manager cert-manager-controller) ]]; then
        start cert-manager "$(bin cert-manager cert-manager-controller)" \
            --kubeconfig="$kubeconfig" --cluster-resource-namespace=cert-manager
    fi
    trap - EXIT INT TERM
    log "up in $((SECONDS - t0))s: KUBECONFIG=$kubeconfig; logs in $logs"
}

down() {
    local pid proc i
    [[ -f "$pids" ]] || return 0
    # One at a time, in reverse start order: the apiserver shuts down cleanly only while etcd is
    # still there, and nothing logs errors about a process that stopped before it.
    while read -r pid proc; do
        kill -TERM -- "-$pid" 2>/dev/null || continue
        for ((i = 0; i < 40; i++)); do
            group_running "$pid" || break
            sleep 0.25
        done
        if group_running "$pid" && kill -KILL -- "-$pid" 2>/dev/null; then
            log "killed $proc (pid $pid): still running 10s after SIGTERM"
        else
            log "stopped $proc (pid $pid)"
        fi
    done < <(tac "$pids")
    rm -f "$pids"
    [[ -n "$ip" ]] || ip=$(sed -n 's#.*server: https://\(.*\):6443#\1#p' "$kubeconfig" 2>/dev/null || true)
    if [[ -n "$ip" ]]; then
        # A process that has just exited may hold its sockets a moment longer: on a loaded machine
        # (a run at load 5-10 saw the apiserver's and etcd's listeners outlive them by over 5 s) longer still.
        for ((i = 0; i < 120; i++)); do
            ss -Hltn | awk '{print $4}' | grep -qE "^$ip:" || break
            sleep 0.25
        done
        if ss -Hltn | awk '{print $4}' | grep -E "^$ip:" >&2; then
            log "ports above still taken on $ip"
            return 1
        fi
    fi
    log "down; every port of $ip free"
}

# smoke: one of each workload kind the program's charts use becomes ready the way Helm and Pulumi
# wait for it (a StatefulSet with a claim too, through the volume stand-in), and a Job completes.
smoke() {
    up
    trap 'down' EXIT
    trap 'exit 130' INT TERM
    local t0=$SECONDS
    kubectl apply -f - <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: smoke}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: smoke}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example.invalid/web:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: smoke}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: smoke}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: example.invalid/agent:1}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: smoke}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: example.invalid/db:1}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: vol, namespace: smoke}
spec:
  replicas: 1
  serviceName: vol
  selector: {matchLabels: {app: vol}}
  template:
    metadata: {labels: {app: vol}}
    spec: {containers: [{name: vol, image: example.invalid/vol:1}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: smoke}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: example.invalid/once:1}]
EOF
    kubectl -n smoke rollout status deployment/web --timeout=60s
    kubectl -n smoke rollout status daemonset/agent --timeout=60s
    kubectl -n smoke rollout status statefulset/db --timeout=60s
    kubectl -n smoke rollout status statefulset/vol --timeout=60s
    kubectl -n smoke wait --for=condition=Complete job/once --timeout=60s
    kubectl -n smoke wait --for=jsonpath='{.subsets[0].addresses[1].ip}' endpoints/web --timeout=30s
    kubectl get nodes -o wide
    kubectl -n smoke get deployments,daemonsets,statefulsets,jobs,pods,endpoints,pvc -o wide
    kubectl get pv
    if [[ -x $(bin cert-manager cert-manager-controller) ]]; then smoke_cert_manager; fi
    log "smoke passed in $((SECONDS - t0))s"
}

# smoke_cert_manager: the chain the program builds per domain is issued by the real controllers:
# a root CA in a Secret, a CA ClusterIssuer on it, an intermediate CA Certificate (istiod's
# `cacerts`) that chains to the root.
smoke_cert_manager() {
    local tmp="$dir/smoke-ca"
    mkdir -p "$tmp"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -keyout "$tmp/root.key" -out "$tmp/root.crt" -subj "/CN=smoke root CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    kubectl apply --server-side -f "$(bin cert-manager crds.yaml)" >/dev/null
    kubectl wait --for=condition=Established crd --all --timeout=30s >/dev/null
    kubectl create namespace cert-manager
    kubectl create namespace istio-system
    kubectl -n cert-manager create secret tls smoke-root-ca --cert="$tmp/root.crt" --key="$tmp/root.key"
    kubectl apply -f - <<'EOF'
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: smoke-root-ca}
spec: {ca: {secretName: smoke-root-ca}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: cacerts, namespace: istio-system}
spec:
  secretName: cacerts
  isCA: true
  commonName: smoke istiod intermediate CA
  duration: 2h
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {name: smoke-root-ca, kind: ClusterIssuer, group: cert-manager.io}
EOF
    kubectl wait --for=condition=Ready clusterissuer/smoke-root-ca --timeout=60s
    kubectl -n istio-system wait --for=condition=Ready certificate/cacerts --timeout=60s
    kubectl -n istio-system get secret cacerts -o jsonpath='{.data.tls\.crt}' | base64 -d >"$tmp/cacerts.crt"
    openssl verify -CAfile "$tmp/root.crt" "$tmp/cacerts.crt"
    openssl x509 -in "$tmp/cacerts.crt" -noout -subject -issuer -ext basicConstraints
    kubectl get clusterissuers,certificates,certificaterequests -A
}

cmd=${1:-}
[[ $# -ge 2 ]] || usage
setup "$2" "${3:-}"
case "$cmd" in
up) up ;;
down) down ;;
smoke) smoke ;;
*) usage ;;
esac
