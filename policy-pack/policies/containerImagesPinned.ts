import { ResourcePolicyDefinition, toResourcePolicy } from "../lib/definition";
import { groupKindOf, objectLabel } from "../lib/kubernetes";
import { PlainResource } from "../lib/resource";
import { at, formatPath, isRecord, itemsAt, Path } from "../lib/values";

/** Where each workload kind keeps its pod spec, keyed by `group/kind` (core group empty). */
export const podSpecPaths: Readonly<Record<string, Path>> = {
    "/Pod": ["spec"],
    "/PodTemplate": ["template", "spec"],
    "/ReplicationController": ["spec", "template", "spec"],
    "apps/Deployment": ["spec", "template", "spec"],
    "apps/StatefulSet": ["spec", "template", "spec"],
    "apps/DaemonSet": ["spec", "template", "spec"],
    "apps/ReplicaSet": ["spec", "template", "spec"],
    "batch/Job": ["spec", "template", "spec"],
    "batch/CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
};

const containerLists = ["initContainers", "containers", "ephemeralContainers"] as const;

/**
 * Why an image reference is not pinned, or undefined when it is: a digest pins it; otherwise the
 * last path component must carry a tag other than `latest` (a registry port does not count).
 */
export function imageProblem(image: string): string | undefined {
    const digestStart = image.indexOf("@");
    if (digestStart >= 0) {
        return /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,}$/i.test(image.slice(digestStart + 1))
            ? undefined
            : "has a malformed digest; use image@sha256:<64 hex digits>";
    }
    const lastComponent = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastComponent.indexOf(":");
    if (colon < 0) return "has no tag, so every pull may run different code (it means :latest)";
    const tag = lastComponent.slice(colon + 1);
    if (tag === "") return "has an empty tag";
    if (tag === "latest") return "uses the floating tag latest";
    return undefined;
}

export function containerImageProblems(resource: PlainResource): string[] {
    const found = groupKindOf(resource);
    const specPath = found && podSpecPaths[`${found.group}/${found.kind}`];
    if (!specPath) return [];
    const podSpec = at(resource.props, specPath);
    const problems: string[] = [];
    for (const list of containerLists) {
        itemsAt(podSpec, [list]).forEach((container, index) => {
            if (!isRecord(container)) return;
            const image = container.image;
            if (typeof image !== "string") return;
            const problem = imageProblem(image);
            if (problem === undefined) return;
            const where = typeof container.name === "string" ? `container "${container.name}"` : formatPath([...specPath, list, index]);
            problems.push(
                `${objectLabel(resource)} ${where} image "${image}" ${problem}; pin a version tag (image:1.2.3) or a digest (image@sha256:...).`,
            );
        });
    }
    return problems;
}

export const definition: ResourcePolicyDefinition = {
    scope: "resource",
    name: "container-images-pinned",
    description:
        "Every container, init container and ephemeral container image in a Pod or pod template the program declares carries a version tag other than latest, or a digest.",
    enforcementLevel: "mandatory",
    config: {},
    validate: (resource) => containerImageProblems(resource),
};

export const policy = toResourcePolicy(definition);
