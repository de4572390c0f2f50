import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { isKind, labelsOf, objectLabel, releaseLabel, releaseValues } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { isSpireRelease } from "../lib/spire";
import { at, entriesAt, isRecord, isUnknown, itemsAt, stringAt } from "../lib/values";

/** How the program marks the Service that publishes a SPIRE server's bundle endpoint to peers. */
export const bundleEndpointLabel = { key: "app.kubernetes.io/component", value: "bundle-endpoint" } as const;

/** The pod label the `spire` chart puts on SPIRE server pods (the umbrella's nameOverride). */
export const spireServerSelector = { key: "app.kubernetes.io/name", value: "server" } as const;

export interface BundleEndpointConfig {
    port: number;
}

function exposesOutside(type: unknown): boolean {
    return type === "LoadBalancer" || type === "NodePort";
}

export function bundleEndpointProblems(resource: PlainResource, config: BundleEndpointConfig): string[] {
    const problems: string[] = [];
    if (isKind(resource, "", "Service")) {
        const selector = Object.fromEntries(entriesAt(resource.props, ["spec", "selector"]));
        const isBundleEndpoint = labelsOf(resource)[bundleEndpointLabel.key] === bundleEndpointLabel.value;
        const selectsServer = selector[spireServerSelector.key] === spireServerSelector.value;
        const label = objectLabel(resource);
        const ports = at(resource.props, ["spec", "ports"]);
        const numbers = itemsAt(ports, []).map((port) => at(port, ["port"]));
        if (isBundleEndpoint) {
            if (!isUnknown(ports) && !numbers.some(isUnknown) && (numbers.length !== 1 || numbers[0] !== config.port)) {
                problems.push(
                    `${label} is the SPIRE bundle endpoint but exposes port(s) ${numbers.join(", ") || "none"}; expose exactly port ${config.port} (the federation bundle endpoint) and never the server's gRPC API.`,
                );
            }
            itemsAt(ports, []).forEach((port) => {
                const target = at(port, ["targetPort"]);
                if (target !== undefined && !isUnknown(target) && target !== config.port && target !== "federation") {
                    problems.push(`${label} sends port ${String(at(port, ["port"]))} to target port ${String(target)}; target the server's federation port ${config.port}.`);
                }
            });
            const selectorValue = at(resource.props, ["spec", "selector"]);
            if (!isUnknown(selectorValue) && !selectsServer) {
                problems.push(
                    `${label} is the SPIRE bundle endpoint but does not select the SPIRE server pods; set spec.selector ${spireServerSelector.key}: ${spireServerSelector.value} (with app.kubernetes.io/instance: <release>).`,
                );
            }
        } else if (selectsServer && exposesOutside(stringAt(resource.props, ["spec", "type"]))) {
            const other = numbers.filter((port) => port !== config.port);
            if (other.length > 0) {
                problems.push(
                    `${label} exposes the SPIRE server outside the cluster on port(s) ${other.join(", ")}; expose only ${config.port} (bundle endpoint), through a Service labelled ${bundleEndpointLabel.key}: ${bundleEndpointLabel.value}.`,
                );
            }
        }
    }
    if (isSpireRelease(resource)) {
        const service = at(releaseValues(resource), ["spire-server", "service"]);
        const type = isRecord(service) ? service.type : undefined;
        if (exposesOutside(type)) {
            problems.push(
                `${releaseLabel(resource)} sets spire-server.service.type ${String(type)}, which exposes the SPIRE server's gRPC port outside the cluster; keep it ClusterIP and publish only port ${config.port} through the bundle endpoint Service.`,
            );
        }
    }
    return problems;
}

export const definition: ResourcePolicyDefinition<BundleEndpointConfig> = {
    scope: "resource",
    name: "spire-bundle-endpoint-only",
    description: `The SPIRE bundle endpoint Service (label ${bundleEndpointLabel.key}: ${bundleEndpointLabel.value}) selects the SPIRE server (${spireServerSelector.key}: ${spireServerSelector.value}) and exposes only the federation port; no other Service or the spire chart's own Service exposes the server outside the cluster.`,
    enforcementLevel: "mandatory",
    config: {
        port: { schema: { type: "integer", minimum: 1, maximum: 65535, description: "SPIRE's federation bundle endpoint port (spire-server.federation.bundleEndpoint.port)." }, default: 8443 },
    },
    validate: bundleEndpointProblems,
};

export const policy = toResourcePolicy(definition);
