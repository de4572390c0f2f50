#!/usr/bin/env bash
# TEST BED ONLY: a stand-in for the PersistentVolume provisioner a real cluster has (kind ships
# rancher's local-path provisioner), so that claims such as SPIRE server's StatefulSet's bind.
# kwok simulates nodes, so no volume is ever mounted: the PersistentVolume is a record only.
#
#   e2e/pv-stand-in.sh KUBECTL KUBECONFIG   # runs until killed; cluster.sh starts and stops it
#
# It does what an external provisioner does and nothing more: for each claim that
# kube-controller-manager's binder has handed to this provisioner (the storage-provisioner
# annotation), create a volume pre-bound to it; delete released volumes it made whose policy is
# Delete. The binder itself (upstream's) binds claim and volume.
set -euo pipefail

kubectl=$1 kubeconfig=$2
provisioner=e2e.test-bed/pv-stand-in
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }

k apply -f - <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: $provisioner
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF

claims='{{range .items}}{{if and (eq .status.phase "Pending") (not .spec.volumeName) .metadata.annotations}}{{if eq (index .metadata.annotations "volume.kubernetes.io/storage-provisioner") "'$provisioner'"}}{{.metadata.namespace}} {{.metadata.name}} {{.metadata.uid}} {{.spec.storageClassName}} {{.spec.resources.requests.storage}} {{range .spec.accessModes}}{{.}},{{end}}{{"\n"}}{{end}}{{end}}{{end}}'
released='{{range .items}}{{if and (eq .status.phase "Released") (eq .spec.persistentVolumeReclaimPolicy "Delete") .metadata.annotations}}{{if eq (index .metadata.annotations "pv.kubernetes.io/provisioned-by") "'$provisioner'"}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}{{end}}'

while true; do
    k get pvc -A -o go-template="$claims" | while read -r ns name uid class size modes; do
        [[ -n "$uid" ]] || continue
        modes=${modes%,}
        echo "provisioning pvc-$uid for $ns/$name ($size, $modes)"
        k create -f - <<EOF || true
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pvc-$uid
  annotations: {pv.kubernetes.io/provisioned-by: $provisioner}
spec:
  capacity: {storage: $size}
  accessModes: [${modes//,/, }]
  storageClassName: $class
  persistentVolumeReclaimPolicy: Delete
  claimRef: {namespace: $ns, name: $name, uid: $uid}
  hostPath: {path: /nonexistent/e2e-test-bed/pvc-$uid}
EOF
    done
    k get pv -o go-template="$released" | while read -r pv; do
        [[ -n "$pv" ]] && echo "deleting released $pv" && k delete pv "$pv" --wait=false || true
    done
    sleep 2
done
