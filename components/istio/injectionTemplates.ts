import { stringify } from "yaml";

/**
 * Whether istiod injects `istio-proxy` as a Kubernetes native sidecar (an init container with
 * `restartPolicy: Always`). Istio 1.30 defaults to "auto", which decides per pod from the kubelet
 * versions of *all* nodes, so one old node silently flips the layout and the `spire` template
 * would then patch a container that does not exist. Pinning it makes the layout a fact the
 * template can rely on. kind 1.35 and current GKE channels run kubelets that support native
 * sidecars. A pod may still override this with `sidecar.istio.io/nativeSidecar`; such a pod
 * also needs its own template.
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

/**
 * Where the built-in template puts `istio-proxy`: the `sidecar` template moves it into
 * `initContainers` when native sidecars are on; the `gateway` template always keeps it in
 * `containers` (a gateway pod has no application container to start before).
 */
export function proxyContainerList(template: "sidecar" | "gateway", native: boolean = nativeSidecars): PodContainerList {
    return template === "sidecar" && native ? "initContainers" : "containers";
}

/**
 * A template that istiod applies as a strategic-merge patch after the built-in one: the volume
 * merges by name, so the CSI source replaces the built-in emptyDir, and the mount merges by
 * mountPath into the built-in mount of `istio-proxy`. The container list must be the one that
 * already holds `istio-proxy`; the other list would gain a second, image-less `istio-proxy`.
 * No Go template expressions: the layout is fixed by `nativeSidecars`, not decided per pod.
 */
export function spireInjectionTemplate(list: PodContainerList): string {
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

/** The two SPIRE templates for istiod's `sidecarInjectorWebhook.templates`, keyed by name. */
export function spireInjectionTemplates(native: boolean = nativeSidecars): Record<string, string> {
    return {
        [spireSidecarTemplate]: spireInjectionTemplate(proxyContainerList("sidecar", native)),
        [spireGatewayTemplate]: spireInjectionTemplate(proxyContainerList("gateway", native)),
    };
}
