import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadMeshConfig } from "../config/load";
import { dropKeepPolicyPostRenderer } from "../lib/helm";
import { deployMesh } from "../mesh";
import { runProgramOnce } from "./harness/program";
import { projectRoot, stackNames } from "./harness/stacks";

/** Runs the post-renderer as Helm does: the rendered manifests on stdin, from the project root. */
function postRender(manifests: string): string {
    return execFileSync(join(projectRoot, dropKeepPolicyPostRenderer), { input: manifests, cwd: projectRoot, encoding: "utf8" });
}

// Shaped as the charts render them: Istio's `base` passes each CRD from its files through `toYaml`
// (annotations before labels); `spire-crds` writes its `annotations` value.
const istioCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  annotations:
    helm.sh/resource-policy: keep
  labels:
    app.kubernetes.io/part-of: istio
  name: wasmplugins.extensions.istio.io
spec:
  group: extensions.istio.io
  versions:
  - name: v1alpha1
    schema:
      openAPIV3Schema:
        description: The time duration between keep-alive probes.
`;
const spireCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusterspiffeids.spire.spiffe.io
  annotations:
    "helm.sh/resource-policy": "keep"
    controller-gen.kubebuilder.io/version: v0.16.3
spec:
  group: spire.spiffe.io
`;
const service = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: istio-reader-service-account
  namespace: istio-system
`;

describe("the keep-policy post-renderer", () => {
    it("drops the keep annotation from every object and changes nothing else", () => {
        const input = [istioCrd, spireCrd, service].join("---\n");
        const output = postRender(input);
        const before = parseAllDocuments(input).map((d) => d.toJS());
        const after = parseAllDocuments(output).map((d) => d.toJS());
        expect(after).toHaveLength(3);
        for (const object of after) expect(object.metadata.annotations?.["helm.sh/resource-policy"]).toBeUndefined();
        // Everything but that one annotation is as the chart rendered it.
        const withoutKeep = before.map((object) => {
            const annotations = { ...(object.metadata.annotations ?? {}) };
            delete annotations["helm.sh/resource-policy"];
            const metadata = { ...object.metadata, annotations: Object.keys(annotations).length > 0 ? annotations : null };
            if (object.metadata.annotations === undefined) delete metadata.annotations;
            return { ...object, metadata };
        });
        expect(after).toEqual(withoutKeep);
        expect(output).toContain("keep-alive probes");
    });

    it("is an executable the provider can run from the project root", () => {
        expect(dropKeepPolicyPostRenderer.startsWith("./")).toBe(true);
        expect(postRender(service)).toBe(service);
    });
});

describe.each(stackNames)("%s: charts whose CRDs are marked keep", (stack) => {
    it("pass through the post-renderer, and no other release does", async () => {
        const run = await runProgramOnce(() => deployMesh(loadMeshConfig()), { stack });
        const releases = run.ofType("kubernetes:helm.sh/v3:Release");
        const postRendered = releases.filter((r) => r.inputs.postrender !== undefined);
        expect(postRendered.map((r) => r.inputs.chart).sort()).toEqual(["base", "base", "spire-crds", "spire-crds"]);
        for (const release of postRendered) expect(release.inputs.postrender).toBe(dropKeepPolicyPostRenderer);
    });
});
