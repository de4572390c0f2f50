import { describe, expect, it } from "vitest";
import { containerImageProblems, imageProblem } from "../policies/containerImagesPinned";
import { kubernetesObject, mutate } from "./fixtures";

const podSpec = {
    initContainers: [{ name: "init", image: "docker.io/library/busybox:1.37.0" }],
    containers: [{ name: "curl", image: "docker.io/curlimages/curl:8.16.0" }],
};
const template = { metadata: { labels: { app: "curl" } }, spec: podSpec };

const workloads = {
    Deployment: kubernetesObject("apps/v1", "Deployment", "curl", { metadata: { name: "curl" }, spec: { template } }),
    StatefulSet: kubernetesObject("apps/v1", "StatefulSet", "curl", { metadata: { name: "curl" }, spec: { template } }),
    DaemonSet: kubernetesObject("apps/v1", "DaemonSet", "curl", { metadata: { name: "curl" }, spec: { template } }),
    Job: kubernetesObject("batch/v1", "Job", "curl", { metadata: { name: "curl" }, spec: { template } }),
    CronJob: kubernetesObject("batch/v1", "CronJob", "curl", { metadata: { name: "curl" }, spec: { jobTemplate: { spec: { template } } } }),
    Pod: kubernetesObject("v1", "Pod", "curl", { metadata: { name: "curl" }, spec: podSpec }),
};
const podSpecOf = {
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
    Pod: ["spec"],
} as const;

describe("container-images-pinned", () => {
    it.each(Object.keys(workloads) as (keyof typeof workloads)[])("accepts a %s whose images all carry version tags", (kind) => {
        expect(containerImageProblems(workloads[kind])).toEqual([]);
    });

    it.each(Object.keys(workloads) as (keyof typeof workloads)[])("checks the containers and init containers of a %s", (kind) => {
        const base = [...podSpecOf[kind]];
        const untaggedInit = mutate(workloads[kind], [...base, "initContainers", 0, "image"], "docker.io/library/busybox");
        expect(containerImageProblems(untaggedInit)).toEqual([
            `${kind} "curl" in cluster "cluster-1" container "init" image "docker.io/library/busybox" has no tag, so every pull may run different code (it means :latest); pin a version tag (image:1.2.3) or a digest (image@sha256:...).`,
        ]);
        const latest = mutate(workloads[kind], [...base, "containers", 0, "image"], "docker.io/curlimages/curl:latest");
        expect(containerImageProblems(latest)).toEqual([expect.stringContaining('container "curl" image "docker.io/curlimages/curl:latest" uses the floating tag latest')]);
    });

    it.each([
        ["a digest", "ghcr.io/spiffe/spire-server@sha256:" + "a".repeat(64)],
        ["a tag and a digest", "cgr.dev/chainguard/bash:latest@sha256:" + "0123456789abcdef".repeat(4)],
        ["a registry port and a tag", "localhost:5000/team/app:1.0"],
    ])("accepts an image pinned by %s", (_, image) => {
        expect(imageProblem(image)).toBeUndefined();
        expect(containerImageProblems(mutate(workloads.Deployment, ["spec", "template", "spec", "containers", 0, "image"], image))).toEqual([]);
    });

    it.each([
        ["a registry port but no tag", "localhost:5000/team/app", "has no tag"],
        ["an empty tag", "nginx:", "has an empty tag"],
        ["a truncated digest", "nginx@sha256:abc", "has a malformed digest"],
    ])("flags an image with %s", (_, image, problem) => {
        expect(imageProblem(image)).toContain(problem);
    });

    it("checks ephemeral containers too", () => {
        const debug = mutate(workloads.Pod, ["spec", "ephemeralContainers"], [{ name: "debug", image: "busybox" }]);
        expect(containerImageProblems(debug)).toEqual([expect.stringContaining('container "debug" image "busybox" has no tag')]);
    });

    it("does not look into objects without pod templates", () => {
        const configMap = kubernetesObject("v1", "ConfigMap", "c", { metadata: { name: "c" }, data: { image: "nginx" } });
        expect(containerImageProblems(configMap)).toEqual([]);
    });
});
