import { stringify } from "yaml";

/**
 * Whether istiod injects `istio-proxy` as a Kubernetes native sidecar (an init container with
 * `restartPolicy: Always`). Istio 1.30 defaults to "auto", which decides per pod from the kubelet
 * versions of the nodes, so pods of one mesh could differ with the nodes they meet. Pinning keeps
 * one layout for every pod; kind 1.35 and current GKE channels run kubelets that support native
 * sidecars. A pod can still ask for the other layout with `sidecar.istio.io/nativeSidecar`, which
 * the `spire` template follows (see `spireSidecarTemplateText`).
 */
export const nativeSidecars = true;

/** istiod's env value for the choice above ("true"/"false", never "auto"). */
export function nativeSidecarsEnvValue(native: boolean = nativeSidecars): "true" | "false" {
    return native ? "true" : "false";
}

/** Name of the injection template that gives sidecars their identity from SPIRE. */
export const spireSidecarTemplate = "spire";
/** Name of the injection template that gives gateways their identity from SPIRE. */
export const spireGatewayTemplate = "spire-gateway";

/** Template lists pods ask for with `inject.istio.io/templates`, applied in order. */
export const sidecarTemplates = ["sidecar", spireSidecarTemplate] as const;
export const gatewayTemplates = ["gateway", spireGatewayTemplate] as const;

/** Volume name the built-in `sidecar` and `gateway` templates already declare (as an emptyDir). */
export const workloadSocketVolume = "workload-socket";
/** Directory where istio-agent looks for the SPIFFE Workload API socket (`socket` inside it). */
export const workloadSocketMountPath = "/var/run/secrets/workload-spiffe-uds";
/** The SPIFFE CSI driver that mounts the SPIRE agent's socket directory into pods. */
export const spiffeCsiDriver = "csi.spiffe.io";

export type PodContainerList = "containers" | "initContainers";

/** The `istio-proxy` patch and the CSI volume, with the container list left to the caller. */
function socketPatch(list: string): string {
    return stringify({
        spec: {
            [list]: [
                {
                    name: "istio-proxy",
                    volumeMounts: [{ name: workloadSocketVolume, mountPath: workloadSocketMountPath, readOnly: true }],
                },
            ],
            // The SPIFFE CSI driver only serves read-only volumes.
            volumes: [{ name: workloadSocketVolume, csi: { driver: spiffeCsiDriver, readOnly: true } }],
        },
    });
}

/**
 * The `spire` template, which istiod applies as a strategic-merge patch after the built-in
 * `sidecar` one: the volume merges by name, so the CSI source replaces the built-in emptyDir,
 * and the mount merges by mountPath into the built-in mount of `istio-proxy`. It must patch the
 * list that already holds `istio-proxy`; the other list would gain a second, image-less
 * `istio-proxy` and the pod would be refused.
 *
 * The built-in `sidecar` template (istiod chart, files/injection-template.yaml) puts the proxy in
 * `initContainers` when the pod is native, and in `containers` otherwise: native unless the pod's
 * `sidecar.istio.io/nativeSidecar` annotation is "false", and without that annotation (or with
 * it empty) as istiod decided for the pod (`.NativeSidecars`). This template takes the same
 * decision from the same data, so it follows every pod, whatever istiod's setting.
 */
export function spireSidecarTemplateText(): string {
    const listKey = "__ISTIO_PROXY_LIST__";
    const decide = [
        "{{- $native := .NativeSidecars }}",
        '{{- with index .ObjectMeta.Annotations "sidecar.istio.io/nativeSidecar" }}{{ $native = ne . "false" }}{{ end }}',
    ];
    const chooseList = ["{{- if $native }}", "  initContainers:", "{{- else }}", "  containers:", "{{- end }}"];
    const patch = socketPatch(listKey);
    const keyLine = `  ${listKey}:`;
    if (!patch.split("\n").includes(keyLine)) throw new Error("spire template: the container list key is not where expected");
    return [...decide, ...patch.split("\n").flatMap((line) => (line === keyLine ? chooseList : [line]))].join("\n");
}

/**
 * The `spire-gateway` template: the built-in `gateway` template keeps `istio-proxy` in
 * `containers` in every case (a gateway pod has no application to start before), so this
 * patches `containers`, with the same merge as `spire`.
 */
export function spireGatewayTemplateText(): string {
    return socketPatch("containers" satisfies PodContainerList);
}

/** The two SPIRE templates for istiod's `sidecarInjectorWebhook.templates`, keyed by name. */
export function spireInjectionTemplates(): Record<string, string> {
    return {
        [spireSidecarTemplate]: spireSidecarTemplateText(),
        [spireGatewayTemplate]: spireGatewayTemplateText(),
    };
}
