#!/bin/sh
# Helm post-renderer: reads a release's rendered manifests on stdin and writes them back without the
# `helm.sh/resource-policy: keep` annotation. Helm decides what to leave behind on uninstall from the
# manifest it stored, so this is the one place where an annotation that a chart writes into its
# own files (Istio's base CRDs) can be kept from outliving `pulumi destroy`.
# Only a line that is exactly that annotation goes; everything else passes unchanged.
exec sed -E '/^[[:space:]]*"?helm\.sh\/resource-policy"?[[:space:]]*:[[:space:]]*"?[Kk][Ee][Ee][Pp]"?[[:space:]]*$/d'
